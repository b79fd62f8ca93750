# Runs inside the lab (scripts/lab.sh): the integration suites that need KVM,
# against the lab's copies of the VMM and the guests; then, when the lab has
# the sanitizer build (/bin/vmm-asan), the same suites against it.
export GUEST_DIR=/guest MICRO_DIR=/micro
cd /tmp
VMM=/bin/vmm /bin/integration-tests "$@"
rc=$?
if [ -x /bin/vmm-asan ]; then
	echo "==== the same suites with the ASan + UBSan VMM"
	VMM=/bin/vmm-asan /bin/integration-tests "$@" || rc=1
fi
exit $rc
