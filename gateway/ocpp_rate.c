/* Per-pile message-rate buckets that outlive connections; see ocpp_rate.h. */
#include "gateway/ocpp_rate.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_BUCKETS 4096 /* hash chains of remembered buckets (a power of two) */

struct memo {
    struct memo *next;
    struct gw_rate_bucket b;
    char id[]; /* NUL-terminated */
};

struct gw_rate {
    double burst, per_us;
    struct memo *chains[MEMO_BUCKETS];
    size_t count;
};

static size_t chain_of(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h & (MEMO_BUCKETS - 1);
}

static void refill(const struct gw_rate *r, struct gw_rate_bucket *b, int64_t now_us)
{
    if (now_us > b->at_us)
        b->tokens += (double)(now_us - b->at_us) * r->per_us;
    if (b->tokens > r->burst)
        b->tokens = r->burst;
    b->at_us = now_us;
}

struct gw_rate *gw_rate_new(long long per_min)
{
    struct gw_rate *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->burst = (double)per_min;
    r->per_us = (double)per_min / 60e6;
    return r;
}

void gw_rate_free(struct gw_rate *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < MEMO_BUCKETS; i++)
        for (struct memo *m = r->chains[i], *next; m; m = next) {
            next = m->next;
            free(m);
        }
    free(r);
}

struct gw_rate_bucket gw_rate_restore(struct gw_rate *r, const char *id, int64_t now_us)
{
    struct gw_rate_bucket b = {r->burst, now_us};
    for (struct memo **pp = &r->chains[chain_of(id)]; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id)) {
            struct memo *m = *pp;
            *pp = m->next;
            b = m->b;
            refill(r, &b, now_us);
            free(m);
            r->count--;
            break;
        }
    return b;
}

void gw_rate_remember(struct gw_rate *r, const char *id, struct gw_rate_bucket b, int64_t now_us)
{
    refill(r, &b, now_us);
    if (b.tokens >= r->burst || r->count >= GW_RATE_MEMO_MAX)
        return;
    size_t len = strlen(id);
    struct memo *m = malloc(sizeof *m + len + 1);
    if (!m)
        return;
    m->b = b;
    memcpy(m->id, id, len + 1);
    size_t k = chain_of(id);
    m->next = r->chains[k];
    r->chains[k] = m;
    r->count++;
}

bool gw_rate_take(const struct gw_rate *r, struct gw_rate_bucket *b, int64_t now_us)
{
    refill(r, b, now_us);
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void gw_rate_sweep(struct gw_rate *r, int64_t now_us)
{
    if (r->count == 0)
        return;
    for (size_t i = 0; i < MEMO_BUCKETS; i++)
        for (struct memo **pp = &r->chains[i]; *pp;) {
            struct gw_rate_bucket b = (*pp)->b;
            refill(r, &b, now_us);
            if (b.tokens >= r->burst) {
                struct memo *m = *pp;
                *pp = m->next;
                free(m);
                r->count--;
            } else {
                pp = &(*pp)->next;
            }
        }
}
