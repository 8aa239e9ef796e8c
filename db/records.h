/* Stations, piles, connectors and the access applications that bring them into review.
 * A record's fields live in `data` (a JSON object of canonical values); the columns queries
 * filter on are copied beside it. Strings passed in are borrowed. */
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
/* The pile's data with `connectors` and read-only fields; caller owns; NULL when missing. */
json_t *db_pile_view(struct db *db, int64_t row);
int db_pile_list(struct db *db, const struct db_record_filter *f, int64_t page, int64_t page_size,
                 json_t **items, int64_t *total);
int db_pile_set_password(struct db *db, int64_t row, const char *salt, const char *hash);

/* Per-pile OCPP settings (docs/api-commands.md): `boot_status` (Accepted | Pending | Rejected,
 * NULL = keep) and `security_profile` (1..3, 0 = keep). DB_NOTFOUND when there is no row. */
int db_pile_set_ocpp_settings(struct db *db, int64_t row, const char *boot_status,
                              int security_profile);

/* Access applications. */
struct db_access_head {
    int64_t id;
    int64_t account_id;
    char status[16]; /* draft | submitted | approved | rejected */
};
int db_access_create(struct db *db, int64_t account_id, int64_t *id);
int db_access_head(struct db *db, int64_t id, struct db_access_head *out);
/* {id, status, reject_reason, account_id, company_name, station_count, pile_count, times,
 * audit (when with_audit)}; caller owns. */
json_t *db_access_view(struct db *db, int64_t id, int with_audit);
int db_access_list(struct db *db, int64_t account_id, const char *status, int64_t page,
                   int64_t page_size, json_t **items, int64_t *total);
/* Moves the application from one of `from` to `to` and its records to `records_to` (NULL =
 * leave them), with an audit row; one transaction. DB_CONFLICT when the status differs. */
int db_access_transition(struct db *db, int64_t id, const char *from, const char *to,
                         const char *records_to, const char *reason, int64_t actor_id,
                         const char *action);
/* Attaches draft/rejected piles (by row) and the draft/rejected stations they name to
 * application `id` (inside the caller's transaction). */
int db_access_attach_pile(struct db *db, int64_t id, int64_t pile_row);
/* The equipment ids and rows of the application's piles, as [[row, equipment_id], ...]. */
json_t *db_access_piles(struct db *db, int64_t id);
/* Removes the application's staged piles and their connectors (inside the caller's
 * transaction), before a new piles file replaces them. */
int db_access_unstage_piles(struct db *db, int64_t id);
/* Deletes a `draft` application with its staged piles, connectors and stations, in one
 * transaction. DB_CONFLICT when it is not a draft or another pile uses a staged station. */
int db_access_delete_draft(struct db *db, int64_t id);

/* The application's staged stations as {station_id: [row, pile_count]}; caller owns. */
json_t *db_access_staged_stations(struct db *db, int64_t id);

/* --- the gateway's queries (OCPP endpoint, issue 5) ------------------------------------------ */

/* One pile as the gateway's handshake needs it; the strings are borrowed for the callback only.
 * password_salt and password_hash are NULL until a password was issued (api_stations.c:
 * hash = hex sha256(salt || password)). */
struct db_gateway_pile {
    const char *equipment_id;
    const char *status;   /* draft | submitted | accessed | rejected */
    const char *protocol; /* ocpp1.6 | ocpp2.0.1 | platform */
    const char *password_salt;
    const char *password_hash;
    const char *boot_status; /* Accepted | Pending | Rejected: the BootNotification answer */
    int security_profile;    /* 1 Basic (ws or wss), 2 Basic over TLS only, 3 TLS client cert */
};
/* Returns 0 to go on, nonzero to stop the iteration (db_gateway_piles then returns it). */
typedef int (*db_gateway_pile_fn)(void *arg, const struct db_gateway_pile *p);

/* Calls `fn` for every pile, in ascending byte order of equipment_id, inside one statement (a
 * short read transaction). Returns DB_OK, the callback's nonzero value, or a DB_* error. */
int db_gateway_piles(struct db *db, db_gateway_pile_fn fn, void *arg);

/* Pile sessions (table pile_sessions): one row per OCPP WebSocket connection. Opens a session
 * of `equipment_id` speaking `protocol` from `peer` (an address, may be NULL) at `at`, its row
 * id into *row. */
int db_pile_session_open(struct db *db, const char *equipment_id, const char *protocol,
                         const char *peer, int64_t at, int64_t *row);
/* Ends session `row` of `equipment_id` at `at` with `reason` (a short code); a session already
 * ended keeps its first end. DB_NOTFOUND when no open session of that pile has that row. */
int db_pile_session_close(struct db *db, int64_t row, const char *equipment_id, int64_t at,
                          const char *reason);
/* Ends every open session at `at` with `reason` (a gateway that starts owns no connection yet,
 * so sessions left open by a crash are over); how many into *closed (may be NULL). */
int db_pile_sessions_close_open(struct db *db, int64_t at, const char *reason, int64_t *closed);

#endif
