/* kvm: open /dev/kvm and find out what it is (see kvm.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "kvm.h"

static int dir_exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

enum kvm_kind kvm_kind_detect(const char *dir)
{
	/* kvm_pvm first: a PVM host may also have kvm_intel loaded for nothing. */
	if (dir_exists(dir, "kvm_pvm"))
		return KVM_KIND_PVM;
	if (dir_exists(dir, "kvm_intel"))
		return KVM_KIND_INTEL;
	if (dir_exists(dir, "kvm_amd"))
		return KVM_KIND_AMD;
	return KVM_KIND_UNKNOWN;
}

const char *kvm_kind_name(enum kvm_kind kind)
{
	switch (kind) {
	case KVM_KIND_INTEL: return "intel";
	case KVM_KIND_AMD: return "amd";
	case KVM_KIND_PVM: return "pvm";
	default: return "unknown";
	}
}

int kvm_open(struct kvm *k, const char *path)
{
	int ver;

	memset(k, 0, sizeof(*k));
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		int e = errno;

		if (e == ENOENT && dir_exists("/sys/module", "kvm_pvm"))
			return err_set(-e, "%s does not exist: kvm_pvm is loaded but did not bind "
				       "(this host is itself a PVM guest); no KVM here", path);
		if (e == ENOENT)
			return err_set(-e, "%s does not exist: load kvm_intel or kvm_amd, or enable "
				       "virtualization in the firmware", path);
		return err_set(-e, "cannot open %s: %s", path, strerror(e));
	}
	ver = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		close(k->fd);
		k->fd = -1;
		return err_set(-EINVAL, "%s: KVM API version %d, expected %d", path, ver,
			       KVM_API_VERSION);
	}
	k->run_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		close(k->fd);
		k->fd = -1;
		return err_set(-EINVAL, "%s: KVM_GET_VCPU_MMAP_SIZE failed", path);
	}
	k->max_vcpus = kvm_check_cap(k, KVM_CAP_MAX_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = kvm_check_cap(k, KVM_CAP_NR_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = 4;
	/* VMM_SYSFS_MODULES lets tests show the VMM a fake module directory. */
	k->kind = kvm_kind_detect(getenv("VMM_SYSFS_MODULES") ? getenv("VMM_SYSFS_MODULES") :
				  "/sys/module");
	return 0;
}

void kvm_close(struct kvm *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

int kvm_check_cap(const struct kvm *k, long cap)
{
	int r = ioctl(k->fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}
