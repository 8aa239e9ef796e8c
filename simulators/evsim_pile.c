/* evsim-pile: an OCPP 1.6J / 2.0.1 charge-point simulator, from one pile to tens of thousands in
 * one process, on libwebsockets' client API and libev. This file is the options (one table
 * drives parsing and --help), the pile list, the event loop, signals and the summary. */
#include "simulators/sim.h"
#include "simulators/sim_load.h"
#include "simulators/sim_opts.h"

#include <libwebsockets.h>
#include <ev.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum opt_id {
    O_URL = 1000,
    O_IDS,
    O_PREFIX,
    O_COUNT,
    O_START,
    O_PASSWORD,
    O_PASSWORDS_FILE,
    O_PROTOCOL,
    O_SCENARIO,
    O_DURATION,
    O_CONNECTORS,
    O_HEARTBEAT,
    O_METER_INTERVAL,
    O_SESSION,
    O_CALL_TIMEOUT,
    O_SOURCES,
    O_RATE,
    O_RECONNECT,
    O_BACKOFF_FIRST,
    O_BACKOFF_MAX,
    O_RECONNECT_RATE,
    O_SUMMARY_JSON,
    O_QUIET,
    O_TLS_CA,
    O_TLS_CERT,
    O_TLS_KEY,
    O_FAULTY_CHECK,
    O_LATE_ANSWER,
    O_MSG_RATE,
    O_WARMUP,
    O_LOAD_GO,
    O_HELP,
};

