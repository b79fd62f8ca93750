/* pages: page batches on the migration wire (see pages.h). */
#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "proto.h"
#include "pages.h"
#include "ram.h"
#include "stream.h"

#define LZ4_WORTH	(MEM_PAGE_SIZE - MEM_PAGE_SIZE / 8)	/* send raw above this */
#define WINDOW		32					/* batches per decision */
#define WINDOW_DATA	(WINDOW * PAGES_BATCH * MEM_PAGE_SIZE / 8)	/* bytes of data
								 * a window needs to count */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t page_index_gpa(const struct mem *m, uint64_t index)
{
	uint64_t off = index * MEM_PAGE_SIZE;

	for (int i = 0; i < m->nslots; i++)
		if (off >= m->slots[i].offset && off - m->slots[i].offset < m->slots[i].len)
			return m->slots[i].gpa + (off - m->slots[i].offset);
	return ~0ULL;
}

uint64_t page_index_hva(const struct mem *m, const void *p)
{
	return ((uintptr_t)p - (uintptr_t)m->hva) / MEM_PAGE_SIZE;
}

int page_writer_init(struct page_writer *w, struct stream *s, const struct mem *m,
		     enum compress_mode mode, uint64_t max_bw)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->m = m;
	w->mode = mode;
	w->lz4_on = mode == COMPRESS_LZ4;
	w->max_bw = max_bw;
	w->cc.probe_every = COMPRESS_PROBE_MIN;
	pagemap_open(&w->pm);
	if (mode == COMPRESS_LZ4) {
		w->cbuf = malloc((size_t)LZ4_compressBound((int)MEM_PAGE_SIZE));
		w->lz = LZ4_createStream();
		if (!w->cbuf || !w->lz) {
			page_writer_free(w);
			return -ENOMEM;
		}
	}
	return 0;
}

void page_writer_free(struct page_writer *w)
{
	if (!w->s)
		return;		/* never initialized (a zeroed struct) */
	free(w->cbuf);
	w->cbuf = NULL;
	LZ4_freeStream(w->lz);
	w->lz = NULL;
	pagemap_close(&w->pm);
	w->s = NULL;
}

int compress_choose(struct compress_choice *c, int lz4_on, double rate)
{
	int cur = !!lz4_on, oth = !cur;

	if (c->probe_every < COMPRESS_PROBE_MIN)
		c->probe_every = COMPRESS_PROBE_MIN;
	/* Windows in a row average; after a pause the new figure replaces. */
	c->rate[cur] = c->rate[cur] > 0 && c->age[cur] == 0 ? (c->rate[cur] + rate) / 2 : rate;
	c->age[cur] = 0;
	c->age[oth]++;
	if (c->probing) {
		c->probing = 0;
		if (c->rate[cur] > COMPRESS_MARGIN * c->rate[oth]) {
			c->probe_every = COMPRESS_PROBE_MIN;	/* the try won: keep it */
			return cur;
		}
		if (c->probe_every < COMPRESS_PROBE_MAX)
			c->probe_every *= 2;			/* lost again: try it less */
		return oth;
	}
	if (c->rate[oth] == 0 || c->age[oth] >= c->probe_every ||
	    c->rate[oth] > COMPRESS_MARGIN * c->rate[cur]) {
		c->probing = 1;
		return oth;
	}
	return cur;
}

/* Every WINDOW batches: which mode moves pages faster? Windows of mostly
 * zero pages say nothing about it and are not counted. */
static void adapt(struct page_writer *w)
{
	int was = w->lz4_on;

	if (w->mode == COMPRESS_LZ4 && w->win_data >= WINDOW_DATA && w->t_busy > 0)
		w->lz4_on = compress_choose(&w->cc, w->lz4_on, (double)w->win_data / w->t_busy);
	if (was != w->lz4_on)
		w->st.compress_switches++;
	w->t_busy = 0;
	w->win_data = 0;
	w->win_batches = 0;
}

