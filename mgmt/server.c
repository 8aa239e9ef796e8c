/* libmicrohttpd glue: limits, body collection, one SQLite connection per worker thread.
 *
 * Threading: MHD's internal epoll with a thread pool. Handlers do blocking work by nature
 * (SQLite, argon2 at ~30 ms a login, writing uploads), so a pool keeps one slow request from
 * stalling the others, while epoll keeps thousands of idle keep-alive connections cheap.
 * Each worker thread lazily opens its own SQLite connection (WAL allows concurrent readers).
 * A request that waits for a pile (remote operations) is suspended instead of blocking its
 * thread, and resumed by cmd_wait.c's thread when its answer is there. */
#include "mgmt/server.h"
#include "common/config.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "db/db.h"
#include "mgmt/cmd_wait.h"
#include "mgmt/http.h"
#include "mgmt/metrics.h"
#include "mgmt/router.h"
#include "protocol/ipnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct mgmt_server {
    struct MHD_Daemon *mhd;
    const struct evg_config *cfg;
    struct cmd_wait *cmd_wait;
    struct ipnet proxies[IPNET_LIST_MAX]; /* mgmt_trusted_proxies */
    size_t nproxies;
};

/* Per-request state while the body arrives. */
struct conn_state {
    struct mgmt_req req;
    struct MHD_PostProcessor *pp;
    size_t received; /* body bytes seen */
    size_t body_cap; /* bytes allowed for this body */
    int cur_file;    /* index of the upload being written, -1 */
    FILE *cur_fp;
    EVP_MD_CTX *cur_md;
    int bad_multipart;
    struct timespec start;
    /* a request suspended until its remote operation is finished (resp.wait_command) */
    int waiting; /* 1 from suspending until its answer is sent: it holds a cmd_wait slot */
    const char *label;
    struct cmd_wait_result waited;
};

/* Each worker thread's connection, closed by the key's destructor when the thread ends. */
static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void close_thread_db(void *db)
{
    db_close(db);
}

static void make_db_key(void)
{
    pthread_key_create(&db_key, close_thread_db);
}

static struct db *worker_db(const struct evg_config *cfg)
{
    pthread_once(&db_key_once, make_db_key);
    struct db *db = pthread_getspecific(db_key);
    if (!db) {
        char err[512];
        db = db_open(cfg->db, (int)cfg->sqlite_busy_ms, cfg->sqlite_synchronous, err, sizeof err);
        if (!db) {
            log_error("mgmt", "db_open_failed", "error=%s", log_q(err));
        } else {
            /* lists read all over a city's records: keep them in memory, mapped */
            db_tune(db, cfg->mgmt_sqlite_cache_kib, cfg->mgmt_sqlite_mmap_bytes);
            pthread_setspecific(db_key, db);
        }
    }
    return db;
}

