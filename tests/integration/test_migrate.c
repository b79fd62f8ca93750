/* test_migrate: live migration between two network namespaces ("hosts")
 * joined by a veth, inside the lab (or on any host with KVM and namespaces):
 *   - the micro dirtier moved with pre-copy and back with stop-and-copy, its
 *     page checks passing on every host, with a JSON summary;
 *   - ping-pong: the same micro guest migrated 10 times;
 *   - failures (nobody listening, destination killed in the first round,
 *     link cut mid-stream, cancel) leave the VM running on the source;
 *   - garbage, truncated and corrupted streams are refused by the receiver;
 *   - Linux: the dirtier at 50 MB/s over 256 MiB with pre-copy; 2 vCPUs with
 *     a disk and a NIC still doing I/O after the move; ping-pong x10. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

#define V (char *)h_vmm()
#define IP "/usr/sbin/ip"
#define SOCK_A "/tmp/itest-a.sock"
#define SOCK_B "/tmp/itest-b.sock"
#define LINUX_CMDLINE "console=ttyS0 panic=-1 quiet "

static const char *hosts_script(void)
{
	if (access("/lab/hosts-lab.sh", R_OK) == 0)
		return "/lab/hosts-lab.sh";
	if (access("tests/integration/hosts-lab.sh", R_OK) == 0)
		return "tests/integration/hosts-lab.sh";
	return NULL;
}

static int hosts_up(void)
{
	char cmd[256];

	if (!h_need_kvm("migrate suite", 0))
		return 0;
	if (!hosts_script() || access(IP, X_OK) != 0) {
		CU_FAIL("the migration tests need iproute2 and hosts-lab.sh (run them in the lab)");
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "sh %s down", hosts_script());
	h_sh(cmd);
	snprintf(cmd, sizeof(cmd), "sh %s up", hosts_script());
	return h_sh(cmd) == 0;
}

static void hosts_down(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "sh %s down", hosts_script());
	h_sh(cmd);
}

/* vmm migrate from the VMM at sock to ADDR:PORT, extra options after. */
static int migrate(const char *sock, const char *to, const char *strategy, struct proc_result *r)
{
	h_run((char *[]){ V, "migrate", "--api", (char *)sock, "--to", (char *)to, "--strategy",
			  (char *)strategy, "--json", NULL }, NULL, NULL, 300, r);
	if (r->status)
		h_dump("vmm migrate", r);
	return r->status;
}

static int spawn_receiver(const char *host, const char *listen, const char *sock, struct proc *p)
{
	if (h_spawn((char *[]){ IP, "netns", "exec", (char *)host, V, "receive", "--listen",
				(char *)listen, "--api", (char *)sock, NULL }, p) < 0)
		return -1;
	return h_wait_for(p, "waiting", 0, 30) > 0 ? 0 : -1;
}

static int spawn_micro(const char *host, const char *mem, const char *sock, struct proc *p)
{
	if (h_spawn((char *[]){ IP, "netns", "exec", (char *)host, V, "run", "--micro",
				(char *)h_micro("dirtier.bin"), "--memory", (char *)mem, "--api",
				(char *)sock, NULL }, p) < 0)
		return -1;
	return h_wait_for(p, "PASS 2\n", 0, 60) > 0 ? 0 : -1;
}

static void quit(const char *sock, struct proc *p)
{
	struct proc_result r;

	h_run((char *[]){ V, "ctl", "--api", (char *)sock, "quit", NULL }, NULL, NULL, 30, &r);
	h_free(&r);
	h_finish(p, 60);
}

/* The guest's VMM at sock quits cleanly and its output has no FAIL. */
static void guest_done(struct proc *p, const char *sock, const char *what)
{
	quit(sock, p);
	CU_ASSERT_EQUAL(p->r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(p->r.out, "FAIL"));
	if (p->r.status || strstr(p->r.out, "FAIL"))
		h_dump(what, &p->r);
	h_free(&p->r);
}

/* The source ended with "migrated to"; the destination runs the VM. */
static void handed_over(struct proc *src, struct proc *dst, const char *to)
{
	char want[128];

	h_finish(src, 60);
	snprintf(want, sizeof(want), "migrated to %s", to);
	CU_ASSERT_EQUAL(src->r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(src->r.out, want));
	CU_ASSERT_PTR_NULL(strstr(src->r.out, "FAIL"));
	if (src->r.status || !strstr(src->r.out, want))
		h_dump("source", &src->r);
	h_free(&src->r);
	CU_ASSERT(h_wait_for(dst, "the VM runs here", 0, 60) > 0);
}

