/* snapshot: checkpoint files (see snapshot.h and proto.h for the layout). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../devices/devices.h"
#include "../vmm/cpustate.h"
#include "../vmm/err.h"
#include "../vmm/vcpu.h"
#include "../vmm/vm.h"
#include "pages.h"
#include "postcopy.h"
#include "proto.h"
#include "resident.h"
#include "snapshot.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void snapshot_put_config(struct stream *s, const struct snap_config *cfg)
{
	stream_begin(s, SEC_CONFIG, 0);
	stream_put_u64(s, cfg->mem_size);
	stream_put_u32(s, cfg->ncpus);
	stream_put_u32(s, cfg->micro);
	stream_put_u32(s, cfg->ndisks);
	stream_put_u32(s, cfg->nnets);
	stream_end(s);
}

int snapshot_put_state(struct stream *s, struct vm *vm, struct devices *ds)
{
	struct vm_state vs;
	int r;

	devices_save(ds, s, SEC_DEVICE);
	for (int i = 0; i < vm->ncpus && !s->err; i++)
		vcpu_state_put(s, SEC_VCPU, i, &vm->vcpus[i].state);
	r = vm_state_save(vm->fd, &vs);
	if (r < 0)
		return stream_fail(s, r, "%s", err_msg());
	vm_state_put(s, SEC_VM, &vs);
	return s->err;
}

/* The whole stream: configuration, devices, vCPUs, VM, RAM, END. */
static void write_stream(struct stream *s, struct vm *vm, struct devices *ds,
			 const struct snap_config *cfg, struct snap_stats *st)
{
	stream_write_header(s);
	snapshot_put_config(s, cfg);
	snapshot_put_state(s, vm, ds);
	ram_save(s, &vm->mem, SEC_RAM, &st->ram);
	stream_begin(s, SEC_END, 0);
	stream_end(s);
}

int snapshot_write_fd(int fd, struct vm *vm, struct devices *ds, const struct snap_config *cfg,
		      struct snap_stats *st)
{
	struct fd_transport ft;
	struct stream s;
	double t0 = now_ms();
	int r;

	memset(st, 0, sizeof(*st));
	fd_transport_init(&ft, fd);
	stream_init(&s, &ft.t);
	write_stream(&s, vm, ds, cfg, st);
	st->bytes = s.bytes;
	st->write_ms = now_ms() - t0;
	r = s.err ? err_set(s.err, "%s", s.msg) : 0;
	stream_free(&s);
	return r;
}

