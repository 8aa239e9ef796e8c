/* OCPP 2.0.1 CP->CS messages that carry state: what each stores (the answers are in
 * ocpp_answers.c). Runs on the writer thread, inside its transaction. */
#include "gateway/ocpp_answers.h"
#include "gateway/ocpp_cs.h"
#include "db/ocpp_state.h"

#include <string.h>

static int boot(struct db *db, struct gw_call *k)
{
    const json_t *cs = json_object_get(k->req, "chargingStation");
    if (k->boot_status && !strcmp(k->boot_status, "Rejected"))
        return 0; /* only the last contact */
    /* Pending: the information, but not marked booted */
    int pending = k->boot_status && !strcmp(k->boot_status, "Pending");
    return db_ocpp_boot(db, k->equipment_id, gw_json_str(cs, "vendorName"),
                        gw_json_str(cs, "model"), gw_json_str(cs, "serialNumber"),
                        gw_json_str(cs, "firmwareVersion"), gw_json_str(k->req, "reason"),
                        pending ? 0 : k->at);
}

static int status(struct db *db, struct gw_call *k)
{
    const char *st = gw_json_str(k->req, "connectorStatus");
    return db_ocpp_connector_status(db, k->equipment_id, gw_json_int(k->req, "evseId", 0),
                                    gw_json_int(k->req, "connectorId", 0), st,
                                    gw_tcec_status(GW_OCPP201, st), NULL, k->at);
}

/* TransactionEvent: Started opens the transaction (a retried Started finds it again); Updated
 * and Ended open it too when its Started never arrived, so no event is lost; meter values
 * move its readings; Ended closes it. The charging state refines the EVSE's T/CEC status. */
static int tx_event(struct db *db, struct gw_call *k)
{
    const json_t *r = k->req, *info = json_object_get(r, "transactionInfo");
    const json_t *evse = json_object_get(r, "evse");
    const char *ref = gw_json_str(info, "transactionId");
    const char *type = gw_json_str(r, "eventType");
    const char *id_tag = gw_json_str(json_object_get(r, "idToken"), "idToken");
    int64_t at = gw_json_time(r, "timestamp", k->at);
    int64_t evse_id = gw_json_int(evse, "id", 0), tx_evse = 0;
    int64_t row = 0;
    int rc = db_ocpp_tx_find(db, k->equipment_id, ref, &row, &tx_evse);
    if (rc == DB_OK && !evse)
        evse_id = tx_evse; /* the EVSE is sent once per transaction (E01): remembered */
    if (rc == DB_NOTFOUND)
        rc = db_ocpp_tx_start(db, k->equipment_id, evse_id, ref, id_tag, at, -1, &row);
    else if (rc == DB_OK && id_tag)
        rc = db_ocpp_tx_id_tag(db, row, id_tag, at);
    if (rc != 0)
        return rc;
    json_t *mv = json_object_get(r, "meterValue");
    if (mv && (rc = gw_store_meter_values(db, k, evse_id, row, mv)) != 0)
        return rc;
    int tcec = gw_tcec_charging_state(gw_json_str(info, "chargingState"));
    if (evse_id && tcec >= 0 &&
        (rc = db_ocpp_connector_charging(db, k->equipment_id, evse_id, tcec, k->at)) != 0)
        return rc;
    if (type && !strcmp(type, "Ended")) {
        rc = db_ocpp_tx_stop(db, k->equipment_id, row, at, -1, gw_json_str(info, "stoppedReason"));
        if (rc == DB_NOTFOUND)
            rc = 0; /* already ended: a retry */
    }
    return rc;
}

static int meter_values(struct db *db, struct gw_call *k)
{
    return gw_store_meter_values(db, k, gw_json_int(k->req, "evseId", 0), 0,
                                 json_object_get(k->req, "meterValue"));
}

gw_store_fn gw_ocpp201_store(const char *action)
{
    static const struct {
        const char *action;
        gw_store_fn fn;
    } t[] = {
        {"BootNotification", boot},
        {"StatusNotification", status},
        {"TransactionEvent", tx_event},
        {"MeterValues", meter_values},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(action, t[i].action))
            return t[i].fn;
    return NULL;
}