static void test_micro_precopy_and_back(void)
{
	struct proc a, b, a2;
	struct proc_result r;
	long at;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", "64M", SOCK_A, &a) == 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7001", SOCK_B, &b) == 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7001", "precopy", &r), 0);
	/* The JSON summary has the fields the issue names. */
	for (const char *k = "strategy\0total_ms\0downtime_ms\0bytes_sent\0pages_sent\0"
			     "zero_pages\0iterations\0dirty_rate_mbps\0bandwidth_mbps\0";
	     *k; k += strlen(k) + 1) {
		char key[64];

		snprintf(key, sizeof(key), "\"%s\":", k);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, key));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"state\":\"completed\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"strategy\":\"precopy\""));
	/* Pre-copy waited for B to catch up before the stun. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"drain_ms\":"));
	h_free(&r);
	handed_over(&a, &b, "10.9.0.2:7001");
	at = h_wait_for(&b, "the VM runs here", 0, 5);
	/* B backed the dirtier's pages before the transfer (resident.h). */
	CU_ASSERT(h_wait_for(&b, "MiB of guest RAM were backed", 0, 5) > 0);
	CU_ASSERT(h_wait_for(&b, "PASS", at > 0 ? (size_t)at : 0, 60) > 0);
	/* And back to host A with stop-and-copy. */
	CU_ASSERT_FATAL(spawn_receiver("hostA", "10.9.0.1:7002", SOCK_A, &a2) == 0);
	CU_ASSERT_EQUAL(migrate(SOCK_B, "10.9.0.1:7002", "stop-copy", &r), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"strategy\":\"stop-copy\""));
	h_free(&r);
	handed_over(&b, &a2, "10.9.0.1:7002");
	at = h_wait_for(&a2, "the VM runs here", 0, 5);
	CU_ASSERT(h_wait_for(&a2, "PASS", at > 0 ? (size_t)at : 0, 60) > 0);
	guest_done(&a2, SOCK_A, "back on A");
	hosts_down();
}

/* Migrate the guest in p (API sock) back and forth n times; p ends up
 * holding the VMM that runs it and *sock its socket. */
static void ping_pong(struct proc *p, const char **sock, int n, const char *what)
{
	for (int i = 0; i < n; i++) {
		const char *to_host = i % 2 ? "hostA" : "hostB";
		const char *to_sock = i % 2 ? SOCK_A : SOCK_B;
		char listen[32];
		struct proc next;
		struct proc_result r;
		long at;

		snprintf(listen, sizeof(listen), "10.9.0.%d:%d", i % 2 ? 1 : 2, 7100 + i);
		CU_ASSERT_FATAL(spawn_receiver(to_host, listen, to_sock, &next) == 0);
		CU_ASSERT_EQUAL_FATAL(migrate(*sock, listen, "precopy", &r), 0);
		h_free(&r);
		handed_over(p, &next, listen);
		at = h_wait_for(&next, "the VM runs here", 0, 5);
		CU_ASSERT(h_wait_for(&next, what, at > 0 ? (size_t)at : 0, 120) > 0);
		*p = next;
		*sock = to_sock;
	}
}

static void test_micro_ping_pong(void)
{
	struct proc a;
	const char *sock = SOCK_A;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", "32M", SOCK_A, &a) == 0);
	ping_pong(&a, &sock, 10, "PASS");
	guest_done(&a, sock, "after the ping-pong");
	hosts_down();
}

/* Does out hold one of the '|'-separated alternatives in want? */
static int says_one_of(const char *out, const char *want)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", want);
	for (char *w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save))
		if (strstr(out, w))
			return 1;
	return 0;
}

/* Start a slow migration (4 MiB/s, no compression: 64 MiB take 16 s) of the
 * micro guest in a, break it with cmd after 2 s, and check that the
 * migration fails with the VM still running on A and a message saying one
 * of the '|'-separated reasons in want. */
