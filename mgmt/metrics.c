/* A fixed table of (route, status) series: routes are static patterns, so the set is small
 * and bounded; series past the table's size are folded into route="other". Imports have their
 * own small table of (kind, outcome). One mutex: mgmt answers hundreds of requests a second at
 * most, and the critical sections are a few increments. */
#include "mgmt/metrics.h"
#include "common/promtext.h"
#include "common/procstat.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define MAX_SERIES 256
static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

/* Imports read and check a whole workbook (up to max_import_rows rows): seconds, not ms. */
static const double import_le[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define IMPORT_BUCKETS (sizeof import_le / sizeof import_le[0])
static const double rows_le[] = {1, 10, 100, 1000, 10000, 100000};
#define ROWS_BUCKETS (sizeof rows_le / sizeof rows_le[0])
/* 2 kinds x 3 outcomes, room to spare. */
#define MAX_IMPORT_SERIES 12

struct series {
    const char *route;
    unsigned status;
    unsigned long long count;
    unsigned long long bucket[NBUCKETS]; /* cumulative: every bucket whose bound is >= */
    double sum;
};

struct import_series {
    const char *kind, *outcome;
    unsigned long long count;
    unsigned long long bucket[IMPORT_BUCKETS]; /* cumulative */
    double sum;
    unsigned long long rows_bucket[ROWS_BUCKETS]; /* cumulative */
    unsigned long long rows_sum;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series table[MAX_SERIES];
static int nseries;
static struct import_series imports[MAX_IMPORT_SERIES];
static int nimports;
static double started;

static void start_time(void)
{
    if (!started) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        started = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    }
}

void metrics_observe(const char *route, unsigned status, double seconds)
{
    pthread_mutex_lock(&lock);
    start_time();
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

void metrics_import(const char *kind, const char *outcome, long long rows, double seconds)
{
    pthread_mutex_lock(&lock);
    struct import_series *s = NULL;
    for (int i = 0; i < nimports && !s; i++)
        if (strcmp(imports[i].kind, kind) == 0 && strcmp(imports[i].outcome, outcome) == 0)
            s = &imports[i];
    if (!s && nimports < MAX_IMPORT_SERIES) {
        s = &imports[nimports++];
        s->kind = kind;
        s->outcome = outcome;
    }
    if (s) {
        s->count++;
        s->sum += seconds;
        for (size_t b = 0; b < IMPORT_BUCKETS; b++)
            if (seconds <= import_le[b])
                s->bucket[b]++;
        s->rows_sum += rows > 0 ? (unsigned long long)rows : 0;
        for (size_t b = 0; b < ROWS_BUCKETS; b++)
            if ((double)rows <= rows_le[b])
                s->rows_bucket[b]++;
    }
    pthread_mutex_unlock(&lock);
}

static void render_imports(FILE *f)
{
    char k[PROM_LABEL_MAX], o[PROM_LABEL_MAX];
    prom_head(f, "evgate_mgmt_import_duration_seconds", "histogram",
              "Time to read, check and stage one uploaded xlsx, by kind and outcome (staged, "
              "rejected, error).");
    for (int i = 0; i < nimports; i++) {
        const struct import_series *s = &imports[i];
        prom_label(k, s->kind);
        prom_label(o, s->outcome);
        for (size_t b = 0; b < IMPORT_BUCKETS; b++)
            fprintf(f,
                    "evgate_mgmt_import_duration_seconds_bucket{kind=\"%s\",outcome=\"%s\","
                    "le=\"%g\"} %llu\n",
                    k, o, import_le[b], s->bucket[b]);
        fprintf(f,
                "evgate_mgmt_import_duration_seconds_bucket{kind=\"%s\",outcome=\"%s\","
                "le=\"+Inf\"} %llu\n",
                k, o, s->count);
        fprintf(f, "evgate_mgmt_import_duration_seconds_sum{kind=\"%s\",outcome=\"%s\"} %.6f\n", k,
                o, s->sum);
        fprintf(f, "evgate_mgmt_import_duration_seconds_count{kind=\"%s\",outcome=\"%s\"} %llu\n",
                k, o, s->count);
    }
    prom_head(f, "evgate_mgmt_import_rows", "histogram",
              "Records staged by one xlsx import (0 unless staged), by kind and outcome.");
    for (int i = 0; i < nimports; i++) {
        const struct import_series *s = &imports[i];
        prom_label(k, s->kind);
        prom_label(o, s->outcome);
        for (size_t b = 0; b < ROWS_BUCKETS; b++)
            fprintf(f,
                    "evgate_mgmt_import_rows_bucket{kind=\"%s\",outcome=\"%s\",le=\"%g\"} %llu\n",
                    k, o, rows_le[b], s->rows_bucket[b]);
        fprintf(f, "evgate_mgmt_import_rows_bucket{kind=\"%s\",outcome=\"%s\",le=\"+Inf\"} %llu\n",
                k, o, s->count);
        fprintf(f, "evgate_mgmt_import_rows_sum{kind=\"%s\",outcome=\"%s\"} %llu\n", k, o,
                s->rows_sum);
        fprintf(f, "evgate_mgmt_import_rows_count{kind=\"%s\",outcome=\"%s\"} %llu\n", k, o,
                s->count);
    }
}

char *metrics_render(size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    struct procstat ps;
    procstat_read(&ps); /* outside the lock: /proc reads */
    char r[PROM_LABEL_MAX];
    pthread_mutex_lock(&lock);
    start_time();
    prom_head(f, "evgate_mgmt_up", "gauge", "1 while the management server runs.");
    fprintf(f, "evgate_mgmt_up 1\n");
    prom_head(f, "evgate_mgmt_start_time_seconds", "gauge", "Start time since the epoch.");
    fprintf(f, "evgate_mgmt_start_time_seconds %.3f\n", started);
    procstat_render(f, &ps, started);
    prom_head(f, "evgate_mgmt_http_requests_total", "counter",
              "HTTP requests answered, by route pattern and status.");
    for (int i = 0; i < nseries; i++)
        fprintf(f, "evgate_mgmt_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                prom_label(r, table[i].route), table[i].status, table[i].count);
    prom_head(f, "evgate_mgmt_http_request_duration_seconds", "histogram",
              "Time to answer, by route pattern and status.");
    for (int i = 0; i < nseries; i++) {
        const struct series *s = &table[i];
        prom_label(r, s->route);
        for (size_t k = 0; k < NBUCKETS; k++)
            fprintf(f,
                    "evgate_mgmt_http_request_duration_seconds_bucket{route=\"%s\",status=\"%u\","
                    "le=\"%g\"} %llu\n",
                    r, s->status, buckets[k], s->bucket[k]);
        fprintf(f,
                "evgate_mgmt_http_request_duration_seconds_bucket{route=\"%s\",status=\"%u\","
                "le=\"+Inf\"} %llu\n",
                r, s->status, s->count);
        fprintf(f,
                "evgate_mgmt_http_request_duration_seconds_sum{route=\"%s\",status=\"%u\"} %.6f\n",
                r, s->status, s->sum);
        fprintf(
            f, "evgate_mgmt_http_request_duration_seconds_count{route=\"%s\",status=\"%u\"} %llu\n",
            r, s->status, s->count);
    }
    render_imports(f);
    pthread_mutex_unlock(&lock);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}
