/* evsim-platform: a T/CEC 102 operator-platform simulator, server (evgate queries it) and client
 * (it pushes to evgate), conforming or deliberately faulty in one chosen way. This file is the
 * options (one table drives parsing and --help), the main loop, signals and the summary. */
#include "simulators/plat.h"
#include "simulators/sim_opts.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum opt_id {
    O_LISTEN = 1000,
    O_BASE_PATH,
    O_EVGATE_URL,
    O_OPERATOR_ID,
    O_OPERATOR_SECRET,
    O_DATA_SECRET,
    O_DATA_SECRET_IV,
    O_SIG_SECRET,
    O_EVGATE_OPERATOR_ID,
    O_DATA,
    O_STATIONS,
    O_PILES,
    O_CONNECTORS,
    O_ID_PREFIX,
    O_TOKEN_TTL,
    O_STATUS_INTERVAL,
    O_ORDER_INTERVAL,
    O_PUSH_INFO,
    O_FAULTY,
    O_DURATION,
    O_SUMMARY_JSON,
    O_QUIET,
    O_HELP,
};

/* The options: name, takes a value, value name, default (for --help), help text. */
static const struct sim_opt opts_table[] = {
    {"listen", O_LISTEN, 1, "HOST:PORT", NULL,
     "serve query_token, query_stations_info, query_station_status and query_station_stats "
     "there (port 0: any free port; the address is printed on stderr)"},
    {"base-path", O_BASE_PATH, 1, "PATH", "/evcs/v1",
     "the server's path prefix: POST PATH/{interface}"},
    {"evgate-url", O_EVGATE_URL, 1, "URL", NULL,
     "act as client too: obtain a token from URL/query_token and push to URL/notification_* "
     "(e.g. http://127.0.0.1:8180/evcs/v1/)"},
    {"operator-id", O_OPERATOR_ID, 1, "ID", NULL,
     "the operator's OperatorID (9 of [0-9A-Z]); required"},
    {"operator-secret", O_OPERATOR_SECRET, 1, "S", NULL,
     "OperatorSecret evgate issued to the operator; required"},
    {"data-secret", O_DATA_SECRET, 1, "K", NULL, "DataSecret, 16 characters; required"},
    {"data-secret-iv", O_DATA_SECRET_IV, 1, "IV", NULL, "DataSecretIV, 16 characters; required"},
    {"sig-secret", O_SIG_SECRET, 1, "S", NULL, "SigSecret; required"},
    {"evgate-operator-id", O_EVGATE_OPERATOR_ID, 1, "ID", NULL,
     "the only OperatorID allowed to call the server (any, if not given). evgate's calls are "
     "checked with the same credential set (OperatorSecret and the three secrets) as the "
     "operator's own calls to evgate"},
    {"data", O_DATA, 1, "FILE", NULL,
     "the stations from FILE, {\"StationInfos\": [...]} in the standard's shape, instead of "
     "generated ones"},
    {"stations", O_STATIONS, 1, "N", "2",
     "generated stations; StationID PREFIX S n, EquipmentID StationID E m, ConnectorID "
     "EquipmentID C k (SIMS1, SIMS1E1, SIMS1E1C1)"},
    {"piles-per-station", O_PILES, 1, "M", "2",
     "generated piles (equipment) per station; odd "
     "ones DC 60 kW, even ones AC 7 kW"},
    {"connectors-per-pile", O_CONNECTORS, 1, "K", "2", "generated connectors per pile"},
    {"id-prefix", O_ID_PREFIX, 1, "P", "SIM", "prefix of the generated IDs, 1-8 of [0-9A-Za-z]"},
    {"token-ttl-s", O_TOKEN_TTL, 1, "S", "7200", "server: TokenAvailableTime of issued tokens"},
    {"status-interval-ms", O_STATUS_INTERVAL, 1, "MS", "5000",
     "client: a connector changes status and notification_stationStatus is pushed every MS "
     "(0: never)"},
    {"order-interval-ms", O_ORDER_INTERVAL, 1, "MS", "30000",
     "client: a finished charge order is pushed every MS (0: never)"},
    {"push-info", O_PUSH_INFO, 0, NULL, NULL,
     "client: push notification_stationInfo for every station once at the start"},
    {"faulty", O_FAULTY, 1, "MODE", "none",
     "misbehave in one way: one of the modes below. query_token's payloads stay correct in "
     "every mode but wrong-secret"},
    {"duration-s", O_DURATION, 1, "S", "0", "stop after S seconds (0: at SIGINT/SIGTERM)"},
    {"summary-json", O_SUMMARY_JSON, 1, "FILE", NULL, "also write the summary as JSON to FILE"},
    {"quiet", O_QUIET, 0, NULL, NULL, "no lines on stderr about refused requests"},
    {"help", O_HELP, 0, NULL, NULL, "this text"},
};
#define NOPTS (sizeof opts_table / sizeof opts_table[0])

