/* Where every OCPP-J text message from a pile arrives (gw_ocpp_on_frame). For now it answers
 * each CALL with a CALLERROR NotImplemented; the validator (protocol/ocpp) and the handlers of
 * the central-system behaviour are wired in here next. */
#include "gateway/ocpp.h"
#include "common/log.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OCPP-J message types. */
#define OCPP_CALL      2
#define OCPP_CALLERROR 4

/* Sends [4, id, code, description, {}]; logs when it cannot be queued. */
static void send_callerror(struct gw_ocpp_conn *c, const char *id, const char *code,
                           const char *description)
{
    json_t *msg = json_pack("[i, s, s, s, {}]", OCPP_CALLERROR, id, code, description);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    int rc = text ? gw_ocpp_send(c, text, strlen(text)) : -1;
    if (rc != 0)
        log_warn("gateway", "ocpp_send_failed", "equipment_id=%s rc=%d", gw_ocpp_conn_id(c), rc);
    free(text);
}

void gw_ocpp_on_frame(struct gw_ocpp_conn *c, const char *text, size_t len)
{
    json_t *msg = json_loadb(text, len, 0, NULL);
    json_t *type = json_array_get(msg, 0), *id = json_array_get(msg, 1);
    json_t *action = json_array_get(msg, 2);
    if (json_is_integer(type) && json_integer_value(type) == OCPP_CALL && json_is_string(id) &&
        json_is_string(action)) {
        char description[128];
        snprintf(description, sizeof description, "%.64s is not implemented yet",
                 json_string_value(action));
        send_callerror(c, json_string_value(id), "NotImplemented", description);
    } else {
        /* CALLRESULTs, CALLERRORs and frames that are not OCPP-J: the validator's job next. */
        log_debug("gateway", "ocpp_frame_ignored", "equipment_id=%s bytes=%zu", gw_ocpp_conn_id(c),
                  len);
    }
    json_decref(msg);
}
