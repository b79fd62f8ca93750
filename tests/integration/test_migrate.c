/* test_migrate: stop-and-copy live migration between two network namespaces
 * ("hosts") joined by a veth, inside the lab: the micro dirtier moved there
 * and back (its page checks pass on every host), a failed migration leaves
 * the VM running on the source, a receiver refuses a stream that is not one,
 * and a 2-vCPU Linux guest running the dirtier passes VERIFY after moving. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

#define V (char *)h_vmm()
#define IP "/usr/sbin/ip"
#define SOCK_A "/tmp/itest-a.sock"
#define SOCK_B "/tmp/itest-b.sock"

static int hosts_up(void)
{
	if (!h_need_kvm("migrate suite", 0))
		return 0;
	if (access("/lab/hosts-lab.sh", R_OK) != 0) {
		CU_FAIL("the migration tests run in the lab (they need /lab/hosts-lab.sh)");
		return 0;
	}
	h_sh("sh /lab/hosts-lab.sh down");
	return h_sh("sh /lab/hosts-lab.sh up") == 0;
}

static int migrate(const char *sock, const char *to, struct proc_result *r)
{
	h_run((char *[]){ V, "migrate", "--api", (char *)sock, "--to", (char *)to, NULL }, NULL,
	      NULL, 300, r);
	return r->status;
}

static void test_micro_there_and_back(void)
{
	struct proc a, b, a2;
	struct proc_result r;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "run", "--micro",
					    (char *)h_micro("dirtier.bin"), "--memory", "64M", "--api",
					    SOCK_A, NULL }, &a) == 0);
	CU_ASSERT_FATAL(h_wait_for(&a, "PASS 2\n", 0, 60) > 0);
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostB", V, "receive", "--listen",
					    "10.9.0.2:7001", "--api", SOCK_B, NULL }, &b) == 0);
	CU_ASSERT(h_wait_for(&b, "waiting", 0, 30) > 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7001", &r), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "downtime_ms:"));
	if (r.status)
		h_dump("migrate A->B", &r);
	h_free(&r);
	h_finish(&a, 30);
	CU_ASSERT_EQUAL(a.r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(a.r.out, "migrated to 10.9.0.2:7001"));
	h_free(&a.r);
	CU_ASSERT(h_wait_for(&b, "the VM runs here", 0, 30) > 0);
	CU_ASSERT(h_wait_for(&b, "PASS", 0, 60) > 0);
	/* And back to host A. */
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "receive", "--listen",
					    "10.9.0.1:7002", "--api", SOCK_A, NULL }, &a2) == 0);
	CU_ASSERT(h_wait_for(&a2, "waiting", 0, 30) > 0);
	CU_ASSERT_EQUAL(migrate(SOCK_B, "10.9.0.1:7002", &r), 0);
	h_free(&r);
	h_finish(&b, 30);
	CU_ASSERT_EQUAL(b.r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(b.r.out, "FAIL"));
	h_free(&b.r);
	CU_ASSERT(h_wait_for(&a2, "PASS", 0, 60) > 0);
	CU_ASSERT(h_wait_for(&a2, "PASS", a2.r.len, 60) > 0);
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "quit", NULL }, NULL, NULL, 30, &r);
	h_free(&r);
	h_finish(&a2, 30);
	CU_ASSERT_EQUAL(a2.r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(a2.r.out, "FAIL"));
	if (a2.r.status || strstr(a2.r.out, "FAIL"))
		h_dump("back on A", &a2.r);
	h_free(&a2.r);
}

static void test_failures_keep_the_vm(void)
{
	struct proc a, g;
	struct proc_result r;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "run", "--micro",
					    (char *)h_micro("dirtier.bin"), "--memory", "32M", "--api",
					    SOCK_A, NULL }, &a) == 0);
	CU_ASSERT_FATAL(h_wait_for(&a, "PASS 1\n", 0, 60) > 0);
	/* Nobody listens there: an error, and the VM runs on. */
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7999", &r), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "the VM keeps running here"));
	h_free(&r);
	CU_ASSERT(h_wait_for(&a, "PASS", a.r.len, 30) > 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "not-an-address", &r), 1);
	h_free(&r);
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "quit", NULL }, NULL, NULL, 30, &r);
	h_free(&r);
	h_finish(&a, 30);
	CU_ASSERT_EQUAL(a.r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(a.r.out, "FAIL"));
	h_free(&a.r);
	/* A receiver fed garbage says so and exits 1. */
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostB", V, "receive", "--listen",
					    "10.9.0.2:7003", NULL }, &g) == 0);
	CU_ASSERT(h_wait_for(&g, "waiting", 0, 30) > 0);
	h_sh(IP " netns exec hostA sh -c 'echo not a stream at all | nc 10.9.0.2 7003'");
	h_finish(&g, 30);
	CU_ASSERT_EQUAL(g.r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.r.out, "not a vmm state stream"));
	h_free(&g.r);
}

static void test_linux_migrates(void)
{
	struct proc a, b;
	struct proc_result r;
	long at;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "run", "--kernel",
					    (char *)h_guest("bzImage"), "--initrd",
					    (char *)h_guest("initrd"), "--memory", "256M", "--cpus", "2",
					    "--api", SOCK_A, "--cmdline",
					    "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=32 verify_s=2 heartbeat_ms=500",
					    NULL }, &a) == 0);
	CU_ASSERT_FATAL(h_wait_for(&a, "VERIFY OK", 0, 240) > 0);
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostB", V, "receive", "--listen",
					    "10.9.0.2:7004", "--api", SOCK_B, NULL }, &b) == 0);
	CU_ASSERT(h_wait_for(&b, "waiting", 0, 30) > 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7004", &r), 0);
	h_free(&r);
	h_finish(&a, 60);
	CU_ASSERT_EQUAL(a.r.status, 0);
	h_free(&a.r);
	at = h_wait_for(&b, "the VM runs here", 0, 60);
	CU_ASSERT(at > 0);
	CU_ASSERT(h_wait_for(&b, "HB ", at > 0 ? (size_t)at : 0, 60) > 0);
	CU_ASSERT(h_wait_for(&b, "VERIFY OK", at > 0 ? (size_t)at : 0, 120) > 0);
	h_run((char *[]){ V, "ctl", "--api", SOCK_B, "quit", NULL }, NULL, NULL, 30, &r);
	h_free(&r);
	h_finish(&b, 60);
	CU_ASSERT_EQUAL(b.r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(b.r.out, "VERIFY FAIL"));
	if (b.r.status || !strstr(b.r.out, "VERIFY OK"))
		h_dump("linux on B", &b.r);
	h_free(&b.r);
	h_sh("sh /lab/hosts-lab.sh down");
}

int suite_migrate(void)
{
	static const struct itest t[] = {
		{ "stop-copy: micro dirtier host A -> B -> A, checks pass", test_micro_there_and_back },
		{ "failures leave the VM running; garbage refused", test_failures_keep_the_vm },
		{ "stop-copy: Linux dirtier, 2 vCPUs, VERIFY OK on B", test_linux_migrates },
		{ 0 }
	};
	return add_isuite("migrate (lab)", t);
}
