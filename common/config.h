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

#endif
