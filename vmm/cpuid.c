/* cpuid: supported CPUID and per-vCPU edits (see cpuid.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "cpuid.h"
#include "err.h"

int cpuid_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return err_set(-ENOMEM, "out of memory for CPUID");
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return err_set(-errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	}
	return err_set(-E2BIG, "KVM_GET_SUPPORTED_CPUID: table too large");
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, unsigned fn, unsigned index)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

static unsigned order(int n)
{
	unsigned s = 0;

	while ((1 << s) < n)
		s++;
	return s;
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, int id, int ncpus)
{
	size_t size = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	struct kvm_cpuid_entry2 *v;
	int amd = 0;

	if (!c)
		return NULL;
	memcpy(c, base, size);
	v = cpuid_find(c, 0, 0);
	if (v && v->ebx == 0x68747541)		/* "Auth"enticAMD */
		amd = 1;
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffff) | ((unsigned)ncpus << 16) | ((unsigned)id << 24);
			e->ecx |= 1u << 31;		/* running under a hypervisor */
			if (ncpus > 1)
				e->edx |= 1u << 28;	/* HTT: several logical CPUs */
			break;
		case 4:					/* Intel cache topology */
			e->eax = (e->eax & 0x3fff) | ((unsigned)(ncpus - 1) << 26);
			break;
		case 0xb:				/* x2APIC topology */
		case 0x1f:
			e->edx = (unsigned)id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = order(ncpus);
				e->ebx = (unsigned)ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			if (amd)
				e->ecx = (e->ecx & ~0xf0ffu) | (order(ncpus) << 12) |
					 (unsigned)(ncpus - 1);
			break;
		case 0x8000001e:			/* AMD extended APIC ID */
			e->eax = (unsigned)id;
			e->ebx = (unsigned)id & 0xff;
			e->ecx = 0;
			break;
		}
	}
	return c;
}
