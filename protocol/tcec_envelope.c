/* T/CEC 102 envelope: the request and response objects, parsed, verified, opened and built; the
 * crypto and format primitives are in tcec_wire.c. */
#include "protocol/tcec.h"
#include "protocol/tcec_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct tcec_error *err, enum tcec_ret ret, enum tcec_rule rule, const char *path,
                const char *fmt, ...)
{
    if (!err)
        return -1;
    err->ret = ret;
    err->rule = rule;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    tcec_utf8_trim(err->path);
    tcec_utf8_trim(err->msg);
    return -1;
}

static void ok(struct tcec_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *tcec_ret_text(int ret)
{
    switch (ret) {
    case TCEC_RET_OK:
        return "OK";
    case TCEC_RET_BUSY:
        return "System busy, retry later";
    case TCEC_RET_SIGNATURE:
        return "Signature error";
    case TCEC_RET_TOKEN:
        return "Token error";
    case TCEC_RET_POST:
        return "Invalid POST parameters";
    case TCEC_RET_BUSINESS:
        return "Invalid business parameters";
    case TCEC_RET_SYSTEM:
        return "System error";
    }
    return "";
}

static int ret_known(json_int_t ret)
{
    return ret == 0 || ret == -1 || ret == 4001 || ret == 4002 || ret == 4003 || ret == 4004 ||
           ret == 500;
}

const char *tcec_rule_name(enum tcec_rule rule)
{
    static const char *const names[] = {
        "none",  "argument",    "too_large", "json",   "missing", "extra",
        "type",  "format",      "length",    "enum",   "range",   "precision",
        "items", "consistency", "signature", "base64", "decrypt", "unknown",
    };
    _Static_assert(sizeof names / sizeof names[0] == TCEC_R_COUNT, "a name for each rule");
    return (unsigned)rule < TCEC_R_COUNT ? names[rule] : "";
}

static int is_hex32(const char *s)
{
    if (strlen(s) != TCEC_SIG_LEN)
        return 0;
    for (size_t i = 0; i < TCEC_SIG_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* jansson's error texts may quote input; keep them printable ASCII for Msg and logs. */
static const char *ascii(char *s)
{
    for (char *p = s; *p; p++)
        if (*p < ' ' || *p > '~')
            *p = '?';
    return s;
}

/* ---- parsing ---------------------------------------------------------------------------- */

struct field {
    const char *name;
    int is_int; /* else a string */
};

static const struct field request_fields[] = {
    {"OperatorID", 0}, {"Data", 0}, {"TimeStamp", 0}, {"Seq", 0}, {"Sig", 0},
};
static const struct field response_fields[] = {
    {"Ret", 1},
    {"Msg", 0},
    {"Data", 0},
    {"Sig", 0},
};

/* Loads an object with exactly `fields`, each of its type. Caller decrefs. */
static json_t *load_envelope(const char *text, size_t len, const struct field *fields, size_t n,
                             struct tcec_error *err)
{
    if (!text)
        return fail(err, TCEC_RET_POST, TCEC_R_ARGUMENT, NULL, "no body"), NULL;
    if (len > TCEC_TEXT_MAX)
        return fail(err, TCEC_RET_POST, TCEC_R_TOO_LARGE, NULL, "body over %u bytes",
                    TCEC_TEXT_MAX),
               NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fail(err, TCEC_RET_POST, TCEC_R_JSON, NULL, "body is not JSON: %s", ascii(je.text)),
               NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(err, TCEC_RET_POST, TCEC_R_TYPE, NULL, "body is not a JSON object"), NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(root, fields[i].name);
        if (!v || json_is_null(v)) {
            fail(err, TCEC_RET_POST, TCEC_R_MISSING, fields[i].name, "%s is missing",
                 fields[i].name);
            goto bad;
        }
        if (fields[i].is_int ? !json_is_integer(v) : !json_is_string(v)) {
            fail(err, TCEC_RET_POST, TCEC_R_TYPE, fields[i].name, "%s is not %s", fields[i].name,
                 fields[i].is_int ? "an integer" : "a string");
            goto bad;
        }
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v)) {
            fail(err, TCEC_RET_POST, TCEC_R_FORMAT, fields[i].name, "%s contains a NUL",
                 fields[i].name);
            goto bad;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        size_t i = 0;
        while (i < n && strcmp(key, fields[i].name))
            i++;
        if (i == n) {
            char shown[48];
            snprintf(shown, sizeof shown, "%s", key);
            fail(err, TCEC_RET_POST, TCEC_R_EXTRA, shown, "unexpected field %s", shown);
            goto bad;
        }
    }
    return root;
bad:
    json_decref(root);
    return NULL;
}

static const char *str(json_t *root, const char *name)
{
    return json_string_value(json_object_get(root, name));
}

int tcec_request_parse(const char *text, size_t len, struct tcec_request *req,
                       struct tcec_error *err)
{
    memset(req, 0, sizeof *req);
    json_t *root = load_envelope(text, len, request_fields, 5, err);
    if (!root)
        return -1;
    const char *op = str(root, "OperatorID"), *ts = str(root, "TimeStamp"), *seq = str(root, "Seq"),
               *sig = str(root, "Sig"), *data = str(root, "Data");
    int rc = -1;
    if (!tcec_is_operator_id(op))
        fail(err, TCEC_RET_POST, TCEC_R_FORMAT, "OperatorID",
             "OperatorID is not 9 characters of 0-9 and A-Z");
    else if (!tcec_is_timestamp(ts))
        fail(err, TCEC_RET_POST, TCEC_R_FORMAT, "TimeStamp",
             "TimeStamp is not a real yyyyMMddHHmmss");
    else if (!tcec_is_seq(seq))
        fail(err, TCEC_RET_POST, TCEC_R_FORMAT, "Seq", "Seq is not 4 digits 0001-9999");
    else if (!is_hex32(sig))
        fail(err, TCEC_RET_POST, TCEC_R_FORMAT, "Sig", "Sig is not 32 hexadecimal digits");
    else if (!data[0])
        fail(err, TCEC_RET_POST, TCEC_R_MISSING, "Data", "Data is empty");
    else if (!(req->data = strdup(data)))
        fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "out of memory");
    else {
        strcpy(req->operator_id, op);
        strcpy(req->timestamp, ts);
        strcpy(req->seq, seq);
        strcpy(req->sig, sig);
        ok(err);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

/* Decrypts `data` into an object; 4003 for bad Base64, 4004 for the rest. */
static json_t *open_data(const char *data, const struct tcec_keys *keys, struct tcec_error *err)
{
    enum tcec_rule rule;
    size_t plen = 0;
    char *plain = tcec_decrypt(data, strlen(data), keys, &plen, &rule);
    if (!plain) {
        if (rule == TCEC_R_BASE64)
            return fail(err, TCEC_RET_POST, rule, "Data",
                        "Data is not Base64 of whole AES-128 blocks"),
                   NULL;
        if (rule == TCEC_R_DECRYPT)
            return fail(err, TCEC_RET_BUSINESS, rule, "Data",
                        "Data does not decrypt with DataSecret and DataSecretIV (bad padding)"),
                   NULL;
        return fail(err, TCEC_RET_SYSTEM, rule, NULL, "bad keys or out of memory"), NULL;
    }
    json_error_t je;
    json_t *payload = json_loadb(plain, plen, JSON_REJECT_DUPLICATES, &je);
    free(plain);
    if (!payload)
        return fail(err, TCEC_RET_BUSINESS, TCEC_R_JSON, "Data",
                    "decrypted Data is not JSON: %s (line %d column %d)", ascii(je.text), je.line,
                    je.column),
               NULL;
    if (!json_is_object(payload)) {
        json_decref(payload);
        return fail(err, TCEC_RET_BUSINESS, TCEC_R_TYPE, "Data",
                    "decrypted Data is not a JSON object"),
               NULL;
    }
    return payload;
}

int tcec_request_open(struct tcec_request *req, const struct tcec_keys *keys,
                      struct tcec_error *err)
{
    char expect[TCEC_SIG_LEN + 1];
    if (!req || !req->data)
        return fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "request not parsed");
    if (!tcec_keys_ok(keys))
        return fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "bad keys");
    const char *parts[] = {req->operator_id, req->data, req->timestamp, req->seq};
    if (tcec_sign(keys->sig_secret, parts, 4, expect) != 0)
        return fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "HMAC-MD5 unavailable");
    if (!tcec_sig_equal(expect, req->sig))
        return fail(err, TCEC_RET_SIGNATURE, TCEC_R_SIGNATURE, "Sig",
                    "Sig does not match HMAC-MD5 of OperatorID+Data+TimeStamp+Seq");
    json_decref(req->payload);
    if (!(req->payload = open_data(req->data, keys, err)))
        return -1;
    ok(err);
    return 0;
}