static void break_migration(struct proc *a, const char *cmd, const char *want)
{
	struct proc b, m;
	long at;

	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7010", SOCK_B, &b) == 0);
	CU_ASSERT_FATAL(h_spawn((char *[]){ V, "migrate", "--api", SOCK_A, "--to",
					    "10.9.0.2:7010", "--max-bandwidth", "4M", "--compress",
					    "none", NULL }, &m) == 0);
	sleep(2);
	if (!strcmp(cmd, "kill-destination")) {
		kill(b.pid, SIGKILL);
	} else if (!strcmp(cmd, "cancel")) {
		struct proc_result r;

		h_run((char *[]){ V, "ctl", "--api", SOCK_A, "migrate-cancel", NULL }, NULL, NULL,
		      30, &r);
		CU_ASSERT_EQUAL(r.status, 0);
		h_free(&r);
	} else {
		h_sh(cmd);
	}
	h_finish(&m, 90);
	CU_ASSERT_EQUAL(m.r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "the VM keeps running here"));
	CU_ASSERT(says_one_of(m.r.out, want));
	if (m.r.status != 1 || !says_one_of(m.r.out, want))
		h_dump(cmd, &m.r);
	h_free(&m.r);
	/* The source's guest goes on passing its checks. */
	at = (long)a->r.len;
	CU_ASSERT(h_wait_for(a, "PASS", (size_t)at, 30) > 0);
	kill(b.pid, SIGKILL);
	h_finish(&b, 30);
	h_free(&b.r);
}

static void test_failures_keep_the_vm(void)
{
	struct proc a;
	struct proc_result r;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", "64M", SOCK_A, &a) == 0);
	/* Nobody listens there. */
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7999", "precopy", &r), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "the VM keeps running here"));
	h_free(&r);
	h_run((char *[]){ V, "migrate", "--api", SOCK_A, "--to", "not-an-address", NULL }, NULL,
	      NULL, 60, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	h_free(&r);
	h_run((char *[]){ V, "migrate", "--api", SOCK_A, "--to", "10.9.0.2:1", "--strategy",
			  "sideways", NULL }, NULL, NULL, 60, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "unknown strategy"));
	h_free(&r);
	break_migration(&a, "kill-destination", "10.9.0.2:7010");
	/* With the link down the kernel reports either the send timeout or the
	 * lost route, depending on when the write blocked. */
	break_migration(&a, IP " -n hostA link set vethA down",
			"timed out|Network is unreachable|No route to host");
	h_sh(IP " -n hostA link set vethA up");
	break_migration(&a, "cancel", "cancelled");
	guest_done(&a, SOCK_A, "the source after the failures");
	hosts_down();
}

/* A receiver fed input that is not a good stream says why and exits 1. */
static void refuse(const char *feed, const char *want)
{
	struct proc g;
	char cmd[512];

	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostB", V, "receive",
					    "--listen", "10.9.0.2:7003", NULL }, &g) == 0);
	CU_ASSERT(h_wait_for(&g, "waiting", 0, 30) > 0);
	/* busybox's nc: the lab has it, and setup.sh installs busybox-static. */
	snprintf(cmd, sizeof(cmd), IP " netns exec hostA sh -c '%s | busybox nc 10.9.0.2 7003'",
		 feed);
	h_sh(cmd);
	h_finish(&g, 90);
	CU_ASSERT_EQUAL(g.r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.r.out, want));
	if (g.r.status != 1 || !strstr(g.r.out, want))
		h_dump(feed, &g.r);
	h_free(&g.r);
}

static void test_bad_streams(void)
{
	struct proc a;
	struct proc_result r;

	if (!hosts_up())
		return;
	/* A real stream to cut and corrupt: a snapshot of the micro guest. */
	CU_ASSERT_FATAL(spawn_micro("hostA", "32M", SOCK_A, &a) == 0);
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "snapshot", "path=/tmp/itest-mig.snap", NULL },
	      NULL, NULL, 60, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	h_free(&r);
	quit(SOCK_A, &a);
	h_free(&a.r);
	refuse("echo not a stream at all", "not a vmm state stream");
	refuse("head -c 300000 /tmp/itest-mig.snap", "truncated");
	refuse("{ head -c 200000 /tmp/itest-mig.snap; printf X; tail -c +200002 /tmp/itest-mig.snap; }",
	       "checksum mismatch");
	unlink("/tmp/itest-mig.snap");
	hosts_down();
}

static int spawn_linux(const char *mem, const char *cpus, const char *cmdline, const char *disk,
		       struct proc *p)
{
	char line[512];

	snprintf(line, sizeof(line), LINUX_CMDLINE "%s", cmdline);
	if (disk)
		return h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "run", "--kernel",
					   (char *)h_guest("bzImage"), "--initrd",
					   (char *)h_guest("initrd"), "--memory", (char *)mem,
					   "--cpus", (char *)cpus, "--api", SOCK_A, "--disk",
					   (char *)disk, "--net", "tap=tap0", "--cmdline", line,
					   NULL }, p);
	return h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "run", "--kernel",
				   (char *)h_guest("bzImage"), "--initrd", (char *)h_guest("initrd"),
				   "--memory", (char *)mem, "--cpus", (char *)cpus, "--api", SOCK_A,
				   "--cmdline", line, NULL }, p);
}

