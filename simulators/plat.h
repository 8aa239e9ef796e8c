/* evsim-platform internals: the options, the stations the simulated operator platform holds,
 * the faults, the counters, and the functions its files share (evsim_platform.c options/main,
 * plat_data.c stations and payloads, plat_fault.c envelopes and faults, plat_server.c the
 * libmicrohttpd server, plat_client.c the libcurl client, plat_stats.c the summary).
 *
 * Threads: the server runs on libmicrohttpd's one internal thread, the client on the main
 * thread; plat_lock guards the station data and the tokens they share, the counters have a
 * lock of their own (plat_stats.c). */
#ifndef EVSIM_PLAT_H
#define EVSIM_PLAT_H

#include "protocol/tcec.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Limits (one place, STYLE rule 7). */
#define PLAT_STATIONS_MAX        10000
#define PLAT_PILES_MAX           100 /* --piles-per-station */
#define PLAT_CONNECTORS_MAX      8   /* --connectors-per-pile */
#define PLAT_ALL_CONNECTORS_MAX  200000
#define PLAT_PREFIX_MAX          8 /* --id-prefix characters: IDs stay within the standard */
#define PLAT_BODY_MAX            (1u << 20) /* request body the server accepts, bytes */
#define PLAT_TOKENS_MAX          64         /* tokens the server remembers (oldest dropped) */
#define PLAT_TOKEN_LEN           32         /* hex characters of an issued AccessToken */
#define PLAT_TOKEN_MAX           512        /* AccessToken characters accepted from evgate */
#define PLAT_PAGE_SIZE_DEFAULT   10         /* query_stations_info without PageSize */
#define PLAT_FAULTY_TOKEN_LIFE_S 1          /* expired-token: how long the server's tokens live */
#define PLAT_LATE_PUSH_S         900        /* late-push: how old the pushed TimeStamp is */
#define PLAT_SLOW_PUSH_S         120        /* slow-push: the same, within evgate's clock skew */
#define PLAT_MOVED_LNG           0.01       /* moved-station: degrees added to StationLng */
#define PLAT_HTTP_TIMEOUT_MS     10000      /* one client request, connect to last byte */
#define PLAT_RETRY_MAX_MS        30000      /* client back-off ceiling after a failed query_token */
#define PLAT_URL_MAX             512

enum plat_fault {
    F_NONE,
    F_BAD_SIGNATURE, /* every Sig it sends is computed with another SigSecret */
    F_WRONG_KEY,     /* every Data it sends is encrypted with another DataSecret */
    F_EXPIRED_TOKEN, /* client: keeps its first token past expiry; server: tokens die after 1 s */
    F_MISSING_FIELD, /* a required field is dropped from every payload but query_token's */
    F_WRONG_ENUM,    /* an enumeration outside its set in every payload that has one */
    F_WRONG_PAGING,  /* server: PageCount one too many, that extra page repeats page 1 */
    F_LATE_PUSH,     /* client: status pushes carry a TimeStamp PLAT_LATE_PUSH_S old */
    F_SLOW_PUSH,     /* client: status pushes carry a TimeStamp PLAT_SLOW_PUSH_S old */
    /* one each for the checks of plan tcec102-platform no fault above fails
     * (docs/conformance.md): */
    F_ZERO_TTL,         /* server: tokens announced with TokenAvailableTime 0 */
    F_ANY_SECRET,       /* server: query_token issues a token whatever the OperatorSecret */
    F_MOVED_STATION,    /* server: query_stations_info moves every station PLAT_MOVED_LNG east */
    F_WRONG_SECRET,     /* client: asks query_token with a wrong OperatorSecret */
    F_NO_SIG_CHECK,     /* server: never checks a request's Sig */
    F_NO_TOKEN_CHECK,   /* server: takes any AccessToken, even one it never issued */
    F_PARSE_ERROR_500,  /* server: an envelope that does not parse gets Ret 500, not 4003 */
    F_NO_PAYLOAD_CHECK, /* server: never checks a request's payload against the dictionary */
    F_COUNT
};

/* The interfaces, one index space for the counters. */
enum plat_iface {
    I_QUERY_TOKEN,
    I_STATIONS_INFO,
    I_STATION_STATUS,
    I_STATION_STATS,
    I_N_STATION_INFO,
    I_N_STATION_STATUS,
    I_N_CHARGE_ORDER,
    I_COUNT
};

struct plat_opts {
    /* credentials: the set evgate issued to the operator (docs/tcec.md) */
    const char *operator_id;
    const char *operator_secret;
    const char *data_secret, *data_secret_iv, *sig_secret;
    const char *evgate_operator_id; /* NULL: any well-formed OperatorID may call the server */
    /* data */
    const char *data_file;
    const char *id_prefix;
    int stations, piles_per_station, connectors_per_pile;
    /* server */
    const char *listen;    /* HOST:PORT, NULL: no server */
    const char *base_path; /* "/evcs/v1" */
    int token_ttl_s;
    /* client */
    const char *evgate_url; /* ends in '/', NULL: no client */
    int status_interval_ms, order_interval_ms;
    bool push_info;
    /* run */
    enum plat_fault fault;
    double duration_s;
    const char *summary_json;
    bool quiet;
};

/* --- plat_data.c ------------------------------------------------------------------------- */

struct plat_connector {
    const char *id;       /* borrowed from the StationInfo */
    const char *pile_id;  /* borrowed */
    size_t station;       /* index into the stations */
    int status;           /* ConnectorStatusInfo Status */
    int64_t orders_tenth; /* kWh of finished orders, tenths */
    int64_t base_tenth;   /* kWh per day, tenths: the stats' baseline */
};

