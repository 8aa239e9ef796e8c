/* Stations, piles and connectors (access applications: db/access.h; the gateway's view of the
 * piles: db/piles_gateway.h). A record's fields live in `data` (a JSON object of canonical
 * values); the columns queries filter on are copied beside it. Strings passed in are borrowed. */
#ifndef EVGATE_DB_RECORDS_H
#define EVGATE_DB_RECORDS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Filters of the record lists; zero / NULL members do not filter. */
struct db_record_filter {
    int64_t account_id;
    int64_t application_id;
    const char *area_prefix; /* area code prefix */
    const char *name;        /* substring of the station name */
    const char *station_id;
    const char *equipment_id;
    const char *status;
    const char *protocol;
    int64_t station_type;
    int64_t equipment_type;
    int online; /* piles: 0 any, 1 connected to the gateway now, 2 not connected */
};

struct db_record_row {
    int64_t row; /* the table's id */
    int64_t account_id;
    int64_t application_id; /* 0 when none */
    int64_t station_row;    /* piles only */
    char key[32];           /* station_id or equipment_id */
    char status[16];
};

/* Stations. db_station_find looks up `station_id` of `account_id` (0 = of any operator; then
 * DB_CONFLICT when two operators use it). */
int db_station_find(struct db *db, int64_t account_id, const char *station_id,
                    struct db_record_row *out);
int db_station_insert(struct db *db, int64_t account_id, int64_t application_id, const char *status,
                      const char *station_id, const char *name, const char *area_code,
                      int64_t station_type, const char *data, int64_t *row);
int db_station_update(struct db *db, int64_t row, const char *name, const char *area_code,
                      int64_t station_type, const char *data);
/* Deletes a station without piles; DB_CONFLICT when it has piles. */
int db_station_delete(struct db *db, int64_t row);
/* The station's data merged with its read-only fields; caller owns; NULL when missing. */
json_t *db_station_view(struct db *db, int64_t row);
int db_station_list(struct db *db, const struct db_record_filter *f, int64_t page,
                    int64_t page_size, json_t **items, int64_t *total);

/* One station of a list page, as read: the strings belong to the statement and are valid only
 * during the callback of db_station_list_rows; NULL columns are NULL (application_id 0). */
struct db_station_row {
    int64_t row;
    int64_t account_id;
    int64_t application_id;
    int64_t pile_count;
    int64_t created_at;
    int64_t updated_at;
    const char *data;
    const char *station_id;
    const char *status;
    const char *operator_id;
    const char *company_name;
};
/* The list of db_station_list, row by row: `fn` is called for each station of the page in
 * order (a nonzero return stops the list with DB_ERROR), *total is set as there. For callers
 * that render rows themselves (mgmt caches the rendered text of unchanged rows). */
int db_station_list_rows(struct db *db, const struct db_record_filter *f, int64_t page,
                         int64_t page_size, int (*fn)(void *ctx, const struct db_station_row *r),
                         void *ctx, int64_t *total);
/* A station row as the JSON object db_station_list and db_station_view give; caller owns. */
json_t *db_station_row_json(const struct db_station_row *r);

/* Piles and their connectors. */
int db_pile_find(struct db *db, const char *equipment_id, struct db_record_row *out);
int db_pile_insert(struct db *db, int64_t account_id, int64_t application_id, const char *status,
                   const char *equipment_id, int64_t station_row, int64_t equipment_type,
                   const char *protocol, const char *data, int64_t *row);
int db_pile_update(struct db *db, int64_t row, int64_t station_row, int64_t equipment_type,
                   const char *protocol, const char *data);
int db_pile_delete(struct db *db, int64_t row);
int db_connector_insert(struct db *db, int64_t pile_row, const char *connector_id,
                        int64_t ocpp_connector_id, const char *data);
int db_connectors_delete(struct db *db, int64_t pile_row);
/* The pile owning connector `connector_id` into *pile_row; DB_NOTFOUND when none. */
int db_connector_owner(struct db *db, const char *connector_id, int64_t *pile_row);
/* The access application of the pile owning connector `connector_id` into *application_id
 * (0: none); DB_NOTFOUND when no pile has it. */
int db_connector_owner_app(struct db *db, const char *connector_id, int64_t *application_id);
/* The pile's data with `connectors` and read-only fields; caller owns; NULL when missing. */
json_t *db_pile_view(struct db *db, int64_t row);
int db_pile_list(struct db *db, const struct db_record_filter *f, int64_t page, int64_t page_size,
                 json_t **items, int64_t *total);
int db_pile_set_password(struct db *db, int64_t row, const char *salt, const char *hash);

#endif
