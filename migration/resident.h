/* resident: the source's resident set, sent ahead so that the destination
 * backs the same pages before the transfer starts. A receiver that writes
 * pages into memory the host never backed pays a page fault per page (on
 * this project's machine about 3 us, more than the bytes cost on the wire),
 * and in a stop-and-copy that fault is paid inside the downtime. With the
 * map the destination makes those pages resident in bulk while it builds
 * the VM, before it answers SYNC, so outside the downtime; and only those
 * pages, so its memory use matches the source's (an idle guest's untouched
 * RAM stays unbacked on both sides).
 *
 * Only for pre-copy and stop-and-copy: post-copy needs the destination's
 * pages missing, so that a touch faults and fetches. The receiver refuses a
 * POSTCOPY section after a RESIDENT one that backed pages, and a RESIDENT
 * section after POSTCOPY (snapshot.c).
 *
 * Wire: SEC_RESIDENT sections (optional: an older receiver skips them),
 * each u64 first word, u32 n, n x u64 bitmap words; bit i of word w is the
 * page of index 64 * w + i (page_index_hva order). */
#ifndef MIGRATION_RESIDENT_H
#define MIGRATION_RESIDENT_H

#include <stdint.h>
#include "../vmm/mem.h"

struct stream;

#define RESIDENT_WORDS	8192	/* bitmap words per section: 2 GiB of RAM */

/* resident_send(s, m): the map of m's backed pages, from /proc/self/pagemap.
 * Sends nothing where pagemap cannot be read. Returns s->err. */
int resident_send(struct stream *s, const struct mem *m);

/* resident_load(s, m, populated): one section, after stream_next(): checks
 * it against m and backs its pages (MADV_POPULATE_WRITE), adding how many to
 * *populated. A kernel that cannot populate is not an error: the pages are
 * then backed as they arrive. Returns 0 or the stream's error. */
int resident_load(struct stream *s, struct mem *m, uint64_t *populated);

#endif
