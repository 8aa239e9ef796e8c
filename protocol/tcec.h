/* T/CEC 102 (中电联 电动汽车充换电服务信息交换, the "evcs" interface): the signed and encrypted
 * envelope, and the rules of the data dictionary for the payloads the interfaces carry. Pure
 * code, no I/O and no state; crypto is OpenSSL EVP, JSON values are jansson's.
 *
 * The envelope (tcec_envelope.c; formats and crypto in tcec_wire.c):
 *   request  {"OperatorID", "Data", "TimeStamp", "Seq", "Sig"}
 *   response {"Ret", "Msg", "Data", "Sig"}
 * Data = Base64(AES-128-CBC(PKCS#7, key DataSecret, IV DataSecretIV)(payload JSON text));
 * request Sig = upper-case hex HMAC-MD5(SigSecret, OperatorID + Data + TimeStamp + Seq);
 * response Sig = the same over Ret (decimal text) + Msg + Data. Receiving is two steps:
 * tcec_*_parse() checks the shape (and gives the OperatorID whose secrets the caller looks up),
 * tcec_*_open() checks the signature and decrypts.
 *
 * The payload rules (tcec_data.c, the tables in tcec_dictionary.c): one table per object of the
 * data dictionary; tcec_validate() checks a payload of an interface, tcec_validate_object() one
 * object. Sources of each rule, and where they disagree, are in tcec_dictionary.c and
 * docs/tcec.md.
 *
 * Every failure fills a struct tcec_error: the Ret to answer with, the kind of rule, the field's
 * path ("StationInfos[3].EquipmentInfos[0].ConnectorInfos[1].Power") and an English message that
 * names the field, fit for the response's Msg. */
#ifndef EVGATE_TCEC_H
#define EVGATE_TCEC_H

#include <jansson.h>
#include <stddef.h>

/* Ret codes of the standard (T/CEC 102.1 §"返回值"). */
enum tcec_ret {
    TCEC_RET_OK = 0,
    TCEC_RET_BUSY = -1,        /* system busy, retry later */
    TCEC_RET_SIGNATURE = 4001, /* Sig does not match */
    TCEC_RET_TOKEN = 4002,     /* Authorization token missing, unknown or expired */
    TCEC_RET_POST = 4003,      /* the POST parameters (the envelope) are not valid */
    TCEC_RET_BUSINESS = 4004,  /* the business parameters (the payload in Data) are not valid */
    TCEC_RET_SYSTEM = 500,     /* system error */
};

/* The kind of rule a value broke. */
enum tcec_rule {
    TCEC_R_NONE = 0,
    TCEC_R_ARGUMENT,    /* a bad argument from our own caller (key not 16 bytes, ...) */
    TCEC_R_TOO_LARGE,   /* text over TCEC_TEXT_MAX */
    TCEC_R_JSON,        /* not JSON text (also: duplicate keys, bad UTF-8) */
    TCEC_R_MISSING,     /* a required field is absent (or null) */
    TCEC_R_EXTRA,       /* a field the envelope does not have */
    TCEC_R_TYPE,        /* wrong JSON type */
    TCEC_R_FORMAT,      /* a string's shape: date, time, digits, hex, code */
    TCEC_R_LENGTH,      /* a string's length in characters (UTF-8 code points) */
    TCEC_R_ENUM,        /* an integer outside its enumeration */
    TCEC_R_RANGE,       /* a number outside its range */
    TCEC_R_PRECISION,   /* a number with more decimal places than allowed */
    TCEC_R_ITEMS,       /* an array with too few or too many items */
    TCEC_R_CONSISTENCY, /* a rule across fields (lower > upper limit, sums, counts) */
    TCEC_R_SIGNATURE,   /* Sig mismatch */
    TCEC_R_BASE64,      /* Data is not canonical Base64 of whole AES blocks */
    TCEC_R_DECRYPT,     /* Data does not decrypt (bad padding: wrong DataSecret/IV) */
    TCEC_R_UNKNOWN,     /* no such interface or object */
    TCEC_R_COUNT
};

#define TCEC_KEY_LEN         16         /* DataSecret and DataSecretIV, bytes */
#define TCEC_OPERATOR_ID_LEN 9          /* OperatorID: the organisation code, characters */
#define TCEC_TIMESTAMP_LEN   14         /* yyyyMMddHHmmss */
#define TCEC_SEQ_LEN         4          /* 0001..9999 */
#define TCEC_SIG_LEN         32         /* upper-case hex of an MD5 */
#define TCEC_TEXT_MAX        (8u << 20) /* envelope text and decrypted payload text, bytes */
#define TCEC_PATH_MAX        256 /* bytes of a field path with its NUL; longer ends in "..." */
#define TCEC_MSG_MAX         256 /* bytes of an error message with its NUL */
/* How payloads and envelopes are written: compact, in insertion order, numbers with at most 15
 * significant digits so that 123.4 goes out as 123.4 (17 would write 123.40000000000001, which a
 * peer counting decimals in the text refuses); 6-decimal coordinates and money up to 1e8 stay
 * exact. */
