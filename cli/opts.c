/* opts: option value parsing (see opts.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "cli.h"
#include "opts.h"

int opt_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 20;

	if (!s || !*s || *s == '-')
		return err_set(-EINVAL, "size '%s': expected a number with K, M, G or T",
			       s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return err_set(-EINVAL, "size '%s': not a number", s);
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default:
			return err_set(-EINVAL, "size '%s': unknown unit '%c'", s, *end);
		}
		if (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
			return err_set(-EINVAL, "size '%s': junk after the unit", s);
	}
	if (v == 0)
		return err_set(-EINVAL, "size '%s' must be more than zero", s);
	if (v > (~0ULL >> shift))
		return err_set(-ERANGE, "size '%s' is too large", s);
	*out = v << shift;
	return 0;
}

int opt_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return err_set(-EINVAL, "expected a number");
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || end == s)
		return err_set(-EINVAL, "'%s' is not a number", s);
	if (v < min || v > max)
		return err_set(-ERANGE, "%ld is out of range (%ld to %ld)", v, min, max);
	*out = v;
	return 0;
}

int opt_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(-errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(-EINVAL, "%s is not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return err_set(-EFBIG, "%s is %lld bytes; at most %zu allowed", path,
			       (long long)st.st_size, max);
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		close(fd);
		return err_set(-ENOMEM, "out of memory reading %s", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(b);
			close(fd);
			return err_set(-e, "cannot read %s: %s", path, strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("vmm: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
