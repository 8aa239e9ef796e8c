/* libFuzzer target: multipart uploads through mgmt's real server. Each input is the body of a
 * multipart/form-data POST (boundary "EVGATEFUZZ") sent over loopback to an upload route — a
 * detection's materials, or an access application's station or pile import — by an operator's
 * bearer token; the first byte picks the route. mgmt must answer every body with a well-formed
 * status (never a 5xx but 503/507) and go on serving; its temporary files must not pile up.
 *
 * The server runs in this process on a free port (libmicrohttpd's own threads), on a real,
 * migrated database in a temporary directory. */
#include "db/db.h"
#include "db/sessions.h"
#include "mgmt/auth.h"
#include "mgmt/server.h"
#include "tests/fuzz/fuzz_mgmt_env.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The document served at /api/v1/openapi.json is built in by meson; not needed here. */
const unsigned char mgmt_openapi_doc[] = "{}";
const size_t mgmt_openapi_doc_len = 2;

#define BOUNDARY "EVGATEFUZZ"

static struct {
    struct fuzz_mgmt m;
    struct mgmt_server *srv;
    int port;
    char token[65];
    char tmp_dir[128];
} g;

static const char *const routes[] = {
    "/api/v1/detections/1/materials",
    "/api/v1/access-applications/1/stations",
    "/api/v1/access-applications/1/piles",
};

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) < 0)
        abort();
    close(s);
    return ntohs(a.sin_port);
}

/* connect() that outlives libFuzzer's -timeout watchdog, a SIGALRM each second: an interrupted
 * connect goes on in the kernel (a loaded machine can take that long to accept), so wait for its
 * outcome instead of calling it a failure. */
static int connect_through_alarms(int s, const struct sockaddr_in *a)
{
    if (connect(s, (const struct sockaddr *)a, sizeof *a) == 0)
        return 0;
    if (errno != EINTR)
        return -1;
    for (;;) {
        struct pollfd p = {.fd = s, .events = POLLOUT};
        int r = poll(&p, 1, 10000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            errno = r == 0 ? ETIMEDOUT : errno;
            return -1;
        }
        int e = 0;
        socklen_t l = sizeof e;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
            return -1;
        errno = e;
        return e ? -1 : 0;
    }
}

/* Sends all of buf, through the watchdog's interruptions; -1 when the peer closed. */
static int send_all(int s, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t r = send(s, p, len, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* POSTs `body` to `path`; returns the status, or -1 when the server did not answer. */
static int post(const char *path, const uint8_t *body, size_t len)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)g.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 10};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* closed with a reset, not left in TIME_WAIT: thousands of runs a minute would use up the
     * loopback's ephemeral ports */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (s < 0 || connect_through_alarms(s, &a) < 0) {
        fprintf(stderr, "cannot connect to mgmt on port %d: %s\n", g.port, strerror(errno));
        abort();
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\n"
                     "Content-Type: multipart/form-data; boundary=" BOUNDARY "\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, g.token, len);
    /* MSG_NOSIGNAL: a server that refused the body may close before it is all sent */
    if (send_all(s, head, (size_t)n) < 0 || send_all(s, body, len) < 0) {
        close(s);
        return -1; /* the server may close early on a body it refused: fine */
    }
    char buf[4096];
    size_t got = 0;
    ssize_t r;
    /* libFuzzer's -timeout watchdog is a SIGALRM each second: a read it interrupts is retried */
    while (got < sizeof buf - 1 &&
           ((r = read(s, buf + got, sizeof buf - 1 - got)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            got += (size_t)r;
    close(s);
    buf[got] = 0;
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

static size_t tmp_files(void)
{
    DIR *d = opendir(g.tmp_dir);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN); /* as evgate-mgmt's main does: a client may hang up mid-answer */
    char listen[32];
    g.port = free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", g.port);
    fuzz_mgmt_setup(&g.m, listen);
    snprintf(g.tmp_dir, sizeof g.tmp_dir, "%stmp", g.m.cfg.data_dir);
    char hash[65];
    int64_t id;
    if (auth_random_hex(g.token, 64) < 0)
        abort();
    auth_sha256_hex(g.token, strlen(g.token), hash);
    if (db_token_create(g.m.db, g.m.operator_id, "fuzz", hash, "fuzz", &id) != DB_OK)
        abort();
    g.srv = mgmt_server_start(&g.m.cfg);
    if (!g.srv)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = routes[data[0] % (sizeof routes / sizeof *routes)];
    int status = post(path, data + 1, size - 1);
    if (status >= 500 && status != 503 && status != 507) {
        fprintf(stderr, "POST %s answered %d\n", path, status);
        abort();
    }
    /* the server still answers, and left no upload behind */
    int probe = post("/api/v1/detections/1/materials", (const uint8_t *)"", 0);
    if (probe < 0) {
        fprintf(stderr, "mgmt stopped answering (%s)\n", strerror(errno));
        abort();
    }
    if (tmp_files() > 0) {
        fprintf(stderr, "temporary upload files left behind in %s\n", g.tmp_dir);
        abort();
    }
    return 0;
}
