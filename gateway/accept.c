/* The gateway's listening sockets; see accept.h. */
#include "gateway/accept.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "common/log.h"
#include "common/thread.h"

#include <ev.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The opaque user data of every listener: its address tells them from connections. */
static const char listener_mark;

static int fail(char *err, size_t errlen, const char *call, int fd)
{
    snprintf(err, errlen, "%s: %s", call, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int gw_accept_listen(const char *addr, int port, bool ipv4_only, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    int family = ipv4_only ? AF_INET : AF_INET6;
    if (addr && inet_pton(AF_INET, addr, &a4->sin_addr) == 1)
        family = AF_INET;
    else if (addr && inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1)
        family = AF_INET6;
    else if (addr) {
        snprintf(err, errlen, "\"%s\" is not an IP address", addr);
        return -1;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && !addr && family == AF_INET6 && errno == EAFNOSUPPORT) {
        family = AF_INET; /* a host without IPv6: every IPv4 address */
        fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        return fail(err, errlen, "socket", -1);
    int one = 1, zero = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return fail(err, errlen, "setsockopt(SO_REUSEADDR)", fd);
    socklen_t len;
    if (family == AF_INET) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else {
        /* every address: IPv4 too, whatever net.ipv6.bindv6only says */
        if (!addr && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
            return fail(err, errlen, "setsockopt(IPV6_V6ONLY)", fd);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        return fail(err, errlen, "bind", fd);
    if (listen(fd, SOMAXCONN) < 0) /* the kernel caps it at net.core.somaxconn */
        return fail(err, errlen, "listen", fd);
    return fd;
}

int gw_accept_attach(struct lws_vhost *vh, int fd)
{
    lws_adopt_desc_t info;
    memset(&info, 0, sizeof info);
    info.vh = vh;
    info.type = LWS_ADOPT_RAW_FILE_DESC; /* polled for input; its callback accepts */
    info.fd.filefd = fd;
    info.opaque = (void *)&listener_mark;
    if (lws_adopt_descriptor_vhost_via_info(&info))
        return 0;
    close(fd); /* lws closes only sockets it failed to adopt */
    return -1;
}

bool gw_accept_is_listener(struct lws *wsi)
{
    return lws_get_opaque_user_data(wsi) == &listener_mark;
}

/* A connection accepted and silent so far, held on the libev loop rather than in lws. */
struct held {
    ev_io io; /* first: the watcher is the entry; io.fd is the socket */
    struct lws_vhost *vh;
    struct timespec deadline; /* closed at it if still silent (CLOCK_MONOTONIC) */
    struct held *prev, *next; /* oldest first */
};

/* The held connections of the one event loop (the gateway has one): a FIFO, as they all wait
 * the same GW_ACCEPT_SILENT_S, so the sweep looks at its head only. */
static struct {
    struct gw_server *gw;
    struct held *head, *tail;
    ev_timer sweep; /* started with the first held connection */
} held_q;

static void unlink_held(struct held *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        held_q.head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    else
        held_q.tail = h->prev;
}

/* Closes held connection `h` and forgets it. */
static void drop_held(struct ev_loop *loop, struct held *h)
{
    ev_io_stop(loop, &h->io);
    unlink_held(h);
    close(h->io.fd);
    free(h);
}

/* Its first bytes (or its end) arrived: lws takes it from here. */
static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    struct held *h = (struct held *)w;
    ev_io_stop(loop, w);
    unlink_held(h);
    gw_metrics_conn_close(held_q.gw->metrics); /* lws' WSI_CREATE counts it again */
    lws_adopt_socket_vhost(h->vh, w->fd);      /* NULL: lws closed it and logged why */
    free(h);
}

/* Closes the connections silent for GW_ACCEPT_SILENT_S, as lws would have timed them out. */
static void on_sweep(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)t;
    (void)revents;
    struct timespec now = thread_now();
    while (held_q.head && !thread_before(now, held_q.head->deadline)) {
        drop_held(loop, held_q.head);
        gw_metrics_conn_close(held_q.gw->metrics);
    }
}

/* Holds accepted socket `fd` of `vh` until it is readable (libev loop), or hands it to lws at
 * once (lws' poll loop: no loop of ours to wait on). */
static void hold(struct gw_server *gw, struct lws_vhost *vh, int fd)
{
    struct ev_loop *loop = gw->loop;
    struct held *h = loop ? malloc(sizeof *h) : NULL;
    if (!h) {
        lws_adopt_socket_vhost(vh, fd);
        return;
    }
    if (!ev_is_active(&held_q.sweep)) {
        held_q.gw = gw;
        ev_timer_init(&held_q.sweep, on_sweep, 1.0, 1.0);
        ev_timer_start(loop, &held_q.sweep);
    }
    ev_io_init(&h->io, on_readable, fd, EV_READ);
    h->vh = vh;
    h->deadline = thread_deadline_ms(GW_ACCEPT_SILENT_S * 1000LL);
    h->next = NULL;
    h->prev = held_q.tail;
    if (held_q.tail)
        held_q.tail->next = h;
    else
        held_q.head = h;
    held_q.tail = h;
    gw_metrics_conn_open(gw->metrics);
    ev_io_start(loop, &h->io);
}

void gw_accept_release(struct gw_server *gw)
{
    struct ev_loop *loop = gw->loop;
    if (!loop)
        return;
    ev_timer_stop(loop, &held_q.sweep);
    while (held_q.head)
        drop_held(loop, held_q.head);
}

/* Accepted socket `fd` numbered at or above gw->accept_fd_max, i.e. the descriptors kept for
 * the database, logs and pipes are being used up: closed at once, its pile retries later
 * (main.c, size_fd_limit). */
static void refuse_out_of_fds(struct gw_server *gw, int fd)
{
    close(fd);
    gw_metrics_conn_refused_fds(gw->metrics);
    static struct log_budget budget = {.per_minute = 6};
    unsigned long long left_out;
    if (log_budget_take(&budget, &left_out))
        log_warn("gateway", "connection_refused_fds",
                 "fd=%d accept_fd_max=%d suppressed=%llu hint=\"raise the hard limit (ulimit -Hn, "
                 "LimitNOFILE) or gw_max_connections\"",
                 fd, gw->accept_fd_max, left_out);
}

/* accept() failed with `e`, other than for an empty queue or a connection gone before it. */
static void log_accept_error(int e)
{
    static struct log_budget budget = {.per_minute = 6};
    unsigned long long left_out;
    if (log_budget_take(&budget, &left_out))
        log_warn("gateway", "accept_failed", "error=%s suppressed=%llu", log_q(strerror(e)),
                 left_out);
}

/* Up to GW_ACCEPT_BATCH connections from listener `wsi`, each adopted by its vhost; more wait
 * in the queue for the next wake-up (the socket stays readable). */
static void accept_batch(struct gw_server *gw, struct lws *wsi)
{
    int lfd = lws_get_socket_fd(wsi);
    struct lws_vhost *vh = lws_get_vhost(wsi);
    unsigned n = 0;
    while (n < GW_ACCEPT_BATCH) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_accept_error(errno);
            break;
        }
        n++;
        if (gw->accept_fd_max && fd >= gw->accept_fd_max) {
            refuse_out_of_fds(gw, fd);
            continue;
        }
        int one = 1; /* OCPP-J answers are small and must not wait (what lws' listener sets) */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        hold(gw, vh, fd);
    }
    gw_metrics_accept_batch(gw->metrics, n, n == GW_ACCEPT_BATCH);
}

int gw_accept_callback(struct gw_server *gw, struct lws *wsi, enum lws_callback_reasons reason)
{
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT_FILE:
        gw_metrics_conn_close(gw->metrics); /* its WSI_CREATE counted it: not a connection */
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
        accept_batch(gw, wsi);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* at the end, with the context; any other time no pile can connect any more */
        if (!gw->stopping)
            log_error("gateway", "listener_closed", "fd=%d hint=\"restart the gateway\"",
                      lws_get_socket_fd(wsi));
        return 0;
    default:
        return 0;
    }
}
