/* evsim-platform's stations: generated from a prefix (IDs tests can predict) or loaded from a
 * {"StationInfos": [...]} file, every StationInfo checked with tcec_validate_object; the
 * connectors' live status and energy; the payloads built from them (status, stats, orders). */
#include "simulators/plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pthread_mutex_t plat_lock = PTHREAD_MUTEX_INITIALIZER;

/* Zhongshan (442000, a prefecture-level city without districts); coordinates GCJ-02 there. */
#define GEN_AREA "442000"
#define GEN_LNG  113.392582
#define GEN_LAT  22.517585

static json_t *gen_connector(const char *id, bool dc)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:i}", "ConnectorID", id, "ConnectorName",
                     dc ? "DC gun" : "AC gun", "ConnectorType", dc ? 4 : 3, "VoltageUpperLimits",
                     dc ? 750 : 220, "VoltageLowerLimits", dc ? 200 : 220, "Current", dc ? 125 : 32,
                     "Power", dc ? 60.0 : 7.0, "NationalStandard", 2);
}

static json_t *gen_station(const struct plat_opts *o, int s)
{
    char id[64], name[64], addr[80];
    snprintf(id, sizeof id, "%sS%d", o->id_prefix, s);
    snprintf(name, sizeof name, "模拟充电站 %d", s);
    snprintf(addr, sizeof addr, "中山市东区模拟路 %d 号", s);
    /* 6 decimals at most: whole millionths */
    double lng = (double)(113392582 + (s % 1000) * 37) / 1e6;
    double lat = (double)(22517585 + (s % 1000) * 29) / 1e6;
    json_t *eqs = json_array();
    for (int p = 1; p <= o->piles_per_station; p++) {
        char eid[80];
        bool dc = p % 2 == 1;
        snprintf(eid, sizeof eid, "%sE%d", id, p);
        json_t *cons = json_array();
        for (int c = 1; c <= o->connectors_per_pile; c++) {
            char cid[96];
            snprintf(cid, sizeof cid, "%sC%d", eid, c);
            json_array_append_new(cons, gen_connector(cid, dc));
        }
        json_array_append_new(eqs, json_pack("{s:s, s:s, s:i, s:o, s:f, s:s}", "EquipmentID", eid,
                                             "EquipmentModel", dc ? "EVSIM-DC60" : "EVSIM-AC7",
                                             "EquipmentType", dc ? 1 : 2, "ConnectorInfos", cons,
                                             "Power", dc ? 60.0 : 7.0, "EquipmentName",
                                             dc ? "DC pile" : "AC pile"));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:i, "
                     "s:s, s:i, s:o}",
                     "StationID", id, "OperatorID", o->operator_id, "EquipmentOwnerID",
                     o->operator_id, "StationName", name, "CountryCode", "CN", "AreaCode", GEN_AREA,
                     "Address", addr, "ServiceTel", "95598", "StationType", 1, "StationStatus", 50,
                     "ParkNums", 10, "StationLng", lng, "StationLat", lat, "Construction", 1,
                     "BusineHours", "00:00-24:00", "SupportOrder", 0, "EquipmentInfos", eqs);
}

static int load_file(const char *path, json_t **stations, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
        return -1;
    }
    json_t *arr = json_object_get(root, "StationInfos");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(err, errlen, "%s: not {\"StationInfos\": [...]} with at least one station", path);
        json_decref(root);
        return -1;
    }
    *stations = json_incref(arr);
    json_decref(root);
    return 0;
}

