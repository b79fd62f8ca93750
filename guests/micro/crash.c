/* crash: executes an undefined instruction with no IDT, so the CPU triple
 * faults; the VMM must report the exit with its reason and rip, not hang. */
#include "lib.h"

MICRO_ENTRY

void micro_main(uint64_t low_end, uint64_t high_len, uint64_t arg)
{
	(void)low_end;
	(void)high_len;
	(void)arg;
	put_str("about to crash\n");
	__asm__ volatile("ud2");
	micro_exit(0);
}
