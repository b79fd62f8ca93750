/* test_pages: the migration page codec and dirty tracking of device writes.
 * Round trips of zero, raw and LZ4 pages (bit-exact, counted), the
 * adaptive compression switch, pre-copy's switch-over policy, and every
 * malformed batch (address outside
 * RAM, unknown encoding, an LZ4 block that does not decode to exactly one
 * page, bad counts, leftover bytes) refused with a message. The resident
 * map: the destination backs exactly the pages the source had backed, and
 * a map that does not fit its RAM is refused. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "../../migration/pages.h"
#include "../../migration/policy.h"
#include "../../migration/proto.h"
#include "../../migration/resident.h"
#include "../../migration/stream.h"
#include "../../vmm/dirty.h"
#include "suites.h"

#define PAGES (MEM_MIN_SIZE / MEM_PAGE_SIZE)

static void fill(struct mem *m)
{
	/* page 0 zero; odd pages compressible text; pages 2, 6, 10...
	 * pseudo-random (LZ4 cannot shrink them); the rest zero. */
	uint32_t x = 12345;

	for (uint64_t i = 0; i < PAGES; i++) {
		uint8_t *p = m->hva + i * MEM_PAGE_SIZE;

		if (i % 2)
			for (int k = 0; k < 4096; k++)
				p[k] = (uint8_t)("page text "[k % 10] + i);
		else if (i % 4 == 2)
			for (int k = 0; k < 4096; k++) {
				x = x * 1103515245u + 12345u;
				p[k] = (uint8_t)(x >> 16);
			}
	}
}

/* Pages [0, n) of src as the writer sends them with mode, copied or
 * (stable) from RAM in place, into mt; the writer's counters in out. */
static void encode(struct mem *src, enum compress_mode mode, int stable, uint64_t n,
		   struct mem_transport *mt, struct page_stats *out)
{
	struct stream s;
	struct page_writer w;

	mem_transport_init(mt, NULL, 0);
	stream_init(&s, &mt->t);
	CU_ASSERT_EQUAL_FATAL(page_writer_init(&w, &s, src, mode, 0), 0);
	w.stable = stable;
	for (uint64_t i = 0; i < n; i++)
		page_write(&w, i);
	page_flush(&w);
	CU_ASSERT_EQUAL(s.err, 0);
	if (out)
		*out = w.st;
	page_writer_free(&w);
	stream_free(&s);
}

/* Encode pages [0, n) of src with mode, decode into dst. */
static int round_trip(struct mem *src, struct mem *dst, enum compress_mode mode, uint64_t n,
		      struct page_stats *out, struct page_stats *in)
{
	struct mem_transport mt;
	struct stream s;
	uint32_t type;
	int r;

	encode(src, mode, 0, n, &mt, out);
	stream_init(&s, &mt.t);
	memset(in, 0, sizeof(*in));
	while ((r = stream_next(&s, &type, NULL, NULL)) == 0) {
		CU_ASSERT_EQUAL(type, SEC_PAGES);
		if ((r = pages_load(&s, dst, in, NULL)) < 0)
			break;
	}
	/* The end of input after whole sections is the normal end here. */
	r = s.err == -EPIPE && in->pages == n ? 0 : s.err;
	stream_free(&s);
	mem_transport_free(&mt);
	return r;
}

/* A stunned VM's pages go out from RAM in place: the stream is the very
 * one the copying writer makes. */