static void test_linux_precopy_dirtier(void)
{
	struct proc a, b;
	struct proc_result r;
	long at;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_linux("512M", "1", "workload=dirtier dirty_mib=256 dirty_rate=50 "
				    "verify_s=3 heartbeat_ms=500", NULL, &a) == 0);
	CU_ASSERT_FATAL(h_expect(&a, "VERIFY OK", 0, 240) > 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7004", SOCK_B, &b) == 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7004", "precopy", &r), 0);
	h_free(&r);
	handed_over(&a, &b, "10.9.0.2:7004");
	at = h_wait_for(&b, "the VM runs here", 0, 5);
	CU_ASSERT(h_wait_for(&b, "HB ", at > 0 ? (size_t)at : 0, 60) > 0);
	CU_ASSERT(h_wait_for(&b, "VERIFY OK", at > 0 ? (size_t)at : 0, 120) > 0);
	guest_done(&b, SOCK_B, "linux on B");
	hosts_down();
}

static void linux_devices_2cpus(const char *strategy)
{
	struct proc a, b;
	struct proc_result r;
	long at;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	h_sh("rm -f /tmp/itest-mig.img && dd if=/dev/zero of=/tmp/itest-mig.img bs=1M count=8 2>/dev/null");
	CU_ASSERT_FATAL(spawn_linux("256M", "2", "workload=devmix dirty_mib=32 dirty_rate=20 "
				    "verify_s=2 heartbeat_ms=500 net_ip=10.10.0.2/24 "
				    "net_peer=10.10.0.1", "/tmp/itest-mig.img", &a) == 0);
	CU_ASSERT_FATAL(h_expect(&a, "IO 3 OK", 0, 240) > 0);
	CU_ASSERT(h_wait_for(&a, "VERIFY OK", 0, 120) > 0);
	/* The destination has the same disk image and its own tap0. */
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostB", V, "receive", "--listen",
					    "10.9.0.2:7005", "--api", SOCK_B, "--disk",
					    "/tmp/itest-mig.img", "--net", "tap=tap0", NULL }, &b) == 0);
	CU_ASSERT_FATAL(h_expect(&b, "waiting", 0, 30) > 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7005", strategy, &r), 0);
	h_free(&r);
	handed_over(&a, &b, "10.9.0.2:7005");
	at = h_wait_for(&b, "the VM runs here", 0, 5);
	/* Two I/O rounds after the move (each "IO n OK" or "IO n FAIL", and
	 * guest_done fails on any FAIL), and a full verify. */
	at = h_wait_for(&b, "IO ", at > 0 ? (size_t)at : 0, 60);
	CU_ASSERT(at > 0 && h_wait_for(&b, "IO ", (size_t)at, 60) > 0);
	CU_ASSERT(at > 0 && h_wait_for(&b, "VERIFY OK", (size_t)at, 120) > 0);
	guest_done(&b, SOCK_B, "devmix on B");
	unlink("/tmp/itest-mig.img");
	hosts_down();
}

static void test_linux_devices_2cpus(void)
{
	linux_devices_2cpus("precopy");
}

/* Post-copy with devices: the destination's device emulation faults on
 * pages that are not there yet (rings, buffers) and is served like a vCPU. */
static void test_linux_devices_2cpus_postcopy(void)
{
	linux_devices_2cpus("postcopy");
}

static double json_num(const char *out, const char *key);

/* Signal every process whose command name is comm. */
static void kill_named(const char *comm, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[300], name[64] = "";
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f && fgets(name, sizeof(name), f) && !strncmp(name, comm, strlen(comm)) &&
		    name[strlen(comm)] == '\n')
			kill((pid_t)atoi(e->d_name), sig);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

/* The udpprobe tool: in the lab's /bin, or next to the VMM. */
static const char *probe_tool(void)
{
	static char path[512];
	const char *v = h_vmm(), *slash = strrchr(v, '/');

	if (access("/bin/udpprobe", X_OK) == 0)
		return "/bin/udpprobe";
	snprintf(path, sizeof(path), "%.*sudpprobe", slash ? (int)(slash - v + 1) : 0, v);
	return path;
}

/* Guest-observed interruption from outside: a UDP service in the guest on
 * the LAN (tap1), asked every 5 ms from namespace client (every 1 ms
 * overloads the emulated guest in the lab), answers before and after a
 * pre-copy move, up to the end. The figure goes to the log. */
