/* The conformance engine's check API: what a check script (conform_ocpp16.c, conform_ocpp201.c,
 * conform_tcec.c) may do, on its run's own thread (gateway/conform.h says why threads). Every
 * function here runs on that thread and may block; none touches lws.
 *
 * A plan is implemented by a table of `struct cf_impl` {check id, function}. The engine runs
 * the plan's checks (protocol/plans.h) in order: marks each running, calls its function, and
 * records the verdict it returns with the reason set through cf_fail()/cf_skip()/cf_pass_note()
 * and the frames of the check (every frame of the pile's connection while the check ran, and
 * what the check adds with cf_frame()). A check id without a function ends `error` "not
 * implemented". A function returns CF_ABORT (what every wait returns once the run is cancelled or
 * the gateway stops) to end the run at once; the engine then ends it `cancelled` or `error`.
 *
 * Time: a check may take its plan's timeout_s (capped by conform_wait_cap_s when set):
 * cf_deadline_ms() is when it must be done; waits given a later deadline stop there. */
#ifndef EVGATE_GW_CONFORM_RUN_H
#define EVGATE_GW_CONFORM_RUN_H

#include "protocol/plans.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct evg_config;
struct cf_run;

enum cf_verdict { CF_PASS, CF_FAIL, CF_SKIPPED, CF_ERROR, CF_ABORT };

typedef enum cf_verdict (*cf_check_fn)(struct cf_run *r);

struct cf_impl {
    const char *id;
    cf_check_fn fn;
};

/* The implementations of each plan, NULL-id terminated. */
extern const struct cf_impl cf_ocpp16_impl[];
extern const struct cf_impl cf_ocpp201_impl[];
extern const struct cf_impl cf_tcec102_impl[];

/* --- every run ------------------------------------------------------------------------------ */

/* The run's id, target (EquipmentID or OperatorID), detection (0 = none), settings, and its own
 * database connection (this thread's only). */
int64_t cf_run_id(const struct cf_run *r);
const char *cf_target(const struct cf_run *r);
int64_t cf_detection_id(const struct cf_run *r);
const struct evg_config *cf_config(const struct cf_run *r);
struct db *cf_db(struct cf_run *r);
/* Seconds since the epoch when the run was queued (its created_at) and started. */
int64_t cf_queued_at(const struct cf_run *r);
int64_t cf_started_at(const struct cf_run *r);

/* The check being run and its 1-based position. */
const struct plan_check *cf_check(const struct cf_run *r);
int cf_seq(const struct cf_run *r);

/* When the current check must end, on thread_now_ms()'s clock (common/thread.h). */
int64_t cf_deadline_ms(const struct cf_run *r);
/* A deadline `ms` from now, but never past the check's. */
int64_t cf_within_ms(const struct cf_run *r, int64_t ms);

/* The verdict's reason: one line, printf-style (cut at DB_RUN_REASON_MAX). Each returns the
 * verdict it names, so a check ends with `return cf_fail(r, "...")`. cf_pass_note passes with a
 * note (a warning the report shows). */
