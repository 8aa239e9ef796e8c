/* The admin dashboard (migration 13): the figures of the platform at a glance, read by mgmt in
 * one read transaction, and the two records behind them that the gateway writes through its
 * batched writer — the periodic sample of online piles (the 24-hour chart) and the refused
 * OCPP handshakes (until then only logged and counted in /metrics). Times are epoch seconds. */
#ifndef EVGATE_DB_DASHBOARD_H
#define EVGATE_DB_DASHBOARD_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Refused handshakes kept (the newest); anyone can cause them, so the table stays this small
 * and the gateway also caps how many it writes a minute (gateway/dashboard.h). */
#define DB_REFUSALS_KEEP 500
/* The chart's step: samples are read as one point per step (the newest sample in it), so the
 * 24-hour series has at most 24 * 3600 / DB_DASHBOARD_STEP_S + 1 points, whatever the sampling
 * interval. */
#define DB_DASHBOARD_STEP_S 300
/* Entries of the recent-violations list. */
#define DB_DASHBOARD_VIOLATIONS 10
/* T/CEC exchanges looked at, newest first, for refused ones (the exchange log has no index on
 * refusals; this bounds the read). */
#define DB_DASHBOARD_TCEC_SCAN 500

/* Writer job: stores the number of piles online now (open pile sessions) as the sample at `at`
 * (replacing one at the same second) and deletes the samples before `keep_since`. */
int db_online_sample(struct db *db, int64_t at, int64_t keep_since);

/* Writer job: records a refused OCPP handshake (`equipment_id` already made safe to show, the
 * HTTP `status`, the error code `reason`, `peer` the client's address or NULL) and keeps only
 * the newest `keep`. */
int db_ocpp_refusal_add(struct db *db, int64_t at, const char *equipment_id, int status,
                        const char *reason, const char *peer, int64_t keep);

/* The dashboard at `now`, with "today" starting at `today_start` (the caller's time zone),
 * read in one read transaction so that the figures agree with each other:
 *   piles: {accessed, online, offline, by_protocol: [{protocol, accessed, online, offline}]}
 *     for ocpp1.6, ocpp2.0.1 and platform. An OCPP pile is online while it has an open
 *     session; a pile reported through its operator's platform while one of its connectors was
 *     last reported not offline (T/CEC status other than 0). Accessed counts are cached per
 *     record generation (db/list_count.h), the rest is read from indexes.
 *   connectors: {reported, by_status: [{status, count}], by_tcec_status: [{tcec_status,
 *     count}]}: the connectors piles reported (OCPP connector 0, the pile as a whole, left out);
 *     by_status has the OCPP status of the connectors of online piles plus "Offline" for those
 *     of offline piles; by_tcec_status has every reported connector, OCPP and T/CEC alike, by
 *     T/CEC code (0 for the connectors of offline OCPP piles).
 *   today: {since_at, sessions, finished, energy_wh, energy_kwh}: OCPP transactions started
 *     since `today_start`, how many of them ended, and their energy (running ones so far).
 *   pending: {accounts, detections, access_applications}: what waits for an admin's review.
 *   recent_violations: the newest DB_DASHBOARD_VIOLATIONS of protocol violations
 *     (kind "ocpp_violation", subject the EquipmentID, code the CALLERROR code, detail the JSON
 *     path or reason), refused handshakes ("handshake_refused", code the reason, detail the
 *     HTTP status and peer) and refused T/CEC requests ("tcec_refused", subject the
 *     OperatorID, code the reason, detail the interface): [{at, kind, subject, code, detail}].
 *   online_24h: {step_s, from_at, to_at, points: [{at, online}]}: the samples of the last 24
 *     hours, one point per DB_DASHBOARD_STEP_S (the newest sample of each step), oldest first.
 * Into *out (caller owns). DB_OK or the error. */
int db_dashboard(struct db *db, int64_t now, int64_t today_start, json_t **out);

#endif
