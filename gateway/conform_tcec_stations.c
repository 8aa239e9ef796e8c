/* Plan tcec102-platform, the checks of the platform's stations (protocol/plans_tcec102.c gives
 * each check's exact specification): query_stations_info's paging and data dictionary, the
 * stations against what is registered in evgate (db/tcec_runs.h), query_station_status and
 * query_station_stats for those registered stations. The calls are conform_tcec.c's. */
#include "gateway/conform_tcec_private.h"
#include "common/thread.h"
#include "db/tcec_runs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- stations.paging, stations.dictionary --------------------------------------------------- */

/* Records the first paging rule broken into `first` (the rest are not kept). */
__attribute__((format(printf, 2, 3))) static void broken(char first[TCEC_MSG_MAX], const char *fmt,
                                                         ...)
{
    if (first[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first, TCEC_MSG_MAX, fmt, ap);
    va_end(ap);
}

enum cf_verdict cf_tcec_paging(struct cf_run *r, struct cf_tcec *s)
{
    if (!s->token[0])
        return cf_skip(r, "%s", cf_tcec_no_token());
    cf_tcec_free_pages(s);
    s->pages_read = false;
    s->pages = json_array();
    s->stations = json_array();
    json_t *ids = json_object(); /* StationID -> the page it was on, for "once" */
    if (!s->pages || !s->stations || !ids) {
        json_decref(ids);
        return cf_error(r, "out of memory");
    }
    char first[TCEC_MSG_MAX] = "";
    json_int_t count = 1, items = 0, total = 0;
    enum cf_verdict v = CF_PASS;
    for (json_int_t page = 1; page <= count; page++) {
        if (page > CF_TCEC_PAGES_MAX) {
            /* the rest unread: not judged against the registered stations either */
            v = cf_fail(r,
                        "query_stations_info with PageSize 2: PageCount %lld, more than the %d "
                        "pages a run reads",
                        (long long)count, CF_TCEC_PAGES_MAX);
            goto out;
        }
        if (thread_now_ms() >= cf_deadline_ms(r)) {
            v = cf_fail(r,
                        "only %lld of %lld pages of query_stations_info were read within the "
                        "check's time",
                        (long long)page - 1, (long long)count);
            goto out;
        }
        char where[32];
        snprintf(where, sizeof where, "page %lld", (long long)page);
        json_t *req = json_pack("{s:I, s:i}", "PageNo", page, "PageSize", 2);
        struct gw_tcec_call c = {.interface = "query_stations_info", .payload = req};
        v = cf_tcec_call_authed(r, s, &c, NULL);
        if (v == CF_PASS)
            v = cf_tcec_answered(r, &c, where);
        if (v != CF_PASS) {
            gw_tcec_call_clear(&c);
            json_decref(req);
            goto out;
        }
        const json_t *a = c.answer;
        json_array_append(s->pages, (json_t *)a);
        json_t *no = json_object_get(a, "PageNo"), *pc = json_object_get(a, "PageCount"),
               *is = json_object_get(a, "ItemSize"), *list = json_object_get(a, "StationInfos");
        if (!json_is_integer(no) || json_integer_value(no) != page)
            broken(first, "page %lld: PageNo %s instead of %lld echoed", (long long)page,
                   json_is_integer(no) ? "another number" : "missing", (long long)page);
        if (!json_is_integer(pc) || !json_is_integer(is)) {
            broken(first, "page %lld: PageCount or ItemSize missing or not an integer",
                   (long long)page);
            if (page == 1)
                count = 1;
        } else if (page == 1) {
            count = json_integer_value(pc);
            items = json_integer_value(is);
            json_int_t want = (items + 1) / 2;
            if (items > 0 ? count != want : (count != 0 && count != 1))
                broken(first, "page 1: PageCount %lld, but ItemSize %lld in pages of 2 makes %lld",
                       (long long)count, (long long)items, (long long)want);
        } else if (json_integer_value(pc) != count || json_integer_value(is) != items) {
            broken(first, "page %lld: PageCount %lld and ItemSize %lld, page 1 said %lld and %lld",
                   (long long)page, (long long)json_integer_value(pc),
                   (long long)json_integer_value(is), (long long)count, (long long)items);
        }
        if (!json_is_array(list)) {
            broken(first, "page %lld: StationInfos missing or not an array", (long long)page);
        } else {
            if (json_array_size(list) > 2)
                broken(first, "page %lld: %zu stations, more than PageSize 2", (long long)page,
                       json_array_size(list));
            size_t i;
            json_t *st;
            json_array_foreach(list, i, st)
            {
                const char *id = json_string_value(json_object_get(st, "StationID"));
                total++;
                json_array_append(s->stations, st);
                if (!id)
                    continue; /* the dictionary's to say */
                json_t *on = json_object_get(ids, id);
                if (on)
                    broken(first, "page %lld: StationID %s was already on page %lld",
                           (long long)page, id, (long long)json_integer_value(on));
                else
                    json_object_set_new(ids, id, json_integer(page));
            }
        }
        gw_tcec_call_clear(&c);
        json_decref(req);
    }
    if (total != items)
        broken(first, "the pages hold %lld stations, ItemSize says %lld", (long long)total,
               (long long)items);
    s->pages_read = true;
    if (first[0])
        v = cf_fail(r, "query_stations_info with PageSize 2: %s", first);
out:
    json_decref(ids);
    return v;
}

enum cf_verdict cf_tcec_dictionary(struct cf_run *r, struct cf_tcec *s)
{
    if (!s->pages_read)
        return cf_skip(r, "the pages of query_stations_info were not all read (stations.paging)");
    size_t i;
    json_t *page;
    json_array_foreach(s->pages, i, page)
    {
        struct tcec_error e = {0};
        if (tcec_validate("query_stations_info", TCEC_RESPONSE, page, &e) != 0)
            return cf_fail(r, "query_stations_info page %zu: %s", i + 1, e.msg);
    }
    return CF_PASS;
}

/* --- stations.registered ------------------------------------------------------------------- */

enum fkind { F_TEXT, F_NUM };

/* A T/CEC field and the record field registered for it; optional ones are compared only when
 * both sides have them. */
struct field {
    const char *wire, *rec;
    enum fkind kind;
    bool optional;
};

static const struct field station_fields[] = {
    {"StationName", "name", F_TEXT, false},
    {"AreaCode", "area_code", F_TEXT, false},
    {"Address", "address", F_TEXT, false},
    {"StationTel", "station_tel", F_TEXT, true},
    {"ServiceTel", "service_tel", F_TEXT, false},
    {"StationType", "station_type", F_NUM, false},
    {"ParkNums", "park_nums", F_NUM, false},
    {"StationLng", "lng", F_NUM, false},
    {"StationLat", "lat", F_NUM, false},
    {"Construction", "construction", F_NUM, false},
    {"SiteGuide", "site_guide", F_TEXT, true},
    {"BusineHours", "business_hours", F_TEXT, true},
    {"ElectricityFee", "electricity_fee", F_TEXT, true},
    {"ServiceFee", "service_fee", F_TEXT, true},
    {"ParkFee", "park_fee", F_TEXT, true},
    {"Payment", "payment", F_TEXT, true},
    {"SupportOrder", "support_order", F_NUM, true},
    {"Remark", "remark", F_TEXT, true},
    {NULL, NULL, F_TEXT, false},
};
static const struct field pile_fields[] = {
    {"EquipmentType", "equipment_type", F_NUM, false},
    {"Power", "power", F_NUM, false},
    {"ManufacturerID", "manufacturer_id", F_TEXT, true},
    {"ManufacturerName", "manufacturer_name", F_TEXT, true},
    {"EquipmentModel", "equipment_model", F_TEXT, true},
    {"ProductionDate", "production_date", F_TEXT, true},
    {"EquipmentLng", "lng", F_NUM, true},
    {"EquipmentLat", "lat", F_NUM, true},
    {NULL, NULL, F_TEXT, false},
};
static const struct field connector_fields[] = {
    {"ConnectorType", "connector_type", F_NUM, false},
    {"VoltageUpperLimits", "voltage_upper_limits", F_NUM, false},
    {"VoltageLowerLimits", "voltage_lower_limits", F_NUM, false},
    {"Current", "current", F_NUM, false},
    {"Power", "power", F_NUM, false},
    {"NationalStandard", "national_standard", F_NUM, false},
    {"ConnectorName", "connector_name", F_TEXT, true},
    {"ParkNo", "park_no", F_TEXT, true},
    {NULL, NULL, F_TEXT, false},
};

/* A value for a reason: JSON text, short. Caller frees. */
static char *shown(const json_t *v)
{
    return v ? json_dumps(v, TCEC_JSON_FLAGS | JSON_ENCODE_ANY) : strdup("absent");
}

/* The first field of `got` (T/CEC) that differs from `reg` (the record) into why; false when
 * none. */
static bool differs(const struct field *f, const json_t *got, const json_t *reg, char *why,
                    size_t len)
{
    for (; f->wire; f++) {
        json_t *g = json_object_get(got, f->wire), *w = json_object_get(reg, f->rec);
        if (json_is_null(g))
            g = NULL;
        if (json_is_null(w) || (json_is_string(w) && !json_string_length(w)))
            w = NULL;
        if (!w && (f->optional || !g))
            continue; /* nothing registered to compare with */
        if (!g && f->optional)
            continue;
        bool same;
        if (!g)
            same = false;
        else if (f->kind == F_NUM)
            same = json_is_number(g) && json_is_number(w) &&
                   fabs(json_number_value(g) - json_number_value(w)) < 1e-7;
        else
            same = json_is_string(g) && json_is_string(w) &&
                   strcmp(json_string_value(g), json_string_value(w)) == 0;
        if (same)
            continue;
        char *a = shown(g), *b = shown(w);
        snprintf(why, len, "%s %s, but %s registered", f->wire, a ? a : "?", b ? b : "?");
        free(a);
        free(b);
        return true;
    }
    return false;
}

/* The object of `arr` whose `key` is `id`, or NULL. */
static json_t *by_id(const json_t *arr, const char *key, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *v = json_string_value(json_object_get(o, key));
        if (v && strcmp(v, id) == 0)
            return o;
    }
    return NULL;
}

