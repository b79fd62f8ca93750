/* test_bus: range claims, overlap and freeze rules, dispatch. */
#include <errno.h>
#include <string.h>
#include "../../vmm/bus.h"
#include "suites.h"

struct fake { int reads, writes; uint64_t last_off; uint8_t last_val; };

static void fread_(void *d, uint64_t off, void *data, int size)
{
	struct fake *f = d;

	f->reads++;
	f->last_off = off;
	memset(data, 0x5a, size);
}

static void fwrite_(void *d, uint64_t off, const void *data, int size)
{
	struct fake *f = d;

	(void)size;
	f->writes++;
	f->last_off = off;
	f->last_val = *(const uint8_t *)data;
}

static const struct bus_ops ops = { fread_, fwrite_ };

static void test_dispatch(void)
{
	struct bus b;
	struct fake a = { 0 }, c = { 0 };
	uint8_t v = 0x33;
	uint32_t w = 0;

	bus_init(&b, "t");
	CU_ASSERT_EQUAL(bus_add(&b, 0x3f8, 8, &ops, &a), 0);
	CU_ASSERT_EQUAL(bus_add(&b, 0x60, 5, &ops, &c), 0);
	bus_freeze(&b);
	CU_ASSERT_EQUAL(bus_access(&b, 0x3fd, &v, 1, 1), 0);
	CU_ASSERT_EQUAL(a.writes, 1);
	CU_ASSERT_EQUAL(a.last_off, 5);
	CU_ASSERT_EQUAL(a.last_val, 0x33);
	CU_ASSERT_EQUAL(bus_access(&b, 0x64, &w, 4, 0), 0);
	CU_ASSERT_EQUAL(c.reads, 1);
	CU_ASSERT_EQUAL(w, 0x5a5a5a5a);
	/* Unclaimed addresses read as all ones and are counted. */
	CU_ASSERT_EQUAL(bus_access(&b, 0x400, &w, 4, 0), -ENOENT);
	CU_ASSERT_EQUAL(w, 0xffffffff);
	CU_ASSERT_EQUAL(bus_access(&b, 0x3f7, &w, 1, 1), -ENOENT);
	CU_ASSERT_EQUAL(bus_access(&b, 0x400, &w, 1, 1), -ENOENT);
	CU_ASSERT_EQUAL(b.unhandled, 3);
	bus_free(&b);
}

static void test_overlap_and_freeze(void)
{
	struct bus b;
	struct fake a;

	bus_init(&b, "t");
	CU_ASSERT_EQUAL(bus_add(&b, 0x100, 0x10, &ops, &a), 0);
	CU_ASSERT_EQUAL(bus_add(&b, 0x10f, 1, &ops, &a), -EEXIST);
	CU_ASSERT_EQUAL(bus_add(&b, 0xf0, 0x11, &ops, &a), -EEXIST);
	CU_ASSERT_EQUAL(bus_add(&b, 0xf0, 0x10, &ops, &a), 0);
	CU_ASSERT_EQUAL(bus_add(&b, 0x110, 0, &ops, &a), -EINVAL);
	CU_ASSERT_EQUAL(bus_add(&b, ~0ULL - 2, 8, &ops, &a), -EINVAL);
	bus_freeze(&b);
	CU_ASSERT_EQUAL(bus_add(&b, 0x200, 1, &ops, &a), -EPERM);
	bus_free(&b);
}

static void test_many_sorted(void)
{
	struct bus b;
	struct fake f[40];
	uint8_t v;

	memset(f, 0, sizeof(f));
	bus_init(&b, "t");
	/* Added in a scrambled order; lookups must still find each one. */
	for (int i = 0; i < 40; i++) {
		int k = (i * 17) % 40;

		CU_ASSERT_EQUAL(bus_add(&b, 0x1000 + k * 0x10, 8, &ops, &f[k]), 0);
	}
	bus_freeze(&b);
	for (int k = 0; k < 40; k++) {
		CU_ASSERT_EQUAL(bus_access(&b, 0x1000 + k * 0x10 + 7, &v, 1, 0), 0);
		CU_ASSERT_EQUAL(f[k].reads, 1);
		CU_ASSERT_EQUAL(bus_access(&b, 0x1000 + k * 0x10 + 8, &v, 1, 0), -ENOENT);
	}
	bus_free(&b);
}

int suite_bus(void)
{
	static const struct unit_test t[] = {
		{ "dispatch", test_dispatch },
		{ "overlap and freeze", test_overlap_and_freeze },
		{ "many ranges, scrambled order", test_many_sorted },
		{ 0 }
	};
	return add_suite("bus", t);
}
