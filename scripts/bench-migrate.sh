#!/usr/bin/env bash
# Migration benchmark. Where this host has a /dev/kvm (PVM or hardware), the
# engine part (the TCP ceiling and the micro guests) runs here, natively,
# between two namespaces: the direct tier, the engine's real speed. The Linux
# part always runs in one lab run (and the engine part too when this host has
# no /dev/kvm, or with TIER=lab), under the lab's emulation:
#   - the plain TCP ceiling between the two namespace hosts;
#   - engine: pre-copy and stop-copy downtime of an idle 1 GiB micro guest,
#     and stop-copy throughput of a full 1 GiB guest against the TCP ceiling;
#   - engine post-copy of the idle guest: downtime, fault latency;
#   - Linux guest, 512 MiB, dirtier over WSS MiB at several rates (0 = flat
#     out), the link between the hosts unshaped or shaped with tc tbf (LINKS,
#     Mbit/s, 0 = unshaped): our pre-copy, post-copy and hybrid against QEMU's
#     pre-copy and postcopy-ram (defaults, downtime-limit 300 ms) in the same
#     lab: downtime as each VMM measures it, the guest-observed interruption
#     (the longest gap in replies to a UDP request sent every 5 ms - every 1
#     ms overloads the emulated guest - from
#     a third namespace to a service in the guest: the same measure for both),
#     total time, the ratios, and whether the guest verified its memory on
#     the destination.
# Lab times are emulation times: compare within one run only.
#
# Everything goes into a results folder named by the run,
# $B/results/migrate-YYYYmmdd-HHMMSS/: raw.txt (one line per run), runs.csv,
# summary.md (the table below), downtime.png, gap.png and total.png (gnuplot).
# FROM=raw.txt re-summarises an earlier run without the lab. ONLY=REGEX runs
# only the cases whose names match it (e.g. ONLY='linux-.*-precopy-vmm'; the
# progress line still counts them all). MIG_OPTS='...' adds options to our
# Linux cases' `vmm migrate` (e.g. MIG_OPTS='--compress none').
#
#   scripts/bench-migrate.sh [BUILD_DIR] [RUNS] [RATES] [LINKS] [WSS]
#   (make bench-migrate: 3 runs, rates "5 0", links "0 1000", WSS "256")
set -euo pipefail
B=${1:-build} runs=${2:-3} rates=${3:-"5 0"} links=${4:-"0 1000"} wsss=${5:-"256"}
cd "$(dirname "$0")/.."
dir=$B/results/migrate-$(date +%Y%m%d-%H%M%S)
mkdir -p "$dir"
out=$dir/raw.txt
if [ -n "${FROM:-}" ]; then
	cp "$FROM" "$out"
else
	# Cases: 2 TCP baselines and 8 micro cases, then 5 Linux ones per link,
	# working set and rate; a progress line per result as it comes.
	total=$(( runs * (10 + 5 * $(echo $links | wc -w) * $(echo $wsss | wc -w) * $(echo $rates | wc -w)) ))
	n=0
	tier=lab
	[ -c /dev/kvm ] && [ "${TIER:-}" != lab ] && tier=direct
	{
		if [ $tier = direct ]; then
			echo "TIER engine direct ($([ -d /sys/module/kvm_pvm ] && echo PVM || echo hardware KVM) on this host)"
			PATH=$(realpath "$B"):$PATH HOSTS_SH=$PWD/tests/integration/hosts-lab.sh \
				MICRO=$(realpath "$B")/micro \
				sh scripts/bench-migrate-lab.sh "$runs" "$rates" "$links" "$wsss" \
				"${ONLY:-}" "" engine 2>&1
			part=linux
			# Nothing for the lab when ONLY names no Linux case.
			if [ -n "${ONLY:-}" ] && ! for l in $links; do for w in $wsss; do for r in $rates; do
				for s in precopy postcopy hybrid; do for v in vmm qemu; do
					echo "linux-$l-$w-$r-$s-$v"; done; done; done; done; done |
				grep -qE "$ONLY"; then
				part=none
			fi
		else
			echo "TIER engine lab"
			part=all
		fi
		[ $part = none ] || scripts/lab.sh --build "$B" --with-qemu --timeout 14000 \
			scripts/bench-migrate-lab.sh "$runs" "$rates" "$links" "$wsss" "${ONLY:-}" \
			"${MIG_OPTS:-}" $part
	} | tr -d '\r' | grep --line-buffered -E '^(RESULT|CHECK|PROBE|TIER)' |
	while IFS= read -r line; do
		echo "$line" >> "$out"
		case $line in RESULT*)
			n=$((n + 1))
			set -- $line
			d=$(echo "$4" | grep -o '"downtime_ms":[0-9.]*' | cut -d: -f2)
			printf '\r\033[K[%d/%d] %s run %s: downtime %s ms' "$n" "$total" "$2" "$3" \
				"${d:--}" >&2 ;;
		esac
	done || true
	echo >&2
