# Runs inside the lab (scripts/lab.sh): the integration suites that need KVM,
# against the lab's copies of the VMM and the guests.
export VMM=/bin/vmm GUEST_DIR=/guest MICRO_DIR=/micro
cd /tmp
/bin/integration-tests "$@"
