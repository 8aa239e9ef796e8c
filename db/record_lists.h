/* The machinery of the station and pile lists of db/records.c, private to db/: one SQL text per
 * combination of the filters an index can serve, the total of a list counted once per record
 * generation (db/list_count.h), and the page read row by row. */
#ifndef EVGATE_DB_RECORD_LISTS_H
#define EVGATE_DB_RECORD_LISTS_H

#include "db/db_internal.h"
#include "db/records.h"

/* Both lists bind ?1 account, ?2 application, ?3 area prefix, ?4 name, ?5 station_id,
 * ?6 status, ?7 station_type; piles add ?8 equipment_id, ?9 protocol, ?10 equipment_type,
 * ?13 online; then LIMIT and OFFSET (?8 ?9 for stations, ?11 ?12 for piles).
 *
 * The filters an index can serve (account, the record's id, area prefix, status) are written
 * into the SQL only when given: a term like `(?1 = 0 OR s.account_id = ?1)` keeps SQLite from
 * using any index, and every page read the whole table (100 000 stations: ~250 ms a page). So
 * each list has one SQL text per combination of those four, built on first use. An area
 * prefix is a range on the index (codes are digits, all below '~') and is checked exactly too. */
enum { LF_ACCOUNT = 1, LF_KEY = 2, LF_AREA = 4, LF_STATUS = 8, LF_VARIANTS = 16 };

#define LIST_AREA_CHECK " AND substr(s.area_code, 1, length(?3)) = ?3"
#define LIST_AREA_TERM  " AND s.area_code >= ?3 AND s.area_code < ?3 || '~'" LIST_AREA_CHECK
/* The state a cached total is valid for (record_lists.c, struct list_state). */
#define LIST_STATE                                                                                 \
    "(SELECT generation FROM record_generation WHERE id = 1),"                                     \
    " (SELECT coalesce(max(id), 0) FROM stations), (SELECT coalesce(max(id), 0) FROM piles)"

struct list_shape {
    char kind;                     /* 's' stations, 'p' piles: part of the cache key */
    const char *count_head;        /* "SELECT count(*), generation FROM ..." */
    const char *page_head;         /* "SELECT columns FROM ..." */
    const char *page_head_account; /* the same, for one account's list (NULL: page_head) */
    const char *where;             /* the filters that are always written */
    const char *terms[4];          /* LF_ACCOUNT, LF_KEY, LF_AREA, LF_STATUS */
    const char *tail;              /* ORDER BY, LIMIT, OFFSET */
    char *sql[LF_VARIANTS][2];     /* [mask][0 count, 1 page]; built once, never freed */
};

/* Counts and reads one page of a list with the same filter (`piles`: the pile list's binding),
 * calling `each` for every row; a nonzero return of `each` stops the list with DB_ERROR. */
int db_list_query(struct db *db, struct list_shape *shape, const struct db_record_filter *f,
                  int piles, int64_t page, int64_t size,
                  int (*each)(struct db *, sqlite3_stmt *, void *), void *ctx, int64_t *total);

/* db_list_query building a new JSON array of the items `make` builds (*items, caller owns; NULL
 * on error). */
int db_list_json(struct db *db, struct list_shape *shape, const struct db_record_filter *f,
                 int piles, int64_t page, int64_t size,
                 json_t *(*make)(struct db *, sqlite3_stmt *), json_t **items, int64_t *total);

#endif
