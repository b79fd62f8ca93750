/* virtio-net: a network device on a host tap interface. Frames carry the
 * 12-byte virtio-net header, which the tap understands (IFF_VNET_HDR), so a
 * frame moves between a guest buffer and the tap in one readv or writev. No
 * offloads are offered: the guest computes checksums and segments.
 *
 * Receive: the tap fd sits in the I/O loop while the guest has posted receive
 * buffers; when it runs out we stop watching the tap (frames wait in the
 * tap's queue, none is dropped by us) until the guest posts more. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "../vmm/loop.h"
#include "../vmm/vm.h"
#include "virtio-devices.h"
#include "virtio-pci.h"

#define F_MAC		(1ULL << 5)
#define F_STATUS	(1ULL << 16)
#define S_LINK_UP	1
#define HDR_LEN		12
#define Q_RX		0
#define Q_TX		1
#define CONFIG_LEN	12

struct vnet {
	struct virtio_pci vp;
	struct loop *loop;
	int tap;
	int tap_watched;
	struct net_spec spec;
	uint8_t config[CONFIG_LEN];
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes, tx_dropped;	/* stats */
};

static void watch_tap(struct vnet *n, int on)
{
	if (n->tap_watched != on && loop_mod(n->loop, n->tap, on ? EPOLLIN : 0) == 0)
		n->tap_watched = on;
}

/* Move frames from the tap into posted receive buffers. Transport lock held. */
static void receive(struct vnet *n)
{
	static _Thread_local struct virtq_req req;
	static _Thread_local struct iovec iov[VIRTQ_MAX_SIZE];
	const struct mem *m = virtio_mem(&n->vp);
	struct virtq *q = virtio_queue(&n->vp, Q_RX);
	int got, done = 0;

	/* The tap fd is level-triggered: stop watching it whenever we cannot
	 * take its frames, or the I/O thread would spin. */
	if (!q->enabled || (n->vp.status & VIRTIO_STATUS_NEEDS_RESET)) {
		watch_tap(n, 0);
		return;
	}
	for (;;) {
		ssize_t len;
		uint16_t one = 1;
		uint64_t total;
		int cnt;

		got = virtq_pop(q, m, &req);
		if (got <= 0)
			break;
		cnt = virtq_iov(&req, 1, 0, req.writable, iov, &total);
		if (req.writable < HDR_LEN) {
			snprintf(q->why, sizeof(q->why), "receive buffer of %u bytes", req.writable);
			q->broken = 1;
			got = -EINVAL;
			break;
		}
		len = readv(n->tap, iov, cnt);
		if (len < 0) {
			q->last_avail--;	/* no frame: give the buffer back */
			break;
		}
		virtq_copy_to(&req, 10, &one, 2);	/* num_buffers */
		virtq_complete(q, m, &req, (uint32_t)len);
		n->rx_frames++;
		n->rx_bytes += (uint64_t)len - HDR_LEN;
		done++;
	}
	if (got < 0)
		virtio_broken(&n->vp, Q_RX);
	/* The loop ends with got == 1 only when the tap ran dry: keep watching
	 * it. With got == 0 the guest has no buffers left: stop watching the tap
	 * until it posts more (the frames wait in the tap's queue). */
	watch_tap(n, got == 1);
	if (done)
		virtio_used(&n->vp, Q_RX);
}

static void transmit(struct vnet *n)
{
	static _Thread_local struct virtq_req req;
	static _Thread_local struct iovec iov[VIRTQ_MAX_SIZE];
	const struct mem *m = virtio_mem(&n->vp);
	struct virtq *q = virtio_queue(&n->vp, Q_TX);
	int got, done = 0;

	while ((got = virtq_pop(q, m, &req)) == 1) {
		uint64_t total;
		int cnt = virtq_iov(&req, 0, 0, req.readable, iov, &total);

		if (req.readable < HDR_LEN || writev(n->tap, iov, cnt) < 0) {
			n->tx_dropped++;	/* like a full wire: the frame is lost */
		} else {
			n->tx_frames++;
			n->tx_bytes += req.readable - HDR_LEN;
		}
		virtq_complete(q, m, &req, 0);
		done++;
	}
	if (got < 0)
		virtio_broken(&n->vp, Q_TX);
	if (done)
		virtio_used(&n->vp, Q_TX);
}

static void net_notify(void *dev, int q)
{
	struct vnet *n = dev;

	if (q == Q_TX)
		transmit(n);
	else
		receive(n);	/* new buffers: take waiting frames */
}

static void on_tap(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct vnet *n = arg;

	(void)l;
	(void)fd;
	(void)events;
	pthread_mutex_lock(&n->vp.lock);
	/* Stunned or not running: leave frames in the tap until resumed. */
	if ((n->vp.status & VIRTIO_STATUS_DRIVER_OK) && !vm_paused(n->vp.vm))
		receive(n);
	else
		watch_tap(n, 0);
	pthread_mutex_unlock(&n->vp.lock);
}

