/* test_opts: sizes, integers, and `vmm run` argument checking. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "../../cli/cli.h"
#include "../../cli/opts.h"
#include "suites.h"

static void test_sizes(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(opt_size("512M", &v), 0);
	CU_ASSERT_EQUAL(v, 512ULL << 20);
	CU_ASSERT_EQUAL(opt_size("2G", &v), 0);
	CU_ASSERT_EQUAL(v, 2ULL << 30);
	CU_ASSERT_EQUAL(opt_size("2GiB", &v), 0);
	CU_ASSERT_EQUAL(v, 2ULL << 30);
	CU_ASSERT_EQUAL(opt_size("64k", &v), 0);
	CU_ASSERT_EQUAL(v, 64ULL << 10);
	CU_ASSERT_EQUAL(opt_size("256", &v), 0);	/* bare number: MiB */
	CU_ASSERT_EQUAL(v, 256ULL << 20);
	CU_ASSERT_EQUAL(opt_size("1T", &v), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 40);
	CU_ASSERT(opt_size("", &v) < 0);
	CU_ASSERT(opt_size("abc", &v) < 0);
	CU_ASSERT(opt_size("12X", &v) < 0);
	CU_ASSERT(opt_size("12Mx", &v) < 0);
	CU_ASSERT(opt_size("0", &v) < 0);
	CU_ASSERT(opt_size("-5M", &v) < 0);
	CU_ASSERT(opt_size("99999999999999999999G", &v) < 0);
	CU_ASSERT(opt_size("9999999999999T", &v) < 0);
}

static void test_longs(void)
{
	long v;

	CU_ASSERT_EQUAL(opt_long("4", 1, 8, &v), 0);
	CU_ASSERT_EQUAL(v, 4);
	CU_ASSERT_EQUAL(opt_long("0x10", 0, 100, &v), 0);
	CU_ASSERT_EQUAL(v, 16);
	CU_ASSERT_EQUAL(opt_long("9", 1, 8, &v), -ERANGE);
	CU_ASSERT_EQUAL(opt_long("0", 1, 8, &v), -ERANGE);
	CU_ASSERT_EQUAL(opt_long("3x", 1, 8, &v), -EINVAL);
	CU_ASSERT_EQUAL(opt_long("", 1, 8, &v), -EINVAL);
}

#define ARGV(...) (char *[]){ "run", __VA_ARGS__, NULL }
#define ARGC(...) (int)(sizeof((char *[]){ "run", __VA_ARGS__ }) / sizeof(char *))
#define PARSE(o, ...) run_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o)

static void test_run_args(void)
{
	struct run_opts o;

	CU_ASSERT_EQUAL(PARSE(&o, "--kernel", "k"), 0);
	CU_ASSERT_STRING_EQUAL(o.kernel, "k");
	CU_ASSERT_EQUAL(o.mem_size, 512ULL << 20);
	CU_ASSERT_EQUAL(o.cpus, 1);
	CU_ASSERT_STRING_EQUAL(o.console, "stdio");
	CU_ASSERT_EQUAL(PARSE(&o, "-k", "k", "-i", "i", "-m", "2G", "-p", "4", "--cmdline", "x y"), 0);
	CU_ASSERT_EQUAL(o.mem_size, 2ULL << 30);
	CU_ASSERT_EQUAL(o.cpus, 4);
	CU_ASSERT_STRING_EQUAL(o.cmdline, "x y");
	CU_ASSERT_EQUAL(PARSE(&o, "--micro", "m", "--micro-arg", "5"), 0);
	CU_ASSERT_EQUAL(o.micro_arg, 5);
	CU_ASSERT_EQUAL(PARSE(&o, "--help"), 0);
	CU_ASSERT_EQUAL(o.help, 1);
	/* Errors: each must fail, with a message. */
	CU_ASSERT(PARSE(&o, "--memory", "1G") < 0);			/* no guest */
	CU_ASSERT(PARSE(&o, "--kernel", "k", "--micro", "m") < 0);
	CU_ASSERT(PARSE(&o, "--micro", "m", "--initrd", "i") < 0);
	CU_ASSERT(PARSE(&o, "--kernel", "k", "--cpus", "0") < 0);
	CU_ASSERT(PARSE(&o, "--kernel", "k", "--cpus", "many") < 0);
	CU_ASSERT(PARSE(&o, "--kernel", "k", "--memory", "lots") < 0);
	CU_ASSERT(PARSE(&o, "--kernel", "k", "--bogus") < 0);
	CU_ASSERT(PARSE(&o, "--kernel") < 0);				/* missing value */
	CU_ASSERT(PARSE(&o, "--kernel", "k", "stray") < 0);
	CU_ASSERT(PARSE(&o, "--kernel", "k", "--memory", "1025K") < 0);	/* not 4 KiB */
}

static void test_disk_net_specs(void)
{
	struct disk_spec d;
	struct net_spec n;

	CU_ASSERT_EQUAL(disk_spec_parse("/img/a.raw", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.path, "/img/a.raw");
	CU_ASSERT_EQUAL(d.readonly, 0);
	CU_ASSERT_STRING_EQUAL(d.serial, "a.raw");
	free((char *)d.path);
	CU_ASSERT_EQUAL(disk_spec_parse("b.img,readonly,serial=DISK42", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.path, "b.img");
	CU_ASSERT_EQUAL(d.readonly, 1);
	CU_ASSERT_STRING_EQUAL(d.serial, "DISK42");
	free((char *)d.path);
	CU_ASSERT(disk_spec_parse("", &d) < 0);
	CU_ASSERT(disk_spec_parse(",readonly", &d) < 0);
	CU_ASSERT(disk_spec_parse("x,bogus", &d) < 0);
	CU_ASSERT(disk_spec_parse("x,serial=123456789012345678901", &d) < 0);	/* 21 > 20 */

	CU_ASSERT_EQUAL(net_spec_parse("tap=tap0", 2, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.tap, "tap0");
	CU_ASSERT_EQUAL(n.mac[0], 0x52);
	CU_ASSERT_EQUAL(n.mac[5], 3);
	CU_ASSERT_EQUAL(net_spec_parse("tap=t1,mac=02:11:22:33:44:55", 0, &n), 0);
	CU_ASSERT_EQUAL(n.mac[1], 0x11);
	CU_ASSERT_EQUAL(n.mac[5], 0x55);
	CU_ASSERT(net_spec_parse("mac=02:11:22:33:44:55", 0, &n) < 0);		/* no tap */
	CU_ASSERT(net_spec_parse("tap=t1,mac=01:11:22:33:44:55", 0, &n) < 0);	/* multicast */
	CU_ASSERT(net_spec_parse("tap=t1,mac=zz:11:22:33:44:55", 0, &n) < 0);
	CU_ASSERT(net_spec_parse("tap=averyveryverylongname", 0, &n) < 0);
	CU_ASSERT(net_spec_parse("tap=t1,speed=10", 0, &n) < 0);
}

int suite_opts(void)
{
	static const struct unit_test t[] = {
		{ "sizes", test_sizes },
		{ "integers", test_longs },
		{ "vmm run arguments", test_run_args },
		{ "--disk and --net values", test_disk_net_specs },
		{ 0 }
	};
	return add_suite("options", t);
}
