/* snapshot: checkpoint and restore, the state stream to and from a file.
 * The writer fills PATH.tmp, syncs it and renames it into place, so a crash
 * never leaves a half-written snapshot under PATH. The reader trusts nothing:
 * every section is length-bounded and checksummed by the stream, then checked
 * by the part of the VMM that loads it. */
#ifndef MIGRATION_SNAPSHOT_H
#define MIGRATION_SNAPSHOT_H

#include <stdint.h>
#include "pages.h"
#include "stream.h"
#include "ram.h"

struct vm;
struct devices;

struct snap_config {
	uint64_t mem_size;
	uint32_t ncpus;
	uint32_t micro;		/* a micro guest (no PCI) */
	uint32_t ndisks, nnets;
};

struct snap_stats {
	struct ram_stats ram;
	uint64_t bytes;
	double write_ms;
};

/* snapshot_save(path, vm, ds, cfg, st): write a snapshot of a VM paused with
 * capture (vm_pause(vm, 1)). Returns 0 or -errno with a message. */
int snapshot_save(const char *path, struct vm *vm, struct devices *ds,
		  const struct snap_config *cfg, struct snap_stats *st);

/* snapshot_write_fd(fd, vm, ds, cfg, st): the same stream to any fd (a
 * migration socket). Returns 0 or -errno with a message; no fsync. */
int snapshot_write_fd(int fd, struct vm *vm, struct devices *ds, const struct snap_config *cfg,
		      struct snap_stats *st);

/* snapshot_put_config(s, cfg): the CONFIG section. snapshot_put_state(s,
 * vm, ds): the DEVICE, VCPU and VM sections of a VM paused with capture.
 * The pieces migration sends around its page rounds. Return s->err. */
void snapshot_put_config(struct stream *s, const struct snap_config *cfg);
int snapshot_put_state(struct stream *s, struct vm *vm, struct devices *ds);

struct snap_reader {
	int fd;
	struct fd_transport ft;
	struct stream s;
	struct page_stats pages;	/* PAGES sections loaded (migration) */
	struct pagemap pm;		/* zero pages: untouched ones go unread */
	int postcopy;			/* a POSTCOPY section: RAM follows on demand */
	int listen_fd;			/* incoming migration: for the urgent channel */
	int incoming;			/* a migration: SYNC is answered on fd */
	uint64_t resident_pages;	/* backed ahead as RESIDENT said (resident.h) */
	double resident_ms;		/* and how long that took */
	/* Called at the POSTCOPY section, before any state that follows it is
	 * loaded; returns 0 or -errno with a message. */
	int (*on_postcopy)(struct snap_reader *r, void *arg);
	void *on_postcopy_arg;
};

/* snapshot_read_config(s, cfg): the header and the CONFIG section, checked
 * for plausibility. Returns 0 or the stream's error. */
int snapshot_read_config(struct stream *s, struct snap_config *cfg);

/* snapshot_open(r, path, cfg): open and read the header and configuration. */
int snapshot_open(struct snap_reader *r, const char *path, struct snap_config *cfg);

/* snapshot_load(r, vm, ds): load devices, vCPUs (before their threads start),
 * VM state and RAM into a VM created from the configuration. */
int snapshot_load(struct snap_reader *r, struct vm *vm, struct devices *ds);
void snapshot_close(struct snap_reader *r);

/* snapshot_open_fd(r, fd, name, cfg): read from an fd the reader takes over
 * (a migration socket); name is for messages. */
int snapshot_open_fd(struct snap_reader *r, int fd, const char *name, struct snap_config *cfg);

#endif
