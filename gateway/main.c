/* evgate-gateway: the libwebsockets daemon that charging piles (OCPP) and operator platforms
 * (T/CEC) connect to. This file is startup, the event loop, signals and an orderly shutdown. */
#include "gateway/accept.h"
#include "gateway/commands.h"
#include "gateway/conform.h"
#include "gateway/dashboard.h"
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "gateway/metrics.h"
#include "gateway/ocpp.h"
#include "gateway/piles.h"
#include "gateway/tcec_client.h"
#include "gateway/tls.h"
#include "gateway/writer.h"
#include "common/config.h"
#include "common/log.h"
#include "db/db.h"
#include "db/piles_gateway.h"

#ifdef EVGATE_MIMALLOC
#include <mimalloc.h>
#endif
#include <libwebsockets.h>
#include <ev.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef EVGATE_VERSION
#define EVGATE_VERSION "unknown"
#endif

/* Descriptors beyond client connections: listener, lws' cancel pipe, the two database
 * connections with their WAL and shm files, stdio, a margin. */
#define GW_FD_SLACK 64
/* Request header bytes per connection (lws' default; a larger request header is refused). */
#define GW_HTTP_HEADER_BYTES 4096
/* Connections holding a header buffer at once (lws attaches one at accept and frees it after the
 * request or the upgrade; connections beyond wait for one). It bounds header memory at about
 * 16384 x 4.5 KB = 72 MB when that many peers connect and say nothing, and lets that many
 * handshakes run at once during a reconnect storm; the non-talkers are dropped after
 * GW_TIMEOUT_S. lws' default (one per fd) would be 540 MB at 120 000 fds. */
#define GW_HTTP_HEADER_POOL_MAX 16384
/* Idle HTTP keep-alive, and lws' timeout for network round trips (header completion etc.). */
#define GW_KEEPALIVE_S 5
#define GW_TIMEOUT_S   10
/* How often the OCPP handshakes' pile table is reloaded from the database: a password re-issued
 * or a pile approved in mgmt takes effect within this (sooner after a refused handshake). */
#define GW_PILES_REFRESH_MS 3000

static struct gw_server *g_server;               /* for the signal handler only */
static volatile sig_atomic_t g_reload_log_level; /* SIGHUP seen; the loop's wake-up reloads */
static int g_argc;                               /* main's, for cfg_reload_log_level */
static char **g_argv;

/* Async-signal-safe: a flag and lws_cancel_service() (a write to lws' event pipe). The loop
 * sees the flag in LWS_CALLBACK_EVENT_WAIT_CANCELLED. */
