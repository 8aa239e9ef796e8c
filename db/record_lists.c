/* The list machinery of record_lists.h. */
#include "db/record_lists.h"
#include "db/list_count.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t shape_lock = PTHREAD_MUTEX_INITIALIZER;

/* The SQL of `shape` for the filters in `mask` (count or page); NULL when out of memory. */
static const char *list_sql(struct list_shape *shape, unsigned mask, int page)
{
    pthread_mutex_lock(&shape_lock);
    char *sql = shape->sql[mask][page];
    if (!sql) {
        const char *head = shape->count_head;
        if (page)
            head = (mask & LF_ACCOUNT) && shape->page_head_account ? shape->page_head_account
                                                                   : shape->page_head;
        const char *parts[7] = {head, shape->where};
        int n = 2;
        /* A page walks an index in the list's order and stops after `size` rows, so its area
         * term is a plain check: as a range it would tempt SQLite into reading every row of
         * the area and sorting them (an area of 7 000 stations: 60 ms a page). */
        for (unsigned b = 0; b < 4; b++)
            if (mask & (1u << b))
                parts[n++] = page && (1u << b) == LF_AREA ? LIST_AREA_CHECK : shape->terms[b];
        if (page)
            parts[n++] = shape->tail;
        size_t len = 1;
        for (int i = 0; i < n; i++)
            len += strlen(parts[i]);
        if ((sql = malloc(len))) {
            sql[0] = 0;
            for (int i = 0; i < n; i++)
                strcat(sql, parts[i]);
            shape->sql[mask][page] = sql;
        }
    }
    pthread_mutex_unlock(&shape_lock);
    return sql;
}

static unsigned list_mask(const struct db_record_filter *f, int piles)
{
    return (f->account_id ? LF_ACCOUNT : 0) |
           ((piles ? f->equipment_id : f->station_id) ? LF_KEY : 0) |
           (f->area_prefix ? LF_AREA : 0) | (f->status ? LF_STATUS : 0);
}

static void bind_filter(sqlite3_stmt *st, const struct db_record_filter *f, int piles)
{
    sqlite3_bind_int64(st, 1, f->account_id);
    sqlite3_bind_int64(st, 2, f->application_id);
    db_bind_text(st, 3, f->area_prefix);
    db_bind_text(st, 4, f->name);
    db_bind_text(st, 5, f->station_id);
    db_bind_text(st, 6, f->status);
    sqlite3_bind_int64(st, 7, piles ? 0 : f->station_type);
    if (piles) {
        db_bind_text(st, 8, f->equipment_id);
        db_bind_text(st, 9, f->protocol);
        sqlite3_bind_int64(st, 10, f->equipment_type);
        sqlite3_bind_int(st, 13, f->online);
    }
}

/* What a cached total is valid for: the generation the triggers bump on every update and delete
 * of a listed record, and the largest row ids, which every insert raises (rows are only ever
 * given ids above the largest; a delete, which could let an id come back, bumps the
 * generation). Inserts are not counted by a trigger: a trigger makes every INSERT keep a
 * statement journal, ~45 us of CPU a row, which an import of 100 000 rows cannot afford. */
struct list_state {
    int64_t generation, max_station, max_pile;
};

/* The cache key of a list's total: the database, the list, every filter value (texts with their
 * length, so that no two filters read alike) and the largest ids. Returns its length, 0 when it
 * does not fit. */
