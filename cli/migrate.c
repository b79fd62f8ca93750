/* migrate: `vmm migrate`, the client side of a live migration. Starts it
 * through the source VMM's control socket, then polls migrate-status: a
 * progress line on a terminal while it runs, a summary (or JSON) at the end.
 * Ctrl-C cancels the migration (the VM keeps running on the source). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../migration/migrate.h"
#include "../vmm/err.h"
#include "cli.h"
#include "opts.h"

static const char migrate_help[] =
	"usage: vmm migrate --api PATH --to ADDR:PORT [options]\n"
	"       vmm migrate --api PATH --resume [--to ADDR:PORT]\n"
	"\n"
	"Move the VM behind --api to a `vmm receive --listen ADDR:PORT`. Until the\n"
	"destination has loaded everything and said so, any failure (a broken link,\n"
	"a killed destination, a cancel) leaves the VM running here. After success\n"
	"the source VMM exits 0.\n"
	"\n"
	"  -a, --api PATH           the source VMM's control socket\n"
	"  -t, --to ADDR:PORT       where `vmm receive` listens\n"
	"  -s, --strategy S         precopy (default): copy RAM while the guest runs,\n"
	"                           resend dirty pages in rounds, then stun briefly;\n"
	"                           stop-copy: stun, copy everything, resume there;\n"
	"                           postcopy: move the vCPU and device state, run\n"
	"                           there at once, pages follow on demand and in a\n"
	"                           background push; hybrid: pre-copy rounds, then\n"
	"                           post-copy when they stop shrinking (or on\n"
	"                           `vmm ctl migrate-postcopy`)\n"
	"  -d, --downtime-ms N      pre-copy switches over once the predicted downtime\n"
	"                           is under N ms (default 300)\n"
	"  -b, --max-bandwidth RATE cap in bytes/s, K/M/G suffixes (1024-based), e.g.\n"
	"                           100M; default unlimited\n"
	"  -c, --compress lz4|none  LZ4 pages that shrink, while the link is slower\n"
	"                           than the compressor (default lz4)\n"
	"  -i, --max-iterations N   pre-copy rounds before switching over anyway\n"
	"                           (default 30)\n"
	"  -A, --auto-converge on|off  throttle the vCPUs when rounds stop shrinking\n"
	"                           (default on)\n"
	"  -j, --json               print the result as one JSON object on stdout\n"
	"  -q, --quiet              no progress line\n"
	"  -r, --resume             go on with a post-copy whose link broke (state\n"
	"                           postcopy-paused): reconnect, hear which pages the\n"
	"                           destination lacks, send them (--to: if it moved)\n"
	"\n"
	"Downtime is measured by the two VMMs: from the stun here to the moment the\n"
	"destination resumed the vCPUs, on this machine's CLOCK_MONOTONIC.\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int parse_rate(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;

	if (end == s || v < 0)
		return err_set(-EINVAL, "--max-bandwidth '%s': a number of bytes per second", s);
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	}
	if (*end)
		return err_set(-EINVAL, "--max-bandwidth '%s': unknown suffix", s);
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

static json_object *request(const char *api, const char *cmd, json_object *args)
{
	json_object *req = json_object_new_object(), *reply = NULL, *e, *d;

	json_object_object_add(req, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "arguments", args);
	if (ctl_request(api, req, 30, &reply) < 0) {
		json_object_put(req);
		return NULL;
	}
	json_object_put(req);
	if (json_object_object_get_ex(reply, "error", &e)) {
		err_set(-EINVAL, "%s", json_object_object_get_ex(e, "desc", &d) ?
			json_object_get_string(d) : "error");
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

static double num(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static void progress(json_object *st)
{
	double ram = num(st, "ram_pages"), it = num(st, "iterations");
	double done = ram > 0 ? 100.0 * (num(st, "pages_sent") + num(st, "zero_pages")) / ram : 0;

	fprintf(stderr, "\r\033[K%s %s: %5.1f%% of RAM  %7.1f MiB  %6.0f Mbit/s  dirty %5.0f Mbit/s"
		"  round %.0f  est. downtime %.0f ms%s", str(st, "strategy"), str(st, "state"),
		done > 100 ? 100 : done, num(st, "bytes_sent") / 1048576, num(st, "bandwidth_mbps"),
		num(st, "dirty_rate_mbps"), it, num(st, "expected_downtime_ms"),
		num(st, "throttle_pct") > 0 ? "  (throttled)" : "");
}

static void summary(json_object *st)
{
	printf("%s migration %s\n", str(st, "strategy"), str(st, "state"));
	if (str(st, "message")[0])
		printf("  %s\n", str(st, "message"));
	printf("  downtime      %.1f ms", num(st, "downtime_ms"));
	{
		json_object *sw;

		if (json_object_object_get_ex(st, "downtime_parts_ms", &sw))
			printf(" (stun + capture %.1f, send %.1f, destination load %.1f, to running "
			       "%.1f)", num(sw, "capture"), num(sw, "send"), num(sw, "load"),
			       num(sw, "run"));
	}
	printf("\n");
	printf("  total         %.0f ms\n", num(st, "total_ms"));
	printf("  sent          %.1f MiB, %.0f pages (+%.0f zero, %.0f lz4)\n",
	       num(st, "bytes_sent") / 1048576, num(st, "pages_sent"), num(st, "zero_pages"),
	       num(st, "lz4_pages"));
	printf("  rounds        %.0f%s\n", num(st, "iterations"),
	       num(st, "throttle_pct") > 0 ? " (auto-converge throttled the guest)" : "");
	printf("  bandwidth     %.0f Mbit/s; dirty rate %.0f Mbit/s\n", num(st, "bandwidth_mbps"),
	       num(st, "dirty_rate_mbps"));
	if (json_object_object_get_ex(st, "postcopy", NULL) && num(st, "postcopy_ms") > 0) {
		json_object *lat = NULL;

		json_object_object_get_ex(st, "fault_latency_us", &lat);
		printf("  post-copy     %.0f ms: %.0f faults (latency p50 %.0f us, p99 %.0f us, max %.0f us),"
		       " %.0f pages demanded, %.0f prefetched, %.0f pushed, %.0f duplicates\n",
		       num(st, "postcopy_ms"), num(st, "faults"), lat ? num(lat, "p50") : 0,
		       lat ? num(lat, "p99") : 0, lat ? num(lat, "max") : 0, num(st, "pages_demanded"),
		       num(st, "pages_prefetched"), num(st, "pages_pushed"), num(st, "duplicates"));
	}
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "api", required_argument, NULL, 'a' }, { "to", required_argument, NULL, 't' },
		{ "strategy", required_argument, NULL, 's' },
		{ "downtime-ms", required_argument, NULL, 'd' },
		{ "max-bandwidth", required_argument, NULL, 'b' },
		{ "compress", required_argument, NULL, 'c' },
		{ "max-iterations", required_argument, NULL, 'i' },
		{ "auto-converge", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' }, { "quiet", no_argument, NULL, 'q' },
		{ "resume", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { 0 }
	};
	const char *api = NULL, *to = NULL;
	json_object *args = json_object_new_object(), *reply, *st = NULL;
	int c, json = 0, quiet = 0, resume = 0, strategy_given = 0, tty = isatty(2), rc;
	enum mig_strategy strategy = MIG_PRECOPY;
	enum compress_mode comp;
	uint64_t rate = 0;
	long v;
	const char *state = "";

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "a:t:s:d:b:c:i:A:jqrh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': api = optarg; break;
		case 't': to = optarg; break;
		case 's':
			if (mig_parse_strategy(optarg, &strategy) < 0)
				die("--strategy: %s", err_msg());
			strategy_given = 1;
			break;
		case 'd':
			if (opt_long(optarg, 1, 600000, &v) < 0)
				die("--downtime-ms: %s", err_msg());
			json_object_object_add(args, "downtime_ms", json_object_new_int64(v));
			break;
		case 'b':
			if (parse_rate(optarg, &rate) < 0)
				die("%s", err_msg());
			json_object_object_add(args, "max_bandwidth",
					       json_object_new_int64((int64_t)rate));
			break;
		case 'c':
			if (mig_parse_compress(optarg, &comp) < 0)
				die("--compress: %s", err_msg());
			json_object_object_add(args, "compress", json_object_new_string(optarg));
			break;
		case 'i':
			if (opt_long(optarg, 1, 10000, &v) < 0)
				die("--max-iterations: %s", err_msg());
			json_object_object_add(args, "max_iterations", json_object_new_int64(v));
			break;
		case 'A':
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				die("--auto-converge: on or off, not '%s'", optarg);
			json_object_object_add(args, "auto_converge",
					       json_object_new_boolean(!strcmp(optarg, "on")));
			break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'r': resume = 1; break;
		case 'h':
			fputs(migrate_help, stdout);
			json_object_put(args);
			return 0;
		default:
			fprintf(stderr, "vmm: error: migrate: bad option '%s' (try vmm migrate --help)\n",
				argv[optind - 1]);
			json_object_put(args);
			return 2;
		}
	}
	if (!api || (!to && !resume) || optind < argc) {
		fprintf(stderr, "vmm: error: migrate needs --api PATH and --to ADDR:PORT "
			"(try vmm migrate --help)\n");
		json_object_put(args);
		return 2;
	}
	if (resume && (json_object_object_length(args) > 0 || strategy_given)) {
		fprintf(stderr, "vmm: error: --resume takes only --api, --to, --json and --quiet\n");
		json_object_put(args);
		return 2;
	}
	if (to)
		json_object_object_add(args, "to", json_object_new_string(to));
	if (!resume)
		json_object_object_add(args, "strategy",
				       json_object_new_string(mig_strategy_name(strategy)));
	reply = request(api, resume ? "migrate-resume" : "migrate", args);
	if (!reply)
		die("migrate: %s", err_msg());
	json_object_put(reply);
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	for (int cancel_sent = 0;;) {
		json_object *r;
		struct timespec ts = { 0, 100 * 1000000L };

		if (interrupted && !cancel_sent) {
			r = request(api, "migrate-cancel", NULL);
			if (!r)
				fprintf(stderr, "\nvmm: cancel: %s\n", err_msg());
			json_object_put(r);
			cancel_sent = 1;
		}
		reply = request(api, "migrate-status", NULL);
		if (!reply)
			die("migrate: lost the source VMM: %s", err_msg());
		json_object_object_get_ex(reply, "return", &r);
		json_object_put(st);
		st = json_object_get(r);
		json_object_put(reply);
		state = str(st, "state");
		if (strcmp(state, "setup") && strcmp(state, "active") && strcmp(state, "switchover") &&
		    strcmp(state, "postcopy"))
			break;
		if (tty && !quiet && !json)
			progress(st);
		nanosleep(&ts, NULL);
	}
	if (tty && !quiet && !json)
		fputs("\r\033[K", stderr);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN));
	else
		summary(st);
	rc = strcmp(state, "completed") ? 1 : 0;
	if (rc && !json)
		fprintf(stderr, "vmm: error: migration %s: %s\n", state, str(st, "message"));
	json_object_put(st);
	return rc;
}
