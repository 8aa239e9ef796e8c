/* The process facts both daemons put in /metrics under the standard `process_*` names
 * (Prometheus client conventions): open and allowed file descriptors, resident memory, CPU time.
 * Read from /proc and getrusage() at scrape time: a few small reads, no allocation. */
#ifndef EVGATE_PROCSTAT_H
#define EVGATE_PROCSTAT_H

#include <stdio.h>

struct procstat {
    long open_fds;       /* -1 when unknown */
    long max_fds;        /* the soft RLIMIT_NOFILE; -1 when unlimited or unknown */
    long long rss_bytes; /* -1 when unknown */
    double cpu_seconds;  /* user + system */
};

/* Fills `ps` for the calling process. Never fails: what cannot be read is -1. */
void procstat_read(struct procstat *ps);

/* Writes the process_* families (with HELP and TYPE) of `ps` and `start_time` (seconds since
 * the epoch) to `out`; the unknown ones are left out. */
void procstat_render(FILE *out, const struct procstat *ps, double start_time);

#endif
