/* vcpu: one thread per virtual CPU running the KVM_RUN loop and dispatching
 * exits to the buses. A vCPU ioctl runs only on that vCPU's own thread once it
 * has started (the KVM API asks for this); other threads reach a vCPU by
 * setting vm->stopping and kicking it with a signal whose handler sets
 * kvm_run.immediate_exit, so a kick that lands at any moment costs at most one
 * spurious exit and is never lost. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include "cpustate.h"

struct vm;

#define VCPU_EXIT_REASONS 64

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int thread_started;
	int tid;		/* atomic: the thread's id once it runs (vcpu_prio.c) */
	uint64_t exits[VCPU_EXIT_REASONS];	/* per KVM exit reason; owner: the vCPU */
	/* Captured by the vCPU itself when it parks for a capturing pause;
	 * read by the pausing thread while the vCPU stays parked. */
	struct vcpu_state state;
	int state_err;
	char state_msg[256];
};

/* vcpu_init(v, vm, id, cpuid): create the vCPU fd, map kvm_run, set CPUID,
 * boot MSRs and the local APIC's LINT0/LINT1. Main thread, before start. */
int vcpu_init(struct vcpu *v, struct vm *vm, int id, const struct kvm_cpuid2 *base_cpuid);
void vcpu_free(struct vcpu *v);

/* vcpu_start(v): start the thread. vcpu_kick(v): make KVM_RUN return. */
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);

/* vcpu_exit_name(reason): "IO", "MMIO", ... for messages and stats. */
const char *vcpu_exit_name(unsigned reason);

/* vcpu_signal_setup(): install the kick signal handler; once per process. */
int vcpu_signal_setup(void);

#endif
