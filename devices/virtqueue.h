/* virtqueue: the checked walker of a split virtqueue (virtio 1.x, 2.7). Every
 * index and every descriptor address and length comes from the guest and is
 * checked before use: an index out of range, a loop or over-long chain, a
 * buffer outside guest RAM, a readable descriptor after a writable one or an
 * indirect table we never offered marks the queue broken, with a message,
 * and the device then reports DEVICE_NEEDS_RESET. The VMM never touches
 * memory outside guest RAM on the guest's say-so.
 *
 * A queue is used by one thread at a time (its device's lock). */
#ifndef DEVICES_VIRTQUEUE_H
#define DEVICES_VIRTQUEUE_H

#include <stdint.h>
#include "../vmm/mem.h"

#define VIRTQ_MAX_SIZE 256	/* entries we offer per queue */

struct virtq {
	uint16_t size;		/* entries: a power of two, <= VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;	/* next avail ring slot to take */
	uint16_t used_idx;	/* next used ring slot to fill */
	int enabled;
	int broken;
	char why[128];		/* why it broke */
};

struct virtq_buf {
	uint8_t *hva;		/* checked: inside guest RAM for len bytes */
	uint32_t len;
	int writable;		/* the device writes into it */
};

struct virtq_req {
	uint16_t head;		/* descriptor index to hand back */
	int nbufs;
	uint32_t readable;	/* bytes the device may read */
	uint32_t writable;	/* bytes the device may write */
	struct virtq_buf buf[VIRTQ_MAX_SIZE];
};

/* virtq_check_layout(q, m): are the three rings inside guest RAM and the size
 * valid? Returns 0 or -EINVAL, marking the queue broken. */
int virtq_check_layout(struct virtq *q, const struct mem *m);

/* virtq_pop(q, m, req): take the next available chain. Returns 1 with req
 * filled, 0 when none is available, -EINVAL when the guest's data is bad (the
 * queue is then broken and q->why says why). */
int virtq_pop(struct virtq *q, const struct mem *m, struct virtq_req *req);

/* virtq_push(q, m, head, written): return a chain with written bytes. The
 * used ring's page is marked dirty for migration (mem_mark_dirty). */
int virtq_push(struct virtq *q, const struct mem *m, uint16_t head, uint32_t written);

/* virtq_complete(q, m, req, written): the device is done with req: mark its
 * writable buffers dirty (the device wrote guest RAM behind KVM's back, so
 * pre-copy must resend them), then virtq_push. Devices call this. */
int virtq_complete(struct virtq *q, const struct mem *m, const struct virtq_req *req,
		   uint32_t written);

/* virtq_should_notify(q, m): does the driver want an interrupt now? */
int virtq_should_notify(const struct virtq *q, const struct mem *m);

/* virtq_copy_from(req, off, dst, len) / virtq_copy_to(req, off, src, len):
 * gather from readable or scatter into writable buffers starting at byte off
 * of that kind; return the bytes copied. */
uint32_t virtq_copy_from(const struct virtq_req *req, uint32_t off, void *dst, uint32_t len);
uint32_t virtq_copy_to(const struct virtq_req *req, uint32_t off, const void *src, uint32_t len);

/* virtq_iov(req, writable, skip, max, iov, total): iovecs over the buffers
 * of one kind (device-readable or device-writable), skipping the first skip
 * bytes and taking at most max; returns how many iovecs, *total the bytes. */
struct iovec;
int virtq_iov(const struct virtq_req *req, int writable, uint32_t skip, uint64_t max,
	      struct iovec *iov, uint64_t *total);

#endif
