/* evsim-platform's server: the operator platform's side of T/CEC 102 that evgate calls,
 * POST {base}/{interface} on libmicrohttpd's one internal thread. query_token issues tokens;
 * query_stations_info, query_station_status and query_station_stats need
 * `Authorization: Bearer`. Every request is checked in the order parse (4003), token (4002),
 * signature (4001), decryption (4003/4004), payload rules (4004), and answered signed. */
#include "simulators/plat.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct MHD_Daemon *g_mhd;
static const struct plat_opts *g_o;
static struct plat_data *g_d;

/* --- tokens (under plat_lock) ------------------------------------------------------------ */

static struct token {
    char token[PLAT_TOKEN_LEN + 1];
    char operator_id[TCEC_OPERATOR_ID_LEN + 1];
    int64_t expires_ms;
} tokens[PLAT_TOKENS_MAX];
static size_t next_token;

static void issue_token(const char *operator_id, struct token *out)
{
    static const char hex[] = "0123456789ABCDEF";
    struct token *t = &tokens[next_token++ % PLAT_TOKENS_MAX];
    for (int i = 0; i < PLAT_TOKEN_LEN; i++)
        t->token[i] = hex[random() & 15];
    t->token[PLAT_TOKEN_LEN] = 0;
    snprintf(t->operator_id, sizeof t->operator_id, "%s", operator_id);
    /* expired-token: announced as usual, dead after a second */
    int64_t life_s = g_o->fault == F_EXPIRED_TOKEN ? PLAT_FAULTY_TOKEN_LIFE_S : g_o->token_ttl_s;
    t->expires_ms = plat_now_ms() + life_s * 1000;
    *out = *t;
}

/* 0 when `auth` is "Bearer <a live token issued to operator_id>", else -1 with *why. */
static int check_token(const char *auth, const char *operator_id, const char **why)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
        *why = "no Authorization: Bearer token";
        return -1;
    }
    const char *tok = auth + 7;
    while (*tok == ' ')
        tok++;
    int64_t now = plat_now_ms();
    for (size_t i = 0; i < PLAT_TOKENS_MAX; i++) {
        const struct token *t = &tokens[i];
        if (!t->token[0] || strcmp(t->token, tok) != 0)
            continue;
        if (now >= t->expires_ms) {
            *why = "the token has expired";
            return -1;
        }
        if (strcmp(t->operator_id, operator_id) != 0) {
            *why = "the token was issued to another OperatorID";
            return -1;
        }
        return 0;
    }
    *why = "unknown token";
    return -1;
}

/* --- the interfaces (under plat_lock) ---------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(struct tcec_error *e, enum tcec_ret ret,
                                                      const char *path, const char *fmt, ...)
{
    va_list ap;
    e->ret = ret;
    e->rule = TCEC_R_NONE;
    snprintf(e->path, sizeof e->path, "%s", path);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static json_t *serve_token(const struct tcec_request *req, const json_t *in)
{
    const char *id = json_string_value(json_object_get(in, "OperatorID"));
    const char *secret = json_string_value(json_object_get(in, "OperatorSecret"));
    int reason = 0;
    /* one credential set serves both directions (docs/tcec.md): evgate presents the operator's
     * OperatorSecret; --evgate-operator-id, when given, is the only OperatorID let in */
    if (strcmp(id, req->operator_id) != 0 ||
        (g_o->evgate_operator_id && strcmp(id, g_o->evgate_operator_id) != 0))
        reason = 1; /* no such operator */
    else if (strcmp(secret, g_o->operator_secret) != 0 && g_o->fault != F_ANY_SECRET)
        reason = 2; /* bad secret */
    if (reason)
        return json_pack("{s:s, s:i, s:s, s:i, s:i}", "OperatorID", g_o->operator_id, "SuccStat", 1,
                         "AccessToken", "", "TokenAvailableTime", 0, "FailReason", reason);
    struct token t;
    issue_token(id, &t);
    plat_count_token(true);
    /* zero-ttl: the token lives --token-ttl-s all the same */
    return json_pack("{s:s, s:i, s:s, s:i, s:i}", "OperatorID", g_o->operator_id, "SuccStat", 0,
                     "AccessToken", t.token, "TokenAvailableTime",
                     g_o->fault == F_ZERO_TTL ? 0 : g_o->token_ttl_s, "FailReason", 0);
}

