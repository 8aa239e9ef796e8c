/* Turning a JSON record (a station, a pile, a connector) into its canonical stored form with
 * the shared rules of protocol/records.h, naming each bad field by its JSON path. */
#ifndef EVGATE_MGMT_RECORD_FORM_H
#define EVGATE_MGMT_RECORD_FORM_H

#include "protocol/records.h"

#include <jansson.h>

/* Checks every column of `sheet` (except `skip_field`, may be NULL) in object `in` and returns
 * the canonical record as a new object (caller owns): integers and decimals as JSON numbers,
 * numeric enumeration codes as integers, other values as strings, absent optional values
 * omitted. Problems are appended to `details` as {field: prefix + name, code, message,
 * suggestion}. When `texts` is not NULL it receives a new array (caller owns) of the canonical
 * texts (or null) in column order, for record-level rules. */
json_t *record_from_json(enum rec_sheet sheet, const json_t *in, const char *prefix,
                         const char *skip_field, json_t *details, json_t **texts);

/* The JSON value of canonical text `canon` of column `col` (numbers as numbers, numeric
 * enumeration codes as integers, the rest as strings). New reference. */
json_t *record_typed(const struct rec_column *col, const char *canon);

/* Today's date as YYYY-MM-DD (local time), for "not in the future". */
void record_today(char out[11]);

/* Appends a problem as an API detail: {field, code, message, suggestion}. */
void record_detail(json_t *details, const char *field, const struct rec_problem *p);

#endif
