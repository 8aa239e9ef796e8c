/* OCPP-J connections: the lws protocols "ocpp1.6" and "ocpp2.0.1", the registry of connected
 * piles (one connection per EquipmentID), message reassembly and limits, the send queue, the
 * idle sweep. See ocpp.h. */
#include "gateway/ocpp.h"
#include "gateway/ocpp_rate.h"
#include "gateway/commands.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/ocpp_session.h"
#include "gateway/piles.h"
#include "common/config.h"
#include "common/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Backpressure: with this many messages waiting to be written to a pile, the gateway stops
 * reading from it (lws_rx_flow_control) until they are down to GW_OCPP_RX_RESUME_AT. Each CALL
 * the pile sends gets an answer, so a pile that sends faster than it reads waits in its own TCP
 * buffers instead of growing ours. */
#define GW_OCPP_RX_PAUSE_AT  32
#define GW_OCPP_RX_RESUME_AT 8
/* The send queue's hard bound above the rate limit's burst: every CALL the limit lets through
 * (a minute's worth at once) can be answered, plus this many remote operations and slack. Past
 * it the pile is closed (gw_ocpp_send() says -ENOBUFS). */
#define GW_OCPP_SENDQ_SLACK 64
/* How long a close we asked for may wait for a writeable callback before lws drops the socket. */
#define GW_OCPP_CLOSE_WAIT_S 5
/* Idle sweep period, at most: finer when the idle timeout is short. */
#define GW_OCPP_SWEEP_MS 5000
/* Reassembly buffers larger than this are freed after each message rather than kept. */
#define GW_OCPP_RX_KEEP 16384
/* Initial registry buckets (a power of two; doubles as piles connect). */
#define GW_OCPP_BUCKETS 1024

struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
};

struct gw_ocpp_conn {
    struct gw_ocpp *o;
    struct lws *wsi; /* NULL once closed */
    int refs;
    enum gw_ocpp_version version;
    char id[GW_PILE_ID_MAX + 1];
    char peer[64];
    struct gw_ocpp_conn *hnext; /* registry chain */
    bool registered;
    int64_t connected_us, last_rx_us;
    /* reassembly of a message split over several callbacks */
    char *rx;
    size_t rx_len, rx_cap;
    struct gw_rate_bucket rate; /* the pile's message-rate bucket (ocpp_rate.h) */
    uint64_t dropped, dropped_logged;
    int64_t drop_log_us;
    /* send queue */
    struct outmsg *q_head, *q_tail;
    size_t q_len;
    bool rx_paused; /* reading stopped until the queue drains (GW_OCPP_RX_PAUSE_AT) */
    /* a close we asked for (0 = none) and the reason recorded with the session */
    int close_code;
    const char *close_reason;
    bool close_sent;
    struct gw_pile_session *session;
    uint64_t violations, samples; /* the dispatcher's counters */
    struct gw_cmd_conn *cmds;     /* remote operations (commands.c) */
    bool boot_accepted;           /* the last BootNotification was answered Accepted */
    const char *triggered;        /* static: the action the last TriggerMessage asked for */
};

/* lws' per-session data: the connection lives apart so that it may outlive the socket. */
struct pss_ocpp {
    struct gw_ocpp_conn *conn;
};

