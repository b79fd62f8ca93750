/* devices: the table of platform devices, in init order. One list, read top to
 * bottom: no constructor magic. */
#ifndef DEVICES_DEVICES_H
#define DEVICES_DEVICES_H

#include <stdint.h>
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
		void (*announce)(void *dev);	/* network cards only */
	} virtio[DEVICES_MAX_VIRTIO];
	int nvirtio;
};

/* devices_init(ds, vm, env): create every device in the table. Returns 0 or
 * -errno with a message naming the device. Main thread, before vm_start(). */
int devices_init(struct devices *ds, struct vm *vm, const struct device_env *env);
void devices_free(struct devices *ds);

/* devices_save(ds, s, type): one section of the given type per device with
 * state: name, version, then the device's own fields. devices_load(ds, s):
 * after stream_next() returned such a section, hand it to the device it
 * names. Returns 0 or the stream's error. The VM must be paused. */
struct stream;
/* devices_resume(ds): after vm_resume(), let devices process what queued up. */
void devices_resume(struct devices *ds);
int devices_save(struct devices *ds, struct stream *s, uint32_t type);
/* devices_arrived(ds): after the VM arrived here (migration, restore) and
 * runs: each virtio device processes its queues once and re-arms (see
 * virtio_pci_arrived), then each network card tells the LAN where the
 * guest's MAC now is. I/O thread. */
void devices_arrived(struct devices *ds);
int devices_load(struct devices *ds, struct stream *s);

#endif