/* `arr`'s objects by their string member `key` (the first of each ID). New reference; NULL on
 * out of memory. */
static json_t *index_by(const json_t *arr, const char *key)
{
    json_t *idx = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *id = json_string_value(json_object_get(o, key));
        if (idx && id && !json_object_get(idx, id))
            json_object_set(idx, id, o);
    }
    return idx;
}

/* Compares the IDs of `got` (T/CEC objects keyed `wire`) and `reg` (records keyed `rec`): the
 * first registered one missing or unregistered one present into why. */
static bool ids_differ(const json_t *got, const char *wire, const json_t *reg, const char *rec,
                       const char *what, const char *where, char *why, size_t len)
{
    json_t *g = index_by(got, wire), *w = index_by(reg, rec);
    bool differ = false;
    size_t i;
    json_t *o;
    json_array_foreach(reg, i, o)
    {
        const char *id = json_string_value(json_object_get(o, rec));
        if (!differ && id && !json_object_get(g, id)) {
            snprintf(why, len, "%s %s is registered in evgate%s but was not returned", what, id,
                     where);
            differ = true;
        }
    }
    json_array_foreach(got, i, o)
    {
        const char *id = json_string_value(json_object_get(o, wire));
        if (!differ && id && !json_object_get(w, id)) {
            snprintf(why, len, "%s %s was returned%s but is not registered in evgate as one", what,
                     id, where);
            differ = true;
        }
    }
    json_decref(g);
    json_decref(w);
    return differ;
}

