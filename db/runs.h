/* Conformance runs (tables conformance_runs and conformance_checks, migration 9): a run of one
 * named plan against one pile or operator platform, its checks in plan order with their
 * verdicts, reasons and frames. docs/conformance.md is the design; this is its storage, shared
 * by mgmt (which queues, cancels and reads runs) and the gateway (which executes them), in the
 * same pattern as remote operations (db/commands.h): rows mgmt inserts, the gateway takes, and
 * UPDATEs guarded by state, so that either daemon may restart without a run hanging.
 *
 * Life of a run:
 *   mgmt     db_run_create                      -> queued, every check pending (and the graded
 *                                                  detection, if any, -> testing)
 *   gateway  db_runs_queued, db_run_start        queued -> running
 *   gateway  db_run_check_start                  check pending -> running
 *            db_run_check_verdict                check pending|running -> pass|fail|skipped|error
 *            db_run_cancel_requested             between steps and while waiting
 *   gateway  db_run_finish                       running -> passed|failed|error|cancelled (and
 *                                                  the detection's verdict)
 *   mgmt     db_run_cancel                       queued -> cancelled at once; running -> flag
 *   gateway  at start: db_runs_fail_running      running -> error "the gateway restarted"
 *
 * Times are epoch seconds, passed in. Strings passed in are borrowed.
 *
 * Transactions: a function that writes more than one statement (create, finish, cancel,
 * fail_running) runs them in one transaction of its own when the connection is not in one, and
 * otherwise inside the caller's (the gateway's writer jobs, which must not begin or commit):
 * there a failure leaves the rollback to the caller. For the same reason the graded detection is
 * moved here with this module's own statements rather than through db_detection_transition or
 * db_detection_verdict (which open transactions of their own); they follow the same rules and
 * write the same audit rows. */
#ifndef EVGATE_DB_RUNS_H
#define EVGATE_DB_RUNS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Finished runs kept per target (older ones and their checks are deleted whenever a run of the
 * target finishes): a run's frames can reach DB_RUN_FRAMES_MAX * DB_RUN_FRAME_TEXT_MAX bytes
 * per check. */
#define DB_RUNS_KEEP 20
/* Most checks in one run. */
#define DB_RUN_CHECKS_MAX 256
/* Frames kept per check; the ones beyond are counted (frames_dropped), not stored. */
#define DB_RUN_FRAMES_MAX 64
/* Bytes of one frame's text kept (cut on a UTF-8 boundary; the frame then says `cut`: its
 * original length in bytes). */
#define DB_RUN_FRAME_TEXT_MAX 4096
/* Bytes of a run's or a check's reason kept (cut on a UTF-8 boundary). */
#define DB_RUN_REASON_MAX 1024
/* Bytes of a check id, a plan name or a target. */
#define DB_RUN_NAME_MAX 64

/* The reason a gateway that starts gives its interrupted runs. */
#define DB_RUN_RESTARTED "the gateway restarted"

/* One check of a new run, in plan order. */
struct db_run_check_in {
    const char *check_id;
    int required; /* 1: the run passes only when this check passes */
};

/* A new run. */
struct db_run_in {
    const char *plan;        /* e.g. "ocpp16-core", "tcec102-platform" */
    const char *target_kind; /* "pile" or "platform" */
    const char *target;      /* EquipmentID or OperatorID */
    int64_t detection_id;    /* the `self` detection the run grades, 0 = none (mgmt passes one
                                for tcec102-platform runs) */
    int64_t account_id;      /* who starts it */
};

/* Queues run `r` with `n` checks (1..DB_RUN_CHECKS_MAX, given in plan order: seq 1..n, every
 * check pending) at `at`, in one transaction; the new id into *id. When r->detection_id > 0 the
 * same transaction moves that detection from `approved` or `failed` to `testing` (only a `self`
 * one) with an audit row "detection.testing" by r->account_id.
 * DB_CONFLICT when the target already has a queued or running run, or the detection is not a
 * `self` one in `approved` or `failed`; DB_NOTFOUND when there is no such detection; DB_ERROR
 * for missing or over-long fields or a bad `n`. Nothing is written unless it returns DB_OK. */
int db_run_create(struct db *db, const struct db_run_in *r, const struct db_run_check_in *checks,
                  int n, int64_t at, int64_t *id);

/* ---- the gateway's side -------------------------------------------------------------------- */

/* One queued run; the strings are borrowed for the callback only. */
struct db_run_head {
    int64_t id;
    const char *plan;
    const char *target_kind;
    const char *target;
    int64_t detection_id; /* 0 = none */
    int64_t account_id;
    int64_t created_at; /* when mgmt queued it */
};
typedef int (*db_run_fn)(void *arg, const struct db_run_head *run);

/* Calls `fn` for up to `limit` queued runs with id > after_id, ascending (the order mgmt
 * queued them). Returns DB_OK, the callback's nonzero value, or a DB_* error. */
int db_runs_queued(struct db *db, int64_t after_id, int64_t limit, db_run_fn fn, void *arg);

/* queued -> running at `at`. DB_CONFLICT when the run is no longer queued (cancelled),
 * DB_NOTFOUND when there is no such run. */
int db_run_start(struct db *db, int64_t id, int64_t at);

/* Check `seq` of run `id`: pending -> running at `at`, while the run is running. DB_CONFLICT
 * when the check is not pending or the run not running; DB_NOTFOUND when there is no such
 * check. */
int db_run_check_start(struct db *db, int64_t id, int seq, int64_t at);

