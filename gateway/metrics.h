/* The gateway's own counters and their Prometheus text rendering (format 0.0.4).
 *
 * A struct gw_metrics belongs to the lws thread: every function here but
 * gw_metrics_conform_run() is called from that thread only, so the counters need no locks and
 * a message costs a few compares and an increment. The writer's counters come in as a
 * snapshot. Names follow the Prometheus conventions (base units, `_total` counters, histograms
 * as `_bucket{le}`/`_sum`/`_count`); every label value comes from a closed set of static
 * strings, and is escaped anyway when rendered. */
#ifndef EVGATE_GW_METRICS_H
#define EVGATE_GW_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct gw_writer_stats;
struct gw_metrics;

/* A new set of counters, with the start time taken now and `event_loop` (a static string such
 * as "libev" or "poll") reported in evgate_gateway_info. Caller frees with gw_metrics_free(). */
struct gw_metrics *gw_metrics_new(const char *version, const char *event_loop);
void gw_metrics_free(struct gw_metrics *m);

/* Reports a network connection opened or closed (the gauge never goes below 0). */
void gw_metrics_conn_open(struct gw_metrics *m);
void gw_metrics_conn_close(struct gw_metrics *m);
/* Counts a connection closed right after accept() because descriptors ran short (main.c's
 * accept_fd_max). */
void gw_metrics_conn_refused_fds(struct gw_metrics *m);
/* Counts the connections one wake-up of a listener accepted (refused ones included), and
 * whether it stopped at a full batch with more queued (accept.h). */
void gw_metrics_accept_batch(struct gw_metrics *m, unsigned accepted, bool full);

/* Counts one answered HTTP request. `route` labels it and must be a string with static lifetime
 * naming a route ("/healthz", "other"), never request data: the label set stays bounded.
 * `seconds` is the time from the request to its answer, observed in the route's latency
 * histogram; a negative value counts the request without observing it (the OCPP handshakes,
 * whose refusals are decided in the upgrade callback, have no start time of their own). */
void gw_metrics_http_request(struct gw_metrics *m, const char *route, int status, double seconds);

/* OCPP endpoint (ocpp_handshake.c, ocpp_conn.c). `result` is a static string from a closed
 * set (accepted, unknown_pile, unauthorized, ...); `version` an enum gw_ocpp_version. */
void gw_metrics_ocpp_handshake(struct gw_metrics *m, const char *result);
void gw_metrics_ocpp_conn(struct gw_metrics *m, int version, int delta);
/* Counts one message received from a pile (after the rate limit) by version and `action`: a
 * static string from a closed set (an action name of the version's table, "unknown",
 * "invalid", "CALLRESULT", "CALLERROR"), never request data. */
void gw_metrics_ocpp_message(struct gw_metrics *m, int version, const char *action);
/* Counts one CALLERROR sent to a pile; `code` a static string (the version's codes). */
void gw_metrics_ocpp_error(struct gw_metrics *m, const char *code);
void gw_metrics_ocpp_dropped(struct gw_metrics *m);
/* Observes one CALL answered after the writer stored it (or failed to): `seconds` from the
 * event loop reading its frame to its answer queued for the pile. */
void gw_metrics_ocpp_call_answered(struct gw_metrics *m, double seconds);
/* Remote operations (commands.c): one CALL sent to a pile, and one command finished in the
 * database with `state` (answered, error, timeout, failed) and `error` (NULL, or a code of the
 * closed set in docs/api-commands.md); both static strings. */
void gw_metrics_ocpp_command_sent(struct gw_metrics *m);
void gw_metrics_ocpp_command(struct gw_metrics *m, const char *state, const char *error);
/* T/CEC endpoint (tcec_http.c): one request answered, by `interface` (a static string: a
 * served interface's name, or "unknown") and the Ret of the answer. */
void gw_metrics_tcec_request(struct gw_metrics *m, const char *interface, int ret);
/* One conformance run ended with `state` (passed, failed, error, cancelled; anything else is
 * counted as "other"). Called from the runs' own threads: the counters are atomics. */
void gw_metrics_conform_run(struct gw_metrics *m, const char *state);
/* A snapshot of the T/CEC client's last round (gw_tcec_client_stats), rendered with the next
 * scrape. */
void gw_metrics_set_tcec(struct gw_metrics *m, size_t polled, size_t reachable);
/* A snapshot of the pile table's counters, rendered with the next scrape. */
struct gw_piles_stats;
void gw_metrics_set_piles(struct gw_metrics *m, const struct gw_piles_stats *ps);

/* Renders every metric, with # HELP and # TYPE, into a new NUL-terminated buffer whose length
 * goes to *len. `ws` is a snapshot of the writer's counters (gw_writer_stats). Returns NULL on
 * allocation failure; caller frees. */
char *gw_metrics_render(const struct gw_metrics *m, const struct gw_writer_stats *ws, size_t *len);

#endif