int plat_data_load(const struct plat_opts *o, struct plat_data *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (o->data_file) {
        if (load_file(o->data_file, &d->stations, err, errlen) < 0)
            return -1;
    } else {
        d->stations = json_array();
        for (int s = 1; s <= o->stations; s++)
            json_array_append_new(d->stations, gen_station(o, s));
    }
    size_t n = json_array_size(d->stations);
    if (n > PLAT_STATIONS_MAX) {
        snprintf(err, errlen, "more than %d stations", PLAT_STATIONS_MAX);
        goto fail;
    }
    d->updated = calloc(n ? n : 1, sizeof *d->updated);
    if (!d->updated)
        goto oom;
    time_t now = time(NULL);
    size_t i, total = 0;
    json_t *st;
    json_array_foreach(d->stations, i, st)
    {
        struct tcec_error e;
        if (tcec_validate_object("StationInfo", st, &e) < 0) {
            snprintf(err, errlen, "StationInfos[%zu].%s", i, e.msg);
            goto fail;
        }
        d->updated[i] = now;
        size_t j;
        json_t *eq;
        json_array_foreach(json_object_get(st, "EquipmentInfos"), j, eq) total +=
            json_array_size(json_object_get(eq, "ConnectorInfos"));
    }
    if (total > PLAT_ALL_CONNECTORS_MAX) {
        snprintf(err, errlen, "more than %d connectors", PLAT_ALL_CONNECTORS_MAX);
        goto fail;
    }
    d->connectors = calloc(total ? total : 1, sizeof *d->connectors);
    if (!d->connectors)
        goto oom;
    json_array_foreach(d->stations, i, st)
    {
        size_t j, k;
        json_t *eq, *con;
        json_array_foreach(json_object_get(st, "EquipmentInfos"), j, eq)
        {
            json_array_foreach(json_object_get(eq, "ConnectorInfos"), k, con)
            {
                struct plat_connector *c = &d->connectors[d->nconnectors];
                c->id = json_string_value(json_object_get(con, "ConnectorID"));
                c->pile_id = json_string_value(json_object_get(eq, "EquipmentID"));
                c->station = i;
                c->status = 1; /* idle */
                /* 10.0 .. 49.9 kWh a day, fixed per connector */
                c->base_tenth = 100 + (int64_t)((d->nconnectors * 37) % 400);
                d->nconnectors++;
            }
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    plat_data_free(d);
    return -1;
}

void plat_data_free(struct plat_data *d)
{
    json_decref(d->stations);
    free(d->updated);
    free(d->connectors);
    memset(d, 0, sizeof *d);
}

size_t plat_station_count(const struct plat_data *d)
{
    return json_array_size(d->stations);
}

long plat_station_find(const struct plat_data *d, const char *id)
{
    size_t i;
    json_t *st;
    if (!id)
        return -1;
    json_array_foreach(d->stations, i, st)
    {
        if (strcmp(json_string_value(json_object_get(st, "StationID")), id) == 0)
            return (long)i;
    }
    return -1;
}

json_t *plat_connector_status(const struct plat_data *d, size_t c)
{
    const struct plat_connector *k = &d->connectors[c];
    /* a parked car while occupied or charging; the lock is not simulated */
    int park = k->status == 2 || k->status == 3 ? 10 : 0;
    return json_pack("{s:s, s:i, s:i, s:i}", "ConnectorID", k->id, "Status", k->status,
                     "ParkStatus", park, "LockStatus", 0);
}

json_t *plat_station_status(const struct plat_data *d, size_t i)
{
    json_t *list = json_array();
    for (size_t c = 0; c < d->nconnectors; c++)
        if (d->connectors[c].station == i)
            json_array_append_new(list, plat_connector_status(d, c));
    json_t *st = json_array_get(d->stations, i);
    return json_pack("{s:O, s:o}", "StationID", json_object_get(st, "StationID"),
                     "ConnectorStatusInfos", list);
}

/* Days from 1970-01-01 of a valid yyyy-MM-dd (civil calendar, proleptic Gregorian). */
static long days_of(const char *s)
{
    int y = atoi(s), m = atoi(s + 5), dd = atoi(s + 8);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

json_t *plat_station_stats(const struct plat_data *d, size_t i, const char *start, const char *end)
{
    long days = days_of(end) - days_of(start) + 1;
    if (days < 0)
        days = 0;
    json_t *st = json_array_get(d->stations, i), *eqs = json_array();
    int64_t station_tenth = 0;
    size_t j;
    json_t *eq;
    /* tenths of kWh throughout, so the sums are exact with one decimal */
    json_array_foreach(json_object_get(st, "EquipmentInfos"), j, eq)
    {
        const char *eid = json_string_value(json_object_get(eq, "EquipmentID"));
        json_t *cons = json_array();
        int64_t eq_tenth = 0;
        for (size_t c = 0; c < d->nconnectors; c++) {
            const struct plat_connector *k = &d->connectors[c];
            if (k->station != i || strcmp(k->pile_id, eid) != 0)
                continue;
            int64_t t = k->base_tenth * days + k->orders_tenth;
            eq_tenth += t;
            json_array_append_new(cons, json_pack("{s:s, s:f}", "ConnectorID", k->id,
                                                  "ConnectorElectricity", (double)t / 10.0));
        }
        station_tenth += eq_tenth;
        json_array_append_new(eqs, json_pack("{s:s, s:f, s:o}", "EquipmentID", eid,
                                             "EquipmentElectricity", (double)eq_tenth / 10.0,
                                             "ConnectorStatsInfos", cons));
    }
    return json_pack("{s:O, s:s, s:s, s:f, s:o}", "StationID", json_object_get(st, "StationID"),
                     "StartTime", start, "EndTime", end, "StationElectricity",
                     (double)station_tenth / 10.0, "EquipmentStatsInfos", eqs);
}

/* The round robin of status changes and orders: deterministic, so a run is reproducible. */
static size_t next_status_connector, next_order_connector;

size_t plat_status_change(struct plat_data *d)
{
    /* idle -> occupied -> charging -> idle; now and then a fault, cleared on the next turn */
    static const int next[256] = {[0] = 1, [1] = 2, [2] = 3, [3] = 1, [4] = 1, [255] = 1};
    size_t c = next_status_connector++ % d->nconnectors;
    struct plat_connector *k = &d->connectors[c];
    int s = k->status < 256 ? next[k->status] : 1;
    if (s == 1 && k->status == 3 && (next_status_connector % 7) == 0)
        s = 255;
    k->status = s;
    return c;
}

json_t *plat_charge_order(struct plat_data *d, const char *operator_id)
{
    static unsigned seq;
    size_t c = next_order_connector++ % d->nconnectors;
    struct plat_connector *k = &d->connectors[c];
    time_t now = time(NULL), end = now - 60, start = end - 3600;
    char ts[TCEC_TIMESTAMP_LEN + 1], st[20], en[20], order[32];
    plat_timestamp(now, ts);
    plat_datetime(start, st);
    plat_datetime(end, en);
    /* OperatorID (9) + yyyyMMddHHmmss (14) + 4 digits = 27, the standard's length */
    snprintf(order, sizeof order, "%s%s%04u", operator_id, ts, ++seq % 10000);
    /* 10.0 .. 39.9 kWh; prices 0.8000 and 0.6000 yuan/kWh; money in cents, so that
     * TotalMoney is exactly the sum */
    int64_t tenth = 100 + (int64_t)((seq * 53) % 300);
    int64_t elec_cents = (tenth * 80 + 5) / 10, svc_cents = (tenth * 60 + 5) / 10;
    k->orders_tenth += tenth;
    json_t *detail =
        json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f}", "DetailStartTime", st, "DetailEndTime", en,
                  "ElecPrice", 0.8, "SevicePrice", 0.6, "DetailPower", (double)tenth / 10.0,
                  "DetailElecMoney", (double)elec_cents / 100.0, "DetailSeviceMoney",
                  (double)svc_cents / 100.0);
    return json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:i, s:i, s:[o]}", "StartChargeSeq",
                     order, "ConnectorID", k->id, "StartTime", st, "EndTime", en, "TotalPower",
                     (double)tenth / 10.0, "TotalElecMoney", (double)elec_cents / 100.0,
                     "TotalSeviceMoney", (double)svc_cents / 100.0, "TotalMoney",
                     (double)(elec_cents + svc_cents) / 100.0, "StopReason", 0, "SumPeriod", 1,
                     "ChargeDetails", detail);
}
