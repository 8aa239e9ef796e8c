/* What the gateway keeps of T/CEC 102 interconnection (docs/tcec.md "Serving platforms"): the
 * AccessTokens evgate issued (their hashes), the replay guard, the log of exchanges in both
 * directions, and what operator platforms report: connector status (latest and history), charge
 * orders and station information. Ownership of the records a platform reports for is decided
 * here too, from detections and the accessed stations, piles and connectors.
 *
 * Strings passed in are borrowed. Times are seconds since the epoch unless a name says
 * otherwise. Every function runs its statements on the caller's connection without opening a
 * transaction of its own (the gateway calls them from writer jobs). */
#ifndef EVGATE_DB_TCEC_H
#define EVGATE_DB_TCEC_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Exchanges kept per OperatorID (both directions together); older ones are deleted as new ones
 * arrive. */
#define DB_TCEC_EXCHANGES_KEEP 2000
/* Bytes of a request or response payload kept in an exchange (cut on a UTF-8 boundary). */
#define DB_TCEC_PAYLOAD_MAX 16384
/* Status reports kept per connector in tcec_connector_status_history. */
#define DB_TCEC_STATUS_HISTORY_KEEP 1000
/* Unexpired AccessTokens kept per OperatorID: a platform asking for tokens in a loop ends its
 * oldest ones beyond this. */
#define DB_TCEC_TOKENS_KEEP 16

/* ---- platforms: credentials and the detection they belong to ---------------------------- */

/* The live credentials of an OperatorID with what the gateway needs of their detection. */
struct db_tcec_platform {
    int64_t credentials_id; /* tcec_credentials.id: tokens live while this row is live */
    int64_t detection_id;   /* the `self` detection the credentials were issued for */
    int64_t account_id;     /* its operator account */
    char operator_id[10];
    char operator_secret[17];
    char data_secret[17];
    char data_secret_iv[17];
    char sig_secret[17];
    json_t *source_ips; /* the detection's platform.source_ips: a JSON array (possibly empty);
                           owned, json_decref() it */
};

/* The live credentials of `operator_id`. DB_NOTFOUND when none (never issued, or revoked
 * without a successor). On DB_OK the caller owns out->source_ips. */
int db_tcec_platform(struct db *db, const char *operator_id, struct db_tcec_platform *out);

/* ---- AccessTokens ----------------------------------------------------------------------- */

/* Stores a token issued to `operator_id` under its live credentials `credentials_id`: only its
 * hash (`token_hash`, hex SHA-256, 64 characters) is kept. Deletes expired tokens of every
 * operator and, beyond DB_TCEC_TOKENS_KEEP unexpired ones of this operator, its oldest. */
int db_tcec_token_add(struct db *db, const char *operator_id, int64_t credentials_id,
                      const char *token_hash, int64_t issued_at, int64_t expires_at);

/* Checks a presented token (its hash) for `operator_id` at `now`. DB_OK when it was issued to
 * that operator, has not expired and its credentials are still live; otherwise DB_NOTFOUND
 * with *why "unknown" (no such token, or another operator's), "expired" or "revoked" (its
 * credentials were re-issued). why may be NULL. */
int db_tcec_token_check(struct db *db, const char *operator_id, const char *token_hash, int64_t now,
                        const char **why);

/* ---- replay guard ----------------------------------------------------------------------- */

/* Records that `operator_id` sent (timestamp, seq) — the request's TimeStamp and Seq, whose
 * TimeStamp means `ts_epoch` — and forgets entries whose ts_epoch is before `forget_before`
 * (they can no longer pass the TimeStamp window). DB_OK when the pair is new, DB_CONFLICT when
 * it was seen (a replay). */
int db_tcec_replay_add(struct db *db, const char *operator_id, const char *timestamp,
                       const char *seq, int64_t ts_epoch, int64_t forget_before);

/* ---- exchanges -------------------------------------------------------------------------- */

/* One request and its answer, inbound (a platform called evgate) or outbound (evgate called a
 * platform). `request` and `response` are the decrypted payloads as JSON text (NULL when there
 * was none, e.g. Data did not decrypt); `ret` is valid when has_ret (an outbound call that got
 * no T/CEC answer has none). `reason` is a short code of why a request was refused or failed
 * (NULL on success); `msg` the Msg sent or received. */
