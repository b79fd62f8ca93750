/* devices: the device table, in init order (see devices.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../vmm/err.h"
#include "devices.h"
#include "platform.h"
#include "serial.h"
#include "virtio-devices.h"
#include "virtio-pci.h"
#include "../migration/stream.h"
#include "../vmm/vm.h"

typedef struct device (*device_ctor)(void);

static const device_ctor table[] = {
	serial_device,		/* COM1: the console */
	i8042_device,		/* reset */
	rtc_device,		/* CMOS clock */
	pm_device,		/* ACPI power-off and reset */
	debugport_device,	/* micro guests only */
};

#define NDEV (int)(sizeof(table) / sizeof(table[0]))

/* Remember a created virtio device so that devices_free() can release it. */
static void keep(struct devices *ds, void *dev, void (*free_fn)(void *),
		 void (*announce_fn)(void *))
{
	ds->virtio[ds->nvirtio].dev = dev;
	ds->virtio[ds->nvirtio].announce = announce_fn;
	ds->virtio[ds->nvirtio++].free = free_fn;
}

/* The PCI bus and, on it, the entropy device, the disks, the network cards. */
static int add_pci(struct devices *ds, struct vm *vm, const struct device_env *env)
{
	void *dev = NULL;
	int r;

	if (env->ndisks + env->nnets + 1 > DEVICES_MAX_VIRTIO)
		return err_set(-E2BIG, "too many devices: at most %d disks and networks",
			       DEVICES_MAX_VIRTIO - 1);
	r = pci_bus_init(&ds->pci, &vm->pio);
	if (r < 0)
		goto fail;
	ds->have_pci = 1;
	r = virtio_rng_create(vm, env->loop, &ds->pci, &dev);
	if (r < 0)
		goto fail;
	keep(ds, dev, virtio_rng_free, NULL);
	for (int i = 0; i < env->ndisks; i++) {
		r = virtio_blk_create(vm, env->loop, &ds->pci, &env->disks[i], &dev);
		if (r < 0)
			goto fail;
		keep(ds, dev, virtio_blk_free, NULL);
	}
	for (int i = 0; i < env->nnets; i++) {
		r = virtio_net_create(vm, env->loop, &ds->pci, &env->nets[i], &dev);
		if (r < 0)
			goto fail;
		keep(ds, dev, virtio_net_free, virtio_net_announce);
	}
	return 0;
fail:
	devices_free(ds);
	return r;
}

int devices_init(struct devices *ds, struct vm *vm, const struct device_env *env)
{
	memset(ds, 0, sizeof(*ds));
	ds->list = calloc(NDEV, sizeof(*ds->list));
	if (!ds->list)
		return err_set(-ENOMEM, "out of memory for devices");
	for (int i = 0; i < NDEV; i++) {
		struct device *d = &ds->list[i];
		int r;

		*d = table[i]();
		r = d->init(d, vm, env);
		ds->n = i + 1;
		if (r < 0) {
			err_prefix("device %s: ", d->name);
			devices_free(ds);
			return r;
		}
	}
	ds->console = ds->list[0].state;
	if (env->micro)
		return 0;
	return add_pci(ds, vm, env);
}

void devices_free(struct devices *ds)
{
	for (int i = ds->nvirtio - 1; i >= 0; i--)
		ds->virtio[i].free(ds->virtio[i].dev);
	ds->nvirtio = 0;
	for (int i = 0; i < ds->n; i++)
		if (ds->list[i].free)
			ds->list[i].free(&ds->list[i]);
	free(ds->list);
	ds->list = NULL;
	ds->n = 0;
}

void devices_resume(struct devices *ds)
{
	for (int i = 0; i < ds->nvirtio; i++)
		virtio_pci_resume(ds->virtio[i].dev);
}

void devices_arrived(struct devices *ds)
{
	for (int i = 0; i < ds->nvirtio; i++)
		virtio_pci_arrived(ds->virtio[i].dev);
	for (int i = 0; i < ds->nvirtio; i++)
		if (ds->virtio[i].announce)
			ds->virtio[i].announce(ds->virtio[i].dev);
}

#define DEVICE_STATE_VERSION 1

static void begin(struct stream *s, uint32_t type, const char *name)
{
	stream_begin(s, type, 0);
	stream_put_u32(s, (uint32_t)strlen(name));
	stream_put_bytes(s, name, strlen(name));
	stream_put_u32(s, DEVICE_STATE_VERSION);
}

int devices_save(struct devices *ds, struct stream *s, uint32_t type)
{
	char name[32];

	for (int i = 0; i < ds->n; i++) {
		if (!ds->list[i].save)
			continue;
		begin(s, type, ds->list[i].name);
		ds->list[i].save(&ds->list[i], s);
		stream_end(s);
	}
	for (int i = 0; i < ds->nvirtio; i++) {
		snprintf(name, sizeof(name), "virtio.%d", i);
		begin(s, type, name);
		virtio_pci_save(ds->virtio[i].dev, s);
		stream_end(s);
	}
	return s->err;
}

int devices_load(struct devices *ds, struct stream *s)
{
	uint32_t len = stream_get_u32(s), version;
	char name[32] = "";
	int r = -1, idx;

	if (!s->err && (len == 0 || len >= sizeof(name)))
		return stream_fail(s, -EINVAL, "device section with a %u-byte name", len);
	stream_get_bytes(s, name, len);
	version = stream_get_u32(s);
	if (s->err)
		return s->err;
	if (version != DEVICE_STATE_VERSION)
		return stream_fail(s, -EPROTO, "device %s: state version %u, we read %u", name, version,
				   DEVICE_STATE_VERSION);
	for (int i = 0; i < ds->n; i++)
		if (ds->list[i].load && !strcmp(ds->list[i].name, name))
			r = ds->list[i].load(&ds->list[i], s);
	if (r == -1 && sscanf(name, "virtio.%d", &idx) == 1 && idx >= 0 && idx < ds->nvirtio)
		r = virtio_pci_load(ds->virtio[idx].dev, s);
	if (r == -1)
		return stream_fail(s, -ENODEV, "the saved state has device %s, which this VM lacks "
				   "(give the same --disk and --net options)", name);
	if (!s->err && stream_left(s))
		return stream_fail(s, -EINVAL, "device %s: %zu bytes left over", name, stream_left(s));
	return s->err;
}