fi
grep -q '^RESULT' "$out" || { echo "bench-migrate: the lab produced no results" >&2; exit 1; }
# The axes, as the raw file has them (linux-LINK-WSS-RATE-STRATEGY-VMM).
axis() { { grep -o '^RESULT linux-[^ ]*' "$out" || true; } | cut -d- -f"$1" | sort -un | tr '\n' ' '; }
links=$(axis 2) wsss=$(axis 3) rates=$(axis 4)
runs=$(awk '$1 == "RESULT" && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$out")	# the highest run number

okruns() {	# okruns CASE -> the run numbers whose migration completed
	grep "^RESULT $1 " "$out" | grep -v '"error"' | grep -v 'did-not-converge' |
		grep -v '"state":"failed"' | grep -v '"status":"failed"' | awk '{ print $3 }' || true
}
field() {	# field CASE KEY [KIND] -> one value per successful run (KIND: RESULT, PROBE)
	# A probe's view counts only for a run whose migration completed (a
	# cancelled one never moved the guest).
	for n in $(okruns "$1"); do
		grep "^${3:-RESULT} $1 $n " "$out" | grep -o "\"$2\":[0-9.e+-]*" | head -1 |
			cut -d: -f2 || true
	done
}
summarise() {	# numbers on stdin -> "median min max" (or "- - -"), printf format FMT each
	sort -g | awk -v f="$1" '{v[NR]=$1} END {if (NR==0) {print "- - -"; exit}
		m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
		printf f " " f " " f "\n", m, v[1], v[NR]}'
}
stats() {	# stats CASE KEY [KIND] -> "median min max" (or "- - -")
	field "$1" "$2" "${3:-RESULT}" | summarise %.1f
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
runs_ok() { field "$1" total_ms | wc -l; }

{
echo "Migration between two namespace hosts, $runs runs each"
echo
# Raw files from before the direct tier have no TIER line: the lab ran all.
t=$(grep -m1 '^TIER engine' "$out" | cut -d' ' -f3- || true)
echo "Engine part: ${t:-lab} (lab = QEMU TCG + nested SVM); Linux part: the lab"
read -r tcp _ _ <<< "$(stats tcp bandwidth_mbps)"
echo "TCP ceiling (1 GiB, one stream): $tcp Mbit/s"
printf '%-24s %26s %14s %12s %6s\n' "engine (micro, 1 GiB)" "downtime ms med/min/max" "total ms med" "Mbit/s med" "ok"
for c in micro-idle-precopy micro-idle-stop-copy micro-idle-postcopy micro-full-raw; do
	read -r d dmin dmax <<< "$(stats $c downtime_ms)"
	read -r t _ _ <<< "$(stats $c total_ms)"
	read -r bw _ _ <<< "$(stats $c bandwidth_mbps)"
	printf '%-24s %26s %14s %12s %6s\n' "$c" "$d / $dmin / $dmax" "$t" "$bw" "$(runs_ok $c)/$runs"
done
# The engine's throughput: a full GiB moved by stop-and-copy, its bytes over
# the downtime (the stun to the destination's vCPUs running: the whole
# transfer and more), against a plain TCP copy between the same hosts in the
# same run, done right before it: the median of the run-by-run ratios (and
# their range), since the machine's state moves every figure between runs.
rate_of() {	# rate_of RUN: micro-full-raw's bytes over downtime, Mbit/s
	grep "^RESULT micro-full-raw $1 " "$out" | awk '{ b = $0; d = $0
		sub(/.*"bytes_sent":/, "", b); sub(/,.*/, "", b)
		sub(/.*"downtime_ms":/, "", d); sub(/,.*/, "", d)
		if (d > 0) printf "%.1f\n", b * 8 / 1e3 / d }'
}
paired() {	# paired BASE-CASE -> "median min max" of rate / base, run by run
	for n in $(okruns micro-full-raw); do
		r=$(rate_of "$n")
		b=$(grep "^RESULT $1 $n " "$out" | grep -o '"bandwidth_mbps":[0-9.]*' | cut -d: -f2)
		[ -n "$r" ] && [ -n "$b" ] && awk -v r="$r" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f\n", r / b }'
	done | summarise %.2f
}
read -r stoprate _ _ <<< "$(for n in $(okruns micro-full-raw); do rate_of "$n"; done | summarise %.1f)"
read -r tcpmem _ _ <<< "$(stats tcp-mem bandwidth_mbps)"
read -r ph phmin phmax <<< "$(paired tcp)"
read -r pm pmmin pmmax <<< "$(paired tcp-mem)"
echo "full GiB by stop-copy, bytes over downtime: $stoprate Mbit/s (median); TCP memory to memory $tcpmem Mbit/s"
span() { [ "$1" = - ] && echo "n/a" || echo "$1 ($2-$3)"; }
echo "  run by run, median (min-max): / TCP hot buffer $(span "$ph" "$phmin" "$phmax");" \
	"/ TCP memory to memory $(span "$pm" "$pmmin" "$pmmax")"
echo
printf '%-28s %26s %14s %10s %6s\n' "micro dirtier, 256 MiB" "downtime ms med/min/max" "total ms med" "converged" "ok"
for c in micro-dirty-stop-copy micro-dirty-postcopy micro-dirty-precopy-capped \
	micro-dirty-hybrid-capped; do
	read -r d dmin dmax <<< "$(stats $c downtime_ms)"
	read -r t _ _ <<< "$(stats $c total_ms)"
	conv=$(grep "^RESULT $c " "$out" | grep -c '"converged":true' || true)
	printf '%-28s %26s %14s %10s %6s\n' "$c" "$d / $dmin / $dmax" "$t" \
		"$conv/$(grep -c "^RESULT $c " "$out" || true)" "$(runs_ok $c)/$runs"
done
read -r dp50 _ _ <<< "$(stats micro-dirty-postcopy p50)"
read -r dp99 _ _ <<< "$(stats micro-dirty-postcopy p99)"
read -r dnf _ _ <<< "$(stats micro-dirty-postcopy faults)"
read -r dpt _ _ <<< "$(stats micro-dirty-postcopy total_ms)"
read -r dst _ _ <<< "$(stats micro-dirty-stop-copy total_ms)"
echo "dirtier post-copy: fault latency p50 $dp50 us, p99 $dp99 us over $dnf faults (medians of runs);" \
	"total / stop-copy total (its memory sent once): $(ratio "$dpt" "$dst")"
hy=$(grep '^RESULT micro-dirty-hybrid-capped ' "$out" | grep -c '"state":"completed"' || true)
echo "capped at 100 MiB/s: hybrid completed $hy of $(grep -c '^RESULT micro-dirty-hybrid-capped ' "$out" || true)," \
	"pre-copy converged $(grep '^RESULT micro-dirty-precopy-capped ' "$out" | grep -c '"converged":true' || true)" \
	"of $(grep -c '^RESULT micro-dirty-precopy-capped ' "$out" || true) (at 5 rounds it switches over anyway)"
read -r p50 _ _ <<< "$(stats micro-idle-postcopy p50)"
read -r pms _ _ <<< "$(stats micro-idle-postcopy postcopy_ms)"
read -r nf _ _ <<< "$(stats micro-idle-postcopy faults)"
# An idle guest may touch no page at all during post-copy: then there is no
# latency to report, not a latency of 0.
if [ "$nf" = 0.0 ]; then	# stats prints one decimal
	echo "micro post-copy: no faults (the idle guest touched no missing page), post-copy phase $pms ms"
else
	echo "micro post-copy: fault latency p50 $p50 us over $nf faults (medians of runs), post-copy phase $pms ms"
fi
echo
echo "Linux guest, 512 MiB, dirtier over WSS MiB at MB/s (0 = flat out), link Mbit/s (0 = unshaped);"
echo "ours vs QEMU, same lab. Downtime as each VMM measures it; gap = the longest time the guest's"
echo "UDP service went unanswered, seen from a third namespace (1 request/5 ms); medians over runs."
printf '%-5s %-4s %-5s %-9s %22s %22s %6s %10s %10s %6s %12s %12s\n' "link" "wss" "MB/s" "strategy" \
	"vmm downtime med/min/max" "qemu downtime med/min/max" "ratio" "vmm gap" "qemu gap" "ratio" \
	"vmm total" "qemu total"
for l in $links; do for w in $wsss; do for r in $rates; do
	for s in precopy postcopy hybrid; do
		c=linux-$l-$w-$r-$s
		read -r d dmin dmax <<< "$(stats $c-vmm downtime_ms)"
		read -r q qmin qmax <<< "$(stats $c-qemu downtime_ms)"
		read -r g _ _ <<< "$(stats $c-vmm max_gap_ms PROBE)"
		read -r qg _ _ <<< "$(stats $c-qemu max_gap_ms PROBE)"
		read -r t _ _ <<< "$(stats $c-vmm total_ms)"
		read -r qt _ _ <<< "$(stats $c-qemu total_ms)"
		qok="$(runs_ok $c-qemu)/$runs"
		[ $s = hybrid ] && qok="n/a"
		printf '%-5s %-4s %-5s %-9s %22s %22s %6s %10s %10s %6s %12s %12s\n' "$l" "$w" "$r" "$s" \
			"$d / $dmin / $dmax" "$q / $qmin / $qmax" "$(ratio "$d" "$q")" "$g" "$qg" \
			"$(ratio "$g" "$qg")" "$t ($(runs_ok $c-vmm)/$runs)" "$qt ($qok)"
	done
done; done; done
echo
nc=$(grep -c 'did-not-converge' "$out" || true)
[ "$nc" -gt 0 ] && echo "QEMU runs that did not finish in 60 s (cancelled):" \
	"$(grep 'did-not-converge' "$out" | awk '{print $2}' | sort | uniq -c | tr '\n' ' ')"
# A cancelled migration leaves the guest on the source: its check on the
# destination is not a failure of the migration, and is counted apart.
bad="" skipped=0
while read -r _ c n verdict; do
	[ "$verdict" = ok ] && continue
	if okruns "$c" | grep -qx "$n"; then bad="$bad$c run $n
"; else skipped=$((skipped + 1)); fi
done < <(grep '^CHECK' "$out" || true)
echo "guest checks after migration: $(grep -c '^CHECK.* ok$' "$out" || true) ok," \
	"$(printf '%s' "$bad" | grep -c . || true) not ok" \
	"($skipped more not counted: the migration was cancelled and the guest stayed on the source)"
printf "%s" "$bad"
} | tee "$dir/summary.md"

