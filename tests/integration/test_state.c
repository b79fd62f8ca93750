/* test_state: the VM's state as data. Direct tier (micro dirtier): snapshot a
 * running VM through the control API, restore it in a new process, twice, and
 * the guest's own page checks keep passing; corrupt, truncated and foreign
 * files are refused with one clear line; the API answers errors and carries
 * on. Lab tier (Linux): a guest running the dirtier is restored and its next
 * VERIFY passes and its heartbeat continues, also with a disk attached. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

#define V (char *)h_vmm()
#define SNAP "/tmp/itest-snap.bin"
#define SOCK "/tmp/itest-api.sock"

static int need_kvm(int hardware)
{
	return h_need_kvm("state suite", hardware);
}

/* vmm ctl --api SOCK ARGS...; returns its status, output in r (caller frees). */
static int ctl(struct proc_result *r, const char *cmd, const char *arg)
{
	h_run((char *[]){ V, "ctl", "--api", SOCK, (char *)cmd, (char *)arg, NULL }, NULL, NULL, 120,
	      r);
	return r->status;
}

static int ctl_ok(const char *cmd, const char *arg)
{
	struct proc_result r;
	int st = ctl(&r, cmd, arg);

	if (st != 0)
		h_dump(cmd, &r);
	h_free(&r);
	return st;
}

/* Count occurrences of s in text. */
static int count(const char *text, const char *s)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, s)); p += strlen(s))
		n++;
	return n;
}

static void test_micro_snapshot_restore_twice(void)
{
	struct proc p;
	struct proc_result r;

	if (!need_kvm(0))
		return;
	unlink(SNAP);
	CU_ASSERT_FATAL(h_spawn((char *[]){ V, "run", "--micro", (char *)h_micro("dirtier.bin"),
					    "--memory", "32M", "--api", SOCK, NULL }, &p) == 0);
	CU_ASSERT_FATAL(h_expect(&p, "PASS 2\n", 0, 60) > 0);
	CU_ASSERT_EQUAL(ctl(&r, "snapshot", "path=" SNAP), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "zero_pages:"));
	h_free(&r);
	/* The source runs on after the snapshot. */
	CU_ASSERT(h_wait_for(&p, "PASS", p.r.len, 30) > 0);
	CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
	h_finish(&p, 30);
	CU_ASSERT_EQUAL(p.r.status, 0);
	h_free(&p.r);
	for (int round = 0; round < 2; round++) {
		/* Each restore resumes mid-pass; the dirtier checks every page it
		 * touches against the previous pass, so lost or stale memory fails. */
		CU_ASSERT_FATAL(h_spawn((char *[]){ V, "run", "--restore", SNAP, "--api", SOCK, NULL },
					&p) == 0);
		CU_ASSERT(h_wait_for(&p, "restored", 0, 30) > 0);
		CU_ASSERT(h_wait_for(&p, "PASS", 0, 60) > 0);
		CU_ASSERT(h_wait_for(&p, "PASS", p.r.len, 60) > 0);
		CU_ASSERT_EQUAL(ctl_ok("status", NULL), 0);
		CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
		h_finish(&p, 30);
		CU_ASSERT_EQUAL(p.r.status, 0);
		CU_ASSERT_EQUAL(count(p.r.out, "FAIL"), 0);
		if (p.r.status != 0 || strstr(p.r.out, "FAIL"))
			h_dump("restore", &p.r);
		h_free(&p.r);
	}
}

/* Restore from a damaged copy of SNAP; expect status 1 and msg on one line. */
static void expect_refused(const char *how, const char *msg)
{
	struct proc_result r;
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s", how);
	CU_ASSERT_FATAL(h_run((char *[]){ "/bin/sh", "-c", cmd, NULL }, NULL, NULL, 60, &r) == 0);
	h_free(&r);
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "--restore", "/tmp/itest-bad.bin", NULL }, NULL,
			      NULL, 60, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "vmm: error: "));
	if (r.status != 1 || !strstr(r.out, msg))
		h_dump(msg, &r);
	h_free(&r);
}

