/* evsim-pile's connections: the libwebsockets client protocol (Basic auth, subprotocol, frames
 * in and out; ws:// or wss://, with a client certificate for security profile 3), connecting at
 * a rate with reconnect back-off, and the single sweep timer that drives every pile's clock.
 * Everything runs on the lws loop. */
#include "simulators/sim.h"
#include "simulators/sim_load.h"

#include <libwebsockets.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum pile_state { PS_IDLE, PS_CONNECTING, PS_OPEN, PS_CLOSING, PS_DONE };

static struct {
    struct lws_context *ctx;
    const struct sim_opts *o;
    struct pile *piles;
    size_t n;
    lws_sorted_usec_list_t sul;
    int64_t started_ms, last_sweep_ms;
    double budget;   /* first connections that may start now (token bucket of --rate) */
    double rebudget; /* reconnections that may start now (--reconnect-rate) */
    volatile int stop_requested;
    bool over;
} run;

void (*sim_break_loop)(void);

int64_t sim_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sim_now_ms(void)
{
    return sim_now_us() / 1000;
}

bool sim_run_over(void)
{
    return run.over;
}

/* Async-signal-safe: a flag the sweep reads. */
void sim_request_stop(void)
{
    run.stop_requested = 1;
}

int sim_send(struct pile *p, const char *text, size_t len)
{
    if (!p->wsi || (p->state != PS_OPEN && p->state != PS_CLOSING))
        return -1;
    struct txbuf *b = malloc(sizeof *b + LWS_PRE + len);
    if (!b)
        return -1;
    b->next = NULL;
    b->len = len;
    memcpy(b->buf + LWS_PRE, text, len);
    if (p->tx_tail)
        p->tx_tail->next = b;
    else
        p->tx_head = b;
    p->tx_tail = b;
    lws_callback_on_writable(p->wsi);
    return 0;
}

int sim_send_direct(struct pile *p, unsigned char *buf, size_t len)
{
    if (p->tx_head || !p->wsi || p->state != PS_OPEN)
        return sim_send(p, (const char *)buf + LWS_PRE, len);
    /* Outside the writeable callback: lws keeps what the socket does not take and sends it
     * before anything else. This saves the copy and, per CALL, the two epoll_ctl of asking for
     * POLLOUT and dropping it again, and a wake-up (perf: epoll_ctl was 8 % of the load's CPU). */
    if (lws_write(p->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
        sim_close(p);
        return -1;
    }
    return 0;
}

void sim_close(struct pile *p)
{
    if (p->wsi && p->state == PS_OPEN) {
        p->state = PS_CLOSING;
        lws_callback_on_writable(p->wsi);
    }
}

static void drop_buffers(struct pile *p)
{
    while (p->tx_head) {
        struct txbuf *b = p->tx_head;
        p->tx_head = b->next;
        free(b);
    }
    p->tx_tail = NULL;
    free(p->rx);
    p->rx = NULL;
    p->rx_len = 0;
}

/* After a failure or a close: back off and try again, or stop for good. Exponential from
 * --backoff-first (1 s) to --backoff-max (60 s) with "equal jitter" (half fixed, half random) so
 * that a gateway restart is not answered by every pile in the same second. */
static void schedule_reconnect(struct pile *p, int64_t now_ms)
{
    if ((!run.o->reconnect && !p->reboot) || run.over) { /* reboot: after a Reset */
        p->state = PS_DONE;
        return;
    }
    int shift = p->attempts < 20 ? p->attempts : 20;
    int64_t first = (int64_t)(run.o->backoff_first_s * 1000),
            max = (int64_t)(run.o->backoff_max_s * 1000);
    int64_t delay = first << shift;
    if (delay > max)
        delay = max;
    delay = delay / 2 + (int64_t)(random() % (delay / 2 + 1));
    if (p->attempts < UINT16_MAX)
        p->attempts++;
    p->state = PS_IDLE;
    p->next_connect_ms = now_ms + delay;
}

/* No lws validity (ping) timer per connection: lws keeps its timers in one sorted list, and
 * re-arming one per received message is O(connections) each (measured: 38 % of the CPU at
 * 10 000 piles). The gateway pings us; the OCPP heartbeat is our liveness. */
static const lws_retry_bo_t no_validity = {.secs_since_valid_ping = 0,
                                           .secs_since_valid_hangup = 0};

static void connect_pile(struct pile *p)
{
    const struct sim_opts *o = run.o;
    char path[sizeof o->path + SIM_ID_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", o->path, p->id);
    const char *proto = o->version == OCPP_V16 ? "ocpp1.6" : "ocpp2.0.1";
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = run.ctx;
    ci.address = o->host;
    ci.port = o->port;
    ci.path = path;
    ci.host = o->host;
    ci.origin = o->host;
    ci.protocol = proto;
    ci.local_protocol_name = proto;
    ci.ietf_version_or_minus_one = -1;
    ci.userdata = p;
    ci.pwsi = &p->wsi;
    ci.retry_and_idle_policy = &no_validity;
    if (o->tls) {
        /* The gateway's certificate is verified against --tls-ca (or the system's CAs),
         * host name included; the client certificate, if any, is the context's (evsim_pile.c).
         * HTTP/1.1 only: the OCPP-J upgrade is an HTTP/1.1 one. */
        ci.ssl_connection = LCCSCF_USE_SSL;
        ci.alpn = "http/1.1";
    }
    if (o->nsources)
        ci.iface = o->sources[p->index % (uint32_t)o->nsources];
    if (p->tried)
        g_stats.reconnects++;
    p->tried = 1;
    p->state = PS_CONNECTING;
    p->next_connect_ms = sim_now_ms(); /* while connecting: when it began (the watchdog's) */
    if (!lws_client_connect_via_info(&ci)) {
        /* lws already reported CLIENT_CONNECTION_ERROR or could not start at all */
        if (p->state == PS_CONNECTING) {
            p->wsi = NULL;
            g_stats.connect_failed++;
            g_stats.handshake_status[0]++;
            schedule_reconnect(p, sim_now_ms());
        }
    }
}

/* The HTTP status of a refused handshake, 0 when there was no HTTP answer. lws keeps the
 * response headers until the error callback returns. */
static unsigned handshake_status(struct lws *wsi, const char *why)
{
    unsigned st = wsi ? lws_http_client_http_response(wsi) : 0;
    if (st >= 100 && st < 600)
        return st;
    if (wsi) {
        char buf[16];
        if (lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP) > 0) {
            st = (unsigned)atoi(buf);
            if (st >= 100 && st < 600)
                return st;
        }
    }
    (void)why;
    return 0;
}

static int on_append_headers(struct pile *p, struct lws *wsi, unsigned char **pp, size_t len)
{
    if (!p->password)
        return 0; /* security profile 3: the client certificate is the credential */
    char cred[SIM_ID_MAX + SIM_PASSWORD_MAX + 2], b64[(sizeof cred) * 4 / 3 + 8];
    char value[sizeof b64 + 8];
    int n = snprintf(cred, sizeof cred, "%s:%s", p->id, p->password);
    if (n < 0 || (size_t)n >= sizeof cred)
        return -1;
    if (lws_b64_encode_string(cred, n, b64, (int)sizeof b64) < 0)
        return -1;
    n = snprintf(value, sizeof value, "Basic %s", b64);
    unsigned char *end = *pp + len;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)value, n,
                                     pp, end))
        return -1;
    return 0;
}

