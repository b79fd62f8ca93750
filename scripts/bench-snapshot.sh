#!/usr/bin/env bash
# Checkpoint benchmark, in one lab run: our snapshot (time the VM is stunned,
# file size, pages written, zero pages skipped) and restore (process start to
# "restored") for a 1 GiB micro guest and a 512 MiB Linux guest running the
# dirtier, and QEMU's migrate-to-file (stop; migrate exec:cat) of the same
# Linux guest, with the ratio. Lab times are emulation times.
#
#   scripts/bench-snapshot.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
scripts/lab.sh --build "$B" --with-qemu --timeout 1200 scripts/bench-snapshot-lab.sh |
	tr -d '\r' | grep '^RESULT' > "$out" || true
[ -s "$out" ] || { echo "bench-snapshot: the lab produced no results" >&2; exit 1; }
printf '%-6s %-11s %9s %11s %9s %8s %11s\n' VMM guest save_ms restore_ms file_MiB pages zero_pages
awk '{printf "%-6s %-11s %9s %11s %9s %8s %11s\n", $2, $3, $4, $5, $6, $7, $8}' "$out"
ours=$(awk '$2 == "vmm" && $3 == "linux-512M" {print $4}' "$out")
qemu=$(awk '$2 == "qemu" && $3 == "linux-512M" {print $4}' "$out")
awk -v a="$ours" -v b="$qemu" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "ratio: n/a";
	else printf "ratio vmm/qemu, Linux save time: %.2f\n", a / b }'
