/* libFuzzer target: the T/CEC 102 payload validator. Byte 0 picks the interface and the
 * direction (request or response), byte 1 an object of the dictionary; the rest is a JSON value.
 * Checks that a failure is a 4004 with a rule, a path, and a message starting with the path,
 * and that a valid payload survives sealing into a request and opening again. */
#include "protocol/tcec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct tcec_keys keys = {"1234567890abcdef", "fedcba0987654321", "fuzz-sig"};

static void check(int rc, const struct tcec_error *err)
{
    if (rc == 0)
        return;
    if (err->ret != TCEC_RET_BUSINESS || err->rule <= TCEC_R_NONE || err->rule >= TCEC_R_COUNT ||
        err->rule == TCEC_R_UNKNOWN || !err->msg[0] || strlen(err->msg) >= TCEC_MSG_MAX ||
        strlen(err->path) >= TCEC_PATH_MAX)
        abort();
    if (err->path[0] && strncmp(err->msg, err->path, strlen(err->path)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t ni = tcec_interface_count(), no = tcec_object_count();
    const char *interface = tcec_interface_name((data[0] >> 1) % ni);
    enum tcec_kind kind = data[0] & 1 ? TCEC_RESPONSE : TCEC_REQUEST;
    const char *object = tcec_object_name(data[1] % no);
    json_error_t jerr;
    json_t *payload = json_loadb((const char *)data + 2, size - 2,
                                 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!payload)
        return 0;
    struct tcec_error err;
    int rc = tcec_validate(interface, kind, payload, &err);
    check(rc, &err);
    check(tcec_validate_object(object, payload, &err), &err);

    if (rc == 0) {
        char *body = tcec_request_build("MA80GFQM8", "20260101000000", "0001", payload, &keys);
        struct tcec_request req;
        if (!body || tcec_request_parse(body, strlen(body), &req, &err) != 0 ||
            tcec_request_open(&req, &keys, &err) != 0 ||
            tcec_validate(interface, kind, req.payload, &err) != 0)
            abort();
        tcec_request_clear(&req);
        free(body);
    }
    json_decref(payload);
    return 0;
}
