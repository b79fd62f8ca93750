/* micro: flat binary loading (see micro.h). */
#include <errno.h>
#include <string.h>
#include "err.h"
#include "layout.h"
#include "micro.h"

int micro_load(struct mem *m, const uint8_t *bin, size_t len, uint64_t arg,
	       struct boot64_regs *regs)
{
	uint8_t *dst;

	if (len == 0 || len > LAYOUT_MICRO_MAX)
		return err_set(-EINVAL, "micro guest is %zu bytes; expected 1 to %llu", len,
			       LAYOUT_MICRO_MAX);
	if (mem_low_end(m) < LAYOUT_MICRO_DATA + MEM_PAGE_SIZE)
		return err_set(-ENOMEM, "micro guests need at least %llu KiB of memory",
			       (LAYOUT_MICRO_DATA >> 10) + 4);
	dst = mem_hva(m, LAYOUT_MICRO_ENTRY, len);
	if (!dst)
		return err_set(-ENOMEM, "guest memory too small for the micro guest");
	memcpy(dst, bin, len);
	memset(regs, 0, sizeof(*regs));
	regs->rip = LAYOUT_MICRO_ENTRY;
	regs->rsp = LAYOUT_MICRO_STACK;
	regs->rdi = mem_low_end(m);
	regs->rsi = m->nslots > 1 ? m->slots[1].len : 0;
	regs->rdx = arg;
	return 0;
}
