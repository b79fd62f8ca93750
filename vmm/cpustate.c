/* cpustate: vCPU and VM state capture and load (see cpustate.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "../migration/stream.h"
#include "cpustate.h"
#include "err.h"
#include "kvm.h"

#define XSAVE_MIN 4096

int cpustate_msr_list(struct kvm *k, uint32_t *list, int max)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + 1024 * sizeof(uint32_t));
	int n;

	if (!l)
		return err_set(-ENOMEM, "out of memory");
	l->nmsrs = 1024;
	if (ioctl(k->fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return err_set(-errno, "KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
	}
	n = (int)l->nmsrs < max ? (int)l->nmsrs : max;
	memcpy(list, l->indices, n * sizeof(uint32_t));
	free(l);
	return n;
}

#define IOCTL(fd, req, arg, what)                                                         \
	do {                                                                              \
		if (ioctl(fd, req, arg) < 0)                                              \
			return err_set(-errno, "%s: %s", what, strerror(errno));          \
	} while (0)

int vcpu_state_save(struct kvm *k, int fd, const uint32_t *msrs, int nmsrs, struct vcpu_state *st)
{
	struct kvm_msrs *m;
	int size = kvm_check_cap(k, KVM_CAP_XSAVE2), r;

	IOCTL(fd, KVM_GET_REGS, &st->regs, "KVM_GET_REGS");
	IOCTL(fd, KVM_GET_SREGS, &st->sregs, "KVM_GET_SREGS");
	IOCTL(fd, KVM_GET_XCRS, &st->xcrs, "KVM_GET_XCRS");
	IOCTL(fd, KVM_GET_LAPIC, &st->lapic, "KVM_GET_LAPIC");
	IOCTL(fd, KVM_GET_VCPU_EVENTS, &st->events, "KVM_GET_VCPU_EVENTS");
	IOCTL(fd, KVM_GET_MP_STATE, &st->mp, "KVM_GET_MP_STATE");
	IOCTL(fd, KVM_GET_DEBUGREGS, &st->dregs, "KVM_GET_DEBUGREGS");
	r = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	st->tsc_khz = r > 0 ? (uint32_t)r : 0;
	if (size < XSAVE_MIN)
		size = XSAVE_MIN;
	if (!st->xsave || st->xsave_len != (uint32_t)size) {
		free(st->xsave);
		st->xsave = calloc(1, size);
		if (!st->xsave)
			return err_set(-ENOMEM, "out of memory for XSAVE state");
		st->xsave_len = (uint32_t)size;
	}
	if (ioctl(fd, size > XSAVE_MIN ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, st->xsave) < 0)
		return err_set(-errno, "KVM_GET_XSAVE: %s", strerror(errno));
	m = calloc(1, sizeof(*m) + nmsrs * sizeof(m->entries[0]));
	if (!m)
		return err_set(-ENOMEM, "out of memory");
	m->nmsrs = (uint32_t)nmsrs;
	for (int i = 0; i < nmsrs; i++)
		m->entries[i].index = msrs[i];
	r = ioctl(fd, KVM_GET_MSRS, m);
	if (r < 0) {
		free(m);
		return err_set(-errno, "KVM_GET_MSRS: %s", strerror(errno));
	}
	/* KVM stops at the first MSR it cannot read: keep those it could. */
	st->nmsrs = (uint32_t)r;
	memcpy(st->msrs, m->entries, r * sizeof(m->entries[0]));
	free(m);
	return 0;
}

int vcpu_state_load(int fd, const struct vcpu_state *st)
{
	struct kvm_msrs *m;
	int r;

	/* A guest's TSC must keep its frequency: set it if this host's default
	 * differs (needs TSC scaling; without it the guest sees a faster or
	 * slower clock, which we say). */
	if (st->tsc_khz) {
		r = ioctl(fd, KVM_GET_TSC_KHZ, 0);
		if (r > 0 && (uint32_t)r != st->tsc_khz &&
		    ioctl(fd, KVM_SET_TSC_KHZ, (unsigned long)st->tsc_khz) < 0)
			log_warn("cannot set the TSC to the saved %u kHz (this host: %d kHz): %s",
				 st->tsc_khz, r, strerror(errno));
	}
	/* The order QEMU uses: registers, extended state, then the MSRs that
	 * depend on them, then the local APIC and pending events. */
	IOCTL(fd, KVM_SET_REGS, &st->regs, "KVM_SET_REGS");
	if (st->xsave)
		IOCTL(fd, KVM_SET_XSAVE, st->xsave, "KVM_SET_XSAVE");
	IOCTL(fd, KVM_SET_XCRS, &st->xcrs, "KVM_SET_XCRS");
	IOCTL(fd, KVM_SET_SREGS, &st->sregs, "KVM_SET_SREGS");
	m = calloc(1, sizeof(*m) + st->nmsrs * sizeof(m->entries[0]));
	if (!m)
		return err_set(-ENOMEM, "out of memory");
	m->nmsrs = st->nmsrs;
	memcpy(m->entries, st->msrs, st->nmsrs * sizeof(m->entries[0]));
	r = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return err_set(-errno, "KVM_SET_MSRS: %s", strerror(errno));
	if ((uint32_t)r != st->nmsrs)
		return err_set(-EINVAL, "KVM_SET_MSRS: KVM refused MSR 0x%x",
			       st->msrs[r].index);
	IOCTL(fd, KVM_SET_MP_STATE, &st->mp, "KVM_SET_MP_STATE");
	IOCTL(fd, KVM_SET_LAPIC, &st->lapic, "KVM_SET_LAPIC");
	IOCTL(fd, KVM_SET_VCPU_EVENTS, &st->events, "KVM_SET_VCPU_EVENTS");
	IOCTL(fd, KVM_SET_DEBUGREGS, &st->dregs, "KVM_SET_DEBUGREGS");
	return 0;
}

