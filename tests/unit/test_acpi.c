/* test_acpi: every table's checksum, the pointers between them, the MADT's
 * CPUs, the FADT's power-off and reset registers, the DSDT's \_S5. */
#include <string.h>
#include "../../vmm/acpi.h"
#include "../../vmm/aml.h"
#include "../../vmm/layout.h"
#include "../../vmm/mem.h"
#include "suites.h"

static uint32_t len_of(const uint8_t *t)
{
	uint32_t l;

	memcpy(&l, t + 4, 4);
	return l;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void check_tables(int ncpus)
{
	struct mem m;
	uint64_t rsdp_gpa, xsdt_gpa, fadt_gpa, madt_gpa, dsdt_gpa;
	uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
	int lapics = 0;

	CU_ASSERT_FATAL(mem_init(&m, 16 << 20) == 0);
	CU_ASSERT_FATAL(acpi_build(&m, ncpus, &rsdp_gpa) == 0);
	CU_ASSERT_EQUAL(rsdp_gpa % 16, 0);
	CU_ASSERT(rsdp_gpa >= 0xe0000 && rsdp_gpa < 0x100000);	/* where Linux scans */
	rsdp = mem_hva(&m, rsdp_gpa, 36);
	CU_ASSERT_EQUAL(memcmp(rsdp, "RSD PTR ", 8), 0);
	CU_ASSERT_EQUAL(sum(rsdp, 20), 0);
	CU_ASSERT_EQUAL(sum(rsdp, 36), 0);
	xsdt_gpa = get64(rsdp + 24);
	xsdt = mem_hva(&m, xsdt_gpa, 36);
	CU_ASSERT_EQUAL(memcmp(xsdt, "XSDT", 4), 0);
	CU_ASSERT_EQUAL(sum(xsdt, len_of(xsdt)), 0);
	CU_ASSERT_EQUAL(len_of(xsdt), 36 + 16);
	fadt_gpa = get64(xsdt + 36);
	madt_gpa = get64(xsdt + 44);
	fadt = mem_hva(&m, fadt_gpa, 276);
	madt = mem_hva(&m, madt_gpa, 44);
	CU_ASSERT_EQUAL(memcmp(fadt, "FACP", 4), 0);
	CU_ASSERT_EQUAL(len_of(fadt), 276);
	CU_ASSERT_EQUAL(sum(fadt, 276), 0);
	/* Hardware-reduced, with the reset register; sleep control at our port. */
	CU_ASSERT(fadt[112 + 2] & 0x10);		/* flag bit 20 */
	CU_ASSERT(fadt[112 + 1] & 0x04);		/* flag bit 10 */
	CU_ASSERT_EQUAL(get64(fadt + 116 + 4), PORT_PM_RESET);
	CU_ASSERT_EQUAL(fadt[128], PM_RESET_VALUE);
	CU_ASSERT_EQUAL(get64(fadt + 244 + 4), PORT_PM_SLEEP_CTL);
	dsdt_gpa = get64(fadt + 140);
	dsdt = mem_hva(&m, dsdt_gpa, 36);
	CU_ASSERT_EQUAL(memcmp(dsdt, "DSDT", 4), 0);
	CU_ASSERT_EQUAL(sum(dsdt, len_of(dsdt)), 0);
	CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, len_of(dsdt), "_S5_", 4));
	CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, len_of(dsdt), "COM1", 4));	/* with IRQ 4 */
	CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, len_of(dsdt), "PCI0", 4));
	CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, len_of(dsdt), "\x41\xd0\x0a\x03", 4));	/* PNP0A03 */
	CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, len_of(dsdt), "\x22\x10\x00\x79", 4));
	CU_ASSERT_EQUAL(memcmp(madt, "APIC", 4), 0);
	CU_ASSERT_EQUAL(sum(madt, len_of(madt)), 0);
	for (uint32_t off = 44; off < len_of(madt); off += madt[off + 1]) {
		CU_ASSERT_FATAL(madt[off + 1] >= 2);
		if (madt[off] == 0) {
			CU_ASSERT_EQUAL(madt[off + 3], lapics);	/* APIC IDs 0..n-1 */
			CU_ASSERT_EQUAL(madt[off + 4] & 1, 1);	/* enabled */
			lapics++;
		}
	}
	CU_ASSERT_EQUAL(lapics, ncpus);
	/* All tables sit inside the reserved ACPI area. */
	CU_ASSERT(madt_gpa + len_of(madt) <= LAYOUT_ACPI + LAYOUT_ACPI_MAX);
	mem_free(&m);
}

