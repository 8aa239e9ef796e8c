/* The xlsx files of the records: templates to fill in and exports of the current query. */
#include "common/config.h"
#include "common/log.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"
#include "mgmt/xlsx_write.h"

#include <stdio.h>
#include <string.h>

#define EXPORT_MAX_ROWS 100000

static void send_xlsx(struct mgmt_resp *resp, unsigned char *buf, size_t len, const char *name)
{
    resp->status = 200;
    resp->content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    resp->body = (char *)buf;
    resp->body_len = len;
    char disp[256];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    mgmt_resp_header(resp, "Content-Disposition", disp);
    mgmt_resp_header(resp, "Cache-Control", "private, no-store");
}

static void template(struct mgmt_resp *resp, enum xlsxw_book which, const char *name)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    char err[256];
    if (xlsxw_template(which, &buf, &len, err, sizeof err) < 0) {
        log_error("mgmt", "template_failed", "error=\"%s\"", err);
        mgmt_resp_error(resp, 500, "internal", "could not write the template", NULL);
        return;
    }
    send_xlsx(resp, buf, len, name);
}

static void template_stations(struct mgmt_req *req, struct mgmt_resp *resp)
{
    template(resp, XLSXW_STATIONS, "stations-template.xlsx");
}

static void template_piles(struct mgmt_req *req, struct mgmt_resp *resp)
{
    template(resp, XLSXW_PILES, "piles-template.xlsx");
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
        log_error("mgmt", "export_failed", "error=\"%s\"", err);
        mgmt_resp_error(resp, 500, "internal", "could not write the export", NULL);
        return;
    }
    send_xlsx(resp, buf, len, which == XLSXW_STATIONS ? "stations.xlsx" : "piles.xlsx");
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
