/* mgmt's Prometheus metrics: request counts and latency by route and status. Thread-safe. */
#ifndef EVGATE_MGMT_METRICS_H
#define EVGATE_MGMT_METRICS_H

#include <stddef.h>

/* Records one answered request; `route` is a static pattern string. */
void metrics_observe(const char *route, unsigned status, double seconds);

/* Renders the text exposition format (0.0.4). Caller frees. */
char *metrics_render(size_t *len);

#endif
