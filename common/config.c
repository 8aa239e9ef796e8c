/* The settings table and its three sources (file, environment, flags); --help comes from it. */
#include "common/config.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type { T_STR, T_INT };

struct cfg_entry {
    const char *name; /* config-file key; env is EVGATE_<NAME>, flag is --<name with '-'> */
    enum cfg_type type;
    const char *def;
    unsigned scope;
    size_t offset;
    long long min, max; /* for T_INT */
    const char *help;
};

#define S(field) offsetof(struct evg_config, field)
static const struct cfg_entry table[] = {
    {"config", T_STR, "", CFG_ALL, S(config_file), 0, 0,
     "configuration file of `key = value` lines"},
    {"db", T_STR, "var/evgate.db", CFG_ALL, S(db), 0, 0, "SQLite database file"},
    {"data_dir", T_STR, "var/", CFG_ALL, S(data_dir), 0, 0,
     "directory for uploads and generated files (outside the web root)"},
    {"web_dir", T_STR, "mgmt/web", CFG_MGMT, S(web_dir), 0, 0,
     "directory of the web UI's static files"},
    {"mgmt_listen", T_STR, "127.0.0.1:8080", CFG_MGMT, S(mgmt_listen), 0, 0,
     "address:port of the management HTTP server"},
    {"gateway_listen", T_STR, "127.0.0.1:8180", CFG_GATEWAY, S(gateway_listen), 0, 0,
     "address:port of the gateway (OCPP WebSocket, T/CEC HTTP, /healthz, /metrics)"},
    {"admin_password", T_STR, "", CFG_MGMT | CFG_TOOL, S(admin_password), 0, 0,
     "password of the first admin, created when the database has none (else generated)"},
    {"log_level", T_STR, "info", CFG_ALL, S(log_level), 0, 0, "debug, info, warn or error"},
    {"sqlite_synchronous", T_STR, "NORMAL", CFG_ALL, S(sqlite_synchronous), 0, 0,
     "NORMAL keeps commits across a process crash, FULL also across power loss"},
    {"site_name", T_STR, "电动汽车充电设施智能服务平台", CFG_MGMT, S(site_name), 0, 0,
     "platform name shown in the web UI"},
    {"area_code_prefixes", T_STR, "4420", CFG_MGMT, S(area_code_prefixes), 0, 0,
     "comma-separated GB/T 2260 prefixes of the area codes this platform accepts (\"\" = all)"},
    {"sqlite_busy_ms", T_INT, "5000", CFG_ALL, S(sqlite_busy_ms), 1, 600000,
     "SQLite busy timeout in milliseconds"},
    {"mgmt_threads", T_INT, "4", CFG_MGMT, S(mgmt_threads), 1, 64,
     "worker threads of the management server"},
    {"max_connections", T_INT, "1024", CFG_MGMT, S(max_connections), 1, 100000,
     "concurrent HTTP connections to the management server"},
    {"mgmt_sqlite_cache_kib", T_INT, "32768", CFG_MGMT, S(mgmt_sqlite_cache_kib), 2048, 4194304,
     "SQLite page cache of each management worker thread, in KiB"},
    {"mgmt_sqlite_mmap_bytes", T_INT, "1073741824", CFG_MGMT, S(mgmt_sqlite_mmap_bytes), 0,
     1099511627776LL, "memory map of the database for each management worker (0 = none)"},
    {"connection_timeout_s", T_INT, "30", CFG_MGMT, S(connection_timeout_s), 1, 3600,
     "idle HTTP connection timeout in seconds"},
    {"max_header_bytes", T_INT, "16384", CFG_MGMT, S(max_header_bytes), 1024, 1048576,
     "maximum size of a request's headers"},
    {"max_json_bytes", T_INT, "1048576", CFG_MGMT, S(max_json_bytes), 1024, 67108864,
     "maximum size of a JSON request body"},
    {"max_upload_bytes", T_INT, "10485760", CFG_MGMT, S(max_upload_bytes), 1024, 1073741824,
     "maximum size of one uploaded file"},
    {"max_import_bytes", T_INT, "20971520", CFG_MGMT, S(max_import_bytes), 1024, 1073741824,
     "maximum size of an uploaded xlsx import"},
    {"max_import_rows", T_INT, "100000", CFG_MGMT, S(max_import_rows), 1, 10000000,
     "maximum data rows of one sheet of an xlsx import"},
    {"session_ttl_s", T_INT, "28800", CFG_MGMT, S(session_ttl_s), 60, 2592000,
     "lifetime of a browser session in seconds"},
    {"mgmt_trusted_proxies", T_STR, "", CFG_MGMT, S(mgmt_trusted_proxies), 0, 0,
     "comma-separated addresses or CIDR blocks of reverse proxies in front of mgmt (nginx: "
     "\"127.0.0.1\"); a request from one of them is taken to come from the address its "
     "X-Forwarded-For names (logs, per-address login throttling); empty = the connection's "
     "address, X-Forwarded-For ignored"},
    {"login_max_failures", T_INT, "5", CFG_MGMT, S(login_max_failures), 1, 1000,
     "failed logins in a row for one user name before its logins are throttled"},
    {"login_max_failures_per_address", T_INT, "50", CFG_MGMT, S(login_max_failures_per_address), 1,
     100000, "failed logins in a row from one client address before it is throttled"},
    {"login_lock_s", T_INT, "900", CFG_MGMT, S(login_lock_s), 1, 86400,
     "seconds a throttled user name or address must wait"},
    {"page_size_max", T_INT, "200", CFG_MGMT, S(page_size_max), 1, 10000, "largest page of a list"},
    {"gw_max_connections", T_INT, "120000", CFG_GATEWAY, S(gw_max_connections), 16, 2000000,
     "file descriptors the gateway sizes its tables for"},
    {"gw_rx_buffer", T_INT, "8192", CFG_GATEWAY, S(gw_rx_buffer), 512, 1048576,
     "WebSocket receive buffer per connection (largest frame)"},
    {"writer_batch_ms", T_INT, "2", CFG_GATEWAY, S(writer_batch_ms), 0, 1000,
     "how long the database writer gathers jobs into one commit"},
    {"writer_batch_max", T_INT, "2000", CFG_GATEWAY, S(writer_batch_max), 1, 1000000,
     "most jobs in one commit of the database writer"},
    {"writer_sqlite_cache_kib", T_INT, "65536", CFG_GATEWAY, S(writer_sqlite_cache_kib), 2048,
     4194304, "SQLite page cache of the database writer, in KiB"},
    {"writer_sqlite_mmap_bytes", T_INT, "1073741824", CFG_GATEWAY, S(writer_sqlite_mmap_bytes), 0,
     1099511627776LL, "memory map of the database for the writer's reads (0 = none)"},
    {"writer_queue_max", T_INT, "200000", CFG_GATEWAY, S(writer_queue_max), 16, 10000000,
     "most jobs waiting for the database writer before new work is refused"},
    {"ocpp_heartbeat_s", T_INT, "300", CFG_GATEWAY, S(ocpp_heartbeat_s), 1, 86400,
     "OCPP heartbeat interval in seconds; a pile silent for twice as long is disconnected"},
    {"ocpp_max_frame_bytes", T_INT, "65536", CFG_GATEWAY, S(ocpp_max_frame_bytes), 1024, 16777216,
     "largest OCPP-J message a pile may send (a larger one closes the connection with 1009)"},
    {"ocpp_max_msgs_per_min", T_INT, "600", CFG_GATEWAY, S(ocpp_max_msgs_per_min), 1, 1000000,
     "OCPP-J messages one pile may send per minute (bursts up to this); more are dropped"},
    {"ocpp_meter_values_keep", T_INT, "2000", CFG_GATEWAY, S(ocpp_meter_values_keep), 10, 100000000,
     "sampled meter values kept per pile (older ones are deleted, checked every 32 "
     "messages that carry values)"},
    {"ocpp_call_timeout_s", T_INT, "30", CFG_ALL, S(ocpp_call_timeout_s), 1, 3600,
     "seconds a pile has to answer a remote operation sent from mgmt"},
    {"ocpp_command_poll_ms", T_INT, "200", CFG_GATEWAY, S(ocpp_command_poll_ms), 10, 60000,
     "how often the gateway looks for remote operations queued by mgmt"},
    {"ocpp_commands_keep", T_INT, "200", CFG_GATEWAY, S(ocpp_commands_keep), 10, 1000000,
     "remote operations kept per pile (older ones are deleted)"},
    {"gw_tls_listen", T_STR, "127.0.0.1:8443", CFG_GATEWAY, S(gw_tls_listen), 0, 0,
     "host:port of the gateway's TLS listener (wss:// and https://), used when gw_tls_cert is set"},
    {"gw_tls_cert", T_STR, "", CFG_GATEWAY, S(gw_tls_cert), 0, 0,
     "PEM server certificate (chain) of the TLS listener; empty = no TLS listener"},
    {"gw_tls_key", T_STR, "", CFG_GATEWAY, S(gw_tls_key), 0, 0, "PEM private key of gw_tls_cert"},
    {"gw_tls_ca", T_STR, "", CFG_GATEWAY, S(gw_tls_ca), 0, 0,
     "PEM CA certificates that sign pile client certificates (security profile 3); empty = none"},
    {"tcec_operator_id", T_STR, "MA5EVGATE", CFG_GATEWAY, S(tcec_operator_id), 0, 0,
     "this platform's T/CEC OperatorID (9 of 0-9 A-Z), presented when evgate calls operator "
     "platforms"},
    {"tcec_poll_s", T_INT, "300", CFG_GATEWAY, S(tcec_poll_s), 0, 86400,
     "seconds between evgate's calls to each operator platform (stations, status, stats); 0 = "
     "never"},
    {"tcec_http_timeout_s", T_INT, "15", CFG_GATEWAY, S(tcec_http_timeout_s), 1, 600,
     "time limit of one call to an operator platform"},
    {"tcec_token_ttl_s", T_INT, "7200", CFG_GATEWAY, S(tcec_token_ttl_s), 1, 31536000,
     "lifetime of an AccessToken evgate issues to an operator platform (TokenAvailableTime)"},
    {"tcec_clock_skew_s", T_INT, "600", CFG_GATEWAY, S(tcec_clock_skew_s), 1, 86400,
     "how far a T/CEC request's TimeStamp may be from the gateway's clock (refused beyond)"},
    {"tcec_body_max_bytes", T_INT, "1048576", CFG_GATEWAY, S(tcec_body_max_bytes), 1024, 8388608,
     "largest T/CEC request body the gateway reads (larger ones are refused with 413)"},
    {"conform_runs_max", T_INT, "4", CFG_GATEWAY, S(conform_runs_max), 1, 64,
     "conformance runs the gateway executes at once (more wait queued)"},
    {"conform_heartbeat_s", T_INT, "30", CFG_GATEWAY, S(conform_heartbeat_s), 1, 3600,
     "HeartbeatInterval a conformance run sets for its heartbeat.interval check (gaps within "
     "20 % of it pass)"},
    {"conform_wait_cap_s", T_INT, "0", CFG_GATEWAY, S(conform_wait_cap_s), 0, 600,
     "longest a conformance check waits for the pile or platform (0 = the plan's time of each "
     "check; a test bench sets a few seconds)"},
    {"dashboard_sample_s", T_INT, "300", CFG_GATEWAY, S(dashboard_sample_s), 1, 86400,
     "how often the gateway records the number of online piles for the admin dashboard's chart"},
    {"dashboard_keep_days", T_INT, "30", CFG_GATEWAY, S(dashboard_keep_days), 1, 3650,
     "days of online-pile samples kept (older ones are deleted as new ones are written)"},
};
#undef S
#define NENTRIES (sizeof table / sizeof table[0])

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void env_name(const struct cfg_entry *e, char *buf, size_t len)
{
    size_t i = 0, n = strlen("EVGATE_");
    memcpy(buf, "EVGATE_", n);
    for (; e->name[i] && n + 1 < len; i++)
        buf[n++] = (char)toupper((unsigned char)e->name[i]);
    buf[n] = 0;
}

