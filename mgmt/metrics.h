/* mgmt's Prometheus metrics: HTTP requests by route pattern and status with latency
 * histograms, xlsx imports (duration, rows, outcome) and the process basics. Thread-safe: MHD's
 * worker threads observe, a scrape renders. Names follow the Prometheus conventions (base
 * units, `_total` counters, histograms as `_bucket{le}`/`_sum`/`_count`); label values come
 * from closed sets of static strings (route patterns, never paths) and are escaped anyway. */
#ifndef EVGATE_MGMT_METRICS_H
#define EVGATE_MGMT_METRICS_H

#include <stddef.h>

/* Records one answered request; `route` is a static pattern string. */
void metrics_observe(const char *route, unsigned status, double seconds);

/* Records one xlsx import of `kind` ("stations", "piles"; static) that ended with `outcome`
 * ("staged", "rejected" for a file with problems, "error"; static) after `seconds`, having
 * staged `rows` records (0 unless staged). */
void metrics_import(const char *kind, const char *outcome, long long rows, double seconds);

/* Renders the text exposition format (0.0.4). Caller frees; NULL when out of memory. */
char *metrics_render(size_t *len);

#endif
