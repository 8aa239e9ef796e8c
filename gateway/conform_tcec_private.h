/* Private to gateway/conform_tcec*.c, the checks of plan tcec102-platform: the run's state
 * shared by its checks, and the helpers the files share. conform_tcec.c calls the platform
 * (tokens, the answers' crypto, the refusals; the plan's table), conform_tcec_stations.c judges
 * its stations, status and stats, conform_tcec_in.c what the platform sent evgate (tokens, the
 * requests' crypto, pushes). */
#ifndef EVGATE_GW_CONFORM_TCEC_PRIVATE_H
#define EVGATE_GW_CONFORM_TCEC_PRIVATE_H

#include "db/detections.h"
#include "gateway/conform_run.h"
#include "gateway/tcec_call.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Bytes of the platform's base URL kept (with a trailing '/'). */
#define CF_TCEC_URL_MAX 512
/* Pages of query_stations_info read by stations.paging (PageSize 2: 10 000 stations). */
#define CF_TCEC_PAGES_MAX 5000
/* Stations asked per query_station_status call (the standard's limit). */
#define CF_TCEC_STATUS_BATCH 50
/* Inbound exchanges of the run read per look (the log keeps 2000 per OperatorID). */
#define CF_TCEC_INBOUND_MAX 2000
/* A status push arrives at most this long after its TimeStamp (push.station-status; our bound,
 * docs/conformance.md "Fixed values"). */
#define CF_TCEC_PUSH_LATE_S 60
/* How often a check waiting for what the platform sends looks at the exchange log. */
#define CF_TCEC_POLL_MS 1000

/* The run's state (cf_state), zeroed at the first check. */
struct cf_tcec {
    bool setup_done;
    char setup_error[256]; /* "" when the platform could be called */
    struct db_tcec_credentials cred;
    char url[CF_TCEC_URL_MAX];
    unsigned seq; /* the last Seq sent */

    char token[GW_TCEC_CALL_TOKEN_MAX + 1]; /* "" when none */
    int64_t token_ms;                       /* obtained at (thread_now_ms) */
    long long token_ttl_s;                  /* as announced */

    char note[512]; /* a warning for the current check's verdict (cf_pass_note) */

    /* every answer read so far, for crypto.answer-* */
    int answers, answers_with_data;
    char bad_sig[TCEC_MSG_MAX], bad_data[TCEC_MSG_MAX]; /* the first of each, "" when none */

    /* stations.paging's pages, for stations.dictionary and stations.registered: freed by the
     * last of them, or when the run ends */
    json_t *pages;    /* the answers' payloads in page order */
    json_t *stations; /* every StationInfo of those pages, in order */
    bool pages_read;  /* every page came back readable */
    /* a platform detected before any of its stations is accessed in evgate: the stations it
     * returned, in db_tcec_run_stations' shape, for status.query and stats.query (NULL when
     * stations are registered or none came) */
    json_t *own;
};

/* The state with the platform looked up (its live credentials and base URL): NULL when out of
 * memory; s->setup_error set when the platform cannot be called. */
struct cf_tcec *cf_tcec_state(struct cf_run *r);

/* The verdict of a check body, with s->note turned into the pass's note. Clears the note. */
enum cf_verdict cf_tcec_end(struct cf_run *r, struct cf_tcec *s, enum cf_verdict v);

/* "HH:MM:SS" (China Standard Time) of epoch seconds `at`, into out[9]. */
void cf_tcec_clock(int64_t at, char out[9]);

/* Adds a warning to the current check's note. */
void cf_tcec_add_note(struct cf_tcec *s, const char *text);
/* Frees stations.paging's pages. */
void cf_tcec_free_pages(struct cf_tcec *s);

/* A call to the platform with the AccessToken (c's interface and payload or body set by the
 * caller), made once more with a new token when the platform answers 4002, with a note; `what`
 * (may be NULL) describes a probe in its frame. Each call is recorded as two frames and counted
 * for crypto.answer-*. CF_PASS (whatever the answer: c says) or CF_ABORT. */
enum cf_verdict cf_tcec_call_authed(struct cf_run *r, struct cf_tcec *s, struct gw_tcec_call *c,
                                    const char *what);
/* CF_PASS when c came back readable with Ret 0; else its verdict: fail naming the call (`where`,
 * may be NULL: "page 2") and the problem, or skip when Data cannot be read (crypto.answer-encrypted
 * judges that). */
enum cf_verdict cf_tcec_answered(struct cf_run *r, const struct gw_tcec_call *c, const char *where);
/* The reason of a check skipped for want of an AccessToken. */
const char *cf_tcec_no_token(void);

/* The checks of conform_tcec_stations.c (bodies: the state is looked up by the caller). */
enum cf_verdict cf_tcec_paging(struct cf_run *r, struct cf_tcec *s);
enum cf_verdict cf_tcec_dictionary(struct cf_run *r, struct cf_tcec *s);
enum cf_verdict cf_tcec_registered(struct cf_run *r, struct cf_tcec *s);
enum cf_verdict cf_tcec_status(struct cf_run *r, struct cf_tcec *s);
enum cf_verdict cf_tcec_stats(struct cf_run *r, struct cf_tcec *s);

/* The checks of conform_tcec_in.c. */
enum cf_verdict cf_tcec_platform_obtains(struct cf_run *r);
enum cf_verdict cf_tcec_request_signed(struct cf_run *r);
enum cf_verdict cf_tcec_request_encrypted(struct cf_run *r);
enum cf_verdict cf_tcec_push_status(struct cf_run *r);
enum cf_verdict cf_tcec_push_info(struct cf_run *r);
enum cf_verdict cf_tcec_push_order(struct cf_run *r);
enum cf_verdict cf_tcec_platform_uses(struct cf_run *r);

#endif
