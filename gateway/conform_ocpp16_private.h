/* Shared by the files of plan ocpp16-core's checks: conform_ocpp16.c (the table, these helpers,
 * triggers and the short request/answer checks), conform_ocpp16_config.c (configuration keys,
 * heartbeat), conform_ocpp16_boot.c (boots, resets) and conform_ocpp16_tx.c (transactions).
 * Private to them; the engine sees only cf_ocpp16_impl. */
#ifndef EVGATE_GW_CONFORM_OCPP16_PRIVATE_H
#define EVGATE_GW_CONFORM_OCPP16_PRIVATE_H

#include "gateway/conform_run.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The run's fixed values (docs/conformance.md "Fixed values"). */
#define CF16_ID_TAG      "EVGATE-CONFORM"
#define CF16_UNKNOWN_KEY "EvgateUnknownKey"
/* How long "and no StartTransaction / MeterValues follows" is watched after an answer. */
#define CF16_QUIET_MS 3000
/* Connectors 0..n are kept as bits of a uint64_t. */
#define CF16_CONNECTORS_MAX 62

/* A transaction one check started and a later one judges or ends. */
struct cf16_tx {
    int64_t id; /* the transactionId evgate gave it */
    int connector;
    long long meter_start; /* Wh */
};

/* A CALL of the pile kept so that a later check can ask for evgate's answer to it (cf_reply). */
struct cf16_ref {
    bool set;
    char unique_id[64];
    int conn;
    int64_t at_ms;
    unsigned long n; /* its place in cf16_seen.calls */
};

/* What the transaction checks saw of the pile, from authorize.card on (every CALL of their
 * checks, taken or not): remote.start waits on it for the earlier transaction to be over. */
struct cf16_seen {
    bool open;            /* a StartTransaction came, and no StopTransaction after it */
    struct cf16_ref stop; /* the last StopTransaction */
    char c1_status[24];   /* connector 1's last StatusNotification status ("" none) */
    unsigned long c1_n;   /* ... at that CALL */
    unsigned long calls;  /* CALLs recorded */
    int observed_seq;     /* how far the current check's CALLs were recorded */
    size_t observed_n;
};

/* The run's scratch (cf_state): written by one check, read by a later one. */
struct cf16_state {
    /* boot.first-message for boot.status-all-connectors: when the BootNotification came, the
     * connectors whose StatusNotification already came after it (bit c), and a connectorId the
     * pile does not have (0 none: connector 0 is always valid) */
    int64_t boot_at_ms;
    uint64_t boot_seen;
    long long boot_bad;
    char card[32]; /* the idTag authorize.card saw ("" none) */
    struct cf16_tx local, remote;
    struct cf16_seen seen;
};

/* The run's state; NULL on out of memory. */
struct cf16_state *cf16_state(struct cf_run *r);

/* Member `key` of `o` as a string (NULL when absent or not a string) or an integer (`def`). */
const char *cf16_str(const json_t *o, const char *key);
long long cf16_int(const json_t *o, const char *key, long long def);

/* Whether `s` is one of the `|`-separated words of `list`. */
bool cf16_in(const char *s, const char *list);

/* Seconds since `t0_ms`, rounded up: the "within N s" of a reason. */
long long cf16_secs(int64_t t0_ms);

/* Sends CALL `action` with `payload` (taken: freed here; NULL = out of memory) and expects a
 * CALLRESULT whose status is one of `ok` ("Accepted", "Unlocked|NotSupported"). CF_PASS with
 * the status into *status (may be NULL; valid until the next wait), CF_FAIL with the reason set
 * ("<what> answered Rejected; expected Accepted", or what came instead of a CALLRESULT), CF_ABORT.
 * `what` names the request in the reason. */
enum cf_verdict cf16_call_status(struct cf_run *r, const char *what, const char *action,
                                 json_t *payload, const char *ok, const char **status);

/* A filter of the pile's CALLs for cf_expect: every field set narrows it. */
struct cf16_want {
    int64_t since_ms;     /* arrived at or after (0 any) */
    long long connector;  /* payload connectorId (-1 any) */
    const char *statuses; /* StatusNotification status, `|`-separated (NULL any) */
};
bool cf16_match(const struct cf_msg *m, void *arg);

/* Sends RemoteStartTransaction on `connector` with CF16_ID_TAG, which must be answered Rejected
 * (`what` names it in the reason), then watches CF16_QUIET_MS for a StartTransaction: CF_PASS
 * with *started true and it in *m (valid until the next wait) when one came, false when none did;
 * CF_FAIL with the reason set when the answer was wrong; CF_ABORT. */
enum cf_verdict cf16_remote_start_rejected(struct cf_run *r, const char *what, int connector,
                                           bool *started, struct cf_msg *m);

/* The checks of conform_ocpp16_config.c. */
enum cf_verdict cf16_heartbeat_interval(struct cf_run *r);
enum cf_verdict cf16_config_get_all(struct cf_run *r);
enum cf_verdict cf16_config_get_unknown(struct cf_run *r);
enum cf_verdict cf16_config_change(struct cf_run *r);
enum cf_verdict cf16_config_change_unknown(struct cf_run *r);

/* The checks of conform_ocpp16_boot.c. */
enum cf_verdict cf16_boot_first_message(struct cf_run *r);
enum cf_verdict cf16_boot_status_all(struct cf_run *r);
enum cf_verdict cf16_reset_soft(struct cf_run *r);
enum cf_verdict cf16_reset_hard(struct cf_run *r);

/* The checks of conform_ocpp16_tx.c. */
enum cf_verdict cf16_authorize_card(struct cf_run *r);
enum cf_verdict cf16_tx_local_start(struct cf_run *r);
enum cf_verdict cf16_tx_meter_values(struct cf_run *r);
enum cf_verdict cf16_tx_local_stop(struct cf_run *r);
enum cf_verdict cf16_remote_start(struct cf_run *r);
enum cf_verdict cf16_remote_start_busy(struct cf_run *r);
enum cf_verdict cf16_remote_stop(struct cf_run *r);

#endif
