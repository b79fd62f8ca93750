/* pci: host bridge and configuration space (see pci.h). */
#include <errno.h>
#include <string.h>
#include "../vmm/err.h"
#include "pci.h"

#define PORT_CONF_ADDR 0xcf8
#define PORT_CONF_DATA 0xcfc
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_BAR0 0x10
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define STATUS_CAP_LIST 0x10

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class,
		  uint16_t subsys_vendor, uint16_t subsys_id, uint8_t rev)
{
	memset(d, 0, sizeof(*d));
	put16(d->cfg + 0x00, vendor);
	put16(d->cfg + 0x02, device);
	d->cfg[0x08] = rev;
	d->cfg[0x09] = (uint8_t)class;
	d->cfg[0x0a] = (uint8_t)(class >> 8);
	d->cfg[0x0b] = (uint8_t)(class >> 16);
	put16(d->cfg + 0x2c, subsys_vendor);
	put16(d->cfg + 0x2e, subsys_id);
	d->cfg[0x3d] = 0;			/* no INTx pin */
	put16(d->wmask + CFG_COMMAND, 0x0547);	/* I/O, memory, master, parity, SERR, INTx off */
	d->wmask[CFG_INT_LINE] = 0xff;
	d->next_cap = 0x40;
}

void pci_add_bar(struct pci_dev *d, int n, uint32_t size)
{
	d->bar_size[n] = size;
}

uint8_t pci_add_cap(struct pci_dev *d, const uint8_t *data, uint8_t len)
{
	uint8_t at = d->next_cap, *prev;

	if (at == 0 || (unsigned)at + len > 256)
		return 0;
	memcpy(d->cfg + at, data, len);
	d->cfg[at + 1] = 0;
	/* Link it at the end of the list. */
	prev = d->cfg + CFG_CAP_PTR;
	while (*prev)
		prev = d->cfg + *prev + 1;
	*prev = at;
	d->cfg[CFG_STATUS] |= STATUS_CAP_LIST;
	d->next_cap = (uint8_t)((at + len + 3) & ~3);
	return at;
}

int pci_plug(struct pci_bus *b, struct bus *mmio, struct pci_dev *d)
{
	int slot;

	for (slot = 1; slot < PCI_SLOTS && b->slot[slot]; slot++)
		;
	if (slot == PCI_SLOTS)
		return err_set(-ENOSPC, "PCI bus 0 is full (%d slots)", PCI_SLOTS);
	for (int n = 0; n < 6; n++) {
		uint64_t size = d->bar_size[n], at;
		int r;

		if (!size)
			continue;
		at = (b->mmio_next + size - 1) & ~(size - 1);	/* naturally aligned */
		if (at + size > PCI_MMIO_END)
			return err_set(-ENOSPC, "PCI MMIO window full");
		r = bus_add(mmio, at, size, d->bar_ops, d->bar_dev);
		if (r < 0)
			return r;
		d->bar_addr[n] = at;
		put32(d->cfg + CFG_BAR0 + 4 * n, (uint32_t)at);
		b->mmio_next = at + size;
	}
	b->slot[slot] = d;
	return 0;
}

static struct pci_dev *lookup(struct pci_bus *b, uint32_t addr)
{
	unsigned bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f, fn = (addr >> 8) & 7;

	if (!(addr & 0x80000000u) || bus != 0 || fn != 0)
		return NULL;
	return b->slot[dev];
}

static void cfg_read(struct pci_dev *d, uint32_t off, void *data, int size)
{
	if (!d || off + size > 256) {
		memset(data, 0xff, size);
		return;
	}
	if (off >= CFG_BAR0 && off < CFG_BAR0 + 24) {
		int n = (off - CFG_BAR0) / 4;
		uint32_t v = d->bar_sizing[n] ? ~(d->bar_size[n] - 1) : (uint32_t)d->bar_addr[n];
		uint8_t bytes[4];

		if (!d->bar_size[n])
			v = 0;
		put32(bytes, v);
		memcpy(data, bytes + (off & 3), size);
		return;
	}
	memcpy(data, d->cfg + off, size);
}

static void cfg_write(struct pci_dev *d, uint32_t off, const void *data, int size)
{
	const uint8_t *p = data;

	if (!d || off + size > 256)
		return;
	if (off >= CFG_BAR0 && off < CFG_BAR0 + 24) {
		int n = (off - CFG_BAR0) / 4;
		uint32_t v = 0;

		/* Only whole-register writes: all ones probes the size, anything
		 * else (normally the address read back earlier) ends the probe. */
		if (size == 4 && !(off & 3)) {
			memcpy(&v, p, 4);
			d->bar_sizing[n] = v == 0xffffffffu;
		}
		return;
	}
	for (int i = 0; i < size; i++)
		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~d->wmask[off + i]) |
					    (p[i] & d->wmask[off + i]));
	if (d->ops && d->ops->cfg_written)
		d->ops->cfg_written(d, off, size);
}

void pci_cfg_read(struct pci_bus *b, int slot, uint32_t off, void *data, int size)
{
	pthread_mutex_lock(&b->lock);
	cfg_read(slot >= 0 && slot < PCI_SLOTS ? b->slot[slot] : NULL, off, data, size);
	pthread_mutex_unlock(&b->lock);
}

void pci_cfg_write(struct pci_bus *b, int slot, uint32_t off, const void *data, int size)
{
	pthread_mutex_lock(&b->lock);
	cfg_write(slot >= 0 && slot < PCI_SLOTS ? b->slot[slot] : NULL, off, data, size);
	pthread_mutex_unlock(&b->lock);
}

static void port_read(void *dev, uint64_t off, void *data, int size)
{
	struct pci_bus *b = dev;

	pthread_mutex_lock(&b->lock);
	if (off < 4) {
		uint8_t bytes[4];

		put32(bytes, b->addr_reg);
		memcpy(data, bytes + off, off + (uint64_t)size <= 4 ? (uint64_t)size : 4 - off);
	} else {
		cfg_read(lookup(b, b->addr_reg), (b->addr_reg & 0xfc) + (uint32_t)(off - 4), data,
			 size);
	}
	pthread_mutex_unlock(&b->lock);
}

static void port_write(void *dev, uint64_t off, const void *data, int size)
{
	struct pci_bus *b = dev;

	pthread_mutex_lock(&b->lock);
	if (off == 0 && size == 4)
		memcpy(&b->addr_reg, data, 4);
	else if (off >= 4)
		cfg_write(lookup(b, b->addr_reg), (b->addr_reg & 0xfc) + (uint32_t)(off - 4), data,
			  size);
	pthread_mutex_unlock(&b->lock);
}

static const struct bus_ops port_ops = { port_read, port_write };

int pci_bus_init(struct pci_bus *b, struct bus *pio)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->mmio_next = PCI_MMIO_BASE;
	/* An Intel 440FX-style host bridge: Linux's type-1 sanity check looks
	 * for a host bridge class on bus 0. */
	pci_dev_init(&b->host_bridge, 0x8086, 0x1237, 0x060000, 0, 0, 2);
	b->slot[0] = &b->host_bridge;
	return bus_add(pio, PORT_CONF_ADDR, 8, &port_ops, b);
}
