/* dirtier: a self-checking page dirtier. Every page of RAM from 2 MiB holds
 * its page number and the number of the last pass that wrote it. Pass p first
 * checks that a page still holds pass p-1 (and its own number), then writes p.
 * A page that a migration or checkpoint lost or mangled is caught at once:
 * "FAIL page N got P want Q", exit code 1. After each pass: "PASS p". With
 * --micro-arg N it stops after N passes ("DIRTIER OK"), 0 runs forever. */
#include "lib.h"

MICRO_ENTRY

struct page_head {
	uint64_t pass;
	uint64_t pfn;
};

static void fail(uint64_t pfn, uint64_t got, uint64_t want)
{
	put_str("FAIL page ");
	put_u64(pfn);
	put_str(" got ");
	put_u64(got);
	put_str(" want ");
	put_u64(want);
	put_str("\n");
	micro_exit(1);
}

static void sweep(uint64_t start, uint64_t end, uint64_t pass)
{
	for (uint64_t a = start; a < end; a += 4096) {
		volatile struct page_head *h = (volatile struct page_head *)a;
		uint64_t pfn = a >> 12;
		uint64_t want_pfn = pass == 1 ? 0 : pfn;

		if (h->pass != pass - 1)
			fail(pfn, h->pass, pass - 1);
		if (h->pfn != want_pfn)
			fail(pfn, h->pfn, want_pfn);
		h->pfn = pfn;
		h->pass = pass;
	}
}

void micro_main(uint64_t low_end, uint64_t high_len, uint64_t arg)
{
	uint64_t pages = ((low_end - MICRO_DATA_START) + high_len) >> 12;

	put_str("DIRTIER START pages=");
	put_u64(pages);
	put_str("\n");
	for (uint64_t pass = 1; arg == 0 || pass <= arg; pass++) {
		sweep(MICRO_DATA_START, low_end, pass);
		sweep(MICRO_HIGH_BASE, MICRO_HIGH_BASE + high_len, pass);
		put_str("PASS ");
		put_u64(pass);
		put_str("\n");
	}
	put_str("DIRTIER OK\n");
	micro_exit(0);
}
