/* virtio-blk: a block device backed by a raw image file. Reads and writes go
 * straight to the file with preadv/pwritev (no cache of our own), FLUSH is
 * fdatasync, DISCARD punches holes. A request whose sectors fall outside the
 * image, or that writes to a read-only disk, fails with IOERR; a request too
 * malformed to carry a status byte breaks the queue. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "virtio-devices.h"
#include "virtio-pci.h"

#define F_SEG_MAX	(1ULL << 2)
#define F_RO		(1ULL << 5)
#define F_BLK_SIZE	(1ULL << 6)
#define F_FLUSH		(1ULL << 9)
#define F_DISCARD	(1ULL << 13)
#define T_IN		0
#define T_OUT		1
#define T_FLUSH		4
#define T_GET_ID	8
#define T_DISCARD	11
#define S_OK		0
#define S_IOERR		1
#define S_UNSUPP	2
#define SECTOR		512ULL
#define CONFIG_LEN	60
#define MAX_DISCARD_SEGS 32

struct vblk {
	struct virtio_pci vp;
	int fd;
	uint64_t size;		/* bytes, a multiple of 512 */
	struct disk_spec spec;
	uint8_t config[CONFIG_LEN];
	uint64_t reads, writes, flushes, errors;	/* stats */
};

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static int in_range(struct vblk *b, uint64_t sector, uint64_t len)
{
	return sector <= b->size / SECTOR && len <= b->size - sector * SECTOR;
}

/* Execute one request; returns the status byte and the bytes written to the
 * guest before it. */
static uint8_t execute(struct vblk *b, const struct virtq_req *req, const struct blk_hdr *h,
		       uint32_t *data_written)
{
	static _Thread_local struct iovec iov[VIRTQ_MAX_SIZE];
	uint64_t len;
	ssize_t n;
	int cnt;

	*data_written = 0;
	switch (h->type) {
	case T_IN:
		cnt = virtq_iov(req, 1, 0, req->writable - 1, iov, &len);
		if (!in_range(b, h->sector, len))
			return S_IOERR;
		n = preadv(b->fd, iov, cnt, (off_t)(h->sector * SECTOR));
		if (n < 0 || (uint64_t)n != len)
			return S_IOERR;
		*data_written = (uint32_t)len;
		b->reads++;
		return S_OK;
	case T_OUT:
		if (b->spec.readonly)
			return S_IOERR;
		cnt = virtq_iov(req, 0, sizeof(*h), req->readable - sizeof(*h), iov, &len);
		if (!in_range(b, h->sector, len))
			return S_IOERR;
		n = pwritev(b->fd, iov, cnt, (off_t)(h->sector * SECTOR));
		if (n < 0 || (uint64_t)n != len)
			return S_IOERR;
		b->writes++;
		return S_OK;
	case T_FLUSH:
		b->flushes++;
		return fdatasync(b->fd) == 0 ? S_OK : S_IOERR;
	case T_GET_ID:
		*data_written = virtq_copy_to(req, 0, b->spec.serial,
					      req->writable - 1 < 20 ? req->writable - 1 : 20);
		return S_OK;
	case T_DISCARD: {
		struct { uint64_t sector; uint32_t num, flags; } seg;
		uint32_t nseg = (req->readable - sizeof(*h)) / sizeof(seg);

		if (b->spec.readonly)
			return S_IOERR;
		if (nseg == 0 || nseg > MAX_DISCARD_SEGS)
			return S_IOERR;
		for (uint32_t i = 0; i < nseg; i++) {
			virtq_copy_from(req, sizeof(*h) + i * sizeof(seg), &seg, sizeof(seg));
			if (!in_range(b, seg.sector, (uint64_t)seg.num * SECTOR))
				return S_IOERR;
			if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(seg.sector * SECTOR), (off_t)seg.num * SECTOR) < 0 &&
			    errno != EOPNOTSUPP)
				return S_IOERR;
		}
		return S_OK;
	}
	default:
		return S_UNSUPP;
	}
}

