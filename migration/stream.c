/* stream: framed, typed, checksummed sections (see stream.h).
 *
 *   header:  "VMMSTATE" u32 version u32 0
 *   section: u32 type, u32 flags, u32 len, u32 0, payload[len], u64 xxh64(header|payload)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "stream.h"

#define SEC_HDR 16

void stream_init(struct stream *s, struct transport *t)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
}

void stream_free(struct stream *s)
{
	free(s->wbuf);
	free(s->rbuf);
	free(s->refs);
	XXH64_freeState(s->hash_state);
	s->wbuf = s->rbuf = NULL;
	s->refs = NULL;
	s->hash_state = NULL;
}

int stream_fail(struct stream *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return s->err;
	s->err = err ? err : -EINVAL;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	return s->err;
}

/* sent(s, r, n): account for a write of n bytes whose transport result is r. */
static int sent(struct stream *s, int r, size_t n)
{
	if (r < 0)
		return stream_fail(s, r, "write failed after %llu bytes: %s",
				   (unsigned long long)s->bytes, strerror(-r));
	s->bytes += n;
	return 0;
}

static int send(struct stream *s, const void *p, size_t n)
{
	if (s->err)
		return s->err;
	return sent(s, s->t->ops->write_all(s->t, p, n), n);
}

static int recv_exact(struct stream *s, void *p, size_t n, const char *what)
{
	int r;

	if (s->err)
		return s->err;
	r = s->t->ops->read_exact(s->t, p, n);
	if (r == -EPIPE)
		return stream_fail(s, -EPIPE, "truncated: the input ends inside %s, after %llu bytes",
				   what, (unsigned long long)s->bytes);
	if (r < 0)
		return stream_fail(s, r, "read failed in %s after %llu bytes: %s", what,
				   (unsigned long long)s->bytes, strerror(-r));
	s->bytes += n;
	return 0;
}

int stream_write_header(struct stream *s)
{
	uint8_t h[16];
	uint32_t v = STREAM_VERSION, z = 0;

	memcpy(h, STREAM_MAGIC, 8);
	memcpy(h + 8, &v, 4);
	memcpy(h + 12, &z, 4);
	return send(s, h, sizeof(h));
}

int stream_read_header(struct stream *s)
{
	uint8_t h[16];
	uint32_t v;

	if (recv_exact(s, h, sizeof(h), "the stream header") < 0)
		return s->err;
	if (memcmp(h, STREAM_MAGIC, 8))
		return stream_fail(s, -EINVAL, "not a vmm state stream (bad magic)");
	memcpy(&v, h + 8, 4);
	if (v != STREAM_VERSION)
		return stream_fail(s, -EPROTO, "stream format version %u; this vmm reads version %u", v,
				   STREAM_VERSION);
	memcpy(&v, h + 12, 4);
	if (v != 0)
		return stream_fail(s, -EINVAL, "stream header: reserved field is 0x%x, not 0", v);
	return 0;
}

static void reserve(struct stream *s, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (s->err)
		return;
	if (s->wlen + s->ref_bytes + n > SEC_HDR + (size_t)STREAM_MAX_SECTION) {
		stream_fail(s, -E2BIG, "section larger than %u bytes", STREAM_MAX_SECTION);
		return;
	}
	if (s->wlen + n <= s->wcap)
		return;
	cap = s->wcap ? s->wcap : 4096;
	while (cap < s->wlen + n)
		cap *= 2;
	b = realloc(s->wbuf, cap);
	if (!b) {
		stream_fail(s, -ENOMEM, "out of memory for a section");
		return;
	}
	s->wbuf = b;
	s->wcap = cap;
}

void stream_begin(struct stream *s, uint32_t type, uint32_t flags)
{
	uint32_t h[4] = { type, flags, 0, 0 };

	s->wlen = 0;
	s->nrefs = 0;
	s->ref_bytes = 0;
	s->in_section = 1;
	reserve(s, SEC_HDR);
	if (!s->err) {
		memcpy(s->wbuf, h, SEC_HDR);
		s->wlen = SEC_HDR;
	}
}

void stream_put_bytes(struct stream *s, const void *p, size_t n)
{
	if (!s->in_section) {
		stream_fail(s, -EINVAL, "put outside a section");
		return;
	}
	reserve(s, n);
	if (s->err)
		return;
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
}

/* At most this many pieces, so that a section is one writev (IOV_MAX is
 * 1024: each piece may need an inline run before it, plus the checksum). */
#define MAX_REFS 510

void stream_put_ref(struct stream *s, const void *p, size_t n)
{
	if (!s->in_section) {
		stream_fail(s, -EINVAL, "put outside a section");
		return;
	}
	if (s->nrefs == MAX_REFS || n == 0) {
		stream_put_bytes(s, p, n);
		return;
	}
	reserve(s, n);		/* checks the size only: the bytes stay at p */
	if (s->err)
		return;
	if (s->nrefs == s->refcap) {
		int cap = s->refcap ? 2 * s->refcap : 64;
		struct stream_ref *r = realloc(s->refs, (size_t)cap * sizeof(*r));

		if (!r) {
			stream_fail(s, -ENOMEM, "out of memory for a section");
			return;
		}
		s->refs = r;
		s->refcap = cap;
	}
	s->refs[s->nrefs++] = (struct stream_ref){ .at = s->wlen, .p = p, .n = n };
	s->ref_bytes += n;
}

void stream_put_u8(struct stream *s, uint8_t v) { stream_put_bytes(s, &v, 1); }
void stream_put_u16(struct stream *s, uint16_t v) { stream_put_bytes(s, &v, 2); }
void stream_put_u32(struct stream *s, uint32_t v) { stream_put_bytes(s, &v, 4); }
void stream_put_u64(struct stream *s, uint64_t v) { stream_put_bytes(s, &v, 8); }