static void test_bad_snapshots(void)
{
	if (!need_kvm(0))
		return;
	if (access(SNAP, R_OK) != 0) {
		CU_FAIL("no snapshot from the previous test");
		return;
	}
	expect_refused("head -c 5000000 " SNAP " > /tmp/itest-bad.bin", "truncated");
	/* One flipped byte deep inside RAM. */
	expect_refused("cp " SNAP " /tmp/itest-bad.bin && printf '\\377' | dd of=/tmp/itest-bad.bin "
		       "bs=1 seek=3000000 conv=notrunc 2>/dev/null", "checksum mismatch");
	expect_refused("cp /bin/busybox /tmp/itest-bad.bin", "not a vmm state stream");
	expect_refused(": > /tmp/itest-bad.bin", "truncated");
	unlink("/tmp/itest-bad.bin");
}

/* Send raw lines to the socket, return the reply lines. */
static void raw(const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = SOCK };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t got = 0;

	reply[0] = 0;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	if (write(fd, req, strlen(req)) < 0)
		goto out;
	shutdown(fd, SHUT_WR);
	for (ssize_t n; got < len - 1 && (n = read(fd, reply + got, len - 1 - got)) > 0;)
		got += (size_t)n;
	reply[got] = 0;
out:
	close(fd);
}

static void test_api_errors(void)
{
	struct proc p, q;
	struct proc_result r;
	char reply[4096];

	if (!need_kvm(0))
		return;
	CU_ASSERT_FATAL(h_spawn((char *[]){ V, "run", "--micro", (char *)h_micro("dirtier.bin"),
					    "--memory", "16M", "--api", SOCK, NULL }, &p) == 0);
	CU_ASSERT_FATAL(h_expect(&p, "PASS 1\n", 0, 60) > 0);
	/* Garbage, a bad request and a good one on one connection: each gets
	 * its answer and the connection carries on. */
	raw("{not json\n{\"execute\": 5}\n{\"execute\": \"status\"}\n", reply, sizeof(reply));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply, "ParseError"));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply, "InvalidRequest"));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply, "\"status\":\"running\""));
	CU_ASSERT_EQUAL(ctl(&r, "frobnicate", NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "unknown command 'frobnicate'"));
	h_free(&r);
	CU_ASSERT_EQUAL(ctl(&r, "inspect", "gpa=0xffffffffff"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "not guest RAM"));
	h_free(&r);
	CU_ASSERT_EQUAL(ctl(&r, "snapshot", NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "needs path"));
	h_free(&r);
	/* Pause and resume: status says so, and the guest goes on after. */
	CU_ASSERT_EQUAL(ctl_ok("pause", NULL), 0);
	CU_ASSERT_EQUAL(ctl(&r, "status", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "status: paused"));
	h_free(&r);
	CU_ASSERT_EQUAL(ctl_ok("resume", NULL), 0);
	CU_ASSERT(h_wait_for(&p, "PASS", p.r.len, 30) > 0);
	/* A second VMM may not take a live VMM's socket. */
	CU_ASSERT_FATAL(h_spawn((char *[]){ V, "run", "--micro", (char *)h_micro("hello.bin"),
					    "--memory", "16M", "--api", SOCK, NULL }, &q) == 0);
	h_finish(&q, 30);
	CU_ASSERT_EQUAL(q.r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.r.out, "another VMM is listening"));
	h_free(&q.r);
	CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
	h_finish(&p, 30);
	CU_ASSERT_EQUAL(p.r.status, 0);
	CU_ASSERT_EQUAL(count(p.r.out, "FAIL"), 0);
	h_free(&p.r);
	CU_ASSERT_EQUAL(access(SOCK, F_OK), -1);	/* the socket file is removed */
}