static void on_receive(struct pile *p, struct lws *wsi, const char *in, size_t len)
{
    bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
    if (first && final && !p->rx) {
        sim_on_message(run.o, p, in, len);
        return;
    }
    if (first) {
        free(p->rx);
        p->rx = NULL;
        p->rx_len = 0;
    }
    if ((size_t)p->rx_len + len > SIM_RX_MAX) {
        g_stats.received_bad++;
        free(p->rx);
        p->rx = NULL;
        p->rx_len = 0;
        return;
    }
    char *nb = realloc(p->rx, p->rx_len + len + 1);
    if (!nb)
        return;
    memcpy(nb + p->rx_len, in, len);
    p->rx = nb;
    p->rx_len += (uint32_t)len;
    if (final) {
        char *msg = p->rx;
        size_t n = p->rx_len;
        p->rx = NULL;
        p->rx_len = 0;
        sim_on_message(run.o, p, msg, n);
        free(msg);
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct pile *p = user;
    /* A connection the watchdog gave up on (sweep) that lws still knew is not the pile's any
     * more: it is closed if it opens, and its close or error is not the pile's. */
    bool stale = p && p->wsi && wsi != p->wsi;
    if (p && reason == LWS_CALLBACK_CLIENT_ESTABLISHED && (stale || p->state != PS_CONNECTING))
        return -1;
    if (stale && (reason == LWS_CALLBACK_CLIENT_RECEIVE || reason == LWS_CALLBACK_CLIENT_WRITEABLE))
        return -1;
    if (stale &&
        (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_CLIENT_CLOSED))
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return p ? on_append_headers(p, wsi, (unsigned char **)in, len) : 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!p)
            break;
        g_stats.connect_failed++;
        g_stats.handshake_status[handshake_status(wsi, in)]++;
        if (!run.o->quiet && g_stats.connect_failed <= 5)
            fprintf(stderr, "evsim-pile: %s: connection failed: %s\n", p->id,
                    in ? (const char *)in : "?");
        p->wsi = NULL;
        drop_buffers(p);
        schedule_reconnect(p, sim_now_ms());
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        p->wsi = wsi;
        p->state = PS_OPEN;
        p->attempts = 0;
        g_stats.connected++;
        if (!p->ever_connected)
            g_stats.piles_connected++;
        p->ever_connected = 1;
        sim_on_open(run.o, p, sim_now_ms());
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_frame_is_binary(wsi)) {
            g_stats.received_bad++;
            break;
        }
        on_receive(p, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        struct txbuf *b = p->tx_head;
        if (!b && p->state == PS_CLOSING) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (!b)
            break;
        if (lws_write(wsi, b->buf + LWS_PRE, b->len, LWS_WRITE_TEXT) < (int)b->len)
            return -1;
        p->tx_head = b->next;
        if (!p->tx_head)
            p->tx_tail = NULL;
        free(b);
        if (p->tx_head || p->state == PS_CLOSING)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!p)
            break;
        if (!run.over)
            g_stats.disconnects++; /* not the ones the exit closes */
        p->wsi = NULL;
        drop_buffers(p);
        sim_on_close(p);
        schedule_reconnect(p, sim_now_ms());
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ocpp1.6", callback, 0, SIM_LWS_RX_BYTES, 0, NULL, 0},
    {"ocpp2.0.1", callback, 0, SIM_LWS_RX_BYTES, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};
