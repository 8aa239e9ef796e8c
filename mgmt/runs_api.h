/* Helpers shared by the handlers of conformance runs (api_runs.c: the plans, reading, lists,
 * cancel, confirm, reports; api_runs_create.c: POST /conformance-runs). The API is docs/api-runs.md. */
#ifndef EVGATE_MGMT_RUNS_API_H
#define EVGATE_MGMT_RUNS_API_H

#include "mgmt/http.h"

#include <jansson.h>
#include <stdint.h>

/* 1 when the caller is an admin (sees and acts on every run). */
int runs_is_admin(const struct mgmt_req *req);

/* Run `id` as GET /conformance-runs/{id} answers it for this caller (with its checks and frames, the plan's
 * titles and each check's plan entry added), times still epoch seconds; NULL after answering 404
 * (no such run, or not the caller's) or 500. Caller owns. */
json_t *runs_load(struct mgmt_req *req, struct mgmt_resp *resp, int64_t id);

/* Answers `status` `code` with one detail naming `field` (`field_code`, and the target's
 * `current` state when not NULL); `message` is both the error's and the detail's. */
void runs_field_error(struct mgmt_resp *resp, unsigned status, const char *code, const char *field,
                      const char *field_code, const char *current, const char *message);

/* POST /api/v1/runs (api_runs_create.c). */
void runs_create(struct mgmt_req *req, struct mgmt_resp *resp);

#endif
