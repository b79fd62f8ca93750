/* acpi: the firmware tables a Linux guest needs to find its CPUs, its
 * interrupt controller and the power-off and reset registers: RSDP, XSDT,
 * FADT (hardware-reduced ACPI), DSDT (with \_S5) and MADT. The Debian kernel
 * has no MP-table parser, so without these it sees one CPU. */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include "mem.h"

/* acpi_build(m, ncpus, rsdp_gpa): write the tables at LAYOUT_ACPI and return
 * the RSDP's address in *rsdp_gpa. Returns 0 or -errno. Main thread. */
int acpi_build(struct mem *m, int ncpus, uint64_t *rsdp_gpa);

/* acpi_write_reset_stub(m): the firmware at the real-mode reset vector. A
 * guest that reboots by jumping there (Linux does when hardware-reduced ACPI
 * makes it try EFI, then the BIOS) finds code that writes the ACPI reset
 * register, so the VMM sees a clean reset instead of a guest lost in zeroed
 * memory. Returns 0 or -errno. */
int acpi_write_reset_stub(struct mem *m);

/* acpi_checksum(p, len): the byte that makes the sum of p[0..len) zero when
 * stored in a zeroed checksum field. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
