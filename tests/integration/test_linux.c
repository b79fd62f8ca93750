/* test_linux: the Debian cloud kernel under our VMM: it boots to userspace
 * with 1, 2 and 4 vCPUs and sees them all and all its memory, poweroff and
 * reboot end the VMM with 0, the console takes input, and the dirtier's own
 * check passes. Needs hardware KVM (Intel or AMD). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

#define V (char *)h_vmm()
#define BOOT_TIMEOUT 240

static int need_hw_kvm(void)
{
	return h_need_kvm("linux suite", 1);
}

/* Boot with cpus, mem and extra command-line words; returns the result. */
static void boot(const char *cpus, const char *mem, const char *extra, const char *send_after,
		 const char *send, struct proc_result *r)
{
	char cmdline[512];

	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 panic=-1 quiet %s", extra);
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--kernel", (char *)h_guest("bzImage"),
					  "--initrd", (char *)h_guest("initrd"), "--cmdline",
					  cmdline, "--cpus", (char *)cpus, "--memory", (char *)mem,
					  NULL }, send_after, send, BOOT_TIMEOUT, r) == 0);
}

static void check_boot(const char *cpus, const char *mem, long want_cpus, long mem_mib)
{
	struct proc_result r;
	long kib;

	if (!need_hw_kvm())
		return;
	boot(cpus, mem, "workload=poweroff", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_FALSE(r.timed_out);
	CU_ASSERT_EQUAL(h_ready_field(r.out, "cpus"), want_cpus);
	kib = h_ready_field(r.out, "mem_kib");
	/* MemTotal is RAM less the kernel's own image and reservations. */
	CU_ASSERT(kib > mem_mib * 1024 * 80 / 100 && kib <= mem_mib * 1024);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "guest powered off"));
	if (r.status != 0 || h_ready_field(r.out, "cpus") != want_cpus)
		h_dump("boot", &r);
	else
		printf("[boot %s vCPU %s: READY cpus=%ld mem_kib=%ld in %.1f s] ", cpus, mem,
		       h_ready_field(r.out, "cpus"), kib, r.secs);
	h_free(&r);
}

static void test_1cpu_256m(void) { check_boot("1", "256M", 1, 256); }
static void test_2cpu_2g(void) { check_boot("2", "2G", 2, 2048); }
static void test_4cpu_512m(void) { check_boot("4", "512M", 4, 512); }

static void test_reboot(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	boot("1", "256M", "workload=reboot", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "guest rebooted"));
	if (r.status != 0)
		h_dump("reboot", &r);
	h_free(&r);
}

static void test_console_input(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	/* The idle workload's shell reads the console: type a command, read its
	 * answer, then power off from the shell. */
	boot("1", "256M", "workload=idle", "READY", "echo sum=$((40+2)); date +year=%Y; poweroff -f\n",
	     &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "sum=42"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "year=20"));	/* the guest knows the time */
	CU_ASSERT_PTR_NULL(strstr(r.out, "year=1970"));
	if (r.status != 0 || !strstr(r.out, "sum=42"))
		h_dump("console", &r);
	h_free(&r);
}

static void test_dirtier(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	boot("2", "256M", "workload=dirtier dirty_mib=32 dirty_secs=6 verify_s=2 heartbeat_ms=500",
	     NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "VERIFY OK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "HB 3 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "DIRTIER EXIT 0"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "VERIFY FAIL"));
	if (r.status != 0 || !strstr(r.out, "DIRTIER EXIT 0"))
		h_dump("dirtier", &r);
	h_free(&r);
}

int suite_linux(void)
{
	static const struct itest t[] = {
		{ "boot 1 vCPU, 256 MiB", test_1cpu_256m },
		{ "boot 2 vCPUs, 2 GiB", test_2cpu_2g },
		{ "boot 4 vCPUs, 512 MiB", test_4cpu_512m },
		{ "reboot ends the VMM with 0", test_reboot },
		{ "console input reaches the shell", test_console_input },
		{ "dirtier verifies its memory", test_dirtier },
		{ 0 }
	};
	return add_isuite("linux (lab tier)", t);
}
