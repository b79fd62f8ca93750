/* vcpu: the KVM_RUN loop (see vcpu.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "cpuid.h"
#include "err.h"
#include "msr.h"
#include "vcpu.h"
#include "vcpu_prio.h"
#include "vm.h"

#define SIG_KICK SIGUSR1
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static _Thread_local struct kvm_run *kick_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (kick_run)
		kick_run->immediate_exit = 1;
}

int vcpu_signal_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;	/* no SA_RESTART: KVM_RUN must return */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return err_set(-errno, "sigaction: %s", strerror(errno));
	return 0;
}

const char *vcpu_exit_name(unsigned reason)
{
	static const char *names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT", [KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN", [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY", [KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR", [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI", [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}

static int setup_lapic(int fd)
{
	struct kvm_lapic_state lapic;
	uint32_t v;

	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return err_set(-errno, "KVM_GET_LAPIC: %s", strerror(errno));
	memcpy(&v, lapic.regs + APIC_LVT0, 4);
	v = (v & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(lapic.regs + APIC_LVT0, &v, 4);
	memcpy(&v, lapic.regs + APIC_LVT1, 4);
	v = (v & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(lapic.regs + APIC_LVT1, &v, 4);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return err_set(-errno, "KVM_SET_LAPIC: %s", strerror(errno));
	return 0;
}

int vcpu_init(struct vcpu *v, struct vm *vm, int id, const struct kvm_cpuid2 *base)
{
	struct kvm_cpuid2 *c;
	int r;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return err_set(-errno, "KVM_CREATE_VCPU %d: %s", id, strerror(errno));
	v->run = mmap(NULL, vm->kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		r = err_set(-errno, "mmap kvm_run of vCPU %d: %s", id, strerror(errno));
		goto close_fd;
	}
	c = cpuid_for_vcpu(base, id, vm->ncpus);
	if (!c) {
		r = err_set(-ENOMEM, "out of memory for CPUID");
		goto unmap;
	}
	r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0) {
		r = err_set(-errno, "KVM_SET_CPUID2 on vCPU %d: %s", id, strerror(errno));
		goto unmap;
	}
	r = msr_set_boot(v->fd);
	if (r == 0)
		r = setup_lapic(v->fd);
	if (r < 0) {
		err_prefix("vCPU %d: ", id);
		goto unmap;
	}
	return 0;
unmap:
	munmap(v->run, vm->kvm->run_size);
	v->run = NULL;
close_fd:
	close(v->fd);
	v->fd = -1;
	return r;
}

void vcpu_free(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->kvm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return ~0ULL;
	return regs.rip;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;

	for (uint32_t i = 0; i < run->io.count; i++) {
		bus_access(&v->vm->pio, run->io.port, p, run->io.size,
			   run->io.direction == KVM_EXIT_IO_OUT);
		p += run->io.size;
	}
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, VM_STOP_POWEROFF, 0, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(v->vm, VM_STOP_RESET, 0, "guest rebooted");
		break;
	default:
		vm_request_stop(v->vm, VM_STOP_ERROR, 1, "vCPU %d: system event %u (crash) at rip 0x%llx",
				v->id, v->run->system_event.type,
				(unsigned long long)vcpu_rip(v));
	}
}

/* One exit; returns 0 to keep running, 1 to leave the loop. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->exit_reason < VCPU_EXIT_REASONS)
		v->exits[run->exit_reason]++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return 0;
	case KVM_EXIT_MMIO:
		bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			   run->mmio.is_write);
		return 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(v);
		return 1;
	case KVM_EXIT_SHUTDOWN:
		vm_request_stop(v->vm, VM_STOP_ERROR, 1,
				"vCPU %d: guest triple-faulted (KVM_EXIT_SHUTDOWN) at rip 0x%llx",
				v->id, (unsigned long long)vcpu_rip(v));
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_stop(v->vm, VM_STOP_ERROR, 1,
				"vCPU %d: KVM internal error, suberror %u, at rip 0x%llx%s", v->id,
				run->internal.suberror, (unsigned long long)vcpu_rip(v),
				v->vm->kvm->kind == KVM_KIND_PVM ?
				" (PVM runs only PVM-aware guest code)" : "");
		return 1;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_stop(v->vm, VM_STOP_ERROR, 1,
				"vCPU %d: VM entry failed, hardware reason 0x%llx, at rip 0x%llx",
				v->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
				(unsigned long long)vcpu_rip(v));
		return 1;
	default:
		vm_request_stop(v->vm, VM_STOP_ERROR, 1,
				"vCPU %d: unhandled exit reason %u (%s) at rip 0x%llx", v->id,
				run->exit_reason, vcpu_exit_name(run->exit_reason),
				(unsigned long long)vcpu_rip(v));
		return 1;
	}
}

/* Park for a pause: finish the pending exit, capture if asked, wait. */
static void park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	/* An I/O or MMIO exit completes only on the next KVM_RUN: enter once
	 * with immediate_exit set so the state we save is consistent. */
	v->run->immediate_exit = 1;
	ioctl(v->fd, KVM_RUN, 0);
	v->run->immediate_exit = 0;
	pthread_mutex_lock(&vm->pause_lock);
	v->state_err = 0;
	if (vm->pause_capture) {
		v->state_err = vcpu_state_save(vm->kvm, v->fd, vm->msrs, vm->nmsrs, &v->state);
		if (v->state_err)
			snprintf(v->state_msg, sizeof(v->state_msg), "%s", err_msg());
	}
	vm->npaused++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause_req && !__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->npaused--;
	pthread_mutex_unlock(&vm->pause_lock);
}

/* Throttling: while vm->throttle_pct is set, a per-thread timer kicks this
 * vCPU out of KVM_RUN every THROTTLE_SLICE_MS of its run time and it then
 * sleeps so that it runs only (100 - pct)% of the time. */
#define THROTTLE_SLICE_MS 10

struct throttle {
	timer_t timer;
	int armed;
	double last;		/* when the vCPU last slept, ms */
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void throttle_step(struct vcpu *v, struct throttle *t)
{
	int pct = __atomic_load_n(&v->vm->throttle_pct, __ATOMIC_ACQUIRE);

	if (pct <= 0) {
		if (t->armed) {
			timer_delete(t->timer);
			t->armed = 0;
		}
		return;
	}
	if (!t->armed) {
		struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIG_KICK };
		struct itimerspec its = {
			.it_interval = { 0, THROTTLE_SLICE_MS * 1000000L },
			.it_value = { 0, THROTTLE_SLICE_MS * 1000000L },
		};

		sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) < 0)
			return;
		timer_settime(t->timer, 0, &its, NULL);
		t->armed = 1;
		t->last = mono_ms();
		return;
	}
	if (mono_ms() - t->last >= THROTTLE_SLICE_MS) {
		long ns = (long)(THROTTLE_SLICE_MS * 1e6 * pct / (100.0 - pct));
		struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

		nanosleep(&ts, NULL);
		t->last = mono_ms();
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct throttle thr = { 0 };
	sigset_t set;

	/* Only the kick signal reaches vCPU threads; the main thread takes the rest. */
	sigfillset(&set);
	sigdelset(&set, SIG_KICK);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	kick_run = v->run;
	vcpu_prio_started(v);
	for (;;) {
		/* Clear before checking: a kick after this line is seen either by
		 * the check or by KVM_RUN returning at once. */
		v->run->immediate_exit = 0;
		if (__atomic_load_n(&v->vm->stopping, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_load_n(&v->vm->pause_req, __ATOMIC_ACQUIRE)) {
			park(v);
			continue;
		}
		if (thr.armed || __atomic_load_n(&v->vm->throttle_pct, __ATOMIC_RELAXED))
			throttle_step(v, &thr);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_request_stop(v->vm, VM_STOP_ERROR, 1, "vCPU %d: KVM_RUN: %s", v->id,
					strerror(errno));
			break;
		}
		if (handle_exit(v))
			break;
	}
	if (thr.armed)
		timer_delete(thr.timer);
	kick_run = NULL;
	vcpu_prio_ended(v);
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (r)
		return err_set(-r, "cannot start vCPU %d thread: %s", v->id, strerror(r));
	{
		char name[16];	/* what top -H and /proc/PID/task/N/comm show */

		snprintf(name, sizeof(name), "vcpu%d", v->id);
		pthread_setname_np(v->thread, name);
	}
	v->thread_started = 1;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->thread_started)
		pthread_kill(v->thread, SIG_KICK);
}