static void test_linux_udp_probe(void)
{
	struct proc a, b, p;
	struct proc_result r;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostA", V, "run", "--kernel",
					    (char *)h_guest("bzImage"), "--initrd",
					    (char *)h_guest("initrd"), "--memory", "256M", "--api",
					    SOCK_A, "--net", "tap=tap1", "--cmdline",
					    LINUX_CMDLINE "workload=dirtier dirty_mib=32 dirty_rate=20 "
					    "verify_s=2 heartbeat_ms=500 net_ip=10.20.0.2/24 "
					    "net_echo=7", NULL }, &a) == 0);
	CU_ASSERT_FATAL(h_expect(&a, "VERIFY OK", 0, 240) > 0);
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "hostB", V, "receive", "--listen",
					    "10.9.0.2:7027", "--api", SOCK_B, "--net", "tap=tap1",
					    NULL }, &b) == 0);
	CU_ASSERT_FATAL(h_expect(&b, "waiting", 0, 30) > 0);
	CU_ASSERT_FATAL(h_spawn((char *[]){ IP, "netns", "exec", "client", (char *)probe_tool(),
					    "10.20.0.2:7", "120", "5000", NULL }, &p) == 0);
	sleep(3);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7027", "precopy", &r), 0);
	h_free(&r);
	handed_over(&a, &b, "10.9.0.2:7027");
	sleep(3);
	/* Not kill(p.pid): that is `ip netns exec`, which may have forked. */
	kill_named("udpprobe", SIGINT);
	h_finish(&p, 30);
	fprintf(stderr, "[probe: %.*s] ", (int)strcspn(p.r.out, "\n"), p.r.out);
	if (p.r.status || json_num(p.r.out, "replies") <= 500)
		h_dump("udpprobe", &p.r);
	CU_ASSERT_EQUAL(p.r.status, 0);
	CU_ASSERT(json_num(p.r.out, "replies") > 500);
	/* Replies came back after the move and went on to the end. */
	CU_ASSERT(json_num(p.r.out, "max_gap_ms") > 0);
	CU_ASSERT(json_num(p.r.out, "silent_end_ms") >= 0 &&
		  json_num(p.r.out, "silent_end_ms") < 500);
	h_free(&p.r);
	guest_done(&b, SOCK_B, "UDP service on B");
	hosts_down();
}

static void test_linux_ping_pong(void)
{
	struct proc a;
	const char *sock = SOCK_A;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_linux("256M", "1", "workload=dirtier dirty_mib=32 dirty_rate=20 "
				    "verify_s=1 heartbeat_ms=500", NULL, &a) == 0);
	CU_ASSERT_FATAL(h_expect(&a, "VERIFY OK", 0, 240) > 0);
	ping_pong(&a, &sock, 10, "VERIFY OK");
	guest_done(&a, sock, "linux after 10 migrations");
	hosts_down();
}

/* The number after "key": in a JSON line, or -1. */
static double json_num(const char *out, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(out, k);
	return p ? atof(p + strlen(k)) : -1;
}

/* Post-copy of the micro dirtier rewriting all of its 64 MiB flat out: it
 * runs on B at once, its checks pass, and every page arrived exactly once
 * (demanded or pushed; a page that came both ways is counted apart). */
static void test_micro_postcopy(void)
{
	struct proc a, b;
	struct proc_result r;
	long at;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", "64M", SOCK_A, &a) == 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7020", SOCK_B, &b) == 0);
	CU_ASSERT_EQUAL(migrate(SOCK_A, "10.9.0.2:7020", "postcopy", &r), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"postcopy\":true"));
	for (const char *k = "faults\0fault_latency_us\0pages_demanded\0pages_prefetched\0"
			     "pages_pushed\0postcopy_ms\0";
	     *k; k += strlen(k) + 1) {
		char key[64];

		snprintf(key, sizeof(key), "\"%s\":", k);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, key));
	}
	CU_ASSERT(json_num(r.out, "faults") > 0);
	CU_ASSERT_EQUAL(json_num(r.out, "pages_demanded") + json_num(r.out, "pages_prefetched") +
			json_num(r.out, "pages_pushed"), json_num(r.out, "ram_pages"));
	if (json_num(r.out, "pages_demanded") + json_num(r.out, "pages_prefetched") +
	    json_num(r.out, "pages_pushed") != json_num(r.out, "ram_pages"))
		h_dump("post-copy accounting", &r);
	h_free(&r);
	handed_over(&a, &b, "10.9.0.2:7020");
	at = h_wait_for(&b, "post-copy complete", 0, 60);
	CU_ASSERT(at > 0);
	CU_ASSERT(h_wait_for(&b, "PASS", at > 0 ? (size_t)at : 0, 60) > 0);
	guest_done(&b, SOCK_B, "post-copy on B");
	hosts_down();
}

