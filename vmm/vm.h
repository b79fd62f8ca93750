/* vm: one virtual machine: the KVM VM fd, guest RAM, the two buses, the vCPUs
 * and the way the VM stops. The main thread configures it (create, load,
 * devices), then vm_start() freezes the buses and starts one thread per vCPU;
 * the main thread runs the I/O loop until some thread calls vm_request_stop().
 *
 * Ownership: the main thread owns everything in struct vm until vm_start();
 * afterwards the buses are read-only, each vCPU thread owns its struct vcpu,
 * and the stop state is the only field written by several threads (under
 * stop_lock). */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdint.h>
#include "bus.h"
#include "irq.h"
#include "kvm.h"
#include "cpustate.h"
#include "mem.h"

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,	/* guest powered off: exit 0 */
	VM_STOP_RESET,		/* guest rebooted: exit 0 */
	VM_STOP_GUEST_EXIT,	/* micro guest wrote its exit code */
	VM_STOP_SIGNAL,		/* the VMM was told to quit */
	VM_STOP_QUIT,		/* the control API said quit: exit 0 */
	VM_STOP_ERROR,		/* something failed: stop_msg says what */
};

struct vcpu;

struct vm {
	struct kvm *kvm;
	int fd;			/* VM fd */
	struct mem mem;
	struct bus pio, mmio;
	struct irq_routes irq;	/* MSI routes; own lock */
	int ncpus;
	struct vcpu *vcpus;
	int started;

	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop_reason;	/* first request wins */
	int stop_code;
	char stop_msg[512];
	int stop_fd;		/* eventfd: readable once a stop was requested */
	int stopping;		/* atomic flag the vCPU loops read */

	/* Pause ("stun"): the requester sets pause_req and kicks; each vCPU
	 * completes its pending I/O, captures its state if asked, and parks;
	 * npaused counts parked vCPUs. All under pause_lock; pause_req is also
	 * read without the lock by running vCPUs. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	int pause_req;
	int pause_capture;
	int npaused;
	/* Auto-converge: percent of time each vCPU sleeps (0 = none). Set by
	 * the migration thread through vm_set_throttle(); read by vCPUs. */
	int throttle_pct;
	/* The vCPUs' lowered priority (vcpu_prio.c): prio_on and prio_nice are
	 * atomics; prio_base is written before prio_on is set. */
	int prio_on, prio_nice, prio_base;
	uint32_t msrs[CPUSTATE_MAX_MSRS];	/* the MSRs to save, from KVM */
	int nmsrs;
};

/* vm_create(vm, kvm, mem_size, ncpus): VM fd, in-kernel irqchip and PIT, guest
 * RAM, vCPU fds with CPUID and boot MSRs. Returns 0 or -errno with a message;
 * on failure everything is released. Main thread. */
int vm_create(struct vm *vm, struct kvm *kvm, uint64_t mem_size, int ncpus);

/* vm_destroy(vm): stop and join the vCPUs if running, free everything. */
void vm_destroy(struct vm *vm);

/* vm_start(vm): freeze the buses and start the vCPU threads. */
int vm_start(struct vm *vm);

/* vm_request_stop(vm, reason, code, fmt, ...): ask the VM to stop; the first
 * request's reason, code and message are kept. Kicks every vCPU. Any thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* vm_join(vm): wait for every vCPU thread to leave. Main thread, after a stop. */
void vm_join(struct vm *vm);

/* vm_pause(vm, capture): stun every vCPU; with capture, each vCPU saves its
 * complete state into vcpus[i].state first. Returns 0 once all are parked,
 * or -errno (a capture failed, or the VM is stopping). Not from a vCPU
 * thread. vm_resume(vm): let them run again. */
int vm_pause(struct vm *vm, int capture);
void vm_resume(struct vm *vm);
int vm_paused(struct vm *vm);

/* vm_kvm_pages(vm, gpa, max): after vm_pause(vm, 1), while the vCPUs stay
 * parked: the guest pages KVM touches on its own for them (cpustate.h,
 * vcpu_state_kvm_pages), at most max, each once. Returns the count. */
int vm_kvm_pages(const struct vm *vm, uint64_t *gpa, int max);

/* vm_set_throttle(vm, pct): make every vCPU sleep pct percent of the time
 * (0 to 99; 0 turns throttling off), to slow a guest that dirties memory
 * faster than pre-copy can send it. Any thread. */
void vm_set_throttle(struct vm *vm, int pct);

/* vm_irq_line(vm, gsi, level): drive an interrupt line. Any thread. */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);

struct boot64_regs;

/* vm_set_boot_cpu(vm, regs): put the boot vCPU in long mode at regs. Main
 * thread, before vm_start(). */
int vm_set_boot_cpu(struct vm *vm, const struct boot64_regs *regs);

/* vm_exit_status(vm): the process exit code that the stop reason calls for. */
int vm_exit_status(const struct vm *vm);

#endif