struct gw_ocpp {
    struct gw_server *gw;
    struct lws_context *ctx;
    struct gw_ocpp_conn **buckets;
    size_t nbuckets, count;
    lws_sorted_usec_list_t sul_sweep;
    bool sweeping;
    size_t max_frame, sendq_max;
    struct gw_rate *rate;
    int64_t idle_us, sweep_us;
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- registry ----------------------------------------------------------------------------- */

static size_t hash_id(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct gw_ocpp_conn *registry_find(struct gw_ocpp *o, const char *id)
{
    for (struct gw_ocpp_conn *c = o->buckets[hash_id(id) & (o->nbuckets - 1)]; c; c = c->hnext)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

static void registry_grow(struct gw_ocpp *o)
{
    size_t n = o->nbuckets * 2;
    struct gw_ocpp_conn **b = calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < o->nbuckets; i++)
        for (struct gw_ocpp_conn *c = o->buckets[i], *next; c; c = next) {
            next = c->hnext;
            size_t k = hash_id(c->id) & (n - 1);
            c->hnext = b[k];
            b[k] = c;
        }
    free(o->buckets);
    o->buckets = b;
    o->nbuckets = n;
}

static void registry_add(struct gw_ocpp *o, struct gw_ocpp_conn *c)
{
    if (o->count >= o->nbuckets)
        registry_grow(o);
    size_t k = hash_id(c->id) & (o->nbuckets - 1);
    c->hnext = o->buckets[k];
    o->buckets[k] = c;
    c->registered = true;
    o->count++;
    gw_metrics_ocpp_conn(o->gw->metrics, (int)c->version, +1);
}

static void registry_remove(struct gw_ocpp *o, struct gw_ocpp_conn *c)
{
    if (!c->registered)
        return;
    for (struct gw_ocpp_conn **pp = &o->buckets[hash_id(c->id) & (o->nbuckets - 1)]; *pp;
         pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    c->hnext = NULL;
    c->registered = false;
    o->count--;
    gw_metrics_ocpp_conn(o->gw->metrics, (int)c->version, -1);
}

/* --- connections -------------------------------------------------------------------------- */

const char *gw_ocpp_conn_id(const struct gw_ocpp_conn *c)
{
    return c->id;
}

enum gw_ocpp_version gw_ocpp_conn_version(const struct gw_ocpp_conn *c)
{
    return c->version;
}

struct gw_server *gw_ocpp_conn_server(const struct gw_ocpp_conn *c)
{
    return c->o->gw;
}

bool gw_ocpp_conn_open(const struct gw_ocpp_conn *c)
{
    return c->wsi && !c->close_code;
}

struct gw_ocpp_conn *gw_ocpp_find(struct gw_ocpp *o, const char *equipment_id)
{
    struct gw_ocpp_conn *c = registry_find(o, equipment_id);
    return c && gw_ocpp_conn_open(c) ? c : NULL;
}

struct gw_cmd_conn *gw_ocpp_conn_cmds(const struct gw_ocpp_conn *c)
{
    return c->cmds;
}

void gw_ocpp_conn_set_cmds(struct gw_ocpp_conn *c, struct gw_cmd_conn *s)
{
    c->cmds = s;
}

bool gw_ocpp_conn_boot_accepted(const struct gw_ocpp_conn *c)
{
    return c->boot_accepted;
}

void gw_ocpp_conn_set_boot_accepted(struct gw_ocpp_conn *c, bool accepted)
{
    c->boot_accepted = accepted;
}

const char *gw_ocpp_conn_triggered(const struct gw_ocpp_conn *c)
{
    return c->triggered;
}

void gw_ocpp_conn_set_triggered(struct gw_ocpp_conn *c, const char *action)
{
    c->triggered = action;
}

uint64_t gw_ocpp_conn_add_violation(struct gw_ocpp_conn *c)
{
    return ++c->violations;
}

uint64_t gw_ocpp_conn_add_samples(struct gw_ocpp_conn *c)
{
    return ++c->samples;
}

void gw_ocpp_conn_ref(struct gw_ocpp_conn *c)
{
    c->refs++;
}

static void drop_queue(struct gw_ocpp_conn *c)
{
    for (struct outmsg *m = c->q_head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    c->q_head = c->q_tail = NULL;
    c->q_len = 0;
}

void gw_ocpp_conn_unref(struct gw_ocpp_conn *c)
{
    if (!c || --c->refs > 0)
        return;
    drop_queue(c);
    free(c->rx);
    free(c);
}

int gw_ocpp_send(struct gw_ocpp_conn *c, const char *text, size_t len)
{
    if (!gw_ocpp_conn_open(c))
        return -ENOTCONN;
    if (len > c->o->max_frame)
        return -EMSGSIZE;
    if (c->q_len >= c->o->sendq_max) {
        gw_ocpp_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send_queue_full");
        return -ENOBUFS;
    }
    struct outmsg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->q_tail)
        c->q_tail->next = m;
    else
        c->q_head = m;
    c->q_tail = m;
    c->q_len++;
    if (!c->rx_paused && c->q_len >= GW_OCPP_RX_PAUSE_AT) {
        lws_rx_flow_control(c->wsi, 0);
        c->rx_paused = true;
    }
    lws_callback_on_writable(c->wsi);
    return 0;
}

void gw_ocpp_close(struct gw_ocpp_conn *c, int code, const char *reason)
{
    if (!c->wsi || c->close_code)
        return;
    c->close_code = code;
    c->close_reason = reason;
    lws_callback_on_writable(c->wsi);
    /* a pile that never lets us write is dropped without the close frame */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, GW_OCPP_CLOSE_WAIT_S);
}

/* Closes from inside this connection's own callback: the caller returns -1 right after. */
static int close_now(struct gw_ocpp_conn *c, enum lws_close_status code, const char *reason,
                     const char *text)
{
    log_info("gateway", "ocpp_closing", "equipment_id=%s code=%d reason=%s", c->id, (int)code,
             reason);
    if (!c->close_reason)
        c->close_reason = reason;
    lws_close_reason(c->wsi, code, (unsigned char *)text, strlen(text));
    return -1;
}

static void deliver(struct gw_ocpp_conn *c, const char *text, size_t len)
{
    int64_t now = mono_us();
    c->last_rx_us = now;
    if (!gw_rate_take(c->o->rate, &c->rate, now)) {
        c->dropped++;
        gw_metrics_ocpp_dropped(c->o->gw->metrics);
        if (c->dropped_logged == 0 || now - c->drop_log_us >= 60 * 1000000LL) {
            log_warn("gateway", "ocpp_rate_limited",
                     "equipment_id=%s dropped=%llu limit_per_min=%lld", c->id,
                     (unsigned long long)(c->dropped - c->dropped_logged),
                     c->o->gw->cfg->ocpp_max_msgs_per_min);
            c->dropped_logged = c->dropped;
            c->drop_log_us = now;
        }
        return;
    }
    gw_ocpp_conn_ref(c);
    gw_ocpp_on_frame(c, text, len);
    gw_ocpp_conn_unref(c);
}

static int on_receive(struct gw_ocpp_conn *c, struct lws *wsi, const char *in, size_t len)
{
    if (c->close_code)
        return 0; /* closing: what follows is not answered */
    if (lws_frame_is_binary(wsi))
        return close_now(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary",
                         "OCPP-J uses text frames only");
    size_t remaining = lws_remaining_packet_payload(wsi);
    if (c->rx_len + len + remaining > c->o->max_frame)
        return close_now(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "too_large",
                         "message larger than ocpp_max_frame_bytes");
    bool final = lws_is_final_fragment(wsi);
    if (c->rx_len == 0 && final) {
        deliver(c, in, len); /* the common case: the whole message in one callback */
        return 0;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len)
            cap *= 2;
        if (cap > c->o->max_frame)
            cap = c->o->max_frame;
        char *rx = realloc(c->rx, cap);
        if (!rx)
            return close_now(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out_of_memory",
                             "out of memory");
        c->rx = rx;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        size_t n = c->rx_len;
        c->rx_len = 0;
        deliver(c, c->rx, n);
        if (c->rx_cap > GW_OCPP_RX_KEEP) {
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
    return 0;
}

static int on_writeable(struct gw_ocpp_conn *c, struct lws *wsi)
{
    if (c->close_code) {
        if (!c->close_sent)
            log_info("gateway", "ocpp_closing", "equipment_id=%s code=%d reason=%s", c->id,
                     c->close_code, c->close_reason);
        c->close_sent = true;
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    struct outmsg *m = c->q_head;
    if (!m)
        return 0;
    c->q_head = m->next;
    if (!c->q_head)
        c->q_tail = NULL;
    c->q_len--;
    int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    bool ok = n >= 0 && (size_t)n >= m->len;
    free(m);
    if (!ok)
        return -1;
    if (c->rx_paused && c->q_len <= GW_OCPP_RX_RESUME_AT) {
        lws_rx_flow_control(wsi, 1);
        c->rx_paused = false;
    }
    if (c->q_head)
        lws_callback_on_writable(wsi);
    return 0;
}

static int on_established(struct gw_ocpp *o, struct lws *wsi, struct pss_ocpp *pss)
{
    uintptr_t mark = (uintptr_t)lws_get_opaque_user_data(wsi);
    const struct lws_protocols *p = lws_get_protocol(wsi);
    int version = p ? gw_ocpp_version_of(p->name) : -1;
    char uri[256], id[GW_PILE_ID_MAX + 1];
    if (!mark || version != (int)mark - 1 ||
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
        gw_ocpp_path_id(uri, id, sizeof id) < 0) {
        log_warn("gateway", "ocpp_unchecked_upgrade", "protocol=%s", p ? p->name : "-");
        return -1;
    }
    struct gw_ocpp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->o = o;
    c->wsi = wsi;
    c->refs = 1; /* the pss */
    c->version = (enum gw_ocpp_version)version;
    memcpy(c->id, id, sizeof c->id);
    lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
    c->connected_us = c->last_rx_us = mono_us();
    pss->conn = c;

    /* the rate limit is the pile's: a replaced connection hands its bucket on */
    struct gw_ocpp_conn *old = registry_find(o, id);
    c->rate = old ? old->rate : gw_rate_restore(o->rate, id, c->connected_us);
    if (old) {
        registry_remove(o, old);
        log_info("gateway", "ocpp_replaced", "equipment_id=%s old_peer=%s new_peer=%s", id,
                 old->peer, c->peer);
        gw_ocpp_close(old, LWS_CLOSE_STATUS_NORMAL, "replaced");
    }
    registry_add(o, c);
    c->session = gw_pile_session_open(o->gw, c->id, gw_ocpp_version_name(c->version), c->peer);
    log_info("gateway", "ocpp_connected", "equipment_id=%s protocol=%s peer=%s", id,
             gw_ocpp_version_name(c->version), c->peer);
    return 0;
}

static void on_closed(struct gw_ocpp *o, struct pss_ocpp *pss)
{
    struct gw_ocpp_conn *c = pss->conn;
    if (!c)
        return;
    pss->conn = NULL;
    const char *reason = c->close_reason ? c->close_reason : "disconnected";
    if (c->registered) /* not replaced: the pile's bucket waits for its next connection */
        gw_rate_remember(o->rate, c->id, c->rate, mono_us());
    registry_remove(o, c);
    gw_commands_conn_closed(c);
    gw_pile_session_close(o->gw, c->session, reason);
    c->session = NULL;
    log_info("gateway", "ocpp_disconnected",
             "equipment_id=%s reason=%s duration_s=%lld dropped=%llu violations=%llu", c->id,
             reason, (long long)((mono_us() - c->connected_us) / 1000000),
             (unsigned long long)c->dropped, (unsigned long long)c->violations);
    c->wsi = NULL;
    drop_queue(c);
    gw_ocpp_conn_unref(c);
}

static int ocpp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct gw_server *gw = lws_context_user(lws_get_context(wsi));
    struct pss_ocpp *pss = user;
    struct gw_ocpp_conn *c = pss ? pss->conn : NULL;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Only upgrades that passed gw_ocpp_confirm_upgrade() carry the mark. */
        return lws_get_opaque_user_data(wsi) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED:
        return gw->ocpp ? on_established(gw->ocpp, wsi, pss) : -1;
    case LWS_CALLBACK_RECEIVE:
        return c ? on_receive(c, wsi, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? on_writeable(c, wsi) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && !c->close_reason)
            c->close_reason = "peer_closed";
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (gw->ocpp && pss)
            on_closed(gw->ocpp, pss);
        return 0;
    default:
        /* EVENT_WAIT_CANCELLED is broadcast to every protocol; protocols[0] handles it. */
        return 0;
    }
}

void gw_ocpp_protocols(struct lws_protocols *protocols, size_t rx_buffer_size)
{
    for (int v = 0; v < GW_OCPP_VERSIONS; v++) {
        memset(&protocols[v], 0, sizeof protocols[v]);
        protocols[v].name = gw_ocpp_version_name((enum gw_ocpp_version)v);
        protocols[v].callback = ocpp_callback;
        protocols[v].per_session_data_size = sizeof(struct pss_ocpp);
        protocols[v].rx_buffer_size = rx_buffer_size;
    }
}

/* --- the registry's life ------------------------------------------------------------------ */

struct gw_ocpp *gw_ocpp_new(struct gw_server *gw)
{
    struct gw_ocpp *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->buckets = calloc(GW_OCPP_BUCKETS, sizeof *o->buckets);
    if (!o->buckets) {
        free(o);
        return NULL;
    }
    o->gw = gw;
    o->nbuckets = GW_OCPP_BUCKETS;
    o->max_frame = (size_t)gw->cfg->ocpp_max_frame_bytes;
    o->rate = gw_rate_new(gw->cfg->ocpp_max_msgs_per_min);
    if (!o->rate) {
        free(o->buckets);
        free(o);
        return NULL;
    }
    o->sendq_max = (size_t)gw->cfg->ocpp_max_msgs_per_min + GW_OCPP_SENDQ_SLACK;
    o->idle_us = 2 * gw->cfg->ocpp_heartbeat_s * 1000000LL;
    o->sweep_us =
        o->idle_us / 4 < GW_OCPP_SWEEP_MS * 1000LL ? o->idle_us / 4 : GW_OCPP_SWEEP_MS * 1000LL;
    return o;
}

/* Closes connections silent for the idle timeout (2 x ocpp_heartbeat_s). One pass over the
 * registry per sweep period rather than a timer per connection: lws keeps timers in a sorted
 * list, and re-arming one on every message would cost a walk of it each time. */
static void sweep(lws_sorted_usec_list_t *sul)
{
    struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, sul_sweep);
    int64_t now = mono_us();
    for (size_t i = 0; i < o->nbuckets; i++)
        for (struct gw_ocpp_conn *c = o->buckets[i]; c; c = c->hnext)
            if (now - c->last_rx_us >= o->idle_us && !c->close_code) {
                log_info("gateway", "ocpp_idle", "equipment_id=%s silent_s=%lld", c->id,
                         (long long)((now - c->last_rx_us) / 1000000));
                gw_ocpp_close(c, LWS_CLOSE_STATUS_NORMAL, "idle");
            }
    gw_rate_sweep(o->rate, now);
    lws_sul_schedule(o->ctx, 0, &o->sul_sweep, sweep, o->sweep_us);
}

void gw_ocpp_start(struct gw_ocpp *o, struct lws_context *ctx)
{
    o->ctx = ctx;
    o->sweeping = true;
    lws_sul_schedule(ctx, 0, &o->sul_sweep, sweep, o->sweep_us);
}

void gw_ocpp_stop(struct gw_ocpp *o)
{
    if (!o)
        return;
    if (o->sweeping) {
        lws_sul_cancel(&o->sul_sweep);
        o->sweeping = false;
    }
    for (size_t i = 0; i < o->nbuckets; i++)
        for (struct gw_ocpp_conn *c = o->buckets[i]; c; c = c->hnext) {
            gw_pile_session_close(o->gw, c->session, "stopping");
            c->session = NULL;
        }
}

void gw_ocpp_free(struct gw_ocpp *o)
{
    if (!o)
        return;
    gw_rate_free(o->rate);
    free(o->buckets);
    free(o);
}