/* add_page(gpa, n, max, page): page into gpa[0..*n) unless already there. */
static void add_page(uint64_t *gpa, int *n, int max, uint64_t page)
{
	for (int j = 0; j < *n; j++)
		if (gpa[j] == page)
			return;
	if (*n < max)
		gpa[(*n)++] = page;
}

void vcpu_state_kvm_pages(const struct vcpu_state *st, uint64_t *gpa, int *n, int max)
{
	/* KVM's paravirtual MSRs that hold a guest address: the wall clock
	 * ones are written to as soon as they are set (any non-zero address),
	 * the others only when bit 0 enables them. The address is the value
	 * without its flag bits (addr_mask); the structure there is len bytes,
	 * and a structure that crosses into the next page needs that page too. */
	static const struct {
		uint32_t index;
		int enable_bit;
		uint64_t addr_mask;
		uint32_t len;
	} pv[] = {
		{ 0x11, 0, ~0ULL, 12 },			/* MSR_KVM_WALL_CLOCK */
		{ 0x12, 1, ~1ULL, 32 },			/* MSR_KVM_SYSTEM_TIME (old kvmclock) */
		{ 0x4b564d00, 0, ~0ULL, 12 },		/* MSR_KVM_WALL_CLOCK_NEW */
		{ 0x4b564d01, 1, ~1ULL, 32 },		/* MSR_KVM_SYSTEM_TIME_NEW */
		{ 0x4b564d02, 1, ~0x3fULL, 64 },	/* MSR_KVM_ASYNC_PF_EN */
		{ 0x4b564d03, 1, ~0x3fULL, 64 },	/* MSR_KVM_STEAL_TIME */
		{ 0x4b564d04, 1, ~3ULL, 4 },		/* MSR_KVM_PV_EOI_EN */
	};

	for (uint32_t i = 0; i < st->nmsrs && i < CPUSTATE_MAX_MSRS; i++) {
		uint64_t v = st->msrs[i].data, addr;

		for (size_t k = 0; k < sizeof(pv) / sizeof(pv[0]); k++) {
			if (st->msrs[i].index != pv[k].index ||
			    (pv[k].enable_bit ? !(v & 1) : !v))
				continue;
			addr = v & pv[k].addr_mask;
			add_page(gpa, n, max, addr & ~0xfffULL);
			if (addr + pv[k].len - 1 > addr)	/* no wrap at the top */
				add_page(gpa, n, max, (addr + pv[k].len - 1) & ~0xfffULL);
		}
	}
}

void vcpu_state_free(struct vcpu_state *st)
{
	free(st->xsave);
	st->xsave = NULL;
	st->xsave_len = 0;
}

int vm_state_save(int vm_fd, struct vm_state *st)
{
	memset(st, 0, sizeof(*st));
	st->pic[0].chip_id = KVM_IRQCHIP_PIC_MASTER;
	st->pic[1].chip_id = KVM_IRQCHIP_PIC_SLAVE;
	st->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	IOCTL(vm_fd, KVM_GET_IRQCHIP, &st->pic[0], "KVM_GET_IRQCHIP (PIC master)");
	IOCTL(vm_fd, KVM_GET_IRQCHIP, &st->pic[1], "KVM_GET_IRQCHIP (PIC slave)");
	IOCTL(vm_fd, KVM_GET_IRQCHIP, &st->ioapic, "KVM_GET_IRQCHIP (IOAPIC)");
	IOCTL(vm_fd, KVM_GET_PIT2, &st->pit, "KVM_GET_PIT2");
	IOCTL(vm_fd, KVM_GET_CLOCK, &st->clock, "KVM_GET_CLOCK");
	return 0;
}

