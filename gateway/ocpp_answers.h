/* The central system's answers to the CALLs a pile sends, as pure functions: which actions of
 * each version evgate receives, the CALLRESULT payload of each, the T/CEC connector status of
 * each OCPP status, and OCPP's date-time text. No lws, no database: unit-tested on its own
 * (tests/unit/test_ocpp_answers.c proves every answer valid against the official schemas). */
#ifndef EVGATE_GW_OCPP_ANSWERS_H
#define EVGATE_GW_OCPP_ANSWERS_H

#include "gateway/ocpp.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* What the answer depends on besides the request. */
struct gw_answer_ctx {
    int64_t now;             /* currentTime, epoch seconds */
    long long interval;      /* BootNotification's heartbeat interval, seconds */
    int64_t transaction_id;  /* 1.6 StartTransaction: the new row's id */
    const char *boot_status; /* BootNotification: "Accepted" (also when NULL), "Pending",
                              * "Rejected" */
};

/* Whether `action` is one a pile sends to the central system in `v` (and evgate answers). An
 * action of the version that is not (one the central system sends) is answered NotSupported. */
bool gw_ocpp_cs_receives(enum gw_ocpp_version v, const char *action);

/* The CP->CS actions of `v`: names[i] for i < count; static storage (tests, metrics). */
size_t gw_ocpp_cs_action_count(enum gw_ocpp_version v);
const char *gw_ocpp_cs_action_name(enum gw_ocpp_version v, size_t i);

/* The CP->CS action that a TriggerMessage (or 1.6 ExtendedTriggerMessage) `payload` of `v`
 * asks the pile to send: its requestedMessage as an action name of gw_ocpp_cs_action_name()
 * (static storage), e.g. 2.0.1 "SignChargingStationCertificate" -> "SignCertificate", 1.6
 * ExtendedTriggerMessage "FirmwareStatusNotification" -> "SignedFirmwareStatusNotification".
 * NULL when `action` is no trigger or the value names nothing the pile sends. */
const char *gw_ocpp_trigger_action(enum gw_ocpp_version v, const char *action,
                                   const json_t *payload);

/* The CALLRESULT payload answering `req` (a valid request) of `action` in `v`. New reference,
 * caller decrefs; NULL when the action is not one the central system receives or out of
 * memory. */
json_t *gw_ocpp_answer(enum gw_ocpp_version v, const char *action, const json_t *req,
                       const struct gw_answer_ctx *ctx);

/* T/CEC 102 ConnectorStatus codes. */
enum gw_tcec_status {
    GW_TCEC_OFFLINE = 0,  /* 离网 */
    GW_TCEC_IDLE = 1,     /* 空闲 */
    GW_TCEC_OCCUPIED = 2, /* 占用(未充电) */
    GW_TCEC_CHARGING = 3, /* 占用(充电中) */
    GW_TCEC_RESERVED = 4, /* 占用(预约锁定) */
    GW_TCEC_FAULT = 255,  /* 故障 */
};

/* The T/CEC code of a 1.6 ChargePointStatus or a 2.0.1 ConnectorStatusEnumType (see the table
 * in ocpp_answers.c); GW_TCEC_FAULT for anything else. */
int gw_tcec_status(enum gw_ocpp_version v, const char *status);
/* The T/CEC code a 2.0.1 ChargingStateEnumType gives an occupied connector; -1 when it says
 * nothing about the connector (Idle, unknown). */
int gw_tcec_charging_state(const char *charging_state);

/* Parses an RFC 3339 date-time ("2026-11-25T22:08:29.123+08:00") into epoch seconds.
 * Returns 0, or -1 when it is not one. */
int gw_ocpp_time_parse(const char *s, int64_t *out);
/* Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 32 bytes; a shorter one
 * gets the text cut). Thread-safe. */
void gw_ocpp_time_format(int64_t t, char *buf, size_t len);

#endif
