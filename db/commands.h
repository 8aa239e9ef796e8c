/* Remote operations (table pile_commands, migration 7): how mgmt has the gateway send a CS->CP
 * CALL to a pile, and how the pile's answer comes back.
 *
 * mgmt and the gateway are two processes sharing one SQLite file, so the request travels as a
 * row rather than over a loopback control socket: the row is the durable record of who sent what
 * to which pile and what it answered (the pile page lists it, the audit needs it); there is no
 * second listener to authenticate and bind; and either daemon can restart without the other
 * losing track (a row that was in flight is finished as failed, never left hanging). The cost
 * is latency: the gateway looks for new rows every ocpp_command_poll_ms (one indexed read of
 * an empty result most of the time), and mgmt looks for the answer the same way.
 *
 * Life of a row:
 *   mgmt     db_command_add                                   -> queued
 *   gateway  db_commands_queued (rows after the last it saw, in id order; mgmt's inserts commit
 *            in id order because SQLite has one writer at a time)
 *   gateway  db_command_sent (queued only)                    -> sent (unique_id, sent_at)
 *   gateway  db_command_finish answered | error | timeout     (from sent)
 *            db_command_finish failed (offline, busy, ...)    (from queued or sent)
 *   mgmt     db_command_finish failed "not_picked_up" when no gateway took it in time (from
 *            queued only, so it cannot undo the gateway's work)
 *   gateway  at start: db_commands_fail_unfinished("gateway_restarted"), db_commands_max_id
 * Times are epoch seconds. */
#ifndef EVGATE_DB_COMMANDS_H
#define EVGATE_DB_COMMANDS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

struct db;

/* Queues `action` with `payload` (JSON text of an object) for `equipment_id`, sent by
 * `account_id`; the new id into *id. */
int db_command_add(struct db *db, const char *equipment_id, int64_t account_id, const char *action,
                   const char *payload, int64_t at, int64_t *id);

/* Command `id` as {id, equipment_id, account_id, action, payload (object), state, unique_id,
 * response (object or null), error, detail, created_at, sent_at, finished_at} into *out (caller
 * owns). DB_NOTFOUND when there is no such row. */
int db_command_get(struct db *db, int64_t id, json_t **out);

/* The pile's commands, newest first: page of `limit` from `offset`, items as db_command_get,
 * the number of all of the pile's commands into *total. */
int db_commands_list(struct db *db, const char *equipment_id, int64_t limit, int64_t offset,
                     json_t **items, int64_t *total);

/* One queued row; the strings are borrowed for the callback only. */
typedef int (*db_command_fn)(void *arg, int64_t id, const char *equipment_id, const char *action,
                             const char *payload);

/* Calls `fn` for up to `limit` queued rows with id > after_id, ascending. Returns DB_OK, the
 * callback's nonzero value, or a DB_* error. */
int db_commands_queued(struct db *db, int64_t after_id, int64_t limit, db_command_fn fn, void *arg);

/* The largest id in the table (0 when empty) into *id. */
int db_commands_max_id(struct db *db, int64_t *id);

/* queued -> sent with the CALL's `unique_id` at `at`. DB_CONFLICT when the row is no longer
 * queued (mgmt gave up on it), DB_NOTFOUND when there is no such row. */
int db_command_sent(struct db *db, int64_t id, const char *unique_id, int64_t at);

/* Finishes command `id` in `state` (answered, error, timeout or failed) at `at`. `response` is
 * JSON text or NULL, `error` a short code or NULL, `detail` one line or NULL. `from_sent_only`
 * 1: only a sent row may finish (the gateway's answers and timeouts); 0: a queued or sent row
 * (the gateway's failures); 2: a queued row only (db_command_abandon). DB_CONFLICT when the row
 * is not in such a state, DB_NOTFOUND when there is no such row. */
int db_command_finish(struct db *db, int64_t id, const char *state, const char *response,
                      const char *error, const char *detail, int64_t at, int from_sent_only);

/* mgmt giving up: a still queued row becomes failed with `error`. DB_CONFLICT when the gateway
 * already took it. */
int db_command_abandon(struct db *db, int64_t id, const char *error, const char *detail,
                       int64_t at);

/* Every queued or sent row becomes failed with `error` (a gateway that starts has sent nothing
 * yet); how many into *n (may be NULL). */
int db_commands_fail_unfinished(struct db *db, int64_t at, const char *error, int64_t *n);

/* Deletes the pile's finished commands but the newest `keep`. */
int db_commands_prune(struct db *db, const char *equipment_id, int64_t keep);

/* How many of the pile's commands are queued or sent (mgmt's bound per pile), into *n. */
int db_commands_unfinished(struct db *db, const char *equipment_id, int64_t *n);
/* Calls `fn` for each id of the JSON array `ids_json` whose command is finished (neither
 * queued nor sent), in no particular order: one query for every waiting request. Returns
 * DB_OK, the callback's nonzero value, or a DB_* error. */
int db_commands_finished_among(struct db *db, const char *ids_json,
                               int (*fn)(void *arg, int64_t id), void *arg);

#endif