int vm_state_load(int vm_fd, const struct vm_state *st)
{
	struct kvm_clock_data c = st->clock;

	IOCTL(vm_fd, KVM_SET_IRQCHIP, &st->pic[0], "KVM_SET_IRQCHIP (PIC master)");
	IOCTL(vm_fd, KVM_SET_IRQCHIP, &st->pic[1], "KVM_SET_IRQCHIP (PIC slave)");
	IOCTL(vm_fd, KVM_SET_IRQCHIP, &st->ioapic, "KVM_SET_IRQCHIP (IOAPIC)");
	IOCTL(vm_fd, KVM_SET_PIT2, &st->pit, "KVM_SET_PIT2");
	/* With KVM_CLOCK_REALTIME KVM advances the clock by the real time that
	 * passed since the save; otherwise the guest's clock resumes where it
	 * stopped. Only the flags KVM_SET_CLOCK accepts are passed. */
	c.flags &= KVM_CLOCK_REALTIME;
	if (ioctl(vm_fd, KVM_SET_CLOCK, &c) < 0) {
		c.flags = 0;
		IOCTL(vm_fd, KVM_SET_CLOCK, &c, "KVM_SET_CLOCK");
	}
	return 0;
}

void vcpu_state_put(struct stream *s, uint32_t type, int id, const struct vcpu_state *st)
{
	stream_begin(s, type, 0);
	stream_put_u32(s, (uint32_t)id);
	stream_put_bytes(s, &st->regs, sizeof(st->regs));
	stream_put_bytes(s, &st->sregs, sizeof(st->sregs));
	stream_put_bytes(s, &st->xcrs, sizeof(st->xcrs));
	stream_put_bytes(s, &st->lapic, sizeof(st->lapic));
	stream_put_bytes(s, &st->events, sizeof(st->events));
	stream_put_bytes(s, &st->mp, sizeof(st->mp));
	stream_put_bytes(s, &st->dregs, sizeof(st->dregs));
	stream_put_u32(s, st->tsc_khz);
	stream_put_u32(s, st->xsave_len);
	stream_put_bytes(s, st->xsave, st->xsave_len);
	stream_put_u32(s, st->nmsrs);
	stream_put_bytes(s, st->msrs, st->nmsrs * sizeof(st->msrs[0]));
	stream_end(s);
}

int vcpu_state_get(struct stream *s, int *id, struct vcpu_state *st)
{
	uint32_t xlen;

	*id = (int)stream_get_u32(s);
	stream_get_bytes(s, &st->regs, sizeof(st->regs));
	stream_get_bytes(s, &st->sregs, sizeof(st->sregs));
	stream_get_bytes(s, &st->xcrs, sizeof(st->xcrs));
	stream_get_bytes(s, &st->lapic, sizeof(st->lapic));
	stream_get_bytes(s, &st->events, sizeof(st->events));
	stream_get_bytes(s, &st->mp, sizeof(st->mp));
	stream_get_bytes(s, &st->dregs, sizeof(st->dregs));
	st->tsc_khz = stream_get_u32(s);
	xlen = stream_get_u32(s);
	if (!s->err && (xlen < XSAVE_MIN || xlen > 1u << 20))
		return stream_fail(s, -EINVAL, "vCPU %d: XSAVE area of %u bytes", *id, xlen);
	free(st->xsave);
	st->xsave = s->err ? NULL : malloc(xlen);
	st->xsave_len = xlen;
	if (st->xsave)
		stream_get_bytes(s, st->xsave, xlen);
	st->nmsrs = stream_get_u32(s);
	if (!s->err && st->nmsrs > CPUSTATE_MAX_MSRS)
		return stream_fail(s, -EINVAL, "vCPU %d: %u MSRs (at most %d)", *id, st->nmsrs,
				   CPUSTATE_MAX_MSRS);
	stream_get_bytes(s, st->msrs, st->nmsrs * sizeof(st->msrs[0]));
	if (!s->err && stream_left(s))
		return stream_fail(s, -EINVAL, "vCPU %d: %zu unexpected bytes", *id, stream_left(s));
	return s->err;
}

void vm_state_put(struct stream *s, uint32_t type, const struct vm_state *st)
{
	stream_begin(s, type, 0);
	stream_put_bytes(s, st, sizeof(*st));
	stream_end(s);
}

int vm_state_get(struct stream *s, struct vm_state *st)
{
	stream_get_bytes(s, st, sizeof(*st));
	if (!s->err && stream_left(s))
		return stream_fail(s, -EINVAL, "VM state: %zu unexpected bytes", stream_left(s));
	return s->err;
}
