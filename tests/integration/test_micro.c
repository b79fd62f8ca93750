/* test_micro: the direct tier. Freestanding guests on /dev/kvm exercise the
 * long-mode entry, port I/O exits, the exit path and the error report, and a
 * self-checking dirtier proves guest memory stays intact. */
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <termios.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

#define V (char *)h_vmm()

static int need_kvm(void)
{
	return h_need_kvm("micro suite", 0);
}

static void test_hello(void)
{
	struct proc_result r;

	if (!need_kvm())
		return;
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--micro", (char *)h_micro("hello.bin"),
					  "--micro-arg", "7", "--memory", "16M", NULL },
			      NULL, NULL, 60, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "hello from micro guest, ram=16MiB"));
	if (r.status != 7)
		h_dump("hello", &r);
	h_free(&r);
}

static void test_crash_reported(void)
{
	struct proc_result r;

	if (!need_kvm())
		return;
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--micro", (char *)h_micro("crash.bin"),
					  "--memory", "16M", NULL }, NULL, NULL, 60, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_FALSE(r.timed_out);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "about to crash"));
	/* The exit reason and the rip, on one error line. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "vmm: error: vCPU 0:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "rip 0x"));
	if (r.status != 1)
		h_dump("crash", &r);
	h_free(&r);
}

static void test_dirtier(void)
{
	struct proc_result r;

	if (!need_kvm())
		return;
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--micro", (char *)h_micro("dirtier.bin"),
					  "--micro-arg", "4", "--memory", "128M", NULL },
			      NULL, NULL, 120, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PASS 4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "DIRTIER OK"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "FAIL"));
	if (r.status != 0)
		h_dump("dirtier", &r);
	h_free(&r);
}

static void test_two_vcpus(void)
{
	struct proc_result r;

	if (!need_kvm())
		return;
	/* The second vCPU waits for INIT/SIPI; the VM must still exit cleanly. */
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--micro", (char *)h_micro("hello.bin"),
					  "--cpus", "2", "--memory", "16M", NULL },
			      NULL, NULL, 60, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 0);
	if (r.status != 0)
		h_dump("two vcpus", &r);
	h_free(&r);
}

static void test_pvm_refuses_linux(void)
{
	struct proc_result r;
	char dir[] = "/tmp/fakesys.XXXXXX", sub[64];

	if (!need_kvm())
		return;
	/* Make the VMM believe /dev/kvm is PVM: it must refuse a Linux kernel
	 * with one sentence instead of booting into a KVM internal error. */
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/kvm_pvm", dir);
	CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
	setenv("VMM_SYSFS_MODULES", dir, 1);
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--kernel", (char *)h_guest("bzImage"),
					  NULL }, NULL, NULL, 30, &r) == 0);
	unsetenv("VMM_SYSFS_MODULES");
	rmdir(sub);
	rmdir(dir);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PVM"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PVM-aware"));
	CU_ASSERT_EQUAL(h_count_lines(r.out), 1);
	if (r.status != 1)
		h_dump("pvm", &r);
	h_free(&r);
}

static void test_terminal(void)
{
	struct termios before, during, after;
	int master, slave, st = -1;
	pid_t pid;

	if (!need_kvm())
		return;
	/* A terminal on stdin: raw while the VMM runs, Ctrl-A x quits, restored after. */
	CU_ASSERT_FATAL(openpty(&master, &slave, NULL, NULL, NULL) == 0);
	tcgetattr(slave, &before);
	CU_ASSERT_FATAL(before.c_lflag & ICANON);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(slave, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(h_vmm(), h_vmm(), "run", "-q", "--micro", h_micro("dirtier.bin"), "--memory",
		      "16M", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {		/* wait (10 s at most) for raw mode */
		usleep(100000);
		tcgetattr(slave, &during);
		if (!(during.c_lflag & ICANON))
			break;
	}
	CU_ASSERT_FALSE(during.c_lflag & ICANON);
	CU_ASSERT_FALSE(during.c_lflag & ECHO);
	CU_ASSERT_EQUAL(write(master, "\x01x", 2), 2);	/* Ctrl-A x */
	for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		CU_FAIL("Ctrl-A x did not end the VMM");
	}
	tcgetattr(slave, &after);
	CU_ASSERT_EQUAL(after.c_lflag, before.c_lflag);
	CU_ASSERT_EQUAL(after.c_iflag, before.c_iflag);
	CU_ASSERT_EQUAL(after.c_oflag, before.c_oflag);
	close(master);
	close(slave);
}

int suite_micro(void)
{
	static const struct itest t[] = {
		{ "hello: output and exit code", test_hello },
		{ "crash: exit reason and rip reported", test_crash_reported },
		{ "dirtier: 4 checked passes over 126 MiB", test_dirtier },
		{ "two vCPUs", test_two_vcpus },
		{ "PVM refuses a Linux kernel", test_pvm_refuses_linux },
		{ "terminal: raw while running, Ctrl-A x quits, restored", test_terminal },
		{ 0 }
	};
	return add_isuite("micro (direct tier)", t);
}