static bool station_differs(const json_t *got, const json_t *reg, char *why, size_t len)
{
    const char *sid = json_string_value(json_object_get(reg, "station_id"));
    char field[TCEC_MSG_MAX], where[96];
    if (differs(station_fields, got, json_object_get(reg, "data"), field, sizeof field)) {
        snprintf(why, len, "station %s: %s", sid, field);
        return true;
    }
    const json_t *gp = json_object_get(got, "EquipmentInfos"), *rp = json_object_get(reg, "piles");
    snprintf(where, sizeof where, " for station %s", sid);
    if (ids_differ(gp, "EquipmentID", rp, "equipment_id", "pile", where, why, len))
        return true;
    size_t i;
    json_t *p;
    json_array_foreach(rp, i, p)
    {
        const char *eid = json_string_value(json_object_get(p, "equipment_id"));
        const json_t *g = by_id(gp, "EquipmentID", eid);
        if (differs(pile_fields, g, json_object_get(p, "data"), field, sizeof field)) {
            snprintf(why, len, "station %s, pile %s: %s", sid, eid, field);
            return true;
        }
        const json_t *gc = json_object_get(g, "ConnectorInfos"),
                     *rc = json_object_get(p, "connectors");
        snprintf(where, sizeof where, " for pile %s", eid);
        if (ids_differ(gc, "ConnectorID", rc, "connector_id", "connector", where, why, len))
            return true;
        size_t k;
        json_t *c;
        json_array_foreach(rc, k, c)
        {
            const char *cid = json_string_value(json_object_get(c, "connector_id"));
            if (differs(connector_fields, by_id(gc, "ConnectorID", cid), json_object_get(c, "data"),
                        field, sizeof field)) {
                snprintf(why, len, "station %s, pile %s, connector %s: %s", sid, eid, cid, field);
                return true;
            }
        }
    }
    return false;
}

