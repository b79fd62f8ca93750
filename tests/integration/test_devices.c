/* test_devices: the virtio devices with the real Linux guest (lab tier):
 * a disk written, synced and read back across two boots and checked from the
 * host; a read-only disk; the entropy device; and TCP both ways between the
 * guest and a peer in another network namespace, checked by sha256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suites.h"

#define V (char *)h_vmm()
#define TIMEOUT 240
#define IMG "/tmp/itest-disk.img"

static int need_hw_kvm(void)
{
	return h_need_kvm("devices suite", 1);
}

/* Boot with one extra option pair (e.g. --disk PATH) and a workload. */
static void boot_with(const char *opt, const char *optval, const char *workload,
		      struct proc_result *r)
{
	char cmdline[256];

	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 panic=-1 quiet %s", workload);
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "-q", "--kernel", (char *)h_guest("bzImage"),
					  "--initrd", (char *)h_guest("initrd"), "--memory", "256M",
					  (char *)opt, (char *)optval, "--cmdline", cmdline, NULL },
			      NULL, NULL, TIMEOUT, r) == 0);
}

static void expect(struct proc_result *r, const char *marker)
{
	CU_ASSERT_EQUAL(r->status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->out, marker));
	if (r->status != 0 || !strstr(r->out, marker))
		h_dump(marker, r);
	h_free(r);
}

static void test_disk_persists(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	CU_ASSERT_FATAL(h_sh("rm -f " IMG " && dd if=/dev/zero of=" IMG " bs=1M count=64 2>/dev/null") == 0);
	boot_with("--disk", IMG, "workload=blkwrite", &r);
	expect(&r, "BLK-WRITE-OK");
	/* The host sees the data the guest flushed. */
	CU_ASSERT_EQUAL(h_sh("grep -q '^49999$' " IMG), 0);
	boot_with("--disk", IMG, "workload=blkread", &r);
	expect(&r, "BLK-READ-OK");
}

static void test_disk_readonly(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	CU_ASSERT_FATAL(h_sh("sha256sum " IMG " > /tmp/itest-disk.sum") == 0);
	boot_with("--disk", IMG ",readonly", "workload=blkro", &r);
	expect(&r, "BLK-RO-OK");
	CU_ASSERT_EQUAL(h_sh("sha256sum -c -s /tmp/itest-disk.sum"), 0);	/* untouched */
}

static void test_disk_missing(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	boot_with("--disk", "/nonexistent/disk.img", "workload=poweroff", &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--disk /nonexistent/disk.img"));
	CU_ASSERT_EQUAL(h_count_lines(r.out), 1);
	h_free(&r);
}

static void test_two_disks(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	CU_ASSERT_FATAL(h_sh("dd if=/dev/zero of=/tmp/itest-a.img bs=1M count=8 2>/dev/null && "
			   "dd if=/dev/zero of=/tmp/itest-b.img bs=1M count=16 2>/dev/null") == 0);
	CU_ASSERT_FATAL(h_run((char *[]){ V, "run", "-q", "--kernel", (char *)h_guest("bzImage"),
					  "--initrd", (char *)h_guest("initrd"), "--memory", "256M",
					  "--disk", "/tmp/itest-a.img,serial=FIRST", "--disk",
					  "/tmp/itest-b.img,readonly", "--cmdline",
					  "console=ttyS0 panic=-1 quiet workload=dmesg", NULL },
			      NULL, NULL, TIMEOUT, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 0);
	/* Both disks, in order, with their sizes; the second read-only. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "[vda] 16384 512-byte logical blocks"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "[vdb] 32768 512-byte logical blocks"));
	if (r.status != 0 || !strstr(r.out, "[vdb] 32768"))
		h_dump("two disks", &r);
	h_free(&r);
}

static void test_rng(void)
{
	struct proc_result r;

	if (!need_hw_kvm())
		return;
	boot_with("--memory", "256M", "workload=rng", &r);
	expect(&r, "RNG-OK");
}

static void test_net_tcp(void)
{
	struct proc_result r;
	char *rx, *tx, want_rx[80] = "", want_tx[80] = "";
	FILE *f;

	if (!need_hw_kvm())
		return;
	if (access("/lab/net-lab.sh", R_OK) != 0) {
		CU_FAIL("the network test runs in the lab (it needs /lab/net-lab.sh)");
		return;
	}
	h_sh("sh /lab/net-lab.sh down");
	CU_ASSERT_FATAL(h_sh("sh /lab/net-lab.sh up") == 0);
	CU_ASSERT_FATAL(h_sh("dd if=/dev/urandom of=/tmp/net-src.bin bs=1M count=4 2>/dev/null && "
			   "sha256sum < /tmp/net-src.bin | cut -d' ' -f1 > /tmp/net-src.sum") == 0);
	/* The peer serves 4 MiB on 5001 and stores what arrives on 5002. */
	CU_ASSERT_FATAL(h_sh("rm -f /tmp/net-dst.bin; "
			   "/usr/sbin/ip netns exec peer sh -c 'nc -l -p 5001 < /tmp/net-src.bin' & "
			   "/usr/sbin/ip netns exec peer sh -c 'sleep 300 | nc -l -p 5002 > /tmp/net-dst.bin' & "
			   "sleep 0.5") == 0);
	CU_ASSERT_FATAL(h_run((char *[]){ "/usr/sbin/ip", "netns", "exec", "vmhost", V, "run", "-q",
					  "--kernel", (char *)h_guest("bzImage"), "--initrd",
					  (char *)h_guest("initrd"), "--memory", "256M", "--net",
					  "tap=tap0", "--cmdline",
					  "console=ttyS0 panic=-1 quiet workload=net net_mib=4", NULL },
			      NULL, NULL, TIMEOUT, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 0);
	rx = strstr(r.out, "NET-RX ");
	tx = strstr(r.out, "NET-TX ");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "NET-DONE"));
	sleep(1);
	f = popen("cat /tmp/net-src.sum; sha256sum < /tmp/net-dst.bin | cut -d' ' -f1", "r");
	if (f) {
		if (!fgets(want_rx, sizeof(want_rx), f) || !fgets(want_tx, sizeof(want_tx), f))
			want_rx[0] = want_tx[0] = 0;
		pclose(f);
	}
	/* Guest received what the peer sent, peer received what the guest sent. */
	CU_ASSERT(rx && want_rx[0] && !strncmp(rx + 7, want_rx, 64));
	CU_ASSERT(tx && want_tx[0] && !strncmp(tx + 7, want_tx, 64));
	CU_ASSERT(rx && strstr(rx, " 4194304"));
	if (r.status != 0 || !rx || !tx || strncmp(rx + 7, want_rx, 64) || strncmp(tx + 7, want_tx, 64)) {
		fprintf(stderr, "want rx %s want tx %s\n", want_rx, want_tx);
		h_dump("net", &r);
	}
	h_free(&r);
	h_sh("sh /lab/net-lab.sh down; pkill -f 'nc -l -p 500' || true");
}

int suite_devices(void)
{
	static const struct itest t[] = {
		{ "disk: write, flush, poweroff, read back; host sees it", test_disk_persists },
		{ "disk: read-only refuses writes, image untouched", test_disk_readonly },
		{ "disk: missing image is one clear error", test_disk_missing },
		{ "two disks, in order, sizes right", test_two_disks },
		{ "entropy device feeds /dev/hwrng", test_rng },
		{ "network: 4 MiB TCP each way with a peer namespace", test_net_tcp },
		{ 0 }
	};
	return add_isuite("devices (lab tier)", t);
}
