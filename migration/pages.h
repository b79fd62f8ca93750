/* pages: guest pages on the migration wire. Pages go in batches, one
 * checksummed PAGES section per batch (stream.c checks the XXH64 of each):
 *
 *   u32 count, then per page: u64 gpa | encoding, and
 *     ZERO: nothing (the page is all zeros),
 *     RAW:  4096 bytes,
 *     LZ4:  u16 length, that many bytes of one LZ4 block.
 *
 * The writer compresses with LZ4 only when it pays twice over: a page is sent
 * raw when it does not shrink by an eighth, and compression is on only while
 * it moves pages faster. Whether it does depends on the link, the CPU and the
 * data, so the writer measures rather than predicts: per window of batches it
 * times the page bytes it moved (encoding, sending, waiting for the link),
 * and now and then tries the other mode for one window; it keeps whichever
 * was faster, trying the loser less often each time it loses again. It can
 * also cap its own bandwidth.
 *
 * The reader checks every address against guest RAM and every LZ4 block for
 * an exact 4096-byte result before a byte lands in guest memory. */
#ifndef MIGRATION_PAGES_H
#define MIGRATION_PAGES_H

#include <stdint.h>
#include "../vmm/mem.h"
#include "../vmm/pagemap.h"

struct stream;

#define PAGES_BATCH	256	/* pages per section */

enum page_enc { PAGE_ZERO = 0, PAGE_RAW = 1, PAGE_LZ4 = 2 };
enum compress_mode { COMPRESS_NONE = 0, COMPRESS_LZ4 = 1 };

struct page_stats {
	uint64_t pages;		/* pages written (all encodings) */
	uint64_t zero_pages, raw_pages, lz4_pages;
	uint64_t payload;	/* bytes of page data on the wire */
	uint32_t compress_switches;	/* times the adaptive switch flipped */
};

/* What the adaptive switch knows: page bytes per second measured with
 * compression off [0] and on [1] (0 = never measured), how many windows ago,
 * and when to try the losing mode again. */
struct compress_choice {
	double rate[2];
	uint32_t age[2];
	uint32_t probe_every;		/* windows between tries of the loser */
	int probing;			/* this window tries the other mode */
};

struct page_writer {
	struct stream *s;
	const struct mem *m;
	enum compress_mode mode;
	int lz4_on;			/* compressing now (mode LZ4 only) */
	uint64_t max_bw;		/* bytes/s, 0 = unlimited */
	int stable;			/* RAM does not change (the VM is stunned):
					 * raw pages go to the socket in place */
	uint32_t n;			/* pages in the open section */
	struct page_stats st;
	struct pagemap pm;		/* finds untouched (zero) pages unread */
	char *cbuf;
	union LZ4_stream_u *lz;		/* compressor state, reset per page */
	/* adaptive compression: the current window */
	double t_busy;			/* encoding, sending and pacing time */
	double t_batch;			/* when the open batch began */
	uint64_t win_data;		/* bytes of non-zero pages in it */
	uint32_t win_batches;
	struct compress_choice cc;
	/* bandwidth cap */
	double bw_t0;
	uint64_t bw_bytes;
};

/* page_writer_init(w, s, m, mode, max_bw): returns 0 or -ENOMEM.
 * page_writer_free(w): also fine on a zeroed, never initialized w. */
int page_writer_init(struct page_writer *w, struct stream *s, const struct mem *m,
		     enum compress_mode mode, uint64_t max_bw);
void page_writer_free(struct page_writer *w);

/* page_write(w, index): queue guest page number index (mem.hva order),
 * encoding it now from guest RAM; sends a section when the batch is full.
 * page_flush(w): send what is queued. Both return the stream's error. */
int page_write(struct page_writer *w, uint64_t index);
int page_flush(struct page_writer *w);

/* compress_choose(c, lz4_on, rate): the adaptive switch, pure for tests.
 * After a window sent with compression on or off that moved non-zero page
 * bytes at `rate` per second: compress the next window? A mode never
 * measured is tried at once; a tried mode is kept only if it beat the other
 * by COMPRESS_MARGIN (the socket's buffer flatters whichever mode comes
 * second); the loser is tried again after probe_every windows, doubled
 * after every loss (at most COMPRESS_PROBE_MAX), reset after a win. */
#define COMPRESS_MARGIN		1.1
#define COMPRESS_PROBE_MIN	4
#define COMPRESS_PROBE_MAX	64
int compress_choose(struct compress_choice *c, int lz4_on, double rate);

/* pages_load(s, m, st, pm): apply one PAGES section (after stream_next()).
 * A ZERO page is cleared only if it is not zero already, so untouched
 * memory on the destination stays unallocated; pm (NULL: none) answers for
 * untouched pages without reading them. Returns 0 or the stream's error. */
int pages_load(struct stream *s, struct mem *m, struct page_stats *st, struct pagemap *pm);

/* page_index_gpa(m, index): guest-physical address of page number index. */
uint64_t page_index_gpa(const struct mem *m, uint64_t index);

/* page_index_hva(m, p): the page number of host address p, which lies in
 * m's RAM (an address mem_hva gave, or one inside such a page). */
uint64_t page_index_hva(const struct mem *m, const void *p);

#endif
