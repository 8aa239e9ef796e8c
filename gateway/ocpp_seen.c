/* The piles' last contacts, gathered and written in one job; see ocpp_seen.h. */
#include "gateway/ocpp_seen.h"
#include "gateway/piles.h"
#include "common/log.h"
#include "db/ocpp_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct contact {
    int64_t at;
    const char *protocol;
    char id[GW_PILE_ID_MAX + 1];
};

/* One flush: the writer's job. */
struct batch {
    size_t n;
    struct contact v[];
};

struct gw_seen {
    size_t max;
    struct batch *cur; /* the gathering, NULL until the first note after a flush */
    size_t cap;
    struct gw_seen_stats st;
};

struct gw_seen *gw_seen_new(size_t max)
{
    if (max < 1)
        return NULL;
    struct gw_seen *s = calloc(1, sizeof *s);
    if (s)
        s->max = max;
    return s;
}

void gw_seen_free(struct gw_seen *s)
{
    if (!s)
        return;
    free(s->cur);
    free(s);
}

int gw_seen_note(struct gw_seen *s, const char *equipment_id, const char *protocol, int64_t at)
{
    s->st.noted++;
    size_t n = s->cur ? s->cur->n : 0;
    if (n >= s->max) {
        s->st.dropped++;
        return -ENOSPC;
    }
    if (n == s->cap) { /* full, or nothing allocated since the last flush (cap 0) */
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap > s->max)
            cap = s->max;
        struct batch *b = realloc(s->cur, sizeof *b + cap * sizeof b->v[0]);
        if (!b) {
            s->st.dropped++;
            return -ENOMEM;
        }
        b->n = n;
        s->cur = b;
        s->cap = cap;
    }
    struct contact *c = &s->cur->v[s->cur->n++];
    c->at = at;
    c->protocol = protocol;
    size_t len = strnlen(equipment_id, GW_PILE_ID_MAX);
    memcpy(c->id, equipment_id, len);
    c->id[len] = 0;
    return 0;
}

/* A failing database or a full writer would say so ten times a second: a budget for both. */
static void warn_dropped(const char *event, size_t piles, int rc)
{
    static struct log_budget budget = {.per_minute = 6};
    unsigned long long left_out;
    if (log_budget_take(&budget, &left_out))
        log_warn("gateway", event, "piles=%zu rc=%d suppressed=%llu", piles, rc, left_out);
}

static int seen_job(struct db *db, void *arg)
{
    struct batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        int rc = db_ocpp_seen(db, b->v[i].id, b->v[i].protocol, b->v[i].at);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void seen_done(void *arg, int rc)
{
    struct batch *b = arg;
    if (rc != 0)
        warn_dropped("ocpp_last_contacts_not_stored", b->n, rc);
    free(b);
}

int gw_seen_flush(struct gw_seen *s, struct gw_writer *w)
{
    struct batch *b = s->cur;
    if (!b || !b->n)
        return 0;
    s->cur = NULL;
    s->cap = 0;
    int n = (int)b->n;
    int rc = w ? gw_writer_submit(w, seen_job, seen_done, b) : -ESHUTDOWN;
    if (rc != 0) {
        s->st.dropped += b->n;
        warn_dropped("ocpp_last_contacts_refused_by_writer", b->n, rc);
        free(b);
        return rc;
    }
    s->st.flushes++;
    return n;
}

void gw_seen_stats(const struct gw_seen *s, struct gw_seen_stats *out)
{
    *out = s->st;
}
