/* Gateway counters rendered as Prometheus text; see metrics.h. */
#include "gateway/metrics.h"
#include "common/promtext.h"
#include "gateway/ocpp.h"
#include "gateway/piles.h"
#include "gateway/writer.h"
#include "common/procstat.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Distinct (route, status) pairs kept; routes are a closed set and statuses a handful, so this
 * is never reached in practice; beyond it requests are counted without labels. */
#define GW_METRICS_HTTP_SERIES 32
/* Handshake results are a closed set: "accepted" and the refusal codes of ocpp_handshake.c
 * (about a dozen with the TLS profiles); room to spare. */
#define GW_METRICS_OCPP_RESULTS 24
/* (version, action) pairs: 1.6 has 40 actions, 2.0.1 64, plus 4 pseudo-actions each. */
#define GW_METRICS_OCPP_SERIES 160
/* CALLERROR codes of both versions: 16 distinct. */
#define GW_METRICS_OCPP_CODES 24
/* (state, error) pairs of finished commands: 4 states and 9 error codes. */
#define GW_METRICS_OCPP_COMMAND_SERIES 16
/* (interface, Ret) pairs of T/CEC requests: 5 interface labels and 7 Ret codes. */
#define GW_METRICS_TCEC_SERIES 40

/* Routes with a latency histogram: /healthz, /metrics, /evcs/v1 and "other"; room to spare. */
#define GW_METRICS_HTTP_ROUTES 8
/* Upper bounds of the HTTP latency buckets, in seconds (T/CEC answers wait for the writer). */
static const double http_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define HTTP_BUCKETS (sizeof http_le / sizeof http_le[0])
/* Upper bounds of the buckets of a stored CALL's time to its answer, in seconds: the writer's
 * gather (writer_batch_ms) and commit, and whatever the event loop had queued before it. */
static const double call_le[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};
#define CALL_BUCKETS (sizeof call_le / sizeof call_le[0])
/* End states of conformance runs (db/runs.c), and "other" last. */
static const char *const conform_states[] = {"passed", "failed", "error", "cancelled", "other"};
#define CONFORM_STATES (sizeof conform_states / sizeof conform_states[0])

struct http_series {
    const char *route;
    int status;
    uint64_t count;
};

struct gw_metrics {
    const char *version;
    const char *event_loop;
    double start_time; /* seconds since the epoch */
    long connections;
    uint64_t conn_refused_fds;
    uint64_t conn_accepted, accept_full_batches;
    struct http_series http[GW_METRICS_HTTP_SERIES];
    size_t nhttp;
    uint64_t http_dropped; /* requests whose series did not fit */
    struct {
        const char *route;
        uint64_t bucket[HTTP_BUCKETS]; /* not cumulative; summed when rendered */
        uint64_t count;
        double sum;
    } http_hist[GW_METRICS_HTTP_ROUTES];
    size_t nhttp_hist;
    _Atomic uint64_t conform_runs[CONFORM_STATES];
    struct {
        const char *result;
        uint64_t count;
    } ocpp_handshakes[GW_METRICS_OCPP_RESULTS];
    size_t nocpp_handshakes;
    long ocpp_conns[GW_OCPP_VERSIONS];
    struct {
        int version;
        const char *action;
        uint64_t count;
    } ocpp_msgs[GW_METRICS_OCPP_SERIES];
    size_t nocpp_msgs;
    uint64_t ocpp_msgs_unlabelled;
    struct {
        const char *code;
        uint64_t count;
    } ocpp_errors[GW_METRICS_OCPP_CODES];
    size_t nocpp_errors;
    uint64_t ocpp_dropped;
    uint64_t call_bucket[CALL_BUCKETS + 1]; /* not cumulative; the last one is above them all */
    double call_sum;
    uint64_t ocpp_commands_sent;
    struct {
        const char *state, *error; /* error may be NULL */
        uint64_t count;
    } ocpp_commands[GW_METRICS_OCPP_COMMAND_SERIES];
    size_t nocpp_commands;
    struct {
        const char *interface;
        int ret;
        uint64_t count;
    } tcec[GW_METRICS_TCEC_SERIES];
    size_t ntcec;
    uint64_t tcec_unlabelled;
    struct gw_piles_stats piles;
    size_t tcec_polled, tcec_reachable;
};

