/* stream: the state format shared by snapshots and migration. A header
 * (magic, version), then sections: each has a type, flags and a length, its
 * payload, and an XXH64 checksum of all of it (XXH64, not XXH3: as fast
 * natively with Debian's libxxhash, and 9 times faster where vector code is
 * emulated, as in the lab). The writer builds a section
 * in memory and sends it whole; the reader bounds the length before
 * allocating, verifies the checksum before anything is parsed, and every
 * stream_get_* past the section's end sets the error. The error is sticky:
 * encoders and decoders stay straight-line and check once at the end.
 *
 * One stream is used by one thread. */
#ifndef MIGRATION_STREAM_H
#define MIGRATION_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "transport.h"

struct stream_ref {
	size_t at;		/* where in the section's own bytes it goes */
	const void *p;
	size_t n;
};

#define STREAM_MAGIC		"VMMSTATE"
#define STREAM_VERSION		2	/* 2: XXH64 checksums (1: XXH3) */
#define STREAM_MAX_SECTION	(64u << 20)	/* bytes of payload */
#define SECTION_OPTIONAL	1u		/* flag: a reader may skip it if unknown */

struct stream {
	struct transport *t;
	int err;			/* first error, a negative errno; 0 if none */
	char msg[256];			/* what went wrong */
	uint64_t bytes;			/* bytes written or read, headers included */
	/* writer */
	uint8_t *wbuf;
	size_t wlen, wcap;
	int in_section;
	struct stream_ref *refs;	/* stream_put_ref pieces of the open section */
	int nrefs, refcap;
	size_t ref_bytes;
	void *hash_state;		/* XXH64 state for sections with pieces */
	/* reader */
	uint8_t *rbuf;
	size_t rlen, rpos, rcap;
	uint32_t rtype;
};

void stream_init(struct stream *s, struct transport *t);
void stream_free(struct stream *s);

/* stream_fail(s, err, fmt, ...): record the first error; returns s->err. */
int stream_fail(struct stream *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writer. */
int stream_write_header(struct stream *s);
void stream_begin(struct stream *s, uint32_t type, uint32_t flags);
void stream_put_u8(struct stream *s, uint8_t v);
void stream_put_u16(struct stream *s, uint16_t v);
void stream_put_u32(struct stream *s, uint32_t v);
void stream_put_u64(struct stream *s, uint64_t v);
void stream_put_bytes(struct stream *s, const void *p, size_t n);
/* stream_put_ref(s, p, n): like stream_put_bytes, but the n bytes are not
 * copied: the section goes out with them read from p in place (writev), so
 * they must not change until stream_end returns. For guest RAM of a stunned
 * VM; the checksum is computed from the same bytes the socket is given. */
void stream_put_ref(struct stream *s, const void *p, size_t n);
int stream_end(struct stream *s);	/* sends the section; returns s->err */
/* stream_patch_u32(s, off, v): overwrite 4 payload bytes at off of the open
 * section (a count known only at the end); they must come before any
 * stream_put_ref piece. */
void stream_patch_u32(struct stream *s, size_t off, uint32_t v);

/* Reader. stream_read_header checks magic and version. stream_next reads and
 * verifies the next whole section; then the stream_get_* calls take its
 * fields in order, and stream_left says how much is unread. */
int stream_read_header(struct stream *s);
int stream_next(struct stream *s, uint32_t *type, uint32_t *flags, uint32_t *len);
uint8_t stream_get_u8(struct stream *s);
uint16_t stream_get_u16(struct stream *s);
uint32_t stream_get_u32(struct stream *s);
uint64_t stream_get_u64(struct stream *s);
void stream_get_bytes(struct stream *s, void *p, size_t n);
/* stream_get_ptr(s, n): n bytes in place (valid until the next section), or
 * NULL with the error set. */
const void *stream_get_ptr(struct stream *s, size_t n);
size_t stream_left(const struct stream *s);

#endif
