/* evsim-pile internals: the options, the per-pile state, the statistics and the functions the
 * simulator's files share (evsim_pile.c options/main, sim_conn.c lws client and the sweep,
 * sim_scenario.c what a pile says and answers, sim_stats.c counters, histogram, summary;
 * sim_load.h the load scenario's own API). */
#ifndef EVSIM_SIM_H
#define EVSIM_SIM_H

#include "protocol/ocpp.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lws;
struct lws_context;
struct lws_protocols;

/* Limits (one place, STYLE rule 7). */
#define SIM_ID_MAX           48  /* EquipmentID bytes: the gateway's limit */
#define SIM_PASSWORD_MAX     128 /* Basic-auth password bytes */
#define SIM_SOURCES_MAX      64  /* --source-addresses entries */
#define SIM_CONNECTORS_MAX   16  /* --connectors */
#define SIM_PILES_MAX        200000
#define SIM_CALLQ_MAX        16    /* CALLs waiting behind the outstanding one, per pile */
#define SIM_FAULTY_TIMEOUT_S 3     /* a faulty frame the peer does not answer is given up */
#define SIM_SWEEP_MS         50    /* the one timer driving every pile */
#define SIM_BACKOFF_MAX_S    60    /* reconnect back-off ceiling */
#define SIM_CONNECT_STUCK_MS 25000 /* a connect with no lws callback by then is given up */
#define SIM_RESET_DELAY_MS   500   /* a reset pile goes down this long after its last work */
#define SIM_RX_MAX           65536 /* largest message accepted from the gateway */
/* lws' receive buffer, allocated per connection: OCPP answers to a pile are mostly under 200
 * bytes; larger messages arrive in pieces and are reassembled up to SIM_RX_MAX. */
#define SIM_LWS_RX_BYTES 1024

/* SC_CONFORM: a pile that passes every check of ocpp16-core / ocpp201-core (sim_conform.c),
 * with --faulty-check the chosen checks failing. SC_LOAD: the throughput benchmark's load
 * (sim_load.c). */
enum sim_scenario { SC_BOOT, SC_IDLE, SC_CHARGE, SC_FAULTY, SC_CONFORM, SC_LOAD };

/* Why a transaction ends (the 1.6 StopTransaction reason, 2.0.1 trigger/stoppedReason). */
enum sim_stop { STOP_LOCAL, STOP_REMOTE, STOP_HARD_RESET, STOP_SOFT_RESET };
/* A Reset being carried out: the transaction is stopped (not ON_IDLE), then the pile reconnects. */
enum sim_reset { RESET_NONE, RESET_SOFT, RESET_HARD, RESET_ON_IDLE };

/* What a pile sends: CP->CS actions and the faulty frames, one index space for the counters. */
enum sim_action {
    A_BOOT,
    A_HEARTBEAT,
    A_STATUS,
    A_AUTHORIZE,
    A_START_TX,    /* 1.6 StartTransaction */
    A_STOP_TX,     /* 1.6 StopTransaction */
    A_METER,       /* 1.6 MeterValues */
    A_TX_START,    /* 2.0.1 TransactionEvent Started */
    A_TX_UPDATE,   /* 2.0.1 TransactionEvent Updated (meter values) */
    A_TX_END,      /* 2.0.1 TransactionEvent Ended */
    A_TX_TRIGGER,  /* 2.0.1 TransactionEvent Updated, triggerReason Trigger (TriggerMessage) */
    A_DIAG_STATUS, /* 1.6 DiagnosticsStatusNotification Idle (conform, TriggerMessage) */
    A_FW_STATUS,   /* 1.6 FirmwareStatusNotification Idle (conform, TriggerMessage) */
    A_F_UNKNOWN_ACTION,
    A_F_MISSING_REQUIRED,
    A_F_WRONG_TYPE,
    A_F_LONG_ID,
    A_F_MALFORMED,
    /* conform --faulty-check=frames.*: one each per run (sim_conform.c) */
    A_CF_BAD_SCHEMA, /* a Heartbeat with a property its schema does not allow */
    A_CF_REUSED_ID,  /* a Heartbeat with the uniqueId of the CALL before it */
    A_CF_OVERLAP,    /* two Heartbeats back to back, the first one untracked */
    A_COUNT
};
#define A_FAULTY_FIRST A_F_UNKNOWN_ACTION
#define A_FAULTY_LAST  A_F_MALFORMED /* the faulty scenario's cycle */

/* --faulty-check behaviours (sim_conform.c): one per check of ocpp16-core and ocpp201-core;
 * the checks both plans have, and reset.soft/on-idle, reset.hard/immediate and
 * remote.start-unknown-connector/-evse, share one. */
