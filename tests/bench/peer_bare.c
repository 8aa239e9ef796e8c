/* bench-peer-bare: the floor of the throughput benchmark. A libwebsockets server on the same
 * transport settings as evgate-gateway (libev on epoll, one service thread, UTF-8 checks) that
 * answers every OCPP CALL with a fixed CALLRESULT found by a byte scan, with no JSON parser, no
 * schema, no database: what is left is what the transport costs on this machine.
 *
 *   bench-peer-bare --port P     listen on 127.0.0.1:P (0: any free port, printed when ready)
 *
 * Ready when it prints "bench-peer-bare listening port=P" on stderr; SIGINT/SIGTERM stop it and it
 * prints what it served. */
#include <libwebsockets.h>
#include <ev.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* An OCPP message id is at most 36 characters (OCPP-J 4.1.1); room for escapes in a longer one
 * that a pile may send anyway. Longer ones close the connection: no real pile sends them. */
#define BARE_ID_MAX 64
/* Answers waiting for a writable socket per connection. A closed-loop pile has one in flight; a
 * pile that pipelines more than this is held back (rx flow control) until the queue drains. */
#define BARE_QUEUE_MAX 16
/* A message that arrives in fragments is gathered up to this; a larger one closes with 1009. */
#define BARE_MESSAGE_MAX 65536
/* Descriptors beyond connections: listener, lws' cancel pipe, libev's epoll fd, stdio. */
#define BARE_FD_SLACK 16
/* Connections holding an HTTP header buffer at once (as the gateway: gateway/main.c). */
#define BARE_HEADER_POOL_MAX 16384
/* lws' timeout for handshakes and the like (as the gateway). */
#define BARE_TIMEOUT_S 10

enum bare_payload { BARE_EMPTY, BARE_BOOT, BARE_HEARTBEAT };

static const char *const payloads[] = {
    [BARE_EMPTY] = "{}",
    [BARE_BOOT] = "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00.000Z\","
                  "\"interval\":60}",
    [BARE_HEARTBEAT] = "{\"currentTime\":\"2026-01-01T00:00:00.000Z\"}",
};

/* One answer owed: the CALL's id as it was written on the wire (still JSON-escaped) and which
 * payload goes with it. The frame itself is built at write time in the vhost's one buffer. */
struct bare_answer {
    unsigned char id_len;
    unsigned char payload;
    char id[BARE_ID_MAX];
};

struct pss_bare {
    struct bare_answer queue[BARE_QUEUE_MAX];
    unsigned char head, count;
    unsigned char held; /* rx flow control is off until the queue drains */
    char *frag;         /* a fragmented message gathered so far (malloc'd, BARE_MESSAGE_MAX) */
    size_t frag_len;
};

/* The server's one service thread owns all of this: the frame being written and the counters
 * printed at the end. */
static struct {
    unsigned char out[LWS_PRE + BARE_ID_MAX + 160];
    unsigned long long connections, peak, total, calls, answers, others;
} bare;

static volatile sig_atomic_t stopping;
static _Atomic(struct lws_context *) g_ctx;
static struct ev_loop *g_loop;

/* Async-signal-safe: a flag and a write to lws' event pipe; the loop breaks in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED. */
static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
    struct lws_context *ctx = atomic_load(&g_ctx);
    if (ctx)
        lws_cancel_service(ctx);
}

/* Returns the index of the first byte at or after `i` that is not JSON whitespace. */
static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Finds the JSON string that starts at s[i] (a quote). Returns the index of its closing quote,
 * or 0 when there is none; a backslash escapes the next byte. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i;
    }
    return 0;
}

/* Reads a CALL `[2,"<id>","<Action>",...` by bytes. Returns 1 with *a filled, 0 when the message
 * is not a CALL (a CALLRESULT or garbage: nothing to answer), -1 when its id is too long. */
static int scan_call(const char *s, size_t n, struct bare_answer *a)
{
    size_t i = skip_ws(s, n, 0);
    if (i >= n || s[i] != '[')
        return 0;
    i = skip_ws(s, n, i + 1);
    if (i >= n || s[i] != '2')
        return 0;
    i = skip_ws(s, n, i + 1);
    if (i >= n || s[i] != ',')
        return 0;
    i = skip_ws(s, n, i + 1);
    if (i >= n || s[i] != '"')
        return 0;
    size_t end = string_end(s, n, i);
    if (!end)
        return 0;
    if (end - i - 1 > BARE_ID_MAX)
        return -1;
    a->id_len = (unsigned char)(end - i - 1);
    memcpy(a->id, s + i + 1, a->id_len);
    /* The action is the next string; compared with its quotes so that "Heartbeat" does not match
     * a longer name that starts with it. */
    i = skip_ws(s, n, end + 1);
    if (i < n && s[i] == ',')
        i = skip_ws(s, n, i + 1);
    static const char boot[] = "\"BootNotification\"", hb[] = "\"Heartbeat\"";
    if (n - i >= sizeof boot - 1 && memcmp(s + i, boot, sizeof boot - 1) == 0)
        a->payload = BARE_BOOT;
    else if (n - i >= sizeof hb - 1 && memcmp(s + i, hb, sizeof hb - 1) == 0)
        a->payload = BARE_HEARTBEAT;
    else
        a->payload = BARE_EMPTY;
    return 1;
}