static void test_stunned_in_place(void)
{
	struct mem_transport x, y;
	struct mem a;

	CU_ASSERT_FATAL(mem_init(&a, MEM_MIN_SIZE) == 0);
	fill(&a);
	encode(&a, COMPRESS_LZ4, 0, PAGES, &x, NULL);
	encode(&a, COMPRESS_LZ4, 1, PAGES, &y, NULL);
	CU_ASSERT(x.len > PAGES * 8 && x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
	mem_transport_free(&x);
	mem_transport_free(&y);
	mem_free(&a);
}

/* Untouched pages are found without reading them; written, discarded and
 * written-by-the-owner pages are told apart. */
static void test_untouched(void)
{
	uint8_t *p = mmap(NULL, 4 * MEM_PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pagemap pm;

	CU_ASSERT_FATAL(p != MAP_FAILED);
	madvise(p, 4 * MEM_PAGE_SIZE, MADV_NOHUGEPAGE);
	p[MEM_PAGE_SIZE] = 1;
	p[2 * MEM_PAGE_SIZE] = 1;
	madvise(p + 2 * MEM_PAGE_SIZE, MEM_PAGE_SIZE, MADV_DONTNEED);
	pagemap_open(&pm);
	CU_ASSERT_FATAL(pm.fd >= 0);	/* /proc/self/pagemap */
	CU_ASSERT_EQUAL(pagemap_untouched(&pm, p), 1);
	CU_ASSERT_EQUAL(pagemap_untouched(&pm, p + MEM_PAGE_SIZE), 0);
	CU_ASSERT_EQUAL(pagemap_untouched(&pm, p + 2 * MEM_PAGE_SIZE), 1);	/* discarded */
	/* The window is a snapshot: the owner's own write must be noted. */
	p[3 * MEM_PAGE_SIZE] = 1;
	CU_ASSERT_EQUAL(pagemap_untouched(&pm, p + 3 * MEM_PAGE_SIZE), 1);
	pagemap_wrote(&pm, p + 3 * MEM_PAGE_SIZE);
	CU_ASSERT_EQUAL(pagemap_untouched(&pm, p + 3 * MEM_PAGE_SIZE), 0);
	pagemap_close(&pm);
	munmap(p, 4 * MEM_PAGE_SIZE);
}

/* The loader notes its own writes: a page that a batch wrote and a later
 * batch says is zero is cleared, although the loader's window of the
 * pagemap was read before the first write. */
static void test_loader_notes_writes(void)
{
	struct mem_transport mt;
	struct page_stats st = { 0 };
	struct pagemap pm;
	struct stream s;
	struct mem m;
	uint8_t page[MEM_PAGE_SIZE];
	uint32_t type;

	memset(page, 0x77, sizeof(page));
	CU_ASSERT_FATAL(mem_init(&m, MEM_MIN_SIZE) == 0);
	mem_transport_init(&mt, NULL, 0);
	stream_init(&s, &mt.t);
	/* batch 1: page 0 zero (reads the window), page 1 raw */
	stream_begin(&s, SEC_PAGES, 0);
	stream_put_u32(&s, 2);
	stream_put_u64(&s, 0 | PAGE_ZERO);
	stream_put_u64(&s, MEM_PAGE_SIZE | PAGE_RAW);
	stream_put_bytes(&s, page, sizeof(page));
	stream_end(&s);
	/* batch 2: page 1 zero */
	stream_begin(&s, SEC_PAGES, 0);
	stream_put_u32(&s, 1);
	stream_put_u64(&s, MEM_PAGE_SIZE | PAGE_ZERO);
	stream_end(&s);
	stream_free(&s);
	stream_init(&s, &mt.t);
	pagemap_open(&pm);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(stream_next(&s, &type, NULL, NULL), 0);
		CU_ASSERT_EQUAL(pages_load(&s, &m, &st, &pm), 0);
		if (i == 0)
			CU_ASSERT_EQUAL(m.hva[MEM_PAGE_SIZE], 0x77);
	}
	CU_ASSERT_EQUAL(m.hva[MEM_PAGE_SIZE], 0);
	CU_ASSERT_EQUAL(st.zero_pages, 2);
	pagemap_close(&pm);
	stream_free(&s);
	mem_transport_free(&mt);
	mem_free(&m);
}

static void test_round_trip(void)
{
	struct mem a, b;
	struct page_stats out, in;

	CU_ASSERT_FATAL(mem_init(&a, MEM_MIN_SIZE) == 0 && mem_init(&b, MEM_MIN_SIZE) == 0);
	fill(&a);
	/* Garbage in the destination where zero pages land: they are cleared. */
	memset(b.hva, 0x5a, 3 * MEM_PAGE_SIZE);
	CU_ASSERT_EQUAL(round_trip(&a, &b, COMPRESS_LZ4, PAGES, &out, &in), 0);
	CU_ASSERT_EQUAL(memcmp(a.hva, b.hva, MEM_MIN_SIZE), 0);
	CU_ASSERT_EQUAL(out.pages, PAGES);
	CU_ASSERT_EQUAL(out.zero_pages, PAGES / 4);
	CU_ASSERT_EQUAL(out.lz4_pages, PAGES / 2);	/* the text pages */
	CU_ASSERT_EQUAL(out.raw_pages, PAGES / 4);	/* the random ones */
	CU_ASSERT_EQUAL(in.zero_pages, out.zero_pages);
	CU_ASSERT_EQUAL(in.lz4_pages, out.lz4_pages);
	CU_ASSERT_EQUAL(in.raw_pages, out.raw_pages);
	/* Without compression: everything raw, same bytes. */
	memset(b.hva, 0, MEM_MIN_SIZE);
	CU_ASSERT_EQUAL(round_trip(&a, &b, COMPRESS_NONE, PAGES, &out, &in), 0);
	CU_ASSERT_EQUAL(memcmp(a.hva, b.hva, MEM_MIN_SIZE), 0);
	CU_ASSERT_EQUAL(out.lz4_pages, 0);
	CU_ASSERT_EQUAL(out.raw_pages, PAGES - PAGES / 4);
	mem_free(&a);
	mem_free(&b);
}

/* Each LZ4 block stands alone: the receiver decodes every page by itself,
 * so a page the writer compressed must not refer back to the page before
 * it, even where the two are the same (half random, half zero: LZ4 shrinks
 * them only by the zeros, and the previous page would be a perfect match). */
static void test_lz4_pages_independent(void)
{
	struct mem a, b;
	struct page_stats out, in;
	uint32_t x = 777;

	CU_ASSERT_FATAL(mem_init(&a, MEM_MIN_SIZE) == 0 && mem_init(&b, MEM_MIN_SIZE) == 0);
	for (int k = 0; k < 2048; k++) {
		x = x * 1103515245u + 12345u;
		a.hva[k] = (uint8_t)(x >> 16);
	}
	for (uint64_t i = 1; i < PAGES; i++)
		memcpy(a.hva + i * MEM_PAGE_SIZE, a.hva, MEM_PAGE_SIZE);
	CU_ASSERT_EQUAL(round_trip(&a, &b, COMPRESS_LZ4, PAGES, &out, &in), 0);
	CU_ASSERT_EQUAL(out.lz4_pages, PAGES);
	CU_ASSERT_EQUAL(in.lz4_pages, PAGES);
	CU_ASSERT_EQUAL(memcmp(a.hva, b.hva, PAGES * MEM_PAGE_SIZE), 0);
	mem_free(&a);
	mem_free(&b);
}

/* Windows sent in mode `on` at `rate` until the switch says change. */
static int windows_until_switch(struct compress_choice *c, int on, double rate)
{
	int n = 1;

	while (compress_choose(c, on, rate) == on && n < 1000)
		n++;
	return n;
}

/* The adaptive switch, fed one window's measured rate at a time. */
static void test_compression_decision(void)
{
	struct compress_choice c = { 0 };
	int on = 1, n;

	/* Compressing at 100 MB/s: raw was never measured, so try it. */
	on = compress_choose(&c, on, 100e6);
	CU_ASSERT_EQUAL(on, 0);
	/* Raw reaches 300 MB/s (the link outruns the compressor): keep raw. */
	on = compress_choose(&c, on, 300e6);
	CU_ASSERT_EQUAL(on, 0);
	/* LZ4 is tried again probe_every windows after it was last measured
	 * (the window that tried raw counts)... */
	CU_ASSERT_EQUAL(windows_until_switch(&c, 0, 300e6), COMPRESS_PROBE_MIN - 1);
	/* ...loses, and the next try waits twice as long. */
	on = compress_choose(&c, 1, 100e6);
	CU_ASSERT_EQUAL(on, 0);
	CU_ASSERT_EQUAL(c.probe_every, 2 * COMPRESS_PROBE_MIN);
	CU_ASSERT_EQUAL(windows_until_switch(&c, 0, 300e6), 2 * COMPRESS_PROBE_MIN);
	on = compress_choose(&c, 1, 100e6);
	CU_ASSERT_EQUAL(on, 0);
	/* The link slows (shaped to 20 MB/s): once raw falls below what LZ4
	 * did, LZ4 is tried at once, wins, and stays. */
	on = compress_choose(&c, on, 20e6);
	CU_ASSERT_EQUAL(on, 1);
	on = compress_choose(&c, on, 90e6);
	CU_ASSERT_EQUAL(on, 1);
	CU_ASSERT_EQUAL(c.probe_every, COMPRESS_PROBE_MIN);
	on = compress_choose(&c, on, 90e6);
	CU_ASSERT_EQUAL(on, 1);
	/* A try that does not win by the margin does not switch. */
	c = (struct compress_choice){ 0 };
	CU_ASSERT_EQUAL(compress_choose(&c, 1, 100e6), 0);
	CU_ASSERT_EQUAL(compress_choose(&c, 0, 105e6), 1);
	/* The probe interval stops growing. */
	for (n = 0; n < 1000; n++)
		compress_choose(&c, n % 2, 100e6);
	CU_ASSERT(c.probe_every <= COMPRESS_PROBE_MAX);
}

/* Writing many pages exercises the windows; whatever the switch decides,
 * the bytes must come out right (checked by decoding). */
static void test_compression_windows(void)
{
	struct mem a, b;
	struct page_stats out, in;

	CU_ASSERT_FATAL(mem_init(&a, 16 * MEM_MIN_SIZE) == 0 && mem_init(&b, 16 * MEM_MIN_SIZE) == 0);
	for (uint64_t i = 0; i < a.size; i++)
		a.hva[i] = (uint8_t)("compressible"[i % 12] + i / 4096);
	CU_ASSERT_EQUAL(round_trip(&a, &b, COMPRESS_LZ4, a.size / MEM_PAGE_SIZE, &out, &in), 0);
	CU_ASSERT_EQUAL(memcmp(a.hva, b.hva, a.size), 0);
	CU_ASSERT_EQUAL(out.lz4_pages + out.raw_pages, a.size / MEM_PAGE_SIZE);
	CU_ASSERT(out.lz4_pages > 0);
	mem_free(&a);
	mem_free(&b);
}

/* One PAGES section built by hand; returns pages_load's result and msg. */
static int load_batch(struct mem *m, const void *payload, size_t len, char *msg)
{
	struct mem_transport mt;
	struct stream s;
	struct page_stats st = { 0 };
	uint32_t type;
	int r;

	mem_transport_init(&mt, NULL, 0);
	stream_init(&s, &mt.t);
	stream_begin(&s, SEC_PAGES, 0);
	stream_put_bytes(&s, payload, len);
	stream_end(&s);
	stream_free(&s);
	mt.pos = 0;
	stream_init(&s, &mt.t);
	r = stream_next(&s, &type, NULL, NULL);
	if (r == 0)
		r = pages_load(&s, m, &st, NULL);
	snprintf(msg, 256, "%s", s.msg);
	stream_free(&s);
	mem_transport_free(&mt);
	return r;
}

static void test_malformed(void)
{
	struct mem m;
	uint8_t buf[8192];
	char msg[256];
	uint32_t n;
	uint64_t w;
	uint16_t len;

	CU_ASSERT_FATAL(mem_init(&m, MEM_MIN_SIZE) == 0);
	/* count 0 and count too big */
	n = 0;
	CU_ASSERT(load_batch(&m, &n, 4, msg) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "PAGES section with 0 pages"));
	n = PAGES_BATCH + 1;
	CU_ASSERT(load_batch(&m, &n, 4, msg) < 0);
	/* a page outside guest RAM */
	n = 1;
	w = MEM_MIN_SIZE | PAGE_ZERO;
	memcpy(buf, &n, 4);
	memcpy(buf + 4, &w, 8);
	CU_ASSERT(load_batch(&m, buf, 12, msg) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "outside guest RAM"));
	/* an unknown encoding */
	w = 0x1000 | 7;
	memcpy(buf + 4, &w, 8);
	CU_ASSERT(load_batch(&m, buf, 12, msg) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "unknown encoding"));
	/* a raw page cut short */
	w = 0x1000 | PAGE_RAW;
	memcpy(buf + 4, &w, 8);
	CU_ASSERT(load_batch(&m, buf, 12 + 100, msg) < 0);
	/* an LZ4 block that is garbage, and one that decodes to less than a page */
	w = 0x1000 | PAGE_LZ4;
	memcpy(buf + 4, &w, 8);
	len = 20;
	memcpy(buf + 12, &len, 2);
	memset(buf + 14, 0xff, 20);
	CU_ASSERT(load_batch(&m, buf, 34, msg) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "does not decode to one page"));
	len = 2;
	memcpy(buf + 12, &len, 2);
	buf[14] = 0x10;	/* a literal-only block: 1 byte */
	buf[15] = 'x';
	CU_ASSERT(load_batch(&m, buf, 16, msg) < 0);
	/* bytes left over after the pages */
	w = 0x2000 | PAGE_ZERO;
	memcpy(buf + 4, &w, 8);
	CU_ASSERT(load_batch(&m, buf, 20, msg) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "left over"));
	/* and nothing written to guest memory by any of it */
	for (uint64_t i = 0; i < MEM_MIN_SIZE; i++)
		if (m.hva[i]) {
			CU_FAIL("a refused batch wrote guest memory");
			break;
		}
	mem_free(&m);
}

