/* acpi: table builders (see acpi.h). Offsets follow the ACPI 6.x specification;
 * the tables are laid out one after another, each 16-byte aligned. */
#include <errno.h>
#include <string.h>
#include "acpi.h"
#include "aml.h"
#include "err.h"
#include "layout.h"

#define HDR_LEN 36
#define FADT_LEN 276
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED (1u << 20)
#define IAPC_VGA_NOT_PRESENT (1u << 2)

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return (uint8_t)-sum;
}

static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "VMMPRJ", 6);		/* OEM ID */
	memcpy(t + 16, "VMMTABLE", 8);		/* OEM table ID */
	put32(t + 24, 1);			/* OEM revision */
	memcpy(t + 28, "VMM ", 4);		/* creator ID */
	put32(t + 32, 1);			/* creator revision */
}

static void finish(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

/* A Generic Address Structure for a byte-wide I/O port. */
static void gas_io(uint8_t *p, uint16_t port)
{
	p[0] = 1;		/* system I/O */
	p[1] = 8;		/* bit width */
	p[2] = 0;		/* bit offset */
	p[3] = 1;		/* byte access */
	put64(p + 4, port);
}

/* COM1's resources: I/O 0x3f8-0x3ff and IRQ 4, then the end tag. */
static const uint8_t com1_crs[] = {
	0x47, 0x01, PORT_COM1 & 0xff, PORT_COM1 >> 8, PORT_COM1 & 0xff, PORT_COM1 >> 8, 0x01, 0x08,
	0x22, 1 << IRQ_COM1, 0x00,
	0x79, 0x00,
};

/* The PCI host bridge's resources: bus 0, the config ports it uses, the I/O
 * ports around them and the MMIO window where the VMM places BARs. Without a
 * PNP0A03 device Linux never scans the bus when ACPI routes interrupts. */
static const uint8_t pci0_crs[] = {
	/* WordBusNumber: producer, fixed 0..0, length 1 */
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
	/* IO(Decode16, 0xcf8, 0xcf8, 1, 8): the config ports */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	/* WordIO windows 0x0000-0x0cf7 and 0x0d00-0xffff */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x00, 0xf7, 0x0c, 0, 0, 0xf8, 0x0c,
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3,
	/* DWordMemory window 0xc0000000-0xfebfffff, read-write, non-cacheable */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
	0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe, 0, 0, 0, 0, 0x00, 0x00, 0xc0, 0x3e,
	0x79, 0x00,
};

static uint32_t build_dsdt(uint8_t *t, size_t cap)
{
	/* Name (_S5, Package (4) { 5, 0, 0, 0 }): the sleep type that the guest
	 * writes to the sleep control register to power off. */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
				      0x0a, PM_SLP_TYP_S5, 0x00, 0x00, 0x00 };
	struct aml a;
	size_t sb, dev;

	aml_init(&a, t + HDR_LEN, cap - HDR_LEN);
	aml_bytes(&a, s5, sizeof(s5));
	/* Hardware-reduced ACPI gives Linux no legacy PIC and so no ISA IRQ
	 * routes: the UART must be declared with its IRQ, or its interrupt
	 * never reaches the IOAPIC and interrupt-driven output stalls. */
	sb = aml_open(&a, 0x10, 0, "\\_SB_");
	dev = aml_open(&a, 0x5b, 0x82, "COM1");
	aml_name_eisaid(&a, "_HID", "PNP0501");
	aml_name_int(&a, "_UID", 0);
	aml_name_buffer(&a, "_CRS", com1_crs, sizeof(com1_crs));
	aml_close(&a, dev);
	dev = aml_open(&a, 0x5b, 0x82, "PCI0");
	aml_name_eisaid(&a, "_HID", "PNP0A03");
	aml_name_int(&a, "_UID", 0);
	aml_name_int(&a, "_SEG", 0);
	aml_name_int(&a, "_BBN", 0);
	aml_name_buffer(&a, "_CRS", pci0_crs, sizeof(pci0_crs));
	aml_close(&a, dev);
	aml_close(&a, sb);
	if (a.overflow)
		return 0;
	header(t, "DSDT", HDR_LEN + (uint32_t)a.len, 2);
	finish(t);
	return HDR_LEN + (uint32_t)a.len;
}

