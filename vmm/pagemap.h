/* pagemap: which pages of guest RAM the host never backed, read from
 * /proc/self/pagemap. A page of private anonymous memory that is neither
 * present nor swapped out was never written (or was discarded): it reads
 * as zeros. The migration writer and loader use this to find the zero
 * pages of a large, mostly idle guest without touching them, because
 * reading an untouched page costs a page fault (measured on this machine:
 * scanning 1 GiB of untouched RAM took about 1.9 s of system time; its
 * pagemap is 2 MiB read in a few hundred calls).
 *
 * Each user owns its own struct pagemap (a window of entries read with
 * pread), so any thread may use one of its own. The window is a snapshot:
 * a page written after it was read still looks untouched. The owner's own
 * writes are noted with pagemap_wrote(); anyone else's (a running guest's)
 * must be caught another way, as the dirty log catches them in pre-copy. */
#ifndef VMM_PAGEMAP_H
#define VMM_PAGEMAP_H

#include <stdint.h>

#define PAGEMAP_WINDOW	512	/* entries read at once: 2 MiB of RAM */

struct pagemap {
	int fd;			/* -1: unavailable, every page is read */
	uint64_t first, n;	/* host page numbers cached in ent[] */
	uint64_t ent[PAGEMAP_WINDOW];
};

/* pagemap_open(pm): never fails; without /proc, pm just answers 0. */
void pagemap_open(struct pagemap *pm);
void pagemap_close(struct pagemap *pm);

/* pagemap_untouched(pm, p): 1 if the 4 KiB page at p (private anonymous
 * memory that no userfaultfd watches) is certainly all zeros because the
 * host never backed it; 0 if it has to be read to know. */
int pagemap_untouched(struct pagemap *pm, const void *p);

/* pagemap_wrote(pm, p): the owner just wrote the page at p. */
void pagemap_wrote(struct pagemap *pm, const void *p);

#endif