static void flag_name(const struct cfg_entry *e, char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = e->name; *p && n + 1 < len; p++)
        buf[n++] = *p == '_' ? '-' : *p;
    buf[n] = 0;
}

static const struct cfg_entry *find_key(const char *key, size_t len, int flag)
{
    char buf[64];
    for (size_t i = 0; i < NENTRIES; i++) {
        if (flag)
            flag_name(&table[i], buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%s", table[i].name);
        if (strlen(buf) == len && memcmp(buf, key, len) == 0)
            return &table[i];
    }
    return NULL;
}

static int set_value(struct evg_config *cfg, const struct cfg_entry *e, const char *val,
                     const char *source, char *err, size_t errlen)
{
    char *base = (char *)cfg + e->offset;
    if (e->type == T_STR) {
        char *copy = strdup(val);
        if (!copy) {
            seterr(err, errlen, "out of memory");
            return -1;
        }
        free(*(char **)base);
        *(char **)base = copy;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || end == val || *end || v < e->min || v > e->max) {
        seterr(err, errlen, "%s: %s must be an integer in %lld..%lld, got \"%s\"", source, e->name,
               e->min, e->max, val);
        return -1;
    }
    *(long long *)base = v;
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static int load_file(struct evg_config *cfg, unsigned scope, const char *path, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        seterr(err, errlen, "config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], source[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(source, sizeof source, "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            seterr(err, errlen, "%s: line longer than %zu bytes", source, sizeof line - 2);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            seterr(err, errlen, "%s: expected `key = value`", source);
            rc = -1;
            break;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        size_t vlen = strlen(val);
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
            val[vlen - 1] = 0;
            val++;
        }
        const struct cfg_entry *e = find_key(key, strlen(key), 0);
        if (!e || e == &table[0]) {
            seterr(err, errlen, "%s: unknown setting \"%s\"", source, key);
            rc = -1;
            break;
        }
        if (!(e->scope & scope))
            continue; /* one file serves both daemons */
        if ((rc = set_value(cfg, e, val, source, err, errlen)) < 0)
            break;
    }
    fclose(f);
    return rc;
}

void cfg_help(FILE *out, const char *prog, unsigned scope)
{
    fprintf(out, "Usage: %s [--flag value]...\n\n", prog);
    fprintf(out, "Every setting is read, later winning, from its default, the config file\n"
                 "(--config), its EVGATE_* environment variable and its flag.\n\n");
    for (size_t i = 0; i < NENTRIES; i++) {
        const struct cfg_entry *e = &table[i];
        if (!(e->scope & scope))
            continue;
        char env[64], flag[64];
        env_name(e, env, sizeof env);
        flag_name(e, flag, sizeof flag);
        fprintf(out, "  --%-22s %s\n  %-24s %s (default: \"%s\")\n", flag, env, "", e->help,
                e->def);
    }
    fprintf(out, "  --%-22s show this help\n", "help");
}

void cfg_free(struct evg_config *cfg)
{
    for (size_t i = 0; i < NENTRIES; i++)
        if (table[i].type == T_STR) {
            char **p = (char **)((char *)cfg + table[i].offset);
            free(*p);
        }
    memset(cfg, 0, sizeof *cfg);
}

int cfg_load(struct evg_config *cfg, unsigned scope, const char *prog, int argc, char **argv,
             char *err, size_t errlen)
{
    char name[64];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NENTRIES; i++)
        if (set_value(cfg, &table[i], table[i].def, "default", err, errlen) < 0)
            goto fail;

    /* The config file's own name comes from env or flag; find it before reading the file. */
    const char *file = getenv("EVGATE_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cfg_help(stdout, prog, scope);
            cfg_free(cfg);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file && *file) {
        if (set_value(cfg, &table[0], file, "config", err, errlen) < 0 ||
            load_file(cfg, scope, file, err, errlen) < 0)
            goto fail;
    }

    for (size_t i = 1; i < NENTRIES; i++) {
        if (!(table[i].scope & scope))
            continue;
        env_name(&table[i], name, sizeof name);
        const char *v = getenv(name);
        if (v && set_value(cfg, &table[i], v, name, err, errlen) < 0)
            goto fail;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (strncmp(a, "--", 2) != 0) {
            seterr(err, errlen, "unexpected argument \"%s\" (see --help)", a);
            goto fail;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        const struct cfg_entry *e = find_key(a, klen, 1);
        if (!e || !(e->scope & scope)) {
            seterr(err, errlen, "unknown flag \"%s\" (see --help)", argv[i]);
            goto fail;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            seterr(err, errlen, "flag --%.*s needs a value", (int)klen, a);
            goto fail;
        }
        if (e != &table[0] && set_value(cfg, e, val, "flag", err, errlen) < 0)
            goto fail;
    }
    /* data_dir is joined with file names: keep exactly one trailing slash. */
    size_t n = strlen(cfg->data_dir);
    if (n && cfg->data_dir[n - 1] != '/') {
        char *d = malloc(n + 2);
        if (!d) {
            seterr(err, errlen, "out of memory");
            goto fail;
        }
        memcpy(d, cfg->data_dir, n);
        memcpy(d + n, "/", 2);
        free(cfg->data_dir);
        cfg->data_dir = d;
    }
    return 0;
fail:
    cfg_free(cfg);
    return -1;
}

int cfg_split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= hostlen)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 1 || p > 65535)
        return -1;
    size_t n = (size_t)(colon - listen);
    if (listen[0] == '[' && n >= 2 && listen[n - 1] == ']') { /* [::1]:8080 */
        memcpy(host, listen + 1, n - 2);
        host[n - 2] = 0;
    } else {
        memcpy(host, listen, n);
        host[n] = 0;
    }
    *port = (int)p;
    return 0;
}

