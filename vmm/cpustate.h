/* cpustate: the complete architectural state of one vCPU and of the VM's
 * in-kernel devices, as data: captured from KVM, written to and read from a
 * state stream, and loaded back into a fresh VM. A vCPU's state is captured
 * and loaded only by its own thread, or before its thread starts. */
#ifndef VMM_CPUSTATE_H
#define VMM_CPUSTATE_H

#include <linux/kvm.h>
#include <stdint.h>

struct stream;
struct kvm;

#define CPUSTATE_MAX_MSRS 256

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs dregs;
	uint32_t tsc_khz;		/* the guest's TSC frequency (KVM_GET_TSC_KHZ) */
	uint32_t xsave_len;		/* bytes in xsave */
	uint8_t *xsave;			/* malloc'ed, KVM_GET_XSAVE(2) layout */
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[CPUSTATE_MAX_MSRS];
};

struct vm_state {
	struct kvm_irqchip pic[2];	/* master, slave */
	struct kvm_irqchip ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* cpustate_msr_list(k, list, n): the MSRs KVM says to save (at most
 * CPUSTATE_MAX_MSRS). Returns the count or -errno. */
int cpustate_msr_list(struct kvm *k, uint32_t *list, int max);

/* vcpu_state_save(k, fd, msrs, nmsrs, st): capture; vcpu_state_load(fd, st):
 * restore, in the order KVM needs. Return 0 or -errno with a message. */
int vcpu_state_save(struct kvm *k, int fd, const uint32_t *msrs, int nmsrs, struct vcpu_state *st);
int vcpu_state_load(int fd, const struct vcpu_state *st);
void vcpu_state_free(struct vcpu_state *st);

/* vcpu_state_kvm_pages(st, gpa, n, max): the guest pages that KVM itself
 * reads or writes for this vCPU, named by its paravirtual MSRs (wall clock,
 * kvmclock, steal time, PV EOI, async page faults), when set. Adds each page's
 * address to gpa[0..*n) unless already there, up to max (two pages for a
 * structure that crosses a page boundary). KVM writes the
 * wall clock and maps the kvmclock page as soon as their MSRs are loaded:
 * a post-copy destination needs these pages before anything else. Pure. */
void vcpu_state_kvm_pages(const struct vcpu_state *st, uint64_t *gpa, int *n, int max);

/* vm_state_save(vm_fd, st) / vm_state_load(vm_fd, st): PIC, IOAPIC, PIT and
 * kvmclock (with real time, where KVM gives it, so the guest's wall clock
 * moves on by the time the VM spent saved). */
int vm_state_save(int vm_fd, struct vm_state *st);
int vm_state_load(int vm_fd, const struct vm_state *st);

/* Stream encoding, one section each (types in migration/proto.h). */
void vcpu_state_put(struct stream *s, uint32_t type, int id, const struct vcpu_state *st);
int vcpu_state_get(struct stream *s, int *id, struct vcpu_state *st);
void vm_state_put(struct stream *s, uint32_t type, const struct vm_state *st);
int vm_state_get(struct stream *s, struct vm_state *st);

#endif
