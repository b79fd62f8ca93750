/* virtio: what a virtio device (block, net, rng) provides to the transport,
 * and what the transport offers it back. Devices know nothing of PCI; the
 * transport knows nothing of blocks or packets. */
#ifndef DEVICES_VIRTIO_H
#define DEVICES_VIRTIO_H

#include <stdint.h>
#include "virtqueue.h"

#define VIRTIO_F_VERSION_1	(1ULL << 32)
#define VIRTIO_MAX_QUEUES	4

#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

struct virtio_pci;
struct loop;

struct virtio_dev_ops {
	const char *name;
	uint16_t device_id;		/* virtio device type: 1 net, 2 block, 4 rng */
	uint32_t pci_class;
	int nqueues;
	uint32_t config_len;
	/* Device config space access (any vCPU thread, transport lock held). */
	void (*config_read)(void *dev, uint32_t off, void *data, int size);
	void (*config_write)(void *dev, uint32_t off, const void *data, int size);
	/* The driver kicked queue q: process it (I/O thread, transport lock held). */
	void (*queue_notify)(void *dev, int q);
	/* DRIVER_OK (activate) and reset; optional. Transport lock held. */
	void (*activate)(void *dev);
	void (*reset)(void *dev);
};

/* The transport's services to the device (call with the transport lock held,
 * which is the case inside every callback above). */

/* virtio_queue(vp, q): the virtqueue, valid while the driver has it enabled. */
struct virtq *virtio_queue(struct virtio_pci *vp, int q);

/* virtio_used(vp, q): after virtq_push()es, interrupt the driver if it wants. */
void virtio_used(struct virtio_pci *vp, int q);

/* virtio_broken(vp, q): the queue broke: log why, set DEVICE_NEEDS_RESET and
 * tell the driver through the config-change interrupt. */
void virtio_broken(struct virtio_pci *vp, int q);

/* virtio_features(vp): the features the driver accepted. */
uint64_t virtio_features(struct virtio_pci *vp);

/* virtio_mem(vp): guest RAM, for the checked walker. */
const struct mem *virtio_mem(struct virtio_pci *vp);

#endif
