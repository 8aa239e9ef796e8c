/* Private to the central-system handlers (ocpp_dispatch.c, ocpp16_core.c, ocpp201_core.c,
 * ocpp_meter.c): one CALL on its way through the batched writer. */
#ifndef EVGATE_GW_OCPP_CS_H
#define EVGATE_GW_OCPP_CS_H

#include "gateway/ocpp.h"
#include "gateway/piles.h"
#include "protocol/ocpp.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct db;

/* Offending frames are kept up to this many bytes (cut on a UTF-8 boundary). */
#define GW_VIOLATION_FRAME_MAX 1024
/* Offending frames kept per pile (the count in ocpp_piles.violations is not bounded). */
#define GW_VIOLATIONS_KEEP 50
/* Meter values are pruned to ocpp_meter_values_keep once every this many messages carrying
 * values per connection: the bound is exact after each pruning, the cost amortised. */
#define GW_METER_PRUNE_EVERY 32

struct gw_call;

/* Stores what a CALL of the version says (inside the writer's transaction); 0 or a DB_* code.
 * NULL when the action stores nothing beyond the pile's last contact. */
typedef int (*gw_store_fn)(struct db *db, struct gw_call *call);
gw_store_fn gw_ocpp16_store(const char *action);
gw_store_fn gw_ocpp201_store(const char *action);

/* One CALL. The lws thread fills it and submits the job; the writer thread runs the job (and
 * may run it again: results are written afresh each run); the completion answers on the lws
 * thread and frees it. */
struct gw_call {
    struct gw_ocpp_conn *conn; /* a reference is held */
    enum gw_ocpp_version version;
    char equipment_id[GW_PILE_ID_MAX + 1];
    char id[OCPP_ID_BYTES];
    const char *action;      /* static (the handler table's name) */
    gw_store_fn store;       /* what the job stores of it (NULL: nothing) */
    json_t *req;             /* owned; read-only on the writer thread */
    int64_t at;              /* received, epoch seconds */
    int64_t rx_us;           /* read by the loop: gw_ocpp_conn_rx_us(), gw_ocpp_mono_us() */
    long long meter_keep;    /* > 0: prune the pile's meter values to this many in the job */
    char *frame;             /* the CALL's text, cut; recorded when it turns out a violation */
    const char *boot_status; /* BootNotification: the pile's configured answer (static) */
    bool triggered;          /* let through for a TriggerMessage: no 2.0.1 boot check */
    /* the job writes the pile's last contact: a BootNotification's, so that a booted pile has
     * one at its answer; the other CALLs' go with the flushes of ocpp_seen.h */
    bool seen;
    /* results of the job */
    bool not_booted; /* 2.0.1: no accepted BootNotification yet -> SecurityError */
    int64_t tx_row;  /* 1.6 StartTransaction: the new transactionId */
};

/* Counts a protocol violation of the pile on `c` and records it (CALLERROR `code`, JSON `path`
 * and `reason` may be NULL, the offending message `text` of len bytes, cut) through the writer,
 * best effort (ocpp_dispatch.c). */
void gw_ocpp_violation(struct gw_ocpp_conn *c, const char *code, const char *path,
                       const char *reason, const char *text, size_t len);

/* Stores the sampled values of a meterValue array (1.6 MeterValue[] or 2.0.1
 * MeterValueType[]) of `connector_id` and transaction row `tx_row` (0 = none); each energy
 * register reading (Energy.Active.Import.Register without phase, in Wh) also updates the
 * transaction. Values that are not numbers (1.6 SignedData) are skipped. */
int gw_store_meter_values(struct db *db, struct gw_call *call, int64_t connector_id, int64_t tx_row,
                          const json_t *meter_values);

/* A JSON string member of `obj`, or NULL. */
const char *gw_json_str(const json_t *obj, const char *key);
/* A JSON number member of `obj` as an integer (validated requests hold integers there), or
 * `dflt` when absent. */
int64_t gw_json_int(const json_t *obj, const char *key, int64_t dflt);
/* The date-time member `key` of `obj` in epoch seconds, or `dflt`. */
int64_t gw_json_time(const json_t *obj, const char *key, int64_t dflt);

#endif