static json_t *serve_stations(const json_t *in, struct tcec_error *e)
{
    const char *last = json_string_value(json_object_get(in, "LastQueryTime"));
    json_int_t no = json_integer_value(json_object_get(in, "PageNo"));
    json_int_t size = json_integer_value(json_object_get(in, "PageSize"));
    if (no < 1)
        no = 1;
    if (size < 1)
        size = PLAT_PAGE_SIZE_DEFAULT;
    /* stations changed at or after LastQueryTime (same format: compared as strings) */
    size_t n = plat_station_count(g_d), items = 0;
    size_t *match = malloc((n ? n : 1) * sizeof *match);
    if (!match) {
        fail(e, TCEC_RET_SYSTEM, "", "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char when[20];
        plat_datetime(g_d->updated[i], when);
        if (!last || !last[0] || strcmp(when, last) >= 0)
            match[items++] = i;
    }
    json_int_t count = ((json_int_t)items + size - 1) / size;
    json_int_t page = no;
    if (g_o->fault == F_WRONG_PAGING) {
        /* one page more than there is, and that page is page 1 again */
        if (no == count + 1)
            page = 1;
        count++;
    }
    if (count > 0 && no > count) {
        free(match);
        fail(e, TCEC_RET_BUSINESS, "PageNo", "PageNo: %lld is past the last page, PageCount %lld",
             (long long)no, (long long)count);
        return NULL;
    }
    json_t *list = json_array();
    for (json_int_t k = (page - 1) * size; k < page * size && k < (json_int_t)items; k++) {
        json_t *st = json_array_get(g_d->stations, match[k]);
        if (g_o->fault == F_MOVED_STATION) {
            /* somewhere else than where it is registered, still 6 decimals at most */
            st = json_deep_copy(st);
            double lng = json_number_value(json_object_get(st, "StationLng")) + PLAT_MOVED_LNG;
            json_object_set_new(st, "StationLng", json_real(round(lng * 1e6) / 1e6));
            json_array_append_new(list, st);
        } else {
            json_array_append(list, st);
        }
    }
    free(match);
    return json_pack("{s:I, s:I, s:I, s:o}", "PageNo", no, "PageCount", count, "ItemSize",
                     (json_int_t)items, "StationInfos", list);
}

static json_t *serve_status(const json_t *in, struct tcec_error *e)
{
    json_t *list = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(in, "StationIDs"), i, id)
    {
        long s = plat_station_find(g_d, json_string_value(id));
        if (s < 0) {
            json_decref(list);
            fail(e, TCEC_RET_BUSINESS, "StationIDs", "StationIDs: no such station %s",
                 json_string_value(id));
            return NULL;
        }
        json_array_append_new(list, plat_station_status(g_d, (size_t)s));
    }
    return json_pack("{s:I, s:o}", "Total", (json_int_t)json_array_size(list), "StationStatusInfos",
                     list);
}

static json_t *serve_stats(const json_t *in, struct tcec_error *e)
{
    const char *id = json_string_value(json_object_get(in, "StationID"));
    long s = plat_station_find(g_d, id);
    if (s < 0) {
        fail(e, TCEC_RET_BUSINESS, "StationID", "StationID: no such station %s", id);
        return NULL;
    }
    return json_pack("{s:o}", "StationStats",
                     plat_station_stats(g_d, (size_t)s,
                                        json_string_value(json_object_get(in, "StartTime")),
                                        json_string_value(json_object_get(in, "EndTime"))));
}

