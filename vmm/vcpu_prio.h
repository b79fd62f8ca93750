/* vcpu_prio: the vCPU threads' CPU priority, lowered for a while when
 * something the VM itself is waiting for runs on the same host. Post-copy
 * is the case: until its last page has arrived the VM depends on two hosts,
 * and the threads that bring its pages in (and the source's sender, when
 * both ends share a machine) compete for CPU with the guest's own vCPUs. A
 * guest running flat out on a host with no idle CPU thereby slows its own
 * arrival. A higher nice value for the vCPUs during that window changes
 * nothing where CPUs are idle (nice only divides contended time) and
 * shortens the window where they are not.
 *
 * An unprivileged thread cannot take its nice value back down, so the
 * priority is only lowered where it can be restored (CAP_SYS_NICE, or an
 * RLIMIT_NICE that allows it); elsewhere nothing changes.
 *
 * Ownership: the requested value lives in struct vm (atomics); each vCPU
 * thread publishes its thread id when it starts and applies a request made
 * before that itself, so a request made right after vm_start() is not lost.
 * Any thread may call these. */
#ifndef VMM_VCPU_PRIO_H
#define VMM_VCPU_PRIO_H

struct vm;
struct vcpu;

/* vcpu_prio_lower(vm, by): every vCPU thread of vm, now and later started,
 * runs at the caller's nice value + by. Returns 1 if done, 0 if not (by is
 * 0, or it could not be undone here): nothing changed. It cannot fail in
 * any other way; a priority is never worth stopping a VM for. */
int vcpu_prio_lower(struct vm *vm, int by);

/* vcpu_prio_restore(vm): back to the nice value they had; no-op if
 * vcpu_prio_lower() did nothing. */
void vcpu_prio_restore(struct vm *vm);

/* vcpu_prio_started(v), vcpu_prio_ended(v): called by the vCPU thread
 * itself when it starts and before it returns (so that no restore aims at
 * a thread id the system may have given to someone else). */
void vcpu_prio_started(struct vcpu *v);
void vcpu_prio_ended(struct vcpu *v);

#endif