static void net_activate(void *dev)
{
	struct vnet *n = dev;

	watch_tap(n, 1);
}

static void net_reset(void *dev)
{
	struct vnet *n = dev;

	watch_tap(n, 0);
}

static void net_config_read(void *dev, uint32_t off, void *data, int size)
{
	struct vnet *n = dev;

	memcpy(data, n->config + off, size);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = 1,
	.pci_class = 0x020000,
	.nqueues = 2,
	.config_len = CONFIG_LEN,
	.config_read = net_config_read,
	.queue_notify = net_notify,
	.activate = net_activate,
	.reset = net_reset,
};

int net_spec_parse(const char *arg, int index, struct net_spec *ns)
{
	size_t n;
	const char *p = arg;
	int have_tap = 0;

	memset(ns, 0, sizeof(*ns));
	ns->mac[0] = 0x52;
	ns->mac[1] = 0x54;
	ns->mac[5] = (uint8_t)(index + 1);
	while (*p) {
		n = strcspn(p, ",");
		if (n > 4 && !strncmp(p, "tap=", 4) && n - 4 < sizeof(ns->tap)) {
			memcpy(ns->tap, p + 4, n - 4);
			have_tap = 1;
		} else if (n == 21 && !strncmp(p, "mac=", 4)) {
			unsigned b[6];
			char tail;

			if (sscanf(p + 4, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				   &b[4], &b[5], &tail) < 6 || (b[0] & 1))
				return err_set(-EINVAL, "--net %s: bad MAC address", arg);
			for (int i = 0; i < 6; i++)
				ns->mac[i] = (uint8_t)b[i];
		} else {
			return err_set(-EINVAL, "--net %s: unknown or bad option '%.*s'", arg, (int)n,
				       p);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!have_tap)
		return err_set(-EINVAL, "--net %s: expected tap=NAME[,mac=MAC]", arg);
	return 0;
}

int virtio_net_create(struct vm *vm, struct loop *loop, struct pci_bus *pci,
		      const struct net_spec *spec, void **out)
{
	struct vnet *n = calloc(1, sizeof(*n));
	struct ifreq ifr;
	int hdr = HDR_LEN, r;
	uint16_t status = S_LINK_UP;

	if (!n)
		return err_set(-ENOMEM, "out of memory");
	n->spec = *spec;
	n->loop = loop;
	n->tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap < 0) {
		r = err_set(-errno, "--net tap=%s: /dev/net/tun: %s", spec->tap, strerror(errno));
		free(n);
		return r;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", spec->tap);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(n->tap, TUNSETIFF, &ifr) < 0) {
		r = err_set(-errno, "--net tap=%s: cannot attach: %s", spec->tap, strerror(errno));
		goto fail;
	}
	if (ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(n->tap, TUNSETOFFLOAD, 0) < 0) {
		r = err_set(-errno, "--net tap=%s: vnet header setup: %s", spec->tap,
			    strerror(errno));
		goto fail;
	}
	memcpy(n->config, spec->mac, 6);
	memcpy(n->config + 6, &status, 2);
	r = loop_add(loop, n->tap, 0, on_tap, n);
	if (r < 0)
		goto fail;
	r = virtio_pci_create(&n->vp, vm, loop, pci, &net_ops, n, F_MAC | F_STATUS);
	if (r < 0) {
		loop_del(loop, n->tap);
		goto fail;
	}
	*out = n;
	return 0;
fail:
	close(n->tap);
	free(n);
	return r;
}

void virtio_net_announce(void *dev)
{
	struct vnet *n = dev;
	uint8_t f[HDR_LEN + 60] = { 0 }, *e = f + HDR_LEN;
	static const uint8_t rarp[] = { 0x80, 0x35,		/* ethertype RARP */
					0, 1, 0x08, 0x00, 6, 4,	/* Ethernet, IPv4 */
					0, 3 };			/* reverse request */

	memset(e, 0xff, 6);			/* broadcast */
	memcpy(e + 6, n->spec.mac, 6);
	memcpy(e + 12, rarp, sizeof(rarp));
	memcpy(e + 22, n->spec.mac, 6);		/* sender MAC; sender IP 0 */
	memcpy(e + 32, n->spec.mac, 6);		/* target MAC; target IP 0 */
	if (write(n->tap, f, sizeof(f)) != (ssize_t)sizeof(f))
		log_warn("--net tap=%s: could not announce the guest's MAC: %s", n->spec.tap,
			 strerror(errno));
}

void virtio_net_free(void *dev)
{
	struct vnet *n = dev;

	virtio_pci_free(&n->vp);
	loop_del(n->loop, n->tap);
	close(n->tap);
	free(n);
}
