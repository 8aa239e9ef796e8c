/* evsim-platform's faults (--faulty=MODE) as they touch what it sends: keys, payloads; and the
 * envelope's clock and counter. Which fault does what to which interface is decided here. */
#include "simulators/plat.h"

#include <stdio.h>
#include <string.h>

/* Each mode's name and what it does (--help prints them). */
static const struct {
    const char *name, *help;
} faults[F_COUNT] = {
    [F_NONE] = {"none", "conforming"},
    [F_BAD_SIGNATURE] = {"bad-signature", "every Sig sent is made with another SigSecret"},
    [F_WRONG_KEY] = {"wrong-key", "every Data sent is encrypted with another DataSecret"},
    [F_EXPIRED_TOKEN] = {"expired-token", "the client keeps its first token past expiry; the "
                                          "server's tokens die after 1 s though announced for "
                                          "--token-ttl-s"},
    [F_MISSING_FIELD] = {"missing-field", "StationInfo without StationName, ConnectorStatusInfo "
                                          "without Status, StationStats without "
                                          "StationElectricity, a charge order without TotalMoney"},
    [F_WRONG_ENUM] = {"wrong-enum", "StationType 7, connector Status 9, StopReason 100"},
    [F_WRONG_PAGING] = {"wrong-paging", "the server's PageCount is one too many and that extra "
                                        "page repeats page 1"},
    [F_LATE_PUSH] = {"late-push", "status pushes carry a TimeStamp 15 minutes old"},
    [F_SLOW_PUSH] = {"slow-push", "status pushes carry a TimeStamp 2 minutes old (accepted, but "
                                  "later than a conformance run allows)"},
    [F_ZERO_TTL] = {"zero-ttl", "the server's tokens are announced with TokenAvailableTime 0 "
                                "(they live --token-ttl-s all the same)"},
    [F_ANY_SECRET] = {"any-secret", "the server issues a token whatever the OperatorSecret"},
    [F_MOVED_STATION] = {"moved-station", "query_stations_info gives every station a StationLng "
                                          "0.01 degrees east of its own"},
    [F_WRONG_SECRET] = {"wrong-secret", "the client asks query_token with a wrong "
                                        "OperatorSecret"},
    [F_NO_SIG_CHECK] = {"no-sig-check", "the server never checks a request's Sig"},
    [F_NO_TOKEN_CHECK] = {"no-token-check", "the server takes any AccessToken, even one it never "
                                            "issued"},
    [F_PARSE_ERROR_500] = {"parse-error-500", "the server answers an envelope that does not "
                                              "parse with Ret 500 instead of 4003"},
    [F_NO_PAYLOAD_CHECK] = {"no-payload-check", "the server never checks a request's payload "
                                                "against the data dictionary"},
};

void plat_fault_usage(FILE *out)
{
    enum { INDENT = 20, WIDTH = 100 };
    for (int i = 1; i < F_COUNT; i++) {
        fprintf(out, "  %-*s", INDENT - 2, faults[i].name);
        /* the help wrapped at word boundaries under its column, like the options' */
        const char *p = faults[i].help;
        while (*p) {
            size_t n = strlen(p);
            if (n > WIDTH - INDENT) {
                n = WIDTH - INDENT;
                while (n > 0 && p[n] != ' ')
                    n--;
            }
            fprintf(out, "%.*s\n", (int)n, p);
            p += n;
            while (*p == ' ')
                p++;
            if (*p)
                fprintf(out, "%*s", INDENT, "");
        }
    }
}

const char *plat_fault_name(enum plat_fault f)
{
    return f < F_COUNT ? faults[f].name : "?";
}

int plat_fault_from_name(const char *s)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(s, faults[i].name) == 0)
            return i;
    return -1;
}

/* Another 16-byte DataSecret and another SigSecret: what a platform configured with someone
 * else's keys would use. Fixed, so a test can even decrypt with them. */
#define WRONG_DATA_SECRET "0000000000000000"
#define WRONG_SIG_SECRET  "evsim-wrong-sig-secret"
#define WRONG_OP_SECRET   "evsim-wrong-operator-secret"

