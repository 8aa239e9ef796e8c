/* The list-total cache of list_count.h: a fixed table of slots under one mutex (a lookup is a
 * hash and a memcmp, far shorter than the COUNT(*) it saves). Slots come in sets of WAYS
 * where a key may go, the least recently stored one replaced: with one slot per key, two hot
 * lists that hashed alike evicted each other, and an admin's count over 100 000 stations
 * (~30 M instructions) ran again on every other page. */
#include "db/list_count.h"

#include <pthread.h>
#include <string.h>

#define WAYS 4
#define SETS (DB_LIST_COUNT_SLOTS / WAYS)

struct slot {
    uint64_t stored; /* when it was stored (a counter): the oldest of a set goes first */
    int64_t generation;
    int64_t count;
    size_t key_len; /* 0: empty */
    char key[DB_LIST_COUNT_KEY_MAX];
};

static struct slot slots[DB_LIST_COUNT_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t stores;

static size_t slot_of(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    return (size_t)(h % SETS) * WAYS;
}

/* The slot of `key` in its set, or NULL (lock held). */
static struct slot *find(size_t set, const char *key, size_t len)
{
    for (size_t i = set; i < set + WAYS; i++)
        if (slots[i].key_len == len && memcmp(slots[i].key, key, len) == 0)
            return &slots[i];
    return NULL;
}

int db_list_count_get(const char *key, size_t key_len, int64_t generation, int64_t *count)
{
    if (key_len == 0 || key_len > DB_LIST_COUNT_KEY_MAX)
        return 0;
    size_t set = slot_of(key, key_len);
    int found = 0;
    pthread_mutex_lock(&lock);
    struct slot *s = find(set, key, key_len);
    if (s && s->generation == generation) {
        *count = s->count;
        found = 1;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void db_list_count_put(const char *key, size_t key_len, int64_t generation, int64_t count)
{
    if (key_len == 0 || key_len > DB_LIST_COUNT_KEY_MAX)
        return;
    size_t set = slot_of(key, key_len);
    pthread_mutex_lock(&lock);
    struct slot *s = find(set, key, key_len);
    if (!s) {
        s = &slots[set];
        for (size_t i = set + 1; i < set + WAYS; i++)
            if (slots[i].stored < s->stored)
                s = &slots[i];
        s->generation = INT64_MIN;
    }
    /* never replace a newer total by an older one (a slow reader finishing late) */
    if (s->generation <= generation) {
        s->stored = ++stores;
        s->generation = generation;
        s->count = count;
        s->key_len = key_len;
        memcpy(s->key, key, key_len);
    }
    pthread_mutex_unlock(&lock);
}
