/* The frames.* checks of both OCPP plans: judgements over every frame of a run, fed as the run
 * takes them from its mailbox (cf_frames_feed) and given at the end of the plan. Only the first
 * problem of each kind is kept (the report names it), and how many there were. */
#include "gateway/conform_private.h"
#include "common/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CALLs remembered per connection for the uniqueness check, and CALLs of evgate awaiting an
 * answer. */
#define CF_IDS_MAX 4096
#define CF_OUT_MAX 256

struct id_entry {
    char *id;
    char *action;
};

struct out_call {
    char *id;
    char *action;
    int64_t at_ms;
};

struct cf_frames {
    uint64_t frames_in;
    /* schema */
    uint64_t invalid;
    char first_invalid[512];
    /* unique ids, this connection's */
    struct id_entry *ids;
    size_t nids;
    uint64_t reused;
    char first_reused[256];
    /* one CALL outstanding: the pile's unanswered CALL */
    char *pile_out_id, *pile_out_action;
    uint64_t overlaps;
    char first_overlap[256];
    /* answers in time: evgate's CALLs */
    struct out_call out[CF_OUT_MAX];
    size_t nout;
    uint64_t calls, late;
    char first_late[256];
};

struct cf_frames *cf_frames_new(void)
{
    return calloc(1, sizeof(struct cf_frames));
}

static void clear_ids(struct cf_frames *f)
{
    for (size_t i = 0; i < f->nids; i++) {
        free(f->ids[i].id);
        free(f->ids[i].action);
    }
    f->nids = 0;
    free(f->pile_out_id);
    free(f->pile_out_action);
    f->pile_out_id = f->pile_out_action = NULL;
}

static void drop_out(struct cf_frames *f, size_t i)
{
    free(f->out[i].id);
    free(f->out[i].action);
    f->out[i] = f->out[--f->nout];
}

void cf_frames_free(struct cf_frames *f)
{
    if (!f)
        return;
    clear_ids(f);
    free(f->ids);
    while (f->nout)
        drop_out(f, 0);
    free(f);
}

void cf_frames_conn(struct cf_frames *f, int conn)
{
    (void)conn;
    clear_ids(f); /* ids need only be unique on one connection */
}

