/* The account object of the API (docs/api-accounts.md), shared by /me and the admin views. */
#ifndef EVGATE_MGMT_ACCOUNT_VIEW_H
#define EVGATE_MGMT_ACCOUNT_VIEW_H

#include "mgmt/http.h"

/* The account's API object with ISO times and the licence's download URL; caller owns; NULL
 * when there is no such account. */
json_t *account_view(struct mgmt_req *req, int64_t id);

/* Answers `status` with account `id` (404 when missing); with `with_csrf` the caller's
 * session CSRF token is added as `csrf_token`. */
void account_view_answer(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status, int64_t id,
                         int with_csrf);

#endif
