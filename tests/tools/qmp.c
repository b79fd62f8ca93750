/* qmp: a small QMP client to drive QEMU, the reference peer, in the same
 * benchmarks as our VMM (QEMU speaks JSON lines on a unix socket).
 *
 *   qmp SOCKET migrate URI [DOWNTIME_MS] [TIMEOUT_S] [CAPS] [POSTCOPY_AFTER_MS]
 *       set downtime-limit, enable CAPS (comma list, e.g. postcopy-ram), start
 *       the migration, poll query-migrate until it ends, and print one JSON
 *       line: status, total_ms, downtime_ms, bytes, iterations (dirty syncs).
 *       With POSTCOPY_AFTER_MS, migrate-start-postcopy that long after the
 *       start. If it has not finished in TIMEOUT_S (default 120) it is
 *       cancelled and reported as "did-not-converge".
 *   qmp SOCKET incoming URI [CAPS]
 *       on a destination started with -incoming defer: enable CAPS, listen.
 *   qmp SOCKET stop | cont | quit | postcopy   (migrate-start-postcopy) */
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fd;
static char buf[1 << 16];
static size_t len;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Next message that is not an event; NULL on error. */
static json_object *reply(void)
{
	for (;;) {
		char *nl;

		while (!(nl = memchr(buf, '\n', len))) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (poll(&p, 1, 30000) <= 0 || len == sizeof(buf))
				return NULL;
			n = read(fd, buf + len, sizeof(buf) - len);
			if (n <= 0)
				return NULL;
			len += (size_t)n;
		}
		*nl = 0;
		json_object *o = json_tokener_parse(buf), *ev;
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len);
		if (o && json_object_object_get_ex(o, "event", &ev)) {
			json_object_put(o);
			continue;
		}
		return o;
	}
}

static json_object *cmd(const char *fmt, const char *a)
{
	char line[1024];

	snprintf(line, sizeof(line), fmt, a);
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0)
		return NULL;
	return reply();
}

/* set_caps("a,b"): migrate-set-capabilities with each of them on. */
static void set_caps(char *list)
{
	char caps[512] = "", *tok, *save, c[128];

	if (!list[0])
		return;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		snprintf(c, sizeof(c), "%s{\"capability\":\"%s\",\"state\":true}",
			 caps[0] ? "," : "", tok);
		strncat(caps, c, sizeof(caps) - strlen(caps) - 1);
	}
	json_object_put(cmd("{\"execute\":\"migrate-set-capabilities\",\"arguments\":"
			    "{\"capabilities\":[%s]}}", caps));
}

static double get(json_object *o, const char *path)
{
	char p[128], *tok, *save;
	json_object *cur = o;

	snprintf(p, sizeof(p), "%s", path);
	for (tok = strtok_r(p, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(cur, tok, &cur))
			return -1;
	return json_object_get_double(cur);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_object *r;

	if (argc < 3) {
		fprintf(stderr, "usage: qmp SOCKET migrate URI [DOWNTIME_MS] [TIMEOUT_S] [CAPS] | "
			"qmp SOCKET stop|cont|quit|postcopy\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("qmp: connect");
		return 1;
	}
	json_object_put(reply());	/* greeting */
	json_object_put(cmd("{\"execute\":\"qmp_capabilities\"}%s", ""));
	if (!strcmp(argv[2], "stop") || !strcmp(argv[2], "cont") || !strcmp(argv[2], "quit")) {
		json_object_put(cmd("{\"execute\":\"%s\"}", argv[2]));
		return 0;
	}
	if (!strcmp(argv[2], "incoming") && argc >= 4) {
		if (argc > 4)
			set_caps(argv[4]);
		r = cmd("{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"%s\"}}", argv[3]);
		if (!r || json_object_object_get_ex(r, "error", NULL)) {
			fprintf(stderr, "qmp: migrate-incoming: %s\n", r ? json_object_to_json_string(r) : "no reply");
			return 1;
		}
		json_object_put(r);
		return 0;
	}
	if (!strcmp(argv[2], "postcopy")) {
		json_object_put(cmd("{\"execute\":\"migrate-start-postcopy\"}%s", ""));
		return 0;
	}
	if (!strcmp(argv[2], "migrate") && argc >= 4) {
		int timeout_s = argc > 5 ? atoi(argv[5]) : 120;
		char args[256];
		double t0 = now_ms();
		const char *status = "failed";

		snprintf(args, sizeof(args), "%s", argc > 4 ? argv[4] : "300");
		json_object_put(cmd("{\"execute\":\"migrate-set-parameters\",\"arguments\":"
				    "{\"downtime-limit\":%s}}", args));
		if (argc > 6)
			set_caps(argv[6]);
		r = cmd("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"%s\"}}", argv[3]);
		if (!r || json_object_object_get_ex(r, "error", NULL)) {
			printf("{\"status\":\"failed\",\"error\":%s}\n",
			       r ? json_object_to_json_string(r) : "\"no reply\"");
			return 1;
		}
		json_object_put(r);
		int pc_after = argc > 7 ? atoi(argv[7]) : -1;

		for (;;) {
			struct timespec ts = { 0, 50 * 1000000L };
			json_object *st;

			if (pc_after >= 0 && now_ms() - t0 >= pc_after) {
				json_object_put(cmd("{\"execute\":\"migrate-start-postcopy\"}%s", ""));
				pc_after = -1;
			}

			r = cmd("{\"execute\":\"query-migrate\"}%s", "");
			if (!r)
				return 1;
			if (json_object_object_get_ex(r, "return", &st) &&
			    json_object_object_get_ex(st, "status", NULL)) {
				json_object *s;

				json_object_object_get_ex(st, "status", &s);
				status = json_object_get_string(s);
				if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
				    !strcmp(status, "cancelled")) {
					printf("{\"status\":\"%s\",\"total_ms\":%.0f,\"downtime_ms\":%.0f,"
					       "\"bytes\":%.0f,\"iterations\":%.0f,"
					       "\"postcopy_requests\":%.0f}\n", status,
					       get(st, "total-time"), get(st, "downtime"),
					       get(st, "ram.transferred"),
					       get(st, "ram.dirty-sync-count"),
					       get(st, "ram.postcopy-requests"));
					return strcmp(status, "completed") ? 1 : 0;
				}
			}
			json_object_put(r);
			if (now_ms() - t0 > timeout_s * 1e3) {
				json_object_put(cmd("{\"execute\":\"migrate_cancel\"}%s", ""));
				printf("{\"status\":\"did-not-converge\",\"total_ms\":%.0f}\n",
				       now_ms() - t0);
				return 1;
			}
			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "qmp: unknown command %s\n", argv[2]);
	return 2;
}