static void test_one_cpu(void) { check_tables(1); }
static void test_four_cpus(void) { check_tables(4); }
static void test_many_cpus(void) { check_tables(64); }

static void test_bad_count(void)
{
	struct mem m;
	uint64_t r;

	CU_ASSERT_FATAL(mem_init(&m, 16 << 20) == 0);
	CU_ASSERT(acpi_build(&m, 0, &r) < 0);
	CU_ASSERT(acpi_build(&m, 255, &r) < 0);
	mem_free(&m);
}

static void test_checksum(void)
{
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 0 };

	b[7] = acpi_checksum(b, 8);
	CU_ASSERT_EQUAL(sum(b, 8), 0);
}

static void test_aml(void)
{
	uint8_t buf[512], big[100];
	struct aml a;
	size_t s, d;
	uint32_t id = aml_eisaid("PNP0501");

	CU_ASSERT_EQUAL(memcmp(&id, "\x41\xd0\x05\x01", 4), 0);
	id = aml_eisaid("PNP0A03");
	CU_ASSERT_EQUAL(memcmp(&id, "\x41\xd0\x0a\x03", 4), 0);

	/* A small scope: one-byte package length covering itself and the body. */
	aml_init(&a, buf, sizeof(buf));
	s = aml_open(&a, 0x10, 0, "\\_SB_");
	aml_name_int(&a, "_UID", 0x1234);
	aml_close(&a, s);
	CU_ASSERT_FALSE(a.overflow);
	CU_ASSERT_EQUAL(buf[0], 0x10);
	CU_ASSERT_EQUAL(buf[1], a.len - 1);		/* everything after the opcode */
	CU_ASSERT_EQUAL(memcmp(buf + 2, "\\_SB_", 5), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 7, "\x08_UID\x0b\x34\x12", 8), 0);

	/* Past 63 bytes the length takes two bytes: 0x4N then the rest. */
	memset(big, 0xaa, sizeof(big));
	aml_init(&a, buf, sizeof(buf));
	d = aml_open(&a, 0x5b, 0x82, "DEV0");
	aml_name_buffer(&a, "_CRS", big, sizeof(big));
	aml_close(&a, d);
	CU_ASSERT_EQUAL(buf[2] & 0xc0, 0x40);
	CU_ASSERT_EQUAL((size_t)((buf[2] & 0x0f) | (buf[3] << 4)), a.len - 2);

	/* Overflow is sticky, never a write past the buffer. */
	aml_init(&a, buf, 10);
	aml_name_buffer(&a, "_CRS", big, sizeof(big));
	CU_ASSERT_TRUE(a.overflow);
	CU_ASSERT(a.len <= 10);
}

static void test_reset_stub(void)
{
	struct mem m;
	uint8_t *p;

	CU_ASSERT_FATAL(mem_init(&m, 16 << 20) == 0);
	CU_ASSERT_EQUAL(acpi_write_reset_stub(&m), 0);
	p = mem_hva(&m, LAYOUT_RESET_VECTOR, 16);
	/* mov al, 1; mov dx, 0x602; out dx, al */
	CU_ASSERT_EQUAL(memcmp(p, "\xb0\x01\xba\x02\x06\xee", 6), 0);
	CU_ASSERT(LAYOUT_ACPI + LAYOUT_ACPI_MAX <= LAYOUT_RESET_VECTOR);
	mem_free(&m);
}

int suite_acpi(void)
{
	static const struct unit_test t[] = {
		{ "tables for 1 CPU", test_one_cpu },
		{ "tables for 4 CPUs", test_four_cpus },
		{ "tables for 64 CPUs", test_many_cpus },
		{ "CPU count limits", test_bad_count },
		{ "checksum", test_checksum },
		{ "AML encoding", test_aml },
		{ "reset-vector stub", test_reset_stub },
		{ 0 }
	};
	return add_suite("acpi", t);
}