/* The platform's registered stations (db/tcec_runs.h) into *out ([] when none); a verdict other
 * than CF_PASS when they cannot be read. */
static enum cf_verdict read_registered(struct cf_run *r, json_t **out)
{
    int rc = db_tcec_run_stations(cf_db(r), cf_detection_id(r), out);
    if (rc == DB_CONFLICT)
        return cf_error(r,
                        "the platform has more than %d registered stations, %d piles or %d "
                        "connectors: more than a run compares",
                        DB_TCEC_RUN_STATIONS_MAX, DB_TCEC_RUN_PILES_MAX,
                        DB_TCEC_RUN_CONNECTORS_MAX);
    if (rc != DB_OK)
        return cf_error(r, "the registered stations could not be read (database error %d)", rc);
    return CF_PASS;
}

/* The stations status.query and stats.query ask for, into *out: the registered ones, or, for a
 * platform detected before any of its stations is accessed in evgate, those it returned
 * (s->own). A verdict other than CF_PASS when there are none or they cannot be read. */
static enum cf_verdict registered(struct cf_run *r, struct cf_tcec *s, json_t **out)
{
    enum cf_verdict v = read_registered(r, out);
    if (v != CF_PASS || json_array_size(*out) > 0)
        return v;
    json_decref(*out);
    *out = NULL;
    if (s->own) {
        *out = json_incref(s->own);
        return CF_PASS;
    }
    return cf_skip(r,
                   "no accessed station of OperatorID %s or of the operators it reports for is "
                   "registered in evgate, and query_stations_info returned none",
                   cf_target(r));
}

/* The stations of query_stations_info in db_tcec_run_stations' shape: [{station_id, piles:
 * [{equipment_id, connectors: [{connector_id}]}]}]. */
static json_t *own_stations(const json_t *stations)
{
    json_t *out = json_array();
    size_t i, k, m;
    json_t *st, *eq, *con;
    json_array_foreach(stations, i, st)
    {
        json_t *piles = json_array();
        json_array_foreach(json_object_get(st, "EquipmentInfos"), k, eq)
        {
            json_t *cons = json_array();
            json_array_foreach(json_object_get(eq, "ConnectorInfos"), m, con)
            {
                json_array_append_new(
                    cons, json_pack("{s:O?}", "connector_id", json_object_get(con, "ConnectorID")));
            }
            json_array_append_new(piles, json_pack("{s:O?, s:o}", "equipment_id",
                                                   json_object_get(eq, "EquipmentID"), "connectors",
                                                   cons));
        }
        json_array_append_new(out, json_pack("{s:O?, s:o}", "station_id",
                                             json_object_get(st, "StationID"), "piles", piles));
    }
    return out;
}

