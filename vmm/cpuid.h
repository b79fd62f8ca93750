/* cpuid: the CPUID table each vCPU sees: what KVM supports, with the edits a
 * guest needs to see a coherent machine (its own APIC ID, the CPU count, the
 * hypervisor bit). */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <linux/kvm.h>

/* cpuid_supported(kvm_fd, out): KVM_GET_SUPPORTED_CPUID into a malloc'ed table.
 * Returns 0 or -errno. */
int cpuid_supported(int kvm_fd, struct kvm_cpuid2 **out);

/* cpuid_for_vcpu(base, vcpu_id, ncpus): a malloc'ed copy of base edited for
 * this vCPU, or NULL when out of memory. Pure apart from malloc. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, int vcpu_id, int ncpus);

/* cpuid_find(c, fn, index): the entry or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, unsigned fn, unsigned index);

#endif
