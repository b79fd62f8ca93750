/* micro: load a flat micro-guest binary (guests/micro/micro.h gives the ABI). */
#ifndef VMM_MICRO_H
#define VMM_MICRO_H

#include <stddef.h>
#include <stdint.h>
#include "boot64.h"
#include "mem.h"

/* micro_load(m, bin, len, arg, regs): copy bin to LAYOUT_MICRO_ENTRY and fill
 * the entry registers. Returns 0 or -errno with a message. */
int micro_load(struct mem *m, const uint8_t *bin, size_t len, uint64_t arg,
	       struct boot64_regs *regs);

#endif