enum cf_verdict cf_tcec_registered(struct cf_run *r, struct cf_tcec *s)
{
    enum cf_verdict v;
    json_t *reg = NULL;
    char why[TCEC_MSG_MAX * 2];
    if (!s->pages_read)
        v = cf_skip(r, "the pages of query_stations_info were not all read (stations.paging)");
    else if (!cf_passed(r, "stations.dictionary"))
        v = cf_skip(r, "the stations do not follow the data dictionary (stations.dictionary): "
                       "compared only when they do");
    else if ((v = read_registered(r, &reg)) != CF_PASS)
        ;
    else if (json_array_size(reg) == 0) {
        /* a platform is detected before its stations are accessed: nothing to compare yet */
        size_t n = json_array_size(s->stations);
        json_decref(s->own);
        s->own = n ? own_stations(s->stations) : NULL;
        v = cf_pass_note(r,
                         "no station of OperatorID %s is registered in evgate yet (a platform is "
                         "detected before its stations are accessed): the %zu station(s) it "
                         "returned were checked against the data dictionary only, and are the "
                         "ones status.query and stats.query ask for",
                         cf_target(r), n);
    } else if (ids_differ(s->stations, "StationID", reg, "station_id", "station",
                          " by query_stations_info", why, sizeof why))
        v = cf_fail(r, "%s", why);
    else {
        json_t *idx = index_by(s->stations, "StationID");
        size_t i;
        json_t *st;
        json_array_foreach(reg, i, st)
        {
            const json_t *got =
                json_object_get(idx, json_string_value(json_object_get(st, "station_id")));
            if (station_differs(got, st, why, sizeof why)) {
                v = cf_fail(r, "%s", why);
                break;
            }
        }
        json_decref(idx);
    }
    json_decref(reg);
    cf_tcec_free_pages(s);
    return v;
}

/* --- status.query, stats.query --------------------------------------------------------------- */

enum cf_verdict cf_tcec_status(struct cf_run *r, struct cf_tcec *s)
{
    cf_tcec_free_pages(s); /* when stations.registered did not run */
    if (!s->token[0])
        return cf_skip(r, "%s", cf_tcec_no_token());
    json_t *reg = NULL;
    enum cf_verdict v = registered(r, s, &reg);
    if (v != CF_PASS)
        return v;
    size_t n = json_array_size(reg);
    for (size_t i = 0; i < n && v == CF_PASS; i += CF_TCEC_STATUS_BATCH) {
        json_t *ids = json_array();
        for (size_t k = i; k < i + CF_TCEC_STATUS_BATCH && k < n; k++)
            json_array_append(ids, json_object_get(json_array_get(reg, k), "station_id"));
        json_t *req = json_pack("{s:o}", "StationIDs", ids);
        struct gw_tcec_call c = {.interface = "query_station_status", .payload = req};
        char where[64];
        snprintf(where, sizeof where, "(stations %zu to %zu)", i + 1,
                 i + CF_TCEC_STATUS_BATCH < n ? i + CF_TCEC_STATUS_BATCH : n);
        v = cf_tcec_call_authed(r, s, &c, NULL);
        if (v == CF_PASS)
            v = cf_tcec_answered(r, &c, where);
        const json_t *a = c.answer, *infos = json_object_get(a, "StationStatusInfos");
        if (v != CF_PASS)
            ;
        else if (c.rules.rule != TCEC_R_NONE)
            v = cf_fail(r, "query_station_status %s: %s", where, c.rules.msg);
        else if (json_integer_value(json_object_get(a, "Total")) !=
                 (json_int_t)json_array_size(infos))
            v = cf_fail(r, "query_station_status %s: Total %lld but %zu StationStatusInfos", where,
                        (long long)json_integer_value(json_object_get(a, "Total")),
                        json_array_size(infos));
        for (size_t k = i; v == CF_PASS && k < i + CF_TCEC_STATUS_BATCH && k < n; k++) {
            const json_t *st = json_array_get(reg, k);
            const char *sid = json_string_value(json_object_get(st, "station_id"));
            const json_t *got = by_id(infos, "StationID", sid);
            if (!got) {
                v = cf_fail(r, "query_station_status: no StationStatusInfo for station %s", sid);
                break;
            }
            const json_t *cs = json_object_get(got, "ConnectorStatusInfos");
            size_t p, q;
            json_t *pile, *con;
            json_array_foreach(json_object_get(st, "piles"), p, pile)
            {
                json_array_foreach(json_object_get(pile, "connectors"), q, con)
                {
                    const char *cid = json_string_value(json_object_get(con, "connector_id"));
                    if (v == CF_PASS && !by_id(cs, "ConnectorID", cid))
                        v = cf_fail(r,
                                    "query_station_status: station %s has no status for its "
                                    "registered connector %s (pile %s)",
                                    sid, cid,
                                    json_string_value(json_object_get(pile, "equipment_id")));
                }
            }
        }
        gw_tcec_call_clear(&c);
        json_decref(req);
    }
    json_decref(reg);
    return v;
}

