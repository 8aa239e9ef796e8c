/* The checks and the storing of one T/CEC request, as a job of the batched writer (so the lws
 * thread never touches SQLite). In this order, each refusal ending the request:
 *   1. the OperatorID's live credentials (none: not attributable, HTTP 403, Ret 4001, unsigned);
 *   2. the peer address against the detection's platform.source_ips (HTTP 403, Ret 4003);
 *   3. Sig (4001), then Data: Base64 (4003), decryption and JSON (4004) — tcec_request_open;
 *   4. Authorization: Bearer, for every interface but query_token (4002);
 *   5. TimeStamp within tcec_clock_skew_s of the clock, read as China Standard Time (4003);
 *   6. (OperatorID, TimeStamp, Seq) not seen before (4003);
 *   7. the payload rules of the interface (4004, naming the field);
 *   8. per interface: ownership of every station, pile and connector named (4004, naming the
 *      ID), then storing and the response payload.
 * Every attributed request, refused or not, is logged in tcec_exchanges in the same
 * transaction. docs/tcec.md "Serving platforms" gives the reasons for each Ret. */
#include "gateway/tcec_internal.h"
#include "common/thread.h"
#include "db/tcec.h"
#include "protocol/ipnet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Random bytes of an AccessToken (sent as upper-case hex: 64 characters). */
#define GW_TCEC_TOKEN_BYTES 32

__attribute__((format(printf, 5, 6))) static void
refuse(struct gw_tcec_req *r, int http_status, int ret, const char *reason, const char *fmt, ...)
{
    r->http_status = http_status;
    r->ret = ret;
    r->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    json_decref(r->answer);
    r->answer = NULL;
}

static void accept_with(struct gw_tcec_req *r, json_t *answer)
{
    r->http_status = 200;
    r->ret = TCEC_RET_OK;
    r->reason = NULL;
    r->msg[0] = 0;
    json_decref(r->answer);
    r->answer = answer;
}

/* Upper-case hex of SHA-256(text) into out[65]. 0 or -1. */
static int sha256_hex(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL) || n != 32)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02X", md[i]);
    return 0;
}

static int source_allowed(const json_t *ips, const char *peer)
{
    size_t i;
    json_t *e;
    json_array_foreach(ips, i, e)
    {
        struct ipnet n;
        if (json_is_string(e) && ipnet_parse(json_string_value(e), &n) == 0 &&
            ipnet_contains(&n, peer))
            return 1;
    }
    return 0;
}

/* ---- interfaces ------------------------------------------------------------------------- */

static int serve_query_token(struct db *db, struct gw_tcec_req *r, const struct db_tcec_platform *p)
{
    const json_t *pl = r->req.payload;
    const char *op = json_string_value(json_object_get(pl, "OperatorID"));
    const char *secret = json_string_value(json_object_get(pl, "OperatorSecret"));
    int fail = 0;
    if (strcmp(op, r->req.operator_id) != 0)
        fail = 1; /* no such operator for these credentials */
    else if (strlen(secret) != strlen(p->operator_secret) ||
             CRYPTO_memcmp(secret, p->operator_secret, strlen(secret)) != 0)
        fail = 2;
    if (fail) {
        accept_with(r, json_pack("{s:s, s:i, s:s, s:i, s:i}", "OperatorID", op, "SuccStat", 1,
                                 "AccessToken", "", "TokenAvailableTime", 0, "FailReason", fail));
        r->reason = fail == 1 ? "operator_id" : "operator_secret";
        snprintf(r->msg, sizeof r->msg, "%s",
                 fail == 1 ? "OperatorID in Data is not the OperatorID of the request"
                           : "OperatorSecret does not match");
        return 0;
    }
    unsigned char raw[GW_TCEC_TOKEN_BYTES];
    char token[2 * GW_TCEC_TOKEN_BYTES + 1], hash[65];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02X", raw[i]);
    if (sha256_hex(token, hash) < 0)
        return -1;
    int rc = db_tcec_token_add(db, r->req.operator_id, p->credentials_id, hash, r->at,
                               r->at + r->token_ttl_s);
    if (rc != 0)
        return rc;
    accept_with(r, json_pack("{s:s, s:i, s:s, s:I, s:i}", "OperatorID", op, "SuccStat", 0,
                             "AccessToken", token, "TokenAvailableTime", (json_int_t)r->token_ttl_s,
                             "FailReason", 0));
    return 0;
}

