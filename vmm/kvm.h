/* kvm: the /dev/kvm handle and what kind of KVM it is. Knowing the kind up
 * front lets the VMM refuse, with one plain sentence, a guest that the host's
 * KVM cannot run (PVM runs only PVM-aware kernels) instead of dying later with
 * a KVM internal error. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdint.h>

enum kvm_kind { KVM_KIND_UNKNOWN, KVM_KIND_INTEL, KVM_KIND_AMD, KVM_KIND_PVM };

struct kvm {
	int fd;			/* /dev/kvm */
	enum kvm_kind kind;
	int run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	int max_vcpus;
};

/* kvm_open(k, path): open path (normally /dev/kvm), check the API version and
 * detect the kind. Returns 0 or -errno with a message saying why KVM is
 * unusable. Main thread, once. */
int kvm_open(struct kvm *k, const char *path);
void kvm_close(struct kvm *k);

/* kvm_kind_detect(sysfs_module_dir): which KVM module backs /dev/kvm, judged
 * from <dir>/kvm_pvm, kvm_intel, kvm_amd. Exposed for tests. */
enum kvm_kind kvm_kind_detect(const char *sysfs_module_dir);
const char *kvm_kind_name(enum kvm_kind kind);

/* kvm_check_cap(k, cap): the KVM_CHECK_EXTENSION value, 0 when absent. */
int kvm_check_cap(const struct kvm *k, long cap);

#endif