/* snprintf without the truncation warning: a first problem's text is cut as it must be. */
static void note(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

static void feed_in(struct cf_run *r, struct cf_frames *f, const char *text, size_t len,
                    const struct ocpp_frame *p, const struct ocpp_error *err, int64_t at_ms)
{
    f->frames_in++;
    if (!p) {
        if (f->invalid++ == 0)
            note(f->first_invalid, sizeof f->first_invalid, "frame %.80s%s: %s", text,
                 len > 80 ? "..." : "", err->reason);
        return;
    }
    if (p->type == OCPP_CALL) {
        struct ocpp_error e = {0};
        if (ocpp_validate(r->version, p->action, OCPP_REQUEST, p->payload, &e) != 0 &&
            f->invalid++ == 0)
            note(f->first_invalid, sizeof f->first_invalid, "%s request (id %s): %s%s%s", p->action,
                 p->id, e.path, e.path[0] ? ": " : "", e.reason);
        for (size_t i = 0; i < f->nids; i++) {
            if (strcmp(f->ids[i].id, p->id) == 0) {
                if (f->reused++ == 0)
                    note(f->first_reused, sizeof f->first_reused,
                         "id %s used by %s and again by %s", p->id, f->ids[i].action, p->action);
                break;
            }
        }
        if (!f->ids)
            f->ids = calloc(CF_IDS_MAX, sizeof *f->ids);
        if (f->ids && f->nids < CF_IDS_MAX) {
            f->ids[f->nids].id = strdup(p->id);
            f->ids[f->nids].action = strdup(p->action);
            f->nids++;
        }
        if (f->pile_out_id) {
            if (f->overlaps++ == 0)
                note(f->first_overlap, sizeof f->first_overlap,
                     "%s (id %s) sent while %s (id %s) was unanswered", p->action, p->id,
                     f->pile_out_action, f->pile_out_id);
        } else {
            f->pile_out_id = strdup(p->id);
            f->pile_out_action = strdup(p->action);
        }
        return;
    }
    /* an answer to one of evgate's CALLs */
    for (size_t i = 0; i < f->nout; i++) {
        if (strcmp(f->out[i].id, p->id) != 0)
            continue;
        int64_t took = at_ms - f->out[i].at_ms;
        if (took > r->cfg->ocpp_call_timeout_s * 1000 && f->late++ == 0)
            note(f->first_late, sizeof f->first_late, "%s (id %s) answered after %lld ms",
                 f->out[i].action, p->id, (long long)took);
        if (p->type == OCPP_CALLRESULT && ocpp_action_known(r->version, f->out[i].action)) {
            struct ocpp_error e = {0};
            if (ocpp_validate(r->version, f->out[i].action, OCPP_RESPONSE, p->payload, &e) != 0 &&
                f->invalid++ == 0)
                note(f->first_invalid, sizeof f->first_invalid, "%s response (id %s): %s%s%s",
                     f->out[i].action, p->id, e.path, e.path[0] ? ": " : "", e.reason);
        }
        drop_out(f, i);
        return;
    }
}

static void feed_out(struct cf_frames *f, const struct ocpp_frame *p, int64_t at_ms)
{
    if (!p)
        return;
    if (p->type == OCPP_CALL) {
        f->calls++;
        if (f->nout >= CF_OUT_MAX)
            drop_out(f, 0);
        f->out[f->nout].id = strdup(p->id);
        f->out[f->nout].action = strdup(p->action);
        f->out[f->nout].at_ms = at_ms;
        f->nout++;
        return;
    }
    /* the central system answered the pile's CALL */
    if (f->pile_out_id && strcmp(f->pile_out_id, p->id) == 0) {
        free(f->pile_out_id);
        free(f->pile_out_action);
        f->pile_out_id = f->pile_out_action = NULL;
    }
}

void cf_frames_feed(struct cf_run *r, bool in, const char *text, size_t len,
                    const struct ocpp_frame *parsed, const struct ocpp_error *err, int64_t at_ms)
{
    struct cf_frames *f = r->fr;
    if (!f)
        return;
    if (in)
        feed_in(r, f, text, len, parsed, err, at_ms);
    else
        feed_out(f, parsed, at_ms);
}

/* --- the judgements ----------------------------------------------------------------------------
 */

/* Whether every frame of the run was seen; an error verdict when not. */
static bool complete(struct cf_run *r, enum cf_verdict *v)
{
    pthread_mutex_lock(&r->mb->mu);
    uint64_t dropped = r->mb->dropped;
    pthread_mutex_unlock(&r->mb->mu);
    if (dropped == 0)
        return true;
    *v = cf_error(r,
                  "%llu frames of the run were not seen (the pile sent faster than the engine "
                  "could take them)",
                  (unsigned long long)dropped);
    return false;
}

enum cf_verdict cf_frames_schema_valid(struct cf_run *r)
{
    enum cf_verdict v;
    if (!complete(r, &v))
        return v;
    struct cf_frames *f = r->fr;
    if (!f || f->frames_in == 0)
        return cf_fail(r, "the pile sent nothing during the run");
    if (f->invalid)
        return cf_fail(r, "%llu invalid frame(s); the first: %s", (unsigned long long)f->invalid,
                       f->first_invalid);
    return cf_pass_note(r, "%llu frames from the pile, all valid",
                        (unsigned long long)f->frames_in);
}

enum cf_verdict cf_frames_unique_ids(struct cf_run *r)
{
    enum cf_verdict v;
    if (!complete(r, &v))
        return v;
    struct cf_frames *f = r->fr;
    if (f && f->reused)
        return cf_fail(r, "%llu reused message id(s); the first: %s", (unsigned long long)f->reused,
                       f->first_reused);
    return CF_PASS;
}

enum cf_verdict cf_frames_one_call_outstanding(struct cf_run *r)
{
    enum cf_verdict v;
    if (!complete(r, &v))
        return v;
    struct cf_frames *f = r->fr;
    if (f && f->overlaps)
        return cf_fail(r, "%llu overlapping CALL(s); the first: %s",
                       (unsigned long long)f->overlaps, f->first_overlap);
    return CF_PASS;
}

enum cf_verdict cf_frames_answers_in_time(struct cf_run *r)
{
    enum cf_verdict v;
    if (!complete(r, &v))
        return v;
    struct cf_frames *f = r->fr;
    if (!f)
        return CF_PASS;
    if (f->late)
        return cf_fail(r, "%llu late answer(s) (more than %lld s); the first: %s",
                       (unsigned long long)f->late, (long long)r->cfg->ocpp_call_timeout_s,
                       f->first_late);
    if (f->nout) {
        char list[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < f->nout && used < sizeof list - 1; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s (id %s)", i ? ", " : "",
                                     f->out[i].action, f->out[i].id);
        return cf_fail(r, "%zu CALL(s) of evgate never answered: %s", f->nout, list);
    }
    return cf_pass_note(r, "%llu CALLs of evgate, all answered in time",
                        (unsigned long long)f->calls);
}
