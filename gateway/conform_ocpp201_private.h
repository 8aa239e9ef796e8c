/* Plan ocpp201-core's checks (gateway/conform_ocpp201*.c), shared between its files: the run's
 * state and what the checks have seen of the pile. Not an API: the engine knows only
 * cf_ocpp201_impl (gateway/conform_run.h).
 *
 * Why a run-wide record: cf_messages() and cf_expect() see only the CALLs of the current check,
 * but some checks judge what came earlier (the statuses right after a boot, the TransactionEvent
 * Started sent right after the Authorize, every TransactionEvent of the run for
 * tx.event-sequence). So every check ends by recording what came during it (cf201_observe), and
 * the waits of the checks that need it are on that record (cf201_wait). */
#ifndef EVGATE_GW_CONFORM_OCPP201_PRIVATE_H
#define EVGATE_GW_CONFORM_OCPP201_PRIVATE_H

#include "gateway/conform_run.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF201_EVSE_MAX      64  /* EVSEs whose reported state the checks track */
#define CF201_EVENTS_MAX    256 /* TransactionEvents kept for the run; later ones only counted */
#define CF201_ID_MAX        64  /* transactionId, idToken (36 in the 2.0.1 schema), kept cut */
#define CF201_WORD_MAX      40  /* enum values, action names */
#define CF201_IDTOKEN       "EVGATE-CONFORM"
#define CF201_REMOTE_ID     20101 /* remote.start's remoteStartId */
#define CF201_REMOTE_ID_BAD 20102 /* remote.start-unknown-evse's */
#define CF201_QUIET_MS      1000  /* how long "and nothing follows" is watched after an answer */

/* One CALL of the pile the record keeps, so that a later check can ask for evgate's answer to it
 * (cf201_reply). */
struct cf201_ref {
    bool set;
    char unique_id[CF201_ID_MAX];
    int conn;
    int64_t at_ms;
    unsigned long n; /* its place in the record's count of CALLs */
};

/* One TransactionEventRequest, as the transaction checks judge it. */
struct cf201_event {
    char tx[CF201_ID_MAX]; /* transactionInfo.transactionId */
    char type[CF201_WORD_MAX];
    char trigger[CF201_WORD_MAX];
    char charging[CF201_WORD_MAX]; /* chargingState, "" when absent */
    char stopped[CF201_WORD_MAX];  /* stoppedReason, "" when absent */
    char id_token[CF201_ID_MAX];   /* idToken.idToken, "" when absent */
    long long seq_no;              /* -1 when absent */
    long long remote_start_id;     /* -1 when absent */
    int evse;                      /* evse.id, 0 when absent */
    bool meter;                    /* a meterValue with at least one sampledValue */
    double wh_first, wh_last;      /* its energy register readings in Wh, NAN when none */
    bool wh_drops;                 /* a reading lower than the one before within the event */
};

/* The run's state (cf_state): zeroed at the start of the run. */
struct cf201 {
    /* what variables.get read */
    bool tx_updated_known;
    long long tx_updated_s;

    /* boots and the EVSEs' states */
    int boots;                                           /* BootNotifications seen */
    struct cf201_ref boot;                               /* the last one */
    int new_conn;                                        /* the latest connection seen ... */
    char new_conn_action[CF201_WORD_MAX];                /* ... and its first CALL */
    bool reported[CF201_EVSE_MAX + 1];                   /* EVSE's state since the last boot */
    char evse_state[CF201_EVSE_MAX + 1][CF201_WORD_MAX]; /* its last reported state */
    unsigned long evse_n[CF201_EVSE_MAX + 1];            /* ... reported at that CALL (ref.n) */
    int bad_evse; /* an evseId not 1..n reported since the last boot, 0 = none */

    /* the card */
    int authorizes;            /* AuthorizeRequests seen */
    char card[CF201_ID_MAX];   /* the first one's idToken */
    size_t events_before_auth; /* TransactionEvents seen before it */

    /* transactions */
    char local_tx[CF201_ID_MAX]; /* tx.local-start's */
    int local_evse;
    size_t local_from; /* index of its first event in `events` */
    char remote_tx[CF201_ID_MAX];
    struct cf201_ref ended; /* the last TransactionEvent Ended */

    struct cf201_event events[CF201_EVENTS_MAX];
    size_t n_events;
    size_t events_dropped;