enum sim_fault {
    F_BOOT_FIRST,
    F_BOOT_STATUS,
    F_HEARTBEAT,
    F_CONFIG_GET_ALL,
    F_CONFIG_GET_UNKNOWN,
    F_CONFIG_CHANGE,
    F_CONFIG_CHANGE_UNKNOWN,
    F_VAR_GET,
    F_VAR_GET_UNKNOWN,
    F_VAR_SET,
    F_VAR_SET_INVALID,
    F_TRIG_BOOT,
    F_TRIG_HEARTBEAT,
    F_TRIG_STATUS,
    F_TRIG_METER,
    F_TRIG_DIAG,
    F_TRIG_FW,
    F_TRIG_UNKNOWN,
    F_TRIG_TX,
    F_AVAIL_INOP,
    F_AVAIL_OP,
    F_UNLOCK,
    F_UNLOCK_UNKNOWN,
    F_CACHE,
    F_DATATRANSFER,
    F_UNSUPPORTED,
    F_REMOTE_START_UNKNOWN,
    F_REMOTE_STOP_UNKNOWN,
    F_AUTHORIZE,
    F_TX_START,
    F_TX_METER,
    F_TX_STOP,
    F_REMOTE_START,
    F_REMOTE_START_BUSY,
    F_REMOTE_STOP,
    F_RESET_SOFT,
    F_RESET_HARD,
    F_TX_SEQ,
    F_SCHEMA,
    F_UNIQUE_IDS,
    F_ONE_OUTSTANDING,
    F_LATE_ANSWER,
    F_COUNT
};

struct sim_opts {
    const char *url_base; /* ws[s]://host:port/path, the EquipmentID appended */
    bool tls;             /* wss:// */
    const char *tls_ca;   /* PEM CAs trusted for the gateway's certificate; NULL: the system's */
    const char *tls_cert; /* PEM client certificate (security profile 3) and its key */
    const char *tls_key;
    char host[256];
    char path[512];
    int port;
    enum ocpp_version version;
    enum sim_scenario scenario;
    double duration_s; /* 0: until a signal */
    int connectors;
    int heartbeat_override_s; /* 0: the BootNotification's interval */
    int meter_interval_s;
    int session_s;
    int call_timeout_s;
    double rate; /* first connections started per second */
    bool reconnect;
    double backoff_first_s; /* the first reconnect's back-off window */
    double backoff_max_s;   /* the largest window */
    double reconnect_rate;  /* reconnections started per second; 0: `rate` */
    const char *summary_json;
    const char *sources[SIM_SOURCES_MAX];
    int nsources;
    bool quiet;
    uint64_t faulty;   /* conform: bits 1 << enum sim_fault (--faulty-check) */
    int late_answer_s; /* conform, frames.answers-in-time: how late the held answer goes */
    double msg_rate;   /* load: CALLs per second across all piles; 0: closed loop */
    double warmup_s;   /* load: the window starts this long after the last pile booted */
    bool load_go;      /* load: once booted, wait for SIGUSR1 (--load-go-signal) */
};