/* Linux: snapshot a guest running the dirtier, restore (twice, with disk). */
static void linux_round(int with_disk)
{
	struct proc p;
	struct proc_result r;
	const char *img = "/tmp/itest-state-disk.img";
	char *base[32] = { V, "run", "--kernel", (char *)h_guest("bzImage"), "--initrd",
			   (char *)h_guest("initrd"), "--memory", "256M", "--cpus", "2", "--api", SOCK,
			   "--cmdline",
			   "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=32 verify_s=2 heartbeat_ms=500" };
	char *rest[12] = { V, "run", "--restore", SNAP, "--api", SOCK };
	int n = 14, m = 6;

	if (!need_kvm(1))
		return;
	if (with_disk) {
		h_run((char *[]){ "/bin/sh", "-c", "dd if=/dev/zero of=/tmp/itest-state-disk.img bs=1M count=16 2>/dev/null", NULL }, NULL, NULL, 30, &r);
		h_free(&r);
		base[n++] = "--disk";
		base[n++] = (char *)img;
		rest[m++] = "--disk";
		rest[m++] = (char *)img;
	}
	base[n] = NULL;
	rest[m] = NULL;
	unlink(SNAP);
	CU_ASSERT_FATAL(h_spawn(base, &p) == 0);
	CU_ASSERT_FATAL(h_expect(&p, "VERIFY OK", 0, 240) > 0);
	CU_ASSERT_EQUAL(ctl_ok("snapshot", "path=" SNAP), 0);
	CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
	h_finish(&p, 60);
	h_free(&p.r);
	for (int round = 0; round < 2; round++) {
		long at;

		CU_ASSERT_FATAL(h_spawn(rest, &p) == 0);
		at = h_wait_for(&p, "restored", 0, 60);
		CU_ASSERT(at > 0);
		/* The guest goes on: heartbeats, then its own full check passes. */
		CU_ASSERT(h_wait_for(&p, "HB ", at > 0 ? (size_t)at : 0, 120) > 0);
		CU_ASSERT(h_wait_for(&p, "VERIFY OK", at > 0 ? (size_t)at : 0, 120) > 0);
		CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
		h_finish(&p, 60);
		CU_ASSERT_EQUAL(p.r.status, 0);
		CU_ASSERT_EQUAL(count(p.r.out, "VERIFY FAIL"), 0);
		if (p.r.status != 0 || !strstr(p.r.out, "VERIFY OK"))
			h_dump("linux restore", &p.r);
		h_free(&p.r);
	}
}

/* After a restore the console still takes input, the disk still answers, and
 * the guest's wall clock agrees with the host's (kvmclock carried real time). */
static void test_linux_console_clock(void)
{
	struct proc p;
	long at;
	char cmd[128];
	long guest_t;
	char *hit;

	if (!need_kvm(1))
		return;
	unlink(SNAP);
	{
		struct proc_result d;

		h_run((char *[]){ "/bin/sh", "-c", "dd if=/dev/zero of=/tmp/itest-cc.img bs=1M count=8 2>/dev/null", NULL }, NULL, NULL, 30, &d);
		h_free(&d);
	}
	CU_ASSERT_FATAL(h_spawn_input((char *[]){ V, "run", "--kernel", (char *)h_guest("bzImage"),
						  "--initrd", (char *)h_guest("initrd"), "--memory",
						  "256M", "--api", SOCK, "--disk", "/tmp/itest-cc.img",
						  "--cmdline",
						  "console=ttyS0 panic=-1 quiet workload=idle", NULL },
				&p) == 0);
	CU_ASSERT_FATAL(h_expect(&p, "READY", 0, 240) > 0);
	CU_ASSERT_EQUAL(ctl_ok("snapshot", "path=" SNAP), 0);
	CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
	h_finish(&p, 60);
	h_free(&p.r);
	sleep(3);	/* the clock must move on by this much too */
	CU_ASSERT_FATAL(h_spawn_input((char *[]){ V, "run", "--restore", SNAP, "--api", SOCK,
						  "--disk", "/tmp/itest-cc.img", NULL }, &p) == 0);
	at = h_wait_for(&p, "restored", 0, 60);
	CU_ASSERT_FATAL(at > 0);
	usleep(500000);
	/* Type a command; the disk must answer too (direct I/O reaches the device). */
	snprintf(cmd, sizeof(cmd), "dd if=/dev/vda of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null && "
		 "echo restored-$((6*7)) t=$(date +%%s) end\n");
	h_send(&p, cmd);
	/* Wait for the answer, not for the terminal's echo of the command. */
	at = h_wait_for(&p, "restored-42 t=", (size_t)at, 60);
	CU_ASSERT(at > 0);
	if (at > 0)
		h_wait_for(&p, " end", (size_t)at, 30);
	hit = strstr(p.r.out, "restored-42 t=");
	guest_t = hit ? strtol(hit + 14, NULL, 10) : 0;
	CU_ASSERT(guest_t > 0 && labs(guest_t - (long)time(NULL)) <= 5);
	if (!hit || labs(guest_t - (long)time(NULL)) > 5) {
		fprintf(stderr, "guest time %ld, host time %ld\n", guest_t, (long)time(NULL));
		h_dump("clock", &p.r);
	}
	h_send(&p, "poweroff -f\n");
	h_finish(&p, 60);
	CU_ASSERT_EQUAL(p.r.status, 0);
	if (p.r.status != 0)
		h_dump("console after restore", &p.r);
	h_free(&p.r);
}

