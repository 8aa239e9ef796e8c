/* A process-wide cache of the totals of record lists (the COUNT(*) behind a list's paging),
 * private to db/. A total is keyed by its query and filter values and tagged with the
 * record generation it was counted at (migration 12: triggers on stations and piles bump
 * record_generation.generation on every insert, delete and change of a filtered column), so
 * a total is reused only while no record changed. Thread-safe; bounded by DB_LIST_COUNT_SLOTS. */
#ifndef EVGATE_DB_LIST_COUNT_H
#define EVGATE_DB_LIST_COUNT_H

#include <stddef.h>
#include <stdint.h>

/* Slots of the cache (sets of 4 per hash; a new key replaces the oldest of its set). */
#define DB_LIST_COUNT_SLOTS 1024
/* Longest key cached; a longer one is simply never cached. */
#define DB_LIST_COUNT_KEY_MAX 320

/* Copies into *count the total cached for `key` at `generation`: 1 when found, else 0. */
int db_list_count_get(const char *key, size_t key_len, int64_t generation, int64_t *count);

/* Remembers `count` for `key` at `generation`. */
void db_list_count_put(const char *key, size_t key_len, int64_t generation, int64_t count);

#endif