static int not_owned(struct gw_tcec_req *r, const char *path, const char *what, const char *id)
{
    refuse(r, 200, TCEC_RET_BUSINESS, "ownership",
           "%s: %s is not an accessed %s of OperatorID %s or of the operators it reports for", path,
           id, what, r->req.operator_id);
    return 0;
}

static int serve_station_status(struct db *db, struct gw_tcec_req *r,
                                const struct db_tcec_platform *p)
{
    const json_t *info = json_object_get(r->req.payload, "ConnectorStatusInfo");
    const char *cid = json_string_value(json_object_get(info, "ConnectorID"));
    int64_t account = 0, station_row = 0;
    char equipment[32];
    int rc = db_tcec_connector_owned(db, p->account_id, cid, &account, equipment, &station_row);
    if (rc == DB_NOTFOUND)
        return not_owned(r, "ConnectorStatusInfo.ConnectorID", "connector", cid);
    if (rc != 0)
        return rc;
    const json_t *park = json_object_get(info, "ParkStatus"),
                 *lock = json_object_get(info, "LockStatus");
    struct db_tcec_connector_status s = {
        .connector_id = cid,
        .account_id = account,
        .operator_id = r->req.operator_id,
        .status = (int)json_integer_value(json_object_get(info, "Status")),
        .park_status = json_is_integer(park) ? (int)json_integer_value(park) : -1,
        .lock_status = json_is_integer(lock) ? (int)json_integer_value(lock) : -1,
        .at = r->at,
    };
    if ((rc = db_tcec_connector_status_set(db, &s)) != 0)
        return rc;
    accept_with(r, json_pack("{s:i}", "Status", 0));
    return 0;
}

static int serve_station_info(struct db *db, struct gw_tcec_req *r,
                              const struct db_tcec_platform *p)
{
    const json_t *info = json_object_get(r->req.payload, "StationInfo");
    const char *sid = json_string_value(json_object_get(info, "StationID"));
    int64_t account = 0, station_row = 0;
    int rc = db_tcec_station_owned(db, p->account_id, sid, &account, &station_row);
    if (rc == DB_NOTFOUND)
        return not_owned(r, "StationInfo.StationID", "station", sid);
    if (rc != 0)
        return rc;
    /* Every pile and connector it lists must be an accessed one of that station. */
    size_t i, j;
    json_t *eq, *cn;
    json_array_foreach(json_object_get(info, "EquipmentInfos"), i, eq)
    {
        char path[128];
        const char *eid = json_string_value(json_object_get(eq, "EquipmentID"));
        int64_t pa = 0, prow = 0;
        snprintf(path, sizeof path, "StationInfo.EquipmentInfos[%zu].EquipmentID", i);
        rc = db_tcec_pile_owned(db, p->account_id, eid, &pa, &prow);
        if (rc == DB_NOTFOUND || (rc == 0 && prow != station_row)) {
            char what[64];
            snprintf(what, sizeof what, "pile of station %s", sid);
            return not_owned(r, path, what, eid);
        }
        if (rc != 0)
            return rc;
        json_array_foreach(json_object_get(eq, "ConnectorInfos"), j, cn)
        {
            const char *cid = json_string_value(json_object_get(cn, "ConnectorID"));
            char owner[32] = "";
            int64_t ca = 0, crow = 0;
            snprintf(path, sizeof path,
                     "StationInfo.EquipmentInfos[%zu].ConnectorInfos[%zu].ConnectorID", i, j);
            rc = db_tcec_connector_owned(db, p->account_id, cid, &ca, owner, &crow);
            if (rc == DB_NOTFOUND || (rc == 0 && strcmp(owner, eid) != 0)) {
                char what[64];
                snprintf(what, sizeof what, "connector of pile %s", eid);
                return not_owned(r, path, what, cid);
            }
            if (rc != 0)
                return rc;
        }
    }
    char *data = json_dumps(info, JSON_COMPACT | JSON_SORT_KEYS);
    if (!data)
        return -1;
    rc = db_tcec_station_info_set(db, account, sid, r->req.operator_id, data, r->at);
    free(data);
    if (rc != 0)
        return rc;
    accept_with(r, json_pack("{s:i}", "Status", 0));
    return 0;
}