/* A section with pieces in place: hash and send them in order, one writev. */
static int end_with_refs(struct stream *s)
{
	struct iovec iov[2 * MAX_REFS + 2];
	size_t prev = 0, total = 0;
	uint64_t sum;
	int n = 0;

	if (!s->hash_state && !(s->hash_state = XXH64_createState()))
		return stream_fail(s, -ENOMEM, "out of memory for a checksum");
	XXH64_reset(s->hash_state, 0);
	for (int i = 0; i <= s->nrefs; i++) {
		size_t at = i < s->nrefs ? s->refs[i].at : s->wlen;

		if (at > prev)
			iov[n++] = (struct iovec){ s->wbuf + prev, at - prev };
		prev = at;
		if (i < s->nrefs)
			iov[n++] = (struct iovec){ (void *)s->refs[i].p, s->refs[i].n };
	}
	for (int i = 0; i < n; i++) {
		XXH64_update(s->hash_state, iov[i].iov_base, iov[i].iov_len);
		total += iov[i].iov_len;
	}
	sum = XXH64_digest(s->hash_state);
	iov[n++] = (struct iovec){ &sum, sizeof(sum) };
	total += sizeof(sum);
	return sent(s, s->t->ops->writev_all(s->t, iov, n), total);
}

int stream_end(struct stream *s)
{
	uint32_t len = (uint32_t)(s->wlen - SEC_HDR + s->ref_bytes);
	uint64_t sum;

	if (!s->in_section)
		return stream_fail(s, -EINVAL, "stream_end without stream_begin");
	s->in_section = 0;
	if (s->err)
		return s->err;
	memcpy(s->wbuf + 8, &len, 4);
	if (s->nrefs)
		return end_with_refs(s);
	sum = XXH64(s->wbuf, s->wlen, 0);
	/* One write per section: the checksum rides at the end of the buffer. */
	s->in_section = 1;
	reserve(s, sizeof(sum));
	s->in_section = 0;
	if (s->err)
		return s->err;
	memcpy(s->wbuf + s->wlen, &sum, sizeof(sum));
	send(s, s->wbuf, s->wlen + sizeof(sum));
	return s->err;
}

void stream_patch_u32(struct stream *s, size_t off, uint32_t v)
{
	/* Only bytes before the first piece in place sit at their offset. */
	size_t end = s->nrefs ? s->refs[0].at : s->wlen;

	if (s->in_section && !s->err && SEC_HDR + off + 4 <= end)
		memcpy(s->wbuf + SEC_HDR + off, &v, 4);
}

int stream_next(struct stream *s, uint32_t *type, uint32_t *flags, uint32_t *len)
{
	uint32_t h[4];
	uint64_t sum, want;

	s->rlen = s->rpos = 0;
	if (recv_exact(s, h, SEC_HDR, "a section header") < 0)
		return s->err;
	if (h[2] > STREAM_MAX_SECTION)
		return stream_fail(s, -E2BIG, "section type %u claims %u bytes (at most %u)", h[0],
				   h[2], STREAM_MAX_SECTION);
	if (h[3] != 0)
		return stream_fail(s, -EINVAL, "section type %u: reserved header field is %u", h[0],
				   h[3]);
	if (s->rcap < SEC_HDR + (size_t)h[2]) {
		uint8_t *b = realloc(s->rbuf, SEC_HDR + (size_t)h[2]);

		if (!b)
			return stream_fail(s, -ENOMEM, "out of memory for a %u-byte section", h[2]);
		s->rbuf = b;
		s->rcap = SEC_HDR + (size_t)h[2];
	}
	memcpy(s->rbuf, h, SEC_HDR);
	if (recv_exact(s, s->rbuf + SEC_HDR, h[2], "a section") < 0 ||
	    recv_exact(s, &sum, sizeof(sum), "a section checksum") < 0)
		return s->err;
	want = XXH64(s->rbuf, SEC_HDR + (size_t)h[2], 0);
	if (sum != want)
		return stream_fail(s, -EBADMSG, "section type %u (%u bytes): checksum mismatch", h[0],
				   h[2]);
	s->rtype = h[0];
	s->rpos = SEC_HDR;
	s->rlen = SEC_HDR + (size_t)h[2];
	*type = h[0];
	if (flags)
		*flags = h[1];
	if (len)
		*len = h[2];
	return 0;
}

const void *stream_get_ptr(struct stream *s, size_t n)
{
	const void *p;

	if (s->err)
		return NULL;
	if (n > s->rlen - s->rpos) {
		stream_fail(s, -EBADMSG, "section type %u: read of %zu bytes past its end", s->rtype,
			    n);
		return NULL;
	}
	p = s->rbuf + s->rpos;
	s->rpos += n;
	return p;
}

void stream_get_bytes(struct stream *s, void *p, size_t n)
{
	const void *src = stream_get_ptr(s, n);

	if (src)
		memcpy(p, src, n);
	else
		memset(p, 0, n);
}

uint8_t stream_get_u8(struct stream *s) { uint8_t v; stream_get_bytes(s, &v, 1); return v; }
uint16_t stream_get_u16(struct stream *s) { uint16_t v; stream_get_bytes(s, &v, 2); return v; }
uint32_t stream_get_u32(struct stream *s) { uint32_t v; stream_get_bytes(s, &v, 4); return v; }
uint64_t stream_get_u64(struct stream *s) { uint64_t v; stream_get_bytes(s, &v, 8); return v; }

size_t stream_left(const struct stream *s)
{
	return s->rlen - s->rpos;
}
