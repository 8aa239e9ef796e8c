/* The xlsx files of the records: templates to fill in and exports of the current query. */
#include "common/config.h"
#include "common/log.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"
#include "mgmt/xlsx_write.h"

#include <stdio.h>
#include <string.h>

#define EXPORT_MAX_ROWS 100000

/* `name` is ASCII for old clients; `utf8_name` (the guide's Chinese name) is sent as RFC 5987
 * filename* for the rest. */
static void send_xlsx(struct mgmt_resp *resp, unsigned char *buf, size_t len, const char *name,
                      const char *utf8_name)
{
    resp->status = 200;
    resp->content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    resp->body = (char *)buf;
    resp->body_len = len;
    char disp[400], enc[300];
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)utf8_name; *c && n + 4 < sizeof enc; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '.' || *c == '-' || *c == '_')
            enc[n++] = (char)*c;
        else
            n += (size_t)snprintf(enc + n, sizeof enc - n, "%%%02X", *c);
    }
    enc[n] = 0;
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"; filename*=UTF-8''%s", name, enc);
    mgmt_resp_header(resp, "Content-Disposition", disp);
    mgmt_resp_header(resp, "Cache-Control", "private, no-store");
}

static void template(struct mgmt_resp *resp, enum xlsxw_book which, const char *name,
                     const char *utf8_name)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    char err[256];
    if (xlsxw_template(which, &buf, &len, err, sizeof err) < 0) {
        log_error("mgmt", "template_failed", "error=%s", log_q(err));
        mgmt_resp_error(resp, 500, "internal", "could not write the template", NULL);
        return;
    }
    send_xlsx(resp, buf, len, name, utf8_name);
}

static void template_stations(struct mgmt_req *req, struct mgmt_resp *resp)
{
    template(resp, XLSXW_STATIONS, "stations-template.xlsx", "1.先导入-充电站信息.xlsx");
}

static void template_piles(struct mgmt_req *req, struct mgmt_resp *resp)
{
    template(resp, XLSXW_PILES, "piles-template.xlsx", "2.后导入-充电桩信息.xlsx");
}

static void export(struct mgmt_req *req, struct mgmt_resp *resp, enum xlsxw_book which)
{
    json_t *details = json_array();
    struct db_record_filter f;
    records_filter(req, &f, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    json_t *items = NULL;
    int64_t total = 0;
    int rc = which == XLSXW_STATIONS
                 ? db_station_list(req->db, &f, 1, EXPORT_MAX_ROWS, &items, &total)
                 : db_pile_list(req->db, &f, 1, EXPORT_MAX_ROWS, &items, &total);
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the records", NULL);
        return;
    }
    if (total > EXPORT_MAX_ROWS) {
        json_decref(items);
        mgmt_resp_error(resp, 413, "too_large",
                        "the query has more than 100000 records: narrow the filters", NULL);
        return;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    char err[256];
    rc = xlsxw_export(which, items, &buf, &len, err, sizeof err);
    json_decref(items);
    if (rc < 0) {
        log_error("mgmt", "export_failed", "error=%s", log_q(err));
        mgmt_resp_error(resp, 500, "internal", "could not write the export", NULL);
        return;
    }
    send_xlsx(resp, buf, len, which == XLSXW_STATIONS ? "stations.xlsx" : "piles.xlsx",
              which == XLSXW_STATIONS ? "充电站.xlsx" : "充电桩.xlsx");
}

static void export_stations(struct mgmt_req *req, struct mgmt_resp *resp)
{
    export(req, resp, XLSXW_STATIONS);
}

static void export_piles(struct mgmt_req *req, struct mgmt_resp *resp)
{
    export(req, resp, XLSXW_PILES);
}

const struct mgmt_route mgmt_routes_xlsx[] = {
    {"GET", "/api/v1/templates/stations.xlsx", ACCESS_ACTIVE, template_stations},
    {"GET", "/api/v1/templates/piles.xlsx", ACCESS_ACTIVE, template_piles},
    {"GET", "/api/v1/stations/export.xlsx", ACCESS_ACTIVE, export_stations},
    {"GET", "/api/v1/piles/export.xlsx", ACCESS_ACTIVE, export_piles},
    {NULL, NULL, ACCESS_ANON, NULL},
};