static void finish_upload(struct conn_state *cs)
{
    if (cs->cur_file < 0)
        return;
    struct mgmt_upload *u = &cs->req.files[cs->cur_file];
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(cs->cur_md, md, &mdlen);
    for (unsigned i = 0; i < 32; i++)
        snprintf(u->sha256 + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(cs->cur_md);
    cs->cur_md = NULL;
    if (cs->cur_fp && fclose(cs->cur_fp) != 0)
        cs->bad_multipart = 1;
    cs->cur_fp = NULL;
    cs->cur_file = -1;
}

static int start_upload(struct conn_state *cs, const char *key, const char *filename)
{
    struct mgmt_req *req = &cs->req;
    if (req->nfiles >= MGMT_MAX_FILES)
        return -1;
    struct mgmt_upload *u = &req->files[req->nfiles];
    memset(u, 0, sizeof *u);
    snprintf(u->field, sizeof u->field, "%s", key);
    snprintf(u->filename, sizeof u->filename, "%s", filename);
    snprintf(u->tmp_path, sizeof u->tmp_path, "%stmp/upload-XXXXXX", req->cfg->data_dir);
    int fd = mkstemp(u->tmp_path);
    if (fd < 0) {
        log_error("mgmt", "upload_tmp_failed", "path=%s error=%s", log_q(u->tmp_path),
                  log_q(strerror(errno)));
        u->tmp_path[0] = 0;
        return -1;
    }
    cs->cur_fp = fdopen(fd, "wb");
    cs->cur_md = EVP_MD_CTX_new();
    if (!cs->cur_fp || !cs->cur_md || !EVP_DigestInit_ex(cs->cur_md, EVP_sha256(), NULL)) {
        if (!cs->cur_fp)
            close(fd);
        return -1;
    }
    cs->cur_file = req->nfiles++;
    return 0;
}

/* The largest file any route accepts; each handler then applies its own limit. */
static long long upload_limit(const struct evg_config *cfg)
{
    return cfg->max_upload_bytes > cfg->max_import_bytes ? cfg->max_upload_bytes
                                                         : cfg->max_import_bytes;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct conn_state *cs = cls;
    struct mgmt_req *req = &cs->req;
    if (!key)
        return MHD_YES;
    if (filename) {
        struct mgmt_upload *u = cs->cur_file >= 0 ? &req->files[cs->cur_file] : NULL;
        if (!u || strcmp(u->field, key) != 0 || off == 0) {
            finish_upload(cs);
            if (start_upload(cs, key, filename) < 0) {
                cs->bad_multipart = 1;
                return MHD_NO;
            }
            u = &req->files[cs->cur_file];
        }
        if (u->head_len < sizeof u->head) {
            size_t n = sizeof u->head - u->head_len < size ? sizeof u->head - u->head_len : size;
            memcpy(u->head + u->head_len, data, n);
            u->head_len += n;
        }
        u->size += (int64_t)size;
        if (u->size > upload_limit(req->cfg)) {
            u->too_large = 1; /* keep counting, stop storing */
            return MHD_YES;
        }
        if (size && (fwrite(data, 1, size, cs->cur_fp) != size ||
                     !EVP_DigestUpdate(cs->cur_md, data, size))) {
            cs->bad_multipart = 1;
            return MHD_NO;
        }
        return MHD_YES;
    }
    struct mgmt_field *f = mgmt_field(req, key);
    if (!f) {
        if (req->nfields >= MGMT_MAX_FIELDS) {
            req->too_many_fields = 1;
            return MHD_YES;
        }
        f = &req->fields[req->nfields++];
        snprintf(f->name, sizeof f->name, "%s", key);
    }
    if (f->len + size > MGMT_MAX_FIELD_BYTES) {
        f->truncated = 1;
        return MHD_YES;
    }
    char *nv = realloc(f->value, f->len + size + 1);
    if (!nv)
        return MHD_NO;
    memcpy(nv + f->len, data, size);
    f->len += size;
    nv[f->len] = 0;
    f->value = nv;
    return MHD_YES;
}

static void free_state(struct conn_state *cs)
{
    struct mgmt_req *req = &cs->req;
    if (cs->pp)
        MHD_destroy_post_processor(cs->pp);
    if (cs->cur_fp)
        fclose(cs->cur_fp);
    EVP_MD_CTX_free(cs->cur_md);
    for (int i = 0; i < req->nfiles; i++)
        if (req->files[i].tmp_path[0])
            unlink(req->files[i].tmp_path); /* handlers rename what they keep */
    for (int i = 0; i < req->nfields; i++)
        free(req->fields[i].value);
    free(req->body);
    free(cs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct mgmt_server *srv = cls;
    struct conn_state *cs = *con_cls;
    /* only now is the answer on the wire: cmd_wait_stop() waits for this before MHD stops */
    if (cs && cs->waiting)
        cmd_wait_done(srv->cmd_wait);
    if (cs) {
        json_decref(cs->waited.body);
        free_state(cs);
    }
    *con_cls = NULL;
}

/* The client's address: the connection's, or behind a trusted proxy the one its
 * X-Forwarded-For names (ipnet_forwarded_client). */
static void client_addr(const struct mgmt_server *srv, struct MHD_Connection *c, char *out,
                        size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char peer[INET6_ADDRSTRLEN] = "unknown";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer, sizeof peer);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof peer);
    }
    const char *xff =
        srv->nproxies ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For") : NULL;
    ipnet_forwarded_client(srv->proxies, srv->nproxies, peer, xff, out, len);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct mgmt_resp *resp)
{
    struct MHD_Response *r;
    if (resp->fd >= 0) {
        r = MHD_create_response_from_fd64((uint64_t)resp->fd_size, resp->fd);
        resp->fd = -1; /* MHD closes it */
    } else {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        resp->body = NULL;
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    int has_csp = 0;
    for (int i = 0; i < resp->nheaders; i++) {
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
        has_csp |= strcasecmp(resp->headers[i].name, "Content-Security-Policy") == 0;
    }
    if (!has_csp)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    if (resp->status >= 400 && resp->status != 404 && resp->status != 401 && resp->status != 403 &&
        resp->status != 422 && resp->status != 409)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static double elapsed(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static int first_truncated(const struct mgmt_req *req)
{
    for (int i = 0; i < req->nfields; i++)
        if (req->fields[i].truncated)
            return 1;
    return 0;
}

/* Logs, counts and sends `resp`. */
static enum MHD_Result respond(struct MHD_Connection *c, struct conn_state *cs,
                               struct mgmt_resp *resp, const char *label)
{
    struct mgmt_req *req = &cs->req;
    double secs = elapsed(&cs->start);
    metrics_observe(label, resp->status, secs);
    /* The access log: MHD's url has no query string, so nothing of a query reaches the log. */
    long long bytes = resp->fd >= 0 ? (long long)resp->fd_size : (long long)resp->body_len;
    log_info("mgmt", "request",
             "method=%s route=%s path=%s status=%u bytes=%lld ms=%.1f account=%lld client=%s",
             log_q(req->method), log_q(label), log_q(req->path), resp->status, bytes, secs * 1000,
             (long long)req->caller.account_id,
             log_q(req->client_addr[0] ? req->client_addr : NULL));
    enum MHD_Result ret = send_resp(c, resp);
    free(resp->body);
    if (resp->fd >= 0)
        close(resp->fd);
    return ret;
}

/* The handler asked to wait for a remote operation: park the connection (MHD calls
 * on_request again once cmd_wait.c resumes it, and answer_waited() answers then). */
static enum MHD_Result suspend_for_command(struct mgmt_server *srv, struct MHD_Connection *c,
                                           struct conn_state *cs, struct mgmt_resp *resp,
                                           const char *label)
{
    free(resp->body);
    cs->waiting = 1;
    cs->label = label;
    MHD_suspend_connection(c);
    cmd_wait_add(srv->cmd_wait, c, resp->wait_command, &cs->waited);
    return MHD_YES;
}

static enum MHD_Result answer_waited(struct mgmt_server *srv, struct MHD_Connection *c,
                                     struct conn_state *cs)
{
    struct mgmt_resp resp = {.status = 500, .fd = -1};
    if (cs->waited.body)
        mgmt_resp_json(&resp, cs->waited.status, cs->waited.body);
    else if (cs->waited.status == 503)
        mgmt_resp_error(&resp, 503, "unavailable", "mgmt is stopping", NULL);
    else
        mgmt_resp_error(&resp, 500, "internal", "could not read the command", NULL);
    cs->waited.body = NULL; /* stolen by mgmt_resp_json */
    return respond(c, cs, &resp, cs->label);
}

static enum MHD_Result answer(struct mgmt_server *srv, struct MHD_Connection *c,
                              struct conn_state *cs)
{
    struct mgmt_resp resp = {.status = 500, .fd = -1};
    const char *label = "unmatched";
    struct mgmt_req *req = &cs->req;
    if (cs->waiting)
        return answer_waited(srv, c, cs);
    finish_upload(cs);
    req->db = worker_db(srv->cfg);
    req->cmd_wait = srv->cmd_wait;
    if (!req->db) {
        mgmt_resp_error(&resp, 503, "unavailable", "the database cannot be opened", NULL);
    } else if (cs->bad_multipart || req->too_many_fields) {
        mgmt_resp_error(&resp, 400, "bad_request",
                        req->too_many_fields ? "too many form fields"
                                             : "the multipart body could not be read",
                        NULL);
    } else if (first_truncated(req)) {
        /* A text field over MGMT_MAX_FIELD_BYTES: refused whole, never stored cut short. */
        label = "too_large";
        json_t *details = json_array();
        for (int i = 0; i < req->nfields; i++)
            if (req->fields[i].truncated)
                mgmt_detail(details, req->fields[i].name, "too_large",
                            "the text is longer than any field allows");
        mgmt_resp_error(&resp, 413, "too_large", "a form field is too large", details);
    } else if (cs->received > cs->body_cap) {
        label = "too_large";
        json_t *details = json_array();
        for (int i = 0; i < req->nfiles; i++)
            if (req->files[i].too_large)
                mgmt_detail(details, req->files[i].field, "too_large",
                            "the file is larger than the upload limit");
        mgmt_resp_error(&resp, 413, "too_large", "request body is larger than the limit", details);
    } else {
        db_take_full(req->db); /* a mark left by an earlier request of this thread */
        mgmt_route(req, &resp, &label);
        /* The disk filled up under the handler: whatever error it chose (most say 500), the
         * client learns the cause, and that nothing of the request was saved. */
        if (db_take_full(req->db) && resp.status >= 500 && resp.fd < 0) {
            log_error("mgmt", "storage_full", "route=%s", log_q(label));
            mgmt_resp_error(&resp, 507, "storage_full",
                            "the server's disk is full: nothing was saved; try again later", NULL);
        }
    }
    /* Drop what the handler did not keep before answering, so a client that sees the answer
     * never sees a leftover upload. */
    for (int i = 0; i < req->nfiles; i++)
        if (req->files[i].tmp_path[0]) {
            unlink(req->files[i].tmp_path);
            req->files[i].tmp_path[0] = 0;
        }
    if (resp.wait_command > 0)
        return suspend_for_command(srv, c, cs, &resp, label);
    return respond(c, cs, &resp, label);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct mgmt_server *srv = cls;
    struct conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &cs->start);
        cs->cur_file = -1;
        cs->req.conn = c;
        cs->req.cfg = srv->cfg;
        cs->req.method = method;
        cs->req.path = url;
        client_addr(srv, c, cs->req.client_addr, sizeof cs->req.client_addr);
        const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        cs->req.is_multipart = ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0;
        cs->body_cap = cs->req.is_multipart ? (size_t)upload_limit(srv->cfg) + 1024 * 1024
                                            : (size_t)srv->cfg->max_json_bytes;
        if (cs->req.is_multipart) {
            cs->pp = MHD_create_post_processor(c, 64 * 1024, on_part, cs);
            if (!cs->pp)
                cs->bad_multipart = 1;
        }
        *con_cls = cs;
        /* A body announced larger than the cap is refused now, before a byte of it is read:
         * waiting for it would hold a worker's connection for as long as the client likes. */
        const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        unsigned long long announced = clen ? strtoull(clen, NULL, 10) : 0;
        if (announced > cs->body_cap) {
            cs->req.body_too_large = 1;
            cs->received = announced > SIZE_MAX ? SIZE_MAX : (size_t)announced;
            return answer(srv, c, cs);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        cs->received += n;
        /* Past the cap, keep reading and dropping until the client is done, so that it reads
         * our 413 instead of a reset; but never more than a hard bound. */
        if (cs->received > cs->body_cap) {
            cs->req.body_too_large = 1;
            if (cs->received > 4 * cs->body_cap)
                return MHD_NO;
            return MHD_YES;
        }
        if (cs->pp) {
            if (!cs->bad_multipart && MHD_post_process(cs->pp, upload_data, n) != MHD_YES)
                cs->bad_multipart = 1;
        } else {
            char *nb = realloc(cs->req.body, cs->req.body_len + n + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + cs->req.body_len, upload_data, n);
            cs->req.body = nb;
            cs->req.body_len += n;
            nb[cs->req.body_len] = 0;
        }
        return MHD_YES;
    }
    return answer(srv, c, cs);
}

/* libmicrohttpd's own unescaping of paths and query values, except that a text holding "%00" is
 * left as it is: decoded, the NUL would cut it short (so /api/v1/files/1%00x would read as
 * /api/v1/files/1); left alone it matches no route and passes no field rule. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    if (strstr(s, "%00"))
        return strlen(s);
    return MHD_http_unescape(s);
}

struct mgmt_server *mgmt_server_start(const struct evg_config *cfg)
{
    char host[256], tmpdir[1024];
    int port;
    if (cfg_split_listen(cfg->mgmt_listen, host, sizeof host, &port) < 0) {
        log_error("mgmt", "bad_listen", "mgmt_listen=%s expected host:port",
                  log_q(cfg->mgmt_listen));
        return NULL;
    }
    snprintf(tmpdir, sizeof tmpdir, "%stmp", cfg->data_dir);
    if (fs_mkdir_p(tmpdir, 0750) < 0) {
        log_error("mgmt", "data_dir_failed", "path=%s error=%s", log_q(tmpdir),
                  log_q(strerror(errno)));
        return NULL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sslen = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *sin6;
        flags |= MHD_USE_IPv6;
    } else {
        log_error("mgmt", "bad_listen", "mgmt_listen=%s needs a numeric address",
                  log_q(cfg->mgmt_listen));
        return NULL;
    }
    (void)sslen;
    struct mgmt_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->cfg = cfg;
    char bad[64];
    if (ipnet_parse_list(cfg->mgmt_trusted_proxies, srv->proxies, &srv->nproxies, bad, sizeof bad) <
        0) {
        log_error("mgmt", "bad_trusted_proxies",
                  "entry=%s expected at most %d comma-separated addresses or CIDR blocks",
                  log_q(bad), IPNET_LIST_MAX);
        free(srv);
        return NULL;
    }
    if (!(srv->cmd_wait = cmd_wait_start(cfg))) {
        free(srv);
        return NULL;
    }
    srv->mhd = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->mgmt_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(cfg->max_connections / 4 + 1),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        /* the headers and 16 KiB: MHD zeroes what a request used of its pool, and with 64 KiB
         * more it copied each list page into the pool and zeroed it again, a fifth of the
         * instructions of a cached station list (callgrind); bodies still stream through */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header_bytes + 16 * 1024,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
        NULL, MHD_OPTION_END);
    if (!srv->mhd) {
        log_error("mgmt", "listen_failed", "addr=%s error=%s", log_q(cfg->mgmt_listen),
                  log_q(strerror(errno)));
        cmd_wait_free(srv->cmd_wait);
        free(srv);
        return NULL;
    }
    return srv;
}

void mgmt_server_stop(struct mgmt_server *srv)
{
    if (!srv)
        return;
    /* MHD must not stop with suspended connections: answer the waiting requests first */
    cmd_wait_stop(srv->cmd_wait);
    MHD_stop_daemon(srv->mhd);
    cmd_wait_free(srv->cmd_wait);
    free(srv);
}