struct gw_metrics *gw_metrics_new(const char *version, const char *event_loop)
{
    struct gw_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    m->start_time = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    m->version = version;
    m->event_loop = event_loop;
    return m;
}

void gw_metrics_free(struct gw_metrics *m)
{
    free(m);
}

void gw_metrics_conn_open(struct gw_metrics *m)
{
    m->connections++;
}

void gw_metrics_conn_close(struct gw_metrics *m)
{
    if (m->connections > 0)
        m->connections--;
}

void gw_metrics_conn_refused_fds(struct gw_metrics *m)
{
    m->conn_refused_fds++;
}

void gw_metrics_accept_batch(struct gw_metrics *m, unsigned accepted, bool full)
{
    m->conn_accepted += accepted;
    m->accept_full_batches += full;
}

static void http_observe(struct gw_metrics *m, const char *route, double seconds)
{
    size_t i = 0;
    while (i < m->nhttp_hist && strcmp(m->http_hist[i].route, route) != 0)
        i++;
    if (i == m->nhttp_hist) {
        if (i == GW_METRICS_HTTP_ROUTES)
            return;
        m->http_hist[m->nhttp_hist++].route = route;
    }
    size_t b = 0;
    while (b < HTTP_BUCKETS && seconds > http_le[b])
        b++;
    if (b < HTTP_BUCKETS)
        m->http_hist[i].bucket[b]++;
    m->http_hist[i].count++;
    m->http_hist[i].sum += seconds;
}

void gw_metrics_http_request(struct gw_metrics *m, const char *route, int status, double seconds)
{
    if (seconds >= 0)
        http_observe(m, route, seconds);
    for (size_t i = 0; i < m->nhttp; i++)
        if (m->http[i].status == status && strcmp(m->http[i].route, route) == 0) {
            m->http[i].count++;
            return;
        }
    if (m->nhttp == GW_METRICS_HTTP_SERIES) {
        m->http_dropped++;
        return;
    }
    m->http[m->nhttp++] = (struct http_series){.route = route, .status = status, .count = 1};
}

void gw_metrics_ocpp_handshake(struct gw_metrics *m, const char *result)
{
    for (size_t i = 0; i < m->nocpp_handshakes; i++)
        if (strcmp(m->ocpp_handshakes[i].result, result) == 0) {
            m->ocpp_handshakes[i].count++;
            return;
        }
    if (m->nocpp_handshakes < GW_METRICS_OCPP_RESULTS) {
        m->ocpp_handshakes[m->nocpp_handshakes].result = result;
        m->ocpp_handshakes[m->nocpp_handshakes++].count = 1;
    }
}

void gw_metrics_ocpp_conn(struct gw_metrics *m, int version, int delta)
{
    if (version < 0 || version >= GW_OCPP_VERSIONS)
        return;
    m->ocpp_conns[version] += delta;
    if (m->ocpp_conns[version] < 0)
        m->ocpp_conns[version] = 0;
}

void gw_metrics_ocpp_message(struct gw_metrics *m, int version, const char *action)
{
    /* The hot path: actions are static strings of the version's table, so the same pointer
     * comes back for the same action and a pointer compare finds the series. */
    for (size_t i = 0; i < m->nocpp_msgs; i++)
        if (m->ocpp_msgs[i].action == action && m->ocpp_msgs[i].version == version) {
            m->ocpp_msgs[i].count++;
            return;
        }
    for (size_t i = 0; i < m->nocpp_msgs; i++)
        if (m->ocpp_msgs[i].version == version && strcmp(m->ocpp_msgs[i].action, action) == 0) {
            m->ocpp_msgs[i].count++;
            return;
        }
    if (m->nocpp_msgs == GW_METRICS_OCPP_SERIES || version < 0 || version >= GW_OCPP_VERSIONS) {
        m->ocpp_msgs_unlabelled++;
        return;
    }
    m->ocpp_msgs[m->nocpp_msgs].version = version;
    m->ocpp_msgs[m->nocpp_msgs].action = action;
    m->ocpp_msgs[m->nocpp_msgs++].count = 1;
}

