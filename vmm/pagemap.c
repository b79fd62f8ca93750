/* pagemap: untouched pages from /proc/self/pagemap (see pagemap.h). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "pagemap.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)

void pagemap_open(struct pagemap *pm)
{
	memset(pm, 0, sizeof(*pm));
	pm->fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

void pagemap_close(struct pagemap *pm)
{
	if (pm->fd >= 0)
		close(pm->fd);
	pm->fd = -1;
}

void pagemap_wrote(struct pagemap *pm, const void *p)
{
	uint64_t vpn = (uint64_t)(uintptr_t)p / 4096;

	if (vpn - pm->first < pm->n)
		pm->ent[vpn - pm->first] |= PM_PRESENT;
}

int pagemap_untouched(struct pagemap *pm, const void *p)
{
	uint64_t vpn = (uint64_t)(uintptr_t)p / 4096, e;

	if (pm->fd < 0)
		return 0;
	if (vpn - pm->first >= pm->n) {
		uint64_t first = vpn - vpn % PAGEMAP_WINDOW;
		ssize_t got = pread(pm->fd, pm->ent, sizeof(pm->ent), (off_t)(first * 8));

		if (got < 8) {
			pm->n = 0;
			return 0;
		}
		pm->first = first;
		pm->n = (uint64_t)got / 8;
		if (vpn - first >= pm->n)
			return 0;
	}
	e = pm->ent[vpn - pm->first];
	return !(e & (PM_PRESENT | PM_SWAPPED));
}
