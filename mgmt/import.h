/* Importing stations and piles from an uploaded xlsx into an access application: the whole
 * file is validated first, then staged in one transaction, or nothing is. */
#ifndef EVGATE_MGMT_IMPORT_H
#define EVGATE_MGMT_IMPORT_H

#include "mgmt/http.h"

#define IMPORT_MAX_PROBLEMS 1000

enum import_kind { IMPORT_STATIONS, IMPORT_PILES };

/* Validates the xlsx at `path` for application `app_id` of the caller and stages it.
 * Returns 0 with *staged records; 1 when the file has problems (appended to `problems` as
 * {sheet, row, column, field, value, code, reason, suggestion}; nothing staged; *truncated set
 * when more than IMPORT_MAX_PROBLEMS were found); -1 on an internal error. */
int import_file(struct mgmt_req *req, enum import_kind kind, int64_t app_id, const char *path,
                json_t *problems, int *truncated, int64_t *staged);

#endif
