/* virtio-pci: modern PCI transport (see virtio-pci.h and virtio 1.x 4.1). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "../vmm/loop.h"
#include "../vmm/vm.h"
#include "virtio-pci.h"
#include "../migration/stream.h"

/* Layout of BAR 0. */
#define BAR_SIZE	0x8000
#define OFF_COMMON	0x0000
#define LEN_COMMON	0x0038
#define OFF_ISR		0x1000
#define OFF_DEVICE	0x2000
#define LEN_DEVICE	0x1000
#define OFF_NOTIFY	0x3000
#define NOTIFY_MULT	4
#define OFF_MSIX_TABLE	0x4000
#define OFF_MSIX_PBA	0x5000

enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4 };

struct virtq *virtio_queue(struct virtio_pci *vp, int q)
{
	return q >= 0 && q < vp->ops->nqueues ? &vp->vq[q] : NULL;
}

uint64_t virtio_features(struct virtio_pci *vp)
{
	return vp->guest_features;
}

const struct mem *virtio_mem(struct virtio_pci *vp)
{
	return &vp->vm->mem;
}

void virtio_used(struct virtio_pci *vp, int q)
{
	if (!virtq_should_notify(&vp->vq[q], &vp->vm->mem))
		return;
	vp->isr |= 1;
	if (msix_notify(&vp->msix, vp->vq_vector[q]) == 0)
		vp->interrupts++;
}

void virtio_broken(struct virtio_pci *vp, int q)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("%s: queue %d: %s; the device needs a reset", vp->ops->name, q, vp->vq[q].why);
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	vp->isr |= 2;
	msix_notify(&vp->msix, vp->msix_config);
}

static void reset(struct virtio_pci *vp)
{
	if (vp->ops->reset)
		vp->ops->reset(vp->dev);
	vp->status = 0;
	vp->isr = 0;
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->msix_config = MSIX_NO_VECTOR;
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		memset(&vp->vq[q], 0, sizeof(vp->vq[q]));
		vp->vq[q].size = VIRTQ_MAX_SIZE;
		vp->vq_vector[q] = MSIX_NO_VECTOR;
	}
}

static void set_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		reset(vp);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Refuse features we did not offer, and a driver without VERSION_1. */
		if ((vp->guest_features & ~vp->host_features) ||
		    !(vp->guest_features & VIRTIO_F_VERSION_1))
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    vp->ops->activate)
		vp->ops->activate(vp->dev);
	vp->status = (uint8_t)(v | (vp->status & VIRTIO_STATUS_NEEDS_RESET));
}

/* The common configuration as the driver sees it, byte for byte: reads of
 * any width at any offset are a copy out of this image. */
static void common_image(struct virtio_pci *vp, uint8_t img[LEN_COMMON])
{
	int sel = vp->queue_select < vp->ops->nqueues;
	struct virtq *q = &vp->vq[sel ? vp->queue_select : 0];
	uint32_t df = vp->dfselect < 2 ? (uint32_t)(vp->host_features >> (32 * vp->dfselect)) : 0;
	uint32_t gf = vp->gfselect < 2 ? (uint32_t)(vp->guest_features >> (32 * vp->gfselect)) : 0;
	uint16_t nq = (uint16_t)vp->ops->nqueues, size = sel ? q->size : 0;
	uint16_t vec = sel ? vp->vq_vector[vp->queue_select] : MSIX_NO_VECTOR;
	uint16_t en = sel ? (uint16_t)q->enabled : 0, noff = sel ? vp->queue_select : 0;
	uint64_t desc = sel ? q->desc_gpa : 0, avail = sel ? q->avail_gpa : 0;
	uint64_t used = sel ? q->used_gpa : 0;

	memcpy(img + 0x00, &vp->dfselect, 4);
	memcpy(img + 0x04, &df, 4);
	memcpy(img + 0x08, &vp->gfselect, 4);
	memcpy(img + 0x0c, &gf, 4);
	memcpy(img + 0x10, &vp->msix_config, 2);
	memcpy(img + 0x12, &nq, 2);
	img[0x14] = vp->status;
	img[0x15] = vp->config_gen;
	memcpy(img + 0x16, &vp->queue_select, 2);
	memcpy(img + 0x18, &size, 2);
	memcpy(img + 0x1a, &vec, 2);
	memcpy(img + 0x1c, &en, 2);
	memcpy(img + 0x1e, &noff, 2);
	memcpy(img + 0x20, &desc, 8);
	memcpy(img + 0x28, &avail, 8);
	memcpy(img + 0x30, &used, 8);
}

/* Write the low (hi=0) or high half of a 64-bit queue address. */
static void set_half(uint64_t *reg, int hi, uint32_t v)
{
	*reg = hi ? (*reg & 0xffffffffULL) | ((uint64_t)v << 32) : (*reg & ~0xffffffffULL) | v;
}