/* One simulated charge point. Kept small: tens of thousands live in one array. */
struct pile {
    struct lws *wsi;
    const char *id;       /* borrowed from the id arena */
    const char *password; /* borrowed */
    uint32_t index;
    uint8_t state; /* enum pile_state in sim_conn.c */
    uint8_t booted;
    uint8_t in_tx;
    uint8_t tx_pending; /* a session is being authorized/started */
    uint8_t faulty_step;
    uint8_t tried; /* connected or tried before: the next attempt is a reconnect */
    uint8_t ever_connected;
    uint8_t tx_connector; /* the connector (1.6) or EVSE (2.0.1) of the transaction */
    uint16_t attempts;    /* consecutive failed connects, for the back-off */
    uint8_t boot_done;    /* the first BootNotification of this connection was answered */
    uint8_t reset;        /* enum sim_reset */
    uint16_t status_next, status_end; /* connectors whose StatusNotification is due: [next, end] */
    uint32_t hb_interval_s;
    int64_t next_connect_ms;
    int64_t next_heartbeat_ms; /* 0: none scheduled */
    int64_t next_step_ms;      /* the scenario's next action; 0: none */
    /* the outstanding CALL */
    uint32_t msg_seq;
    uint32_t out_seq; /* 0: none outstanding */
    uint8_t out_action;
    /* the central system's operations (sim_cs.c); these fill padding */
    uint8_t stop_reason; /* enum sim_stop of the queued stop */
    uint8_t tx_remote;   /* the transaction was started remotely: it runs until stopped */
    uint8_t tag_type;    /* 2.0.1: index of `tag`'s idToken type */
    uint8_t avail_sched; /* Inoperative once the transaction ends: bit 0 pile, bit 1 connector */
    uint8_t reboot;      /* reconnect after this close even without --reconnect (Reset) */
    /* --scenario load (sim_load.c) */
    uint8_t load_ready; /* booted, statuses sent: on the load's schedule */
    uint8_t load_out;   /* the outstanding CALL is a load CALL (answers matched cheaply) */
    uint8_t load_step;  /* position in the mix; bit 2 flips the StatusNotification's status */
    uint8_t load_owed;  /* --msg-rate: CALLs that fell due while one was outstanding */
    uint16_t meter_s;   /* MeterValueSampleInterval set by the CS; 0: --meter-interval */
    int64_t out_sent_us;
    int64_t out_deadline_ms;
    /* CALLs waiting */
    uint8_t q[SIM_CALLQ_MAX];
    uint8_t q_head, q_len;
    int32_t remote_start_id; /* 2.0.1 RequestStartTransaction's remoteStartId */
    /* text waiting for a writeable callback: the CALL and the answers to the CS's CALLs */
    struct txbuf *tx_head, *tx_tail;
    /* a message arriving in fragments */
    char *rx;
    uint32_t rx_len;
    /* charging */
    uint32_t tx_id; /* 1.6: the CS's transactionId; 2.0.1: our counter */
    uint32_t meter_wh;
    uint32_t tx_seq; /* 2.0.1 seqNo */
    int64_t tx_started_ms;
    uint32_t sessions;
    uint32_t unavailable;   /* Inoperative connectors: bit c connector c, bit 0 the whole pile */
    char *tag;              /* the idTag of a remote start, owned; NULL: the pile's own */
    struct sim_conform *cf; /* --scenario conform only (sim_conform.c), owned; else NULL */
};

struct txbuf {
    struct txbuf *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
};

/* --- sim_piles.c ------------------------------------------------------------------------- */

/* The piles of a run and the strings they borrow (ids, passwords), with an index by id. */
struct pile_list {
    struct pile *piles;
    size_t n, cap;
    char **strings; /* ids and passwords, owned */
    size_t nstrings, capstrings;
    uint32_t *slots; /* the index: pile number + 1 by hash of its id, 0 free; nslots a power of 2 */
    size_t nslots;
};
/* Adds a pile with EquipmentID id[0..len) (copied): 0, or -1 with the reason in err. */
int sim_piles_add(struct pile_list *l, const char *id, size_t len, char *err, size_t errlen);
/* Reads `equipment_id password` lines (or mgmt's JSON). Piles not yet listed are added when
 * `add` is set; the others get their password. Returns 0 or -1 with err. */
int sim_piles_read_passwords(struct pile_list *l, const char *path, bool add, char *err,
                             size_t errlen);
/* Frees the list, its strings and each pile's conform state. */
void sim_piles_free(struct pile_list *l);

/* --- sim_stats.c ------------------------------------------------------------------------- */

/* A log-linear histogram of microseconds (fixed buckets, no allocation; relative error < 3 %). */
#define SIM_HIST_SUB_BITS 5
#define SIM_HIST_BUCKETS  ((40 - SIM_HIST_SUB_BITS + 1) << SIM_HIST_SUB_BITS)
struct sim_hist {
    uint64_t b[SIM_HIST_BUCKETS];
    uint64_t n;
    int64_t max;
};
void sim_hist_add(struct sim_hist *h, int64_t us);
/* The q-quantile (0..1): the upper edge of its bucket, at most the largest value; 0 if empty. */
int64_t sim_hist_quantile_us(const struct sim_hist *h, double q);

struct sim_stats {
    uint64_t piles_connected; /* piles that completed a handshake at least once */
    uint64_t connected, connect_failed, reconnects, disconnects; /* connected: handshakes */
    uint64_t connects_abandoned;    /* connecting past SIM_CONNECT_STUCK_MS without a callback */
    uint64_t handshake_status[600]; /* failed handshakes by HTTP status; [0]: no HTTP answer */
    uint64_t sent[A_COUNT], answered[A_COUNT], errored[A_COUNT], timed_out[A_COUNT];
    uint64_t in_flight[A_COUNT]; /* outstanding when the run ended */
    uint64_t invalid_sent;       /* our own payload failed ocpp_validate (a simulator bug) */
    uint64_t cs_calls, cs_calls_answered, cs_calls_unsupported;
    uint64_t received_bad;    /* frames from the gateway that ocpp_frame_parse refused */
    uint64_t unmatched;       /* answers to no outstanding CALL (late, after a timeout) */
    uint64_t invalid_answers; /* CALLRESULT payloads the response schema refuses */
    uint64_t boots_accepted, boots_other;
    uint64_t transactions;
};