/* Every pile and connector of a StationStatsInfo is a registered one of station `st`. */
static bool stats_differ(const json_t *stats, const json_t *st, char *why, size_t len)
{
    size_t i, k;
    json_t *e, *c;
    json_array_foreach(json_object_get(stats, "EquipmentStatsInfos"), i, e)
    {
        const char *eid = json_string_value(json_object_get(e, "EquipmentID"));
        const json_t *pile = by_id(json_object_get(st, "piles"), "equipment_id", eid ? eid : "");
        if (!pile) {
            snprintf(why, len,
                     "EquipmentStatsInfos[%zu].EquipmentID %s is not a registered pile "
                     "of the station",
                     i, eid ? eid : "(missing)");
            return true;
        }
        json_array_foreach(json_object_get(e, "ConnectorStatsInfos"), k, c)
        {
            const char *cid = json_string_value(json_object_get(c, "ConnectorID"));
            if (!by_id(json_object_get(pile, "connectors"), "connector_id", cid ? cid : "")) {
                snprintf(why, len,
                         "EquipmentStatsInfos[%zu].ConnectorStatsInfos[%zu].ConnectorID %s is not "
                         "a registered connector of pile %s",
                         i, k, cid ? cid : "(missing)", eid);
                return true;
            }
        }
    }
    return false;
}

enum cf_verdict cf_tcec_stats(struct cf_run *r, struct cf_tcec *s)
{
    if (!s->token[0])
        return cf_skip(r, "%s", cf_tcec_no_token());
    json_t *reg = NULL;
    enum cf_verdict v = registered(r, s, &reg);
    if (v != CF_PASS)
        return v;
    char day[16];
    tcec_time_text((long long)time(NULL) - 86400, TCEC_TIME_DATE, day, sizeof day);
    size_t i;
    json_t *st;
    json_array_foreach(reg, i, st)
    {
        const char *sid = json_string_value(json_object_get(st, "station_id"));
        char where[64], why[TCEC_MSG_MAX];
        if (thread_now_ms() >= cf_deadline_ms(r)) {
            v = cf_fail(r, "only %zu of %zu stations were asked within the check's time", i,
                        json_array_size(reg));
            break;
        }
        snprintf(where, sizeof where, "for station %s", sid);
        json_t *req =
            json_pack("{s:s, s:s, s:s}", "StationID", sid, "StartTime", day, "EndTime", day);
        struct gw_tcec_call c = {.interface = "query_station_stats", .payload = req};
        v = cf_tcec_call_authed(r, s, &c, NULL);
        if (v == CF_PASS)
            v = cf_tcec_answered(r, &c, where);
        const json_t *stats = json_object_get(c.answer, "StationStats");
        const char *rid = json_string_value(json_object_get(stats, "StationID")),
                   *rs = json_string_value(json_object_get(stats, "StartTime")),
                   *re = json_string_value(json_object_get(stats, "EndTime"));
        if (v != CF_PASS)
            ;
        else if (c.rules.rule != TCEC_R_NONE)
            v = cf_fail(r, "query_station_stats %s: %s", where, c.rules.msg);
        else if (!rid || strcmp(rid, sid) != 0)
            v = cf_fail(r, "query_station_stats %s: StationStats.StationID %s", where,
                        rid ? rid : "missing");
        else if (!rs || !re || strcmp(rs, day) != 0 || strcmp(re, day) != 0)
            v = cf_fail(r,
                        "query_station_stats %s: StartTime %s and EndTime %s instead of the "
                        "%s asked",
                        where, rs ? rs : "missing", re ? re : "missing", day);
        else if (stats_differ(stats, st, why, sizeof why))
            v = cf_fail(r, "query_station_stats %s: %s", where, why);
        gw_tcec_call_clear(&c);
        json_decref(req);
        if (v != CF_PASS)
            break;
    }
    json_decref(reg);
    return v;
}
