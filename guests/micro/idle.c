/* idle: an idle guest for migration benchmarks. It fills the first N MiB of
 * its RAM above 2 MiB with its page numbers (--micro-arg N; 0 = none), says
 * "IDLE READY", and halts with interrupts off: its memory never changes
 * again, so pre-copy's rounds after the first find nothing dirty and the
 * downtime left is the engine's own fixed cost. */
#include "lib.h"

MICRO_ENTRY

void micro_main(uint64_t low_end, uint64_t high_len, uint64_t arg)
{
	uint64_t end = MICRO_DATA_START + (arg << 20);

	(void)high_len;
	if (end > low_end)
		end = low_end;
	for (uint64_t a = MICRO_DATA_START; a < end; a += 4096)
		*(volatile uint64_t *)a = a >> 12;
	put_str("IDLE READY\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