int page_flush(struct page_writer *w)
{
	struct stream *s = w->s;
	uint64_t before = s->bytes;
	double t0;

	if (!w->n)
		return s->err;
	t0 = now_s();
	stream_patch_u32(s, 0, w->n);
	stream_end(s);
	w->n = 0;
	if (w->max_bw) {
		double due;

		if (!w->bw_t0)
			w->bw_t0 = t0;
		w->bw_bytes += s->bytes - before;
		due = w->bw_t0 + (double)w->bw_bytes / (double)w->max_bw;
		if (due > now_s()) {
			double d = due - now_s();
			struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	/* Timed per batch, not per page: two clock reads per page would cost
	 * more than some pages take to encode. */
	w->t_busy += now_s() - w->t_batch;
	if (++w->win_batches == WINDOW)
		adapt(w);
	return s->err;
}

int page_write(struct page_writer *w, uint64_t index)
{
	struct stream *s = w->s;
	uint64_t gpa = page_index_gpa(w->m, index);
	const uint8_t *p = gpa == ~0ULL ? NULL : mem_hva(w->m, gpa, MEM_PAGE_SIZE);
	int c;

	if (!p)
		return stream_fail(s, -EINVAL, "page %llu is outside guest RAM",
				   (unsigned long long)index);
	if (!w->n) {
		w->t_batch = now_s();
		stream_begin(s, SEC_PAGES, 0);
		stream_put_u32(s, 0);		/* the count, patched at page_flush */
	}
	w->st.pages++;
	if (pagemap_untouched(&w->pm, p) || ram_page_is_zero(p)) {
		stream_put_u64(s, gpa | PAGE_ZERO);
		w->st.zero_pages++;
		return ++w->n == PAGES_BATCH ? page_flush(w) : s->err;
	}
	w->win_data += MEM_PAGE_SIZE;
	/* Each page is one independent block: the fast reset forgets the last
	 * page without clearing the 16 KiB hash table that LZ4_compress_default
	 * clears for every call (a memset 4 times the page: a seventh of the
	 * source's CPU in a lab post-copy, where vector stores are emulated). */
	c = 0;
	if (w->lz4_on) {
		LZ4_resetStream_fast(w->lz);
		c = LZ4_compress_fast_continue(w->lz, (const char *)p, w->cbuf,
					       (int)MEM_PAGE_SIZE,
					       LZ4_compressBound((int)MEM_PAGE_SIZE), 1);
	}
	if (c > 0 && c <= (int)LZ4_WORTH) {
		stream_put_u64(s, gpa | PAGE_LZ4);
		stream_put_u16(s, (uint16_t)c);
		stream_put_bytes(s, w->cbuf, (size_t)c);
		w->st.lz4_pages++;
		w->st.payload += (uint64_t)c;
	} else {
		stream_put_u64(s, gpa | PAGE_RAW);
		if (w->stable)		/* no copy: nothing writes the page now */
			stream_put_ref(s, p, MEM_PAGE_SIZE);
		else			/* a copy: the checksum must match what is sent */
			stream_put_bytes(s, p, MEM_PAGE_SIZE);
		w->st.raw_pages++;
		w->st.payload += MEM_PAGE_SIZE;
	}
	if (++w->n == PAGES_BATCH)
		return page_flush(w);
	return s->err;
}

int pages_load(struct stream *s, struct mem *m, struct page_stats *st, struct pagemap *pm)
{
	uint32_t count = stream_get_u32(s);

	if (s->err)
		return s->err;
	if (count == 0 || count > PAGES_BATCH)
		return stream_fail(s, -EINVAL, "PAGES section with %u pages", count);
	for (uint32_t i = 0; i < count && !s->err; i++) {
		uint64_t word = stream_get_u64(s), gpa = word & ~(MEM_PAGE_SIZE - 1);
		unsigned enc = (unsigned)(word & (MEM_PAGE_SIZE - 1));
		uint8_t *dst;

		if (s->err)
			break;
		dst = mem_hva(m, gpa, MEM_PAGE_SIZE);
		if (!dst)
			return stream_fail(s, -EINVAL, "page 0x%llx lies outside guest RAM",
					   (unsigned long long)gpa);
		switch (enc) {
		case PAGE_ZERO:
			if (!(pm && pagemap_untouched(pm, dst)) && !ram_page_is_zero(dst))
				memset(dst, 0, MEM_PAGE_SIZE);	/* (it was touched) */
			st->zero_pages++;
			break;
		case PAGE_RAW:
			stream_get_bytes(s, dst, MEM_PAGE_SIZE);
			if (pm)
				pagemap_wrote(pm, dst);
			st->raw_pages++;
			break;
		case PAGE_LZ4: {
			/* Decoded aside first: a bad block must not leave half a
			 * page in guest memory. */
			static _Thread_local char page[MEM_PAGE_SIZE];
			uint16_t len = stream_get_u16(s);
			const char *src = stream_get_ptr(s, len);

			if (!src)
				break;
			if (len == 0 || len > LZ4_compressBound((int)MEM_PAGE_SIZE) ||
			    LZ4_decompress_safe(src, page, len, (int)MEM_PAGE_SIZE) !=
			    (int)MEM_PAGE_SIZE)
				return stream_fail(s, -EINVAL,
						   "page 0x%llx: LZ4 block of %u bytes does not "
						   "decode to one page", (unsigned long long)gpa, len);
			memcpy(dst, page, MEM_PAGE_SIZE);
			if (pm)
				pagemap_wrote(pm, dst);
			st->lz4_pages++;
			break;
		}
		default:
			return stream_fail(s, -EINVAL, "page 0x%llx: unknown encoding %u",
					   (unsigned long long)gpa, enc);
		}
		st->pages++;
	}
	if (!s->err && stream_left(s))
		return stream_fail(s, -EINVAL, "PAGES section: %zu bytes left over", stream_left(s));
	return s->err;
}
