/* pci: a PCI host bridge on bus 0 with configuration mechanism #1 (ports
 * 0xCF8/0xCFC) and the configuration space of each function. The VMM acts as
 * the firmware: it assigns every BAR a fixed address in the MMIO window below
 * 4 GiB before the guest starts; a BAR sizing probe (all ones) reads back the
 * size mask and any other write leaves the address where it is, so the MMIO
 * bus stays frozen. */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdint.h>
#include "../vmm/bus.h"

#define PCI_MMIO_BASE	0xc0000000ULL	/* above low RAM (at most 3 GiB) */
#define PCI_MMIO_END	0xfec00000ULL	/* below the IOAPIC */
#define PCI_SLOTS	32

struct pci_dev;

struct pci_dev_ops {
	/* Called after a config-space write landed (off, size); optional. */
	void (*cfg_written)(struct pci_dev *d, uint32_t off, int size);
};

struct pci_dev {
	uint8_t cfg[256];
	uint8_t wmask[256];		/* bits the guest may change */
	uint32_t bar_size[6];		/* bytes, power of two; 0: no BAR */
	uint64_t bar_addr[6];
	int bar_sizing[6];		/* the guest wrote all ones */
	const struct bus_ops *bar_ops;	/* MMIO handlers for the BARs */
	void *bar_dev;
	const struct pci_dev_ops *ops;
	void *priv;
	uint8_t next_cap;		/* where the next capability goes */
};

struct pci_bus {
	pthread_mutex_t lock;		/* config accesses from any vCPU */
	uint32_t addr_reg;
	struct pci_dev *slot[PCI_SLOTS];
	struct pci_dev host_bridge;
	uint64_t mmio_next;
};

struct vm;

/* pci_bus_init(b, pio): the host bridge at 00.0 and the two config ports. */
int pci_bus_init(struct pci_bus *b, struct bus *pio);

/* pci_dev_init(d, vendor, device, class, subsys_vendor, subsys_id, rev):
 * identity, status with a capability list, and no INTx pin (our devices use
 * MSI-X only). */
void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class,
		  uint16_t subsys_vendor, uint16_t subsys_id, uint8_t rev);

/* pci_add_bar(d, n, size): declare a 32-bit MMIO BAR n of size bytes. */
void pci_add_bar(struct pci_dev *d, int n, uint32_t size);

/* pci_add_cap(d, data, len): append a capability (data[0] is its ID; the next
 * pointer at data[1] is filled in). Returns its offset, 0 if no room. */
uint8_t pci_add_cap(struct pci_dev *d, const uint8_t *data, uint8_t len);

/* pci_plug(b, mmio, d, ops, dev): put d in the next free slot, give its BARs
 * addresses and map them on the MMIO bus. Main thread, before start. */
int pci_plug(struct pci_bus *b, struct bus *mmio, struct pci_dev *d);

/* Config-space access by (slot, offset), for tests. */
void pci_cfg_read(struct pci_bus *b, int slot, uint32_t off, void *data, int size);
void pci_cfg_write(struct pci_bus *b, int slot, uint32_t off, const void *data, int size);

#endif
