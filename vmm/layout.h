/* layout: where the VMM puts things in guest-physical memory. One table so that
 * the boot code, ACPI, the e820 map and the micro-guest ABI agree. */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#define LAYOUT_GDT		0x0500ULL	/* 5 descriptors */
#define LAYOUT_BOOT_PARAMS	0x7000ULL	/* Linux zero page */
#define LAYOUT_PML4		0x9000ULL
#define LAYOUT_PDPT		0xa000ULL
#define LAYOUT_PD		0xb000ULL	/* LAYOUT_PD_PAGES pages of 2 MiB entries */
#define LAYOUT_PD_PAGES		8		/* identity map of the first 8 GiB */
#define LAYOUT_CMDLINE		0x20000ULL
#define LAYOUT_CMDLINE_MAX	4096
#define LAYOUT_MICRO_STACK	0x80000ULL	/* micro guests: initial rsp, grows down */
#define LAYOUT_EBDA		0x9fc00ULL	/* reserved from here to 1 MiB */
#define LAYOUT_ACPI		0xe0000ULL	/* RSDP, then the tables, below 1 MiB */
#define LAYOUT_ACPI_MAX		0x1f000ULL
#define LAYOUT_RESET_VECTOR	0xffff0ULL	/* real-mode reset vector: our reset stub */
#define LAYOUT_KERNEL		0x100000ULL	/* bzImage protected-mode part */
#define LAYOUT_MICRO_ENTRY	0x100000ULL	/* micro guests are loaded flat here */
#define LAYOUT_MICRO_MAX	0x100000ULL	/* and may be at most 1 MiB long */
#define LAYOUT_MICRO_DATA	0x200000ULL	/* micro guests may use RAM from here */

#define LAYOUT_IDENTITY_MAP	0xfffbc000ULL	/* KVM_SET_IDENTITY_MAP_ADDR (Intel) */
#define LAYOUT_TSS		0xfffbd000ULL	/* KVM_SET_TSS_ADDR (Intel), 3 pages */
#define LAYOUT_IOAPIC		0xfec00000ULL
#define LAYOUT_LAPIC		0xfee00000ULL

/* Selectors of the boot GDT (the Linux 64-bit boot protocol wants these). */
#define LAYOUT_SEL_CODE		0x10
#define LAYOUT_SEL_DATA		0x18
#define LAYOUT_SEL_TSS		0x20

/* Port numbers of the platform devices. */
#define PORT_COM1		0x3f8
#define PORT_I8042_DATA		0x60
#define PORT_I8042_CMD		0x64
#define PORT_RTC		0x70
#define PORT_PM_BASE		0x600	/* ACPI sleep control, sleep status, reset */
#define PORT_PM_SLEEP_CTL	0x600
#define PORT_PM_SLEEP_STS	0x601
#define PORT_PM_RESET		0x602
#define PORT_PM_LEN		4
#define PM_RESET_VALUE		0x01
#define PM_SLP_TYP_S5		5
#define IRQ_COM1		4
#define IRQ_SCI			9

#endif