size_t cfg_count(void)
{
    return NENTRIES;
}

const char *cfg_key(size_t i)
{
    return i < NENTRIES ? table[i].name : NULL;
}

unsigned cfg_key_scope(size_t i)
{
    return i < NENTRIES ? table[i].scope : 0;
}

const char *cfg_key_default(size_t i)
{
    return i < NENTRIES ? table[i].def : NULL;
}

const char *cfg_key_help(size_t i)
{
    return i < NENTRIES ? table[i].help : NULL;
}

int cfg_key_is_secret(size_t i)
{
    /* The only secret among the settings; TLS keys are named by path, not held. */
    return i < NENTRIES && strcmp(table[i].name, "admin_password") == 0;
}

int cfg_key_is_int(size_t i)
{
    return i < NENTRIES && table[i].type == T_INT;
}

long cfg_find(const char *key)
{
    const struct cfg_entry *e = find_key(key, strlen(key), 0);
    return e ? (long)(e - table) : -1;
}

int cfg_value_text(const struct evg_config *cfg, size_t i, char *buf, size_t len)
{
    if (i >= NENTRIES || !len)
        return -1;
    const char *base = (const char *)cfg + table[i].offset;
    int n;
    if (table[i].type == T_STR) {
        const char *v = *(char *const *)base;
        n = snprintf(buf, len, "%s", v ? v : "");
    } else {
        n = snprintf(buf, len, "%lld", *(const long long *)base);
    }
    if (n < 0 || (size_t)n >= len) {
        buf[0] = 0;
        return -1;
    }
    return 0;
}