void tcec_request_clear(struct tcec_request *req)
{
    if (!req)
        return;
    free(req->data);
    json_decref(req->payload);
    memset(req, 0, sizeof *req);
}

int tcec_response_parse(const char *text, size_t len, struct tcec_response *resp,
                        struct tcec_error *err)
{
    memset(resp, 0, sizeof *resp);
    json_t *root = load_envelope(text, len, response_fields, 4, err);
    if (!root)
        return -1;
    json_int_t ret = json_integer_value(json_object_get(root, "Ret"));
    const char *sig = str(root, "Sig");
    int rc = -1;
    if (!ret_known(ret))
        fail(err, TCEC_RET_POST, TCEC_R_ENUM, "Ret",
             "Ret %" JSON_INTEGER_FORMAT " is not one of 0, -1, 4001, 4002, 4003, 4004, 500", ret);
    else if (!is_hex32(sig))
        fail(err, TCEC_RET_POST, TCEC_R_FORMAT, "Sig", "Sig is not 32 hexadecimal digits");
    else if (!(resp->msg = strdup(str(root, "Msg"))) || !(resp->data = strdup(str(root, "Data")))) {
        fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "out of memory");
        tcec_response_clear(resp);
    } else {
        resp->ret = (int)ret;
        strcpy(resp->sig, sig);
        ok(err);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

int tcec_response_open(struct tcec_response *resp, const struct tcec_keys *keys,
                       struct tcec_error *err)
{
    char expect[TCEC_SIG_LEN + 1], ret[16];
    if (!resp || !resp->data || !resp->msg)
        return fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "response not parsed");
    if (!tcec_keys_ok(keys))
        return fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "bad keys");
    snprintf(ret, sizeof ret, "%d", resp->ret);
    const char *parts[] = {ret, resp->msg, resp->data};
    if (tcec_sign(keys->sig_secret, parts, 3, expect) != 0)
        return fail(err, TCEC_RET_SYSTEM, TCEC_R_ARGUMENT, NULL, "HMAC-MD5 unavailable");
    if (!tcec_sig_equal(expect, resp->sig))
        return fail(err, TCEC_RET_SIGNATURE, TCEC_R_SIGNATURE, "Sig",
                    "Sig does not match HMAC-MD5 of Ret+Msg+Data");
    json_decref(resp->payload);
    resp->payload = NULL;
    if (resp->data[0] && !(resp->payload = open_data(resp->data, keys, err)))
        return -1;
    ok(err);
    return 0;
}