static void on_signal(int sig)
{
    struct gw_server *gw = g_server;
    if (!gw)
        return;
    if (sig == SIGHUP)
        g_reload_log_level = 1;
    else
        gw->stopping = 1;
    /* the wake-up below runs gw_server_on_wakeup() on the lws thread */
    struct lws_context *ctx = atomic_load(&gw->ctx);
    if (ctx)
        lws_cancel_service(ctx);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* The writer's wake-up: runs on the writer thread. */
static void wake_loop(void *arg)
{
    struct gw_server *gw = arg;
    struct lws_context *ctx = atomic_load(&gw->ctx);
    if (ctx)
        lws_cancel_service(ctx);
}

void gw_server_on_wakeup(struct gw_server *gw)
{
    if (gw->writer)
        gw_writer_run_done(gw->writer);
    gw_commands_run(gw->commands);
    gw_conform_run(gw->conform);
    if (g_reload_log_level) { /* reads a small file once per SIGHUP: acceptable on the loop */
        g_reload_log_level = 0;
        cfg_reload_log_level(CFG_GATEWAY, "evgate-gateway", g_argc, g_argv);
    }
    if (gw->stopping && gw->break_loop)
        gw->break_loop(gw);
}

static void break_libev(struct gw_server *gw)
{
    ev_break((struct ev_loop *)gw->loop, EVBREAK_ALL);
}

/* lws' own log lines, errors and warnings only, as our structured lines. */
static void lws_log_emit(int level, const char *line)
{
    char buf[512];
    size_t n = 0;
    for (const char *s = line; *s && n + 1 < sizeof buf; s++)
        buf[n++] = *s == '"' ? '\'' : *s;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = 0;
    enum log_level lvl = (level & LLL_ERR) ? LOG_ERROR : (level & LLL_WARN) ? LOG_WARN : LOG_INFO;
    log_msg(lvl, "lws", "log", "msg=%s", log_q(buf));
}

/* lws sizes its fd tables from the soft RLIMIT_NOFILE. Move the soft limit to what
 * gw_max_connections needs: up (within the hard limit) so the tables are large enough, and down
 * when the inherited limit is absurd (LimitNOFILE=infinity), so they are not gigabytes. Returns
 * the number below which accepted sockets must stay (gw_server.accept_fd_max). */
static unsigned size_fd_limit(long long max_connections)
{
    rlim_t want = (rlim_t)max_connections + GW_FD_SLACK;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        log_warn("gateway", "fd_limit_unknown", "error=%s", log_q(strerror(errno)));
        return (unsigned)want;
    }
    rlim_t target = want;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
        target = rl.rlim_max;
    if (target != rl.rlim_cur) {
        struct rlimit nrl = {.rlim_cur = target, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nrl) < 0)
            log_warn("gateway", "fd_limit_unchanged", "want=%llu error=%s",
                     (unsigned long long)target, log_q(strerror(errno)));
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t have = rl.rlim_cur < want ? rl.rlim_cur : want;
    if (have < want)
        log_warn("gateway", "fd_limit_low",
                 "want=%llu have=%llu hint=\"raise the hard limit (ulimit -Hn, LimitNOFILE)\"",
                 (unsigned long long)want, (unsigned long long)have);
    /* Accepted sockets may use all but the slack: the database, log and pipes need
     * descriptors too. With every descriptor open to accept(), it met EMFILE first: the
     * listener stayed readable and the loop spun at 100 % CPU logging "accept: errno 24" (43
     * million lines in 2 min, storm of 20 300 piles against 20 000 descriptors), /metrics
     * unanswered. accept.c therefore closes an accepted socket numbered at or above
     * gw_server.accept_fd_max at once (accept() hands out the lowest free number, so such a
     * number means the slack is in use): the pending connection is used up, the pile retries
     * later. Not lws's own cap (info.fd_limit_per_thread below the limit): lws 4.1 then finds
     * the connection of each event by a linear scan of its whole table (wsi_from_fd's "slow
     * fds handling"), 59 % of the gateway's CPU with 10 000 piles sending, a third of the
     * throughput. */
    rlim_t lws_fds = have > 2 * GW_FD_SLACK ? have - GW_FD_SLACK : have;
    log_info("gateway", "fd_limit", "fds=%llu accept_fd_max=%llu gw_max_connections=%lld",
             (unsigned long long)have, (unsigned long long)lws_fds, max_connections);
    return (unsigned)lws_fds;
}

/* The malloc in use: mimalloc's version, or "libc" (sanitizer builds; see meson.build). */
static const char *allocator(void)
{
#ifdef EVGATE_MIMALLOC
    static char name[32];
    int v = mi_version();
    snprintf(name, sizeof name, "mimalloc-%d.%d.%d", v / 100, v / 10 % 10, v % 10);
    return name;
#else
    return "libc";
#endif
}

/* lws takes an interface name or an address literal to bind to, and an IPv4 literal only with
 * IPv6 disabled (else it lands in an IPv6 socket address). Turns `host` into a literal in `lit`
 * (or NULL = every address) and the option that goes with it. */