struct plat_data {
    json_t *stations; /* array of StationInfo objects, owned */
    time_t *updated;  /* per station: when its StationInfo last changed */
    struct plat_connector *connectors;
    size_t nconnectors;
};

extern pthread_mutex_t plat_lock;

/* Builds the stations from the options (generated) or o->data_file. 0, or -1 with err. */
int plat_data_load(const struct plat_opts *o, struct plat_data *d, char *err, size_t errlen);
void plat_data_free(struct plat_data *d);
size_t plat_station_count(const struct plat_data *d);
/* The index of StationID id, or -1. */
long plat_station_find(const struct plat_data *d, const char *id);
/* {"StationID", "ConnectorStatusInfos": [...]} of station i; new reference. */
json_t *plat_station_status(const struct plat_data *d, size_t i);
/* StationStatsInfo of station i over the days start..end (yyyy-MM-dd); new reference. */
json_t *plat_station_stats(const struct plat_data *d, size_t i, const char *start, const char *end);
/* Moves a connector to another status; returns its index. */
size_t plat_status_change(struct plat_data *d);
/* {"ConnectorID", "Status", ...} of connector c; new reference. */
json_t *plat_connector_status(const struct plat_data *d, size_t c);
/* A finished charge order on some connector (its energy goes into the stats); new reference. */
json_t *plat_charge_order(struct plat_data *d, const char *operator_id);

/* --- plat_fault.c ------------------------------------------------------------------------ */

const char *plat_fault_name(enum plat_fault f);
/* One line per mode (name and what it does) for --help. */
void plat_fault_usage(FILE *out);
/* The fault by name, or -1. */
int plat_fault_from_name(const char *s);
/* The keys the simulator signs and encrypts with: the real ones, or under F_BAD_SIGNATURE /
 * F_WRONG_KEY another SigSecret / DataSecret. */
struct tcec_keys plat_send_keys(const struct plat_opts *o);
/* The OperatorSecret the client asks query_token with: the real one, or under F_WRONG_SECRET
 * another. */
const char *plat_token_secret(const struct plat_opts *o);
/* The real keys, for checking what arrives. */
struct tcec_keys plat_keys(const struct plat_opts *o);
/* Applies F_MISSING_FIELD / F_WRONG_ENUM to a payload the simulator is about to send for
 * interface i (kind: TCEC_REQUEST for pushes, TCEC_RESPONSE for answers). */
void plat_fault_payload(const struct plat_opts *o, enum plat_iface i, json_t *payload);
/* TimeStamp yyyyMMddHHmmss of t in China Standard Time (UTC+8), the standard's clock. */
void plat_timestamp(time_t t, char out[TCEC_TIMESTAMP_LEN + 1]);
void plat_datetime(time_t t, char out[20]); /* yyyy-MM-dd HH:mm:ss, China Standard Time */
/* The next Seq, 0001..9999 then 0001 again. */
void plat_next_seq(char out[TCEC_SEQ_LEN + 1]);

/* --- plat_stats.c ------------------------------------------------------------------------ */

enum plat_dir { D_SERVED, D_SENT };

/* Client-side problems with an answer, and server-side problems with a request that never got
 * a T/CEC answer. */
enum plat_err {
    E_TRANSPORT,   /* connect, timeout, reset (client) */
    E_HTTP_STATUS, /* an HTTP status other than 200; its body's Ret is counted if it has one */
    E_ENVELOPE,    /* the answer is not a T/CEC response (client) */
    E_SIGNATURE,   /* the answer's Sig is wrong (client) */
    E_DECRYPT,     /* the answer's Data does not decrypt to a JSON object (client) */
    E_PAYLOAD,     /* the answer's payload breaks the data dictionary (client) */
    E_REFUSED,     /* Ret 0 but SuccStat 1, Status 1 or ConfirmResult != 0 (client) */
    E_NOT_FOUND,   /* an interface's path with another method than POST (server: 405) */
    E_TOO_LARGE,   /* a request body over PLAT_BODY_MAX (server) */
    E_COUNT
};

const char *plat_iface_name(enum plat_iface i);
/* Counts one request served or sent on interface i, answered with ret (sent: the Ret read from
 * the answer; a request without a T/CEC answer is counted with plat_count_error only). */
void plat_count(enum plat_dir dir, enum plat_iface i, int ret);
void plat_count_error(enum plat_dir dir, enum plat_iface i, enum plat_err e);
void plat_count_token(bool issued); /* issued by the server, or obtained by the client */
void plat_count_refresh(void);
/* A request to a path that is no interface the server serves (404). */
void plat_count_other_path(void);
/* Prints the table and, with path, the JSON summary. 0 or -1. */
int plat_stats_report(const struct plat_opts *o, const struct plat_data *d, double elapsed_s,
                      const char *path);

/* --- plat_server.c ----------------------------------------------------------------------- */

/* Starts the server on o->listen; prints the bound address on stderr. 0 or -1 with err. */
int plat_server_start(const struct plat_opts *o, struct plat_data *d, char *err, size_t errlen);
void plat_server_stop(void);

/* --- plat_client.c ----------------------------------------------------------------------- */

int plat_client_start(const struct plat_opts *o, struct plat_data *d, char *err, size_t errlen);
/* Does what is due at now_ms (token, pushes); returns the ms until the next due work. */
int64_t plat_client_tick(int64_t now_ms);
void plat_client_stop(void);

int64_t plat_now_ms(void);

#endif
