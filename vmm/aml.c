/* aml: AML byte emitter (see aml.h; ACPI 6.x chapter 20). */
#include <string.h>
#include "aml.h"

#define PKG_RESERVE 3	/* package lengths here stay below 1 MiB: 3 bytes at most */

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->len = 0;
	a->cap = cap;
	a->overflow = 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, 0x00);		/* ZeroOp */
	} else if (v == 1) {
		aml_byte(a, 0x01);		/* OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);		/* BytePrefix */
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);		/* WordPrefix */
		aml_bytes(a, &(uint16_t){ (uint16_t)v }, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(a, 0x0c);		/* DWordPrefix */
		aml_bytes(a, &(uint32_t){ (uint32_t)v }, 4);
	} else {
		aml_byte(a, 0x0e);		/* QWordPrefix */
		aml_bytes(a, &v, 8);
	}
}

void aml_name_int(struct aml *a, const char seg[4], uint64_t v)
{
	aml_byte(a, 0x08);			/* NameOp */
	aml_bytes(a, seg, 4);
	integer(a, v);
}

uint32_t aml_eisaid(const char *id)
{
	uint32_t v = ((uint32_t)(id[0] - 0x40) << 26) | ((uint32_t)(id[1] - 0x40) << 21) |
		     ((uint32_t)(id[2] - 0x40) << 16);
	uint32_t hex = 0;

	for (int i = 3; i < 7; i++)
		hex = (hex << 4) | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
	v |= hex;
	/* Stored big-endian. */
	return ((v >> 24) & 0xff) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

void aml_name_eisaid(struct aml *a, const char seg[4], const char *id)
{
	uint32_t v = aml_eisaid(id);

	aml_byte(a, 0x08);
	aml_bytes(a, seg, 4);
	aml_byte(a, 0x0c);
	aml_bytes(a, &v, 4);
}

/* Write the package length of [start + op bytes, len) at its reserved place,
 * then close the gap left by the unused reserved bytes. */
static void patch_pkglen(struct aml *a, size_t at)
{
	size_t body = a->len - (at + PKG_RESERVE);
	size_t total;
	uint8_t enc[PKG_RESERVE];
	int n;

	if (a->overflow)
		return;
	if (body + 1 < 0x40) {
		total = body + 1;
		enc[0] = (uint8_t)total;
		n = 1;
	} else if (body + 2 < 0x1000) {
		total = body + 2;
		enc[0] = (uint8_t)(0x40 | (total & 0xf));
		enc[1] = (uint8_t)(total >> 4);
		n = 2;
	} else {
		total = body + 3;
		enc[0] = (uint8_t)(0x80 | (total & 0xf));
		enc[1] = (uint8_t)(total >> 4);
		enc[2] = (uint8_t)(total >> 12);
		n = 3;
	}
	memcpy(a->buf + at, enc, n);
	memmove(a->buf + at + n, a->buf + at + PKG_RESERVE, body);
	a->len -= PKG_RESERVE - n;
}

void aml_name_buffer(struct aml *a, const char seg[4], const uint8_t *p, size_t n)
{
	size_t at;

	aml_byte(a, 0x08);
	aml_bytes(a, seg, 4);
	aml_byte(a, 0x11);			/* BufferOp */
	at = a->len;
	aml_bytes(a, "\0\0\0", PKG_RESERVE);
	integer(a, n);
	aml_bytes(a, p, n);
	patch_pkglen(a, at);
}

size_t aml_open(struct aml *a, uint8_t op, uint8_t op2, const char *name)
{
	size_t at;

	aml_byte(a, op);
	if (op2)
		aml_byte(a, op2);
	at = a->len;
	aml_bytes(a, "\0\0\0", PKG_RESERVE);
	aml_bytes(a, name, strlen(name));
	return at;
}

void aml_close(struct aml *a, size_t start)
{
	patch_pkglen(a, start);
}
