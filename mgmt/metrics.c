/* A fixed table of (route, status) series: routes are static patterns, so the set is small
 * and bounded; series past the table's size are folded into route="other". */
#include "mgmt/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SERIES 256
static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct series {
    const char *route;
    unsigned status;
    unsigned long long count;
    unsigned long long bucket[NBUCKETS];
    double sum;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series table[MAX_SERIES];
static int nseries;
static time_t started;

void metrics_observe(const char *route, unsigned status, double seconds)
{
    pthread_mutex_lock(&lock);
    if (!started)
        started = time(NULL);
    struct series *s = NULL;
    for (int i = 0; i < nseries && !s; i++)
        if (table[i].route == route && table[i].status == status)
            s = &table[i];
    if (!s && nseries < MAX_SERIES - 1) {
        s = &table[nseries++];
        s->route = route;
        s->status = status;
    }
    if (!s) {
        s = &table[MAX_SERIES - 1];
        s->route = "other";
        s->status = 0;
        if (nseries < MAX_SERIES)
            nseries = MAX_SERIES;
    }
    s->count++;
    s->sum += seconds;
    for (size_t b = 0; b < NBUCKETS; b++)
        if (seconds <= buckets[b])
            s->bucket[b]++;
    pthread_mutex_unlock(&lock);
}

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
}

char *metrics_render(size_t *len)
{
    struct buf b = {0};
    pthread_mutex_lock(&lock);
    if (!started)
        started = time(NULL);
    put(&b, "# HELP evgate_mgmt_up 1 while the management server runs.\n"
            "# TYPE evgate_mgmt_up gauge\nevgate_mgmt_up 1\n");
    put(&b,
        "# HELP evgate_mgmt_start_time_seconds Start time since the epoch.\n"
        "# TYPE evgate_mgmt_start_time_seconds gauge\nevgate_mgmt_start_time_seconds %lld\n",
        (long long)started);
    put(&b, "# HELP evgate_mgmt_http_requests_total HTTP requests answered, by route and "
            "status.\n# TYPE evgate_mgmt_http_requests_total counter\n");
    for (int i = 0; i < nseries; i++)
        put(&b, "evgate_mgmt_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
            table[i].route, table[i].status, table[i].count);
    put(&b, "# HELP evgate_mgmt_http_request_duration_seconds Time to answer, by route.\n"
            "# TYPE evgate_mgmt_http_request_duration_seconds histogram\n");
    for (int i = 0; i < nseries; i++) {
        const struct series *s = &table[i];
        for (size_t k = 0; k < NBUCKETS; k++)
            put(&b,
                "evgate_mgmt_http_request_duration_seconds_bucket{route=\"%s\",status=\"%u\","
                "le=\"%g\"} %llu\n",
                s->route, s->status, buckets[k], s->bucket[k]);
        put(&b,
            "evgate_mgmt_http_request_duration_seconds_bucket{route=\"%s\",status=\"%u\","
            "le=\"+Inf\"} %llu\n",
            s->route, s->status, s->count);
        put(&b, "evgate_mgmt_http_request_duration_seconds_sum{route=\"%s\",status=\"%u\"} %.6f\n",
            s->route, s->status, s->sum);
        put(&b,
            "evgate_mgmt_http_request_duration_seconds_count{route=\"%s\",status=\"%u\"} %llu\n",
            s->route, s->status, s->count);
    }
    pthread_mutex_unlock(&lock);
    *len = b.len;
    return b.p;
}
