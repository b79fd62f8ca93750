#!/usr/bin/env bash
# Boot benchmark: in one lab run, N boots each of our VMM and of QEMU (pc and
# microvm) on the same Debian guest (256 MiB, 1 vCPU, workload=poweroff);
# prints median, min and max of the time from starting the VMM to the guest's
# READY line, and of the VMM's resident memory outside guest RAM, and the
# ratio to QEMU. Lab times are emulation times: compare within the run only.
#
#   scripts/bench-boot.sh [BUILD_DIR] [RUNS]     (make bench-boot runs it)
set -euo pipefail
B=${1:-build} runs=${2:-5}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
scripts/lab.sh --build "$B" --with-qemu --timeout 1500 scripts/bench-boot-lab.sh "$runs" |
	tr -d '\r' | grep '^RESULT' > "$out" || true
[ -s "$out" ] || { echo "bench-boot: the lab produced no results" >&2; exit 1; }

stats() {	# stats WHO FIELD -> "median min max" over the successful runs
	grep "^RESULT $1 " "$out" | grep -v 'ready_ms=-1' | tr ' ' '\n' | grep "^$2=" | cut -d= -f2 |
		sort -n | awk '{v[NR]=$1} END {if (NR==0) {print "- - -"; exit}
			m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
			printf "%.0f %.0f %.0f\n", m, v[1], v[NR]}'
}

echo "Boot to READY, Debian cloud kernel, 256 MiB, 1 vCPU, $runs runs each, in the lab (QEMU TCG + nested SVM)"
printf '%-14s %22s %26s %6s\n' "VMM" "ready ms (med/min/max)" "RSS outside RAM KiB (med)" "ok"
for who in vmm qemu-pc qemu-microvm; do
	read -r med min max <<< "$(stats $who ready_ms)"
	read -r rss _ _ <<< "$(stats $who vmm_rss_kib)"
	ok=$(grep "^RESULT $who " "$out" | grep -c 'status=0' || true)
	printf '%-14s %22s %26s %6s\n' "$who" "$med / $min / $max" "$rss" "$ok/$runs"
	eval "ready_${who//-/_}=$med rss_${who//-/_}=$rss"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "ratio vmm/qemu-pc:      ready $(ratio "$ready_vmm" "$ready_qemu_pc"), RSS $(ratio "$rss_vmm" "$rss_qemu_pc")"
echo "ratio vmm/qemu-microvm: ready $(ratio "$ready_vmm" "$ready_qemu_microvm"), RSS $(ratio "$rss_vmm" "$rss_qemu_microvm")"
