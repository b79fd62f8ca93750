/* virtio-rng: an entropy device fed from the host's getrandom(). Each
 * request is a chain of writable buffers that we fill. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include "../vmm/err.h"
#include "virtio-devices.h"
#include "virtio-pci.h"

struct vrng {
	struct virtio_pci vp;
	uint64_t bytes;		/* given to the guest, for stats */
};

static void rng_notify(void *dev, int qi)
{
	struct vrng *r = dev;
	struct virtq *q = virtio_queue(&r->vp, qi);
	static _Thread_local struct virtq_req req;
	int got, n = 0;

	while ((got = virtq_pop(q, virtio_mem(&r->vp), &req)) == 1) {
		uint32_t written = 0;

		for (int i = 0; i < req.nbufs; i++) {
			if (!req.buf[i].writable)
				continue;
			/* getrandom may return less than asked: count what we wrote. */
			ssize_t k = getrandom(req.buf[i].hva, req.buf[i].len, 0);

			if (k > 0)
				written += (uint32_t)k;
			if (k < (ssize_t)req.buf[i].len)
				break;
		}
		r->bytes += written;
		virtq_complete(q, virtio_mem(&r->vp), &req, written);
		n++;
	}
	if (got < 0)
		virtio_broken(&r->vp, qi);
	if (n)
		virtio_used(&r->vp, qi);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = 4,
	.pci_class = 0x00ff00,
	.nqueues = 1,
	.queue_notify = rng_notify,
};

int virtio_rng_create(struct vm *vm, struct loop *loop, struct pci_bus *pci, void **out)
{
	struct vrng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return err_set(-ENOMEM, "out of memory");
	ret = virtio_pci_create(&r->vp, vm, loop, pci, &rng_ops, r, 0);
	if (ret < 0) {
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void virtio_rng_free(void *dev)
{
	struct vrng *r = dev;

	virtio_pci_free(&r->vp);
	free(r);
}