extern struct sim_stats g_stats;

const char *sim_action_name(enum sim_action a);
/* Counts a CALL the central system sent, by action, and whether it got a CALLRESULT. */
void sim_stats_cs_call(enum ocpp_version v, const char *action, bool result);
/* Counts a CALLERROR with `code` (copied into a small fixed table). */
void sim_stats_error_code(const char *code);
/* Records one round trip of `us` microseconds (fixed buckets, no allocation). */
void sim_stats_latency(int64_t us);
/* Prints the table to stdout and, when path is set, the JSON summary there. Returns 0 or -1. */
int sim_stats_report(const struct sim_opts *o, size_t piles, double elapsed_s, const char *path);

/* --- sim_conn.c -------------------------------------------------------------------------- */

int64_t sim_now_ms(void);
int64_t sim_now_us(void);
/* The lws protocol table: one client protocol per version (same callback). */
extern const struct lws_protocols *sim_protocols;
/* Starts the sweep on ctx; piles[0..n) begin idle and connect at `rate`. */
void sim_run_start(struct lws_context *ctx, const struct sim_opts *o, struct pile *piles, size_t n);
/* Asks every pile to stop; true once the run is over (duration passed or stop requested). */
bool sim_run_over(void);
void sim_request_stop(void);
/* Set by main: ends the event loop once the run is over (NULL: lws_service returns anyway). */
extern void (*sim_break_loop)(void);
/* Closes p's connection (from the next writeable callback). */
void sim_close(struct pile *p);
/* Queues `text` (len bytes, copied) on p and asks for a writeable callback. 0 or -1. */
int sim_send(struct pile *p, const char *text, size_t len);
/* Sends the len bytes at buf + LWS_PRE at once when nothing is queued on p (the LWS_PRE bytes
 * before them are lws' room for the frame header), else queues a copy like sim_send. For the
 * load's CALLs (sim_load.c). 0 or -1. */
int sim_send_direct(struct pile *p, unsigned char *buf, size_t len);

/* --- sim_scenario.c ---------------------------------------------------------------------- */

/* The pile's WebSocket is open: start the conversation. */
void sim_on_open(const struct sim_opts *o, struct pile *p, int64_t now_ms);
/* The socket went away: forget the outstanding CALL and the queue. */
void sim_on_close(struct pile *p);
/* A complete text message from the gateway. */
void sim_on_message(const struct sim_opts *o, struct pile *p, const char *text, size_t len);
/* Timers: due actions, CALL timeouts, the queue. Called by the sweep for open piles. */
void sim_on_tick(const struct sim_opts *o, struct pile *p, int64_t now_ms);
/* For sim_cs.c: queue a CALL (dropped when the queue is full); is `a` queued or outstanding;
 * send the StatusNotification of connectors first..last; the meter interval in force. */
void sim_enqueue(struct pile *p, enum sim_action a);
bool sim_queued(const struct pile *p, enum sim_action a);
void sim_statuses(struct pile *p, int first, int last);
int sim_meter_interval(const struct sim_opts *o, const struct pile *p);
/* 2.0.1 IdTokenEnumType names; p->tag_type indexes them (0: ISO14443, the pile's own). */
#define SIM_TOKEN_TYPES 8
extern const char *const sim_token_types[SIM_TOKEN_TYPES];
/* Starts a transaction on `connector` (Preparing, then the start message). */
void sim_start_tx(const struct sim_opts *o, struct pile *p, int connector);
/* Queues the end of the running transaction with `why` (once). */
void sim_stop_tx(const struct sim_opts *o, struct pile *p, enum sim_stop why);
/* The 2.0.1 transactionId of p's transaction (at most 36 characters). */
void sim_tx_ref(const struct pile *p, char *buf, size_t len);

/* --- sim_conform.c: --scenario conform, --faulty-check ------------------------------------ */

#define SIM_CONFORM_CARD      "CONFORM-CARD" /* the idTag the person at the pile presents */
#define SIM_LATE_ANSWER_S     35 /* past the gateway's default ocpp_call_timeout_s (30) */
#define SIM_CONFORM_SESSION_S 4  /* the card session charges this long (--session) */

