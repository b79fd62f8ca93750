/* msr: the model-specific registers a vCPU starts with (MTRRs enabling
 * write-back memory, fast strings, syscall MSRs with kernel CS 0x10 as PVM
 * requires). The saveable-MSR list for checkpoints grows here too. */
#ifndef VMM_MSR_H
#define VMM_MSR_H

/* msr_set_boot(vcpu_fd): write the boot MSRs. Returns 0 or -errno. */
int msr_set_boot(int vcpu_fd);

#endif