#define TCEC_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

struct tcec_error {
    enum tcec_ret ret;
    enum tcec_rule rule;
    char path[TCEC_PATH_MAX]; /* "" when the failure is not about one field */
    char msg[TCEC_MSG_MAX];   /* English, one line, ASCII apart from quoted field values */
};

/* The three secrets of one direction of one operator. data_secret and data_secret_iv are
 * exactly TCEC_KEY_LEN bytes (the standard issues them as 16-character strings); sig_secret is a
 * NUL-terminated string of any non-zero length used as the HMAC key. Borrowed. */
struct tcec_keys {
    const char *data_secret;
    const char *data_secret_iv;
    const char *sig_secret;
};

/* ---- envelope --------------------------------------------------------------------------- */

/* A parsed request. The strings are copies; payload is set by tcec_request_open() and owned by
 * the request: valid until tcec_request_clear(). */
struct tcec_request {
    char operator_id[TCEC_OPERATOR_ID_LEN + 1];
    char timestamp[TCEC_TIMESTAMP_LEN + 1];
    char seq[TCEC_SEQ_LEN + 1];
    char sig[TCEC_SIG_LEN + 1];
    char *data;      /* the Base64 text as received; malloc'd */
    json_t *payload; /* a JSON object after tcec_request_open(), else NULL */
};

/* A parsed response; same ownership as the request. payload stays NULL when Data is "" (an
 * error answer carries no data). */
struct tcec_response {
    int ret;
    char *msg;  /* malloc'd */
    char *data; /* malloc'd, may be "" */
    char sig[TCEC_SIG_LEN + 1];
    json_t *payload;
};

/* Checks the shape of a request body of `len` bytes (need not be NUL-terminated): a JSON object
 * with exactly the five fields, all strings; OperatorID 9 of [0-9A-Z]; TimeStamp a real
 * yyyyMMddHHmmss; Seq 0001..9999; Sig 32 hex digits; Data non-empty. Neither the signature nor
 * Data is checked (tcec_request_open() does, once the caller has found the operator's keys).
 * Returns 0 and fills *req (caller calls tcec_request_clear()), or -1 with *err filled
 * (ret 4003) and *req empty. err may be NULL. */
int tcec_request_parse(const char *text, size_t len, struct tcec_request *req,
                       struct tcec_error *err);

/* Verifies req->sig with keys->sig_secret (constant time: 4001 on mismatch), then decrypts
 * Data and parses it as a JSON object into req->payload. Data that is not canonical Base64 of
 * whole AES blocks is 4003 (a malformed POST parameter); Data that does not decrypt (bad
 * padding), or decrypts to text that is not a JSON object, is 4004 (the business parameters are
 * what Data carries). Returns 0 or -1 with *err filled. */
int tcec_request_open(struct tcec_request *req, const struct tcec_keys *keys,
                      struct tcec_error *err);

void tcec_request_clear(struct tcec_request *req);

/* Checks the shape of a response body: exactly Ret (an integer of enum tcec_ret), Msg (string),
 * Data (string, "" allowed) and Sig (32 hex digits). 0, or -1 with *err (ret 4003). */
int tcec_response_parse(const char *text, size_t len, struct tcec_response *resp,
                        struct tcec_error *err);

/* Verifies the response's Sig (4001) and, when Data is not "", decrypts it into resp->payload
 * (4003/4004 as for requests). */
int tcec_response_open(struct tcec_response *resp, const struct tcec_keys *keys,
                       struct tcec_error *err);

void tcec_response_clear(struct tcec_response *resp);

/* Builds a signed, encrypted request: compact JSON text, NUL-terminated; caller frees. The
 * payload (an object, borrowed) is serialised compactly in insertion order. timestamp and seq
 * are the caller's (this module reads no clock and keeps no counter). NULL on a bad argument
 * (operator_id, timestamp or seq not valid as tcec_request_parse() checks them, payload not an
 * object, bad keys) or out of memory. */
char *tcec_request_build(const char *operator_id, const char *timestamp, const char *seq,
                         const json_t *payload, const struct tcec_keys *keys);

/* Builds a signed response; payload NULL gives Data "". msg may be NULL ("" then). Caller frees;
 * NULL on a bad argument (ret not a code of enum tcec_ret, payload not an object, bad keys). */
