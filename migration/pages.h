/* pages: guest pages on the migration wire. Pages go in batches, one
 * checksummed PAGES section per batch (stream.c checks the XXH3 of each):
 *
 *   u32 count, then per page: u64 gpa | encoding, and
 *     ZERO: nothing (the page is all zeros),
 *     RAW:  4096 bytes,
 *     LZ4:  u16 length, that many bytes of one LZ4 block.
 *
 * The writer compresses with LZ4 only when it pays twice over: a page is sent
 * raw when it does not shrink by an eighth, and compression switches itself
 * off while the link is faster than the compressor (time spent encoding vs
 * time blocked sending, measured per window of batches) and back on when
 * the link becomes the bottleneck again. It can also cap its own bandwidth.
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

struct page_writer {
	struct stream *s;
	const struct mem *m;
	enum compress_mode mode;
	int lz4_on;			/* compressing now (mode LZ4 only) */
	uint64_t max_bw;		/* bytes/s, 0 = unlimited */
	int stable;			/* RAM does not change (the VM is stunned):
					 * raw pages go out from RAM in place */
	uint32_t n;			/* pages in the open section */
	struct page_stats st;
	struct pagemap pm;		/* finds untouched (zero) pages unread */
	char *cbuf;
	/* adaptive compression window */
	double t_enc, t_send;		/* encoding (per batch) and sending time */
	double t_batch;			/* when the open batch began */
	uint64_t win_in, win_out;	/* page bytes in, encoded bytes out */
	uint32_t win_batches;
	double lz4_ratio;		/* last measured out/in while compressing */
	double lz4_rate;		/* bytes/s the compressor managed */
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

/* compress_decide(lz4_on, t_enc, t_send, ratio, lz4_rate, window_bytes): the
 * adaptive switch, pure for tests. Given one window's time spent encoding and
 * blocked sending (s), the compression ratio last seen (out/in), the
 * compressor's speed (bytes/s) and the window's page bytes: compress next? */
int compress_decide(int lz4_on, double t_enc, double t_send, double ratio, double lz4_rate,
		    uint64_t window_bytes);

/* pages_load(s, m, st, pm): apply one PAGES section (after stream_next()).
 * A ZERO page is cleared only if it is not zero already, so untouched
 * memory on the destination stays unallocated; pm (NULL: none) answers for
 * untouched pages without reading them. Returns 0 or the stream's error. */
int pages_load(struct stream *s, struct mem *m, struct page_stats *st, struct pagemap *pm);

/* page_index_gpa(m, index): guest-physical address of page number index. */
uint64_t page_index_gpa(const struct mem *m, uint64_t index);

#endif
