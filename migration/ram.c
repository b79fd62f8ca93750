/* ram: guest pages in the state stream (see ram.h). */
#include <errno.h>
#include <string.h>
#include "../migration/stream.h"
#include "../vmm/pagemap.h"
#include "ram.h"

int ram_page_is_zero(const void *p)
{
	const uint64_t *w = p;

	for (int i = 0; i < 512; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return 0;
	return 1;
}

static void put_run(struct stream *s, uint32_t type, const struct mem *m, uint64_t gpa,
		    uint32_t npages)
{
	stream_begin(s, type, 0);
	stream_put_u64(s, gpa);
	stream_put_u32(s, npages);
	/* In place: the VM is paused while it is saved (ram.h). */
	stream_put_ref(s, mem_hva(m, gpa, npages * MEM_PAGE_SIZE), npages * MEM_PAGE_SIZE);
	stream_end(s);
}

int ram_save(struct stream *s, const struct mem *m, uint32_t type, struct ram_stats *st)
{
	struct pagemap pm;

	pagemap_open(&pm);
	for (int i = 0; i < m->nslots && !s->err; i++) {
		const struct mem_slot *slot = &m->slots[i];
		uint64_t run_start = 0;
		uint32_t run = 0;

		for (uint64_t off = 0; off < slot->len && !s->err; off += MEM_PAGE_SIZE) {
			const uint8_t *p = m->hva + slot->offset + off;

			if (pagemap_untouched(&pm, p) || ram_page_is_zero(p)) {
				st->zero_pages++;
				if (run)
					put_run(s, type, m, run_start, run);
				run = 0;
				continue;
			}
			if (!run)
				run_start = slot->gpa + off;
			st->pages_sent++;
			if (++run == RAM_RUN_PAGES) {
				put_run(s, type, m, run_start, run);
				run = 0;
			}
		}
		if (run)
			put_run(s, type, m, run_start, run);
	}
	pagemap_close(&pm);
	return s->err;
}

int ram_load(struct stream *s, struct mem *m)
{
	uint64_t gpa = stream_get_u64(s);
	uint32_t n = stream_get_u32(s);
	void *dst;

	if (s->err)
		return s->err;
	if (n == 0 || n > RAM_RUN_PAGES || (gpa & (MEM_PAGE_SIZE - 1)))
		return stream_fail(s, -EINVAL, "RAM section: %u pages at 0x%llx", n,
				   (unsigned long long)gpa);
	dst = mem_hva(m, gpa, (uint64_t)n * MEM_PAGE_SIZE);
	if (!dst)
		return stream_fail(s, -EINVAL, "RAM section: pages 0x%llx+%u lie outside guest RAM",
				   (unsigned long long)gpa, n);
	stream_get_bytes(s, dst, (size_t)n * MEM_PAGE_SIZE);
	if (!s->err && stream_left(s))
		return stream_fail(s, -EINVAL, "RAM section: %zu bytes left over", stream_left(s));
	return s->err;
}
