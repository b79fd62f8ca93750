/* vcpu_prio: lowering and restoring the vCPUs' priority (vcpu_prio.h). */
#include <errno.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vcpu.h"
#include "vcpu_prio.h"
#include "vm.h"

/* May this process set a thread's nice value back down to base? */
static int can_restore(int base)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cap[2];
	struct rlimit rl;

	/* RLIMIT_NICE r lets a thread go down to nice 20 - r. */
	if (getrlimit(RLIMIT_NICE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || 20 - (long)rl.rlim_cur <= base))
		return 1;
	if (syscall(SYS_capget, &hdr, cap) < 0)
		return 0;
	return !!(cap[CAP_SYS_NICE / 32].effective & (1u << (CAP_SYS_NICE % 32)));
}

static void apply(int tid, int nice)
{
	/* Best effort: a thread that already ended has nothing to slow. */
	if (tid > 0)
		setpriority(PRIO_PROCESS, (id_t)tid, nice);
}

/* Both sides store then load with full ordering: a vCPU starting while a
 * request is made sees the request, or the requester sees its id. */
static void apply_all(struct vm *vm, int nice)
{
	for (int i = 0; i < vm->ncpus; i++)
		apply(__atomic_load_n(&vm->vcpus[i].tid, __ATOMIC_SEQ_CST), nice);
}

int vcpu_prio_lower(struct vm *vm, int by)
{
	int base;

	if (by <= 0 || __atomic_load_n(&vm->prio_on, __ATOMIC_SEQ_CST))
		return 0;
	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);	/* the calling thread's */
	if ((base == -1 && errno) || !can_restore(base))
		return 0;
	vm->prio_base = base;
	__atomic_store_n(&vm->prio_nice, base + by > 19 ? 19 : base + by, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vm->prio_on, 1, __ATOMIC_SEQ_CST);
	apply_all(vm, __atomic_load_n(&vm->prio_nice, __ATOMIC_SEQ_CST));
	return 1;
}

void vcpu_prio_restore(struct vm *vm)
{
	if (!__atomic_exchange_n(&vm->prio_on, 0, __ATOMIC_SEQ_CST))
		return;
	apply_all(vm, vm->prio_base);
}

void vcpu_prio_started(struct vcpu *v)
{
	__atomic_store_n(&v->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&v->vm->prio_on, __ATOMIC_SEQ_CST))
		return;
	apply(v->tid, __atomic_load_n(&v->vm->prio_nice, __ATOMIC_SEQ_CST));
	/* A restore between the check and the apply would be undone by it. */
	if (!__atomic_load_n(&v->vm->prio_on, __ATOMIC_SEQ_CST))
		apply(v->tid, v->vm->prio_base);
}

void vcpu_prio_ended(struct vcpu *v)
{
	__atomic_store_n(&v->tid, 0, __ATOMIC_SEQ_CST);
}
