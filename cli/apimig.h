/* apimig: the control API's migration commands (migrate, migrate-status,
 * migrate-cancel, migrate-postcopy, migrate-resume) and the hooks through
 * which the migration thread reaches this VMM (struct mig_host): stun and
 * resume run on the I/O thread through
 * loop_call(), so the VM is never stunned in the middle of a device request.
 *
 * `migrate` starts the migration thread and returns at once; clients poll
 * `migrate-status` (vmm migrate prints it as a progress line). After a
 * successful hand-over this VMM quits, but only once a client has read the
 * final status (or after a few seconds), so the summary is never lost. */
#ifndef CLI_APIMIG_H
#define CLI_APIMIG_H

#include <json-c/json.h>

struct api_target;
struct loop;
struct apimig;

struct apimig *apimig_new(struct api_target *t, struct loop *l);
/* apimig_free(m): cancel a running migration, wait for its thread. */
void apimig_free(struct apimig *m);

json_object *apimig_start(struct apimig *m, json_object *args);
json_object *apimig_status(struct apimig *m);
json_object *apimig_cancel(struct apimig *m);
json_object *apimig_postcopy(struct apimig *m);
/* migrate-resume [to]: go on with a paused post-copy. */
json_object *apimig_resume(struct apimig *m, json_object *args);
/* apimig_holds_vm(m): a paused post-copy - the VM runs on the destination,
 * so this stunned copy must not be resumed or migrated elsewhere. */
int apimig_holds_vm(struct apimig *m);

/* Reply helpers shared by the API's files (api.c). */
json_object *api_error(const char *cls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_object *api_ok(json_object *ret);

#endif
