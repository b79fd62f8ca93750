/* api: the VMM's control socket. Line-delimited JSON requests, in the spirit
 * of QMP: {"execute": "status", "arguments": {...}} -> {"return": {...}} or
 * {"error": {"class": "...", "desc": "..."}}. Served by the I/O loop, one
 * request at a time, so a command runs while no device is being processed.
 * Commands (docs/api.md has the schema): status, pause, resume, quit, stats,
 * inspect, snapshot. */
#ifndef CLI_API_H
#define CLI_API_H

#include "../migration/snapshot.h"

struct loop;
struct vm;
struct devices;

struct api_target {
	struct vm *vm;
	struct devices *ds;
	struct snap_config cfg;		/* what a snapshot records */
	double start_s;			/* CLOCK_MONOTONIC at start */
};

struct api;

/* api_open(path, l, target, out): create the socket (mode 0600; refuse a path
 * a live VMM answers on, replace a stale one) and serve it from l. */
int api_open(const char *path, struct loop *l, struct api_target *target, struct api **out);
void api_close(struct api *a);

#endif
