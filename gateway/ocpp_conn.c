/* OCPP-J connections: the lws protocols "ocpp1.6" and "ocpp2.0.1", a connection's life from
 * ESTABLISHED to CLOSED, message reassembly and limits, the send queue and backpressure. The
 * registry and the sweeps are in ocpp_registry.c. See ocpp.h. */
#include "gateway/ocpp.h"
#include "gateway/ocpp_conn_private.h"
#include "gateway/ocpp_rate.h"
#include "gateway/ocpp_seen.h"
#include "gateway/commands.h"
#include "gateway/conform.h"
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

int64_t gw_ocpp_conn_rx_us(const struct gw_ocpp_conn *c)
{
    return c->last_rx_us;
}

int64_t gw_ocpp_conn_seen_at(const struct gw_ocpp_conn *c)
{
    return c->seen_at;
}

void gw_ocpp_conn_set_seen_at(struct gw_ocpp_conn *c, int64_t at)
{
    c->seen_at = at;
}

void gw_ocpp_conn_note_seen(struct gw_ocpp_conn *c, int64_t at)
{
    if (c->seen_at == at)
        return;
    c->seen_at = at;
    gw_seen_note(c->o->seen, c->id, gw_ocpp_version_name(c->version), at);
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

/* Writes a message at once, outside the writeable callback, when nothing waits before it: lws
 * keeps what the socket does not take and sends it before anything else (lws_partial_buffered
 * says so until then, and gw_ocpp_send queues meanwhile). This saves, per answer, asking for
 * POLLOUT and dropping it again (two epoll_ctl) and a pass through the loop: 10 000 piles
 * sending, the epoll_ctl alone were 4.5 % of the gateway's CPU. */
static int send_direct(struct gw_ocpp_conn *c, const char *text, size_t len)
{
    unsigned char *buf = c->o->txbuf;
    memcpy(buf + LWS_PRE, text, len);
    gw_conform_frame(c->o->gw->conform, c, false, text, len);
    if (lws_write(c->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
        /* the socket failed: lws drops it on its next pass */
        if (!c->close_reason)
            c->close_reason = "write_failed";
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        return -EIO;
    }
    return 0;
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
    if (!c->q_head && !c->ping_due && !lws_partial_buffered(c->wsi))
        return send_direct(c, text, len);
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
    gw_conform_frame(c->o->gw->conform, c, false, text, len);
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
    log_info("gateway", "ocpp_closing", "equipment_id=%s code=%d reason=%s", log_q(c->id),
             (int)code, log_q(reason));
    if (!c->close_reason)
        c->close_reason = reason;
    lws_close_reason(c->wsi, code, (unsigned char *)text, strlen(text));
    return -1;
}

static void deliver(struct gw_ocpp_conn *c, const char *text, size_t len)
{
    int64_t now = gw_ocpp_mono_us();
    c->last_rx_us = now;
    if (!gw_rate_take(c->o->rate, &c->rate, now)) {
        c->dropped++;
        gw_metrics_ocpp_dropped(c->o->gw->metrics);
        if (c->dropped_logged == 0 || now - c->drop_log_us >= 60 * 1000000LL) {
            log_warn("gateway", "ocpp_rate_limited",
                     "equipment_id=%s dropped=%llu limit_per_min=%lld", log_q(c->id),
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
            log_info("gateway", "ocpp_closing", "equipment_id=%s code=%d reason=%s", log_q(c->id),
                     c->close_code, log_q(c->close_reason));
        c->close_sent = true;
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    if (c->ping_due) {
        /* with a payload: lws does not pass an empty pong (the echo) to the callback */
        unsigned char ping[LWS_PRE + 2] = {[LWS_PRE] = 'g', [LWS_PRE + 1] = 'w'};
        c->ping_due = false;
        if (lws_write(wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 2)
            return -1;
        if (c->q_head)
            lws_callback_on_writable(wsi);
        return 0;
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
    bool admitted = o->admitted_wsi == wsi;
    o->admitted_wsi = NULL;
    if (!mark || !admitted || version != (int)mark - 1 ||
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
        gw_ocpp_path_id(uri, id, sizeof id) < 0) {
        log_warn("gateway", "ocpp_unchecked_upgrade", "protocol=%s admitted=%d",
                 log_q(p ? p->name : "-"), (int)admitted);
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
    c->connected_us = c->last_rx_us = gw_ocpp_mono_us();
    c->admission = o->admitted;
    pss->conn = c;

    /* the rate limit is the pile's: a replaced connection hands its bucket on */
    struct gw_ocpp_conn *old = ocpp_registry_find(o, id);
    c->rate = old ? old->rate : gw_rate_restore(o->rate, id, c->connected_us);
    if (old) {
        ocpp_registry_remove(o, old);
        log_info("gateway", "ocpp_replaced", "equipment_id=%s old_peer=%s new_peer=%s", log_q(id),
                 log_q(old->peer), log_q(c->peer));
        gw_ocpp_close(old, LWS_CLOSE_STATUS_NORMAL, "replaced");
    }
    ocpp_registry_add(o, c);
    c->session = gw_pile_session_open(o->gw, c->id, gw_ocpp_version_name(c->version), c->peer);
    log_info("gateway", "ocpp_connected", "equipment_id=%s protocol=%s peer=%s", log_q(id),
             log_q(gw_ocpp_version_name(c->version)), log_q(c->peer));
    /* The table may have changed since the handshake's lookup, and that change may already have
     * been taken by check_changes(): check against the current entry once now. */
    ocpp_check_admission(o, c);
    gw_conform_conn_event(o->gw->conform, c, true);
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
        gw_rate_remember(o->rate, c->id, c->rate, gw_ocpp_mono_us());
    ocpp_registry_remove(o, c);
    gw_commands_conn_closed(c);
    gw_conform_conn_event(o->gw->conform, c, false);
    gw_pile_session_close(o->gw, c->session, reason);
    c->session = NULL;
    log_info("gateway", "ocpp_disconnected",
             "equipment_id=%s reason=%s duration_s=%lld dropped=%llu violations=%llu", log_q(c->id),
             log_q(reason), (long long)((gw_ocpp_mono_us() - c->connected_us) / 1000000),
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
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c) /* alive, for the keep-alive; not a message, for the idle timeout */
            c->pong_us = gw_ocpp_mono_us();
        return 0;
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