static void test_index_gpa(void)
{
	struct mem m = { .size = 5ULL << 30 };

	m.nslots = mem_layout(m.size, m.slots);
	CU_ASSERT_EQUAL(page_index_gpa(&m, 0), 0);
	CU_ASSERT_EQUAL(page_index_gpa(&m, (3ULL << 30) / 4096 - 1), (3ULL << 30) - 4096);
	/* The first page above the hole. */
	CU_ASSERT_EQUAL(page_index_gpa(&m, (3ULL << 30) / 4096), 4ULL << 30);
	CU_ASSERT_EQUAL(page_index_gpa(&m, (5ULL << 30) / 4096), ~0ULL);
	/* and back from the host address, below and above the hole (the
	 * mapping is never touched: a made-up base will do) */
	m.hva = (uint8_t *)(uintptr_t)0x7f0000000000ULL;
	for (uint64_t i = 0; i < (5ULL << 30) / 4096; i += 4093)
		CU_ASSERT_EQUAL(page_index_hva(&m, mem_hva(&m, page_index_gpa(&m, i), 4096)), i);
	CU_ASSERT_EQUAL(page_index_hva(&m, m.hva + 7 * 4096 + 100), 7);
}

/* Device writes are recorded only while logging is on, page-exact. */
static void test_mark_dirty(void)
{
	struct mem m;
	uint64_t bits[PAGES / 64];

	CU_ASSERT_FATAL(mem_init(&m, MEM_MIN_SIZE) == 0);
	mem_mark_dirty(&m, m.hva, 4096);	/* logging off: nothing to record */
	CU_ASSERT_PTR_NULL(m.dev_dirty);
	m.dev_dirty = calloc(PAGES / 64, 8);
	CU_ASSERT_FATAL(m.dev_dirty != NULL);
	m.logging = 1;
	mem_mark_dirty(&m, m.hva + 4095, 2);		/* spans pages 0 and 1 */
	mem_mark_dirty(&m, m.hva + 70 * 4096, 1);
	mem_mark_dirty(&m, m.hva + MEM_MIN_SIZE, 4096);	/* outside: ignored */
	mem_mark_dirty(&m, m.hva - 4096, 4096);
	memcpy(bits, m.dev_dirty, sizeof(bits));
	CU_ASSERT_EQUAL(bits[0], 3);
	CU_ASSERT_EQUAL(bits[1], 1ULL << 6);
	for (size_t i = 2; i < PAGES / 64; i++)
		CU_ASSERT_EQUAL(bits[i], 0);
	CU_ASSERT(bitmap_test(bits, 70));
	CU_ASSERT(!bitmap_test(bits, 71));
	mem_free(&m);
}

