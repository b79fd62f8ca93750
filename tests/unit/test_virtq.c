/* test_virtq: the virtqueue walker against every malformed chain a buggy or
 * hostile guest can build, and the normal paths. */
#include <string.h>
#include "../../devices/virtqueue.h"
#include "suites.h"

#define QSZ 8
#define DESC 0x10000ULL
#define AVAIL 0x11000ULL
#define USED 0x12000ULL
#define DATA 0x20000ULL

static struct mem m;
static struct virtq q;

struct vdesc { uint64_t addr; uint32_t len; uint16_t flags, next; };

static struct vdesc *desc(int i) { return (struct vdesc *)mem_hva(&m, DESC + 16 * i, 16); }
static uint16_t *avail(int off) { return mem_hva(&m, AVAIL + off, 2); }

static void setup_q(void)
{
	CU_ASSERT_FATAL(mem_init(&m, 16 << 20) == 0);
	memset(&q, 0, sizeof(q));
	q.size = QSZ;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.enabled = 1;
	CU_ASSERT_FATAL(virtq_check_layout(&q, &m) == 0);
}

/* Offer head as the next avail entry. */
static void offer(uint16_t head)
{
	uint16_t idx = *avail(2);

	*avail(4 + 2 * (idx % QSZ)) = head;
	*avail(2) = idx + 1;
}

static void set(int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct vdesc){ addr, len, flags, next };
}

static struct virtq_req req;

static void test_normal(void)
{
	uint8_t out[5];
	uint32_t *used;

	setup_q();
	CU_ASSERT_EQUAL(virtq_pop(&q, &m, &req), 0);		/* nothing yet */
	memcpy(mem_hva(&m, DATA, 5), "hello", 5);
	set(3, DATA, 5, 1, 5);					/* readable, next 5 */
	set(5, DATA + 0x1000, 100, 2, 0);			/* writable, end */
	offer(3);
	CU_ASSERT_EQUAL(virtq_pop(&q, &m, &req), 1);
	CU_ASSERT_EQUAL(req.head, 3);
	CU_ASSERT_EQUAL(req.nbufs, 2);
	CU_ASSERT_EQUAL(req.readable, 5);
	CU_ASSERT_EQUAL(req.writable, 100);
	CU_ASSERT_EQUAL(virtq_copy_from(&req, 1, out, 4), 4);
	CU_ASSERT_EQUAL(memcmp(out, "ello", 4), 0);
	CU_ASSERT_EQUAL(virtq_copy_to(&req, 0, "abc", 3), 3);
	CU_ASSERT_EQUAL(memcmp(mem_hva(&m, DATA + 0x1000, 3), "abc", 3), 0);
	CU_ASSERT_EQUAL(virtq_copy_to(&req, 98, "xyz", 3), 2);	/* clipped to the buffer */
	CU_ASSERT_EQUAL(virtq_pop(&q, &m, &req), 0);
	CU_ASSERT_EQUAL(virtq_push(&q, &m, 3, 42), 0);
	used = mem_hva(&m, USED, 12);
	CU_ASSERT_EQUAL(((uint16_t *)used)[1], 1);		/* used idx */
	CU_ASSERT_EQUAL(used[1], 3);
	CU_ASSERT_EQUAL(used[2], 42);
	CU_ASSERT_TRUE(virtq_should_notify(&q, &m));
	*avail(0) = 1;						/* NO_INTERRUPT */
	CU_ASSERT_FALSE(virtq_should_notify(&q, &m));
	CU_ASSERT_FALSE(q.broken);
	mem_free(&m);
}

/* Offer head, expect the walk to break the queue with a message. */
static void expect_broken(uint16_t head, const char *why)
{
	offer(head);
	CU_ASSERT_EQUAL(virtq_pop(&q, &m, &req), -22);
	CU_ASSERT_TRUE(q.broken);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.why, why));
	/* And it stays broken. */
	CU_ASSERT_EQUAL(virtq_pop(&q, &m, &req), -22);
	mem_free(&m);
}

static void test_loop(void)
{
	setup_q();
	set(0, DATA, 8, 1, 1);
	set(1, DATA, 8, 1, 0);		/* 0 -> 1 -> 0 -> ... */
	expect_broken(0, "loop");
}

