/* The gateway process's shared state, one per process, reached from every lws callback through
 * lws_context_user(). Owned by main.c; touched only on the lws thread, except `stopping`
 * (set by the signal handler) and `ctx` (read by the writer's wake-up). */
#ifndef EVGATE_GW_GATEWAY_H
#define EVGATE_GW_GATEWAY_H

#include <signal.h>
#include <stdatomic.h>

struct lws_context;
struct evg_config;
struct db;
struct gw_writer;
struct gw_metrics;
struct gw_tcec_client;
struct gw_piles;
struct gw_ocpp;
struct gw_commands;
struct gw_conform;
struct gw_dashboard;

struct gw_server {
    const struct evg_config *cfg;
    struct db *db;            /* the lws thread's connection (migrations; short reads) */
    struct gw_writer *writer; /* every write goes through it */
    struct gw_metrics *metrics;
    struct gw_piles *piles;         /* OCPP handshakes' pile table (its own thread; thread-safe) */
    struct gw_ocpp *ocpp;           /* OCPP-J connections */
    struct gw_commands *commands;   /* remote operations: poller thread + lws-side state */
    struct gw_conform *conform;     /* conformance runs: poller and run threads + lws side */
    struct gw_dashboard *dashboard; /* online-pile samples and refused handshakes, for mgmt */
    struct gw_tcec_client *tcec;    /* calls to operator platforms (its own thread) */
    const char *event_loop;         /* "libev" or "poll" */
    /* An accepted socket numbered at or above it is closed at once: the descriptors left are
     * for the database, logs and pipes (main.c, size_fd_limit). 0 = no limit. */
    int accept_fd_max;
    _Atomic(struct lws_context *) ctx;
    volatile sig_atomic_t stopping;
    /* Makes lws_service() return soon; set by main.c for the event library in use. Called on
     * the lws thread once `stopping` is seen. */
    void (*break_loop)(struct gw_server *gw);
    void *loop; /* the event library's loop, for break_loop */
};

/* Called on the lws thread for LWS_CALLBACK_EVENT_WAIT_CANCELLED (only protocols[0] calls it,
 * as lws broadcasts that reason to every protocol): runs the writer's completions, takes the
 * command poller's inbox and, when a stop was requested, leaves the loop. Defined in main.c. */
void gw_server_on_wakeup(struct gw_server *gw);

#endif
