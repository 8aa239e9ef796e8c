/* The memo of item_cache.h: direct-mapped slots, each under one of a few striped locks so that
 * the worker threads rarely wait on each other. */
#include "mgmt/item_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LOCKS 64

struct slot {
    char kind; /* 0: empty */
    int64_t row;
    char *columns; /* one allocation: columns then text */
    size_t columns_len, text_len;
};

static struct slot slots[MGMT_ITEM_CACHE_SLOTS];
static pthread_mutex_t locks[LOCKS];
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;

static void init_locks(void)
{
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
}

void item_text_add(struct item_text *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t) {
            b->failed = 1;
            return;
        }
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = 0;
}

static size_t slot_of(char kind, int64_t row)
{
    uint64_t h = ((uint64_t)row * 0x9E3779B97F4A7C15ULL) ^ (unsigned char)kind;
    return (size_t)(h % MGMT_ITEM_CACHE_SLOTS);
}

int item_cache_get(char kind, int64_t row, const char *columns, size_t columns_len,
                   struct item_text *out)
{
    size_t i = slot_of(kind, row);
    struct slot *s = &slots[i];
    int hit = 0;
    pthread_once(&locks_once, init_locks);
    pthread_mutex_lock(&locks[i % LOCKS]);
    if (s->kind == kind && s->row == row && s->columns_len == columns_len &&
        memcmp(s->columns, columns, columns_len) == 0) {
        item_text_add(out, s->columns + columns_len, s->text_len);
        hit = !out->failed;
    }
    pthread_mutex_unlock(&locks[i % LOCKS]);
    return hit;
}

void item_cache_put(char kind, int64_t row, const char *columns, size_t columns_len,
                    const char *text, size_t text_len)
{
    if (!kind || columns_len > MGMT_ITEM_CACHE_MAX_BYTES || text_len > MGMT_ITEM_CACHE_MAX_BYTES)
        return;
    char *copy = malloc(columns_len + text_len);
    if (!copy)
        return;
    memcpy(copy, columns, columns_len);
    memcpy(copy + columns_len, text, text_len);
    size_t i = slot_of(kind, row);
    struct slot *s = &slots[i];
    pthread_once(&locks_once, init_locks);
    pthread_mutex_lock(&locks[i % LOCKS]);
    char *old = s->columns;
    s->kind = kind;
    s->row = row;
    s->columns = copy;
    s->columns_len = columns_len;
    s->text_len = text_len;
    pthread_mutex_unlock(&locks[i % LOCKS]);
    free(old);
}