const char *plat_token_secret(const struct plat_opts *o)
{
    if (o->fault != F_WRONG_SECRET)
        return o->operator_secret;
    return strcmp(o->operator_secret, WRONG_OP_SECRET) ? WRONG_OP_SECRET : WRONG_OP_SECRET "2";
}

struct tcec_keys plat_keys(const struct plat_opts *o)
{
    return (struct tcec_keys){o->data_secret, o->data_secret_iv, o->sig_secret};
}

struct tcec_keys plat_send_keys(const struct plat_opts *o)
{
    struct tcec_keys k = plat_keys(o);
    if (o->fault == F_BAD_SIGNATURE)
        k.sig_secret = WRONG_SIG_SECRET;
    if (o->fault == F_WRONG_KEY)
        k.data_secret =
            strcmp(o->data_secret, WRONG_DATA_SECRET) ? WRONG_DATA_SECRET : "1111111111111111";
    return k;
}

/* Calls fn on every object of array `arr`. */
static void each(json_t *arr, void (*fn)(json_t *, const char *, int), const char *key, int v)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) fn(it, key, v);
}

static void drop(json_t *o, const char *key, int v)
{
    (void)v;
    json_object_del(o, key);
}

static void set_int(json_t *o, const char *key, int v)
{
    if (json_is_object(o))
        json_object_set_new(o, key, json_integer(v));
}

/* What each fault does, by interface:
 *   missing-field  StationInfo loses StationName; ConnectorStatusInfo Status; StationStats
 *                  StationElectricity; a charge order TotalMoney
 *   wrong-enum     StationInfo StationType 7; ConnectorStatusInfo Status 9; a charge order
 *                  StopReason 100
 * query_token's payloads are left alone, so that the other interfaces can be reached. */
void plat_fault_payload(const struct plat_opts *o, enum plat_iface i, json_t *p)
{
    bool missing = o->fault == F_MISSING_FIELD, wrong = o->fault == F_WRONG_ENUM;
    if (!missing && !wrong)
        return;
    switch (i) {
    case I_STATIONS_INFO:
        each(json_object_get(p, "StationInfos"), missing ? drop : set_int,
             missing ? "StationName" : "StationType", 7);
        break;
    case I_N_STATION_INFO:
        (missing ? drop : set_int)(json_object_get(p, "StationInfo"),
                                   missing ? "StationName" : "StationType", 7);
        break;
    case I_STATION_STATUS: {
        size_t k;
        json_t *st;
        json_array_foreach(json_object_get(p, "StationStatusInfos"), k, st) each(
            json_object_get(st, "ConnectorStatusInfos"), missing ? drop : set_int, "Status", 9);
        break;
    }
    case I_N_STATION_STATUS:
        (missing ? drop : set_int)(json_object_get(p, "ConnectorStatusInfo"), "Status", 9);
        break;
    case I_STATION_STATS:
        if (missing)
            drop(json_object_get(p, "StationStats"), "StationElectricity", 0);
        break;
    case I_N_CHARGE_ORDER:
        (missing ? drop : set_int)(p, missing ? "TotalMoney" : "StopReason", 100);
        break;
    default:
        break;
    }
}

/* The standard's times are China Standard Time (UTC+8, no daylight saving), whatever the
 * machine's time zone: evgate reads them so (docs/tcec.md). */
static void cst(time_t t, struct tm *tm)
{
    time_t shifted = t + 8 * 3600;
    gmtime_r(&shifted, tm);
}

void plat_timestamp(time_t t, char out[TCEC_TIMESTAMP_LEN + 1])
{
    struct tm tm;
    cst(t, &tm);
    strftime(out, TCEC_TIMESTAMP_LEN + 1, "%Y%m%d%H%M%S", &tm);
}

void plat_datetime(time_t t, char out[20])
{
    struct tm tm;
    cst(t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void plat_next_seq(char out[TCEC_SEQ_LEN + 1])
{
    /* from a random start: a restarted simulator must not repeat the (TimeStamp, Seq) pairs of
     * the run before it in the same second, which evgate refuses as replays */
    static unsigned seq;
    if (!seq)
        seq = (unsigned)(random() % 9999) + 1;
    seq = seq % 9999 + 1;
    snprintf(out, TCEC_SEQ_LEN + 1, "%04u", seq);
}