/* The state only a conform pile needs, allocated per pile (struct pile stays small). */
struct sim_conform {
    int64_t card_at_ms;      /* the person presents the card; 0: not due */
    int64_t plug_at_ms;      /* ... and plugs the cable into connector 1 */
    int64_t late_at_ms;      /* the held answer goes out */
    char *late_text;         /* that answer, owned */
    uint32_t meter_start;    /* the card session's meterStart */
    uint32_t hb_reported;    /* faulty heartbeat.interval: read back, the timer unchanged */
    uint8_t card_session;    /* the transaction (pending or running) is the card's */
    uint8_t hard_resets;     /* Reset Hard / Immediate received */
    uint8_t reboot_faults;   /* 1: the first hard reset's reconnection is due; 2: done */
    uint8_t omit_status;     /* the next accepted boot leaves out the last connector */
    uint8_t meter_connector; /* of a triggered MeterValues */
    uint8_t boot_triggered;  /* the next BootNotification is the TriggerMessage's */
    uint8_t finishing;       /* 1.6: this connector reports Finishing next */
    uint8_t frames_due;      /* the frames.* faults are to be sent */
    uint8_t gets, hb_sets;   /* GetVariables, valid HeartbeatInterval changes received */
    uint8_t hb_since_change; /* Heartbeats sent since HeartbeatInterval last changed */
    uint8_t late_done;       /* the one late answer is held or sent */
};

/* Whether --faulty-check asked for behaviour f. */
static inline bool sim_faulty(const struct sim_opts *o, enum sim_fault f)
{
    return o->scenario == SC_CONFORM && (o->faulty >> f & 1);
}
/* --faulty-check=ID[,ID...] for o->version's plan into o->faulty: 0, or -1 naming the unknown
 * ID in err. */
int sim_cf_parse_faulty(struct sim_opts *o, const char *list, char *err, size_t errlen);
/* The --help lines of --faulty-check: each check id of both plans and how it is failed. */
void sim_cf_usage(FILE *out);
/* Allocates p->cf (0, -1 on out of memory); frees it. */
int sim_cf_init(const struct sim_opts *o, struct pile *p);
void sim_cf_free(struct pile *p);
/* The scenario's hooks (sim_scenario.c, sim_cs.c): a connection opened (before the boot is
 * sent), a boot accepted (the last connector to report), the Authorize answered, the end of a
 * transaction, the clock. */
void sim_cf_on_open(const struct sim_opts *o, struct pile *p);
int sim_cf_boot_last(const struct sim_opts *o, struct pile *p);
void sim_cf_authorized(const struct sim_opts *o, struct pile *p, bool accepted, int64_t now_ms);
void sim_cf_tx_ended(const struct sim_opts *o, struct pile *p, int64_t now_ms);
void sim_cf_tick(const struct sim_opts *o, struct pile *p, int64_t now_ms);
/* The card session is a faulty one (authorize.card, tx.local-start) that ends at once. */
bool sim_cf_quick_session(const struct sim_opts *o, const struct pile *p);
/* A valid HeartbeatInterval change arrived: true when its answer is the one to hold
 * (frames.answers-in-time: the first change after two Heartbeats at the interval in force, i.e.
 * heartbeat.interval putting the old value back, whose answer no check judges). */
bool sim_cf_hb_changed(const struct sim_opts *o, struct pile *p);
/* Holds the answer `text` (owned) for late_answer_s. */
void sim_cf_hold(const struct sim_opts *o, struct pile *p, char *text, int64_t now_ms);

/* --- sim_config.c ----------------------------------------------------------------------- */

/* The answers to validated 1.6 GetConfiguration / ChangeConfiguration and 2.0.1 GetVariables /
 * SetVariables (set: true) from the pile's settings, applied; caller frees. *hold is set when
 * the answer is the one conform holds back (frames.answers-in-time), else left alone. */
json_t *sim_config_get(const struct sim_opts *o, const struct pile *p, const json_t *req);
json_t *sim_config_change(const struct sim_opts *o, struct pile *p, const json_t *req,
                          int64_t now_ms, bool *hold);
json_t *sim_variables(const struct sim_opts *o, struct pile *p, const json_t *req, bool set,
                      int64_t now_ms, bool *hold);

/* --- sim_cs.c ---------------------------------------------------------------------------- */

/* Answers a CALL of the central system (always: a CALLRESULT or a CALLERROR) and acts on it. */
void sim_on_cs_call(const struct sim_opts *o, struct pile *p, const struct ocpp_frame *f,
                    int64_t now_ms);

#endif
