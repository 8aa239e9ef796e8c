/* Private to gateway/tcec_*.c: one T/CEC request from arrival to answer. tcec_http.c owns the
 * lws side (reading, answering); tcec_serve.c the writer job that checks and stores. */
#ifndef EVGATE_GW_TCEC_INTERNAL_H
#define EVGATE_GW_TCEC_INTERNAL_H

#include "protocol/tcec.h"

#include <jansson.h>
#include <stdint.h>

struct db;
struct gw_server;
struct lws;

/* Bytes of an Authorization header kept: "Bearer " and an AccessToken (at most 512). */
#define GW_TCEC_AUTH_MAX 600
/* Bytes of a peer address (INET6_ADDRSTRLEN and then some). */
#define GW_TCEC_PEER_MAX 64

struct gw_tcec_req {
    struct gw_server *gw;
    struct lws *wsi; /* NULL once the connection closed while the job was in flight */
    int in_flight;   /* a writer job holds the request */

    /* --- the request, filled on the lws thread ---------------------------------------- */
    const char *interface; /* static: the served interface, or NULL when not served */
    char peer[GW_TCEC_PEER_MAX];
    char auth[GW_TCEC_AUTH_MAX + 1]; /* the Authorization header, "" when absent */
    int auth_too_long;
    char *body; /* malloc'd, cap bytes */
    size_t len, cap;
    int64_t at;       /* received, seconds since the epoch */
    int64_t start_ms; /* received, monotonic milliseconds */
    struct tcec_request req;
    /* settings, copied so that the job does not read the config across threads */
    int64_t token_ttl_s, clock_skew_s;

    /* --- the outcome, written by the job afresh on every run -------------------------- */
    int attributed; /* the OperatorID has live credentials: the keys below are set */
    char data_secret[TCEC_KEY_LEN + 1], data_secret_iv[TCEC_KEY_LEN + 1], sig_secret[17];
    int http_status;
    int ret;
    char msg[TCEC_MSG_MAX];
    const char *reason; /* static code, NULL on success */
    json_t *answer;     /* the response payload (owned), NULL for an error answer */

    /* --- the answer on the wire ------------------------------------------------------- */
    char *out; /* malloc'd: the HTTP body */
    size_t out_len, out_sent;
    int ready;        /* `out` and http_status are final */
    int headers_sent; /* the status line and headers are written */
    int close_after;  /* close the connection after the answer (unread body left) */
    int head;         /* a HEAD request: headers only */
};

/* The writer job (tcec_serve.c): credentials, source address, signature and decryption, token,
 * TimeStamp window, replay, payload rules, ownership, storing, and the exchange's log row.
 * Refusals are outcomes (ret, msg, reason), not job failures: it returns nonzero only when the
 * database failed. */
int gw_tcec_job(struct db *db, void *arg);

#endif
