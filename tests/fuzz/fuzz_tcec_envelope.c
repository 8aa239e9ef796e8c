/* libFuzzer target: arbitrary bytes as a T/CEC 102 request body, as a response body, and as the
 * plaintext of Data in a correctly signed request. Checks that every failure carries a Ret of
 * the standard with a message, that an error answer built for it parses and verifies back, and
 * that whatever opens re-seals to an envelope that opens to the same payload. */
#include "protocol/tcec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct tcec_keys keys = {"1234567890abcdef", "fedcba0987654321", "fuzz-sig"};

static void check_error(const struct tcec_error *err, int allow_system)
{
    switch (err->ret) {
    case TCEC_RET_SIGNATURE:
    case TCEC_RET_POST:
    case TCEC_RET_BUSINESS:
        break;
    case TCEC_RET_SYSTEM:
        if (allow_system)
            break;
        abort();
    default:
        abort();
    }
    if (!err->msg[0] || err->rule == TCEC_R_NONE || err->rule >= TCEC_R_COUNT ||
        strlen(err->path) >= TCEC_PATH_MAX || strlen(err->msg) >= TCEC_MSG_MAX)
        abort();
    /* The answer to the failure is itself a valid, verifiable response. */
    char *answer = tcec_response_build_error(err, &keys);
    if (!answer)
        abort();
    struct tcec_response resp;
    struct tcec_error e2;
    if (tcec_response_parse(answer, strlen(answer), &resp, &e2) != 0 ||
        tcec_response_open(&resp, &keys, &e2) != 0 || resp.ret != (int)err->ret || resp.payload)
        abort();
    tcec_response_clear(&resp);
    free(answer);
}

static void reseal(const struct tcec_request *req)
{
    char *body =
        tcec_request_build(req->operator_id, req->timestamp, req->seq, req->payload, &keys);
    if (!body)
        abort();
    struct tcec_request again;
    struct tcec_error err;
    if (tcec_request_parse(body, strlen(body), &again, &err) != 0 ||
        tcec_request_open(&again, &keys, &err) != 0 || !json_equal(again.payload, req->payload))
        abort();
    tcec_request_clear(&again);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct tcec_request req;
    struct tcec_error err;

    /* 1. the bytes as a request */
    if (tcec_request_parse(text, size, &req, &err) != 0) {
        if (err.ret != TCEC_RET_POST || req.data)
            abort();
        check_error(&err, 0);
    } else {
        if (!tcec_is_operator_id(req.operator_id) || !tcec_is_timestamp(req.timestamp) ||
            !tcec_is_seq(req.seq) || !req.data[0])
            abort();
        if (tcec_request_open(&req, &keys, &err) != 0)
            check_error(&err, 0);
        else if (!json_is_object(req.payload))
            abort();
        else
            reseal(&req);
        tcec_request_clear(&req);
    }

    /* 2. the bytes as a response */
    struct tcec_response resp;
    if (tcec_response_parse(text, size, &resp, &err) != 0) {
        check_error(&err, 0);
    } else {
        if (tcec_response_open(&resp, &keys, &err) != 0)
            check_error(&err, 0);
        tcec_response_clear(&resp);
    }

    /* 3. the bytes as the plaintext of a correctly signed request: only 4004 may come back */
    char *b64 = tcec_encrypt(text, size, &keys);
    if (!b64)
        abort();
    char sig[TCEC_SIG_LEN + 1];
    const char *parts[] = {"MA80GFQM8", b64, "20260101000000", "0001"};
    if (tcec_sign(keys.sig_secret, parts, 4, sig) != 0)
        abort();
    json_t *env = json_pack("{s:s,s:s,s:s,s:s,s:s}", "OperatorID", parts[0], "Data", b64,
                            "TimeStamp", parts[2], "Seq", parts[3], "Sig", sig);
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    free(b64);
    if (!body || tcec_request_parse(body, strlen(body), &req, &err) != 0)
        abort();
    if (tcec_request_open(&req, &keys, &err) != 0) {
        if (err.ret != TCEC_RET_BUSINESS || strcmp(err.path, "Data"))
            abort();
        check_error(&err, 0);
    } else {
        reseal(&req);
    }
    tcec_request_clear(&req);
    free(body);

    /* 4. the format checks on the raw bytes */
    char small[32];
    size_t n = size < sizeof small - 1 ? size : sizeof small - 1;
    memcpy(small, data, n);
    small[n] = '\0';
    (void)tcec_is_timestamp(small);
    (void)tcec_is_datetime(small);
    (void)tcec_is_date(small);
    (void)tcec_sig_equal(small, small);
    return 0;
}
