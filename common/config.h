/* evgate configuration: one table of settings shared by both daemons.
 *
 * Every setting has a name (config-file key), a type, a default, an EVGATE_* environment
 * variable and a --flag. Precedence, later winning: default < config file < environment < flag.
 * The config file is named by --config / EVGATE_CONFIG and holds `key = value` lines. */
#ifndef EVGATE_CONFIG_H
#define EVGATE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* Which programs a setting applies to (bit mask). */
enum cfg_scope {
    CFG_GATEWAY = 1,
    CFG_MGMT = 2,
    CFG_TOOL = 4,
    CFG_ALL = 7,
};

struct evg_config {
    char *config_file;
    char *db;
    char *data_dir;
    char *web_dir;
    char *mgmt_listen;
    char *mgmt_trusted_proxies;
    char *gateway_listen;
    char *admin_password; /* secret: never logged */
    char *log_level;
    char *sqlite_synchronous;
    char *site_name;
    char *area_code_prefixes;
    long long sqlite_busy_ms;
    long long mgmt_threads;
    long long max_connections;
    long long mgmt_sqlite_cache_kib;
    long long mgmt_sqlite_mmap_bytes;
    long long connection_timeout_s;
    long long max_header_bytes;
    long long max_json_bytes;
    long long max_upload_bytes;
    long long max_import_bytes;
    long long max_import_rows;
    long long session_ttl_s;
    long long login_max_failures;
    long long login_max_failures_per_address;
    long long login_lock_s;
    long long page_size_max;
    long long gw_max_connections;
    long long gw_rx_buffer;
    long long writer_batch_ms;
    long long writer_batch_max;
    long long writer_sqlite_cache_kib;
    long long writer_sqlite_mmap_bytes;
    long long writer_queue_max;
    long long ocpp_heartbeat_s;
    long long ocpp_max_frame_bytes;
    long long ocpp_max_msgs_per_min;
    long long ocpp_meter_values_keep;
    long long ocpp_call_timeout_s;
    long long ocpp_command_poll_ms;
    long long ocpp_commands_keep;
    char *gw_tls_listen;
    char *gw_tls_cert;
    char *gw_tls_key;
    char *gw_tls_ca;
    char *tcec_operator_id;
    long long tcec_poll_s;
    long long tcec_http_timeout_s;
    long long tcec_token_ttl_s;
    long long tcec_clock_skew_s;
    long long tcec_body_max_bytes;
    long long conform_runs_max;
    long long conform_heartbeat_s;
    long long conform_wait_cap_s;
    long long dashboard_sample_s;
    long long dashboard_keep_days;
};

/* Fills `cfg` from defaults, the config file, the environment and argv (in that order of
 * precedence) for a program of scope `scope`. Strings in `cfg` are owned by it: free with
 * cfg_free(). Returns 0 on success, 1 when --help was given (help already printed to stdout),
 * or -1 on a bad value, with a message naming the setting and its source in `err`. */
int cfg_load(struct evg_config *cfg, unsigned scope, const char *prog, int argc, char **argv,
             char *err, size_t errlen);

/* The run-time change of log_level (SIGHUP in both daemons): loads the settings again exactly as
 * at start (config file, environment, argv; later winning) and applies the log_level they give
 * now, so an operator edits the config file and sends SIGHUP. Logs `log_level_changed` (or
 * `log_level_unchanged` with the reason) at warn, so the line is seen at every level. Other
 * settings are not applied: they need a restart. Returns 0, or -1 when the settings no longer
 * load or the level is unknown (the level in use stays). Blocks on the file: not for a callback. */
int cfg_reload_log_level(unsigned scope, const char *prog, int argc, char **argv);

/* Writes the generated --help text for `prog` (settings of `scope` only) to `out`. */
void cfg_help(FILE *out, const char *prog, unsigned scope);

/* Frees the strings owned by `cfg` and zeroes it. */
void cfg_free(struct evg_config *cfg);

/* Splits "host:port" into `host` (at most hostlen bytes with NUL) and `port`.
 * Returns 0, or -1 when the text is not a host and a port in 1..65535. */
int cfg_split_listen(const char *listen, char *host, size_t hostlen, int *port);

/* The settings table seen from outside, for a tool that exports, checks or documents a whole
 * configuration (evgatectl config). Settings are numbered 0..cfg_count()-1 in table order;
 * number 0 is `config`, the name of the file itself, which no file may set. */
size_t cfg_count(void);
/* Setting i's key (config-file name), scope (enum cfg_scope bits), default and help text;
 * static strings. */
const char *cfg_key(size_t i);
unsigned cfg_key_scope(size_t i);
const char *cfg_key_default(size_t i);
const char *cfg_key_help(size_t i);
/* 1 when setting i is a secret that a tool must never print or export (admin_password). */
int cfg_key_is_secret(size_t i);
/* 1 when setting i is an integer (its value in a file is digits), 0 when text. */
int cfg_key_is_int(size_t i);
/* The number of the setting named `key`, or -1 when there is none. */
long cfg_find(const char *key);
/* Setting i's value in `cfg` as the text a config file would hold, into buf (len bytes).
 * Returns 0, or -1 when it does not fit (buf then holds "" ). */
int cfg_value_text(const struct evg_config *cfg, size_t i, char *buf, size_t len);
/* Checks that `value` is acceptable for setting `key` as a config file would read it (a known
 * key other than `config`, an integer within its bounds, no newline). Returns 0, or -1 with the
 * reason in `err` (without the key: the caller says where). */
int cfg_check_value(const char *key, const char *value, char *err, size_t errlen);

#endif