static int serve_charge_order(struct db *db, struct gw_tcec_req *r,
                              const struct db_tcec_platform *p)
{
    const json_t *o = r->req.payload;
    const char *cid = json_string_value(json_object_get(o, "ConnectorID"));
    const char *seq = json_string_value(json_object_get(o, "StartChargeSeq"));
    int64_t account = 0, station_row = 0;
    char equipment[32];
    int rc = db_tcec_connector_owned(db, p->account_id, cid, &account, equipment, &station_row);
    if (rc == DB_NOTFOUND)
        return not_owned(r, "ConnectorID", "connector", cid);
    if (rc != 0)
        return rc;
    char *data = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!data)
        return -1;
    struct db_tcec_charge_order ord = {
        .operator_id = r->req.operator_id,
        .start_charge_seq = seq,
        .account_id = account,
        .connector_id = cid,
        .start_time = json_string_value(json_object_get(o, "StartTime")),
        .end_time = json_string_value(json_object_get(o, "EndTime")),
        .total_power = json_number_value(json_object_get(o, "TotalPower")),
        .total_elec_money = json_number_value(json_object_get(o, "TotalElecMoney")),
        .total_service_money = json_number_value(json_object_get(o, "TotalSeviceMoney")),
        .total_money = json_number_value(json_object_get(o, "TotalMoney")),
        .stop_reason = (int)json_integer_value(json_object_get(o, "StopReason")),
        .data = data,
        .at = r->at,
    };
    int repeat = 0;
    rc = db_tcec_charge_order_add(db, &ord, &repeat);
    free(data);
    if (rc != 0 && rc != DB_CONFLICT)
        return rc;
    /* A different order under a StartChargeSeq already stored is disputed (ConfirmResult 1);
     * the stored one stays. The same order again is confirmed again. */
    accept_with(r, json_pack("{s:s, s:s, s:i}", "StartChargeSeq", seq, "ConnectorID", cid,
                             "ConfirmResult", rc == DB_CONFLICT ? 1 : 0));
    if (rc == DB_CONFLICT) {
        r->reason = "order_disputed";
        snprintf(r->msg, sizeof r->msg,
                 "StartChargeSeq %s was stored before with different data; it is kept", seq);
    }
    return 0;
}

/* ---- the job ---------------------------------------------------------------------------- */