static void test_self_loop(void)
{
	setup_q();
	set(2, DATA, 8, 1, 2);
	expect_broken(2, "loop");
}

static void test_next_out_of_range(void)
{
	setup_q();
	set(0, DATA, 8, 1, QSZ);
	expect_broken(0, "beyond the queue");
}

static void test_head_out_of_range(void)
{
	setup_q();
	expect_broken(QSZ + 3, "avail ring names descriptor");
}

static void test_addr_outside_ram(void)
{
	setup_q();
	set(0, (16 << 20) - 4, 8, 0, 0);	/* straddles the end of RAM */
	expect_broken(0, "outside guest RAM");
}

static void test_addr_wraps(void)
{
	setup_q();
	set(0, ~0ULL - 3, 100, 0, 0);
	expect_broken(0, "outside guest RAM");
}

static void test_readable_after_writable(void)
{
	setup_q();
	set(0, DATA, 8, 2 | 1, 1);
	set(1, DATA, 8, 0, 0);
	expect_broken(0, "readable descriptor 1 after a writable one");
}

static void test_indirect(void)
{
	setup_q();
	set(0, DATA, 64, 4, 0);
	expect_broken(0, "indirect");
}

static void test_avail_jump(void)
{
	setup_q();
	*avail(2) = QSZ + 5;		/* claims 13 new entries on an 8-entry queue */
	CU_ASSERT_EQUAL(virtq_pop(&q, &m, &req), -22);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.why, "jumped"));
	mem_free(&m);
}

static void test_length_overflow(void)
{
	setup_q();
	/* Two 4 GiB-ish writable lengths cannot both be in 16 MiB of RAM, so
	 * the RAM check fires first; the sum never wraps silently either way. */
	set(0, DATA, 0xffffffff, 2 | 1, 1);
	set(1, DATA, 0xffffffff, 2, 0);
	expect_broken(0, "outside guest RAM");
}

static void test_bad_layout(void)
{
	CU_ASSERT_FATAL(mem_init(&m, 16 << 20) == 0);
	memset(&q, 0, sizeof(q));
	q.size = 6;			/* not a power of two */
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	CU_ASSERT(virtq_check_layout(&q, &m) < 0);
	q.broken = 0;
	q.size = 512;			/* more than we offer */
	CU_ASSERT(virtq_check_layout(&q, &m) < 0);
	q.broken = 0;
	q.size = 8;
	q.used_gpa = (16 << 20) - 8;	/* ring past the end of RAM */
	CU_ASSERT(virtq_check_layout(&q, &m) < 0);
	q.broken = 0;
	q.used_gpa = USED + 2;		/* misaligned */
	CU_ASSERT(virtq_check_layout(&q, &m) < 0);
	mem_free(&m);
}

static void test_full_ring_wraps(void)
{
	setup_q();
	/* 3 rounds of the 8-entry ring: indices wrap, nothing breaks. */
	for (int round = 0; round < 3 * QSZ; round++) {
		set(round % QSZ, DATA, 16, 0, 0);
		offer(round % QSZ);
		CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, &m, &req), 1);
		CU_ASSERT_EQUAL(req.head, round % QSZ);
		CU_ASSERT_EQUAL(virtq_push(&q, &m, req.head, 0), 0);
	}
	CU_ASSERT_FALSE(q.broken);
	mem_free(&m);
}

int suite_virtq(void)
{
	static const struct unit_test t[] = {
		{ "normal chain, copy in and out, used ring", test_normal },
		{ "two-descriptor loop", test_loop },
		{ "descriptor that chains to itself", test_self_loop },
		{ "next index beyond the queue", test_next_out_of_range },
		{ "head index beyond the queue", test_head_out_of_range },
		{ "buffer straddling the end of RAM", test_addr_outside_ram },
		{ "buffer address that wraps", test_addr_wraps },
		{ "readable after writable", test_readable_after_writable },
		{ "indirect table not offered", test_indirect },
		{ "avail index jumps past the queue", test_avail_jump },
		{ "huge lengths", test_length_overflow },
		{ "bad ring layout", test_bad_layout },
		{ "ring indices wrap", test_full_ring_wraps },
		{ 0 }
	};
	return add_suite("virtqueue", t);
}