static int resolve_listen(const char *host, char *lit, size_t litlen, const char **iface,
                          uint64_t *options, char *err, size_t errlen)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!*host || strcmp(host, "*") == 0) {
        *iface = NULL;
        return 0;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        *options |= LWS_SERVER_OPTION_DISABLE_IPV6;
        snprintf(lit, litlen, "%s", host);
        *iface = a4.s_addr == htonl(INADDR_ANY) ? NULL : lit;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        snprintf(lit, litlen, "%s", host);
        *iface = IN6_IS_ADDR_UNSPECIFIED(&a6) ? NULL : lit;
        return 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "gateway_listen: cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = res; ai && !pick; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            pick = ai; /* IPv4 first: what "localhost" means to most clients */
    for (const struct addrinfo *ai = res; ai && !pick; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            pick = ai;
    char buf[INET6_ADDRSTRLEN] = "";
    if (pick && pick->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)pick->ai_addr)->sin_addr, buf, sizeof buf);
    else if (pick)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, buf, sizeof buf);
    freeaddrinfo(res);
    if (!*buf) {
        snprintf(err, errlen, "gateway_listen: no IP address for \"%s\"", host);
        return -1;
    }
    return resolve_listen(buf, lit, litlen, iface, options, err, errlen);
}

/* Creates the context on the libev event library (epoll: the cost of a wake-up does not grow
 * with the number of connections, unlike poll()), with a loop we own so that we can end it;
 * falls back to lws' poll() loop with a warning. */
static struct lws_context *create_context(struct gw_server *gw,
                                          struct lws_context_creation_info *info)
{
    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (loop) {
        void *loops[1] = {loop};
        info->options |= LWS_SERVER_OPTION_LIBEV;
        info->foreign_loops = loops;
        struct lws_context *ctx = lws_create_context(info);
        info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        info->foreign_loops = NULL;
        if (ctx) {
            gw->event_loop = "libev";
            gw->loop = loop;
            gw->break_loop = break_libev;
            return ctx;
        }
        ev_loop_destroy(loop);
        log_warn("gateway", "event_loop_fallback",
                 "wanted=libev using=poll reason=\"lws_create_context failed with libev\"");
    } else {
        log_warn("gateway", "event_loop_fallback",
                 "wanted=libev using=poll reason=\"libev has no epoll backend here\"");
    }
    gw->event_loop = "poll"; /* lws_service() returns after each wake-up: nothing to break */
    return lws_create_context(info);
}

/* Creates the vhost of `info` without lws' listener and gives it the gateway's own listening
 * socket on info->iface (an address literal or NULL, resolve_listen) and info->port
 * (accept.h). `setting` names the setting in the log when it is not gateway_listen, `addr` is
 * its value. */
static int serve(struct lws_context *ctx, struct lws_context_creation_info *info,
                 const char *setting, const char *addr)
{
    char err[256];
    const char *why = err;
    int fd = gw_accept_listen(info->iface, info->port,
                              info->options & LWS_SERVER_OPTION_DISABLE_IPV6, err, sizeof err);
    if (fd >= 0) {
        struct lws_context_creation_info vi = *info;
        vi.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* serves the sockets handed to it */
        vi.iface = NULL;
        struct lws_vhost *vh = lws_create_vhost(ctx, &vi);
        if (!vh) {
            close(fd);
            why = vi.ssl_cert_filepath ? "cannot load gw_tls_cert/gw_tls_key"
                                       : "cannot create the vhost";
        } else if (gw_accept_attach(vh, fd) < 0) {
            why = "cannot add the listening socket to the event loop";
        } else {
            return 0;
        }
    }
    char where[64] = "";
    if (setting)
        snprintf(where, sizeof where, "setting=%s ", setting);
    log_error("gateway", "listen_failed", "%saddr=%s error=%s", where, log_q(addr), log_q(why));
    return -1;
}

