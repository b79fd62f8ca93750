/* virtqueue: split-ring walking with every guest value checked (see
 * virtqueue.h). Layout: descriptor table of 16-byte entries; avail ring
 * (flags, idx, ring[size]); used ring (flags, idx, {id, len}[size]). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include "virtqueue.h"

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define AVAIL_F_NO_INTERRUPT 1

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static int __attribute__((format(printf, 2, 3))) broken(struct virtq *q, const char *fmt, ...)
{
	va_list ap;

	q->broken = 1;
	va_start(ap, fmt);
	vsnprintf(q->why, sizeof(q->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int virtq_check_layout(struct virtq *q, const struct mem *m)
{
	uint64_t n = q->size;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return broken(q, "queue size %u is not a power of two up to %u", (unsigned)n,
			      VIRTQ_MAX_SIZE);
	if (!mem_hva(m, q->desc_gpa, 16 * n) || !mem_hva(m, q->avail_gpa, 6 + 2 * n) ||
	    !mem_hva(m, q->used_gpa, 6 + 8 * n))
		return broken(q, "a ring of the %u-entry queue lies outside guest RAM", (unsigned)n);
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return broken(q, "misaligned ring (size %u)", (unsigned)n);
	return 0;
}

static volatile uint16_t *avail_idx(const struct virtq *q, const struct mem *m)
{
	return mem_hva(m, q->avail_gpa + 2, 2);
}

int virtq_pop(struct virtq *q, const struct mem *m, struct virtq_req *req)
{
	const struct vdesc *table;
	uint16_t avail, head, i;
	const uint16_t *ring;
	int seen_writable = 0;

	if (q->broken || !q->enabled)
		return q->broken ? -EINVAL : 0;
	/* Checked at enable; checked again because the rings are guest data and
	 * RAM layout never changes, so this is cheap insurance. */
	table = mem_hva(m, q->desc_gpa, 16ULL * q->size);
	ring = mem_hva(m, q->avail_gpa + 4, 2ULL * q->size);
	if (!table || !ring || !avail_idx(q, m))
		return broken(q, "rings outside guest RAM");
	avail = __atomic_load_n(avail_idx(q, m), __ATOMIC_ACQUIRE);
	if (avail == q->last_avail)
		return 0;
	if ((uint16_t)(avail - q->last_avail) > q->size)
		return broken(q, "avail index jumped by %u on a %u-entry queue",
			      (unsigned)(uint16_t)(avail - q->last_avail), q->size);
	head = ring[q->last_avail % q->size];
	if (head >= q->size)
		return broken(q, "avail ring names descriptor %u of %u", head, q->size);
	req->head = head;
	req->nbufs = 0;
	req->readable = req->writable = 0;
	i = head;
	for (;;) {
		struct vdesc d;
		uint8_t *hva;

		memcpy(&d, &table[i], sizeof(d));
		if (req->nbufs == q->size)
			return broken(q, "descriptor chain from %u is longer than the queue (%u): a loop?",
				      head, q->size);
		if (d.flags & DESC_F_INDIRECT)
			return broken(q, "indirect descriptor %u, a feature we did not offer", i);
		hva = mem_hva(m, d.addr, d.len);
		if (!hva)
			return broken(q, "descriptor %u points outside guest RAM (%u bytes)", i, d.len);
		if (d.flags & DESC_F_WRITE) {
			seen_writable = 1;
			if (req->writable + d.len < req->writable)
				return broken(q, "chain from %u: writable length overflows", head);
			req->writable += d.len;
		} else {
			if (seen_writable)
				return broken(q, "chain from %u: readable descriptor %u after a writable one",
					      head, i);
			if (req->readable + d.len < req->readable)
				return broken(q, "chain from %u: readable length overflows", head);
			req->readable += d.len;
		}
		req->buf[req->nbufs++] = (struct virtq_buf){ hva, d.len, !!(d.flags & DESC_F_WRITE) };
		if (!(d.flags & DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return broken(q, "descriptor %u chains to %u, beyond the queue", i, d.next);
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

int virtq_push(struct virtq *q, const struct mem *m, uint16_t head, uint32_t written)
{
	uint8_t *used = mem_hva(m, q->used_gpa, 4 + 8ULL * q->size);
	uint32_t elem[2] = { head, written };
	uint16_t idx;

	if (!used || q->broken)
		return -EINVAL;
	memcpy(used + 4 + 8 * (q->used_idx % q->size), elem, 8);
	idx = ++q->used_idx;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n((uint16_t *)(used + 2), idx, __ATOMIC_RELEASE);
	mem_mark_dirty(m, used, 4 + 8ULL * q->size);
	return 0;
}

int virtq_complete(struct virtq *q, const struct mem *m, const struct virtq_req *req,
		   uint32_t written)
{
	for (int i = 0; i < req->nbufs; i++)
		if (req->buf[i].writable)
			mem_mark_dirty(m, req->buf[i].hva, req->buf[i].len);
	return virtq_push(q, m, req->head, written);
}

int virtq_should_notify(const struct virtq *q, const struct mem *m)
{
	const volatile uint16_t *flags = mem_hva(m, q->avail_gpa, 2);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !flags || !(*flags & AVAIL_F_NO_INTERRUPT);
}

static uint32_t copy(const struct virtq_req *req, int writable, uint32_t off, uint8_t *p,
		     uint32_t len, int to_guest)
{
	uint32_t done = 0;

	for (int i = 0; i < req->nbufs && done < len; i++) {
		const struct virtq_buf *b = &req->buf[i];
		uint32_t n;

		if (b->writable != writable)
			continue;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = b->len - off;
		if (n > len - done)
			n = len - done;
		if (to_guest)
			memcpy(b->hva + off, p + done, n);
		else
			memcpy(p + done, b->hva + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint32_t virtq_copy_from(const struct virtq_req *req, uint32_t off, void *dst, uint32_t len)
{
	return copy(req, 0, off, dst, len, 0);
}

uint32_t virtq_copy_to(const struct virtq_req *req, uint32_t off, const void *src, uint32_t len)
{
	return copy(req, 1, off, (uint8_t *)src, len, 1);
}

int virtq_iov(const struct virtq_req *req, int writable, uint32_t skip, uint64_t max,
	      struct iovec *iov, uint64_t *total)
{
	int n = 0;

	*total = 0;
	for (int i = 0; i < req->nbufs && *total < max; i++) {
		const struct virtq_buf *b = &req->buf[i];
		uint64_t take;

		if (b->writable != writable)
			continue;
		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		take = b->len - skip;
		if (take > max - *total)
			take = max - *total;
		iov[n].iov_base = b->hva + skip;
		iov[n++].iov_len = take;
		*total += take;
		skip = 0;
	}
	return n;
}
