/* libFuzzer target: the payload validator over every action. Byte 0 picks the version and the
 * direction, byte 1 the action, the rest is a JSON value (a payload, or any value to reach the
 * type checks); the same bytes also go through the date-time and uri checks. Checks that a
 * failure has the version's code, a JSON path and an answer that parses back. */
#include "protocol/ocpp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum ocpp_version v = data[0] & 1 ? OCPP_V201 : OCPP_V16;
    enum ocpp_kind kind = data[0] & 2 ? OCPP_RESPONSE : OCPP_REQUEST;
    const char *action = ocpp_action_name(v, data[1] % ocpp_action_count(v));
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    (void)ocpp_is_date_time(text, len);
    (void)ocpp_is_uri(text, len);
    json_error_t jerr;
    json_t *payload = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!payload)
        return 0;
    struct ocpp_error err;
    memset(&err, 0, sizeof err);
    strcpy(err.id, "fuzz");
    if (ocpp_validate(v, action, kind, payload, &err) != 0) {
        if (err.fail <= OCPP_F_UNKNOWN_ACTION || err.fail >= OCPP_F_COUNT ||
            strcmp(err.code, ocpp_error_code(v, err.fail)) || err.path[0] != '$' ||
            strlen(err.path) >= OCPP_PATH_MAX)
            abort();
        char *answer = ocpp_build_error_for(v, &err);
        struct ocpp_frame f;
        if (!answer || ocpp_frame_parse(v, answer, strlen(answer), &f, NULL) != 0 ||
            f.type != OCPP_CALLERROR || strcmp(f.error_code, err.code))
            abort();
        ocpp_frame_clear(&f);
        free(answer);
    } else if (!json_is_object(payload)) {
        abort();
    }
    json_decref(payload);
    return 0;
}
