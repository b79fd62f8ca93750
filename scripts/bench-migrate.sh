#!/usr/bin/env bash
# Migration benchmark, in one lab run (this machine has no usable /dev/kvm of
# its own; on a host with hardware KVM the micro cases measure the engine at
# native speed, here everything runs under the lab's emulation):
#   - the plain TCP ceiling between the two namespace hosts;
#   - engine: pre-copy and stop-copy downtime of an idle 1 GiB micro guest,
#     and stop-copy throughput of a full 1 GiB guest against the TCP ceiling;
#   - Linux guest, 512 MiB, dirtier over 256 MiB at several rates: our
#     pre-copy against QEMU's pre-copy (defaults, downtime-limit 300 ms) in
#     the same lab, downtime and total time, and the ratio.
# Lab times are emulation times: compare within one run only.
#
#   scripts/bench-migrate.sh [BUILD_DIR] [RUNS] [RATES]   (make bench-migrate)
set -euo pipefail
B=${1:-build} runs=${2:-3} rates=${3:-"0 20 50"}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
scripts/lab.sh --build "$B" --with-qemu --timeout 3000 scripts/bench-migrate-lab.sh "$runs" "$rates" |
	tr -d '\r' | grep -E '^(RESULT|CHECK)' > "$out" || true
grep -q '^RESULT' "$out" || { echo "bench-migrate: the lab produced no results" >&2; exit 1; }

field() {	# field CASE KEY -> one value per successful run
	grep "^RESULT $1 " "$out" | grep -v '"error"' | grep -v 'did-not-converge' |
		grep -v '"state":"failed"' | grep -o "\"$2\":[0-9.e+-]*" | cut -d: -f2 || true
}
stats() {	# stats CASE KEY -> "median min max" (or "- - -")
	field "$1" "$2" | sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "- - -"; exit}
		m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
runs_ok() { field "$1" total_ms | wc -l; }

echo "Migration between two namespace hosts in the lab (QEMU TCG + nested SVM), $runs runs each"
echo
read -r tcp _ _ <<< "$(stats tcp bandwidth_mbps)"
echo "TCP ceiling (1 GiB, one stream): $tcp Mbit/s"
printf '%-24s %24s %22s %12s %6s\n' "engine (micro, 1 GiB)" "downtime ms med/min/max" "total ms med" "Mbit/s med" "ok"
for c in micro-idle-precopy micro-idle-stop-copy micro-full-raw; do
	read -r d dmin dmax <<< "$(stats $c downtime_ms)"
	read -r t _ _ <<< "$(stats $c total_ms)"
	read -r bw _ _ <<< "$(stats $c bandwidth_mbps)"
	printf '%-24s %24s %22s %12s %6s\n' "$c" "$d / $dmin / $dmax" "$t" "$bw" "$(runs_ok $c)/$runs"
	[ "$c" = micro-full-raw ] && fullbw=$bw
done
echo "engine throughput / TCP ceiling: $(ratio "${fullbw:--}" "$tcp")"
echo
echo "Linux guest, 512 MiB, dirtier over 256 MiB; pre-copy, ours vs QEMU (downtime-limit 300 ms)"
printf '%-10s %26s %26s %10s %14s %14s\n' "dirty MB/s" "vmm downtime med/min/max" "qemu downtime med/min/max" "ratio" "vmm total ms" "qemu total ms"
for r in $rates; do
	read -r d dmin dmax <<< "$(stats linux-$r-vmm downtime_ms)"
	read -r q qmin qmax <<< "$(stats linux-$r-qemu downtime_ms)"
	read -r t _ _ <<< "$(stats linux-$r-vmm total_ms)"
	read -r qt _ _ <<< "$(stats linux-$r-qemu total_ms)"
	printf '%-10s %26s %26s %10s %14s %14s\n' "$r" "$d / $dmin / $dmax" "$q / $qmin / $qmax" \
		"$(ratio "$d" "$q")" "$t ($(runs_ok linux-$r-vmm)/$runs)" "$qt ($(runs_ok linux-$r-qemu)/$runs)"
done
echo
nc=$(grep -c 'did-not-converge' "$out" || true)
[ "$nc" -gt 0 ] && echo "QEMU runs that did not converge in 90 s (cancelled): $nc" \
	"($(grep 'did-not-converge' "$out" | awk '{print $2}' | sort | uniq -c | tr '\n' ' '))"
bad=$(grep '^CHECK' "$out" | grep -vc ' ok$' || true)
echo "guest checks after migration: $(grep -c '^CHECK.* ok$' "$out" || true) ok, $bad not ok"
grep '^CHECK' "$out" | grep -v ' ok$' || true
