/* Private to the OCPP-J connection layer (ocpp_conn.c: callbacks, limits, the send queue;
 * ocpp_registry.c: the registry, sweeps and life). The API is ocpp.h. */
#ifndef EVGATE_GW_OCPP_CONN_PRIVATE_H
#define EVGATE_GW_OCPP_CONN_PRIVATE_H

#include "gateway/ocpp.h"
#include "gateway/ocpp_rate.h"
#include "gateway/piles.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* WebSocket keep-alive: a connection from which nothing arrived for GW_OCPP_PING_S (at most
 * ocpp_heartbeat_s) is pinged by the sweep, and closed when nothing (a pong or any message)
 * follows within GW_OCPP_PONG_WAIT_S (at most half the ping period). */
#define GW_OCPP_PING_S      60
#define GW_OCPP_PONG_WAIT_S 30
/* Idle sweep period, at most: finer when the idle timeout is short. */
#define GW_OCPP_SWEEP_MS 5000
/* How often the piles whose table entry changed are taken and their connections checked (costs
 * one mutex round when none changed). */
#define GW_OCPP_ADMIT_CHECK_MS 1000
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
    /* keep-alive: the last pong (a message counts too, last_rx_us; only messages count
     * against the idle timeout), what the sweep had heard last when it pinged (0 = not
     * pinged) and when it pinged, and a ping waiting for the writeable callback */
    int64_t pong_us, pinged_at_alive_us, ping_sent_us;
    bool ping_due;
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
    uint64_t violations, samples;       /* the dispatcher's counters */
    int64_t seen_at;                    /* gw_ocpp_conn_seen_at() */
    struct gw_cmd_conn *cmds;           /* remote operations (commands.c) */
    bool boot_accepted;                 /* the last BootNotification was answered Accepted */
    const char *triggered;              /* static: the action the last TriggerMessage asked for */
    struct gw_pile_admission admission; /* what admitted it (the handshake's) */
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
    lws_sorted_usec_list_t sul_sweep, sul_admit, sul_seen;
    bool sweeping;
    struct gw_seen *seen; /* the piles' last contacts until their next flush (ocpp_seen.h) */
    /* the admission of the upgrade let through last, until its ESTABLISHED takes it */
    struct lws *admitted_wsi;
    struct gw_pile_admission admitted;
    size_t max_frame, sendq_max;
    unsigned char *txbuf; /* LWS_PRE + max_frame bytes: the frame of a direct write */
    struct gw_rate *rate;
    int64_t idle_us, sweep_us, ping_us, pong_wait_us;
};

/* The registry: find the connection of an EquipmentID (open or closing), add, remove. */
struct gw_ocpp_conn *ocpp_registry_find(struct gw_ocpp *o, const char *id);
void ocpp_registry_add(struct gw_ocpp *o, struct gw_ocpp_conn *c);
void ocpp_registry_remove(struct gw_ocpp *o, struct gw_ocpp_conn *c);
/* Closes `c` when its pile's current entry no longer admits it. */
void ocpp_check_admission(struct gw_ocpp *o, struct gw_ocpp_conn *c);

#endif