int cfg_check_value(const char *key, const char *value, char *err, size_t errlen)
{
    const struct cfg_entry *e = find_key(key, strlen(key), 0);
    if (!e || e == &table[0]) {
        seterr(err, errlen, "unknown setting");
        return -1;
    }
    if (strchr(value, '\n') || strchr(value, '\r')) {
        seterr(err, errlen, "a value is one line");
        return -1;
    }
    if (strlen(value) > 4000) { /* load_file reads lines of at most 4094 bytes */
        seterr(err, errlen, "value longer than 4000 bytes");
        return -1;
    }
    if (e->type == T_STR)
        return 0;
    struct evg_config scratch;
    char msg[256];
    memset(&scratch, 0, sizeof scratch);
    if (set_value(&scratch, e, value, "value", msg, sizeof msg) < 0) {
        seterr(err, errlen, "must be an integer in %lld..%lld, got \"%s\"", e->min, e->max, value);
        return -1;
    }
    return 0;
}

int cfg_reload_log_level(unsigned scope, const char *prog, int argc, char **argv)
{
    struct evg_config cfg;
    char err[512];
    const char *before = log_level_name(log_get_level());
    int rc = cfg_load(&cfg, scope, prog, argc, argv, err, sizeof err);
    if (rc != 0) {
        log_warn("config", "log_level_unchanged", "level=%s error=%s", before,
                 log_q(rc == 1 ? "--help" : err));
        return -1;
    }
    if (log_set_level_name(cfg.log_level) < 0) {
        log_warn("config", "log_level_unchanged", "level=%s error=%s", before,
                 log_q("log_level must be debug, info, warn or error"));
        cfg_free(&cfg);
        return -1;
    }
    log_warn("config", "log_level_changed", "from=%s level=%s", before,
             log_level_name(log_get_level()));
    cfg_free(&cfg);
    return 0;
}
