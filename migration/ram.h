/* ram: guest RAM in the state stream. Pages that are all zero are not sent
 * (a fresh VM's RAM is zero already); the others go in runs of consecutive
 * pages, one section per run: u64 gpa, u32 npages, the pages. */
#ifndef MIGRATION_RAM_H
#define MIGRATION_RAM_H

#include <stdint.h>
#include "../vmm/mem.h"

struct stream;

#define RAM_RUN_PAGES 256	/* 1 MiB per section at most */

struct ram_stats {
	uint64_t pages_sent, zero_pages;
};

/* ram_save(s, m, type, st): every non-zero page, sent from RAM in place
 * (no copy), so the VM must stay paused until it returns. Returns s->err. */
int ram_save(struct stream *s, const struct mem *m, uint32_t type, struct ram_stats *st);

/* ram_page_is_zero(p): all 4096 bytes zero. */
int ram_page_is_zero(const void *p);

/* ram_load(s, m): one section, after stream_next(); every page address is
 * checked against guest RAM. Returns 0 or the stream's error. */
int ram_load(struct stream *s, struct mem *m);

#endif