/* When pre-copy switches over: rounds of a guest dirtying slowly and of
 * one dirtying flat out, as the engine sees them. */
static void test_precopy_policy(void)
{
	/* Slow dirtier, fast link: after the first round (all 131072 pages)
	 * 6400 are dirty, predicted 260 ms, under the 300 ms target. The set
	 * shrank twentyfold: one more round, and another... */
	CU_ASSERT_EQUAL(precopy_converged(131072, 6400, 260, 300, 0, 30), 0);
	CU_ASSERT_EQUAL(precopy_converged(6400, 320, 13, 300, 1, 30), 0);
	/* ...until a handful is left, or the set stops shrinking by a fifth. */
	CU_ASSERT_EQUAL(precopy_converged(320, 12, 0.5, 300, 2, 30), 1);
	CU_ASSERT_EQUAL(precopy_converged(320, 300, 12, 300, 2, 30), 1);
	/* Over the target: never switch over here (throttling or the round
	 * limit decide that). */
	CU_ASSERT_EQUAL(precopy_converged(131072, 60000, 2400, 300, 0, 30), 0);
	CU_ASSERT_EQUAL(precopy_converged(60000, 59000, 2300, 300, 9, 30), 0);
	/* Under the target at the round limit: switch over. */
	CU_ASSERT_EQUAL(precopy_converged(6400, 320, 13, 300, 29, 30), 1);
	/* Stuck: the round did not shrink the set by a tenth. */
	CU_ASSERT_EQUAL(precopy_stuck(60000, 59000), 1);
	CU_ASSERT_EQUAL(precopy_stuck(60000, 50000), 0);
	CU_ASSERT_EQUAL(precopy_stuck(131072, 60000), 0);
}