/* no-sig-check: Data decrypted without looking at the Sig. 0 or -1 with *e. */
static int open_unsigned(struct tcec_request *req, const struct tcec_keys *keys,
                         struct tcec_error *e)
{
    enum tcec_rule rule = TCEC_R_NONE;
    size_t n = 0;
    char *plain = tcec_decrypt(req->data, strlen(req->data), keys, &n, &rule);
    json_t *v = plain ? json_loadb(plain, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(plain);
    if (!json_is_object(v)) {
        json_decref(v);
        return fail(e, rule == TCEC_R_BASE64 ? TCEC_RET_POST : TCEC_RET_BUSINESS, "Data",
                    "Data does not decrypt to a JSON object");
    }
    req->payload = v;
    return 0;
}

/* The answer to one request of interface i: response text, caller frees. */
static char *serve(enum plat_iface i, const char *body, size_t len, const char *auth, int *ret)
{
    struct tcec_keys keys = plat_keys(g_o), send = plat_send_keys(g_o);
    struct tcec_request req;
    struct tcec_error e = {0};
    json_t *out = NULL;
    char *text = NULL;
    const char *why;
    bool parsed = false;
    if (tcec_request_parse(body, len, &req, &e) < 0) {
        if (g_o->fault == F_PARSE_ERROR_500)
            fail(&e, TCEC_RET_SYSTEM, "", "System error");
        goto error;
    }
    parsed = true;
    if (i != I_QUERY_TOKEN && g_o->fault != F_NO_TOKEN_CHECK &&
        check_token(auth, req.operator_id, &why) < 0) {
        fail(&e, TCEC_RET_TOKEN, "", "%s", why);
        goto error;
    }
    if ((g_o->fault == F_NO_SIG_CHECK ? open_unsigned(&req, &keys, &e)
                                      : tcec_request_open(&req, &keys, &e)) < 0 ||
        (g_o->fault != F_NO_PAYLOAD_CHECK &&
         tcec_validate(plat_iface_name(i), TCEC_REQUEST, req.payload, &e) < 0))
        goto error;
    switch (i) {
    case I_QUERY_TOKEN:
        out = serve_token(&req, req.payload);
        break;
    case I_STATIONS_INFO:
        out = serve_stations(req.payload, &e);
        break;
    case I_STATION_STATUS:
        out = serve_status(req.payload, &e);
        break;
    case I_STATION_STATS:
        out = serve_stats(req.payload, &e);
        break;
    default:
        break;
    }
    if (!out)
        goto error;
    plat_fault_payload(g_o, i, out);
    *ret = 0;
    text = tcec_response_build(0, "", out, &send);
    json_decref(out);
    tcec_request_clear(&req);
    return text;
error:
    if (parsed)
        tcec_request_clear(&req);
    *ret = e.ret;
    return tcec_response_build_error(&e, &send);
}

/* --- libmicrohttpd ----------------------------------------------------------------------- */

struct body {
    char *buf;
    size_t len, cap;
    bool too_large;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *text,
                             const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static int iface_of(const char *url)
{
    size_t n = strlen(g_o->base_path);
    if (strncmp(url, g_o->base_path, n) != 0 || url[n] != '/')
        return -1;
    for (int i = I_QUERY_TOKEN; i <= I_STATION_STATS; i++)
        if (strcmp(url + n + 1, plat_iface_name(i)) == 0)
            return i;
    return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **state)
{
    (void)cls;
    (void)version;
    struct body *b = *state;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return MHD_NO;
        *state = b;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (b->too_large || b->len + n > PLAT_BODY_MAX) {
            b->too_large = true;
            return MHD_YES;
        }
        if (b->len + n + 1 > b->cap) {
            size_t cap = (b->len + n + 1) * 2;
            char *nb = realloc(b->buf, cap);
            if (!nb)
                return MHD_NO;
            b->buf = nb;
            b->cap = cap;
        }
        memcpy(b->buf + b->len, upload_data, n);
        b->len += n;
        return MHD_YES;
    }
    int i = iface_of(url);
    if (i < 0 || strcmp(method, "POST") != 0) {
        /* not a T/CEC request: HTTP's own answer */
        if (i < 0)
            plat_count_other_path();
        else
            plat_count_error(D_SERVED, (enum plat_iface)i, E_NOT_FOUND);
        return reply(c, i < 0 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED,
                     strdup(i < 0 ? "no such interface\n" : "POST only\n"), "text/plain");
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    int ret = 0;
    char *text;
    if (b->too_large) {
        struct tcec_error e = {.ret = TCEC_RET_POST, .rule = TCEC_R_TOO_LARGE};
        struct tcec_keys send = plat_send_keys(g_o);
        snprintf(e.msg, sizeof e.msg, "request body over %u bytes", PLAT_BODY_MAX);
        plat_count_error(D_SERVED, (enum plat_iface)i, E_TOO_LARGE);
        ret = e.ret;
        text = tcec_response_build_error(&e, &send);
    } else {
        pthread_mutex_lock(&plat_lock);
        text = serve((enum plat_iface)i, b->buf ? b->buf : "", b->len, auth, &ret);
        pthread_mutex_unlock(&plat_lock);
    }
    plat_count(D_SERVED, (enum plat_iface)i, ret);
    if (!text)
        return MHD_NO;
    return reply(c, MHD_HTTP_OK, text, "application/json; charset=utf-8");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    struct body *b = *state;
    if (b) {
        free(b->buf);
        free(b);
    }
    *state = NULL;
}

int plat_server_start(const struct plat_opts *o, struct plat_data *d, char *err, size_t errlen)
{
    g_o = o;
    g_d = d;
    char host[256];
    const char *colon = strrchr(o->listen, ':');
    if (!colon || colon == o->listen || (size_t)(colon - o->listen) >= sizeof host) {
        snprintf(err, errlen, "--listen must be HOST:PORT, got \"%s\"", o->listen);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - o->listen), o->listen);
    if (host[0] == '[') { /* [::1]:port */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535) {
        snprintf(err, errlen, "--listen port must be 0..65535, got \"%s\"", colon + 1);
        return -1;
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM},
                    *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "--listen host must be an IP address, got \"%s\"", host);
        return -1;
    }
    struct sockaddr_storage sa;
    memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (v6)
        ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    g_mhd =
        MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!g_mhd) {
        snprintf(err, errlen, "cannot listen on %s", o->listen);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(g_mhd, MHD_DAEMON_INFO_BIND_PORT);
    /* the address tests read to find a port 0 server */
    fprintf(stderr, "evsim-platform: listening on http://%s%s%s:%u%s/\n", v6 ? "[" : "", host,
            v6 ? "]" : "", info ? info->port : (unsigned)port, o->base_path);
    return 0;
}

void plat_server_stop(void)
{
    if (g_mhd)
        MHD_stop_daemon(g_mhd);
    g_mhd = NULL;
}
