/* resident: the source's resident set for the destination (resident.h). */
#include <errno.h>
#include <sys/mman.h>
#include "../vmm/pagemap.h"
#include "proto.h"
#include "resident.h"
#include "stream.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

int resident_send(struct stream *s, const struct mem *m)
{
	uint64_t npages = m->size / MEM_PAGE_SIZE, nwords = (npages + 63) / 64;
	struct pagemap pm;

	pagemap_open(&pm);
	if (pm.fd < 0)
		return s->err;	/* no map: the destination backs pages as they come */
	for (uint64_t w0 = 0; w0 < nwords && !s->err; w0 += RESIDENT_WORDS) {
		uint32_t n = nwords - w0 < RESIDENT_WORDS ? (uint32_t)(nwords - w0) : RESIDENT_WORDS;

		stream_begin(s, SEC_RESIDENT, SECTION_OPTIONAL);
		stream_put_u64(s, w0);
		stream_put_u32(s, n);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t word = 0;

			for (unsigned b = 0; b < 64; b++) {
				uint64_t idx = (w0 + i) * 64 + b;

				if (idx < npages &&
				    !pagemap_untouched(&pm, m->hva + idx * MEM_PAGE_SIZE))
					word |= 1ULL << b;
			}
			stream_put_u64(s, word);
		}
		stream_end(s);
	}
	pagemap_close(&pm);
	return s->err;
}

/* Back pages [first, first + n) of m; 0, or -1 once the kernel refused. */
static int populate(struct mem *m, uint64_t first, uint64_t n)
{
	return madvise(m->hva + first * MEM_PAGE_SIZE, n * MEM_PAGE_SIZE, MADV_POPULATE_WRITE);
}

int resident_load(struct stream *s, struct mem *m, uint64_t *populated)
{
	uint64_t npages = m->size / MEM_PAGE_SIZE, w0 = stream_get_u64(s), run = 0, start = 0;
	uint32_t n = stream_get_u32(s);
	int refused = 0;

	if (s->err)
		return s->err;
	if (n > RESIDENT_WORDS || w0 > (npages + 63) / 64 || n > (npages + 63) / 64 - w0)
		return stream_fail(s, -EINVAL, "RESIDENT section for words %llu+%u of a map of %llu",
				   (unsigned long long)w0, n, (unsigned long long)(npages + 63) / 64);
	if (stream_left(s) != (size_t)n * 8)
		return stream_fail(s, -EINVAL, "RESIDENT section of %zu bytes for %u words",
				   stream_left(s), n);
	/* Runs of set bits, each backed with one call. */
	for (uint32_t i = 0; i <= n && !refused; i++) {
		uint64_t word = i < n ? stream_get_u64(s) : 0;

		for (unsigned b = 0; b < 64; b++) {
			uint64_t idx = (w0 + i) * 64 + b;
			int set = (word >> b) & 1;

			if (set && idx >= npages)
				return stream_fail(s, -EINVAL, "RESIDENT page %llu beyond guest RAM",
						   (unsigned long long)idx);
			if (set && !run)
				start = idx;
			if (set) {
				run++;
				continue;
			}
			if (run && populate(m, start, run) < 0) {
				refused = 1;
				break;
			}
			if (run)
				*populated += run;
			run = 0;
		}
	}
	if (refused && stream_left(s))	/* the rest of the section unread: skip it */
		stream_get_ptr(s, stream_left(s));
	return s->err;
}
