/* Sampled meter values of both versions (MeterValues, StopTransaction's transactionData,
 * TransactionEvent's meterValue) into ocpp_meter_values, and the shared JSON readers. */
#include "gateway/ocpp_answers.h"
#include "gateway/ocpp_cs.h"
#include "db/ocpp_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENERGY_REGISTER "Energy.Active.Import.Register"

const char *gw_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int64_t gw_json_int(const json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? (int64_t)json_number_value(v) : dflt;
}

int64_t gw_json_time(const json_t *obj, const char *key, int64_t dflt)
{
    int64_t t;
    return gw_ocpp_time_parse(gw_json_str(obj, key), &t) == 0 ? t : dflt;
}

/* The value of one sampled value: 1.6 sends a string (a decimal, or signed data we skip),
 * 2.0.1 a number. Returns 0 and the value, or -1. */
static int sample_value(const json_t *sv, bool v201, double *out)
{
    json_t *v = json_object_get(sv, "value");
    if (v201) {
        if (!json_is_number(v))
            return -1;
        *out = json_number_value(v);
        return 0;
    }
    const char *fmt = gw_json_str(sv, "format");
    const char *s = json_string_value(v);
    if (!s || !*s || (fmt && strcmp(fmt, "Raw") != 0))
        return -1;
    char *end;
    *out = strtod(s, &end);
    return *end || !isfinite(*out) ? -1 : 0;
}

int gw_store_meter_values(struct db *db, struct gw_call *call, int64_t connector_id, int64_t tx_row,
                          const json_t *meter_values)
{
    bool v201 = call->version == GW_OCPP201;
    size_t i, j;
    json_t *mv, *sv;
    json_array_foreach(meter_values, i, mv)
    {
        int64_t at = gw_json_time(mv, "timestamp", call->at);
        json_array_foreach(json_object_get(mv, "sampledValue"), j, sv)
        {
            double value;
            if (sample_value(sv, v201, &value) < 0)
                continue;
            const char *measurand = gw_json_str(sv, "measurand");
            const char *unit;
            double scale = 1;
            if (v201) {
                json_t *uom = json_object_get(sv, "unitOfMeasure");
                unit = gw_json_str(uom, "unit");
                scale = pow(10, (double)gw_json_int(uom, "multiplier", 0));
            } else {
                unit = gw_json_str(sv, "unit");
            }
            struct db_ocpp_sample s = {
                .connector_id = connector_id,
                .transaction_row = tx_row,
                .sampled_at = at,
                .measurand = measurand ? measurand : ENERGY_REGISTER,
                .phase = gw_json_str(sv, "phase"),
                .unit = unit ? unit : "Wh", /* the schemas' default unit */
                .context = gw_json_str(sv, "context"),
                .value = value * scale,
            };
            int rc = db_ocpp_meter_add(db, call->equipment_id, &s);
            if (rc != 0)
                return rc;
            if (tx_row && !s.phase && !strcmp(s.measurand, ENERGY_REGISTER) &&
                (!strcmp(s.unit, "Wh") || !strcmp(s.unit, "kWh"))) {
                double wh = !strcmp(s.unit, "kWh") ? s.value * 1000 : s.value;
                if ((rc = db_ocpp_tx_meter(db, tx_row, wh, at)) != 0)
                    return rc;
            }
        }
    }
    if (call->meter_keep > 0)
        return db_ocpp_meter_prune(db, call->equipment_id, call->meter_keep);
    return 0;
}
