/* ctl: `vmm ctl --api PATH [--json] COMMAND [KEY=VALUE...]`, the command-line
 * client of the control socket. Sends one request, prints the reply (as
 * "key: value" lines, or raw JSON with --json) and exits non-zero on an error
 * reply or when the VMM cannot be reached. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "cli.h"

static const char ctl_help[] =
	"usage: vmm ctl --api PATH [--json] [--timeout S] COMMAND [KEY=VALUE...]\n"
	"\n"
	"Send one command to a running VMM's control socket and print the reply.\n"
	"\n"
	"commands:\n"
	"  status                  running or paused, vCPUs, memory, uptime\n"
	"  pause, resume           stun the VM (vCPUs and devices) and let it go\n"
	"  quit                    stop the VM; the VMM exits 0\n"
	"  stats                   exits per reason, device counters\n"
	"  inspect vcpu=N          a vCPU's registers\n"
	"  inspect gpa=ADDR [len=N]  guest memory, hex (at most 4096 bytes)\n"
	"  snapshot path=FILE      checkpoint the VM to FILE (vmm run --restore FILE)\n"
	"  migrate to=ADDR:PORT [strategy=precopy|stop-copy|postcopy|hybrid] [downtime_ms=N]\n"
	"          [max_bandwidth=BYTES_PER_S] [compress=lz4|none] [max_iterations=N]\n"
	"          [auto_converge=0|1]   start a migration (vmm migrate wraps this)\n"
	"  migrate-status          progress or result of the last migration\n"
	"  migrate-cancel          cancel it; the VM keeps running here\n"
	"  migrate-postcopy        a hybrid migration switches to post-copy now\n"
	"\n"
	"  -a, --api PATH          the VMM's --api socket\n"
	"  -j, --json              print the raw JSON reply\n"
	"  -t, --timeout S         give up after S seconds (default 120)\n";

static void print_value(const char *key, json_object *v, int depth)
{
	if (json_object_is_type(v, json_type_object)) {
		if (key)
			printf("%*s%s:\n", depth * 2, "", key);
		json_object_object_foreach(v, k, sub)
			print_value(k, sub, depth + (key != NULL));
	} else if (json_object_is_type(v, json_type_array)) {
		printf("%*s%s:\n", depth * 2, "", key ? key : "");
		for (size_t i = 0; i < json_object_array_length(v); i++)
			print_value("-", json_object_array_get_idx(v, i), depth + 1);
	} else {
		printf("%*s%s: %s\n", depth * 2, "", key ? key : "", json_object_get_string(v));
	}
}

int ctl_request(const char *api, json_object *req, int timeout_s, json_object **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[1 << 16];
	size_t len = 0;
	const char *txt;
	int fd;

	if (strlen(api) >= sizeof(sa.sun_path))
		return err_set(-ENAMETOOLONG, "--api %s: path too long", api);
	strcpy(sa.sun_path, api);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return err_set(-e, "cannot reach the VMM at %s: %s", api, strerror(e));
	}
	txt = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (write(fd, txt, strlen(txt)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return err_set(-EPIPE, "cannot send to %s: %s", api, strerror(errno));
	}
	while (!memchr(buf, '\n', len)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_s * 1000) <= 0) {
			close(fd);
			return err_set(-ETIMEDOUT, "no reply from %s within %d s", api, timeout_s);
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			close(fd);
			return err_set(-EPIPE, "the VMM at %s closed the connection without a reply",
				       api);
		}
		len += (size_t)n;
		if (len == sizeof(buf) - 1) {
			close(fd);
			return err_set(-E2BIG, "reply too long");
		}
	}
	close(fd);
	buf[len] = 0;
	*reply = json_tokener_parse(buf);
	if (!*reply)
		return err_set(-EPROTO, "unreadable reply: %.200s", buf);
	return 0;
}

int cmd_ctl(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "api", required_argument, NULL, 'a' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *api = NULL;
	int json = 0, c, timeout_s = 120;
	json_object *req, *args, *reply, *e;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+a:jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': api = optarg; break;
		case 'j': json = 1; break;
		case 't': timeout_s = atoi(optarg) > 0 ? atoi(optarg) : 120; break;
		case 'h': fputs(ctl_help, stdout); return 0;
		default:
			fprintf(stderr, "vmm: error: bad option '%s' (try 'vmm ctl --help')\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (!api || optind >= argc) {
		fprintf(stderr, "vmm: error: need --api PATH and a COMMAND (try 'vmm ctl --help')\n");
		return 2;
	}
	req = json_object_new_object();
	args = json_object_new_object();
	json_object_object_add(req, "execute", json_object_new_string(argv[optind]));
	for (int i = optind + 1; i < argc; i++) {
		char *eq = strchr(argv[i], '='), *end;
		long long v;

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "vmm: error: argument '%s' is not KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq = 0;
		v = strtoll(eq + 1, &end, 0);
		json_object_object_add(args, argv[i], *end || end == eq + 1 ?
				       json_object_new_string(eq + 1) : json_object_new_int64(v));
	}
	json_object_object_add(req, "arguments", args);
	if (ctl_request(api, req, timeout_s, &reply) < 0)
		die("%s", err_msg());
	json_object_put(req);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	if (json_object_object_get_ex(reply, "error", &e)) {
		json_object *d;

		if (!json && json_object_object_get_ex(e, "desc", &d))
			fprintf(stderr, "vmm: error: %s\n", json_object_get_string(d));
		json_object_put(reply);
		return 1;
	}
	if (!json && json_object_object_get_ex(reply, "return", &e))
		print_value(NULL, e, 0);
	json_object_put(reply);
	return 0;
}