char *tcec_response_build(int ret, const char *msg, const json_t *payload,
                          const struct tcec_keys *keys);

/* The response answering failure *err: err->ret with err->msg, Data "". Caller frees. */
char *tcec_response_build_error(const struct tcec_error *err, const struct tcec_keys *keys);

/* ---- primitives, exposed for tests and for the gateway's own checks ---------------------- */

/* Base64(AES-128-CBC-PKCS#7(plain)). Caller frees; NULL on bad keys or out of memory. */
char *tcec_encrypt(const char *plain, size_t len, const struct tcec_keys *keys);

/* The inverse: the plaintext (NUL-terminated; *out_len its length without the NUL), caller
 * frees. NULL with *rule TCEC_R_BASE64 or TCEC_R_DECRYPT (or TCEC_R_ARGUMENT). rule may be NULL. */
char *tcec_decrypt(const char *b64, size_t len, const struct tcec_keys *keys, size_t *out_len,
                   enum tcec_rule *rule);

/* out = upper-case hex HMAC-MD5(sig_secret, parts[0] + ... + parts[n-1]), NUL-terminated.
 * 0, or -1 on a bad argument. */
int tcec_sign(const char *sig_secret, const char *const *parts, size_t n,
              char out[TCEC_SIG_LEN + 1]);

/* 1 when a and b are both TCEC_SIG_LEN characters and equal, compared in constant time. */
int tcec_sig_equal(const char *a, const char *b);

/* 1 when s is a real date-time yyyyMMddHHmmss (years 1970..9999, leap years, seconds 00..59). */
int tcec_is_timestamp(const char *s);
/* 1 when s is "0001".."9999". */
int tcec_is_seq(const char *s);
/* 1 when s is 9 of [0-9A-Z]. */
int tcec_is_operator_id(const char *s);
/* 1 when s is a real "yyyy-MM-dd HH:mm:ss" / "yyyy-MM-dd". */
int tcec_is_datetime(const char *s);
int tcec_is_date(const char *s);

/* The standard writes its times in China Standard Time (UTC+8, no daylight saving), whatever
 * the zone of the machine. tcec_time_text() writes `epoch` (seconds) as a TimeStamp
 * "yyyyMMddHHmmss", a date-time "yyyy-MM-dd HH:mm:ss" or a date "yyyy-MM-dd" into out (outlen
 * bytes); 0, or -1 when it does not fit. tcec_timestamp_epoch() reads a TimeStamp back (-1 when
 * it is not one). */
#define TCEC_TZ_OFFSET_S (8 * 3600)
enum tcec_time_kind { TCEC_TIME_STAMP, TCEC_TIME_DATETIME, TCEC_TIME_DATE };
int tcec_time_text(long long epoch, enum tcec_time_kind kind, char *out, size_t outlen);
long long tcec_timestamp_epoch(const char *timestamp);

/* "Signature error", ... : a short English text for each Ret; "" for an unknown code. */
const char *tcec_ret_text(int ret);

/* Secrets in payloads: 1 when `key` names a member whose value is a secret or a token
 * (OperatorSecret, AccessToken, DataSecret, DataSecretIV, SigSecret), else 0; and v with the
 * values of such members, at any depth, replaced by "***" (in place). Every log, exchange row
 * and report that shows a payload redacts it with these. */
int tcec_secret_member(const char *key);
void tcec_redact(json_t *v);
/* "missing", "type", ... for each rule. */
const char *tcec_rule_name(enum tcec_rule rule);

/* ---- data dictionary --------------------------------------------------------------------- */

enum tcec_kind { TCEC_REQUEST = 0, TCEC_RESPONSE = 1 };

/* Validates `payload` as the request or response payload of `interface` ("query_token",
 * "notification_stationStatus", ...: tcec_interface_name() lists them). Returns 0, or -1 with
 * *err filled: ret 4004, the path of the first failing field (fields in table order, depth
 * first) and the rule. Unknown interface: -1 with TCEC_R_UNKNOWN. Fields the tables do not
 * name are accepted (deployments add their own); an optional field that is null counts as
 * absent. err may be NULL. */
int tcec_validate(const char *interface, enum tcec_kind kind, const json_t *payload,
                  struct tcec_error *err);

/* The same for one object of the dictionary by its name ("StationInfo", "ConnectorInfo", ...:
 * tcec_object_name() lists them); paths start at the object's fields. */
int tcec_validate_object(const char *object, const json_t *value, struct tcec_error *err);

/* Interfaces and objects with tables, in no particular order: names[i] for i < count. */
size_t tcec_interface_count(void);
const char *tcec_interface_name(size_t i);
size_t tcec_object_count(void);
const char *tcec_object_name(size_t i);

#endif