static void blk_notify(void *dev, int qi)
{
	struct vblk *b = dev;
	const struct mem *m = virtio_mem(&b->vp);
	struct virtq *q = virtio_queue(&b->vp, qi);
	static _Thread_local struct virtq_req req;
	int got, n = 0;

	while ((got = virtq_pop(q, m, &req)) == 1) {
		struct blk_hdr h;
		uint32_t data = 0;
		uint8_t status;

		/* A request needs a header to read and a status byte to write. */
		if (req.readable < sizeof(h) || req.writable < 1) {
			snprintf(q->why, sizeof(q->why),
				 "request %u without header or status byte", req.head);
			q->broken = 1;
			got = -EINVAL;
			break;
		}
		virtq_copy_from(&req, 0, &h, sizeof(h));
		status = execute(b, &req, &h, &data);
		if (status != S_OK)
			b->errors++;
		virtq_copy_to(&req, req.writable - 1, &status, 1);
		virtq_complete(q, m, &req, data + 1);
		n++;
	}
	if (got < 0)
		virtio_broken(&b->vp, qi);
	if (n)
		virtio_used(&b->vp, qi);
}

static void blk_config_read(void *dev, uint32_t off, void *data, int size)
{
	struct vblk *b = dev;

	memcpy(data, b->config + off, size);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = 2,
	.pci_class = 0x018000,
	.nqueues = 1,
	.config_len = CONFIG_LEN,
	.config_read = blk_config_read,
	.queue_notify = blk_notify,
};

int disk_spec_parse(const char *arg, struct disk_spec *d)
{
	size_t n = strcspn(arg, ",");
	const char *p = arg + n, *base;

	memset(d, 0, sizeof(*d));
	if (n == 0)
		return err_set(-EINVAL, "--disk '%s': expected PATH[,readonly][,serial=ID]", arg);
	while (*p == ',') {
		p++;
		n = strcspn(p, ",");
		if ((n == 8 && !strncmp(p, "readonly", 8)) || (n == 2 && !strncmp(p, "ro", 2)))
			d->readonly = 1;
		else if (n > 7 && n - 7 < sizeof(d->serial) && !strncmp(p, "serial=", 7))
			memcpy(d->serial, p + 7, n - 7);
		else
			return err_set(-EINVAL, "--disk %s: unknown or bad option '%.*s'", arg,
				       (int)n, p);
		p += n;
	}
	d->path = strndup(arg, strcspn(arg, ","));	/* owned by the caller's spec */
	if (!d->path)
		return err_set(-ENOMEM, "out of memory");
	if (!d->serial[0]) {
		base = strrchr(d->path, '/');
		snprintf(d->serial, sizeof(d->serial), "%s", base ? base + 1 : d->path);
	}
	return 0;
}

int virtio_blk_create(struct vm *vm, struct loop *loop, struct pci_bus *pci,
		      const struct disk_spec *spec, void **out)
{
	struct vblk *b = calloc(1, sizeof(*b));
	uint64_t features = F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_DISCARD;
	uint32_t seg_max = VIRTQ_MAX_SIZE - 2, blk = 512, dmax = UINT_MAX, dseg = MAX_DISCARD_SEGS;
	uint32_t dalign = 8;
	struct stat st;
	int r;

	if (!b)
		return err_set(-ENOMEM, "out of memory");
	b->spec = *spec;
	b->fd = open(spec->path, (spec->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		r = err_set(-errno, "--disk %s: %s", spec->path, strerror(errno));
		free(b);
		return r;
	}
	if (fstat(b->fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(b->fd);
		free(b);
		return err_set(-EINVAL, "--disk %s: not a regular file or block device", spec->path);
	}
	b->size = (uint64_t)lseek(b->fd, 0, SEEK_END) & ~(SECTOR - 1);
	if (b->size == 0)
		log_warn("--disk %s: the image is empty (less than 512 bytes)", spec->path);
	if (spec->readonly)
		features |= F_RO;
	{
		uint64_t sectors = b->size / SECTOR;

		memcpy(b->config + 0, &sectors, 8);
		memcpy(b->config + 12, &seg_max, 4);
		memcpy(b->config + 20, &blk, 4);
		memcpy(b->config + 36, &dmax, 4);
		memcpy(b->config + 40, &dseg, 4);
		memcpy(b->config + 44, &dalign, 4);
	}
	r = virtio_pci_create(&b->vp, vm, loop, pci, &blk_ops, b, features);
	if (r < 0) {
		close(b->fd);
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

void virtio_blk_free(void *dev)
{
	struct vblk *b = dev;

	virtio_pci_free(&b->vp);
	close(b->fd);
	free(b);
}