/* A VM with a network card restores onto the same tap, in its namespace, and
 * the network works on: the guest reaches its peer before and after. */
static void test_linux_restore_net(void)
{
	struct proc p;
	struct proc_result r;
	long at;

	if (!need_kvm(1))
		return;
	if (access("/lab/net-lab.sh", R_OK) != 0) {
		CU_FAIL("runs in the lab (needs /lab/net-lab.sh)");
		return;
	}
	h_run((char *[]){ "/bin/sh", "-c", "sh /lab/net-lab.sh down; sh /lab/net-lab.sh up", NULL },
	      NULL, NULL, 60, &r);
	h_free(&r);
	unlink(SNAP);
	CU_ASSERT_FATAL(h_spawn_input((char *[]){ "/usr/sbin/ip", "netns", "exec", "vmhost", V, "run",
						  "--kernel", (char *)h_guest("bzImage"), "--initrd",
						  (char *)h_guest("initrd"), "--memory", "256M", "--api",
						  SOCK, "--net", "tap=tap0", "--cmdline",
						  "console=ttyS0 panic=-1 quiet workload=idle", NULL },
				&p) == 0);
	CU_ASSERT_FATAL(h_expect(&p, "READY", 0, 240) > 0);
	sleep(1);
	h_send(&p, "ip link set eth0 up; ip addr add 10.0.0.2/24 dev eth0; "
		   "ping -c1 -W5 10.0.0.1 >/dev/null && echo PING-BEFORE-OK\n");
	CU_ASSERT(h_wait_for(&p, "PING-BEFORE-OK", 0, 60) > 0);
	CU_ASSERT_EQUAL(ctl_ok("snapshot", "path=" SNAP), 0);
	CU_ASSERT_EQUAL(ctl_ok("quit", NULL), 0);
	h_finish(&p, 60);
	h_free(&p.r);
	/* Without the network option the restore is refused, with one line. */
	CU_ASSERT_EQUAL(h_run((char *[]){ V, "run", "--restore", SNAP, NULL }, NULL, NULL, 60, &r), 0);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "give the same --disk and --net"));
	h_free(&r);
	CU_ASSERT_FATAL(h_spawn_input((char *[]){ "/usr/sbin/ip", "netns", "exec", "vmhost", V, "run",
						  "--restore", SNAP, "--api", SOCK, "--net", "tap=tap0",
						  NULL }, &p) == 0);
	at = h_wait_for(&p, "restored", 0, 60);
	CU_ASSERT_FATAL(at > 0);
	usleep(500000);
	h_send(&p, "ping -c1 -W5 10.0.0.1 >/dev/null && echo PING-AFTER-OK\n");
	CU_ASSERT(h_wait_for(&p, "PING-AFTER-OK", (size_t)at, 60) > 0);
	h_send(&p, "poweroff -f\n");
	h_finish(&p, 60);
	CU_ASSERT_EQUAL(p.r.status, 0);
	if (!strstr(p.r.out, "PING-AFTER-OK"))
		h_dump("net after restore", &p.r);
	h_free(&p.r);
	h_run((char *[]){ "/bin/sh", "-c", "sh /lab/net-lab.sh down", NULL }, NULL, NULL, 60, &r);
	h_free(&r);
}

static void test_linux_restore(void) { linux_round(0); }
static void test_linux_restore_disk(void) { linux_round(1); }

int suite_state_micro(void)
{
	static const struct itest t[] = {
		{ "micro: snapshot, quit, restore twice; guest checks pass", test_micro_snapshot_restore_twice },
		{ "truncated, corrupt, foreign, empty snapshots refused", test_bad_snapshots },
		{ "API: errors answered, pause/resume, socket in use", test_api_errors },
		{ 0 }
	};
	return add_isuite("state (direct tier)", t);
}

int suite_state_linux(void)
{
	static const struct itest t[] = {
		{ "linux: dirtier restored twice, VERIFY OK after", test_linux_restore },
		{ "linux: the same with a disk attached", test_linux_restore_disk },
		{ "linux: console input, disk I/O, wall clock after restore", test_linux_console_clock },
		{ "linux: network card restored onto the same tap, peer reachable", test_linux_restore_net },
		{ 0 }
	};
	return add_isuite("state (lab tier)", t);
}
