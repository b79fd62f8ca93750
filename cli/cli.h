/* cli: the subcommands. Each takes argc/argv after the subcommand name and
 * returns the process exit code; only cli/ prints errors and exits. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdint.h>
#include "../devices/virtio-devices.h"

#define RUN_MAX_DISKS 8
#define RUN_MAX_NETS 4

int cmd_run(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_receive(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

/* The parsed options of `vmm run`, exposed for tests. */
struct run_opts {
	const char *kernel, *initrd, *cmdline, *micro, *console, *kvm_path;
	const char *api;		/* control socket path */
	const char *restore;		/* snapshot to resume */
	const char *incoming;		/* ADDR:PORT to receive a migrating VM on */
	long pc_nice;			/* post-copy: vCPUs' nice + this until the last page */
	int mem_given, cpus_given;
	uint64_t mem_size;
	long cpus;
	long micro_arg;
	int quiet;
	int help;
	struct disk_spec disks[RUN_MAX_DISKS];
	int ndisks;
	struct net_spec nets[RUN_MAX_NETS];
	int nnets;
};

/* run_parse(argc, argv, o): fill o with defaults and the options; returns 0 or
 * -EINVAL with a message. Checks that the options make sense together. */
int run_parse(int argc, char **argv, struct run_opts *o);

/* ctl_request(api, req, timeout_s, reply): one request on the control
 * socket at api, the parsed reply in *reply (caller puts it). 0 or -errno
 * with a message. */
struct json_object;
int ctl_request(const char *api, struct json_object *req, int timeout_s,
		struct json_object **reply);

/* die(fmt, ...): print "vmm: error: ..." and exit(1). cli/ only. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