# One CSV row per run: case, run, downtime, total time, bytes, state.
{
	echo "case,run,downtime_ms,total_ms,bytes_sent,status,max_gap_ms,lost_replies"
	grep '^RESULT' "$out" | while read -r _ c n json; do
		get() { echo "$json" | grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"' || true; }
		b=$(get bytes_sent); [ -n "$b" ] || b=$(get bytes)
		st=$(get state); [ -n "$st" ] || st=$(get status)
		p=$(grep "^PROBE $c $n " "$out" | head -1 | cut -d' ' -f4- || true)
		gap=$(echo "$p" | grep -o '"max_gap_ms":[0-9.]*' | cut -d: -f2 || true)
		lost=$(echo "$p" | grep -o '"lost":[0-9]*' | cut -d: -f2 || true)
		echo "$c,$n,$(get downtime_ms),$(get total_ms),$b,$st,$gap,$lost"
	done
} > "$dir/runs.csv"

# Per strategy and case, ours beside QEMU's: downtime, the guest-observed
# gap, and total time (log scale).
plot=$dir/migrate.dat
echo "# case vmm_downtime qemu_downtime vmm_gap qemu_gap vmm_total qemu_total" > "$plot"
for l in $links; do for w in $wsss; do for r in $rates; do
	for s in precopy postcopy hybrid; do
		c=linux-$l-$w-$r-$s
		row="\"$s ${r}MB/s"
		[ "$l" = 0 ] || row="$row ${l}Mb"
		[ "$(echo $wsss | wc -w)" -gt 1 ] && row="$row ${w}MiB"
		row="$row\""
		for k in "downtime_ms RESULT" "max_gap_ms PROBE" "total_ms RESULT"; do
			set -- $k
			read -r d _ _ <<< "$(stats $c-vmm $1 $2)"
			read -r q _ _ <<< "$(stats $c-qemu $1 $2)"
			row="$row ${d/-/NaN} ${q/-/NaN}"
		done
		echo "$row" >> "$plot"
	done
done; done; done
if ! grep -q '^"' "$plot"; then
	echo "bench-migrate: no Linux results, so no plots" >&2
elif command -v gnuplot > /dev/null; then
	for p in "downtime:2:3:downtime ms (log), as each VMM measures it" \
		 "gap:4:5:longest unanswered time ms (log), UDP probe from outside" \
		 "total:6:7:total migration time ms (log)"; do
		IFS=: read -r name a b label <<< "$p"
		gnuplot <<GP || echo "bench-migrate: gnuplot failed; the data is in $plot" >&2
set terminal png size 1000,500
set output "$dir/$name.png"
set title "Linux guest 512 MiB, dirtier (rate 0 = flat out), lab: $label"
set ylabel "$label"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -25
set key top left
plot "$plot" using $a:xtic(1) title "vmm", "" using $b title "QEMU 7.2"
GP
	done
fi
echo "results: $dir (summary.md, runs.csv, downtime.png, gap.png, total.png, raw.txt)"