/* Runs the checks and the interface; returns nonzero only on a database failure. */
static int serve(struct db *db, struct gw_tcec_req *r, struct db_tcec_platform *p)
{
    struct tcec_error err = {0};
    if (!source_allowed(p->source_ips, r->peer)) {
        refuse(r, 403, TCEC_RET_POST, "source_ip",
               "source address %s is not on the allow-list of OperatorID %s", r->peer,
               r->req.operator_id);
        return 0;
    }
    struct tcec_keys keys = {r->data_secret, r->data_secret_iv, r->sig_secret};
    if (!r->req.payload && tcec_request_open(&r->req, &keys, &err) < 0) {
        refuse(r, 200, err.ret, tcec_rule_name(err.rule), "%s",
               err.msg[0] ? err.msg : tcec_ret_text(err.ret));
        return 0;
    }
    if (strcmp(r->interface, "query_token") != 0) {
        static const char bearer[] = "Bearer ";
        const char *why = NULL;
        char hash[65];
        if (r->auth_too_long) {
            refuse(r, 200, TCEC_RET_TOKEN, "token", "the Authorization header is too long");
            return 0;
        }
        if (!r->auth[0]) {
            refuse(r, 200, TCEC_RET_TOKEN, "token", "no Authorization: Bearer token");
            return 0;
        }
        if (strncasecmp(r->auth, bearer, sizeof bearer - 1) != 0 || !r->auth[sizeof bearer - 1]) {
            refuse(r, 200, TCEC_RET_TOKEN, "token", "Authorization is not a Bearer token");
            return 0;
        }
        if (sha256_hex(r->auth + sizeof bearer - 1, hash) < 0)
            return -1;
        int rc = db_tcec_token_check(db, r->req.operator_id, hash, r->at, &why);
        if (rc == DB_NOTFOUND) {
            refuse(r, 200, TCEC_RET_TOKEN, "token",
                   "AccessToken is %s: ask query_token for a new one", why);
            return 0;
        }
        if (rc != 0)
            return rc;
    }
    int64_t ts = (int64_t)tcec_timestamp_epoch(r->req.timestamp);
    if (ts < r->at - r->clock_skew_s || ts > r->at + r->clock_skew_s) {
        refuse(r, 200, TCEC_RET_POST, "timestamp",
               "TimeStamp %s is more than %lld s from the platform's clock (China Standard Time)",
               r->req.timestamp, (long long)r->clock_skew_s);
        return 0;
    }
    int rc = db_tcec_replay_add(db, r->req.operator_id, r->req.timestamp, r->req.seq, ts,
                                r->at - r->clock_skew_s);
    if (rc == DB_CONFLICT) {
        refuse(r, 200, TCEC_RET_POST, "replay", "Seq %s with TimeStamp %s was already received",
               r->req.seq, r->req.timestamp);
        return 0;
    }
    if (rc != 0)
        return rc;
    if (tcec_validate(r->interface, TCEC_REQUEST, r->req.payload, &err) < 0) {
        refuse(r, 200, TCEC_RET_BUSINESS, "payload", "%s", err.msg);
        return 0;
    }
    if (!strcmp(r->interface, "query_token"))
        return serve_query_token(db, r, p);
    if (!strcmp(r->interface, "notification_stationStatus"))
        return serve_station_status(db, r, p);
    if (!strcmp(r->interface, "notification_stationInfo"))
        return serve_station_info(db, r, p);
    return serve_charge_order(db, r, p);
}

int gw_tcec_job(struct db *db, void *arg)
{
    struct gw_tcec_req *r = arg;
    r->attributed = 0;
    r->http_status = 500;
    r->ret = TCEC_RET_SYSTEM;
    r->msg[0] = 0;
    r->reason = NULL;
    json_decref(r->answer);
    r->answer = NULL;

    struct db_tcec_platform p;
    int rc = db_tcec_platform(db, r->req.operator_id, &p);
    if (rc == DB_NOTFOUND) {
        /* Not attributable: nothing to sign with, nobody to log it for. */
        refuse(r, 403, TCEC_RET_SIGNATURE, "unknown_operator",
               "OperatorID %s has no live T/CEC credentials", r->req.operator_id);
        return 0;
    }
    if (rc != 0)
        return rc;
    r->attributed = 1;
    memcpy(r->data_secret, p.data_secret, sizeof r->data_secret);
    memcpy(r->data_secret_iv, p.data_secret_iv, sizeof r->data_secret_iv);
    memcpy(r->sig_secret, p.sig_secret, sizeof r->sig_secret);

    rc = serve(db, r, &p);
    OPENSSL_cleanse(&p, offsetof(struct db_tcec_platform, source_ips));
    json_decref(p.source_ips);
    if (rc != 0)
        return rc;

    char *req =
        r->req.payload ? json_dumps(r->req.payload, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *resp = r->answer ? json_dumps(r->answer, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    struct db_tcec_exchange x = {
        .operator_id = r->req.operator_id,
        .direction = "in",
        .interface = r->interface,
        .peer = r->peer,
        .at = r->at,
        .has_ret = 1,
        .ret = r->ret,
        .msg = r->msg,
        .reason = r->reason,
        .request = req,
        .response = resp,
        .duration_ms = thread_now_ms() - r->start_ms,
    };
    long long sent = r->req.timestamp[0] ? tcec_timestamp_epoch(r->req.timestamp) : -1;
    x.sent_at = sent > 0 ? (int64_t)sent : 0;
    rc = db_tcec_exchange_add(db, &x);
    free(req);
    free(resp);
    return rc;
}
