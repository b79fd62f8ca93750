/* mem: guest RAM. One anonymous mapping, cut into at most two KVM memory
 * slots: RAM below the PCI hole (at most 3 GiB from 0) and the rest above 4 GiB.
 * Every guest-physical access from the VMM goes through mem_hva(), which checks
 * that the whole range lies inside one slot, so a guest-supplied address can
 * never make the VMM touch memory outside guest RAM. */
#ifndef VMM_MEM_H
#define VMM_MEM_H

#include <stddef.h>
#include <stdint.h>

#define MEM_LOW_MAX	(3ULL << 30)	/* low RAM ends here at most: the PCI hole follows */
#define MEM_HIGH_BASE	(4ULL << 30)	/* RAM above the hole starts here */
#define MEM_MIN_SIZE	(4ULL << 20)
#define MEM_PAGE_SIZE	4096ULL
#define MEM_HUGE_ALIGN	(2ULL << 20)	/* guest RAM starts on a huge-page boundary */

struct mem_slot {
	uint32_t id;
	uint64_t gpa;
	uint64_t len;		/* bytes */
	uint64_t offset;	/* into mem.hva */
};

struct mem {
	uint8_t *hva;		/* the whole of guest RAM, slot after slot */
	uint64_t size;		/* bytes */
	int nslots;
	struct mem_slot slots[2];
	/* Device writes while dirty logging is on (vmm/dirty.c): one bit per
	 * page, set atomically by mem_mark_dirty() from the I/O thread, taken
	 * by the migration thread. Allocated on first use, freed with mem. */
	int logging;
	uint64_t *dev_dirty;
};

/* mem_layout(size, slots): fill slots[2] for size bytes of RAM; returns the
 * number of slots. Pure, for tests and for e820. */
int mem_layout(uint64_t size, struct mem_slot slots[2]);

/* mem_check_size(size): is size acceptable (page multiple, at least
 * MEM_MIN_SIZE, at most the host's RAM)? Returns 0 or -errno with a message. */
int mem_check_size(uint64_t size);

/* mem_init(m, size): create and map size bytes (a multiple of 4 KiB, at least
 * MEM_MIN_SIZE, at most the host's RAM). Returns 0 or -errno with a message. */
int mem_init(struct mem *m, uint64_t size);
void mem_free(struct mem *m);

/* mem_register(m, vm_fd, flags): KVM_SET_USER_MEMORY_REGION for each slot with
 * flags (0 or KVM_MEM_LOG_DIRTY_PAGES). Returns 0 or -errno. */
int mem_register(const struct mem *m, int vm_fd, uint32_t flags);

/* mem_hva(m, gpa, len): host address of guest range [gpa, gpa+len) or NULL if
 * any byte of it is outside guest RAM or the range spans two slots. Any thread. */
void *mem_hva(const struct mem *m, uint64_t gpa, uint64_t len);

/* mem_mark_dirty(m, hva, len): the VMM wrote [hva, hva+len) of guest RAM
 * (a device's DMA or ring update); records it if dirty logging is on. Call
 * after the write. Any thread. */
void mem_mark_dirty(const struct mem *m, const void *hva, uint64_t len);

/* mem_low_end(m): first guest-physical byte above low RAM. */
uint64_t mem_low_end(const struct mem *m);

#endif
