/* opts: parsing helpers shared by the subcommands: sizes with units, bounded
 * integers, whole files. Each returns 0 or -errno with a message. */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

/* opt_size(s, out): "512M", "2G", "64K", "1T"; a bare number is MiB (as in
 * QEMU). Rejects junk, zero and overflow. */
int opt_size(const char *s, uint64_t *out);

/* opt_long(s, min, max, out): a decimal or 0x integer within [min, max]. */
int opt_long(const char *s, long min, long max, long *out);

/* opt_read_file(path, max, buf, len): read a whole file of at most max bytes
 * into a malloc'ed buffer. */
int opt_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

#endif
