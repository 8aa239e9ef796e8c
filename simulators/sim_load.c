/* evsim-pile --scenario load (see sim_load.h): the mix, its frames written straight from
 * templates, the answers matched by prefix, the --msg-rate schedule and the measurement window. */
#include "simulators/sim_load.h"

#include <libwebsockets.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOAD_FRAME_MAX 512 /* the longest frame below is about 290 bytes */
#define LOAD_WH_STEP   10  /* the meter's growth per MeterValues */

/* The mix by p->load_step (0..7): MeterValues, StatusNotification, MeterValues, Heartbeat, twice;
 * the first StatusNotification reports Available, the second Preparing (a valid 1.6 change
 * either way, so that each one is a status change the gateway stores). */
static const uint8_t mix[8] = {A_METER, A_STATUS, A_METER, A_HEARTBEAT,
                               A_METER, A_STATUS, A_METER, A_HEARTBEAT};

/* One pile's place on the --msg-rate schedule. */
struct slot {
    double phase_us; /* its offset within each period (n / R seconds: hours at R = 1) */
    uint32_t pile;
};

static struct {
    struct lws_context *ctx;
    const struct sim_opts *o;
    struct pile *piles;
    size_t n;
    /* the schedule: piles in phase order, the next one due, the start of the current period */
    struct slot *order;
    size_t cursor;
    double period_us, base_us;
    lws_sorted_usec_list_t sul;
    /* the window */
    int64_t run_us;           /* sim_load_start */
    int64_t booted_us;        /* every pile booted or failed; 0: not yet */
    int64_t settled_us;       /* the load began (booted, and let go with --load-go-signal) */
    int64_t start_us, end_us; /* 0: not yet */
    size_t ready;             /* piles on the load */
    size_t ready_at_end;      /* ... when the window ended (the exit closes them all) */
    uint64_t sent, answered, callerrors, timeouts, late, protocol_errors;
    uint64_t outstanding; /* sent within the window, not yet answered, timed out or lost */
    struct sim_hist rtt;
    struct sim_hist lag; /* --msg-rate: how late the timer visited each pile due in the window */
} L;

/* Whether a CALL sent at sent_us counts: sent after the window started and before it ended
 * (its answer may come after, while the run drains). */
static bool in_window(int64_t sent_us)
{
    return L.start_us && sent_us >= L.start_us && (!L.end_us || sent_us < L.end_us);
}

/* The current UTC time as 2026-11-26T05:00:00.123Z, formatted again only when the second
 * changes (the milliseconds are written in place). */
