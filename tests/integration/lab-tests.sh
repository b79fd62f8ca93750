# Runs inside the lab (scripts/lab.sh): the integration suites that need KVM,
# against the lab's copies of the VMM and the guests; then, when the lab has
# the sanitizer build (/bin/vmm-asan), the same suites against it.
export GUEST_DIR=/guest MICRO_DIR=/micro
cd /tmp
# --retry VMM SUITE NAME [VMM SUITE NAME...]: run just those tests again
# (scripts/run-tests.sh, after a first failure in the lab).
if [ "$1" = --retry ]; then
	shift
	rc=0
	while [ $# -ge 3 ]; do
		VMM=$1 ITEST_EXACT=$3 /bin/integration-tests "$2" || rc=1
		shift 3
	done
	exit $rc
fi
VMM=/bin/vmm /bin/integration-tests "$@"
rc=$?
if [ -x /bin/vmm-asan ]; then
	# The ten-migration ping-pongs are left out here to keep make test
	# under half an hour; every other migration test runs sanitized.
	echo "==== the same suites with the ASan + UBSan VMM (without the ping-pongs)"
	VMM=/bin/vmm-asan ITEST_SKIP=ping-pong /bin/integration-tests "$@" || rc=1
fi
exit $rc
