/* aml: a tiny emitter for the ACPI Machine Language the DSDT needs (names,
 * integers, EISA IDs, buffers, devices and scopes with their package lengths).
 * Enough for \_S5 and the devices we describe; not a general AML compiler. */
#ifndef VMM_AML_H
#define VMM_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int overflow;		/* sticky: set when a write did not fit */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);

/* aml_name_*: Name (NAME, value). seg is a 4-character name segment. */
void aml_name_int(struct aml *a, const char seg[4], uint64_t v);
void aml_name_eisaid(struct aml *a, const char seg[4], const char *id);	/* "PNP0501" */
void aml_name_buffer(struct aml *a, const char seg[4], const uint8_t *p, size_t n);

/* aml_open(a, op, op2, name): start a Scope (0x10) or Device (0x5b 0x82) block
 * named name (a path such as "\\_SB_" or a segment); returns its start, which
 * aml_close() takes to write the package length. Blocks nest. */
size_t aml_open(struct aml *a, uint8_t op, uint8_t op2, const char *name);
void aml_close(struct aml *a, size_t start);

/* aml_eisaid(id): the 32-bit compressed EISA ID of e.g. "PNP0A03". */
uint32_t aml_eisaid(const char *id);

#endif