/* Hybrid on the same guest, told to switch: a slow first round (4 MiB/s
 * raw) and `vmm ctl migrate-postcopy` one second in; what was not sent yet
 * comes by post-copy. */
static void test_micro_hybrid(void)
{
	struct proc a, b, m;
	struct proc_result r;
	long at;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", "64M", SOCK_A, &a) == 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7021", SOCK_B, &b) == 0);
	CU_ASSERT_FATAL(h_spawn((char *[]){ V, "migrate", "--api", SOCK_A, "--to", "10.9.0.2:7021",
					    "--strategy", "hybrid", "--max-bandwidth", "4M",
					    "--compress", "none", "--json", NULL }, &m) == 0);
	sleep(1);
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "migrate-postcopy", NULL }, NULL, NULL, 30, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	h_free(&r);
	h_finish(&m, 120);
	CU_ASSERT_EQUAL(m.r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "\"postcopy\":true"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "asked to switch"));
	/* The first round (16 s at 4 MiB/s) was cut short and is recorded. */
	CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "\"iterations\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "\"rounds\":[{\"start_ms\":"));
	if (m.r.status || !strstr(m.r.out, "\"postcopy\":true"))
		h_dump("hybrid", &m.r);
	h_free(&m.r);
	handed_over(&a, &b, "10.9.0.2:7021");
	at = h_wait_for(&b, "post-copy complete", 0, 60);
	CU_ASSERT(h_wait_for(&b, "PASS", at > 0 ? (size_t)at : 0, 60) > 0);
	guest_done(&b, SOCK_B, "hybrid on B");
	hosts_down();
}

/* Kill the destination in the middle of post-copy: the source says what
 * state the VM is in and keeps its memory (it stays up). */
/* The micro dirtier's memory for the tests that break a post-copy midway.
 * Natively (the direct tier) its faults pull 64 MiB in about half a second,
 * too close to how soon a test can act; 256 MiB takes about two. In the lab
 * 64 MiB takes long enough, and more would make the setup slow. */
static const char *post_copy_micro_mem(void)
{
	return access("/lab/hosts-lab.sh", R_OK) == 0 ? "64M" : "256M";
}

static void test_postcopy_destination_killed(void)
{
	struct proc a, b;
	struct proc_result r;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", post_copy_micro_mem(), SOCK_A, &a) == 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7022", SOCK_B, &b) == 0);
	{
		struct proc m;

		/* A slow push (4 MiB/s raw: 16 s or more) so that it is still
		 * going; on the direct tier the dirtier's faults pull its memory
		 * at full speed, so B dies as soon as it runs. */
		CU_ASSERT_FATAL(h_spawn((char *[]){ V, "migrate", "--api", SOCK_A, "--to",
						    "10.9.0.2:7022", "--strategy", "postcopy",
						    "--max-bandwidth", "4M", "--compress", "none",
						    NULL }, &m) == 0);
		CU_ASSERT(h_wait_for(&b, "the VM runs here", 0, 60) > 0);
		kill(b.pid, SIGKILL);
		h_finish(&m, 90);
		CU_ASSERT_EQUAL(m.r.status, 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "post-copy broke"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "stays stunned here with every page"));
		if (m.r.status != 1 || !strstr(m.r.out, "stays stunned here with every page"))
			h_dump("migrate, destination killed in post-copy", &m.r);
		h_free(&m.r);
	}
	h_finish(&b, 10);
	h_free(&b.r);
	/* The source VMM is still there, holding the memory, and says so. */
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "migrate-status", NULL }, NULL, NULL, 30, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "state: postcopy-paused"));
	h_free(&r);
	/* Its stale copy is not resumed (the VM ran on B), and a resume with
	 * nobody listening fails clearly and leaves it paused. */
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "resume", NULL }, NULL, NULL, 30, &r);
	CU_ASSERT_NOT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "run it twice"));
	h_free(&r);
	h_run((char *[]){ V, "migrate", "--api", SOCK_A, "--resume", NULL }, NULL, NULL, 60, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "postcopy-paused"));
	if (r.status != 1 || !strstr(r.out, "postcopy-paused"))
		h_dump("resume with no destination", &r);
	h_free(&r);
	/* Quitting it would throw away pages only it has: refused unless forced. */
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "quit", NULL }, NULL, NULL, 30, &r);
	CU_ASSERT_NOT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "force=true"));
	h_free(&r);
	h_run((char *[]){ V, "ctl", "--api", SOCK_A, "quit", "force=true", NULL }, NULL, NULL, 30,
	      &r);
	h_free(&r);
	h_finish(&a, 60);
	CU_ASSERT_EQUAL(a.r.status, 0);
	h_free(&a.r);
	hosts_down();
}

