/* The conformance engine's check API (conform_run.h), on a run's own thread: the mailbox's
 * events turned into the run's view of its pile (frames, CALLs, connections, answers), waits,
 * verdicts and the check's frames. */
#include "gateway/conform_private.h"
#include "common/config.h"
#include "common/thread.h"
#include "db/db.h"
#include "db/runs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cf_run_id(const struct cf_run *r)
{
    return r->id;
}
const char *cf_target(const struct cf_run *r)
{
    return r->target;
}
int64_t cf_detection_id(const struct cf_run *r)
{
    return r->detection_id;
}
const struct evg_config *cf_config(const struct cf_run *r)
{
    return r->cfg;
}
struct db *cf_db(struct cf_run *r)
{
    return r->db;
}
int64_t cf_queued_at(const struct cf_run *r)
{
    return r->queued_at;
}
int64_t cf_started_at(const struct cf_run *r)
{
    return r->started_at;
}
const struct plan_check *cf_check(const struct cf_run *r)
{
    return r->check;
}
int cf_seq(const struct cf_run *r)
{
    return r->seq;
}
int64_t cf_deadline_ms(const struct cf_run *r)
{
    return r->deadline_ms;
}
int cf_connectors(const struct cf_run *r)
{
    return r->connectors;
}
bool cf_connected(const struct cf_run *r)
{
    return r->connected;
}
int cf_conn(const struct cf_run *r)
{
    return r->conn;
}

int64_t cf_within_ms(const struct cf_run *r, int64_t ms)
{
    int64_t t = thread_now_ms() + ms;
    return t < r->deadline_ms ? t : r->deadline_ms;
}

/* --- verdicts ------------------------------------------------------------------------------- */