static void common_write(struct virtio_pci *vp, uint32_t off, uint64_t v, int size)
{
	struct virtq *q = vp->queue_select < vp->ops->nqueues ? &vp->vq[vp->queue_select] : NULL;
	int live = q && q->enabled;	/* the spec forbids changing an enabled queue */

	switch (off) {
	case 0x00: vp->dfselect = (uint32_t)v; break;
	case 0x08: vp->gfselect = (uint32_t)v; break;
	case 0x0c:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
			vp->guest_features = vp->gfselect ?
				(vp->guest_features & 0xffffffffULL) | (v << 32) :
				(vp->guest_features & ~0xffffffffULL) | (uint32_t)v;
		break;
	case 0x10: vp->msix_config = (uint16_t)v; break;
	case 0x14: set_status(vp, (uint8_t)v); break;
	case 0x16: vp->queue_select = (uint16_t)v; break;
	case 0x18:
		if (q && !live && v && v <= VIRTQ_MAX_SIZE && !(v & (v - 1)))
			q->size = (uint16_t)v;
		break;
	case 0x1a:
		if (q)
			vp->vq_vector[vp->queue_select] = v < vp->msix.nvec ? (uint16_t)v :
								MSIX_NO_VECTOR;
		break;
	case 0x1c:
		if (q && v == 1 && !live) {
			q->last_avail = q->used_idx = 0;
			q->broken = 0;
			if (virtq_check_layout(q, &vp->vm->mem) < 0) {
				q->enabled = 1;
				virtio_broken(vp, vp->queue_select);
				q->enabled = 0;
			} else {
				q->enabled = 1;
			}
		}
		break;
	case 0x20: case 0x24:
		if (q && !live)
			set_half(&q->desc_gpa, off == 0x24, (uint32_t)v);
		break;
	case 0x28: case 0x2c:
		if (q && !live)
			set_half(&q->avail_gpa, off == 0x2c, (uint32_t)v);
		break;
	case 0x30: case 0x34:
		if (q && !live)
			set_half(&q->used_gpa, off == 0x34, (uint32_t)v);
		break;
	}
	(void)size;
}

static void notify_queue(struct virtio_pci *vp, int q)
{
	vp->notifies++;
	/* Stunned: keep the kick for later; the guest's buffers stay queued. */
	if (vm_paused(vp->vm)) {
		vp->deferred |= 1u << q;
		return;
	}
	if (q < vp->ops->nqueues && vp->vq[q].enabled && (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp->status & VIRTIO_STATUS_NEEDS_RESET))
		vp->ops->queue_notify(vp->dev, q);
}

static void bar_read(void *dev, uint64_t off, void *data, int size)
{
	struct virtio_pci *vp = dev;
	uint64_t v = 0;

	if (off >= OFF_MSIX_TABLE && off < OFF_MSIX_TABLE + 16u * vp->msix.nvec) {
		msix_table_read(&vp->msix, off - OFF_MSIX_TABLE, data, size);
		return;
	}
	if (off >= OFF_MSIX_PBA && off < OFF_MSIX_PBA + 8) {
		msix_pba_read(&vp->msix, off - OFF_MSIX_PBA, data, size);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off + size <= OFF_COMMON + LEN_COMMON) {
		uint8_t img[LEN_COMMON];

		common_image(vp, img);
		memcpy(&v, img + off, size);
	} else if (off == OFF_ISR) {
		v = vp->isr;
		vp->isr = 0;		/* reading acknowledges */
	} else if (off >= OFF_DEVICE && off < OFF_DEVICE + LEN_DEVICE) {
		if (off - OFF_DEVICE + size <= vp->ops->config_len && vp->ops->config_read)
			vp->ops->config_read(vp->dev, (uint32_t)(off - OFF_DEVICE), &v, size);
	}
	pthread_mutex_unlock(&vp->lock);
	memcpy(data, &v, size);
}

static void bar_write(void *dev, uint64_t off, const void *data, int size)
{
	struct virtio_pci *vp = dev;
	uint64_t v = 0;

	memcpy(&v, data, size);
	if (off >= OFF_MSIX_TABLE && off < OFF_MSIX_TABLE + 16u * vp->msix.nvec) {
		msix_table_write(&vp->msix, off - OFF_MSIX_TABLE, data, size);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off + size <= OFF_COMMON + LEN_COMMON) {
		if (size == 8 && off >= 0x20) {
			common_write(vp, (uint32_t)off, (uint32_t)v, 4);
			common_write(vp, (uint32_t)off + 4, v >> 32, 4);
		} else {
			common_write(vp, (uint32_t)off, v, size);
		}
	} else if (off >= OFF_DEVICE && off < OFF_DEVICE + LEN_DEVICE) {
		if (off - OFF_DEVICE + size <= vp->ops->config_len && vp->ops->config_write)
			vp->ops->config_write(vp->dev, (uint32_t)(off - OFF_DEVICE), &v, size);
	} else if (off >= OFF_NOTIFY && off < OFF_NOTIFY + NOTIFY_MULT * VIRTIO_MAX_QUEUES) {
		/* Only reached when the ioeventfd did not take the write. */
		notify_queue(vp, (int)((off - OFF_NOTIFY) / NOTIFY_MULT));
	}
	pthread_mutex_unlock(&vp->lock);
}