int snapshot_save(const char *path, struct vm *vm, struct devices *ds,
		  const struct snap_config *cfg, struct snap_stats *st)
{
	char tmp[4096];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(-ENAMETOOLONG, "snapshot path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(-errno, "snapshot %s: %s", tmp, strerror(errno));
	r = snapshot_write_fd(fd, vm, ds, cfg, st);
	if (!r && fsync(fd) < 0)
		r = err_set(-errno, "fsync: %s", strerror(errno));
	if (r)
		err_prefix("snapshot %s: ", path);
	if (close(fd) < 0 && !r)
		r = err_set(-errno, "snapshot %s: close: %s", path, strerror(errno));
	if (!r && rename(tmp, path) < 0)
		r = err_set(-errno, "snapshot: rename to %s: %s", path, strerror(errno));
	if (r)
		unlink(tmp);
	return r;
}

int snapshot_read_config(struct stream *s, struct snap_config *cfg)
{
	uint32_t type;

	if (stream_read_header(s) == 0 && stream_next(s, &type, NULL, NULL) == 0 &&
	    type != SEC_CONFIG)
		stream_fail(s, -EINVAL, "first section is type %u, not the configuration", type);
	cfg->mem_size = stream_get_u64(s);
	cfg->ncpus = stream_get_u32(s);
	cfg->micro = stream_get_u32(s);
	cfg->ndisks = stream_get_u32(s);
	cfg->nnets = stream_get_u32(s);
	if (!s->err && (cfg->ncpus == 0 || cfg->ncpus > 254 || cfg->micro > 1 ||
			cfg->ndisks > 8 || cfg->nnets > 4 || mem_check_size(cfg->mem_size) < 0))
		stream_fail(s, -EINVAL, "implausible configuration (%u vCPUs, %llu MiB)",
			    cfg->ncpus, (unsigned long long)cfg->mem_size >> 20);
	return s->err;
}

int snapshot_open_fd(struct snap_reader *r, int fd, const char *name, struct snap_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->listen_fd = -1;
	pagemap_open(&r->pm);
	fd_transport_init(&r->ft, r->fd);
	stream_init(&r->s, &r->ft.t);
	if (snapshot_read_config(&r->s, cfg) < 0) {
		int e = err_set(r->s.err, "%s: %s", name, r->s.msg);

		snapshot_close(r);
		return e;
	}
	return 0;
}

int snapshot_open(struct snap_reader *r, const char *path, struct snap_config *cfg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char name[4200];

	if (fd < 0)
		return err_set(-errno, "snapshot %s: %s", path, strerror(errno));
	snprintf(name, sizeof(name), "snapshot %s", path);
	return snapshot_open_fd(r, fd, name, cfg);
}

int snapshot_load(struct snap_reader *r, struct vm *vm, struct devices *ds)
{
	struct stream *s = &r->s;
	struct vcpu_state st;
	struct vm_state vs;
	int have_vm = 0, ncpu_loaded = 0, ret;
	uint32_t type, flags;

	memset(&st, 0, sizeof(st));
	for (;;) {
		if (stream_next(s, &type, &flags, NULL) < 0)
			break;
		if (type == SEC_END)
			break;
		switch (type) {
		case SEC_DEVICE:
			devices_load(ds, s);
			break;
		case SEC_VCPU: {
			int id;

			if (vcpu_state_get(s, &id, &st) < 0)
				break;
			if (id < 0 || id >= vm->ncpus) {
				stream_fail(s, -EINVAL, "state for vCPU %d of %d", id, vm->ncpus);
				break;
			}
			ret = vcpu_state_load(vm->vcpus[id].fd, &st);
			if (ret < 0)
				stream_fail(s, ret, "vCPU %d: %s", id, err_msg());
			ncpu_loaded++;
			break;
		}
		case SEC_VM:
			if (vm_state_get(s, &vs) == 0)
				have_vm = 1;
			break;
		case SEC_RAM:
			ram_load(s, &vm->mem);
			break;
		case SEC_PAGES:
			pages_load(s, &vm->mem, &r->pages, &r->pm);
			break;
		case SEC_DISCARD: {
			uint32_t n = stream_get_u32(s);

			for (uint32_t i = 0; i < n && !s->err; i++) {
				uint64_t first = stream_get_u64(s), cnt = stream_get_u64(s);

				if (!s->err && pc_discard(&vm->mem, first, cnt) < 0)
					stream_fail(s, -EINVAL, "%s", err_msg());
			}
			if (!s->err && stream_left(s))
				stream_fail(s, -EINVAL, "DISCARD section: bytes left over");
			break;
		}
		case SEC_SYNC:
			if (!r->incoming)
				stream_fail(s, -EINVAL, "a SYNC section, but this is not a migration");
			else if (r->ft.t.ops->write_all(&r->ft.t, "RD", 2) < 0)
				stream_fail(s, -EPIPE, "the source went away before the stun");
			break;
		case SEC_RESIDENT: {
			struct timespec t0, t1;

			if (!r->incoming || r->postcopy) {
				stream_fail(s, -EINVAL, "a RESIDENT section, but this is not a %s",
					    r->incoming ? "pre-copy migration" : "migration");
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &t0);
			resident_load(s, &vm->mem, &r->resident_pages);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			r->resident_ms += (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
			break;
		}
		case SEC_POSTCOPY:
			/* Post-copy needs missing pages to fault on: RAM that a
			 * RESIDENT section backed would read as zeros instead. */
			if (r->resident_pages) {
				stream_fail(s, -EINVAL, "a POSTCOPY section after RESIDENT: guest RAM "
					    "is already backed here");
				break;
			}
			r->postcopy = 1;
			if (!r->on_postcopy) {
				stream_fail(s, -EINVAL, "post-copy stream, but this is not a migration");
			} else if ((ret = r->on_postcopy(r, r->on_postcopy_arg)) < 0) {
				stream_fail(s, ret, "%s", err_msg());
			}
			break;
		default:
			if (!(flags & SECTION_OPTIONAL))
				stream_fail(s, -EINVAL, "unknown mandatory section type %u", type);
		}
		if (s->err)
			break;
	}
	vcpu_state_free(&st);
	if (!s->err && (!have_vm || ncpu_loaded != vm->ncpus))
		stream_fail(s, -EINVAL, "incomplete: %d of %d vCPUs, VM state %s", ncpu_loaded,
			    vm->ncpus, have_vm ? "present" : "missing");
	/* The clock last: it starts counting from here. */
	if (!s->err) {
		ret = vm_state_load(vm->fd, &vs);
		if (ret < 0)
			stream_fail(s, ret, "%s", err_msg());
	}
	if (s->err)
		return err_set(s->err, "snapshot: %s", s->msg);
	return 0;
}

void snapshot_close(struct snap_reader *r)
{
	stream_free(&r->s);
	pagemap_close(&r->pm);
	if (r->fd >= 0)
		close(r->fd);
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	r->fd = r->listen_fd = -1;
}