/* A RESIDENT section by hand: words [w0, w0 + n) of value word, with
 * extra bytes after them. */
static void resident_raw(struct mem_transport *mt, uint64_t w0, uint32_t n, uint64_t word,
			 int extra)
{
	struct stream s;

	mem_transport_init(mt, NULL, 0);
	stream_init(&s, &mt->t);
	stream_begin(&s, SEC_RESIDENT, SECTION_OPTIONAL);
	stream_put_u64(&s, w0);
	stream_put_u32(&s, n);
	for (uint32_t i = 0; i < n; i++)
		stream_put_u64(&s, word);
	for (int i = 0; i < extra; i++)
		stream_put_u32(&s, 0);
	stream_end(&s);
	stream_free(&s);
}

/* Load every section of mt with resident_load; its first error or 0. */
static int resident_in(struct mem_transport *mt, struct mem *dst, uint64_t *populated)
{
	struct stream s;
	uint32_t type;
	int r = 0;

	stream_init(&s, &mt->t);
	while (!r && stream_next(&s, &type, NULL, NULL) == 0) {
		CU_ASSERT_EQUAL(type, SEC_RESIDENT);
		r = resident_load(&s, dst, populated);
	}
	stream_free(&s);
	mem_transport_free(mt);
	return r;
}

static void test_resident(void)
{
	static const uint64_t touched[] = { 3, 100, 101, 102, PAGES - 1 };
	struct mem_transport mt;
	struct mem src, dst;
	struct pagemap pm;
	struct stream s;
	uint64_t n = 0;

	CU_ASSERT_FATAL(mem_init(&src, MEM_MIN_SIZE) == 0);
	CU_ASSERT_FATAL(mem_init(&dst, MEM_MIN_SIZE) == 0);
	/* 4 KiB pages, so that a touch backs one page and not 2 MiB */
	madvise(src.hva, src.size, MADV_NOHUGEPAGE);
	madvise(dst.hva, dst.size, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
		src.hva[touched[i] * MEM_PAGE_SIZE + 7] = 1;
	mem_transport_init(&mt, NULL, 0);
	stream_init(&s, &mt.t);
	CU_ASSERT_EQUAL(resident_send(&s, &src), 0);
	stream_free(&s);
	CU_ASSERT_EQUAL(resident_in(&mt, &dst, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	pagemap_open(&pm);
	for (uint64_t i = 0; i < PAGES; i++) {
		int want = i == 3 || (i >= 100 && i <= 102) || i == PAGES - 1;

		CU_ASSERT_EQUAL(pagemap_untouched(&pm, dst.hva + i * MEM_PAGE_SIZE), !want);
	}
	pagemap_close(&pm);
	/* backed, and still zero: RAM's contents come with the pages */
	CU_ASSERT_EQUAL(dst.hva[3 * MEM_PAGE_SIZE + 7], 0);
	/* Maps that do not fit 4 MiB (16 words) are refused. */
	resident_raw(&mt, 16, 1, ~0ULL, 0);	/* past the end */
	CU_ASSERT_EQUAL(resident_in(&mt, &dst, &n), -EINVAL);
	resident_raw(&mt, 10, 7, ~0ULL, 0);	/* running past it */
	CU_ASSERT_EQUAL(resident_in(&mt, &dst, &n), -EINVAL);
	resident_raw(&mt, ~0ULL, 2, ~0ULL, 0);	/* wrapping */
	CU_ASSERT_EQUAL(resident_in(&mt, &dst, &n), -EINVAL);
	resident_raw(&mt, 0, 1, 1, 1);		/* bytes left over */
	CU_ASSERT_EQUAL(resident_in(&mt, &dst, &n), -EINVAL);
	resident_raw(&mt, 0, RESIDENT_WORDS + 1, 0, 0);	/* too many words */
	CU_ASSERT_EQUAL(resident_in(&mt, &dst, &n), -EINVAL);
	CU_ASSERT_EQUAL(n, 5);
	mem_free(&src);
	mem_free(&dst);
}

int suite_pages(void)
{
	static const struct unit_test t[] = {
		{ "zero, raw and LZ4 pages round-trip bit-exact", test_round_trip },
		{ "identical pages: each LZ4 block decodes alone", test_lz4_pages_independent },
		{ "stunned VM: pages sent in place, the same stream", test_stunned_in_place },
		{ "untouched pages found without reading them", test_untouched },
		{ "loader notes its own writes: zero after raw cleared", test_loader_notes_writes },
		{ "LZ4 off when the link outruns it, on when the link is slow",
		  test_compression_decision },
		{ "many windows of pages: bytes exact whatever LZ4 decides",
		  test_compression_windows },
		{ "pre-copy rounds go on while they shrink the dirty set", test_precopy_policy },
		{ "malformed page batches refused, RAM untouched", test_malformed },
		{ "page numbers map across the PCI hole", test_index_gpa },
		{ "resident map: the destination backs what the source backed", test_resident },
		{ "device writes marked dirty only while logging", test_mark_dirty },
		{ 0 }
	};
	return add_suite("pages", t);
}