/* Check `seq` of run `id`: pending or running -> `verdict` ("pass", "fail", "skipped" or
 * "error") at `at`, while the run is running, with `reason` (one line or NULL; cut at
 * DB_RUN_REASON_MAX) and `frames` (JSON text of an array of {dir "in"|"out", ms, text}, or NULL
 * for none): the first DB_RUN_FRAMES_MAX frames are kept, each `text` cut at
 * DB_RUN_FRAME_TEXT_MAX bytes, and the frames beyond are counted in frames_dropped.
 * DB_CONFLICT when the check is already decided or the run not running; DB_NOTFOUND when there
 * is no such check; DB_ERROR for another verdict or `frames` that is not an array of objects. */
int db_run_check_verdict(struct db *db, int64_t id, int seq, const char *verdict,
                         const char *reason, const char *frames, int64_t at);

/* Ends running run `id` at `at`. `state` NULL: `passed` when every required check's verdict is
 * `pass`, else `failed`; or "error" or "cancelled" as the engine says. `reason` one line or
 * NULL (for passed/failed a NULL reason becomes a count of the required checks that did not
 * pass; for cancelled NULL becomes "cancelled"). Checks still undecided end too: a running one
 * `error` for an error run and `skipped` otherwise, a pending one `skipped`, with the run's
 * reason (cancelled: "cancelled"; passed/failed: "the run ended before this check").
 * When the run grades a detection still in `testing`, the same transaction settles it: a passed
 * or failed run records the detection's verdict (`passed` / `failed`, source `run`, the note
 * naming the run: "run 12 failed: 2 required checks did not pass") with an audit row
 * "detection.verdict" by the system; an error or cancelled run judged nothing, so the detection
 * goes back to where it was before the run (`failed` when it had a failed verdict, else
 * `approved`) with an audit row "detection.testing_ended" naming the run, and may be run again.
 * A detection that left `testing` meanwhile (an admin's manual verdict) keeps its state. Then
 * the target's finished runs beyond DB_RUNS_KEEP are deleted. The final state into out_state
 * (may be NULL).
 * DB_CONFLICT when the run is not running, DB_NOTFOUND when there is no such run, DB_ERROR for
 * another `state`. */
int db_run_finish(struct db *db, int64_t id, const char *state, const char *reason, int64_t at,
                  char out_state[16]);

/* At a gateway's start: every running run ends `error` DB_RUN_RESTARTED (as db_run_finish
 * does it, detections included); how many into *n (may be NULL). Queued runs stay queued. */
int db_runs_fail_running(struct db *db, int64_t at, int64_t *n);

/* Whether mgmt asked to cancel run `id`, into *requested (0 or 1). DB_NOTFOUND when none. */
int db_run_cancel_requested(struct db *db, int64_t id, int *requested);

/* Whether a person confirmed check `seq` of run `id` (db_run_check_confirm), into *confirmed
 * (0 or 1). DB_NOTFOUND when there is no such check. */
int db_run_check_confirmed(struct db *db, int64_t id, int seq, int *confirmed);

/* The pile's registered connectors (rows of connectors with an OCPP connector id >= 1) into *n;
 * DB_NOTFOUND when there is no such pile. */
int db_run_pile_connectors(struct db *db, const char *equipment_id, int64_t *n);

/* ---- mgmt's side ----------------------------------------------------------------------------- */

/* A person confirms the manual step of check `seq` of run `id` at `at` (confirmed_at).
 * DB_CONFLICT when the run is finished or the check already decided; DB_NOTFOUND when there is
 * no such check. Confirming twice is DB_OK. */
int db_run_check_confirm(struct db *db, int64_t id, int seq, int64_t at);

/* Cancels run `id` at `at`: a queued run ends `cancelled` at once (as db_run_finish does it,
 * its detection back where it was) and *now = 1; a running one gets
 * cancel_requested for the engine and *now = 0 (again: DB_OK). DB_CONFLICT when the run is
 * finished, DB_NOTFOUND when there is no such run. `now` may be NULL. */
int db_run_cancel(struct db *db, int64_t id, int64_t at, int *now);

/* Run `id` as {id, plan, target_kind, target, detection_id (or null), account_id, state, reason,
 * cancel_requested (bool), created_at, started_at, finished_at, summary, checks: [{seq,
 * check_id, required (bool), verdict, reason, frames (array), frames_dropped, started_at,
 * finished_at, confirmed_at}] in seq order}, where summary is {total, pending, running, pass,
 * fail, skipped, error} (times as epoch seconds or null). Into *out (caller owns). DB_NOTFOUND when
 * none. */
int db_run_get(struct db *db, int64_t id, json_t **out);

/* Which runs db_runs_list returns: NULL or 0 = any. */
struct db_run_filter {
    const char *plan;
    const char *target; /* EquipmentID or OperatorID */
    const char *state;
    int64_t account_id; /* who started it */
    int64_t owner_id;   /* runs on this account's targets: its piles (a pile run whose target is
                           the EquipmentID of a pile it owns now) and its detections (a run
                           grading one of its detection applications), whoever started them */
};

/* One page of runs, newest first: page `page` (from 1) of `page_size` (the caller bounds it),
 * items as db_run_get without `checks` (summary included), the number of all matching runs
 * into *total. *items is caller-owned. */
int db_runs_list(struct db *db, const struct db_run_filter *f, int64_t page, int64_t page_size,
                 json_t **items, int64_t *total);

/* Deletes the finished runs of target (`target_kind`, `target`) but the newest `keep`, with
 * their checks; queued and running runs are never deleted nor counted. db_run_finish and
 * db_run_cancel call it with DB_RUNS_KEEP. */
int db_runs_prune(struct db *db, const char *target_kind, const char *target, int64_t keep);

#endif
