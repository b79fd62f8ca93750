#!/usr/bin/env bash
# I/O benchmark: virtio-blk sequential direct read and write and virtio-net
# TCP throughput both ways, our VMM beside QEMU (no vhost) on the same guest in
# one lab run; prints median MiB/s and the ratio. Lab figures are emulation
# speeds: only the ratio means anything.
#
#   scripts/bench-io.sh [BUILD_DIR] [RUNS] [DISK_MiB] [NET_MiB]
set -euo pipefail
B=${1:-build} runs=${2:-3} io_mib=${3:-64} net_mib=${4:-64}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
scripts/lab.sh --build "$B" --with-qemu --timeout 1500 scripts/bench-io-lab.sh "$runs" "$io_mib" \
	"$net_mib" | tr -d '\r' | grep '^RESULT' > "$out" || true
[ -s "$out" ] || { echo "bench-io: the lab produced no results" >&2; exit 1; }
median() { grep "^RESULT $1 [0-9]* $2 " "$out" | awk '{print $5}' | sort -n |
	awk '{v[NR]=$1} END {if (!NR) print "-"; else print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
echo "virtio I/O in the lab, $runs runs each, disk $io_mib MiB, TCP $net_mib MiB (median MiB/s)"
printf '%-11s %10s %10s %8s\n' "test" "vmm" "qemu" "ratio"
for t in blk_read blk_write net_tx net_rx; do
	a=$(median vmm $t) b=$(median qemu $t)
	printf '%-11s %10s %10s %8s\n' "$t" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f", a / b }')"
done
echo "(4 KiB random-read IOPS: the guest has no tool for it: busybox has no fio)"
