/* virtio-pci: the virtio 1.x PCI transport (modern only). One BAR holds the
 * common configuration, ISR, device configuration, notification area and the
 * MSI-X table; each queue's notification is a KVM ioeventfd watched by the I/O
 * loop, each interrupt an irqfd. The transport lock serialises the vCPU
 * threads (register accesses) and the I/O thread (queue processing). */
#ifndef DEVICES_VIRTIO_PCI_H
#define DEVICES_VIRTIO_PCI_H

#include <pthread.h>
#include "msix.h"
#include "pci.h"
#include "virtio.h"

struct vm;

struct virtio_pci {
	struct pci_dev pci;
	struct msix msix;
	pthread_mutex_t lock;
	struct vm *vm;
	struct loop *loop;
	const struct virtio_dev_ops *ops;
	void *dev;
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, config_gen;
	uint16_t msix_config, queue_select;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint16_t vq_vector[VIRTIO_MAX_QUEUES];
	int notify_fd[VIRTIO_MAX_QUEUES];
	uint64_t notifies, interrupts;	/* counters for stats */
	uint32_t deferred;		/* queues kicked while the VM was paused */
};

/* virtio_pci_create(vp, vm, loop, pcibus, ops, dev, features): set up the
 * function, its BAR, MSI-X (one vector per queue plus config), and plug it
 * into the bus. Main thread, before the VM starts. */
int virtio_pci_create(struct virtio_pci *vp, struct vm *vm, struct loop *loop,
		      struct pci_bus *pcibus, const struct virtio_dev_ops *ops, void *dev,
		      uint64_t features);
void virtio_pci_free(struct virtio_pci *vp);

/* virtio_pci_save / virtio_pci_load: PCI config space, transport registers,
 * every queue's addresses and indices, MSI-X. load checks each queue's rings
 * against guest RAM and re-arms the device (activate) if the driver had it
 * running. With the VM paused and the I/O loop not processing the device. */
struct stream;
/* virtio_pci_resume(vp): after a pause, process the queues the driver kicked
 * meanwhile and re-arm the device. I/O thread. */
void virtio_pci_resume(struct virtio_pci *vp);
/* virtio_pci_arrived(vp): the VM was just restored or migrated here and runs:
 * process every enabled queue once, as if kicked (a kick the driver gave
 * while the source was stunned stayed there, and the driver may not kick
 * again for buffers it thinks the device has seen), and re-arm the device
 * (frames that reached the tap while the VM was loading). I/O thread. */
void virtio_pci_arrived(struct virtio_pci *vp);
void virtio_pci_save(struct virtio_pci *vp, struct stream *s);
int virtio_pci_load(struct virtio_pci *vp, struct stream *s);

#endif
