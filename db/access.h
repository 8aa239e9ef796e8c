/* Access applications: the applications that bring stations and piles (db/records.h) into
 * review. Strings passed in are borrowed. */
#ifndef EVGATE_DB_ACCESS_H
#define EVGATE_DB_ACCESS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

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
/* The transaction of an import's checks and writes (BEGIN IMMEDIATE): DB_OK or an error, and
 * then always db_access_stage_end, which rolls back what was not committed. Inside it, the
 * stations' and piles' CHECK constraints are not evaluated: the columns they guard (status,
 * boot_status, security_profile) are written by the import as the literal 'draft' and the
 * defaults, never from the file, and SQLite evaluates each of those IN (...) lists through a
 * temporary b-tree built per inserted row, which was a third of a large import. The page
 * cache is enlarged for the transaction; *saved_cache keeps its size for stage_end. */
int db_access_stage_begin(struct db *db, int64_t *saved_cache);
/* Rolls back an uncommitted stage transaction and restores CHECK constraints and the page
 * cache size that stage_begin saved. */
void db_access_stage_end(struct db *db, int64_t saved_cache);
/* Removes the application's staged piles and their connectors (inside the caller's
 * transaction), before a new piles file replaces them. */
int db_access_unstage_piles(struct db *db, int64_t id);
/* Deletes a `draft` application with its staged piles, connectors and stations, in one
 * transaction. DB_CONFLICT when it is not a draft or another pile uses a staged station. */
int db_access_delete_draft(struct db *db, int64_t id);

/* The application's staged stations as {station_id: [row, pile_count]}; caller owns. */
json_t *db_access_staged_stations(struct db *db, int64_t id);

#endif
