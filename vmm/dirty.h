/* dirty: which guest pages changed since the last look, for pre-copy. Two
 * writers dirty guest RAM: the vCPUs, whose writes KVM logs per memory slot
 * (KVM_MEM_LOG_DIRTY_PAGES), and the VMM's device emulation (used rings, DMA
 * buffers), which KVM cannot see and which marks pages itself through
 * mem_mark_dirty(). dirty_sync() merges both into one bitmap indexed by page
 * number within guest RAM (mem.hva order).
 *
 * Where KVM offers manual protection (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) it
 * is used with the log initially set: turning logging on does not
 * write-protect all of RAM at once, and each sync re-protects only the pages
 * it reports (KVM_CLEAR_DIRTY_LOG), just before they are sent.
 *
 * Owner: the migration thread. Device threads only call mem_mark_dirty(). */
#ifndef VMM_DIRTY_H
#define VMM_DIRTY_H

#include <stdint.h>
#include "mem.h"

struct dirty_log {
	struct mem *m;
	int vm_fd;
	int manual;		/* manual protection enabled */
	int on;
	uint64_t *scratch;	/* one slot's bitmap from KVM */
};

/* dirty_start(d, m, vm_fd): turn logging on for every slot and for device
 * writes. Returns 0 or -errno with a message (logging stays off). */
int dirty_start(struct dirty_log *d, struct mem *m, int vm_fd);

/* dirty_sync(d, bitmap, count): OR every page dirtied since the last sync
 * into bitmap (mem->size / 4096 bits) and re-arm tracking for them; *count
 * gets how many pages were reported. Returns 0 or -errno with a message. */
int dirty_sync(struct dirty_log *d, uint64_t *bitmap, uint64_t *count);

/* dirty_stop(d): logging off, KVM slots back to plain. Safe to repeat. */
void dirty_stop(struct dirty_log *d);

/* Bitmap helpers over page numbers. */
static inline void bitmap_set(uint64_t *b, uint64_t i)
{
	b[i / 64] |= 1ULL << (i % 64);
}
static inline int bitmap_test(const uint64_t *b, uint64_t i)
{
	return (int)((b[i / 64] >> (i % 64)) & 1);
}

#endif
