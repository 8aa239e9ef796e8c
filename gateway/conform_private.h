/* Private to the conformance engine (conform.c: the poller, the run threads, the lws side;
 * conform_run.c: the check API of conform_run.h; conform_frames.c: the run-wide frame
 * judgements). The API is conform.h and conform_run.h. */
#ifndef EVGATE_GW_CONFORM_PRIVATE_H
#define EVGATE_GW_CONFORM_PRIVATE_H

#include "gateway/conform.h"
#include "gateway/conform_run.h"
#include "gateway/piles.h"
#include "protocol/ocpp.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Events waiting in one run's mailbox; more are dropped and counted (the frames.* checks then
 * end `error`: they did not see everything). */
#define CF_MAILBOX_MAX 4096
/* CALLs of the pile kept per run for cf_expect / cf_messages. */
#define CF_RUN_MSGS_MAX 4096
/* Frames recorded per check (the database keeps DB_RUN_FRAMES_MAX and counts the rest). */
#define CF_CHECK_FRAMES_MAX 1024
/* How long a run waits at its start for the lws thread to say whether the pile is connected. */
#define CF_WATCH_WAIT_MS 5000
/* How often a waiting run looks at cancel_requested in the database. */
#define CF_CANCEL_POLL_MS 1000
/* Watched EquipmentIDs at most (conform_runs_max is at most this). */
#define CF_WATCH_MAX 64

enum cf_ev_kind { CF_EV_IN, CF_EV_OUT, CF_EV_OPEN, CF_EV_CLOSE, CF_EV_ANSWER };

/* lws thread -> run thread. */
struct cf_event {
    struct cf_event *next;
    enum cf_ev_kind kind;
    int64_t at_ms;
    int version;                                         /* OPEN: enum gw_ocpp_version */
    unsigned token;                                      /* ANSWER: the CALL's */
    char *state, *error, *response, *detail, *unique_id; /* ANSWER, owned */
    size_t len;                                          /* IN, OUT */
    char text[];                                         /* IN, OUT: len bytes and a NUL */
};

/* One run's mailbox; shared by its thread and the lws thread's watch table, refcounted. */
struct cf_mailbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    struct cf_event *head, *tail;
    size_t n;
    uint64_t dropped;
    bool stop; /* the gateway is stopping: every wait returns */
};

/* run thread -> lws thread. */
enum cf_req_kind { CF_REQ_WATCH, CF_REQ_UNWATCH, CF_REQ_CALL };
struct cf_req {
    struct cf_req *next;
    enum cf_req_kind kind;
    char equipment_id[GW_PILE_ID_MAX + 1];
    struct cf_mailbox *mb; /* a reference the request holds */
    unsigned token;
    char action[64];
    char *payload; /* JSON text, owned */
};

/* A CALL of the pile, kept for the checks. */
struct cf_msg_slot {
    struct cf_msg m; /* strings and payload owned here */
    bool taken;      /* a cf_expect took it */
    bool replied;    /* the gateway answered it: */
    json_t *reply;   /* its CALLRESULT payload (owned), NULL for a CALLERROR */
};

/* The frames.* judgements' state (conform_frames.c). */
struct cf_frames;

struct cf_run {
    struct gw_conform *cf;
    struct cf_run *next; /* cf->runs */
    pthread_t thread;
    bool finished; /* its thread is done (cf->mu) */
    const struct evg_config *cfg;
    struct db *db;
    struct cf_mailbox *mb;
    /* the row */
    int64_t id, detection_id, account_id, queued_at, started_at;
    char plan[64], target_kind[16], target[GW_PILE_ID_MAX + 1];
    const struct plan_check *checks;
    size_t nchecks;
    /* the check being run */
    const struct plan_check *check;
    int seq;
    int64_t check_start_ms, deadline_ms;
    char reason[1024];
    json_t *frames; /* this check's */
    size_t nframes;
    char **passed; /* ids of the checks that passed (nchecks slots) */
    size_t npassed;
    /* abort */
    bool cancelled, stopping;
    bool halt; /* cf_fail_stop: end the run after the current check */
    int64_t cancel_checked_ms;
    /* a pile */
    enum ocpp_version version;
    int connectors;
    bool connected;
    bool heard; /* the lws thread said whether the pile is connected */
    int conn;   /* connections seen during the run */
    bool conn_first_pending;
    struct cf_msg_slot *msgs;
    size_t nmsgs, msgs_dropped, window; /* window: first message of the current check */
    unsigned call_token;
    bool answered;
    struct cf_answer answer;
    char *answer_state, *answer_error, *answer_response, *answer_detail, *answer_uid;
    char *answer_code, *answer_desc;
    struct cf_msg *view; /* cf_messages' */
    size_t view_cap;
    char answer_text[512];
    struct cf_frames *fr;
    /* scratch of the plan's checks */
    void *state;
    size_t state_size;
    void (*state_fn)(void *state);
};

struct gw_conform {
    struct gw_server *gw;
    const struct evg_config *cfg;
    pthread_mutex_t mu; /* inbox, runs, nrunning */
    pthread_cond_t cv;  /* the poller's sleep; a run ending */
    struct cf_req *inbox_head, *inbox_tail;
    struct cf_run *runs;
    int nrunning;
    atomic_bool stopping;
    bool stopped;
    pthread_t poller;
    bool poller_started;
    struct db *db; /* the poller's connection */
    /* the lws thread's watch table */
    struct {
        char id[GW_PILE_ID_MAX + 1];
        struct cf_mailbox *mb;
    } watch[CF_WATCH_MAX];
    atomic_int nwatch;
};

/* conform.c: a request to the lws thread (takes `q`; cf_req_free frees one), and mailboxes
 * (one reference from new; the last unref frees). */
void cf_request(struct gw_conform *cf, struct cf_req *q);
void cf_req_free(struct cf_req *q);
void cf_event_free(struct cf_event *e);
struct cf_mailbox *cf_mailbox_new(void);
void cf_mailbox_ref(struct cf_mailbox *mb);
void cf_mailbox_unref(struct cf_mailbox *mb);

/* conform_run.c: takes the mailbox's events and feeds them to the run (frames, messages,
 * connection state, answers), waiting until one comes or `deadline_ms` passes; false once the
 * run must abort. */
bool cf_pump(struct cf_run *r, int64_t deadline_ms);
/* Frees what the run's current check collected; the frames JSON text for the database (owned,
 * or NULL). */
char *cf_take_frames(struct cf_run *r);
void cf_run_clear(struct cf_run *r);

/* conform_frames.c: every frame of the run, as it is taken from the mailbox (`in`: from the
 * pile; `parsed` NULL when it did not parse, with `err`). */
struct cf_frames *cf_frames_new(void);
void cf_frames_free(struct cf_frames *f);
void cf_frames_conn(struct cf_frames *f, int conn);
void cf_frames_feed(struct cf_run *r, bool in, const char *text, size_t len,
                    const struct ocpp_frame *parsed, const struct ocpp_error *err, int64_t at_ms);

#endif
