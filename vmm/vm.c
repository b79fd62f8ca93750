/* vm: create, start and stop a virtual machine (see vm.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "boot64.h"
#include "cpuid.h"
#include "err.h"
#include "layout.h"
#include "vcpu.h"
#include "vm.h"

static int create_platform(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	/* The TSS and identity-map pages matter only on Intel; they sit in the
	 * hole below 4 GiB, never in RAM. */
	if (vm->kvm->kind == KVM_KIND_INTEL || vm->kvm->kind == KVM_KIND_UNKNOWN) {
		uint64_t idmap = LAYOUT_IDENTITY_MAP;

		if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
			return err_set(-errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
		if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_TSS) < 0)
			return err_set(-errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	}
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_set(-errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_set(-errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return 0;
}

int vm_create(struct vm *vm, struct kvm *kvm, uint64_t mem_size, int ncpus)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int r, i;

	memset(vm, 0, sizeof(*vm));
	vm->kvm = kvm;
	vm->fd = -1;
	vm->stop_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio, "port I/O");
	bus_init(&vm->mmio, "MMIO");
	if (ncpus < 1 || ncpus > kvm->max_vcpus || ncpus > 254)
		return err_set(-EINVAL, "%d vCPUs requested; this host allows 1 to %d", ncpus,
			       kvm->max_vcpus < 254 ? kvm->max_vcpus : 254);
	vm->ncpus = ncpus;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	vm->fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		r = err_set(-errno, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	r = create_platform(vm);
	if (r < 0)
		goto fail;
	r = irq_init(&vm->irq, vm->fd);
	if (r < 0)
		goto fail;
	r = mem_init(&vm->mem, mem_size);
	if (r < 0)
		goto fail;
	r = mem_register(&vm->mem, vm->fd, 0);
	if (r < 0)
		goto fail;
	r = cpustate_msr_list(kvm, vm->msrs, CPUSTATE_MAX_MSRS);
	if (r < 0)
		goto fail;
	vm->nmsrs = r;
	r = cpuid_supported(kvm->fd, &cpuid);
	if (r < 0)
		goto fail;
	vm->vcpus = calloc(ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = err_set(-ENOMEM, "out of memory for vCPUs");
		goto fail;
	}
	for (i = 0; i < ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (i = 0; i < ncpus; i++) {
		r = vcpu_init(&vm->vcpus[i], vm, i, cpuid);
		if (r < 0)
			goto fail;
	}
	free(cpuid);
	return 0;
fail:
	free(cpuid);
	vm_destroy(vm);
	return r;
}

int vm_start(struct vm *vm)
{
	int r;

	bus_freeze(&vm->pio);
	bus_freeze(&vm->mmio);
	r = vcpu_signal_setup();
	if (r < 0)
		return r;
	for (int i = 0; i < vm->ncpus; i++) {
		r = vcpu_start(&vm->vcpus[i]);
		if (r < 0) {
			vm_request_stop(vm, VM_STOP_ERROR, 1, "%s", err_msg());
			vm_join(vm);
			return r;
		}
	}
	vm->started = 1;
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_RUNNING) {
		vm->stop_reason = reason;
		vm->stop_code = code;
		va_start(ap, fmt);
		vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
		va_end(ap);
		__atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
		if (vm->stop_fd >= 0)
			eventfd_write(vm->stop_fd, 1);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	/* Wake parked vCPUs so they can leave, and any pauser waiting on them. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	for (int i = 0; i < vm->ncpus && vm->vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_join(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus && vm->vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->thread_started) {
			pthread_join(v->thread, NULL);
			v->thread_started = 0;
		}
	}
}

void vm_destroy(struct vm *vm)
{
	if (vm->started) {
		vm_request_stop(vm, VM_STOP_SIGNAL, 0, "VM destroyed");
		vm_join(vm);
		vm->started = 0;
	}
	for (int i = 0; i < vm->ncpus && vm->vcpus; i++) {
		if (vm->vcpus[i].fd >= 0)
			vcpu_free(&vm->vcpus[i]);
		vcpu_state_free(&vm->vcpus[i].state);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	mem_free(&vm->mem);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	vm->fd = vm->stop_fd = -1;
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

int vm_exit_status(const struct vm *vm)
{
	switch (vm->stop_reason) {
	case VM_STOP_POWEROFF:
	case VM_STOP_RESET:
	case VM_STOP_QUIT:
		return 0;
	case VM_STOP_GUEST_EXIT:
		return vm->stop_code;
	case VM_STOP_SIGNAL:
		return vm->stop_code ? vm->stop_code : 1;
	default:
		return 1;
	}
}

int vm_set_boot_cpu(struct vm *vm, const struct boot64_regs *regs)
{
	return boot64_set_vcpu(vm->vcpus[0].fd, regs);
}

int vm_pause(struct vm *vm, int capture)
{
	int r = 0;

	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_capture = capture;
	__atomic_store_n(&vm->pause_req, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->npaused < vm->ncpus && !__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	if (vm->npaused < vm->ncpus)
		r = err_set(-ESHUTDOWN, "the VM stopped while being paused");
	for (int i = 0; r == 0 && capture && i < vm->ncpus; i++)
		if (vm->vcpus[i].state_err)
			r = err_set(vm->vcpus[i].state_err, "vCPU %d: %s", i, vm->vcpus[i].state_msg);
	pthread_mutex_unlock(&vm->pause_lock);
	return r;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->pause_req, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_set_throttle(struct vm *vm, int pct)
{
	if (pct < 0)
		pct = 0;
	if (pct > 99)
		pct = 99;
	__atomic_store_n(&vm->throttle_pct, pct, __ATOMIC_RELEASE);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

int vm_kvm_pages(const struct vm *vm, uint64_t *gpa, int max)
{
	int n = 0;

	for (int i = 0; i < vm->ncpus; i++)
		vcpu_state_kvm_pages(&vm->vcpus[i].state, gpa, &n, max);
	return n;
}

int vm_paused(struct vm *vm)
{
	return __atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE);
}