/* Post-copy from A (micro guest or Linux, in a) to `to`, slowed to rate so
 * that it is still pushing when the link is cut, settle seconds after the VM
 * runs on B (0 for the micro dirtier, which on the direct tier pulls its
 * memory through its faults whatever the rate: see post_copy_micro_mem).
 * The migration pauses (the source says postcopy-paused and keeps the VM
 * stunned); the link comes back; `vmm migrate --resume` finishes it, and
 * the source hands over. */
static void cut_and_resume(struct proc *a, struct proc *b, const char *to, const char *rate,
			   unsigned settle)
{
	struct proc m;
	struct proc_result r;
	long at;

	CU_ASSERT_FATAL(h_spawn((char *[]){ V, "migrate", "--api", SOCK_A, "--to", (char *)to,
					    "--strategy", "postcopy", "--max-bandwidth",
					    (char *)rate, "--compress", "none", "--json", NULL },
				&m) == 0);
	CU_ASSERT_FATAL(h_expect(b, "the VM runs here", 0, 120) > 0);
	sleep(settle);
	h_sh(IP " -n hostA link set vethA down");
	h_finish(&m, 120);
	CU_ASSERT_EQUAL(m.r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.r.out, "\"state\":\"postcopy-paused\""));
	if (m.r.status != 1 || !strstr(m.r.out, "postcopy-paused"))
		h_dump("post-copy with the link cut", &m.r);
	h_free(&m.r);
	h_sh(IP " -n hostA link set vethA up");
	sleep(1);
	at = (long)b->r.len;
	h_run((char *[]){ V, "migrate", "--api", SOCK_A, "--resume", "--json", NULL }, NULL, NULL,
	      300, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"state\":\"completed\""));
	CU_ASSERT(json_num(r.out, "resumes") == 1);
	if (r.status)
		h_dump("vmm migrate --resume", &r);
	h_free(&r);
	handed_over(a, b, to);
	CU_ASSERT(h_wait_for(b, "post-copy resumed", (size_t)at, 60) > 0);
	CU_ASSERT(h_wait_for(b, "post-copy complete", (size_t)at, 120) > 0);
}

/* The micro dirtier: its checks go on passing on B after the resume. */
static void test_micro_postcopy_cut_resume(void)
{
	struct proc a, b;
	long at;

	if (!hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_micro("hostA", post_copy_micro_mem(), SOCK_A, &a) == 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7025", SOCK_B, &b) == 0);
	cut_and_resume(&a, &b, "10.9.0.2:7025", "4M", 0);
	at = h_wait_for(&b, "post-copy complete", 0, 5);
	CU_ASSERT(h_wait_for(&b, "PASS", at > 0 ? (size_t)at : 0, 60) > 0);
	guest_done(&b, SOCK_B, "micro guest on B after the resume");
	hosts_down();
}

static void test_linux_postcopy(const char *strategy, const char *port)
{
	struct proc a, b;
	struct proc_result r;
	char to[32];
	long at;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	snprintf(to, sizeof(to), "10.9.0.2:%s", port);
	/* The dirtier flat out over 256 MiB. */
	CU_ASSERT_FATAL(spawn_linux("512M", "1", "workload=dirtier dirty_mib=256 dirty_rate=0 "
				    "verify_s=3 heartbeat_ms=500", NULL, &a) == 0);
	CU_ASSERT_FATAL(h_expect(&a, "VERIFY OK", 0, 240) > 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", to, SOCK_B, &b) == 0);
	/* Hybrid: a 1 ms target after two rounds cannot be met against this
	 * dirtier, so it must finish by post-copy. */
	h_run((char *[]){ V, "migrate", "--api", SOCK_A, "--to", to, "--strategy", (char *)strategy,
			  "--downtime-ms", "1", "--max-iterations", "2", "--json", NULL }, NULL,
	      NULL, 300, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"postcopy\":true"));
	/* The timeline: the start, the stun after it, and (hybrid: its two
	 * pre-copy rounds) each round recorded. */
	CU_ASSERT(json_num(r.out, "t0_mono_ms") > 0);
	CU_ASSERT(json_num(r.out, "stun_at_ms") > 0);
	if (!strcmp(strategy, "hybrid"))
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"rounds\":[{\"start_ms\":"));
	if (r.status)
		h_dump("migrate", &r);
	h_free(&r);
	handed_over(&a, &b, to);
	at = h_wait_for(&b, "the VM runs here", 0, 5);
	CU_ASSERT(h_wait_for(&b, "HB ", at > 0 ? (size_t)at : 0, 60) > 0);
	CU_ASSERT(h_wait_for(&b, "post-copy complete", 0, 120) > 0);
	CU_ASSERT(h_wait_for(&b, "VERIFY OK", at > 0 ? (size_t)at : 0, 120) > 0);
	guest_done(&b, SOCK_B, strategy);
	hosts_down();
}