/* Queues the answer to one whole message. Returns 0, or -1 to close the connection. */
static int take_message(struct lws *wsi, struct pss_bare *pss, const char *msg, size_t len)
{
    struct bare_answer *a = &pss->queue[(pss->head + pss->count) % BARE_QUEUE_MAX];
    int rc = scan_call(msg, len, a);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        bare.others++;
        return 0;
    }
    bare.calls++;
    if (pss->count++ == 0)
        lws_callback_on_writable(wsi);
    if (pss->count == BARE_QUEUE_MAX) {
        lws_rx_flow_control(wsi, 0);
        pss->held = 1;
    }
    return 0;
}

static int receive(struct lws *wsi, struct pss_bare *pss, const char *in, size_t len)
{
    int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    if (final && !pss->frag_len) /* the common case: the whole message in one piece, no copy */
        return take_message(wsi, pss, in, len);
    if (len > BARE_MESSAGE_MAX - pss->frag_len) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (!pss->frag && !(pss->frag = malloc(BARE_MESSAGE_MAX)))
        return -1;
    memcpy(pss->frag + pss->frag_len, in, len);
    pss->frag_len += len;
    if (!final)
        return 0;
    int rc = take_message(wsi, pss, pss->frag, pss->frag_len);
    pss->frag_len = 0;
    return rc;
}

/* Writes the oldest queued answer: one lws_write per writable callback, as lws asks. */
static int write_answer(struct lws *wsi, struct pss_bare *pss)
{
    if (!pss->count)
        return 0;
    const struct bare_answer *a = &pss->queue[pss->head];
    char *p = (char *)bare.out + LWS_PRE;
    size_t room = sizeof bare.out - LWS_PRE;
    int n = snprintf(p, room, "[3,\"%.*s\",%s]", (int)a->id_len, a->id, payloads[a->payload]);
    if (n < 0 || (size_t)n >= room)
        return -1;
    if (lws_write(wsi, bare.out + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n)
        return -1;
    bare.answers++;
    pss->head = (unsigned char)((pss->head + 1) % BARE_QUEUE_MAX);
    pss->count--;
    if (pss->held && pss->count < BARE_QUEUE_MAX / 2) {
        pss->held = 0;
        lws_rx_flow_control(wsi, 1);
    }
    if (pss->count)
        lws_callback_on_writable(wsi);
    return 0;
}

/* One callback for both subprotocols: the answers do not depend on the version. */
static int callback_ocpp(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct pss_bare *pss = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(pss, 0, sizeof *pss);
        if (++bare.connections > bare.peak)
            bare.peak = bare.connections;
        bare.total++;
        break;
    case LWS_CALLBACK_RECEIVE:
        return receive(wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return write_answer(wsi, pss);
    case LWS_CALLBACK_CLOSED:
        free(pss->frag);
        pss->frag = NULL;
        bare.connections--;
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (stopping && g_loop)
            ev_break(g_loop, EVBREAK_ALL);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {"ocpp1.6", callback_ocpp, sizeof(struct pss_bare), 0, 0, NULL, 0},
    {"ocpp2.0.1", callback_ocpp, sizeof(struct pss_bare), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* lws sizes its fd table from the soft RLIMIT_NOFILE: raise it to the hard limit. Returns the
 * descriptors there are. */
static unsigned raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit nrl = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nrl) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    /* RLIM_INFINITY would make lws allocate gigabytes of tables */
    return rl.rlim_cur > 1048576 ? 1048576u : (unsigned)rl.rlim_cur;
}

static int parse_port(int argc, char **argv, int *port)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 0 || v > 65535)
                return -1;
            *port = (int)v;
        } else {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = -1;
    if (parse_port(argc, argv, &port) < 0 || port < 0) {
        fprintf(stderr, "usage: bench-peer-bare --port P   (P = 0: any free port)\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    lws_set_log_level(LLL_ERR, NULL);
    unsigned fds = raise_fd_limit();

    /* As the gateway: a libev loop on epoll that we own, so that a signal can end it. */
    g_loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (!g_loop) {
        fprintf(stderr, "bench-peer-bare: libev has no epoll backend here\n");
        return 1;
    }
    void *loops[1] = {g_loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                   LWS_SERVER_OPTION_SKIP_SERVER_CANONICAL_NAME |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.foreign_loops = loops;
    info.iface = "127.0.0.1";
    info.port = port;
    info.protocols = protocols;
    info.uid = -1;
    info.gid = -1;
    info.count_threads = 1;
    info.fd_limit_per_thread = fds;
    info.max_http_header_pool2 = fds < BARE_HEADER_POOL_MAX ? fds : BARE_HEADER_POOL_MAX;
    info.timeout_secs = BARE_TIMEOUT_S;
    info.timeout_secs_ah_idle = BARE_TIMEOUT_S;
    info.server_string = "bench-peer-bare";
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "bench-peer-bare: cannot create the lws context (port %d in use?)\n", port);
        ev_loop_destroy(g_loop);
        return 1;
    }
    atomic_store(&g_ctx, ctx);
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
    int listening = vh ? lws_get_vhost_listen_port(vh) : port;
    fprintf(stderr, "bench-peer-bare listening port=%d fds=%u\n", listening, fds);

    int rc = 0;
    while (!stopping)
        if (lws_service(ctx, 0) < 0) {
            rc = 1;
            break;
        }
    fprintf(stderr,
            "bench-peer-bare stopped connections_peak=%llu connections_total=%llu calls=%llu "
            "answers=%llu not_calls=%llu\n",
            bare.peak, bare.total, bare.calls, bare.answers, bare.others);
    atomic_store(&g_ctx, NULL);
    lws_context_destroy(ctx);
    ev_loop_destroy(g_loop);
    return rc;
}
