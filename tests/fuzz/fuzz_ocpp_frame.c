/* libFuzzer target: arbitrary bytes as an OCPP-J text frame in both versions. Checks that a
 * parsed frame is well-formed, that a CALL's payload validates or fails with a code and path,
 * that every answer built (CALLRESULT echo, CALLERROR for a failure) parses back, and that
 * a CALLRESULT is byte for byte what jansson writes. */
#include "protocol/ocpp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void parses_back(enum ocpp_version v, char *text, enum ocpp_msg_type type, const char *id)
{
    struct ocpp_frame f;
    struct ocpp_error err;
    if (!text)
        abort();
    if (ocpp_frame_parse(v, text, strlen(text), &f, &err) != 0 || f.type != type ||
        strcmp(f.id, id))
        abort();
    ocpp_frame_clear(&f);
    free(text);
}

/* ocpp_build_result writes some answers itself: the bytes must be jansson's. */
static void same_as_jansson(const char *id, const json_t *payload)
{
    json_t *frame = json_pack("[i,s,O]", OCPP_CALLRESULT, id, (json_t *)payload);
    char *want = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
    char *got = ocpp_build_result(id, payload);
    if (!want || !got || strcmp(want, got))
        abort();
    json_decref(frame);
    free(want);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int v = OCPP_V16; v <= OCPP_V201; v++) {
        struct ocpp_frame f;
        struct ocpp_error err;
        if (ocpp_frame_parse(v, (const char *)data, size, &f, &err) != 0) {
            if (err.fail == OCPP_OK || !err.code[0] || f.root || strlen(err.id) == 0)
                abort();
            parses_back(v, ocpp_build_error_for(v, &err), OCPP_CALLERROR, err.id);
            continue;
        }
        if (!f.root || !f.id[0] || strlen(f.id) >= OCPP_ID_BYTES)
            abort();
        if (f.type == OCPP_CALL) {
            if (!f.action || !json_is_object(f.payload))
                abort();
            strcpy(err.id, f.id);
            if (ocpp_validate(v, f.action, OCPP_REQUEST, f.payload, &err) != 0) {
                if (strcmp(err.code, ocpp_error_code(v, err.fail)) ||
                    (err.fail != OCPP_F_UNKNOWN_ACTION && err.path[0] != '$'))
                    abort();
                parses_back(v, ocpp_build_error_for(v, &err), OCPP_CALLERROR, f.id);
            } else {
                same_as_jansson(f.id, f.payload);
                parses_back(v, ocpp_build_result(f.id, f.payload), OCPP_CALLRESULT, f.id);
                parses_back(v, ocpp_build_call(f.id, f.action, f.payload), OCPP_CALL, f.id);
            }
        } else if (f.type == OCPP_CALLERROR) {
            if (!f.error_code || !f.error_description || !json_is_object(f.error_details))
                abort();
        } else if (f.type != OCPP_CALLRESULT || !json_is_object(f.payload)) {
            abort();
        }
        ocpp_frame_clear(&f);
    }
    return 0;
}