    /* how far the current check's messages were observed; the CALLs recorded in all */
    int observed_seq;
    size_t observed_n;
    unsigned long calls;
};

/* The run's state; NULL on out of memory. */
struct cf201 *cf201_state(struct cf_run *r);

/* Records the CALLs of the current check not recorded yet (cf_messages). Cheap; idempotent. */
void cf201_observe(struct cf_run *r, struct cf201 *st);

/* Waits until `done` (called after each recorded CALL, and first at once) returns true: CF_PASS;
 * CF_FAIL when `deadline_ms` comes first; CF_ABORT. Takes every message of the check in turn
 * (cf_expect of any action), so a check does not mix it with cf_expect of one action. */
enum cf_verdict cf201_wait(struct cf_run *r, struct cf201 *st,
                           bool (*done)(struct cf_run *r, struct cf201 *st, void *arg), void *arg,
                           int64_t deadline_ms);

/* Sends CALL `action` with `payload` (stolen) and takes its answer: CF_PASS for a CALLRESULT,
 * with its "status" in *status ("" when it has none; at most CF201_WORD_MAX); CF_FAIL with the
 * reason set ("<action>: <answer text>") for anything else; CF_ABORT. `a` may be NULL. */
enum cf_verdict cf201_call(struct cf_run *r, const char *action, json_t *payload,
                           char status[CF201_WORD_MAX], struct cf_answer *a);

/* evgate's answer to the CALL `ref` recorded: cf_reply()'s verdict and *payload. */
enum cf_verdict cf201_reply(struct cf_run *r, const struct cf201_ref *ref, int64_t deadline_ms,
                            json_t **payload);

/* The transaction the record shows running (an event, no Ended), or NULL. */
const char *cf201_running_tx(const struct cf201 *st);

/* Whole seconds from `from_ms` to `to_ms`, for reasons. */
int cf201_secs(int64_t from_ms, int64_t to_ms);

/* A string member of `o`, or NULL; an integer member, or `dflt`. */
const char *cf201_str(const json_t *o, const char *key);
long long cf201_int(const json_t *o, const char *key, long long dflt);

/* The checks (conform_ocpp201_boot.c, _vars.c, _calls.c, _tx.c), in the plan's order per file. */
enum cf_verdict cf201_boot_first_message(struct cf_run *r);
enum cf_verdict cf201_boot_status_all(struct cf_run *r);
enum cf_verdict cf201_reset_on_idle(struct cf_run *r);
enum cf_verdict cf201_reset_immediate(struct cf_run *r);

enum cf_verdict cf201_variables_get(struct cf_run *r);
enum cf_verdict cf201_variables_get_unknown(struct cf_run *r);
enum cf_verdict cf201_variables_set(struct cf_run *r);
enum cf_verdict cf201_variables_set_invalid(struct cf_run *r);
enum cf_verdict cf201_heartbeat_interval(struct cf_run *r);

enum cf_verdict cf201_trigger_boot(struct cf_run *r);
enum cf_verdict cf201_trigger_heartbeat(struct cf_run *r);
enum cf_verdict cf201_trigger_status(struct cf_run *r);
enum cf_verdict cf201_trigger_meter(struct cf_run *r);
enum cf_verdict cf201_availability_inoperative(struct cf_run *r);
enum cf_verdict cf201_availability_operative(struct cf_run *r);
enum cf_verdict cf201_unlock(struct cf_run *r);
enum cf_verdict cf201_unlock_unknown(struct cf_run *r);
enum cf_verdict cf201_cache_clear(struct cf_run *r);
enum cf_verdict cf201_datatransfer_unknown(struct cf_run *r);
enum cf_verdict cf201_unsupported_action(struct cf_run *r);
enum cf_verdict cf201_remote_start_unknown(struct cf_run *r);
enum cf_verdict cf201_remote_stop_unknown(struct cf_run *r);

enum cf_verdict cf201_authorize_card(struct cf_run *r);
enum cf_verdict cf201_tx_local_start(struct cf_run *r);
enum cf_verdict cf201_tx_meter_values(struct cf_run *r);
enum cf_verdict cf201_trigger_tx_event(struct cf_run *r);
enum cf_verdict cf201_tx_local_stop(struct cf_run *r);
enum cf_verdict cf201_remote_start(struct cf_run *r);
enum cf_verdict cf201_remote_stop(struct cf_run *r);
enum cf_verdict cf201_tx_event_sequence(struct cf_run *r);

#endif
