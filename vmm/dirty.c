/* dirty: the dirty page log for pre-copy (see dirty.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "dirty.h"
#include "err.h"

static int set_manual(int vm_fd, uint64_t flags)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };

	cap.args[0] = flags;
	return ioctl(vm_fd, KVM_ENABLE_CAP, &cap);
}

int dirty_start(struct dirty_log *d, struct mem *m, int vm_fd)
{
	uint64_t words = (m->size / MEM_PAGE_SIZE + 63) / 64;
	int caps, r;

	memset(d, 0, sizeof(*d));
	d->m = m;
	d->vm_fd = vm_fd;
	d->scratch = calloc(words, sizeof(uint64_t));
	if (!d->scratch)
		return err_set(-ENOMEM, "out of memory for the dirty bitmap");
	if (!m->dev_dirty) {
		m->dev_dirty = calloc(words, sizeof(uint64_t));
		if (!m->dev_dirty) {
			free(d->scratch);
			return err_set(-ENOMEM, "out of memory for the device dirty bitmap");
		}
	}
	caps = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	if (caps > 0) {
		uint64_t flags = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;

		if (caps & KVM_DIRTY_LOG_INITIALLY_SET)
			flags |= KVM_DIRTY_LOG_INITIALLY_SET;
		d->manual = set_manual(vm_fd, flags) == 0;
	}
	memset(m->dev_dirty, 0, words * sizeof(uint64_t));
	__atomic_store_n(&m->logging, 1, __ATOMIC_RELEASE);
	r = mem_register(m, vm_fd, KVM_MEM_LOG_DIRTY_PAGES);
	if (r < 0) {
		err_prefix("dirty logging: ");
		dirty_stop(d);
		return r;
	}
	d->on = 1;
	return 0;
}

int dirty_sync(struct dirty_log *d, uint64_t *bitmap, uint64_t *count)
{
	struct mem *m = d->m;
	uint64_t n = 0;

	for (int i = 0; i < m->nslots; i++) {
		const struct mem_slot *s = &m->slots[i];
		uint64_t pages = s->len / MEM_PAGE_SIZE, base = s->offset / MEM_PAGE_SIZE;
		struct kvm_dirty_log log = { .slot = s->id, .dirty_bitmap = d->scratch };

		/* Slots start at multiples of 64 pages (1 GiB-aligned sizes above
		 * the hole; a single slot otherwise), so words line up. */
		memset(d->scratch, 0, (pages + 63) / 64 * 8);
		if (ioctl(d->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return err_set(-errno, "KVM_GET_DIRTY_LOG slot %u: %s", s->id,
				       strerror(errno));
		if (d->manual) {
			struct kvm_clear_dirty_log clr = {
				.slot = s->id, .first_page = 0, .num_pages = (uint32_t)pages,
				.dirty_bitmap = d->scratch,
			};

			if (ioctl(d->vm_fd, KVM_CLEAR_DIRTY_LOG, &clr) < 0)
				return err_set(-errno, "KVM_CLEAR_DIRTY_LOG slot %u: %s", s->id,
					       strerror(errno));
		}
		for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
			uint64_t v = d->scratch[w];

			if (w == (pages - 1) / 64 && pages % 64)
				v &= (1ULL << (pages % 64)) - 1;
			/* Device writes: take and clear them word by word. */
			v |= __atomic_exchange_n(&m->dev_dirty[base / 64 + w], 0, __ATOMIC_ACQ_REL);
			n += (uint64_t)__builtin_popcountll(v & ~bitmap[base / 64 + w]);
			bitmap[base / 64 + w] |= v;
		}
	}
	*count = n;
	return 0;
}

void dirty_stop(struct dirty_log *d)
{
	if (!d->m)
		return;
	__atomic_store_n(&d->m->logging, 0, __ATOMIC_RELEASE);
	if (d->on)
		mem_register(d->m, d->vm_fd, 0);
	if (d->manual)
		set_manual(d->vm_fd, 0);
	free(d->scratch);
	d->scratch = NULL;
	d->on = d->manual = 0;
	d->m = NULL;
}
