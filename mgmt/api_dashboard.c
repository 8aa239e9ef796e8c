/* /api/v1/admin/dashboard: the platform at a glance for admins (db/dashboard.h), the home page
 * of the web UI's admins. */
#include "common/log.h"
#include "db/dashboard.h"
#include "mgmt/router.h"

#include <stdint.h>
#include <time.h>

/* "Today" is the day in China Standard Time (UTC+8, no daylight saving; Asia/Shanghai), where
 * the platform and its operators are, as in the platform views (api_platforms.c). */
#define DAY_OFFSET (8 * 3600)

static void dashboard(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t now = (int64_t)time(NULL);
    int64_t today_start = now - (now + DAY_OFFSET) % 86400;
    json_t *v = NULL;
    if (db_dashboard(req->db, now, today_start, &v) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the dashboard", NULL);
        return;
    }
    mgmt_resp_json(resp, 200, mgmt_iso_times(v));
}

const struct mgmt_route mgmt_routes_dashboard[] = {
    {"GET", "/api/v1/admin/dashboard", ACCESS_ADMIN, dashboard},
    {NULL, NULL, ACCESS_ANON, NULL},
};
