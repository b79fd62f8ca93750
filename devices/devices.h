/* devices: the table of platform devices, in init order. One list, read top to
 * bottom: no constructor magic. */
#ifndef DEVICES_DEVICES_H
#define DEVICES_DEVICES_H

#include "device.h"
#include "pci.h"

struct serial;

#define DEVICES_MAX_VIRTIO 16

struct devices {
	struct device *list;
	int n;
	struct serial *console;	/* the UART that carries the console */
	struct pci_bus pci;
	int have_pci;
	struct {
		void *dev;
		void (*free)(void *dev);
	} virtio[DEVICES_MAX_VIRTIO];
	int nvirtio;
};

/* devices_init(ds, vm, env): create every device in the table. Returns 0 or
 * -errno with a message naming the device. Main thread, before vm_start(). */
int devices_init(struct devices *ds, struct vm *vm, const struct device_env *env);
void devices_free(struct devices *ds);

#endif