struct db_tcec_exchange {
    const char *operator_id, *direction, *interface, *peer;
    int64_t at;
    int has_ret;
    int ret;
    const char *msg, *reason, *request, *response;
    int64_t duration_ms;
    int64_t sent_at; /* a request's TimeStamp (epoch seconds); 0 = unknown */
};

/* Appends an exchange. The payloads are stored with every secret redacted — the values of
 * members named OperatorSecret, AccessToken, DataSecret, DataSecretIV and SigSecret, at any
 * depth, become "***" (text that is not JSON is stored as "(not JSON)": it cannot be redacted) —
 * and cut to DB_TCEC_PAYLOAD_MAX bytes. Keeps the newest DB_TCEC_EXCHANGES_KEEP exchanges of
 * the operator. DB_ERROR when direction is neither "in" nor "out" or a required string
 * (operator_id, direction, interface) is NULL. */
int db_tcec_exchange_add(struct db *db, const struct db_tcec_exchange *x);

/* The newest `limit` exchanges of `operator_id` (all operators when NULL), newest first, as a
 * JSON array of {id, operator_id, direction, interface, peer, at, ret, msg, reason, request,
 * response, duration_ms}; request and response are the stored (redacted) texts. Caller owns;
 * NULL on error. */
json_t *db_tcec_exchange_list(struct db *db, const char *operator_id, int64_t limit);

/* ---- ownership -------------------------------------------------------------------------- */

/* A platform whose credentials belong to account A reports for A's records and for those of
 * every account whose approved `delegated` detection names a detection of A. These look an ID
 * up among the `accessed` records of those accounts (`reporter_account_id` = A). DB_NOTFOUND
 * when it is not one of them. */

/* A station by station_id: its owner account and row. */
int db_tcec_station_owned(struct db *db, int64_t reporter_account_id, const char *station_id,
                          int64_t *account_id, int64_t *station_row);

/* A pile by equipment_id: its owner account and the row of its station. */
int db_tcec_pile_owned(struct db *db, int64_t reporter_account_id, const char *equipment_id,
                       int64_t *account_id, int64_t *station_row);

/* A connector by connector_id (of an accessed pile): its owner account, the pile's
 * equipment_id (out[32]) and the row of its station. */
int db_tcec_connector_owned(struct db *db, int64_t reporter_account_id, const char *connector_id,
                            int64_t *account_id, char equipment_id[32], int64_t *station_row);

/* ---- what platforms report --------------------------------------------------------------- */

/* A connector status report (notification_stationStatus). park_status and lock_status are -1
 * when absent. */
struct db_tcec_connector_status {
    const char *connector_id;
    int64_t account_id;      /* the connector's owner */
    const char *operator_id; /* the platform that reported it */
    int status;
    int park_status, lock_status;
    int64_t at; /* received */
};

/* Sets the connector's latest status and appends it to its history (keeping the newest
 * DB_TCEC_STATUS_HISTORY_KEEP reports of the connector). */
int db_tcec_connector_status_set(struct db *db, const struct db_tcec_connector_status *s);

/* Station information as last reported (notification_stationInfo): `data` is the StationInfo
 * JSON text; replaces an earlier report of the same station of the same account. */
int db_tcec_station_info_set(struct db *db, int64_t account_id, const char *station_id,
                             const char *operator_id, const char *data, int64_t at);

/* A charge order (notification_charge_order_info). */
struct db_tcec_charge_order {
    const char *operator_id; /* the platform that pushed it */
    const char *start_charge_seq;
    int64_t account_id; /* the connector's owner */
    const char *connector_id;
    const char *start_time, *end_time; /* "yyyy-MM-dd HH:mm:ss" as sent */
    double total_power, total_elec_money, total_service_money, total_money;
    int stop_reason;
    const char *data; /* the order as sent, JSON text (compact, sorted keys: compared as text) */
    int64_t at;       /* received */
};

/* Stores an order; one per (operator_id, start_charge_seq). DB_OK when stored now or when the
 * same order (same data text) was stored before (*repeat set to 1); DB_CONFLICT when an order
 * with that StartChargeSeq and different data is stored (it is kept, the new one is not). */
int db_tcec_charge_order_add(struct db *db, const struct db_tcec_charge_order *o, int *repeat);

#endif
