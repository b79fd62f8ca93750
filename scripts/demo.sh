#!/usr/bin/env bash
# make demo: boot the test guests and show what happens. This machine's
# /dev/kvm (if any) may be PVM, which cannot run a stock Linux kernel, so the
# demo runs in the lab: a QEMU TCG host with nested SVM and a real kvm_amd.
# It ends with a stop-and-copy live migration between two network namespaces.
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
echo "demo: starting the lab (QEMU TCG, nested SVM); this takes about a minute"
scripts/lab.sh --build "$B" --timeout 600 scripts/demo-lab.sh 2>&1 |
	grep -a -v -e "TCG doesn't support" -e 'Unhandled WRMSR' -e 'reboot: Power down' -e 'LAB-KVM' |
	sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g'