static uint32_t build_fadt(uint8_t *t, uint64_t dsdt)
{
	memset(t, 0, FADT_LEN);
	header(t, "FACP", FADT_LEN, 6);
	put32(t + 40, (uint32_t)dsdt);
	put16(t + 46, IRQ_SCI);
	put16(t + 109, IAPC_VGA_NOT_PRESENT);	/* and no 8042: Linux skips probing it */
	put32(t + 112, FADT_F_WBINVD | FADT_F_RESET_REG_SUP | FADT_F_HW_REDUCED);
	gas_io(t + 116, PORT_PM_RESET);
	t[128] = PM_RESET_VALUE;
	t[131] = 0;				/* FADT minor version */
	put64(t + 140, dsdt);			/* X_DSDT */
	gas_io(t + 244, PORT_PM_SLEEP_CTL);
	gas_io(t + 256, PORT_PM_SLEEP_STS);
	memcpy(t + 268, "VMMPRJ  ", 8);		/* hypervisor vendor identity */
	finish(t);
	return FADT_LEN;
}

static uint32_t build_madt(uint8_t *t, int ncpus)
{
	uint32_t off = HDR_LEN + 8;

	put32(t + HDR_LEN, (uint32_t)LAYOUT_LAPIC);
	put32(t + HDR_LEN + 4, 0);		/* flags: no PC-AT 8259 setup needed */
	for (int i = 0; i < ncpus; i++) {
		uint8_t *e = t + off;

		e[0] = 0;			/* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;		/* ACPI processor UID */
		e[3] = (uint8_t)i;		/* APIC ID */
		put32(e + 4, 1);		/* enabled */
		off += 8;
	}
	{
		uint8_t *e = t + off;		/* I/O APIC */

		e[0] = 1;
		e[1] = 12;
		e[2] = (uint8_t)ncpus;		/* ID after the CPUs' */
		e[3] = 0;
		put32(e + 4, (uint32_t)LAYOUT_IOAPIC);
		put32(e + 8, 0);		/* GSI base */
		off += 12;
	}
	{
		uint8_t *e = t + off;		/* local APIC NMI on LINT1, all CPUs */

		e[0] = 4;
		e[1] = 6;
		e[2] = 0xff;
		put16(e + 3, 0);
		e[5] = 1;
		off += 6;
	}
	header(t, "APIC", off, 4);
	finish(t);
	return off;
}

int acpi_build(struct mem *m, int ncpus, uint64_t *rsdp_gpa)
{
	uint8_t *base = mem_hva(m, LAYOUT_ACPI, LAYOUT_ACPI_MAX);
	uint64_t rsdp = LAYOUT_ACPI, xsdt, fadt, dsdt, madt, off;
	uint32_t len;
	uint8_t *p;

	if (!base)
		return err_set(-ENOMEM, "guest RAM too small for ACPI tables");
	if (ncpus < 1 || ncpus > 254)
		return err_set(-EINVAL, "ACPI: %d CPUs is out of range (1-254)", ncpus);
	memset(base, 0, LAYOUT_ACPI_MAX);
	off = 48;
	xsdt = LAYOUT_ACPI + off;
	off += (HDR_LEN + 2 * 8 + 15) & ~15u;
	fadt = LAYOUT_ACPI + off;
	off += (FADT_LEN + 15) & ~15u;
	dsdt = LAYOUT_ACPI + off;
	len = build_dsdt(base + off, LAYOUT_ACPI_MAX - off);
	if (len == 0)
		return err_set(-E2BIG, "DSDT overflows the ACPI area");
	off += (len + 15) & ~15u;
	madt = LAYOUT_ACPI + off;
	off += (build_madt(base + (madt - LAYOUT_ACPI), ncpus) + 15) & ~15u;
	if (off > LAYOUT_ACPI_MAX)
		return err_set(-E2BIG, "ACPI tables overflow their area");
	build_fadt(base + (fadt - LAYOUT_ACPI), dsdt);

	p = base + (xsdt - LAYOUT_ACPI);
	header(p, "XSDT", HDR_LEN + 2 * 8, 1);
	put64(p + HDR_LEN, fadt);
	put64(p + HDR_LEN + 8, madt);
	finish(p);

	p = base;				/* RSDP, revision 2 */
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "VMMPRJ", 6);
	p[15] = 2;
	put32(p + 20, 36);
	put64(p + 24, xsdt);
	p[8] = acpi_checksum(p, 20);
	p[32] = acpi_checksum(p, 36);
	*rsdp_gpa = rsdp;
	return 0;
}

int acpi_write_reset_stub(struct mem *m)
{
	static const uint8_t stub[] = {
		0xb0, PM_RESET_VALUE,				/* mov al, 1 */
		0xba, PORT_PM_RESET & 0xff, PORT_PM_RESET >> 8,	/* mov dx, 0x602 */
		0xee,						/* out dx, al */
		0xf4,						/* hlt */
		0xeb, 0xfd,					/* jmp back to hlt */
	};
	uint8_t *p = mem_hva(m, LAYOUT_RESET_VECTOR, sizeof(stub));

	if (!p)
		return err_set(-ENOMEM, "guest RAM too small for the reset vector");
	memcpy(p, stub, sizeof(stub));
	return 0;
}