static void vreason(struct cf_run *r, const char *fmt, va_list ap)
{
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    for (char *p = r->reason; *p; p++) /* one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

#define VERDICT_FN(name, verdict)                                                                  \
    enum cf_verdict name(struct cf_run *r, const char *fmt, ...)                                   \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vreason(r, fmt, ap);                                                                       \
        va_end(ap);                                                                                \
        return verdict;                                                                            \
    }
VERDICT_FN(cf_fail, CF_FAIL)
VERDICT_FN(cf_skip, CF_SKIPPED)
VERDICT_FN(cf_error, CF_ERROR)
VERDICT_FN(cf_pass_note, CF_PASS)
#undef VERDICT_FN

static const char *need_text(unsigned needs)
{
    if (needs & PLAN_NEED_CARD)
        return "present an RFID card at the pile";
    if (needs & PLAN_NEED_CABLE)
        return "plug a charging cable in";
    return "a person at the pile or platform";
}

enum cf_verdict cf_fail_stop(struct cf_run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(r, fmt, ap);
    va_end(ap);
    r->halt = true;
    return CF_FAIL;
}

enum cf_verdict cf_missing(struct cf_run *r, const char *fmt, ...)
{
    int confirmed = 0;
    if (r->check && r->check->needs != PLAN_NEED_NONE &&
        (db_run_check_confirmed(r->db, r->id, r->seq, &confirmed) != DB_OK || !confirmed))
        return cf_skip(r, "needs a person: %s (nothing came in time and nobody confirmed the step)",
                       need_text(r->check->needs));
    va_list ap;
    va_start(ap, fmt);
    vreason(r, fmt, ap);
    va_end(ap);
    return CF_FAIL;
}

void cf_state_cleanup(struct cf_run *r, void (*fn)(void *state))
{
    r->state_fn = fn;
}

bool cf_passed(const struct cf_run *r, const char *id)
{
    for (size_t i = 0; i < r->npassed; i++)
        if (r->passed[i] && strcmp(r->passed[i], id) == 0)
            return true;
    return false;
}

void *cf_state(struct cf_run *r, size_t size)
{
    if (!r->state) {
        r->state = calloc(1, size ? size : 1);
        r->state_size = size;
    }
    return r->state;
}

/* --- frames ------------------------------------------------------------------------------------
 */

static void frame_at(struct cf_run *r, const char *dir, const char *text, size_t len, int64_t at_ms)
{
    if (!r->check)
        return;
    if (!r->frames)
        r->frames = json_array();
    if (!r->frames || r->nframes >= CF_CHECK_FRAMES_MAX)
        return;
    /* beyond what the database keeps only the count matters */
    json_t *t = r->nframes < DB_RUN_FRAMES_MAX ? json_stringn_nocheck(text, len) : json_string("");
    json_t *f = json_pack("{s:s, s:I, s:o}", "dir", dir, "ms",
                          (json_int_t)(at_ms > r->check_start_ms ? at_ms - r->check_start_ms : 0),
                          "text", t ? t : json_string(""));
    if (f && json_array_append_new(r->frames, f) == 0)
        r->nframes++;
}

void cf_frame(struct cf_run *r, const char *dir, const char *text, size_t len)
{
    frame_at(r, dir, text, len, thread_now_ms());
}

char *cf_take_frames(struct cf_run *r)
{
    char *text = r->frames ? json_dumps(r->frames, JSON_COMPACT) : NULL;
    json_decref(r->frames);
    r->frames = NULL;
    r->nframes = 0;
    return text;
}

/* --- the mailbox --------------------------------------------------------------------------- */

static void msg_clear(struct cf_msg_slot *s)
{
    json_decref(s->reply);
    free((char *)s->m.action);
    free((char *)s->m.unique_id);
    json_decref(s->m.payload);
    memset(s, 0, sizeof *s);
}

static void keep_call(struct cf_run *r, const struct ocpp_frame *f, int64_t at_ms)
{
    bool first = r->conn_first_pending;
    r->conn_first_pending = false;
    if (!r->msgs)
        r->msgs = calloc(CF_RUN_MSGS_MAX, sizeof *r->msgs);
    if (!r->msgs || r->nmsgs >= CF_RUN_MSGS_MAX) {
        r->msgs_dropped++;
        return;
    }
    struct cf_msg_slot *s = &r->msgs[r->nmsgs++];
    s->m.action = strdup(f->action);
    s->m.unique_id = strdup(f->id);
    s->m.payload = json_incref(f->payload);
    s->m.at_ms = at_ms;
    s->m.conn = r->conn;
    s->m.first_on_conn = first;
}

/* The gateway's answer to one of the pile's CALLs on the current connection: the newest
 * unanswered one with its id. */
static void keep_reply(struct cf_run *r, const struct ocpp_frame *f)
{
    for (size_t i = r->nmsgs; i-- > 0;) {
        struct cf_msg_slot *s = &r->msgs[i];
        if (s->m.conn != r->conn)
            return;
        if (s->replied || strcmp(s->m.unique_id, f->id) != 0)
            continue;
        s->replied = true;
        s->reply = f->type == OCPP_CALLRESULT ? json_incref(f->payload) : NULL;
        return;
    }
}

static void clear_answer(struct cf_run *r)
{
    json_decref(r->answer.payload);
    free(r->answer_state);
    free(r->answer_error);
    free(r->answer_response);
    free(r->answer_detail);
    free(r->answer_uid);
    free(r->answer_code);
    free(r->answer_desc);
    r->answer_state = r->answer_error = r->answer_response = r->answer_detail = NULL;
    r->answer_uid = r->answer_code = r->answer_desc = NULL;
    memset(&r->answer, 0, sizeof r->answer);
    r->answered = false;
}

static void take_event(struct cf_run *r, struct cf_event *e)
{
    switch (e->kind) {
    case CF_EV_OPEN:
        r->heard = true;
        r->connected = true;
        r->conn++;
        r->conn_first_pending = true;
        if (r->fr)
            cf_frames_conn(r->fr, r->conn);
        break;
    case CF_EV_CLOSE:
        r->heard = true;
        r->connected = false;
        break;
    case CF_EV_IN:
    case CF_EV_OUT: {
        bool in = e->kind == CF_EV_IN;
        frame_at(r, in ? "in" : "out", e->text, e->len, e->at_ms);
        struct ocpp_frame f = {0};
        struct ocpp_error err = {0};
        int ok = ocpp_frame_parse(r->version, e->text, e->len, &f, &err) == 0;
        if (!r->fr)
            r->fr = cf_frames_new();
        cf_frames_feed(r, in, e->text, e->len, ok ? &f : NULL, &err, e->at_ms);
        if (ok && in && f.type == OCPP_CALL)
            keep_call(r, &f, e->at_ms);
        else if (ok && !in && (f.type == OCPP_CALLRESULT || f.type == OCPP_CALLERROR))
            keep_reply(r, &f);
        ocpp_frame_clear(&f);
        break;
    }
    case CF_EV_ANSWER:
        if (e->token != r->call_token || r->answered)
            break;
        clear_answer(r);
        r->answered = true;
        r->answer_state = e->state;
        r->answer_error = e->error;
        r->answer_response = e->response;
        r->answer_detail = e->detail;
        r->answer_uid = e->unique_id;
        e->state = e->error = e->response = e->detail = e->unique_id = NULL;
        break;
    }
}

bool cf_aborted(struct cf_run *r)
{
    if (r->stopping || r->cancelled)
        return true;
    pthread_mutex_lock(&r->mb->mu);
    bool stop = r->mb->stop;
    pthread_mutex_unlock(&r->mb->mu);
    if (stop) {
        r->stopping = true;
        return true;
    }
    int64_t now = thread_now_ms();
    if (now - r->cancel_checked_ms >= CF_CANCEL_POLL_MS) {
        r->cancel_checked_ms = now;
        int req = 0;
        if (db_run_cancel_requested(r->db, r->id, &req) == DB_OK && req)
            r->cancelled = true;
    }
    return r->cancelled;
}

bool cf_pump(struct cf_run *r, int64_t deadline_ms)
{
    for (;;) {
        if (cf_aborted(r))
            return false;
        pthread_mutex_lock(&r->mb->mu);
        struct cf_event *list = r->mb->head;
        r->mb->head = r->mb->tail = NULL;
        r->mb->n = 0;
        int64_t now = thread_now_ms();
        if (!list && now < deadline_ms && !r->mb->stop) {
            int64_t wait = deadline_ms - now;
            if (wait > CF_CANCEL_POLL_MS)
                wait = CF_CANCEL_POLL_MS;
            struct timespec until = thread_deadline_ms(wait);
            pthread_cond_timedwait(&r->mb->cv, &r->mb->mu, &until);
            list = r->mb->head;
            r->mb->head = r->mb->tail = NULL;
            r->mb->n = 0;
        }
        pthread_mutex_unlock(&r->mb->mu);
        if (list) {
            for (struct cf_event *e = list, *next; e; e = next) {
                next = e->next;
                take_event(r, e);
                cf_event_free(e);
            }
            return !cf_aborted(r);
        }
        if (thread_now_ms() >= deadline_ms)
            return !cf_aborted(r);
    }
}

enum cf_verdict cf_sleep_until(struct cf_run *r, int64_t deadline_ms)
{
    while (thread_now_ms() < deadline_ms)
        if (!cf_pump(r, deadline_ms))
            return CF_ABORT;
    return cf_aborted(r) ? CF_ABORT : CF_PASS;
}

/* --- a pile: calls and messages -------------------------------------------------------------- */

enum cf_verdict cf_call(struct cf_run *r, const char *action, json_t *payload, struct cf_answer *a)
{
    clear_answer(r);
    memset(a, 0, sizeof *a);
    struct cf_req *q = calloc(1, sizeof *q);
    char *text = json_dumps(payload ? payload : json_object(), JSON_COMPACT);
    if (!q || !text) {
        free(q);
        free(text);
        a->kind = CF_FAILED;
        a->detail = "out of memory";
        return CF_PASS;
    }
    q->kind = CF_REQ_CALL;
    snprintf(q->equipment_id, sizeof q->equipment_id, "%s", r->target);
    snprintf(q->action, sizeof q->action, "%s", action);
    q->payload = text;
    q->token = ++r->call_token;
    pthread_mutex_lock(&r->mb->mu);
    r->mb->refs++;
    pthread_mutex_unlock(&r->mb->mu);
    q->mb = r->mb;
    cf_request(r->cf, q);
    /* the commands layer always answers (its own timeout); this bound is only a safety net */
    int64_t until = thread_now_ms() + (r->cfg->ocpp_call_timeout_s + 10) * 1000;
    while (!r->answered && thread_now_ms() < until)
        if (!cf_pump(r, until))
            return CF_ABORT;
    if (!r->answered) {
        a->kind = CF_TIMEOUT;
        a->detail = "the gateway did not report the call's end";
        return CF_PASS;
    }
    a->unique_id = r->answer_uid;
    a->detail = r->answer_detail;
    if (strcmp(r->answer_state, "answered") == 0) {
        a->kind = CF_RESULT;
        a->payload = r->answer_response ? json_loads(r->answer_response, 0, NULL) : NULL;
        if (!a->payload)
            a->payload = json_object();
        r->answer.payload = a->payload; /* freed with the next call */
    } else if (strcmp(r->answer_state, "error") == 0) {
        a->kind = CF_CALLERR;
        json_t *e = r->answer_response ? json_loads(r->answer_response, 0, NULL) : NULL;
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *desc = json_string_value(json_object_get(e, "description"));
        r->answer_code = strdup(code ? code : "");
        r->answer_desc = strdup(desc ? desc : "");
        json_decref(e);
        a->code = r->answer_code;
        a->description = r->answer_desc;
    } else if (strcmp(r->answer_state, "timeout") == 0) {
        a->kind = CF_TIMEOUT;
    } else {
        a->kind = CF_FAILED;
    }
    return CF_PASS;
}

const char *cf_answer_text(struct cf_run *r, const struct cf_answer *a)
{
    switch (a->kind) {
    case CF_RESULT: {
        char *t = a->payload ? json_dumps(a->payload, JSON_COMPACT) : NULL;
        snprintf(r->answer_text, sizeof r->answer_text, "answered %s", t ? t : "{}");
        free(t);
        break;
    }
    case CF_CALLERR:
        snprintf(r->answer_text, sizeof r->answer_text, "CALLERROR %s%s%s", a->code ? a->code : "",
                 a->description && *a->description ? ": " : "",
                 a->description ? a->description : "");
        break;
    case CF_TIMEOUT:
        snprintf(r->answer_text, sizeof r->answer_text, "no answer within %lld s",
                 (long long)r->cfg->ocpp_call_timeout_s);
        break;
    case CF_FAILED:
        snprintf(r->answer_text, sizeof r->answer_text, "the call was not delivered: %s",
                 a->detail ? a->detail : "the connection ended");
        break;
    }
    return r->answer_text;
}

enum cf_verdict cf_expect(struct cf_run *r, const char *action,
                          bool (*pred)(const struct cf_msg *m, void *arg), void *arg,
                          int64_t deadline_ms, struct cf_msg *m)
{
    size_t from = r->window;
    for (;;) {
        for (size_t i = from; i < r->nmsgs; i++) {
            struct cf_msg_slot *s = &r->msgs[i];
            if (s->taken || (action && strcmp(s->m.action, action) != 0) ||
                (pred && !pred(&s->m, arg)))
                continue;
            s->taken = true;
            *m = s->m;
            return CF_PASS;
        }
        if (thread_now_ms() >= deadline_ms)
            return CF_FAIL;
        if (!cf_pump(r, deadline_ms))
            return CF_ABORT;
    }
}

static struct cf_msg_slot *slot_of(struct cf_run *r, const struct cf_msg *m)
{
    for (size_t i = r->nmsgs; i-- > 0;) {
        struct cf_msg_slot *s = &r->msgs[i];
        if (s->m.conn == m->conn && strcmp(s->m.unique_id, m->unique_id) == 0 &&
            s->m.at_ms == m->at_ms)
            return s;
    }
    return NULL;
}

enum cf_verdict cf_reply(struct cf_run *r, const struct cf_msg *m, int64_t deadline_ms,
                         json_t **payload)
{
    *payload = NULL;
    struct cf_msg_slot *s = slot_of(r, m);
    if (!s)
        return CF_FAIL;
    while (!s->replied) {
        if (thread_now_ms() >= deadline_ms)
            return CF_FAIL;
        if (!cf_pump(r, deadline_ms))
            return CF_ABORT;
        s = slot_of(r, m); /* the slots do not move, but stay safe */
        if (!s)
            return CF_FAIL;
    }
    *payload = s->reply;
    return s->reply ? CF_PASS : CF_FAIL;
}

enum cf_verdict cf_expect_close(struct cf_run *r, int64_t deadline_ms)
{
    int conn = r->conn;
    while (r->connected && r->conn == conn) {
        if (thread_now_ms() >= deadline_ms)
            return CF_FAIL;
        if (!cf_pump(r, deadline_ms))
            return CF_ABORT;
    }
    return CF_PASS;
}

const struct cf_msg *cf_messages(struct cf_run *r, size_t *n)
{
    size_t k = r->nmsgs > r->window ? r->nmsgs - r->window : 0;
    if (k > r->view_cap) {
        struct cf_msg *v = realloc(r->view, k * sizeof *v);
        if (!v) {
            *n = 0;
            return NULL;
        }
        r->view = v;
        r->view_cap = k;
    }
    for (size_t i = 0; i < k; i++)
        r->view[i] = r->msgs[r->window + i].m;
    *n = k;
    return r->view;
}

void cf_run_clear(struct cf_run *r)
{
    clear_answer(r);
    json_decref(r->frames);
    r->frames = NULL;
    if (r->msgs) {
        for (size_t i = 0; i < r->nmsgs; i++)
            msg_clear(&r->msgs[i]);
        free(r->msgs);
        r->msgs = NULL;
    }
    if (r->passed) {
        for (size_t i = 0; i < r->npassed; i++)
            free(r->passed[i]);
        free(r->passed);
        r->passed = NULL;
    }
    cf_frames_free(r->fr);
    r->fr = NULL;
    free(r->view);
    r->view = NULL;
    if (r->state && r->state_fn)
        r->state_fn(r->state);
    free(r->state);
    r->state = NULL;
}
