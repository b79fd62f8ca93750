# Runs inside the lab (scripts/lab.sh): the integration suites that need KVM,
# against the lab's copies of the VMM and the guests; then, when the lab has
# the sanitizer build (/bin/vmm-asan), the same suites against it.
export GUEST_DIR=/guest MICRO_DIR=/micro
cd /tmp
VMM=/bin/vmm /bin/integration-tests "$@"
rc=$?
if [ -x /bin/vmm-asan ]; then
	# The ten-migration ping-pongs are left out here to keep make test
	# under half an hour; every other migration test runs sanitized.
	echo "==== the same suites with the ASan + UBSan VMM (without the ping-pongs)"
	VMM=/bin/vmm-asan ITEST_SKIP=ping-pong /bin/integration-tests "$@" || rc=1
fi
exit $rc