/* The options: name, takes a value, value name, default (for --help), help text. */
static const struct sim_opt opts_table[] = {
    {"url", O_URL, 1, "URL", "ws://127.0.0.1:8180/ocpp",
     "gateway endpoint, ws:// or wss:// (TLS, security profiles 2 and 3, e.g. "
     "wss://127.0.0.1:8443/ocpp); the EquipmentID is appended as the last path segment"},
    {"ids", O_IDS, 1, "ID,ID,...", NULL, "the piles' EquipmentIDs"},
    {"prefix", O_PREFIX, 1, "P", "P", "with --count: EquipmentIDs PREFIX + number (P1, P2, ...)"},
    {"count", O_COUNT, 1, "N", NULL, "simulate N piles named from --prefix and --start"},
    {"start", O_START, 1, "N", "1", "first number for --prefix/--count"},
    {"password", O_PASSWORD, 1, "PW", NULL,
     "Basic-auth password, the same for every pile (not needed with --tls-cert)"},
    {"passwords-file", O_PASSWORDS_FILE, 1, "FILE", NULL,
     "per-pile passwords: lines `equipment_id password`, or the JSON mgmt returns "
     "({\"items\":[{\"equipment_id\",\"password\"}]}); without --ids/--count its piles are used"},
    {"protocol", O_PROTOCOL, 1, "ocpp1.6|ocpp2.0.1", "ocpp1.6", "OCPP version (subprotocol)"},
    {"scenario", O_SCENARIO, 1, "boot|idle|charge|faulty|conform|load", "idle",
     "boot: one BootNotification and the statuses per connection, then hang up; "
     "idle: boot, statuses, heartbeats; charge: idle plus Authorize, start, meter values, stop, "
     "repeated; faulty: boot, then malformed and schema-violating frames, CALLERRORs counted; "
     "conform: passes every check of the conformance plan of its version (ocpp16-core, "
     "ocpp201-core) and plays the person at the bench (below); implies --reconnect, "
     "--meter-interval 1 and --session 4 unless given; load (OCPP 1.6J, needs --duration): boot, "
     "statuses, then MeterValues, StatusNotification, MeterValues, Heartbeat over and over, one "
     "CALL outstanding per pile, the next right after the answer (or paced by --msg-rate), frames "
     "from templates and answers matched by uniqueId without schema checks; the summary's "
     "\"load\" part counts the CALLs sent within the window (--warmup)"},
    {"duration", O_DURATION, 1, "S", "0",
     "stop after S seconds (0: at SIGINT/SIGTERM, or when "
     "every pile is done)"},
    {"connectors", O_CONNECTORS, 1, "N", "1", "connectors (1.6) or EVSEs (2.0.1) per pile"},
    {"heartbeat-override", O_HEARTBEAT, 1, "S", NULL,
     "heartbeat every S seconds instead of the BootNotification's interval"},
    {"meter-interval", O_METER_INTERVAL, 1, "S", "5", "charge: seconds between meter values"},
    {"session", O_SESSION, 1, "S", "30", "charge: seconds a charging session lasts"},
    {"call-timeout", O_CALL_TIMEOUT, 1, "S", "30", "give up on an unanswered CALL after S seconds"},
    {"source-addresses", O_SOURCES, 1, "A,B,...", NULL,
     "bind client sockets to these local addresses in turn (e.g. 127.0.0.2,127.0.0.3) to get "
     "past one address' ~28000 ephemeral ports"},
    {"rate", O_RATE, 1, "N", "500", "connections started per second while ramping up"},
    {"reconnect", O_RECONNECT, 0, NULL, NULL,
     "reconnect after a failure or a close, exponential back-off (--backoff-first doubling up "
     "to --backoff-max) with jitter: each wait is half its window plus a random part of the "
     "other half"},
    {"backoff-first", O_BACKOFF_FIRST, 1, "S", "1",
     "the window of the first reconnect after a close or failure (0.01-60 s); a storm "
     "benchmark makes it short so that every pile comes back at once"},
    {"backoff-max", O_BACKOFF_MAX, 1, "S", "60", "the largest back-off window (0.01-3600 s)"},
    {"reconnect-rate", O_RECONNECT_RATE, 1, "N", NULL,
     "reconnections started per second, apart from --rate's first connections (default: "
     "--rate)"},
    {"summary-json", O_SUMMARY_JSON, 1, "FILE", NULL, "also write the summary as JSON to FILE"},
    {"quiet", O_QUIET, 0, NULL, NULL, "no progress lines on stderr"},
    {"tls-ca", O_TLS_CA, 1, "FILE", NULL,
     "wss: PEM CA certificate(s) to verify the gateway's certificate with (default: the "
     "system's CAs); the certificate must name the --url host"},
    {"tls-cert", O_TLS_CERT, 1, "FILE", NULL,
     "wss: PEM client certificate for security profile 3 (its subject CN is the EquipmentID, so "
     "one pile per run); without a password no Authorization header is sent"},
    {"tls-key", O_TLS_KEY, 1, "FILE", NULL, "the private key (PEM) of --tls-cert"},
    {"faulty-check", O_FAULTY_CHECK, 1, "ID,ID,...", NULL,
     "with --scenario conform: misbehave so that exactly these checks of the plan fail (each "
     "check's behaviour below)"},
    {"late-answer", O_LATE_ANSWER, 1, "S", "35",
     "with --faulty-check=frames.answers-in-time: seconds the held answer waits (more than the "
     "gateway's ocpp_call_timeout_s)"},
    {"msg-rate", O_MSG_RATE, 1, "R", NULL,
     "load: R CALLs per second across all piles, each pile on its own schedule with a random "
     "phase; a CALL due while the pile's previous one is unanswered goes with the answer and "
     "counts as late (default: closed loop, the maximum rate)"},
    {"warmup", O_WARMUP, 1, "S", "2",
     "load: the window starts S seconds after every pile booted (or failed to connect) and "
     "ends at --duration; then no load CALL is sent and the run waits (at most 5 s) for the "
     "answers to the window's CALLs"},
    {"load-go-signal", O_LOAD_GO, 0, NULL, NULL,
     "load: once every pile booted (or failed to connect), print \"evsim-pile: load ready\" on "
     "stdout and start the load only at SIGUSR1, so that several processes start together; "
     "--duration then counts from the signal"},
    {"help", O_HELP, 0, NULL, NULL, "this text"},
};
#define NOPTS (sizeof opts_table / sizeof opts_table[0])

