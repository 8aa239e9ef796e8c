/* One T/CEC 102 call from evgate to an operator platform, with libcurl: build the signed,
 * encrypted request (or send a caller's raw body), POST it, and open the answer — envelope, Sig,
 * Data, Ret, the data dictionary's rules — keeping each step's outcome apart. Shared by the
 * outbound client (tcec_client.c, which wants the first problem) and the conformance checks of
 * tcec102-platform (conform_tcec.c, which judge the Sig, the Data and the payload separately and
 * probe with broken requests). Blocking: call it from a thread of its own, never the lws loop.
 *
 * Secrets: nothing here logs; gw_tcec_redacted() gives payload text with the secrets and tokens
 * replaced, for exchange logs and run frames. */
#ifndef EVGATE_GW_TCEC_CALL_H
#define EVGATE_GW_TCEC_CALL_H

#include "protocol/tcec.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>

/* Largest answer body accepted from a platform. */
#define GW_TCEC_CALL_MAX_BODY (8u << 20)
/* Characters of an AccessToken sent in Authorization. */
#define GW_TCEC_CALL_TOKEN_MAX 512

/* What Data of an answer came to, apart from its Sig. */
enum gw_tcec_data {
    GW_TCEC_DATA_NONE = 0, /* no envelope, or Data "" */
    GW_TCEC_DATA_OK,       /* decrypted to a JSON object: `payload` */
    GW_TCEC_DATA_BASE64,   /* not canonical Base64 of whole AES blocks */
    GW_TCEC_DATA_DECRYPT,  /* does not decrypt with DataSecret/DataSecretIV (bad padding) */
    GW_TCEC_DATA_JSON,     /* decrypts, but not to a JSON object */
};

struct gw_tcec_call {
    /* --- in: the caller's; strings borrowed --------------------------------------------- */
    const char *url;         /* the platform's base URL, ending in '/' */
    const char *interface;   /* appended to url */
    const char *operator_id; /* the OperatorID presented (evgate's tcec_operator_id) */
    struct tcec_keys keys;   /* the platform's secrets: the request is made and the answer
                              * opened with them */
    const json_t *payload;   /* the request payload; ignored when `body` is set */
    const char *body;        /* a raw body sent as is instead (probes: no Seq, not JSON) */
    const char *sig_secret;  /* NULL: keys.sig_secret; else the request is signed with this one
                              * (probes; the answer is still checked with keys.sig_secret) */
    const char *token;       /* Authorization: Bearer token; NULL or "": no header */
    long timeout_s;          /* the whole call, connect included (>= 1) */
    /* Polled while the call runs: nonzero aborts it (a stopping thread, a cancelled run). */
    int (*should_stop)(void *arg);
    void *stop_arg;

    /* --- out: filled by gw_tcec_call, freed by gw_tcec_call_clear ------------------------ */
    char timestamp[TCEC_TIMESTAMP_LEN + 1], seq[TCEC_SEQ_LEN + 1]; /* of a built request */
    int64_t at;                                                    /* sent, epoch seconds */
    int64_t duration_ms;
    long http_status; /* 0: no HTTP answer */
    char *text;       /* the answer body (malloc'd, NUL-terminated), NULL when none */
    size_t len;
    int has_ret; /* the answer parsed as a T/CEC response envelope */
    int ret;
    char *msg;  /* the answer's Msg (malloc'd) when has_ret */
    int sig_ok; /* has_ret and Sig = HMAC-MD5(SigSecret, Ret + Msg + Data) */
    enum gw_tcec_data data;
    json_t *answer; /* the decrypted answer payload (owned) when data is GW_TCEC_DATA_OK, even
                     * when the Sig is wrong: the caller decides whether to trust it */
    /* The first problem, in the outbound client's order (docs/tcec.md "Calling platforms"):
     * NULL for a readable Ret 0 answer whose payload follows the dictionary, else "request",
     * "network", "too_large", "http_status", "envelope", "signature", "decrypt", "token"
     * (4002), "ret" (another Ret), "payload" (no Data, or the dictionary's rules). */
    const char *reason;
    char problem[TCEC_MSG_MAX]; /* one line naming it ("" when reason is NULL) */
    struct tcec_error rules;    /* the dictionary's verdict on `answer` when one was checked
                                 * (rules.rule TCEC_R_NONE: it passed or was not checked) */
};

/* Makes the call described by c's "in" members on `h` (a libcurl easy handle the caller owns
 * and reuses; it is reset here) and fills the "out" members. The TimeStamp is now in China
 * Standard Time and the Seq the next of *seq_counter (1..9999, wrapping; the caller's, so that
 * one sender does not repeat itself). Returns 0 when the platform answered with a T/CEC envelope
 * (whatever its Ret), -1 otherwise (c->reason says why). Call gw_tcec_call_clear after. */
int gw_tcec_call(CURL *h, struct gw_tcec_call *c, unsigned *seq_counter);

/* Frees the "out" members and zeroes them (the "in" ones stay). */
void gw_tcec_call_clear(struct gw_tcec_call *c);

/* `payload` as compact JSON text with the values of every member named OperatorSecret,
 * AccessToken, DataSecret, DataSecretIV or SigSecret, at any depth, replaced by "***" (as the
 * exchange log stores them). Caller frees; NULL for NULL or out of memory. */
char *gw_tcec_redacted(const json_t *payload);

#endif
