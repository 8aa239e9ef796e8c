/* Read-only views of T/CEC 102 interconnection for mgmt (docs/api-platforms.md): the operator
 * platforms (live credentials) with their last contacts and counts, refusals by reason, and
 * pages of the exchange log that db/tcec.c writes. No secret column is ever read here.
 *
 * An exchange "failed" when it has a reason, no Ret, or a Ret other than 0; a failure without
 * a reason counts under the reason "ret". Strings passed in are borrowed; `since` is the start
 * of "today" as the caller defines it (epoch seconds). */
#ifndef EVGATE_DB_TCEC_VIEW_H
#define EVGATE_DB_TCEC_VIEW_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* One page of platforms in OperatorID order: every live credential set (`account_id` 0) or
 * those of one operator account. `q` (NULL = any) matches part of the OperatorID, company or
 * platform name. Each item is {operator_id, detection_id, detection_status, account_id,
 * username, company_name, platform_name, base_url, issued_at, last_in_at, last_out_at,
 * exchanges_today, refused_in_today, failed_out_today} (times epoch seconds or null). On DB_OK
 * the caller owns *items. */
int db_tcec_view_platforms(struct db *db, int64_t account_id, const char *q, int64_t since,
                           int64_t page, int64_t page_size, json_t **items, int64_t *total);

/* The platform with live credentials `operator_id` as one item of the list above, plus
 * last_in and last_out (the newest exchange of each direction as {id, interface, peer, at,
 * ret, msg, reason, duration_ms}, or null) and totals over the kept log {in, out, refused_in,
 * failed_out}. Caller owns; NULL with *rc DB_NOTFOUND when there are no such credentials, or
 * another error. */
json_t *db_tcec_view_platform(struct db *db, const char *operator_id, int64_t since, int *rc);

/* Failed exchanges of `operator_id` counted by reason over the kept log, as {in: [...],
 * out: [...]}, each [{reason, count, today, last_at}] with the most frequent first. Caller
 * owns; NULL on error. */
json_t *db_tcec_view_reasons(struct db *db, const char *operator_id, int64_t since);

/* Filters of a page of exchanges; NULL / 0 = any. */
struct db_tcec_view_filter {
    const char *direction; /* "in" | "out" */
    const char *interface;
    int has_ret;
    int ret;
    const char *reason; /* as counted by db_tcec_view_reasons (a failure's reason) */
    int failed_only;
};

/* One page of the exchanges of `operator_id`, newest first: items {id, direction, interface,
 * peer, at, ret, msg, reason, failed, duration_ms, request, response} with request and response
 * the stored (redacted) texts or null. On DB_OK the caller owns *items. */
int db_tcec_view_exchanges(struct db *db, const char *operator_id,
                           const struct db_tcec_view_filter *f, int64_t page, int64_t page_size,
                           json_t **items, int64_t *total);

#endif
