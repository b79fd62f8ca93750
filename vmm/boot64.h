/* boot64: put a vCPU straight into 64-bit long mode: identity page tables for
 * the first 8 GiB, a flat GDT whose code selector is 0x10 and data 0x18 (what
 * the Linux 64-bit boot protocol and PVM both expect), and the registers.
 * Used for the Linux bzImage 64-bit entry and for micro guests alike. */
#ifndef VMM_BOOT64_H
#define VMM_BOOT64_H

#include <stdint.h>
#include "mem.h"

struct boot64_regs {
	uint64_t rip, rsp, rdi, rsi, rdx;
};

/* boot64_write_tables(m): write the GDT and page tables at their LAYOUT_
 * addresses. Returns 0 or -errno if RAM is too small. Main thread. */
int boot64_write_tables(struct mem *m);

/* boot64_set_vcpu(vcpu_fd, r): special registers for long mode, the FPU, and
 * the general registers from r. Returns 0 or -errno. The vCPU's own thread or
 * before the vCPU runs. */
int boot64_set_vcpu(int vcpu_fd, const struct boot64_regs *r);

/* boot64_gdt_entry(base, limit, flags): one GDT descriptor; for tests. */
uint64_t boot64_gdt_entry(uint32_t base, uint32_t limit, uint16_t flags);

#endif