void gw_metrics_ocpp_error(struct gw_metrics *m, const char *code)
{
    for (size_t i = 0; i < m->nocpp_errors; i++)
        if (strcmp(m->ocpp_errors[i].code, code) == 0) {
            m->ocpp_errors[i].count++;
            return;
        }
    if (m->nocpp_errors < GW_METRICS_OCPP_CODES) {
        m->ocpp_errors[m->nocpp_errors].code = code;
        m->ocpp_errors[m->nocpp_errors++].count = 1;
    }
}

void gw_metrics_ocpp_dropped(struct gw_metrics *m)
{
    m->ocpp_dropped++;
}

void gw_metrics_ocpp_call_answered(struct gw_metrics *m, double seconds)
{
    size_t b = 0;
    while (b < CALL_BUCKETS && seconds > call_le[b])
        b++;
    m->call_bucket[b]++;
    m->call_sum += seconds;
}

void gw_metrics_ocpp_command_sent(struct gw_metrics *m)
{
    m->ocpp_commands_sent++;
}

void gw_metrics_ocpp_command(struct gw_metrics *m, const char *state, const char *error)
{
    for (size_t i = 0; i < m->nocpp_commands; i++)
        if (strcmp(m->ocpp_commands[i].state, state) == 0 &&
            (m->ocpp_commands[i].error == error ||
             (error && m->ocpp_commands[i].error &&
              strcmp(m->ocpp_commands[i].error, error) == 0))) {
            m->ocpp_commands[i].count++;
            return;
        }
    if (m->nocpp_commands < GW_METRICS_OCPP_COMMAND_SERIES) {
        m->ocpp_commands[m->nocpp_commands].state = state;
        m->ocpp_commands[m->nocpp_commands].error = error;
        m->ocpp_commands[m->nocpp_commands++].count = 1;
    }
}

void gw_metrics_tcec_request(struct gw_metrics *m, const char *interface, int ret)
{
    for (size_t i = 0; i < m->ntcec; i++)
        if (m->tcec[i].ret == ret && strcmp(m->tcec[i].interface, interface) == 0) {
            m->tcec[i].count++;
            return;
        }
    if (m->ntcec == GW_METRICS_TCEC_SERIES) {
        m->tcec_unlabelled++;
        return;
    }
    m->tcec[m->ntcec].interface = interface;
    m->tcec[m->ntcec].ret = ret;
    m->tcec[m->ntcec++].count = 1;
}

void gw_metrics_conform_run(struct gw_metrics *m, const char *state)
{
    size_t i = 0;
    while (i < CONFORM_STATES - 1 && (!state || strcmp(state, conform_states[i]) != 0))
        i++;
    atomic_fetch_add_explicit(&m->conform_runs[i], 1, memory_order_relaxed);
}

void gw_metrics_set_tcec(struct gw_metrics *m, size_t polled, size_t reachable)
{
    m->tcec_polled = polled;
    m->tcec_reachable = reachable;
}

void gw_metrics_set_piles(struct gw_metrics *m, const struct gw_piles_stats *ps)
{
    m->piles = *ps;
}

/* An unlabelled histogram: `bucket` holds n + 1 counts, not cumulative, bucket[b] those up to
 * le[b] and above le[b - 1], bucket[n] those above le[n - 1]. */
static void prom_histogram(FILE *f, const char *name, const char *help, const double *le, size_t n,
                           const uint64_t *bucket, double sum)
{
    prom_head(f, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t b = 0; b < n; b++) {
        cum += bucket[b];
        fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, le[b], cum);
    }
    cum += bucket[n];
    fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    fprintf(f, "%s_sum %.6f\n", name, sum);
    fprintf(f, "%s_count %" PRIu64 "\n", name, cum);
}

