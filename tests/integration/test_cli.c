/* test_cli: the command line as a user meets it: help, and every kind of bad
 * input ends with one clear line on stderr and a non-zero status, never a
 * crash. Needs no KVM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

/* Run vmm with args; expect status and exactly one output line containing msg. */
static void expect_error(char *const argv[], int status, const char *msg)
{
	struct proc_result r;

	CU_ASSERT_FATAL(h_run(argv, NULL, NULL, 20, &r) == 0);
	CU_ASSERT_EQUAL(r.status, status);
	CU_ASSERT_EQUAL(h_count_lines(r.out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "vmm: error: "));
	if (r.status != status || h_count_lines(r.out) != 1 || !strstr(r.out, msg))
		h_dump(msg, &r);
	h_free(&r);
}

#define V (char *)h_vmm()

static void test_help(void)
{
	struct proc_result r;

	CU_ASSERT_FATAL(h_run((char *[]){ V, "--help", NULL }, NULL, NULL, 10, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "run"));
	h_free(&r);
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--help", NULL }, NULL, NULL, 10, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--kernel"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--memory"));
	h_free(&r);
}

static void test_usage_errors(void)
{
	expect_error((char *[]){ V, "frobnicate", NULL }, 2, "unknown command");
	expect_error((char *[]){ V, "run", NULL }, 2, "no guest");
	expect_error((char *[]){ V, "run", "--kernel", "x", "--bogus", NULL }, 2, "unknown option");
	expect_error((char *[]){ V, "run", "--kernel", NULL }, 2, "needs a value");
	expect_error((char *[]){ V, "run", "--kernel", "x", "--cpus", "0", NULL }, 2, "--cpus");
	expect_error((char *[]){ V, "run", "--kernel", "x", "--memory", "12Q", NULL }, 2,
		     "--memory");
	expect_error((char *[]){ V, "migrate", "--api", "/tmp/x", NULL }, 2, "--to");
	expect_error((char *[]){ V, "migrate", "--api", "/tmp/x", "--resume", "--strategy",
				 "precopy", NULL }, 2, "--resume takes only");
	expect_error((char *[]){ V, "migrate", "--api", "/tmp/x", "--to", "1.2.3.4:5",
				 "--strategy", "sideways", NULL }, 1, "unknown strategy");
}

static void test_bad_files(void)
{
	char path[] = "/tmp/notakernel.XXXXXX";
	int fd = mkstemp(path);
	char junk[8192];

	memset(junk, 'x', sizeof(junk));
	CU_ASSERT_FATAL(fd >= 0 && write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	expect_error((char *[]){ V, "run", "--kernel", "/nonexistent/bzImage", NULL }, 1,
		     "cannot open /nonexistent/bzImage");
	expect_error((char *[]){ V, "run", "--kernel", path, NULL }, 1, "not a bzImage");
	expect_error((char *[]){ V, "run", "--kernel", "/tmp", NULL }, 1, "not a regular file");
	expect_error((char *[]){ V, "run", "--kernel", (char *)h_guest("bzImage"), "--initrd",
				 "/nonexistent/initrd", NULL }, 1, "cannot open /nonexistent/initrd");
	unlink(path);
}

static void test_resources(void)
{
	expect_error((char *[]){ V, "run", "--kernel", (char *)h_guest("bzImage"), "--memory",
				 "64T", NULL }, 1, "more than this host");
	expect_error((char *[]){ V, "run", "--kernel", (char *)h_guest("bzImage"), "--kvm",
				 "/nonexistent/kvm", NULL }, 1, "/nonexistent/kvm does not exist");
}

int suite_cli(void)
{
	static const struct itest t[] = {
		{ "help", test_help },
		{ "usage errors: one line, status 2", test_usage_errors },
		{ "unreadable and bad images", test_bad_files },
		{ "too much memory, no KVM device", test_resources },
		{ 0 }
	};
	return add_isuite("cli", t);
}
