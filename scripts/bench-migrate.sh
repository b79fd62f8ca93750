#!/usr/bin/env bash
# Migration benchmark, in one lab run (this machine has no usable /dev/kvm of
# its own; on a host with hardware KVM the micro cases measure the engine at
# native speed, here everything runs under the lab's emulation):
#   - the plain TCP ceiling between the two namespace hosts;
#   - engine: pre-copy and stop-copy downtime of an idle 1 GiB micro guest,
#     and stop-copy throughput of a full 1 GiB guest against the TCP ceiling;
#   - engine post-copy of the idle guest: downtime, fault latency;
#   - Linux guest, 512 MiB, dirtier over 256 MiB at several rates (0 = flat
#     out): our pre-copy, post-copy and hybrid against QEMU's pre-copy and
#     postcopy-ram (defaults, downtime-limit 300 ms) in the same lab:
#     downtime, total time, the ratio, and whether the guest verified its
#     memory on the destination.
# Lab times are emulation times: compare within one run only.
#
# Everything goes into a results folder named by the run,
# $B/results/migrate-YYYYmmdd-HHMMSS/: raw.txt (one line per run), runs.csv,
# summary.md (the table below) and downtime.png (gnuplot, log scale).
# FROM=raw.txt re-summarises an earlier run without the lab.
#
#   scripts/bench-migrate.sh [BUILD_DIR] [RUNS] [RATES]   (make bench-migrate)
set -euo pipefail
B=${1:-build} runs=${2:-3} rates=${3:-"5 0"}
cd "$(dirname "$0")/.."
dir=$B/results/migrate-$(date +%Y%m%d-%H%M%S)
mkdir -p "$dir"
out=$dir/raw.txt
if [ -n "${FROM:-}" ]; then
	cp "$FROM" "$out"
else
	scripts/lab.sh --build "$B" --with-qemu --timeout 3000 scripts/bench-migrate-lab.sh "$runs" "$rates" |
		tr -d '\r' | grep -E '^(RESULT|CHECK)' > "$out" || true
fi
grep -q '^RESULT' "$out" || { echo "bench-migrate: the lab produced no results" >&2; exit 1; }

field() {	# field CASE KEY -> one value per successful run
	grep "^RESULT $1 " "$out" | grep -v '"error"' | grep -v 'did-not-converge' |
		grep -v '"state":"failed"' | grep -v '"status":"failed"' |
		grep -o "\"$2\":[0-9.e+-]*" | cut -d: -f2 || true
}
stats() {	# stats CASE KEY -> "median min max" (or "- - -")
	field "$1" "$2" | sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "- - -"; exit}
		m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
runs_ok() { field "$1" total_ms | wc -l; }

{
echo "Migration between two namespace hosts in the lab (QEMU TCG + nested SVM), $runs runs each"
echo
read -r tcp _ _ <<< "$(stats tcp bandwidth_mbps)"
echo "TCP ceiling (1 GiB, one stream): $tcp Mbit/s"
printf '%-24s %26s %14s %12s %6s\n' "engine (micro, 1 GiB)" "downtime ms med/min/max" "total ms med" "Mbit/s med" "ok"
for c in micro-idle-precopy micro-idle-stop-copy micro-idle-postcopy micro-full-raw; do
	read -r d dmin dmax <<< "$(stats $c downtime_ms)"
	read -r t _ _ <<< "$(stats $c total_ms)"
	read -r bw _ _ <<< "$(stats $c bandwidth_mbps)"
	printf '%-24s %26s %14s %12s %6s\n' "$c" "$d / $dmin / $dmax" "$t" "$bw" "$(runs_ok $c)/$runs"
	[ "$c" = micro-full-raw ] && fullbw=$bw
done
echo "engine throughput / TCP ceiling: $(ratio "${fullbw:--}" "$tcp")"
read -r p50 _ _ <<< "$(stats micro-idle-postcopy p50)"
read -r pms _ _ <<< "$(stats micro-idle-postcopy postcopy_ms)"
echo "micro post-copy: fault latency p50 $p50 us (median of runs), post-copy phase $pms ms"
echo
echo "Linux guest, 512 MiB, dirtier over 256 MiB (rate 0 = flat out); ours vs QEMU, same lab"
printf '%-6s %-9s %24s %24s %7s %13s %13s\n' "MB/s" "strategy" "vmm downtime med/min/max" \
	"qemu downtime med/min/max" "ratio" "vmm total ms" "qemu total ms"
for r in $rates; do
	for s in precopy postcopy hybrid; do
		read -r d dmin dmax <<< "$(stats linux-$r-$s-vmm downtime_ms)"
		read -r q qmin qmax <<< "$(stats linux-$r-$s-qemu downtime_ms)"
		read -r t _ _ <<< "$(stats linux-$r-$s-vmm total_ms)"
		read -r qt _ _ <<< "$(stats linux-$r-$s-qemu total_ms)"
		qok="$(runs_ok linux-$r-$s-qemu)/$runs"
		[ $s = hybrid ] && qok="n/a"
		printf '%-6s %-9s %24s %24s %7s %13s %13s\n' "$r" "$s" "$d / $dmin / $dmax" \
			"$q / $qmin / $qmax" "$(ratio "$d" "$q")" "$t ($(runs_ok linux-$r-$s-vmm)/$runs)" \
			"$qt ($qok)"
	done
done
echo
nc=$(grep -c 'did-not-converge' "$out" || true)
[ "$nc" -gt 0 ] && echo "QEMU runs that did not finish in 60 s (cancelled):" \
	"$(grep 'did-not-converge' "$out" | awk '{print $2}' | sort | uniq -c | tr '\n' ' ')"
bad=$(grep '^CHECK' "$out" | grep -vc ' ok$' || true)
echo "guest checks after migration: $(grep -c '^CHECK.* ok$' "$out" || true) ok, $bad not ok"
grep '^CHECK' "$out" | grep -v ' ok$' || true
} | tee "$dir/summary.md"

# One CSV row per run: case, run, downtime, total time, bytes, state.
{
	echo "case,run,downtime_ms,total_ms,bytes_sent,status"
	grep '^RESULT' "$out" | while read -r _ c n json; do
		get() { echo "$json" | grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"' || true; }
		b=$(get bytes_sent); [ -n "$b" ] || b=$(get bytes)
		st=$(get state); [ -n "$st" ] || st=$(get status)
		echo "$c,$n,$(get downtime_ms),$(get total_ms),$b,$st"
	done
} > "$dir/runs.csv"

# Downtime per strategy and dirty rate, ours beside QEMU's, log scale.
plot=$dir/downtime.dat
echo "# case vmm qemu" > "$plot"
for r in $rates; do
	for s in precopy postcopy hybrid; do
		read -r d _ _ <<< "$(stats linux-$r-$s-vmm downtime_ms)"
		read -r q _ _ <<< "$(stats linux-$r-$s-qemu downtime_ms)"
		echo "\"$s ${r}MB/s\" ${d/-/NaN} ${q/-/NaN}" >> "$plot"
	done
done
if command -v gnuplot > /dev/null; then
	gnuplot <<GP || echo "bench-migrate: gnuplot failed; the data is in $plot" >&2
set terminal png size 900,500
set output "$dir/downtime.png"
set title "Migration downtime, Linux guest 512 MiB, dirtier on 256 MiB (rate 0 = flat out), lab"
set ylabel "downtime ms (log)"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -20
set key top left
plot "$plot" using 2:xtic(1) title "vmm", "" using 3 title "QEMU 7.2"
GP
fi
echo "results: $dir (summary.md, runs.csv, downtime.png, raw.txt)"
