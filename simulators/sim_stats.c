/* evsim-pile's counters and round-trip histogram, and the summary printed on exit (a table on
 * stdout, optionally JSON). Single-threaded: everything runs on the lws loop or after it. */
#include "simulators/sim.h"
#include "simulators/sim_load.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>

struct sim_stats g_stats;

static const char *const action_names[A_COUNT] = {
    [A_BOOT] = "BootNotification",
    [A_HEARTBEAT] = "Heartbeat",
    [A_STATUS] = "StatusNotification",
    [A_AUTHORIZE] = "Authorize",
    [A_START_TX] = "StartTransaction",
    [A_STOP_TX] = "StopTransaction",
    [A_METER] = "MeterValues",
    [A_TX_START] = "TransactionEvent.Started",
    [A_TX_UPDATE] = "TransactionEvent.Updated",
    [A_TX_END] = "TransactionEvent.Ended",
    [A_TX_TRIGGER] = "TransactionEvent.Triggered",
    [A_DIAG_STATUS] = "DiagnosticsStatusNotification",
    [A_FW_STATUS] = "FirmwareStatusNotification",
    [A_F_UNKNOWN_ACTION] = "faulty.unknown_action",
    [A_F_MISSING_REQUIRED] = "faulty.missing_required",
    [A_F_WRONG_TYPE] = "faulty.wrong_type",
    [A_F_LONG_ID] = "faulty.id_37_chars",
    [A_F_MALFORMED] = "faulty.malformed_json",
    [A_CF_BAD_SCHEMA] = "conform.bad_schema",
    [A_CF_REUSED_ID] = "conform.reused_id",
    [A_CF_OVERLAP] = "conform.overlap",
};

const char *sim_action_name(enum sim_action a)
{
    return a < A_COUNT ? action_names[a] : "?";
}

/* The central system's CALLs by action: [i] is the version's CS->CP action i (ocpp_to_cp_name),
 * [CS_OTHER] any other name. Each: received, answered with a CALLRESULT, with a CALLERROR. */
#define CS_OTHER 48
static uint64_t cs_by_action[CS_OTHER + 1][3];

void sim_stats_cs_call(enum ocpp_version v, const char *action, bool result)
{
    size_t i = 0, n = ocpp_to_cp_count(v);
    while (i < n && i < CS_OTHER && strcmp(ocpp_to_cp_name(v, i), action) != 0)
        i++;
    if (i == n || i >= CS_OTHER)
        i = CS_OTHER;
    cs_by_action[i][0]++;
    cs_by_action[i][result ? 1 : 2]++;
}

static const char *cs_action_name(enum ocpp_version v, size_t i)
{
    return i < CS_OTHER ? ocpp_to_cp_name(v, i) : "(other)";
}

/* CALLERROR codes: both versions define fewer than 16; the rest go to "other". */
#define CODES_MAX 24
static struct {
    char code[40];
    uint64_t n;
} codes[CODES_MAX];
static int ncodes;
static uint64_t codes_other;

void sim_stats_error_code(const char *code)
{
    for (int i = 0; i < ncodes; i++)
        if (strcmp(codes[i].code, code) == 0) {
            codes[i].n++;
            return;
        }
    if (ncodes == CODES_MAX || strlen(code) >= sizeof codes[0].code) {
        codes_other++;
        return;
    }
    snprintf(codes[ncodes].code, sizeof codes[0].code, "%s", code);
    codes[ncodes++].n = 1;
}

/* Log-linear histogram of microseconds: values below 2^SIM_HIST_SUB_BITS exactly, above that
 * 2^SIM_HIST_SUB_BITS sub-buckets per power of two (relative error under 3 %), up to 2^40 us. */
#define SUBS (1 << SIM_HIST_SUB_BITS)
#define EXPS (40 - SIM_HIST_SUB_BITS + 1)
_Static_assert(EXPS *SUBS == SIM_HIST_BUCKETS, "sim_hist's bucket count");
static struct sim_hist rtt;

static size_t bucket_of(uint64_t v)
{
    if (v < SUBS)
        return (size_t)v;
    int msb = 63 - __builtin_clzll(v);
    if (msb >= 40)
        return EXPS * SUBS - 1;
    int e = msb - SIM_HIST_SUB_BITS + 1;
    uint64_t sub = (v >> (e - 1)) & (SUBS - 1);
    return (size_t)e * SUBS + (size_t)sub;
}

/* The largest value in bucket b. */
static uint64_t bucket_top(size_t b)
{
    size_t e = b / SUBS, sub = b % SUBS;
    if (e == 0)
        return sub;
    return (((uint64_t)SUBS + sub + 1) << (e - 1)) - 1;
}