enum cf_verdict cf_fail(struct cf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum cf_verdict cf_skip(struct cf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum cf_verdict cf_error(struct cf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum cf_verdict cf_pass_note(struct cf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fails the check with `fmt` and ends the run after it (`failed`; the checks after it are
 * skipped, the run's reason names this check): for what makes every later check meaningless,
 * such as a pile the gateway answered Pending, which may send nothing else. CF_FAIL. */
enum cf_verdict cf_fail_stop(struct cf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The verdict of a check whose expected event did not come by its deadline: with needs
 * (cable, card, person) and no person confirmed the step (db_run_check_confirm), `skipped`
 * "needs a person at the pile: <need>"; otherwise `fail` with `fmt`. */
enum cf_verdict cf_missing(struct cf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records a frame of the check that did not pass through the pile's connection (a T/CEC request
 * or answer): `dir` "in" or "out", text copied (the db cuts it at DB_RUN_FRAME_TEXT_MAX). */
void cf_frame(struct cf_run *r, const char *dir, const char *text, size_t len);

/* Sleeps until `deadline_ms`, or less: CF_ABORT when the run is cancelled or the gateway stops
 * meanwhile, else CF_PASS. */
enum cf_verdict cf_sleep_until(struct cf_run *r, int64_t deadline_ms);

/* Whether the run must end now (cancelled or the gateway stopping); checked at most once a second
 * against the database. */
bool cf_aborted(struct cf_run *r);

/* Per-run scratch shared by the checks of a plan (a transaction started by one check, ended by a
 * later one): `size` zeroed bytes the first time, the same block after; freed with the run. NULL
 * on out of memory. */
void *cf_state(struct cf_run *r, size_t size);
/* `fn(state)` is called when the run ends (however it ends) before the block is freed: what the
 * block owns (JSON, buffers) is freed there. */
void cf_state_cleanup(struct cf_run *r, void (*fn)(void *state));

/* Whether check `id` of this run already passed (a later check that depends on it is skipped
 * otherwise). */
bool cf_passed(const struct cf_run *r, const char *id);

/* --- a pile (ocpp16-core, ocpp201-core) ---------------------------------------------------- */

/* The pile's registered connectors (1.6 connectorIds / 2.0.1 EVSE ids 1..n). */
int cf_connectors(const struct cf_run *r);

/* A CALL the pile sent, as the engine saw it arrive. `payload` and the strings are the engine's,
 * valid until the next wait of this run. */
struct cf_msg {
    const char *action;
    const char *unique_id;
    json_t *payload;
    int64_t at_ms;      /* thread_now_ms() clock */
    int conn;           /* the pile's connection it came on: 1, 2, ... in the run */
    bool first_on_conn; /* the first CALL on that connection */
};

/* Whether the pile is connected now, and the number of its current connection (0 = none yet). */
bool cf_connected(const struct cf_run *r);
int cf_conn(const struct cf_run *r);

/* The answer to an engine CALL. */
enum cf_answer_kind {
    CF_RESULT,  /* CALLRESULT: `payload` */
    CF_CALLERR, /* CALLERROR: `code`, `description` */
    CF_TIMEOUT, /* no answer within ocpp_call_timeout_s */
    CF_FAILED,  /* not sent or the connection ended first: `detail` */
};
struct cf_answer {
    enum cf_answer_kind kind;
    json_t *payload;         /* owned by the engine: valid until the next call or wait */
    const char *code;        /* CALLERROR errorCode */
    const char *description; /* CALLERROR errorDescription */
    const char *detail;      /* CF_FAILED / CF_TIMEOUT: why, one line */
    const char *unique_id;   /* the CALL's */
};

/* Sends CALL `action` with `payload` (borrowed; sent as is, not checked against the version, so a
 * check may probe with an unknown action or a malformed value) and waits for its answer. Frames
 * the pile sends meanwhile are kept for cf_expect. Returns CF_PASS with *a filled (whatever the
 * answer), or CF_ABORT. */
enum cf_verdict cf_call(struct cf_run *r, const char *action, json_t *payload, struct cf_answer *a);

/* A one-line description of an answer that was not the expected one ("CALLERROR
 * NotImplemented: ...", "no answer within 30 s", "answered {\"status\":\"Rejected\"}"). */
const char *cf_answer_text(struct cf_run *r, const struct cf_answer *a);

/* Waits until `deadline_ms` for a CALL from the pile of action `action` (NULL = any) for which
 * `pred` (NULL = any) returns true, received since the current check began (or since the previous
 * cf_expect of this check took a message: messages are taken in order, and ones that do not match
 * stay for a later cf_expect of the check). CF_PASS with *m filled, CF_FAIL on the deadline,
 * CF_ABORT. */
enum cf_verdict cf_expect(struct cf_run *r, const char *action,
                          bool (*pred)(const struct cf_msg *m, void *arg), void *arg,
                          int64_t deadline_ms, struct cf_msg *m);

/* The gateway's answer to the pile's CALL `m` (as cf_expect gave it): waits until `deadline_ms`
 * for it. CF_PASS with *payload the CALLRESULT's payload (the engine's, valid until the run
 * ends: e.g. the transactionId the gateway gave a StartTransaction, the status it gave a
 * BootNotification); CF_FAIL when the gateway answered with a CALLERROR (*payload NULL) or had
 * not answered by the deadline; CF_ABORT. */
enum cf_verdict cf_reply(struct cf_run *r, const struct cf_msg *m, int64_t deadline_ms,
                         json_t **payload);

/* Waits until `deadline_ms` for the pile's current connection (the one open when this is called:
 * compare cf_conn() before and after a Reset when it may already have come back) to close:
 * CF_PASS, CF_FAIL, CF_ABORT. */
enum cf_verdict cf_expect_close(struct cf_run *r, int64_t deadline_ms);

/* Every CALL the pile sent since the current check began, in order, for checks that judge what
 * came rather than wait for something (n into *n; valid until the next wait). */
const struct cf_msg *cf_messages(struct cf_run *r, size_t *n);

/* The run-wide judgements of the frames.* checks (conform_frames.c): every frame of the run is
 * fed to them by the engine; these check functions judge at the end. They are the same for both
 * OCPP plans. */
enum cf_verdict cf_frames_schema_valid(struct cf_run *r);
enum cf_verdict cf_frames_unique_ids(struct cf_run *r);
enum cf_verdict cf_frames_one_call_outstanding(struct cf_run *r);
enum cf_verdict cf_frames_answers_in_time(struct cf_run *r);

#endif