static const char *timestamp(void)
{
    static char ts[32];
    static time_t sec = -1;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    if (t.tv_sec != sec) {
        struct tm tm;
        gmtime_r(&t.tv_sec, &tm);
        if (strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
            snprintf(ts, sizeof ts, "1970-01-01T00:00:00"); /* a year past 9999 */
        sec = t.tv_sec;
    }
    unsigned ms = (unsigned)(t.tv_nsec / 1000000);
    ts[19] = '.';
    ts[20] = (char)('0' + ms / 100);
    ts[21] = (char)('0' + ms / 10 % 10);
    ts[22] = (char)('0' + ms % 10);
    ts[23] = 'Z';
    ts[24] = 0;
    return ts;
}

/* Appends the literal s (sizeof - 1 bytes) / a C string / a decimal at d; returns the new end.
 * The callers' buffer is LOAD_FRAME_MAX, well past the longest frame. */
#define PUT_LIT(d, s) (memcpy((d), (s), sizeof(s) - 1), (d) + sizeof(s) - 1)
static char *put_str(char *d, const char *s)
{
    size_t n = strlen(s);
    memcpy(d, s, n);
    return d + n;
}
static char *put_u32(char *d, uint32_t v)
{
    char t[10];
    int i = 0;
    do {
        t[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        *d++ = t[--i];
    return d;
}

/* Writes the CALL `a` with uniqueId `seq` for p into buf; returns its length. */
static size_t render(struct pile *p, int a, uint32_t seq, char *buf)
{
    char *d = PUT_LIT(buf, "[2,\"");
    d = put_u32(d, seq);
    switch (a) {
    case A_METER:
        p->meter_wh += LOAD_WH_STEP;
        d = PUT_LIT(d, "\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"");
        d = put_str(d, timestamp());
        d = PUT_LIT(d, "\",\"sampledValue\":[{\"value\":\"");
        d = put_u32(d, p->meter_wh);
        d = PUT_LIT(d, "\",\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import."
                       "Register\",\"unit\":\"Wh\"}]}]}]");
        break;
    case A_STATUS:
        d = PUT_LIT(d, "\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":\"NoError\","
                       "\"status\":\"");
        d = put_str(d, p->load_step & 4 ? "Preparing" : "Available");
        d = PUT_LIT(d, "\",\"timestamp\":\"");
        d = put_str(d, timestamp());
        d = PUT_LIT(d, "\"}]");
        break;
    default:
        d = PUT_LIT(d, "\",\"Heartbeat\",{}]");
        break;
    }
    return (size_t)(d - buf);
}

/* Sends p's next CALL of the mix and makes it the outstanding one. */
static void send_load(const struct sim_opts *o, struct pile *p, int64_t now_ms, bool late)
{
    unsigned char buf[LWS_PRE + LOAD_FRAME_MAX];
    int a = mix[p->load_step & 7];
    uint32_t seq = ++p->msg_seq;
    if (!seq)
        seq = p->msg_seq = 1;
    size_t len = render(p, a, seq, (char *)buf + LWS_PRE);
    int64_t sent_us = sim_now_us();
    if (sim_send_direct(p, buf, len) != 0)
        return;
    p->load_step = (uint8_t)((p->load_step + 1) & 7);
    p->out_seq = seq;
    p->out_action = (uint8_t)a;
    p->load_out = 1;
    p->out_sent_us = sent_us;
    p->out_deadline_ms = now_ms + o->call_timeout_s * 1000LL;
    g_stats.sent[a]++;
    if (in_window(p->out_sent_us)) {
        L.sent++;
        L.outstanding++;
        L.late += late;
    }
}

void sim_load_idle(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    if (!p->booted || p->reset || L.end_us)
        return;
    if (!p->load_ready) {
        p->load_ready = 1;
        L.ready++;
        p->next_heartbeat_ms = 0; /* the mix has its Heartbeats */
    }
    if (!L.settled_us)
        return; /* the load begins once every pile is up (see sim_load_settling) */
    if (o->msg_rate <= 0) {
        send_load(o, p, now_ms, false);
    } else if (p->load_owed) {
        p->load_owed--;
        send_load(o, p, now_ms, true);
    }
}

/* p's turn on the schedule: its CALL goes now, or when the one outstanding is answered. */
static void due(struct pile *p, int64_t now_ms)
{
    if (!p->load_ready || p->reset || !L.settled_us)
        return;
    if (p->out_seq || p->q_len || p->status_next <= p->status_end) {
        if (p->load_owed < UINT8_MAX)
            p->load_owed++;
        return;
    }
    send_load(L.o, p, now_ms, false);
}

/* The one timer of --msg-rate: visits the piles that are due, in phase order, and sleeps until
 * the next one. At most one period per visit, so that the sockets are served in between. */
static void tick(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    if (L.end_us || sim_run_over())
        return;
    int64_t now_us = sim_now_us(), now_ms = now_us / 1000;
    for (size_t visited = 0; visited < L.n; visited++) {
        double at = L.base_us + L.order[L.cursor].phase_us;
        if (at > (double)now_us)
            break;
        if (in_window((int64_t)at) && L.piles[L.order[L.cursor].pile].load_ready)
            sim_hist_add(&L.lag, now_us - (int64_t)at);
        due(&L.piles[L.order[L.cursor].pile], now_ms);
        if (++L.cursor == L.n) {
            L.cursor = 0;
            L.base_us += L.period_us;
        }
    }
    double wait = L.base_us + L.order[L.cursor].phase_us - (double)now_us;
    lws_sul_schedule(L.ctx, 0, &L.sul, tick, wait < 1 ? 1 : (lws_usec_t)wait);
}

static int by_phase(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    return (x->phase_us > y->phase_us) - (x->phase_us < y->phase_us);
}

int sim_load_start(struct lws_context *ctx, const struct sim_opts *o, struct pile *piles, size_t n)
{
    L.ctx = ctx;
    L.o = o;
    L.run_us = sim_now_us();
    L.piles = piles;
    L.n = n;
    if (o->msg_rate <= 0 || n == 0)
        return 0;
    L.order = calloc(n, sizeof *L.order);
    if (!L.order)
        return -1;
    /* each pile R/n CALLs per second: one every n/R seconds, at a random offset */
    L.period_us = (double)n * 1e6 / o->msg_rate;
    for (size_t i = 0; i < n; i++) {
        L.order[i].pile = (uint32_t)i;
        L.order[i].phase_us = (double)random() / ((double)RAND_MAX + 1) * L.period_us;
    }
    qsort(L.order, n, sizeof *L.order, by_phase);
    L.base_us = (double)sim_now_us();
    lws_sul_schedule(ctx, 0, &L.sul, tick, 1);
    return 0;
}

void sim_load_free(void)
{
    if (L.ctx && L.order)
        lws_sul_cancel(&L.sul);
    free(L.order);
    L.order = NULL;
}

/* The CALLERROR's errorCode: `[4,"id","CODE"`; p points after the id's closing quote. */
static void count_error_code(const char *s, const char *end)
{
    char code[40];
    if (end - s < 3 || s[0] != ',' || s[1] != '"') {
        sim_stats_error_code("?");
        return;
    }
    s += 2;
    size_t n = 0;
    while (s + n < end && s[n] != '"' && n < sizeof code - 1)
        n++;
    memcpy(code, s, n);
    code[n] = 0;
    sim_stats_error_code(code);
}

enum sim_load_rx sim_load_on_message(struct pile *p, const char *text, size_t len)
{
    if (len >= 2 && text[0] == '[' && text[1] == '2')
        return SIM_LOAD_CALL;
    if (len < 6 || text[0] != '[' || (text[1] != '3' && text[1] != '4') || text[2] != ',' ||
        text[3] != '"') {
        /* not `[3,"` or `[4,"`: JSON the gateway would not write, or not OCPP-J at all */
        L.protocol_errors += in_window(p->out_sent_us);
        g_stats.received_bad++;
        return SIM_LOAD_DROPPED;
    }
    char want[12];
    size_t wl = (size_t)(put_u32(want, p->out_seq) - want);
    if (len < 4 + wl + 1 || memcmp(text + 4, want, wl) != 0 || text[4 + wl] != '"') {
        g_stats.unmatched++;
        return SIM_LOAD_DROPPED;
    }
    int64_t rtt = sim_now_us() - p->out_sent_us;
    int a = p->out_action;
    bool in = in_window(p->out_sent_us);
    sim_stats_latency(rtt);
    p->out_seq = 0;
    p->load_out = 0;
    if (text[1] == '3') {
        g_stats.answered[a]++;
        L.answered += in;
    } else {
        g_stats.errored[a]++;
        count_error_code(text + 5 + wl, text + len);
        L.callerrors += in;
    }
    if (in) {
        sim_hist_add(&L.rtt, rtt);
        L.outstanding--;
    }
    return SIM_LOAD_ANSWERED;
}

void sim_load_timeout(struct pile *p)
{
    if (in_window(p->out_sent_us)) {
        L.timeouts++;
        L.outstanding--;
    }
    p->load_out = 0;
}

void sim_load_closed(struct pile *p)
{
    /* lost with the connection: a timeout; closed by the run's end: unanswered */
    if (p->load_out && !sim_run_over() && in_window(p->out_sent_us)) {
        L.timeouts++;
        L.outstanding--;
    }
    p->load_out = 0;
    p->load_owed = 0;
    if (p->load_ready)
        L.ready--;
    p->load_ready = 0;
}

static volatile sig_atomic_t go_signalled;

void sim_load_go(void)
{
    go_signalled = 1;
}

int64_t sim_load_go_ms(void)
{
    return L.o && L.o->load_go ? L.settled_us / 1000 : 0;
}

void sim_load_settling(size_t settling)
{
    if (L.start_us || settling != 0)
        return;
    if (!L.booted_us) {
        L.booted_us = sim_now_us();
        if (L.o->load_go) {
            printf("evsim-pile: load ready: %zu piles booted\n", L.ready);
            fflush(stdout);
        }
    }
    if (L.o->load_go && !go_signalled)
        return;
    L.settled_us = sim_now_us();
    L.start_us = L.settled_us + (int64_t)(L.o->warmup_s * 1e6);
}

bool sim_load_window_set(void)
{
    return L.start_us != 0;
}

void sim_load_end(void)
{
    if (!L.end_us) {
        L.end_us = sim_now_us();
        L.ready_at_end = L.ready;
    }
}

bool sim_load_drained(void)
{
    return L.outstanding == 0 || sim_now_us() - L.end_us >= SIM_LOAD_DRAIN_S * 1000000LL;
}

static double window_s(void)
{
    if (!L.start_us || !L.end_us || L.end_us <= L.start_us)
        return 0;
    return (double)(L.end_us - L.start_us) / 1e6;
}

void sim_load_print(void)
{
    double w = window_s();
    printf("  load: window %.1f s, %zu piles on the load, %s %.0f/s: sent %llu, answered %llu "
           "(%.1f/s), callerrors %llu, timeouts %llu, unanswered %llu, late %llu, protocol errors "
           "%llu\n",
           w, L.end_us ? L.ready_at_end : L.ready, L.o->msg_rate > 0 ? "paced at" : "closed loop",
           L.o->msg_rate, (unsigned long long)L.sent, (unsigned long long)L.answered,
           w > 0 ? (double)L.answered / w : 0.0, (unsigned long long)L.callerrors,
           (unsigned long long)L.timeouts, (unsigned long long)L.outstanding,
           (unsigned long long)L.late, (unsigned long long)L.protocol_errors);
    printf("  load round trip (us, %llu samples): p50 %lld p99 %lld p99.9 %lld max %lld\n",
           (unsigned long long)L.rtt.n, (long long)sim_hist_quantile_us(&L.rtt, 0.5),
           (long long)sim_hist_quantile_us(&L.rtt, 0.99),
           (long long)sim_hist_quantile_us(&L.rtt, 0.999), (long long)L.rtt.max);
    if (L.o->msg_rate > 0)
        printf("  load schedule: each due pile visited late by p50 %lld p99 %lld max %lld us\n",
               (long long)sim_hist_quantile_us(&L.lag, 0.5),
               (long long)sim_hist_quantile_us(&L.lag, 0.99), (long long)L.lag.max);
    if (!L.start_us && L.booted_us)
        printf("  load: no window: every pile booted, the load was not let go (SIGUSR1)\n");
    else if (!L.start_us)
        printf("  load: no window: piles were still connecting or booting at the end\n");
    else if (w == 0)
        printf("  load: no window: every pile booted %.1f s into the run, --warmup %.1f s ran past "
               "--duration\n",
               (double)(L.booted_us - L.run_us) / 1e6, L.o->warmup_s);
    else
        printf("  load: every pile booted (or failed) %.1f s into the run\n",
               (double)(L.booted_us - L.run_us) / 1e6);
}

json_t *sim_load_json(void)
{
    double w = window_s();
    json_t *o = json_pack(
        "{s:f, s:f, s:f, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}}",
        "window_s", w, "ramp_s", L.booted_us ? (double)(L.booted_us - L.run_us) / 1e6 : -1.0,
        "msg_rate", L.o->msg_rate, "sent", (json_int_t)L.sent, "answered", (json_int_t)L.answered,
        "rate_per_s", w > 0 ? (double)L.answered / w : 0.0, "callerrors", (json_int_t)L.callerrors,
        "timeouts", (json_int_t)L.timeouts, "unanswered", (json_int_t)L.outstanding, "late",
        (json_int_t)L.late, "protocol_errors", (json_int_t)L.protocol_errors, "piles_connected",
        (json_int_t)(L.end_us ? L.ready_at_end : L.ready), "rtt_us", "samples", (json_int_t)L.rtt.n,
        "p50", (json_int_t)sim_hist_quantile_us(&L.rtt, 0.5), "p99",
        (json_int_t)sim_hist_quantile_us(&L.rtt, 0.99), "p99.9",
        (json_int_t)sim_hist_quantile_us(&L.rtt, 0.999), "max", (json_int_t)L.rtt.max);
    if (o && L.o->msg_rate > 0)
        json_object_set_new(o, "schedule_lag_us",
                            json_pack("{s:I, s:I, s:I}", "p50",
                                      (json_int_t)sim_hist_quantile_us(&L.lag, 0.5), "p99",
                                      (json_int_t)sim_hist_quantile_us(&L.lag, 0.99), "max",
                                      (json_int_t)L.lag.max));
    return o;
}