void sim_hist_add(struct sim_hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    h->b[bucket_of((uint64_t)us)]++;
    h->n++;
    if (us > h->max)
        h->max = us;
}

int64_t sim_hist_quantile_us(const struct sim_hist *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if (rank >= h->n)
        rank = h->n - 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < EXPS * SUBS; b++) {
        seen += h->b[b];
        if (seen > rank) {
            uint64_t top = bucket_top(b);
            return (int64_t)top > h->max ? h->max : (int64_t)top;
        }
    }
    return h->max;
}

void sim_stats_latency(int64_t us)
{
    sim_hist_add(&rtt, us);
}

/* The q-quantile of all round trips in milliseconds. */
static double quantile_ms(double q)
{
    return (double)sim_hist_quantile_us(&rtt, q) / 1000.0;
}

static const char *scenario_name(enum sim_scenario s)
{
    static const char *const n[] = {"boot", "idle", "charge", "faulty", "conform", "load"};
    return n[s];
}

int sim_stats_report(const struct sim_opts *o, size_t piles, double elapsed_s, const char *path)
{
    const struct sim_stats *s = &g_stats;
    uint64_t failed = 0;
    for (size_t i = 0; i < 600; i++)
        failed += s->handshake_status[i];
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    static const char *const qn[] = {"p50", "p90", "p99", "p99.9"};

    printf("evsim-pile summary: %s %s, %zu piles, %.1f s\n",
           o->version == OCPP_V16 ? "ocpp1.6" : "ocpp2.0.1", scenario_name(o->scenario), piles,
           elapsed_s);
    printf("  piles connected %llu  connections %llu  failed handshakes %llu  reconnects %llu"
           "  disconnects %llu\n",
           (unsigned long long)s->piles_connected, (unsigned long long)s->connected,
           (unsigned long long)failed, (unsigned long long)s->reconnects,
           (unsigned long long)s->disconnects);
    if (s->connects_abandoned)
        printf("  connects abandoned (no lws callback within %d s): %llu\n",
               SIM_CONNECT_STUCK_MS / 1000, (unsigned long long)s->connects_abandoned);
    for (size_t i = 0; i < 600; i++)
        if (s->handshake_status[i])
            printf("    handshake failed, HTTP %zu%s: %llu\n", i, i ? "" : " (no answer)",
                   (unsigned long long)s->handshake_status[i]);
    printf("  %-26s %10s %10s %10s %10s %10s\n", "CALL", "sent", "answered", "callerror", "timeout",
           "at exit");
    for (int a = 0; a < A_COUNT; a++)
        if (s->sent[a])
            printf("  %-26s %10llu %10llu %10llu %10llu %10llu\n", action_names[a],
                   (unsigned long long)s->sent[a], (unsigned long long)s->answered[a],
                   (unsigned long long)s->errored[a], (unsigned long long)s->timed_out[a],
                   (unsigned long long)s->in_flight[a]);
    printf("  CALLERRORs received by code:%s\n", ncodes || codes_other ? "" : " none");
    for (int i = 0; i < ncodes; i++)
        printf("    %-32s %llu\n", codes[i].code, (unsigned long long)codes[i].n);
    if (codes_other)
        printf("    %-32s %llu\n", "(other)", (unsigned long long)codes_other);
    printf("  CS->CP CALLs %llu answered %llu (NotSupported or NotImplemented %llu)\n",
           (unsigned long long)s->cs_calls, (unsigned long long)s->cs_calls_answered,
           (unsigned long long)s->cs_calls_unsupported);
    size_t ncs = ocpp_to_cp_count(o->version);
    if (s->cs_calls)
        printf("    %-28s %10s %10s %10s\n", "received CALL", "received", "result", "callerror");
    for (size_t i = 0; i <= CS_OTHER; i++)
        if ((i < ncs || i == CS_OTHER) && cs_by_action[i][0])
            printf("    %-28s %10llu %10llu %10llu\n", cs_action_name(o->version, i),
                   (unsigned long long)cs_by_action[i][0], (unsigned long long)cs_by_action[i][1],
                   (unsigned long long)cs_by_action[i][2]);
    printf("  answers failing their schema %llu; late or unknown answers %llu; bad frames "
           "received %llu; own invalid payloads %llu\n",
           (unsigned long long)s->invalid_answers, (unsigned long long)s->unmatched,
           (unsigned long long)s->received_bad, (unsigned long long)s->invalid_sent);
    printf("  round trip (ms, %llu samples):", (unsigned long long)rtt.n);
    for (int i = 0; i < 4; i++)
        printf(" %s %.3f", qn[i], quantile_ms(qs[i]));
    printf(" max %.3f\n", (double)rtt.max / 1000.0);
    if (o->scenario == SC_LOAD)
        sim_load_print();
    fflush(stdout);
    if (!path)
        return 0;

    json_t *root = json_object(), *calls = json_object(), *errs = json_object();
    json_t *hs = json_object(), *lat = json_object(), *cs = json_object();
    for (size_t i = 0; i < 600; i++)
        if (s->handshake_status[i]) {
            char k[8];
            snprintf(k, sizeof k, "%zu", i);
            json_object_set_new(hs, k, json_integer((json_int_t)s->handshake_status[i]));
        }
    for (int a = 0; a < A_COUNT; a++)
        if (s->sent[a])
            json_object_set_new(
                calls, action_names[a],
                json_pack("{s:I, s:I, s:I, s:I, s:I}", "sent", (json_int_t)s->sent[a], "answered",
                          (json_int_t)s->answered[a], "callerror", (json_int_t)s->errored[a],
                          "timeout", (json_int_t)s->timed_out[a], "in_flight",
                          (json_int_t)s->in_flight[a]));
    for (size_t i = 0; i <= CS_OTHER; i++)
        if ((i < ncs || i == CS_OTHER) && cs_by_action[i][0])
            json_object_set_new(cs, cs_action_name(o->version, i),
                                json_pack("{s:I, s:I, s:I}", "received",
                                          (json_int_t)cs_by_action[i][0], "result",
                                          (json_int_t)cs_by_action[i][1], "callerror",
                                          (json_int_t)cs_by_action[i][2]));
    for (int i = 0; i < ncodes; i++)
        json_object_set_new(errs, codes[i].code, json_integer((json_int_t)codes[i].n));
    if (codes_other)
        json_object_set_new(errs, "(other)", json_integer((json_int_t)codes_other));
    json_object_set_new(lat, "samples", json_integer((json_int_t)rtt.n));
    for (int i = 0; i < 4; i++)
        json_object_set_new(lat, qn[i], json_real(quantile_ms(qs[i])));
    json_object_set_new(lat, "max", json_real((double)rtt.max / 1000.0));
    json_object_set_new(root, "protocol",
                        json_string(o->version == OCPP_V16 ? "ocpp1.6" : "ocpp2.0.1"));
    json_object_set_new(root, "scenario", json_string(scenario_name(o->scenario)));
    json_object_set_new(root, "piles", json_integer((json_int_t)piles));
    json_object_set_new(root, "elapsed_s", json_real(elapsed_s));
    json_object_set_new(root, "connected", json_integer((json_int_t)s->piles_connected));
    json_object_set_new(root, "connections", json_integer((json_int_t)s->connected));
    json_object_set_new(root, "failed_handshakes", json_integer((json_int_t)failed));
    json_object_set_new(root, "failed_handshakes_by_status", hs);
    json_object_set_new(root, "reconnects", json_integer((json_int_t)s->reconnects));
    json_object_set_new(root, "disconnects", json_integer((json_int_t)s->disconnects));
    json_object_set_new(root, "connects_abandoned",
                        json_integer((json_int_t)s->connects_abandoned));
    json_object_set_new(root, "boots_accepted", json_integer((json_int_t)s->boots_accepted));
    json_object_set_new(root, "transactions", json_integer((json_int_t)s->transactions));
    json_object_set_new(root, "calls", calls);
    json_object_set_new(root, "callerrors", errs);
    json_object_set_new(root, "cs_calls", json_integer((json_int_t)s->cs_calls));
    json_object_set_new(root, "cs_calls_answered", json_integer((json_int_t)s->cs_calls_answered));
    json_object_set_new(root, "cs_calls_by_action", cs);
    json_object_set_new(root, "received_bad_frames", json_integer((json_int_t)s->received_bad));
    json_object_set_new(root, "invalid_sent", json_integer((json_int_t)s->invalid_sent));
    json_object_set_new(root, "invalid_answers", json_integer((json_int_t)s->invalid_answers));
    json_object_set_new(root, "unmatched_answers", json_integer((json_int_t)s->unmatched));
    json_object_set_new(root, "latency_ms", lat);
    if (o->scenario == SC_LOAD)
        json_object_set_new(root, "load", sim_load_json());
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (rc != 0)
        fprintf(stderr, "evsim-pile: cannot write %s\n", path);
    return rc == 0 ? 0 : -1;
}