static void usage(FILE *out)
{
    fprintf(out, "Usage: evsim-pile [options]\n"
                 "OCPP 1.6J / 2.0.1 charge-point simulator: connects piles to an evgate gateway "
                 "with Basic auth\n(security profile 1, or 2 over wss://) or a TLS client "
                 "certificate (profile 3),\nruns a scenario and prints a summary (CALLs, "
                 "CALLERRORs, round-trip percentiles) on exit.\n\nOptions:\n");
    sim_opts_usage(out, opts_table, NOPTS);
    fprintf(out,
            "\nIn every scenario each pile answers the central system's CALLs, also while its own "
            "CALL is\noutstanding, each answer checked against its schema; the summary counts them "
            "by action.\n"
            "  ocpp1.6    RemoteStartTransaction (Preparing, StartTransaction with that idTag, "
            "Charging,\n"
            "             MeterValues until stopped), RemoteStopTransaction (StopTransaction "
            "Remote),\n"
            "             Reset Hard/Soft (stop the transaction, reconnect, boot), "
            "GetConfiguration and\n"
            "             ChangeConfiguration (HeartbeatInterval, MeterValueSampleInterval, "
            "NumberOfConnectors,\n"
            "             ...), TriggerMessage (BootNotification, Heartbeat, StatusNotification, "
            "MeterValues),\n"
            "             ChangeAvailability (Scheduled while charging), UnlockConnector, "
            "ClearCache,\n"
            "             DataTransfer (UnknownVendorId)\n"
            "  ocpp2.0.1  the same with RequestStart/StopTransaction (remoteStartId), Reset "
            "Immediate/OnIdle,\n"
            "             GetVariables/SetVariables (OCPPCommCtrlr.HeartbeatInterval,\n"
            "             SampledDataCtrlr.TxUpdatedInterval, ...), TriggerMessage (also "
            "TransactionEvent)\n"
            "  any other  CALLERROR NotSupported (NotImplemented: no such action in the "
            "version)\n"
            "One transaction per pile at a time.\n"
            "\n--scenario conform plays the person at the test bench: the cable is always in "
            "connector 1 (EVSE 1);\n1 s after the pile answers a remote stop of a transaction it "
            "does not have (remote.stop-unknown),\nthe card " SIM_CONFORM_CARD
            " is presented (Authorize; 2.0.1 ISO14443), 1 s after it is accepted the\nsession "
            "starts on connector 1 (Preparing, StartTransaction / TransactionEvent Started, "
            "Charging),\nsends meter values every --meter-interval and after --session seconds "
            "the card ends it\n(StopTransaction Local, Finishing, Available). Checks another "
            "depends on (authorize.card,\ntx.local-start, remote.start) leave the dependent ones "
            "skipped when they fail.\n--faulty-check IDs and what each does (one run per "
            "process: \"first\" counts from its start):\n");
    sim_cf_usage(out);
}

/* Debian's bundle of the system's CAs (ca-certificates), the default trust for wss://. */
#define SIM_SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static struct lws_context *g_ctx;
static struct ev_loop *g_loop;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        sim_load_go(); /* --load-go-signal */
    else
        sim_request_stop(); /* the sweep sees it within SIM_SWEEP_MS */
}

static void break_loop(void)
{
    ev_break(g_loop, EVBREAK_ALL);
}

/* --- options ----------------------------------------------------------------------------- */

/* ws[s]://host[:port][/path] into o->tls, o->host, o->port, o->path (no trailing '/'). */
static int parse_url(struct sim_opts *o, const char *url, char *err, size_t errlen)
{
    const char *prot = NULL, *addr = NULL, *path = NULL;
    char buf[sizeof o->host + sizeof o->path];
    int port = 0;
    snprintf(buf, sizeof buf, "%s", url);
    if (lws_parse_uri(buf, &prot, &addr, &port, &path) ||
        (strcmp(prot, "ws") != 0 && strcmp(prot, "wss") != 0) || !*addr) {
        snprintf(err, errlen, "--url must be ws://host[:port]/path or wss://..., got \"%s\"", url);
        return -1;
    }
    o->tls = strcmp(prot, "wss") == 0; /* lws_parse_uri's default port is 443 then */
    snprintf(o->host, sizeof o->host, "%s", addr);
    o->port = port;
    /* lws_parse_uri drops the leading '/' of the path */
    int n = snprintf(o->path, sizeof o->path, "/%s", path);
    while (n > 1 && o->path[n - 1] == '/')
        o->path[--n] = 0;
    if (n == 1)
        o->path[0] = 0;
    return 0;
}

/* The TLS options go with a wss:// URL, the certificate with its key; each file must be
 * readable (lws would only log a failure, in its own words). */