/* Linux with the dirtier on 256 MiB: heartbeat and VERIFY OK on B after
 * the resume. */
static void test_linux_postcopy_cut_resume(void)
{
	struct proc a, b;
	long at;

	if (!h_need_kvm("migrate suite", 1) || !hosts_up())
		return;
	CU_ASSERT_FATAL(spawn_linux("512M", "1", "workload=dirtier dirty_mib=256 dirty_rate=20 "
				    "verify_s=3 heartbeat_ms=500", NULL, &a) == 0);
	CU_ASSERT_FATAL(h_expect(&a, "VERIFY OK", 0, 240) > 0);
	CU_ASSERT_FATAL(spawn_receiver("hostB", "10.9.0.2:7026", SOCK_B, &b) == 0);
	cut_and_resume(&a, &b, "10.9.0.2:7026", "8M", 2);
	at = h_wait_for(&b, "post-copy complete", 0, 5);
	CU_ASSERT(h_wait_for(&b, "HB ", at > 0 ? (size_t)at : 0, 60) > 0);
	CU_ASSERT(h_wait_for(&b, "VERIFY OK", at > 0 ? (size_t)at : 0, 120) > 0);
	guest_done(&b, SOCK_B, "postcopy resumed");
	hosts_down();
}

static void test_linux_postcopy_dirtier(void)
{
	test_linux_postcopy("postcopy", "7023");
}

static void test_linux_hybrid_dirtier(void)
{
	test_linux_postcopy("hybrid", "7024");
}

/* The micro guests' migrations: any /dev/kvm (the direct tier). */
int suite_migrate_micro(void)
{
	static const struct itest t[] = {
		{ "micro dirtier: precopy A -> B, stop-copy back, JSON summary",
		  test_micro_precopy_and_back },
		{ "micro dirtier: ping-pong, 10 migrations", test_micro_ping_pong },
		{ "killed destination, cut link, cancel: the VM keeps running",
		  test_failures_keep_the_vm },
		{ "garbage, truncated and corrupted streams refused", test_bad_streams },
		{ "micro dirtier flat out: postcopy, every page once", test_micro_postcopy },
		{ "micro dirtier: hybrid told to switch to post-copy", test_micro_hybrid },
		{ "destination killed in post-copy: the source keeps the memory",
		  test_postcopy_destination_killed },
		{ "micro dirtier: post-copy link cut, restored, resumed", test_micro_postcopy_cut_resume },
		{ 0 }
	};
	return add_isuite("migrate-micro", t);
}

/* The Linux guest's migrations: hardware KVM (the lab). */
int suite_migrate_linux(void)
{
	static const struct itest t[] = {
		{ "Linux: precopy, dirtier 50 MB/s over 256 MiB, VERIFY OK on B",
		  test_linux_precopy_dirtier },
		{ "Linux: 2 vCPUs, disk and NIC keep working after the move",
		  test_linux_devices_2cpus },
		{ "Linux: ping-pong, 10 precopy migrations, every VERIFY OK",
		  test_linux_ping_pong },
		{ "Linux: a UDP service on the LAN answers across the move (probe from outside)",
		  test_linux_udp_probe },
		{ "Linux: post-copy link cut, restored, resumed, VERIFY OK on B",
		  test_linux_postcopy_cut_resume },
		{ "Linux: postcopy, dirtier flat out over 256 MiB, VERIFY OK on B",
		  test_linux_postcopy_dirtier },
		{ "Linux: postcopy, 2 vCPUs, disk and NIC keep working after the move",
		  test_linux_devices_2cpus_postcopy },
		{ "Linux: hybrid, dirtier flat out over 256 MiB, VERIFY OK on B",
		  test_linux_hybrid_dirtier },
		{ 0 }
	};
	return add_isuite("migrate-linux", t);
}