int main(int argc, char **argv)
{
    struct evg_config cfg;
    char err[512];
    int rc = cfg_load(&cfg, CFG_GATEWAY, "evgate-gateway", argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "evgate-gateway: %s\n", err);
        return 2;
    }
    char host[256];
    int port;
    if (log_set_level_name(cfg.log_level) < 0) {
        fprintf(stderr,
                "evgate-gateway: log_level must be debug, info, warn or error, got \"%s\"\n",
                cfg.log_level);
        cfg_free(&cfg);
        return 2;
    }
    if (cfg_split_listen(cfg.gateway_listen, host, sizeof host, &port) < 0) {
        fprintf(stderr, "evgate-gateway: gateway_listen must be host:port, got \"%s\"\n",
                cfg.gateway_listen);
        cfg_free(&cfg);
        return 2;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    /* SIGHUP only changes the log level: until its handler is installed it must not end us */
    signal(SIGHUP, SIG_IGN);

    struct gw_server gw = {.cfg = &cfg};
    struct lws_context *ctx = NULL;
    struct lws_protocols protocols[2 + GW_OCPP_VERSIONS];
    struct gw_tcec_client *tcec = NULL; /* calls to operator platforms (its own thread) */
    int exit_code = 1;
    log_info("gateway", "starting", "version=%s pid=%ld db=%s", log_q(EVGATE_VERSION),
             (long)getpid(), log_q(cfg.db));

    gw.db = db_open(cfg.db, (int)cfg.sqlite_busy_ms, cfg.sqlite_synchronous, err, sizeof err);
    if (!gw.db) {
        log_error("gateway", "db_open_failed", "path=%s error=%s", log_q(cfg.db), log_q(err));
        goto out;
    }
    if (db_migrate(gw.db, -1, err, sizeof err) != DB_OK) {
        log_error("gateway", "db_migrate_failed", "path=%s error=%s", log_q(cfg.db), log_q(err));
        goto out;
    }
    int64_t ended = 0;
    if (db_pile_sessions_close_open(gw.db, db_now(), "gateway_restart", &ended) != DB_OK) {
        log_error("gateway", "db_write_failed", "what=pile_sessions");
        goto out;
    }
    if (ended)
        log_info("gateway", "pile_sessions_ended", "sessions=%lld reason=gateway_restart",
                 (long long)ended);
    gw.piles = gw_piles_start(cfg.db, (int)cfg.sqlite_busy_ms, cfg.sqlite_synchronous,
                              GW_PILES_REFRESH_MS, err, sizeof err);
    if (!gw.piles) {
        log_error("gateway", "pile_table_failed", "error=%s", log_q(err));
        goto out;
    }
    gw.ocpp = gw_ocpp_new(&gw);
    gw.dashboard = gw_dashboard_new(&gw);
    if (!gw.ocpp || !gw.dashboard) {
        log_error("gateway", "out_of_memory", NULL);
        goto out;
    }
    struct gw_writer_opts wo = {
        .db_path = cfg.db,
        .busy_ms = (int)cfg.sqlite_busy_ms,
        .synchronous = cfg.sqlite_synchronous,
        .batch_ms = (int)cfg.writer_batch_ms,
        .batch_max = (size_t)cfg.writer_batch_max,
        .cache_kib = cfg.writer_sqlite_cache_kib,
        .mmap_bytes = cfg.writer_sqlite_mmap_bytes,
        .queue_max = (size_t)cfg.writer_queue_max,
        .wake = wake_loop,
        .wake_arg = &gw,
    };
    gw.writer = gw_writer_create(&wo, err, sizeof err);
    if (!gw.writer) {
        log_error("gateway", "writer_failed", "error=%s", log_q(err));
        goto out;
    }
    /* remote operations: rows left by an earlier gateway fail now, before serving */
    gw.commands = gw_commands_start(&gw, err, sizeof err);
    if (!gw.commands) {
        log_error("gateway", "commands_failed", "error=%s", log_q(err));
        goto out;
    }
    /* conformance runs: runs left running by an earlier gateway end now, before serving */
    gw.conform = gw_conform_start(&gw, err, sizeof err);
    if (!gw.conform) {
        log_error("gateway", "conform_failed", "error=%s", log_q(err));
        goto out;
    }
    tcec = gw_tcec_client_start(&cfg, err, sizeof err);
    if (!tcec) {
        log_error("gateway", "tcec_client_failed", "error=%s", log_q(err));
        goto out;
    }
    gw.tcec = tcec;

    g_argc = argc;
    g_argv = argv;
    g_server = &gw;
    install_signals();

    char lit[INET6_ADDRSTRLEN];
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    if (resolve_listen(host, lit, sizeof lit, &info.iface, &info.options, err, sizeof err) < 0) {
        log_error("gateway", "listen_failed", "addr=%s error=%s", log_q(cfg.gateway_listen),
                  log_q(err));
        goto out;
    }
    unsigned fds = size_fd_limit(cfg.gw_max_connections);
    gw.accept_fd_max = (int)fds;
    gw_http_protocol(&protocols[0], (size_t)cfg.gw_rx_buffer);
    gw_ocpp_protocols(&protocols[1], (size_t)cfg.gw_rx_buffer);
    memset(&protocols[1 + GW_OCPP_VERSIONS], 0, sizeof protocols[1 + GW_OCPP_VERSIONS]);
    /* A retry policy whose validity check is off (secs_since_valid_hangup 0). Without one, lws
     * 4.1 gives every vhost the context's default (ping at 300 s, hang up at 310 s) and arms a
     * validity timer per connection in its one sorted timer list, re-armed on every message
     * received: an insertion walks the list, O(connections) per message. perf, 19 500 piles
     * ramping up: 80 % of the gateway's CPU in lws_dll2_add_sorted, connecting slowed from ~600
     * to ~400 a second past 12 000 piles. The OCPP sweep pings silent piles instead
     * (ocpp_registry.c). The TLS vhost copies this info (gw_tls_vhost_info). */
    static const lws_retry_bo_t no_validity = {.secs_since_valid_ping = 0,
                                               .secs_since_valid_hangup = 0};
    info.retry_and_idle_policy = &no_validity;
    info.port = port;
    info.protocols = protocols;
    info.user = &gw;
    info.uid = -1;
    info.gid = -1;
    info.count_threads = 1;
    info.max_http_header_data = GW_HTTP_HEADER_BYTES;
    info.max_http_header_pool2 = fds < GW_HTTP_HEADER_POOL_MAX ? fds : GW_HTTP_HEADER_POOL_MAX;
    info.keepalive_timeout = GW_KEEPALIVE_S;
    info.timeout_secs = GW_TIMEOUT_S;
    info.timeout_secs_ah_idle = GW_TIMEOUT_S;
    info.server_string = "evgate";
    info.vhost_name = "evgate-gateway";
    /* Off: client CA store (we make no outbound TLS yet), reverse lookup of our own name,
     * extensions (info.extensions stays NULL: no permessage-deflate), TLS on this plain vhost
     * (the TLS vhost's info comes from gw_tls_vhost_info).
     * On: a vhost that cannot bind fails instead of retrying later; UTF-8 checks for OCPP-J. */
    info.options |= LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                    LWS_SERVER_OPTION_SKIP_SERVER_CANONICAL_NAME |
                    LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND | LWS_SERVER_OPTION_VALIDATE_UTF8;

    /* With gw_tls_cert set, a second vhost serves the same protocols over TLS on gw_tls_listen
     * (gateway/tls.h); its files are checked now so that a bad one fails the start. */
    struct lws_context_creation_info tls_info;
    char tls_host[GW_TLS_HOST_MAX], tls_lit[INET6_ADDRSTRLEN];
    int tls_on = gw_tls_vhost_info(&cfg, &info, &tls_info, tls_host, sizeof tls_host);
    if (tls_on < 0)
        goto out;
    if (tls_on && resolve_listen(tls_host, tls_lit, sizeof tls_lit, &tls_info.iface,
                                 &tls_info.options, err, sizeof err) < 0) {
        /* resolve_listen's message names gateway_listen: say which setting it was */
        const char *why = strncmp(err, "gateway_listen: ", 16) == 0 ? err + 16 : err;
        log_error("gateway", "listen_failed", "setting=gw_tls_listen addr=%s error=%s",
                  log_q(cfg.gw_tls_listen), log_q(why));
        goto out;
    }
    uint64_t plain_options = info.options;
    if (tls_on) { /* the context inits OpenSSL; lws applies DISABLE_IPV6 context-wide */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        if (!(tls_info.options & LWS_SERVER_OPTION_DISABLE_IPV6))
            info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    }

    /* No callback reaches gw.metrics before the vhost exists (EXPLICIT_VHOSTS). */
    ctx = create_context(&gw, &info);
    info.options = plain_options;
    if (!ctx) {
        log_error("gateway", "lws_context_failed", NULL);
        goto out;
    }
    gw.metrics = gw_metrics_new(EVGATE_VERSION, gw.event_loop);
    if (!gw.metrics) {
        log_error("gateway", "out_of_memory", NULL);
        goto out;
    }
    atomic_store(&gw.ctx, ctx);
    if (serve(ctx, &info, NULL, cfg.gateway_listen) < 0 ||
        (tls_on && serve(ctx, &tls_info, "gw_tls_listen", cfg.gw_tls_listen) < 0))
        goto out;
    if (tls_on)
        log_info("gateway", "listening_tls", "addr=%s client_certificates=%s",
                 log_q(cfg.gw_tls_listen),
                 log_q(cfg.gw_tls_ca && *cfg.gw_tls_ca ? "verified" : "not_requested"));
    gw_ocpp_start(gw.ocpp, ctx);
    gw_dashboard_start(gw.dashboard, ctx);
    log_info("gateway", "event_loop", "lib=%s backend=%s fds=%u malloc=%s", log_q(gw.event_loop),
             log_q(gw.loop && ev_backend((struct ev_loop *)gw.loop) == EVBACKEND_EPOLL ? "epoll"
                                                                                       : "poll"),
             fds, allocator());
    log_info("gateway", "listening", "addr=%s", log_q(cfg.gateway_listen));

    exit_code = 0;
    while (!gw.stopping) {
        if (lws_service(ctx, 0) < 0) {
            log_error("gateway", "service_failed", NULL);
            exit_code = 1;
            break;
        }
    }
    struct gw_writer_stats ws;
    gw_writer_stats(gw.writer, &ws);
    log_info("gateway", "stopping", "writer_inflight=%zu", ws.inflight);

out:
    gw.tcec = NULL;
    gw_tcec_client_stop(tcec); /* a call in flight is abandoned */
    /* The open pile sessions end in the database first, then the writer: it commits what it
     * holds and its completions run here, on the lws thread, while the context still exists. */
    gw_conform_stop(gw.conform);   /* its runs end "the gateway stopped" before their CALLs fail */
    gw_commands_stop(gw.commands); /* its last rows go through the writer too */
    gw_ocpp_stop(gw.ocpp);
    gw_dashboard_stop(gw.dashboard);
    gw_writer_free(gw.writer);
    gw.writer = NULL;
    atomic_store(&gw.ctx, NULL);
    gw.stopping = 1; /* also after a failed start: the listeners' close is expected (accept.h) */
    gw_accept_release(&gw);
    if (ctx)
        lws_context_destroy(ctx);
    if (gw.loop)
        ev_loop_destroy((struct ev_loop *)gw.loop);
    gw_ocpp_free(gw.ocpp); /* after the context: its connections' CLOSED callbacks use it */
    gw_conform_free(gw.conform);
    gw_commands_free(gw.commands);
    gw_dashboard_free(gw.dashboard); /* after the writer: its last sample's completion ran */
    gw_piles_stop(gw.piles);
    gw_metrics_free(gw.metrics);
    db_close(gw.db);
    g_server = NULL;
    if (exit_code == 0)
        log_info("gateway", "stopped", NULL);
    cfg_free(&cfg);
    return exit_code;
}