const struct lws_protocols *sim_protocols = protocols;

static void sweep(lws_sorted_usec_list_t *sul)
{
    int64_t now = sim_now_ms();
    const struct sim_opts *o = run.o;
    /* --load-go-signal: --duration counts from the signal */
    int64_t from = o->scenario == SC_LOAD && o->load_go ? sim_load_go_ms() : run.started_ms;
    bool ending = run.stop_requested ||
                  (o->duration_s > 0 && from && now - from >= (int64_t)(o->duration_s * 1000));
    if (!run.over && ending && o->scenario == SC_LOAD) {
        /* the load's window ends here; the run, once its CALLs are answered (or at a signal) */
        sim_load_end();
        run.over = run.stop_requested || sim_load_drained();
    } else if (!run.over && ending) {
        run.over = true;
    }
    if (run.over) {
        if (sim_break_loop)
            sim_break_loop();
        else
            lws_cancel_service(run.ctx);
        return;
    }
    double cap = o->rate * SIM_SWEEP_MS / 1000.0 + 1;
    run.budget += o->rate * (double)(now - run.last_sweep_ms) / 1000.0;
    if (run.budget > cap)
        run.budget = cap;
    double recap = o->reconnect_rate * SIM_SWEEP_MS / 1000.0 + 1;
    run.rebudget += o->reconnect_rate * (double)(now - run.last_sweep_ms) / 1000.0;
    if (run.rebudget > recap)
        run.rebudget = recap;
    run.last_sweep_ms = now;
    size_t done = 0, settling = 0;
    bool count_settling = o->scenario == SC_LOAD && !sim_load_window_set();
    for (size_t i = 0; i < run.n; i++) {
        struct pile *p = &run.piles[i];
        done += p->state == PS_DONE;
        /* load: piles yet to try, connecting, or open and not yet on the load; one whose
         * connection failed, or whose boot was refused or not answered, is done */
        if (count_settling)
            settling += (p->state == PS_IDLE && !p->tried) || p->state == PS_CONNECTING ||
                        (p->state == PS_OPEN && !p->load_ready && !(p->boot_done && !p->booted));
        if (p->state == PS_OPEN)
            sim_on_tick(o, p, now);
        else if (p->state == PS_CONNECTING && now - p->next_connect_ms > SIM_CONNECT_STUCK_MS) {
            /* in a storm lws 4.1 can leave a client connection without any callback for minutes
             * (seen: ~1 % of 19 500 piles reconnecting at once, accepted by the gateway, then
             * nothing for 2 min): give it up and try again; if it opens after all, the
             * callback closes it */
            g_stats.connects_abandoned++;
            p->wsi = NULL;
            drop_buffers(p);
            schedule_reconnect(p, now);
        } else if (p->state == PS_IDLE && p->next_connect_ms <= now) {
            double *b = p->tried ? &run.rebudget : &run.budget;
            if (*b >= 1) {
                *b -= 1;
                connect_pile(p);
            }
        }
    }
    if (count_settling)
        sim_load_settling(settling);
    if (done == run.n)
        run.over = true; /* every pile finished (and none reconnects): nothing left to time */
    lws_sul_schedule(run.ctx, 0, &run.sul, sweep, run.over ? 1 : SIM_SWEEP_MS * LWS_US_PER_MS);
}

void sim_run_start(struct lws_context *ctx, const struct sim_opts *o, struct pile *piles, size_t n)
{
    run.ctx = ctx;
    run.o = o;
    run.piles = piles;
    run.n = n;
    run.started_ms = run.last_sweep_ms = sim_now_ms();
    run.budget = run.rebudget = 1;
    for (size_t i = 0; i < n; i++) {
        piles[i].index = (uint32_t)i;
        piles[i].state = PS_IDLE;
    }
    lws_sul_schedule(ctx, 0, &run.sul, sweep, 1);
}