void tcec_response_clear(struct tcec_response *resp)
{
    if (!resp)
        return;
    free(resp->msg);
    free(resp->data);
    json_decref(resp->payload);
    memset(resp, 0, sizeof *resp);
}

/* ---- building --------------------------------------------------------------------------- */

/* Base64 of the encrypted compact JSON text of `payload`; caller frees. */
static char *seal(const json_t *payload, const struct tcec_keys *keys)
{
    char *text = json_dumps(payload, TCEC_JSON_FLAGS);
    if (!text)
        return NULL;
    char *b64 = tcec_encrypt(text, strlen(text), keys);
    free(text);
    return b64;
}

char *tcec_request_build(const char *operator_id, const char *timestamp, const char *seq,
                         const json_t *payload, const struct tcec_keys *keys)
{
    char sig[TCEC_SIG_LEN + 1], *out = NULL, *data = NULL;
    if (!tcec_is_operator_id(operator_id) || !tcec_is_timestamp(timestamp) || !tcec_is_seq(seq) ||
        !json_is_object(payload) || !tcec_keys_ok(keys))
        return NULL;
    if (!(data = seal(payload, keys)))
        return NULL;
    const char *parts[] = {operator_id, data, timestamp, seq};
    if (tcec_sign(keys->sig_secret, parts, 4, sig) == 0) {
        json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s}", "OperatorID", operator_id, "Data",
                                data, "TimeStamp", timestamp, "Seq", seq, "Sig", sig);
        if (env)
            out = json_dumps(env, TCEC_JSON_FLAGS);
        json_decref(env);
    }
    free(data);
    return out;
}

char *tcec_response_build(int ret, const char *msg, const json_t *payload,
                          const struct tcec_keys *keys)
{
    char sig[TCEC_SIG_LEN + 1], rets[16], *out = NULL, *data = NULL;
    if (!ret_known(ret) || (payload && !json_is_object(payload)) || !tcec_keys_ok(keys))
        return NULL;
    if (!msg)
        msg = "";
    if (payload && !(data = seal(payload, keys)))
        return NULL;
    snprintf(rets, sizeof rets, "%d", ret);
    const char *parts[] = {rets, msg, data ? data : ""};
    if (tcec_sign(keys->sig_secret, parts, 3, sig) == 0) {
        json_t *env = json_pack("{s:i, s:s, s:s, s:s}", "Ret", ret, "Msg", msg, "Data",
                                data ? data : "", "Sig", sig);
        if (env)
            out = json_dumps(env, TCEC_JSON_FLAGS);
        json_decref(env);
    }
    free(data);
    return out;
}

char *tcec_response_build_error(const struct tcec_error *err, const struct tcec_keys *keys)
{
    if (!err || err->ret == TCEC_RET_OK)
        return NULL;
    return tcec_response_build(err->ret, err->msg[0] ? err->msg : tcec_ret_text(err->ret), NULL,
                               keys);
}
