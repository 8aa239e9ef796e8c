/* Helpers shared by the station, pile, export and access-application handlers. */
#ifndef EVGATE_MGMT_RECORDS_API_H
#define EVGATE_MGMT_RECORDS_API_H

#include "db/records.h"
#include "mgmt/http.h"

/* Reads the list filters of docs/api-records.md from the query into *f (strings borrowed from
 * the request); operators are limited to their own records. Bad values go to `details`. */
void records_filter(struct mgmt_req *req, struct db_record_filter *f, json_t *details);

/* Adds `area_name` to a station view (or to each of an array of them). Returns `v`. */
json_t *records_area_names(json_t *v);

/* 1 when the caller may see records of `account_id`. */
int records_visible(struct mgmt_req *req, int64_t account_id);

/* Answers 409 when a record's status does not allow editing. Returns -1 then, else 0. */
int records_editable(struct mgmt_resp *resp, const char *what, const char *status);

/* Reads the JSON body of a PUT of record `r` (a `what` keyed by `key_field`): the body may
 * repeat the key but not change it (422 `immutable`). Returns the body with the key set
 * (caller owns) or NULL after answering. */
json_t *records_put_body(struct mgmt_req *req, struct mgmt_resp *resp,
                         const struct db_record_row *r, const char *key_field, const char *what);

/* Issues a new gateway password for pile `row`: fills password[33] and stores its salted
 * SHA-256. Returns 0 or -1. */
int records_new_pile_password(struct mgmt_req *req, int64_t row, char password[33]);

/* A pile_commands object (db_command_get) as the API shows it: its own times as ISO text, the
 * payload and the pile's answer untouched. Takes `cmd` (stolen), returns it. */
json_t *commands_view(json_t *cmd);

#endif