static size_t count_key(struct db *db, const struct list_shape *shape,
                        const struct db_record_filter *f, const struct list_state *ls, char *out,
                        size_t cap)
{
    const char *file = sqlite3_db_filename(db->h, "main");
#define KS(s) (int)((s) ? strlen(s) : 0), (s) ? (s) : ""
    int n = snprintf(
        out, cap, "%s|%c|%lld|%lld|%lld|%lld|%d|%d:%s|%d:%s|%d:%s|%d:%s|%d:%s|%d:%s|%lld|%lld",
        file ? file : "", shape->kind, (long long)f->account_id, (long long)f->application_id,
        (long long)f->station_type, (long long)f->equipment_type, f->online, KS(f->area_prefix),
        KS(f->name), KS(f->station_id), KS(f->equipment_id), KS(f->status), KS(f->protocol),
        (long long)ls->max_station, (long long)ls->max_pile);
#undef KS
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void read_state(sqlite3_stmt *st, int col, struct list_state *ls)
{
    ls->generation = sqlite3_column_int64(st, col);
    ls->max_station = sqlite3_column_int64(st, col + 1);
    ls->max_pile = sqlite3_column_int64(st, col + 2);
}

/* The total of a list: cached while no record changed (db/list_count.h), except for the pile
 * list's online filter, which follows the gateway's sessions rather than the records. */
static int list_total(struct db *db, struct list_shape *shape, unsigned mask,
                      const struct db_record_filter *f, int piles, int64_t *total)
{
    static const char state_sql[] = "SELECT " LIST_STATE;
    char key[DB_LIST_COUNT_KEY_MAX + 1];
    struct list_state ls;
    int rc;
    if (!f->online) {
        sqlite3_stmt *st = db_stmt(db, state_sql);
        if (!st)
            return DB_ERROR;
        if ((rc = sqlite3_step(st)) == SQLITE_ROW)
            read_state(st, 0, &ls);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return db_rc_from(db, rc, "record_state");
        size_t klen = count_key(db, shape, f, &ls, key, sizeof key);
        if (klen && db_list_count_get(key, klen, ls.generation, total))
            return DB_OK;
    }
    const char *sql = list_sql(shape, mask, 0);
    sqlite3_stmt *st = sql ? db_stmt(db, sql) : NULL;
    if (!st)
        return DB_ERROR;
    bind_filter(st, f, piles);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *total = sqlite3_column_int64(st, 0);
        read_state(st, 1, &ls); /* read with the count, in the same read transaction */
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "record_count");
    size_t klen = f->online ? 0 : count_key(db, shape, f, &ls, key, sizeof key);
    if (klen)
        db_list_count_put(key, klen, ls.generation, *total);
    return DB_OK;
}

/* Counts and reads one page of a list with the same filter, calling `each` for every row; a
 * nonzero return of `each` stops the list with DB_ERROR. */
int db_list_query(struct db *db, struct list_shape *shape, const struct db_record_filter *f,
                  int piles, int64_t page, int64_t size,
                  int (*each)(struct db *, sqlite3_stmt *, void *), void *ctx, int64_t *total)
{
    unsigned mask = list_mask(f, piles);
    int rc = list_total(db, shape, mask, f, piles, total);
    if (rc != DB_OK)
        return rc;
    const char *sql = list_sql(shape, mask, 1);
    sqlite3_stmt *st = sql ? db_stmt(db, sql) : NULL;
    if (!st)
        return DB_ERROR;
    bind_filter(st, f, piles);
    sqlite3_bind_int64(st, piles ? 11 : 8, size);
    sqlite3_bind_int64(st, piles ? 12 : 9, (page - 1) * size);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (each(db, st, ctx) != 0)
            break;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return DB_ERROR;
    return db_rc_from(db, rc, "record_list");
}

/* Builds items into a JSON array (ctx) with `make`. */
struct json_list {
    json_t *arr;
    json_t *(*make)(struct db *, sqlite3_stmt *);
};

static int append_item(struct db *db, sqlite3_stmt *st, void *ctx)
{
    struct json_list *l = ctx;
    json_array_append_new(l->arr, l->make(db, st));
    return 0;
}

int db_list_json(struct db *db, struct list_shape *shape, const struct db_record_filter *f,
                 int piles, int64_t page, int64_t size,
                 json_t *(*make)(struct db *, sqlite3_stmt *), json_t **items, int64_t *total)
{
    struct json_list l = {json_array(), make};
    int rc = db_list_query(db, shape, f, piles, page, size, append_item, &l, total);
    if (rc != DB_OK) {
        json_decref(l.arr);
        l.arr = NULL;
    }
    *items = l.arr;
    return rc;
}
