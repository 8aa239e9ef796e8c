/* OCPP 1.6 CP->CS messages that carry state: what each stores (the answers are in
 * ocpp_answers.c). Runs on the writer thread, inside its transaction. */
#include "gateway/ocpp_answers.h"
#include "gateway/ocpp_cs.h"
#include "db/ocpp_state.h"

#include <string.h>

static int boot(struct db *db, struct gw_call *k)
{
    const json_t *r = k->req;
    const char *serial = gw_json_str(r, "chargePointSerialNumber");
    if (!serial)
        serial = gw_json_str(r, "chargeBoxSerialNumber");
    if (k->boot_status && !strcmp(k->boot_status, "Rejected"))
        return 0; /* only the last contact */
    /* Pending: the information, but not marked booted */
    int pending = k->boot_status && !strcmp(k->boot_status, "Pending");
    return db_ocpp_boot(db, k->equipment_id, gw_json_str(r, "chargePointVendor"),
                        gw_json_str(r, "chargePointModel"), serial,
                        gw_json_str(r, "firmwareVersion"), NULL, pending ? 0 : k->at);
}

static int status(struct db *db, struct gw_call *k)
{
    const char *st = gw_json_str(k->req, "status");
    return db_ocpp_connector_status(db, k->equipment_id, gw_json_int(k->req, "connectorId", 0), 0,
                                    st, gw_tcec_status(GW_OCPP16, st),
                                    gw_json_str(k->req, "errorCode"), k->at);
}

static int start_tx(struct db *db, struct gw_call *k)
{
    const json_t *r = k->req;
    return db_ocpp_tx_start(db, k->equipment_id, gw_json_int(r, "connectorId", 0), NULL,
                            gw_json_str(r, "idTag"), gw_json_time(r, "timestamp", k->at),
                            (double)gw_json_int(r, "meterStart", -1), &k->tx_row);
}

static int stop_tx(struct db *db, struct gw_call *k)
{
    const json_t *r = k->req;
    int64_t row = gw_json_int(r, "transactionId", 0), connector = 0;
    if (db_ocpp_tx_of_pile(db, k->equipment_id, row, &connector) != 0)
        row = 0; /* not ours: answered all the same (the pile must not retry forever) */
    json_t *data = json_object_get(r, "transactionData");
    int rc = data ? gw_store_meter_values(db, k, connector, row, data) : 0;
    if (rc != 0 || !row)
        return rc;
    const char *reason = gw_json_str(r, "reason");
    rc = db_ocpp_tx_stop(db, k->equipment_id, row, gw_json_time(r, "timestamp", k->at),
                         (double)gw_json_int(r, "meterStop", -1),
                         reason ? reason : "Local" /* 1.6: absent means Local */);
    return rc == DB_NOTFOUND ? 0 : rc; /* already stopped: a retry */
}

static int meter_values(struct db *db, struct gw_call *k)
{
    const json_t *r = k->req;
    int64_t row = gw_json_int(r, "transactionId", 0);
    if (row && db_ocpp_tx_of_pile(db, k->equipment_id, row, NULL) != 0)
        row = 0;
    return gw_store_meter_values(db, k, gw_json_int(r, "connectorId", 0), row,
                                 json_object_get(r, "meterValue"));
}

gw_store_fn gw_ocpp16_store(const char *action)
{
    static const struct {
        const char *action;
        gw_store_fn fn;
    } t[] = {
        {"BootNotification", boot},     {"StatusNotification", status},
        {"StartTransaction", start_tx}, {"StopTransaction", stop_tx},
        {"MeterValues", meter_values},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(action, t[i].action))
            return t[i].fn;
    return NULL;
}
