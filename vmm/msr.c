/* msr: boot MSR values (see msr.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "err.h"
#include "layout.h"
#include "msr.h"

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

int msr_set_boot(int fd)
{
	static const struct { unsigned idx; unsigned long long val; } boot[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, (unsigned long long)LAYOUT_SEL_CODE << 32 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },			/* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1ULL << 11) | 6 },	/* MTRRs on, default WB */
	};
	size_t n = sizeof(boot) / sizeof(boot[0]);
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	int r;

	if (!m)
		return err_set(-ENOMEM, "out of memory for MSRs");
	m->nmsrs = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		m->entries[i].index = boot[i].idx;
		m->entries[i].data = boot[i].val;
	}
	r = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return err_set(-errno, "KVM_SET_MSRS: %s", strerror(errno));
	if ((size_t)r != n)
		return err_set(-EINVAL, "KVM_SET_MSRS: KVM refused MSR 0x%x", boot[r].idx);
	return 0;
}