static const struct bus_ops bar_ops = { bar_read, bar_write };

static void cfg_written(struct pci_dev *d, uint32_t off, int size)
{
	struct virtio_pci *vp = d->priv;

	if (off <= vp->msix.cap + 3u && off + size > vp->msix.cap + 2u)
		msix_cfg_written(&vp->msix);
}

static const struct pci_dev_ops pci_ops = { cfg_written };

static void on_notify(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct virtio_pci *vp = arg;
	eventfd_t n;

	(void)l;
	(void)events;
	if (eventfd_read(fd, &n) < 0)
		return;
	pthread_mutex_lock(&vp->lock);
	for (int q = 0; q < vp->ops->nqueues; q++)
		if (vp->notify_fd[q] == fd)
			notify_queue(vp, q);
	pthread_mutex_unlock(&vp->lock);
}

static void add_virtio_cap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len,
			   int with_mult)
{
	uint8_t cap[20] = { 0x09, 0, (uint8_t)(with_mult ? 20 : 16), type, 0 /* BAR */ };
	uint32_t mult = NOTIFY_MULT;

	memcpy(cap + 8, &off, 4);
	memcpy(cap + 12, &len, 4);
	if (with_mult)
		memcpy(cap + 16, &mult, 4);
	pci_add_cap(d, cap, cap[2]);
}

int virtio_pci_create(struct virtio_pci *vp, struct vm *vm, struct loop *loop,
		      struct pci_bus *pcibus, const struct virtio_dev_ops *ops, void *dev,
		      uint64_t features)
{
	int r;

	memset(vp, 0, sizeof(*vp));
	pthread_mutex_init(&vp->lock, NULL);
	vp->vm = vm;
	vp->loop = loop;
	vp->ops = ops;
	vp->dev = dev;
	vp->host_features = features | VIRTIO_F_VERSION_1;
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->notify_fd[q] = -1;
	reset(vp);

	pci_dev_init(&vp->pci, 0x1af4, (uint16_t)(0x1040 + ops->device_id), ops->pci_class,
		     0x1af4, ops->device_id, 1);
	vp->pci.ops = &pci_ops;
	vp->pci.priv = vp;
	vp->pci.bar_ops = &bar_ops;
	vp->pci.bar_dev = vp;
	pci_add_bar(&vp->pci, 0, BAR_SIZE);
	add_virtio_cap(&vp->pci, CAP_COMMON, OFF_COMMON, LEN_COMMON, 0);
	add_virtio_cap(&vp->pci, CAP_NOTIFY, OFF_NOTIFY, NOTIFY_MULT * VIRTIO_MAX_QUEUES, 1);
	add_virtio_cap(&vp->pci, CAP_ISR, OFF_ISR, 4, 0);
	add_virtio_cap(&vp->pci, CAP_DEVICE, OFF_DEVICE, LEN_DEVICE, 0);
	r = msix_init(&vp->msix, &vp->pci, &vm->irq, vm->fd, (uint16_t)(ops->nqueues + 1), 0,
		      OFF_MSIX_TABLE, OFF_MSIX_PBA);
	if (r == 0)
		r = pci_plug(pcibus, &vm->mmio, &vp->pci);
	for (int q = 0; r == 0 && q < ops->nqueues; q++) {
		vp->notify_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->notify_fd[q] < 0) {
			r = err_set(-errno, "eventfd: %s", strerror(errno));
			break;
		}
		r = irq_ioeventfd(vm->fd, vp->notify_fd[q],
				  vp->pci.bar_addr[0] + OFF_NOTIFY + (uint64_t)q * NOTIFY_MULT, 2, 1);
		if (r == 0)
			r = loop_add(loop, vp->notify_fd[q], EPOLLIN, on_notify, vp);
	}
	if (r < 0)
		err_prefix("%s: ", ops->name);
	return r;
}

void virtio_pci_free(struct virtio_pci *vp)
{
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (vp->notify_fd[q] >= 0)
			close(vp->notify_fd[q]);
	msix_free(&vp->msix);
}