static void usage(FILE *out)
{
    fprintf(out, "Usage: evsim-platform [options]\n"
                 "T/CEC 102 operator-platform simulator: serves evgate's queries (--listen) and "
                 "pushes status\nchanges and charge orders to evgate (--evgate-url), conforming "
                 "or --faulty; prints a summary\n(requests by interface and Ret) on exit.\n\n"
                 "Options:\n");
    sim_opts_usage(out, opts_table, NOPTS);
    fprintf(out, "\nFaulty modes (--faulty):\n");
    plat_fault_usage(out);
}

/* An int option through sim_opts_int(). */
static int parse_int(const char *name, const char *s, long lo, long hi, int *out, char *err,
                     size_t errlen)
{
    long v;
    if (sim_opts_int(name, s, lo, hi, &v, err, errlen) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int check_options(struct plat_opts *o, char *err, size_t errlen)
{
    static char url[PLAT_URL_MAX + 2];
    if (!o->listen && !o->evgate_url) {
        snprintf(err, errlen, "nothing to do: give --listen, --evgate-url or both");
        return -1;
    }
    const char *missing = !o->operator_id       ? "operator-id"
                          : !o->operator_secret ? "operator-secret"
                          : !o->data_secret     ? "data-secret"
                          : !o->data_secret_iv  ? "data-secret-iv"
                          : !o->sig_secret      ? "sig-secret"
                                                : NULL;
    if (missing) {
        snprintf(err, errlen, "--%s is required", missing);
        return -1;
    }
    if (!tcec_is_operator_id(o->operator_id) ||
        (o->evgate_operator_id && !tcec_is_operator_id(o->evgate_operator_id))) {
        snprintf(err, errlen, "an OperatorID is 9 of [0-9A-Z]");
        return -1;
    }
    size_t n = strlen(o->operator_secret);
    if (n < 1 || n > 64) {
        snprintf(err, errlen, "--operator-secret must be 1-64 characters");
        return -1;
    }
    if (strlen(o->data_secret) != TCEC_KEY_LEN || strlen(o->data_secret_iv) != TCEC_KEY_LEN) {
        snprintf(err, errlen, "--data-secret and --data-secret-iv must be %d characters",
                 TCEC_KEY_LEN);
        return -1;
    }
    if (!o->sig_secret[0]) {
        snprintf(err, errlen, "--sig-secret must not be empty");
        return -1;
    }
    n = strlen(o->id_prefix);
    if (n < 1 || n > PLAT_PREFIX_MAX ||
        strspn(o->id_prefix, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz") != n) {
        snprintf(err, errlen, "--id-prefix must be 1-%d of [0-9A-Za-z]", PLAT_PREFIX_MAX);
        return -1;
    }
    if (o->base_path[0] != '/' || o->base_path[strlen(o->base_path) - 1] == '/') {
        snprintf(err, errlen, "--base-path must start with '/' and not end with one");
        return -1;
    }
    if (o->evgate_url) {
        n = strlen(o->evgate_url);
        if ((strncmp(o->evgate_url, "http://", 7) != 0 &&
             strncmp(o->evgate_url, "https://", 8) != 0) ||
            n > PLAT_URL_MAX) {
            snprintf(err, errlen, "--evgate-url must be http(s)://..., at most %d characters",
                     PLAT_URL_MAX);
            return -1;
        }
        snprintf(url, sizeof url, "%s%s", o->evgate_url, o->evgate_url[n - 1] == '/' ? "" : "/");
        o->evgate_url = url;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct plat_opts *o, char *err, size_t errlen)
{
    struct option lo[NOPTS + 1];
    sim_opts_long(opts_table, NOPTS, lo);
    memset(o, 0, sizeof *o);
    o->base_path = "/evcs/v1";
    o->id_prefix = "SIM";
    o->stations = 2;
    o->piles_per_station = 2;
    o->connectors_per_pile = 2;
    o->token_ttl_s = 7200;
    o->status_interval_ms = 5000;
    o->order_interval_ms = 30000;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        const char *name = sim_opts_name(opts_table, NOPTS, c);
        switch (c) {
        case O_LISTEN:
            o->listen = optarg;
            break;
        case O_BASE_PATH:
            o->base_path = optarg;
            break;
        case O_EVGATE_URL:
            o->evgate_url = optarg;
            break;
        case O_OPERATOR_ID:
            o->operator_id = optarg;
            break;
        case O_OPERATOR_SECRET:
            o->operator_secret = optarg;
            break;
        case O_DATA_SECRET:
            o->data_secret = optarg;
            break;
        case O_DATA_SECRET_IV:
            o->data_secret_iv = optarg;
            break;
        case O_SIG_SECRET:
            o->sig_secret = optarg;
            break;
        case O_EVGATE_OPERATOR_ID:
            o->evgate_operator_id = optarg;
            break;
        case O_DATA:
            o->data_file = optarg;
            break;
        case O_STATIONS:
            if (parse_int(name, optarg, 1, PLAT_STATIONS_MAX, &o->stations, err, errlen) < 0)
                return -1;
            break;
        case O_PILES:
            if (parse_int(name, optarg, 1, PLAT_PILES_MAX, &o->piles_per_station, err, errlen) < 0)
                return -1;
            break;
        case O_CONNECTORS:
            if (parse_int(name, optarg, 1, PLAT_CONNECTORS_MAX, &o->connectors_per_pile, err,
                          errlen) < 0)
                return -1;
            break;
        case O_ID_PREFIX:
            o->id_prefix = optarg;
            break;
        case O_TOKEN_TTL:
            if (parse_int(name, optarg, 1, 31536000, &o->token_ttl_s, err, errlen) < 0)
                return -1;
            break;
        case O_STATUS_INTERVAL:
            if (parse_int(name, optarg, 0, 86400000, &o->status_interval_ms, err, errlen) < 0)
                return -1;
            break;
        case O_ORDER_INTERVAL:
            if (parse_int(name, optarg, 0, 86400000, &o->order_interval_ms, err, errlen) < 0)
                return -1;
            break;
        case O_PUSH_INFO:
            o->push_info = true;
            break;
        case O_FAULTY: {
            int f = plat_fault_from_name(optarg);
            if (f < 0) {
                snprintf(err, errlen, "--faulty must be none or a mode --help lists, got \"%s\"",
                         optarg);
                return -1;
            }
            o->fault = (enum plat_fault)f;
            break;
        }
        case O_DURATION:
            if (sim_opts_seconds(name, optarg, 1e7, &o->duration_s, err, errlen) < 0)
                return -1;
            break;
        case O_SUMMARY_JSON:
            o->summary_json = optarg;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_HELP:
            return 1;
        default:
            snprintf(err, errlen, "unknown option or missing value: %s (see --help)",
                     argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
        return -1;
    }
    return check_options(o, err, errlen);
}

int64_t plat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
    struct plat_opts o;
    struct plat_data d;
    char err[512];
    int rc = parse_options(argc, argv, &o, err, sizeof err);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "evsim-platform: %s\n", err);
        return 2;
    }
    if (plat_data_load(&o, &d, err, sizeof err) < 0) {
        fprintf(stderr, "evsim-platform: %s\n", err);
        return 2;
    }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (o.listen && plat_server_start(&o, &d, err, sizeof err) < 0) {
        fprintf(stderr, "evsim-platform: %s\n", err);
        plat_data_free(&d);
        return 1;
    }
    if (o.evgate_url && plat_client_start(&o, &d, err, sizeof err) < 0) {
        fprintf(stderr, "evsim-platform: %s\n", err);
        plat_server_stop();
        plat_data_free(&d);
        return 1;
    }
    int64_t t0 = plat_now_ms(), end = t0 + (int64_t)(o.duration_s * 1000);
    while (!g_stop) {
        int64_t now = plat_now_ms();
        if (o.duration_s > 0 && now >= end)
            break;
        int64_t wait = o.evgate_url ? plat_client_tick(now) : 100;
        /* short waits, so that a signal or the end of the run is seen promptly */
        if (wait > 100)
            wait = 100;
        if (o.duration_s > 0 && end - now < wait)
            wait = end - now;
        if (wait > 0)
            poll(NULL, 0, (int)wait);
    }
    double elapsed = (double)(plat_now_ms() - t0) / 1000.0;
    plat_server_stop();
    if (o.evgate_url)
        plat_client_stop();
    rc = plat_stats_report(&o, &d, elapsed, o.summary_json);
    plat_data_free(&d);
    return rc == 0 ? 0 : 1;
}