static int check_tls_options(const struct sim_opts *o, char *err, size_t errlen)
{
    if (!o->tls && (o->tls_ca || o->tls_cert || o->tls_key)) {
        snprintf(err, errlen, "--tls-ca, --tls-cert and --tls-key need a wss:// --url");
        return -1;
    }
    if (!o->tls_cert != !o->tls_key) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return -1;
    }
    const char *files[][2] = {
        {"tls-ca", o->tls_ca}, {"tls-cert", o->tls_cert}, {"tls-key", o->tls_key}};
    for (size_t i = 0; i < 3; i++) {
        FILE *f = files[i][1] ? fopen(files[i][1], "r") : NULL;
        if (files[i][1] && !f) {
            snprintf(err, errlen, "--%s %s: %s", files[i][0], files[i][1], strerror(errno));
            return -1;
        }
        if (f)
            fclose(f);
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct sim_opts *o, struct pile_list *l, char *err,
                         size_t errlen)
{
    struct option lo[NOPTS + 1];
    sim_opts_long(opts_table, NOPTS, lo);
    const char *url = "ws://127.0.0.1:8180/ocpp", *ids = NULL, *prefix = "P", *password = NULL;
    const char *pwfile = NULL, *sources = NULL, *faulty = NULL;
    bool meter_given = false, session_given = false, load_given = false;
    long count = -1, start = 1, v;
    static char sources_buf[1024];
    memset(o, 0, sizeof *o);
    o->version = OCPP_V16;
    o->scenario = SC_IDLE;
    o->connectors = 1;
    o->meter_interval_s = 5;
    o->session_s = 30;
    o->call_timeout_s = 30;
    o->rate = 500;
    o->backoff_first_s = 1;
    o->backoff_max_s = SIM_BACKOFF_MAX_S;
    o->late_answer_s = SIM_LATE_ANSWER_S;
    o->warmup_s = 2;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        const char *name = sim_opts_name(opts_table, NOPTS, c);
        switch (c) {
        case O_URL:
            url = optarg;
            break;
        case O_IDS:
            ids = optarg;
            break;
        case O_PREFIX:
            prefix = optarg;
            break;
        case O_COUNT:
            if (sim_opts_int(name, optarg, 1, SIM_PILES_MAX, &count, err, errlen) < 0)
                return -1;
            break;
        case O_START:
            if (sim_opts_int(name, optarg, 0, 999999999, &start, err, errlen) < 0)
                return -1;
            break;
        case O_PASSWORD:
            password = optarg;
            break;
        case O_PASSWORDS_FILE:
            pwfile = optarg;
            break;
        case O_PROTOCOL:
            if (ocpp_version_from_subprotocol(optarg) < 0) {
                snprintf(err, errlen, "--protocol must be ocpp1.6 or ocpp2.0.1, got \"%s\"",
                         optarg);
                return -1;
            }
            o->version = (enum ocpp_version)ocpp_version_from_subprotocol(optarg);
            break;
        case O_SCENARIO: {
            static const char *const sc[] = {"boot", "idle", "charge", "faulty", "conform", "load"};
            int found = -1;
            for (int i = 0; i < 6; i++)
                if (strcmp(optarg, sc[i]) == 0)
                    found = i;
            if (found < 0) {
                snprintf(
                    err, errlen,
                    "--scenario must be boot, idle, charge, faulty, conform or load, got \"%s\"",
                    optarg);
                return -1;
            }
            o->scenario = (enum sim_scenario)found;
            break;
        }
        case O_DURATION:
            if (sim_opts_seconds(name, optarg, 1e7, &o->duration_s, err, errlen) < 0)
                return -1;
            break;
        case O_CONNECTORS:
            if (sim_opts_int(name, optarg, 1, SIM_CONNECTORS_MAX, &v, err, errlen) < 0)
                return -1;
            o->connectors = (int)v;
            break;
        case O_HEARTBEAT:
            if (sim_opts_int(name, optarg, 1, 86400, &v, err, errlen) < 0)
                return -1;
            o->heartbeat_override_s = (int)v;
            break;
        case O_METER_INTERVAL:
            if (sim_opts_int(name, optarg, 1, 3600, &v, err, errlen) < 0)
                return -1;
            o->meter_interval_s = (int)v;
            meter_given = true;
            break;
        case O_SESSION:
            if (sim_opts_int(name, optarg, 1, 86400, &v, err, errlen) < 0)
                return -1;
            o->session_s = (int)v;
            session_given = true;
            break;
        case O_CALL_TIMEOUT:
            if (sim_opts_int(name, optarg, 1, 3600, &v, err, errlen) < 0)
                return -1;
            o->call_timeout_s = (int)v;
            break;
        case O_SOURCES:
            sources = optarg;
            break;
        case O_RATE:
            if (sim_opts_int(name, optarg, 1, 1000000, &v, err, errlen) < 0)
                return -1;
            o->rate = (double)v;
            break;
        case O_RECONNECT:
            o->reconnect = true;
            break;
        case O_BACKOFF_FIRST:
            if (sim_opts_seconds(name, optarg, 60, &o->backoff_first_s, err, errlen) < 0)
                return -1;
            if (o->backoff_first_s < 0.01) {
                snprintf(err, errlen, "--%s must be at least 0.01 s", name);
                return -1;
            }
            break;
        case O_BACKOFF_MAX:
            if (sim_opts_seconds(name, optarg, 3600, &o->backoff_max_s, err, errlen) < 0)
                return -1;
            if (o->backoff_max_s < 0.01) {
                snprintf(err, errlen, "--%s must be at least 0.01 s", name);
                return -1;
            }
            break;
        case O_RECONNECT_RATE:
            if (sim_opts_int(name, optarg, 1, 1000000, &v, err, errlen) < 0)
                return -1;
            o->reconnect_rate = (double)v;
            break;
        case O_SUMMARY_JSON:
            o->summary_json = optarg;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_TLS_CA:
            o->tls_ca = optarg;
            break;
        case O_TLS_CERT:
            o->tls_cert = optarg;
            break;
        case O_TLS_KEY:
            o->tls_key = optarg;
            break;
        case O_FAULTY_CHECK:
            faulty = optarg;
            break;
        case O_LATE_ANSWER:
            if (sim_opts_int(name, optarg, 1, 3600, &v, err, errlen) < 0)
                return -1;
            o->late_answer_s = (int)v;
            break;
        case O_MSG_RATE:
            if (sim_opts_int(name, optarg, 1, 10000000, &v, err, errlen) < 0)
                return -1;
            o->msg_rate = (double)v;
            load_given = true;
            break;
        case O_WARMUP:
            if (sim_opts_seconds(name, optarg, 3600, &o->warmup_s, err, errlen) < 0)
                return -1;
            load_given = true;
            break;
        case O_LOAD_GO:
            o->load_go = true;
            load_given = true;
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
    o->url_base = url;
    if (parse_url(o, url, err, errlen) < 0)
        return -1;
    if (load_given && o->scenario != SC_LOAD) {
        snprintf(err, errlen, "--msg-rate, --warmup and --load-go-signal need --scenario load");
        return -1;
    }
    if (o->scenario == SC_LOAD && o->version != OCPP_V16) {
        snprintf(err, errlen, "--scenario load speaks OCPP 1.6J only (--protocol ocpp1.6)");
        return -1;
    }
    if (o->scenario == SC_LOAD && o->duration_s <= 0) {
        snprintf(err, errlen, "--scenario load needs --duration (its window ends there)");
        return -1;
    }
    if (o->backoff_max_s < o->backoff_first_s) {
        snprintf(err, errlen, "--backoff-max must not be less than --backoff-first");
        return -1;
    }
    if (o->reconnect_rate <= 0)
        o->reconnect_rate = o->rate;
    if (faulty && o->scenario != SC_CONFORM) {
        snprintf(err, errlen, "--faulty-check needs --scenario conform");
        return -1;
    }
    if (faulty && sim_cf_parse_faulty(o, faulty, err, errlen) < 0)
        return -1;
    if (o->scenario == SC_CONFORM) {
        o->reconnect = true; /* a pile on the bench comes back */
        if (!meter_given)
            o->meter_interval_s = 1;
        if (!session_given)
            o->session_s = SIM_CONFORM_SESSION_S;
    }
    if (ids && count > 0) {
        snprintf(err, errlen, "--ids and --count exclude each other");
        return -1;
    }
    if (ids) {
        for (const char *s = ids; *s;) {
            size_t n = strcspn(s, ",");
            if (sim_piles_add(l, s, n, err, errlen) < 0)
                return -1;
            s += n + (s[n] == ',');
        }
    } else if (count > 0) {
        for (long i = 0; i < count; i++) {
            char id[SIM_ID_MAX + 32];
            int n = snprintf(id, sizeof id, "%s%ld", prefix, start + i);
            if (sim_piles_add(l, id, (size_t)n, err, errlen) < 0)
                return -1;
        }
    }
    if (pwfile && sim_piles_read_passwords(l, pwfile, l->n == 0, err, errlen) < 0)
        return -1;
    if (l->n == 0) {
        snprintf(err, errlen, "no piles: give --ids, --count or --passwords-file");
        return -1;
    }
    if (password && strlen(password) > SIM_PASSWORD_MAX) {
        snprintf(err, errlen, "--password longer than %d bytes", SIM_PASSWORD_MAX);
        return -1;
    }
    if (check_tls_options(o, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        if (!l->piles[i].password)
            l->piles[i].password = password;
        if (!l->piles[i].password && !o->tls_cert) {
            snprintf(err, errlen, "no password for %s (--password, --passwords-file or --tls-cert)",
                     l->piles[i].id);
            return -1;
        }
    }
    if (sources) {
        snprintf(sources_buf, sizeof sources_buf, "%s", sources);
        char *save = NULL;
        for (char *s = strtok_r(sources_buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            if (o->nsources == SIM_SOURCES_MAX) {
                snprintf(err, errlen, "at most %d --source-addresses", SIM_SOURCES_MAX);
                return -1;
            }
            o->sources[o->nsources++] = s;
        }
    }
    return 0;
}

/* Enough descriptors for every pile and a margin; lws sizes its tables from the soft limit. */
static unsigned size_fd_limit(size_t piles)
{
    rlim_t want = (rlim_t)piles + 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return (unsigned)want;
    rlim_t target = want;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
        target = rl.rlim_max;
    struct rlimit nrl = {.rlim_cur = target, .rlim_max = rl.rlim_max};
    setrlimit(RLIMIT_NOFILE, &nrl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        fprintf(stderr, "evsim-pile: warning: %llu descriptors for %zu piles (raise ulimit -Hn)\n",
                (unsigned long long)rl.rlim_cur, piles);
    return (unsigned)(rl.rlim_cur < want ? rl.rlim_cur : want);
}

int main(int argc, char **argv)
{
    struct sim_opts o;
    struct pile_list l = {0};
    char err[512];
    int rc = parse_options(argc, argv, &o, &l, err, sizeof err);
    if (rc == 1) {
        usage(stdout);
        sim_piles_free(&l);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "evsim-pile: %s\n", err);
        sim_piles_free(&l);
        return 2;
    }
    for (size_t i = 0; o.scenario == SC_CONFORM && i < l.n; i++)
        if (sim_cf_init(&o, &l.piles[i]) < 0) {
            fprintf(stderr, "evsim-pile: out of memory\n");
            sim_piles_free(&l);
            return 1;
        }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    lws_set_log_level(LLL_ERR, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = sim_protocols;
    info.gid = -1;
    info.uid = -1;
    info.fd_limit_per_thread = size_fd_limit(l.n);
    info.timeout_secs = 20; /* connect + handshake */
    info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (o.tls) {
        /* The client SSL_CTX of the context's one vhost: whom to trust, what to present. */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = o.tls_ca;
        if (!o.tls_ca) {
            info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
            /* named too, else lws logs that its compiled-in CA directory is missing */
            if (access(SIM_SYSTEM_CA_BUNDLE, R_OK) == 0)
                info.client_ssl_ca_filepath = SIM_SYSTEM_CA_BUNDLE;
        }
        info.client_ssl_cert_filepath = o.tls_cert;
        info.client_ssl_private_key_filepath = o.tls_key;
    }
    /* libev (epoll) so that a wake-up does not cost O(piles), with poll() as the fallback */
    g_loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (g_loop) {
        void *loops[1] = {g_loop};
        info.options |= LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = loops;
        g_ctx = lws_create_context(&info);
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = NULL;
        if (g_ctx) {
            sim_break_loop = break_loop;
        } else {
            ev_loop_destroy(g_loop);
            g_loop = NULL;
        }
    }
    if (!g_ctx) {
        if (!o.quiet)
            fprintf(stderr, "evsim-pile: libev unavailable, using poll()\n");
        g_ctx = lws_create_context(&info);
    }
    if (!g_ctx) {
        fprintf(stderr, "evsim-pile: cannot create the lws context%s\n",
                o.tls_cert ? " (is --tls-key the key of --tls-cert, both PEM?)" : "");
        sim_piles_free(&l);
        if (g_loop)
            ev_loop_destroy(g_loop);
        return 1;
    }
    int64_t t0 = sim_now_ms();
    if (o.scenario == SC_LOAD && sim_load_start(g_ctx, &o, l.piles, l.n) < 0) {
        fprintf(stderr, "evsim-pile: out of memory\n");
        lws_context_destroy(g_ctx);
        if (g_loop)
            ev_loop_destroy(g_loop);
        sim_piles_free(&l);
        return 1;
    }
    sim_run_start(g_ctx, &o, l.piles, l.n);
    while (!sim_run_over())
        if (lws_service(g_ctx, 0) < 0)
            break;
    double elapsed = (double)(sim_now_ms() - t0) / 1000.0;
    sim_load_free();
    lws_context_destroy(g_ctx);
    if (g_loop)
        ev_loop_destroy(g_loop);
    rc = sim_stats_report(&o, l.n, elapsed, o.summary_json);
    sim_piles_free(&l);
    return rc == 0 ? 0 : 1;
}
