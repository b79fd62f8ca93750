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

# A run that ended badly with no failed test to show for it (the lab's
# watchdog killed it after some suites had passed, a crash after the
# summary) counts as one failure: a hang must never pass.
run() {	# run NAME CMD...: run, show, tally
	local name=$1 rc before=$failed; shift
	echo "==== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	tally "$name"
	if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
		echo "run-tests: $name ended with status $rc and no failed test: counted as failed" >&2
		failed=$((failed + 1))
	fi
}

# The lab is a guest kernel under nested SVM emulated by QEMU TCG, and it
# now and then breaks a guest that runs fine on hardware (a double fault at
# syscall entry, a boot that never reaches READY). So a lab test that failed
# runs once more, in a fresh lab; it counts as passed only if it passes then,
# and the summary names it. More than three failures are not retried: that
# is a broken build, not a flaky lab.
retried=""
retry_lab() {	# after a lab run whose output is in $log
	local -a args=()
	local line vmm suite name p f sums
	while IFS=$'\t' read -r _ vmm suite name; do
		args+=("$vmm" "$suite" "$name")
	done < <(tr -d '\r' < "$log" | grep '^ITEST-FAILED')
	[ ${#args[@]} -eq 0 ] && return
	if [ ${#args[@]} -gt 9 ]; then
		echo "run-tests: $((${#args[@]} / 3)) lab tests failed: not retried"
		return
	fi
	echo "==== retry in a fresh lab: $((${#args[@]} / 3)) test(s) that failed once"
	scripts/lab.sh --build "$B" --timeout 1200 tests/integration/lab-tests.sh --retry \
		"${args[@]}" 2>&1 | tee "$log"
	sums=$(tr -d '\r' < "$log" | awk '$1 == "tests" && NF >= 6 {p += $4; f += $5; n++}
		END {if (n) print p, f}')
	[ -z "$sums" ] && return
	set -- $sums
	p=$1
	# Passed now: move them from failed to passed.
	passed=$((passed + p)) failed=$((failed - p))
	for ((i = 2; i < ${#args[@]}; i += 3)); do
		if ! tr -d '\r' < "$log" | grep -qF "ITEST-FAILED	${args[i-2]}	${args[i-1]}	${args[i]}"; then
			retried+="${retried:+; }${args[i]} ($(basename "${args[i-2]}"))"
		fi
	done
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
		tests/integration/lab-tests.sh migrate-micro migrate-linux
	retry_lab ;;
pvm)
	# The micro guests and their migrations between namespaces run here,
	# natively, with the plain and the sanitizer VMM (as the lab does).
	run "integration: micro (direct tier, PVM)" env VMM="$B/vmm" GUEST_DIR="$B/guest" \
		MICRO_DIR="$B/micro" "$B/integration-tests" micro state-micro migrate-micro
	if [ -x build/asan/vmm ]; then
		run "integration: micro (direct tier, PVM, ASan + UBSan VMM, without the ping-pong)" \
			env VMM="$PWD/build/asan/vmm" GUEST_DIR="$B/guest" MICRO_DIR="$B/micro" \
			ITEST_SKIP=ping-pong "$B/integration-tests" micro state-micro migrate-micro
	fi
	echo "run-tests: /dev/kvm is PVM: the Linux suites run in the lab"
	run "integration: linux (lab)" scripts/lab.sh --build "$B" --timeout 1200 \
		tests/integration/lab-tests.sh linux devices state-linux migrate-linux
	retry_lab ;;
none)
	echo "run-tests: this host has no /dev/kvm: the micro and Linux suites run in the lab"
	run "integration: micro + linux (lab)" scripts/lab.sh --build "$B" --timeout 1500 \
		tests/integration/lab-tests.sh micro linux devices state-micro state-linux \
		migrate-micro migrate-linux
	retry_lab ;;
esac

echo
[ -n "$retried" ] && echo "run-tests: failed once in the lab, passed on a retry: $retried"
echo "all suites: $passed passed, $failed failed${retried:+ (some passed on a lab retry: see above)}"
[ "$failed" -eq 0 ]
