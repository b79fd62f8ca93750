/* virtio-devices: constructors of the virtio devices, and their options. */
#ifndef DEVICES_VIRTIO_DEVICES_H
#define DEVICES_VIRTIO_DEVICES_H

#include <stdint.h>

struct vm;
struct loop;
struct pci_bus;

struct disk_spec {
	const char *path;
	int readonly;
	char serial[21];	/* VIRTIO_BLK_ID_BYTES, NUL-terminated */
};

struct net_spec {
	char tap[16];		/* IFNAMSIZ */
	uint8_t mac[6];
};

/* disk_spec_parse(arg, d): "PATH[,readonly][,serial=ID]". Returns 0 or
 * -EINVAL with a message. */
int disk_spec_parse(const char *arg, struct disk_spec *d);

/* net_spec_parse(arg, index, n): "tap=NAME[,mac=MAC]"; without mac, one is
 * derived from index. Returns 0 or -EINVAL with a message. */
int net_spec_parse(const char *arg, int index, struct net_spec *n);

/* Each device's state struct begins with its struct virtio_pci, so the
 * pointer a create function returns is also a struct virtio_pci pointer. */
int virtio_rng_create(struct vm *vm, struct loop *loop, struct pci_bus *pci, void **out);
void virtio_rng_free(void *dev);
int virtio_blk_create(struct vm *vm, struct loop *loop, struct pci_bus *pci,
		      const struct disk_spec *spec, void **out);
void virtio_blk_free(void *dev);
int virtio_net_create(struct vm *vm, struct loop *loop, struct pci_bus *pci,
		      const struct net_spec *spec, void **out);
void virtio_net_free(void *dev);
/* virtio_net_announce(dev): send a RARP from the guest's MAC out of the tap,
 * so that bridges and switches learn the guest's new port at once after a
 * migration instead of when the guest next transmits. */
void virtio_net_announce(void *dev);

#endif
