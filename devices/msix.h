/* msix: an MSI-X capability and table for a PCI function. Each vector is a
 * KVM GSI with an MSI route and an irqfd, so raising it is one eventfd write
 * from whatever thread completes the work. The table lives in a BAR; the
 * guest programs it from vCPU threads. Masked vectors latch a pending bit and
 * fire when unmasked, as the specification requires. */
#ifndef DEVICES_MSIX_H
#define DEVICES_MSIX_H

#include <pthread.h>
#include <stdint.h>
#include "../vmm/irq.h"

#define MSIX_MAX_VECTORS 16
#define MSIX_NO_VECTOR 0xffff

struct pci_dev;

struct msix {
	pthread_mutex_t lock;
	struct irq_routes *routes;
	int vm_fd;
	uint16_t nvec;
	uint8_t cap;			/* offset of the capability in config space */
	struct pci_dev *pci;
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
		unsigned gsi;
		int fd;			/* irqfd */
		int pending;
	} v[MSIX_MAX_VECTORS];
};

/* msix_init(x, pci, routes, vm_fd, nvec, bar, table_off, pba_off): add the
 * capability to pci and allocate nvec GSIs with irqfds. Main thread. */
int msix_init(struct msix *x, struct pci_dev *pci, struct irq_routes *routes, int vm_fd,
	      uint16_t nvec, int bar, uint32_t table_off, uint32_t pba_off);
void msix_free(struct msix *x);

/* Table and PBA access at offset off of each region (vCPU threads). */
void msix_table_read(struct msix *x, uint64_t off, void *data, int size);
void msix_table_write(struct msix *x, uint64_t off, const void *data, int size);
void msix_pba_read(struct msix *x, uint64_t off, void *data, int size);

/* msix_cfg_written(x): the guest wrote config space (enable, function mask). */
void msix_cfg_written(struct msix *x);

struct stream;
/* msix_save / msix_load: the table and pending bits; load re-points the KVM
 * routes of unmasked vectors. */
void msix_save(struct msix *x, struct stream *s);
int msix_load(struct msix *x, struct stream *s);

/* msix_notify(x, vec): raise vector vec. Returns 0, or -1 if MSI-X is off or
 * vec is MSIX_NO_VECTOR. Any thread. */
int msix_notify(struct msix *x, uint16_t vec);

#endif
