#!/usr/bin/env bash
# Run every test: the unit suites, then the integration suites on the tier
# that can run them. On a host with hardware KVM everything runs here; with
# PVM the micro suite runs here and the Linux suite in the lab; with no
# /dev/kvm at all (this project's CI machine) both run in the lab, a QEMU TCG
# host with nested SVM. Ends with CUnit's summary and one total line.
set -uo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
log=$(mktemp "${TMPDIR:-/tmp}/tests.XXXXXX")
trap 'rm -f "$log"' EXIT

passed=0 failed=0
# Add the "tests" rows of the CUnit run summaries in $log to the totals; a
# run that printed no summary (crashed, hung, lab failed) counts as a failure.
tally() {
	local sums
	sums=$(tr -d '\r' < "$log" | awk '$1 == "tests" && NF >= 6 {p += $4; f += $5; n++}
		END {if (n) print p, f}')
	if [ -z "$sums" ]; then
		echo "run-tests: $1 printed no CUnit summary: counted as failed" >&2
		failed=$((failed + 1))
		return
	fi
	set -- $sums
	passed=$((passed + $1)) failed=$((failed + $2))
}

run() {	# run NAME CMD...: run, show, tally
	local name=$1; shift
	echo "==== $name"
	"$@" 2>&1 | tee "$log"
	tally "$name"
}

run "unit tests" "$B/unit-tests"
run "integration: cli" env VMM="$B/vmm" GUEST_DIR="$B/guest" MICRO_DIR="$B/micro" \
	"$B/integration-tests" cli
if [ -x build/asan/unit-tests ]; then
	run "unit tests (ASan + UBSan)" build/asan/unit-tests
	run "integration: cli (ASan + UBSan VMM)" env VMM=build/asan/vmm GUEST_DIR="$B/guest" \
		MICRO_DIR="$B/micro" "$B/integration-tests" cli
fi

kvm=none
if [ -c /dev/kvm ]; then
	if [ -d /sys/module/kvm_pvm ]; then kvm=pvm; else kvm=hw; fi
fi
case $kvm in
hw)
	run "integration: micro + linux (this host's KVM)" env VMM="$B/vmm" GUEST_DIR="$B/guest" \
		MICRO_DIR="$B/micro" "$B/integration-tests" micro linux devices state-micro \
		state-linux
	echo "run-tests: the migration suite needs network namespaces with iproute2: the lab"
	run "integration: migrate (lab)" scripts/lab.sh --build "$B" --timeout 1200 \
		tests/integration/lab-tests.sh migrate ;;
pvm)
	run "integration: micro (direct tier, PVM)" env VMM="$B/vmm" GUEST_DIR="$B/guest" \
		MICRO_DIR="$B/micro" "$B/integration-tests" micro state-micro
	echo "run-tests: /dev/kvm is PVM: the Linux suites run in the lab"
	run "integration: linux (lab)" scripts/lab.sh --build "$B" --timeout 1200 \
		tests/integration/lab-tests.sh linux devices state-linux migrate ;;
none)
	echo "run-tests: this host has no /dev/kvm: the micro and Linux suites run in the lab"
	run "integration: micro + linux (lab)" scripts/lab.sh --build "$B" --timeout 1500 \
		tests/integration/lab-tests.sh micro linux devices state-micro state-linux migrate ;;
esac

echo
echo "all suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