char *gw_metrics_render(const struct gw_metrics *m, const struct gw_writer_stats *ws, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;

    prom_head(f, "evgate_gateway_up", "gauge", "1 while the gateway is serving.");
    fprintf(f, "evgate_gateway_up 1\n");
    prom_head(f, "evgate_gateway_info", "gauge", "Build and runtime facts, as labels.");
    fprintf(f, "evgate_gateway_info{version=\"%s\",event_loop=\"%s\"} 1\n", m->version,
            m->event_loop);
    prom_head(f, "evgate_gateway_start_time_seconds", "gauge",
              "Start time of the process in seconds since the Unix epoch.");
    fprintf(f, "evgate_gateway_start_time_seconds %.3f\n", m->start_time);
    struct procstat ps;
    procstat_read(&ps);
    procstat_render(f, &ps, m->start_time);
    char e1[PROM_LABEL_MAX], e2[PROM_LABEL_MAX];
    prom_head(f, "evgate_gateway_connections", "gauge", "Open network connections to the gateway.");
    fprintf(f, "evgate_gateway_connections %ld\n", m->connections);
    prom_single(f, "evgate_gateway_connections_refused_fds_total", "counter",
                "Connections closed right after accept because file descriptors ran short.",
                m->conn_refused_fds);
    prom_single(f, "evgate_gateway_connections_accepted_total", "counter",
                "Connections accepted from the listening sockets.", m->conn_accepted);
    prom_single(f, "evgate_gateway_accept_full_batches_total", "counter",
                "Wake-ups of a listening socket that accepted a whole batch and left the rest "
                "queued for the next (a burst of connections, as in a reconnect storm).",
                m->accept_full_batches);

    prom_head(f, "evgate_gateway_http_requests_total", "counter",
              "HTTP requests answered, by route and status.");
    for (size_t i = 0; i < m->nhttp; i++)
        fprintf(f, "evgate_gateway_http_requests_total{route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
                prom_label(e1, m->http[i].route), m->http[i].status, m->http[i].count);
    prom_head(f, "evgate_gateway_http_request_duration_seconds", "histogram",
              "Time from an HTTP request to its answer, by route (OCPP upgrades apart).");
    for (size_t i = 0; i < m->nhttp_hist; i++) {
        uint64_t cum = 0;
        prom_label(e1, m->http_hist[i].route);
        for (size_t b = 0; b < HTTP_BUCKETS; b++) {
            cum += m->http_hist[i].bucket[b];
            fprintf(f,
                    "evgate_gateway_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                    "%" PRIu64 "\n",
                    e1, http_le[b], cum);
        }
        fprintf(f,
                "evgate_gateway_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                "%" PRIu64 "\n",
                e1, m->http_hist[i].count);
        fprintf(f, "evgate_gateway_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", e1,
                m->http_hist[i].sum);
        fprintf(f, "evgate_gateway_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                e1, m->http_hist[i].count);
    }
    prom_single(f, "evgate_gateway_http_requests_unlabelled_total", "counter",
                "HTTP requests answered but not counted by route (too many distinct series).",
                m->http_dropped);

    prom_head(f, "evgate_gateway_ocpp_connections", "gauge",
              "Piles connected over OCPP-J, by negotiated subprotocol.");
    for (int v = 0; v < GW_OCPP_VERSIONS; v++)
        fprintf(f, "evgate_gateway_ocpp_connections{protocol=\"%s\"} %ld\n",
                gw_ocpp_version_name((enum gw_ocpp_version)v), m->ocpp_conns[v]);
    prom_head(f, "evgate_gateway_ocpp_handshakes_total", "counter",
              "OCPP-J WebSocket upgrades decided, by result (accepted or the refusal's reason).");
    for (size_t i = 0; i < m->nocpp_handshakes; i++)
        fprintf(f, "evgate_gateway_ocpp_handshakes_total{result=\"%s\"} %" PRIu64 "\n",
                prom_label(e1, m->ocpp_handshakes[i].result), m->ocpp_handshakes[i].count);
    prom_head(f, "evgate_gateway_ocpp_messages_total", "counter",
              "OCPP-J messages received from piles and handed to the dispatcher, by version and "
              "action (CALLs; CALLRESULT, CALLERROR, invalid frames and unknown actions apart).");
    for (size_t i = 0; i < m->nocpp_msgs; i++)
        fprintf(f, "evgate_gateway_ocpp_messages_total{version=\"%s\",action=\"%s\"} %" PRIu64 "\n",
                gw_ocpp_version_name((enum gw_ocpp_version)m->ocpp_msgs[i].version),
                prom_label(e1, m->ocpp_msgs[i].action), m->ocpp_msgs[i].count);
    prom_single(f, "evgate_gateway_ocpp_messages_unlabelled_total", "counter",
                "OCPP-J messages counted without labels (too many distinct series).",
                m->ocpp_msgs_unlabelled);
    prom_head(f, "evgate_gateway_ocpp_errors_total", "counter",
              "CALLERRORs sent to piles, by error code.");
    for (size_t i = 0; i < m->nocpp_errors; i++)
        fprintf(f, "evgate_gateway_ocpp_errors_total{code=\"%s\"} %" PRIu64 "\n",
                prom_label(e1, m->ocpp_errors[i].code), m->ocpp_errors[i].count);
    prom_single(
        f, "evgate_gateway_ocpp_messages_dropped_total", "counter",
        "OCPP-J messages dropped unanswered because the pile exceeded ocpp_max_msgs_per_min.",
        m->ocpp_dropped);
    prom_histogram(
        f, "evgate_gateway_ocpp_call_seconds",
        "Time in the gateway from a pile's CALL to its answer (CALLs stored by the writer).",
        call_le, CALL_BUCKETS, m->call_bucket, m->call_sum);
    prom_single(f, "evgate_gateway_ocpp_commands_sent_total", "counter",
                "Remote operations (CS->CP CALLs) sent to piles.", m->ocpp_commands_sent);
    prom_head(f, "evgate_gateway_ocpp_commands_total", "counter",
              "Remote operations finished, by state (answered, error, timeout, failed) and error.");
    for (size_t i = 0; i < m->nocpp_commands; i++)
        fprintf(f, "evgate_gateway_ocpp_commands_total{state=\"%s\",error=\"%s\"} %" PRIu64 "\n",
                prom_label(e1, m->ocpp_commands[i].state),
                prom_label(e2, m->ocpp_commands[i].error), m->ocpp_commands[i].count);
    prom_head(f, "evgate_gateway_tcec_requests_total", "counter",
              "T/CEC requests of operator platforms answered, by interface and Ret.");
    for (size_t i = 0; i < m->ntcec; i++)
        fprintf(f, "evgate_gateway_tcec_requests_total{interface=\"%s\",ret=\"%d\"} %" PRIu64 "\n",
                prom_label(e1, m->tcec[i].interface), m->tcec[i].ret, m->tcec[i].count);
    prom_single(
        f, "evgate_gateway_tcec_platforms", "gauge",
        "Operator platforms the gateway polled in its last T/CEC round (query_stations_info).",
        m->tcec_polled);
    prom_single(f, "evgate_gateway_tcec_platforms_reachable", "gauge",
                "Operator platforms that answered in the last T/CEC round.", m->tcec_reachable);
    prom_single(f, "evgate_gateway_tcec_requests_unlabelled_total", "counter",
                "T/CEC requests counted without labels (too many distinct series).",
                m->tcec_unlabelled);
    prom_head(f, "evgate_gateway_conform_runs_total", "counter",
              "Conformance runs ended, by end state (passed, failed, error, cancelled, other).");
    for (size_t i = 0; i < CONFORM_STATES; i++)
        fprintf(
            f, "evgate_gateway_conform_runs_total{state=\"%s\"} %" PRIu64 "\n", conform_states[i],
            atomic_load_explicit(&((struct gw_metrics *)m)->conform_runs[i], memory_order_relaxed));
    prom_single(f, "evgate_gateway_pile_table_piles", "gauge",
                "Piles in the gateway's in-memory table (every status).", m->piles.piles);
    prom_single(f, "evgate_gateway_pile_table_checks_total", "counter",
                "Times the pile table was checked against the database (loads included).",
                m->piles.checks_total);
    prom_single(f, "evgate_gateway_pile_table_loads_total", "counter",
                "Times the pile table was loaded from the database (its piles had changed).",
                m->piles.loads_total);
    prom_single(f, "evgate_gateway_pile_table_load_failures_total", "counter",
                "Loads of the pile table that failed (the previous table stayed in use).",
                m->piles.load_failures);
    prom_head(f, "evgate_gateway_pile_table_age_seconds", "gauge",
              "Seconds since the pile table in use was last found current.");
    fprintf(f, "evgate_gateway_pile_table_age_seconds %.3f\n", m->piles.last_check_age_s);

    prom_single(f, "evgate_gateway_db_up", "gauge",
                "1 when the database writer's last commit or ping succeeded.", ws->db_ok ? 1u : 0u);
    prom_single(f, "evgate_gateway_writer_queue_depth", "gauge",
                "Jobs waiting for the database writer.", ws->queue_depth);
    prom_single(f, "evgate_gateway_writer_inflight", "gauge",
                "Jobs accepted by the database writer whose completion has not run yet.",
                ws->inflight);
    prom_single(f, "evgate_gateway_writer_queue_max", "gauge",
                "Most jobs in flight before the writer refuses new ones.", ws->queue_max);
    prom_single(f, "evgate_gateway_writer_jobs_total", "counter",
                "Jobs the database writer finished (committed or failed).", ws->jobs_total);
    prom_single(f, "evgate_gateway_writer_jobs_failed_total", "counter",
                "Jobs the database writer finished with an error.", ws->jobs_failed_total);
    prom_single(f, "evgate_gateway_writer_refused_total", "counter",
                "Jobs refused because the writer queue was full.", ws->refused_total);
    prom_single(f, "evgate_gateway_writer_commits_total", "counter",
                "Transactions the database writer committed.", ws->commits_total);
    prom_single(f, "evgate_gateway_writer_rollbacks_total", "counter",
                "Transactions the database writer rolled back.", ws->rollbacks_total);

    prom_histogram(f, "evgate_gateway_writer_commit_seconds",
                   "Time from BEGIN to COMMIT of the writer's committed transactions.",
                   gw_writer_commit_le, GW_WRITER_COMMIT_BUCKETS, ws->commit_buckets,
                   ws->commit_seconds_sum);

    const struct gw_ckpt_stats *ck = &ws->ckpt;
    prom_single(f, "evgate_gateway_wal_frames", "gauge",
                "Pages in the database's WAL after the writer's last commit.",
                (uint64_t)(ck->wal_frames > 0 ? ck->wal_frames : 0));
    prom_single(f, "evgate_gateway_wal_file_frames", "gauge",
                "Frames the WAL file holds once lengthened ahead of the WAL (0 before).",
                (uint64_t)(ck->reserved_frames > 0 ? ck->reserved_frames : 0));
    prom_head(f, "evgate_gateway_wal_checkpoints_total", "counter",
              "WAL checkpoints: long passes in the background, the rest by the writer.");
    fprintf(f, "evgate_gateway_wal_checkpoints_total{by=\"background\"} %" PRIu64 "\n",
            ck->passes_total);
    fprintf(f, "evgate_gateway_wal_checkpoints_total{by=\"writer\"} %" PRIu64 "\n",
            ck->finishes_total);
    prom_head(f, "evgate_gateway_wal_writer_checkpoint_seconds_total", "counter",
              "Time the writer spent copying the rest of the WAL between batches.");
    fprintf(f, "evgate_gateway_wal_writer_checkpoint_seconds_total %.6f\n", ck->finish_seconds_sum);
    prom_single(f, "evgate_gateway_wal_restarts_total", "counter",
                "Times the WAL started over from its beginning.", ck->restarts_total);
    prom_single(f, "evgate_gateway_wal_checkpoint_failures_total", "counter",
                "WAL checkpoints that failed (see the log).", ck->failures_total);

    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}