void virtio_pci_resume(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	for (int q = 0; q < vp->ops->nqueues; q++)
		if (vp->deferred & (1u << q)) {
			vp->deferred &= ~(1u << q);
			notify_queue(vp, q);
		}
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && vp->ops->activate)
		vp->ops->activate(vp->dev);
	pthread_mutex_unlock(&vp->lock);
}

void virtio_pci_arrived(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	for (int q = 0; q < vp->ops->nqueues; q++)
		if (vp->vq[q].enabled)
			vp->deferred |= 1u << q;
	pthread_mutex_unlock(&vp->lock);
	virtio_pci_resume(vp);
}

void virtio_pci_save(struct virtio_pci *vp, struct stream *s)
{
	pthread_mutex_lock(&vp->lock);
	stream_put_u16(s, vp->ops->device_id);
	stream_put_bytes(s, vp->pci.cfg, sizeof(vp->pci.cfg));
	stream_put_u64(s, vp->guest_features);
	stream_put_u32(s, vp->dfselect);
	stream_put_u32(s, vp->gfselect);
	stream_put_u8(s, vp->status);
	stream_put_u8(s, vp->isr);
	stream_put_u8(s, vp->config_gen);
	stream_put_u16(s, vp->msix_config);
	stream_put_u16(s, vp->queue_select);
	stream_put_u16(s, (uint16_t)vp->ops->nqueues);
	for (int q = 0; q < vp->ops->nqueues; q++) {
		struct virtq *vq = &vp->vq[q];

		stream_put_u16(s, vq->size);
		stream_put_u64(s, vq->desc_gpa);
		stream_put_u64(s, vq->avail_gpa);
		stream_put_u64(s, vq->used_gpa);
		stream_put_u16(s, vq->last_avail);
		stream_put_u16(s, vq->used_idx);
		stream_put_u8(s, (uint8_t)vq->enabled);
		stream_put_u8(s, (uint8_t)vq->broken);
		stream_put_u16(s, vp->vq_vector[q]);
	}
	msix_save(&vp->msix, s);
	pthread_mutex_unlock(&vp->lock);
}

int virtio_pci_load(struct virtio_pci *vp, struct stream *s)
{
	uint16_t id = stream_get_u16(s), nq;
	uint8_t cfg[256];

	if (!s->err && id != vp->ops->device_id)
		return stream_fail(s, -EINVAL, "%s: saved state is of virtio device type %u",
				   vp->ops->name, id);
	stream_get_bytes(s, cfg, sizeof(cfg));
	pthread_mutex_lock(&vp->lock);
	/* Only what the guest could change; identity and BARs stay ours. */
	for (int i = 0; i < 256; i++)
		vp->pci.cfg[i] = (uint8_t)((vp->pci.cfg[i] & ~vp->pci.wmask[i]) |
					   (cfg[i] & vp->pci.wmask[i]));
	vp->guest_features = stream_get_u64(s) & vp->host_features;
	vp->dfselect = stream_get_u32(s);
	vp->gfselect = stream_get_u32(s);
	vp->status = stream_get_u8(s);
	vp->isr = stream_get_u8(s);
	vp->config_gen = stream_get_u8(s);
	vp->msix_config = stream_get_u16(s);
	vp->queue_select = stream_get_u16(s);
	nq = stream_get_u16(s);
	if (!s->err && nq != vp->ops->nqueues)
		stream_fail(s, -EINVAL, "%s: %u queues saved, the device has %d", vp->ops->name, nq,
			    vp->ops->nqueues);
	for (int q = 0; q < vp->ops->nqueues && !s->err; q++) {
		struct virtq *vq = &vp->vq[q];

		vq->size = stream_get_u16(s);
		vq->desc_gpa = stream_get_u64(s);
		vq->avail_gpa = stream_get_u64(s);
		vq->used_gpa = stream_get_u64(s);
		vq->last_avail = stream_get_u16(s);
		vq->used_idx = stream_get_u16(s);
		vq->enabled = stream_get_u8(s) != 0;
		vq->broken = stream_get_u8(s) != 0;
		vp->vq_vector[q] = stream_get_u16(s);
		if (vp->vq_vector[q] >= vp->msix.nvec)
			vp->vq_vector[q] = MSIX_NO_VECTOR;
		/* The stream is not trusted: an enabled queue must still fit. */
		if (!s->err && vq->enabled && virtq_check_layout(vq, &vp->vm->mem) < 0)
			stream_fail(s, -EINVAL, "%s: queue %d: %s", vp->ops->name, q, vq->why);
	}
	if (!s->err)
		msix_load(&vp->msix, s);
	if (!s->err && (vp->status & VIRTIO_STATUS_DRIVER_OK) && vp->ops->activate)
		vp->ops->activate(vp->dev);
	pthread_mutex_unlock(&vp->lock);
	return s->err;
}
