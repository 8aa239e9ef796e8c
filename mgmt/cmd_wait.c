/* The waiter thread of remote operations; see cmd_wait.h. Polling the shared SQLite file is the
 * only way to hear from the gateway (db/commands.h says why), so one thread does it for all
 * waiting requests at once instead of each request polling on a worker thread. */
#include "mgmt/cmd_wait.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/commands.h"
#include "db/records.h"
#include "mgmt/records_api.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct waiter {
    int64_t id; /* 0 = free entry */
    int64_t deadline_ms;
    struct MHD_Connection *conn;
    struct cmd_wait_result *out;
};

struct cmd_wait {
    const struct evg_config *cfg;
    struct db *db; /* the waiter thread's own connection */
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* an entry was added, or stop */
    pthread_cond_t idle; /* a slot was freed */
    int stopping;
    int slots;    /* reserved + waiting + resumed but not yet answered */
    int reserved; /* reserved, not yet added or released: a handler is about to add it */
    int active;   /* entries with an id */
    struct waiter w[CMD_WAIT_MAX];
};

struct finished {
    int64_t ids[CMD_WAIT_MAX];
    int n;
};

static int on_finished(void *arg, int64_t id)
{
    struct finished *f = arg;
    if (f->n < CMD_WAIT_MAX)
        f->ids[f->n++] = id;
    return 0;
}

static int is_finished(const struct finished *f, int64_t id)
{
    for (int i = 0; i < f->n; i++)
        if (f->ids[i] == id)
            return 1;
    return 0;
}

/* Reads the final object of command `id` into *out, first giving up on a row no gateway took. */
static void conclude(struct cmd_wait *w, int64_t id, int finished, struct cmd_wait_result *out)
{
    if (!finished) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "no gateway took the command within %llds: is evgate-gateway running?",
                 (long long)w->cfg->ocpp_call_timeout_s + CMD_WAIT_EXTRA_S);
        int rc = db_command_abandon(w->db, id, "not_picked_up", detail, db_now());
        if (rc == DB_OK)
            log_warn("mgmt", "command_not_picked_up", "command=%lld", (long long)id);
    }
    json_t *cmd = NULL;
    if (db_command_get(w->db, id, &cmd) != DB_OK) {
        out->status = 500;
        out->body = NULL;
        return;
    }
    const char *state = json_string_value(json_object_get(cmd, "state"));
    int done = state && strcmp(state, "queued") != 0 && strcmp(state, "sent") != 0;
    out->status = done ? 200 : 202;
    out->body = commands_view(cmd);
}

/* One round: which of the waited-for rows are finished, and which waits are over. */
static void poll_once(struct cmd_wait *w, int stopping)
{
    struct waiter snap[CMD_WAIT_MAX];
    int idx[CMD_WAIT_MAX], n = 0;
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < CMD_WAIT_MAX; i++)
        if (w->w[i].id) {
            snap[n] = w->w[i];
            idx[n++] = i;
        }
    pthread_mutex_unlock(&w->mu);
    if (n == 0)
        return;
    /* "[1,2,3]": at most 256 ids of 20 digits */
    char ids[CMD_WAIT_MAX * 22 + 2];
    size_t len = 0;
    ids[len++] = '[';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%lld", i ? "," : "",
                                (long long)snap[i].id);
    snprintf(ids + len, sizeof ids - len, "]");
    struct finished fin = {.n = 0};
    if (db_commands_finished_among(w->db, ids, on_finished, &fin) != DB_OK)
        log_warn("mgmt", "command_poll_failed", "waiting=%d", n);
    int64_t now = thread_now_ms();
    for (int i = 0; i < n; i++) {
        int finished = is_finished(&fin, snap[i].id);
        if (!finished && !stopping && now < snap[i].deadline_ms)
            continue;
        conclude(w, snap[i].id, finished, snap[i].out);
        pthread_mutex_lock(&w->mu);
        w->w[idx[i]].id = 0;
        w->active--;
        pthread_mutex_unlock(&w->mu);
        /* MHD takes the connection back on its own thread and calls the handler again */
        MHD_resume_connection(snap[i].conn);
    }
}

static void *run(void *arg)
{
    struct cmd_wait *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (!w->stopping) {
            if (w->active == 0) {
                pthread_cond_wait(&w->wake, &w->mu);
            } else {
                struct timespec until = thread_deadline_ms(CMD_WAIT_POLL_MS);
                pthread_cond_timedwait(&w->wake, &w->mu, &until);
            }
        }
        int stopping = w->stopping;
        pthread_mutex_unlock(&w->mu);
        poll_once(w, stopping);
        if (!stopping)
            continue;
        /* a handler that reserved before the stop is about to add its wait: stay for it */
        pthread_mutex_lock(&w->mu);
        int last = w->reserved == 0 && w->active == 0;
        if (!last) {
            struct timespec until = thread_deadline_ms(CMD_WAIT_POLL_MS);
            pthread_cond_timedwait(&w->wake, &w->mu, &until);
        }
        pthread_mutex_unlock(&w->mu);
        if (last)
            return NULL;
    }
}

struct cmd_wait *cmd_wait_start(const struct evg_config *cfg)
{
    struct cmd_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cfg = cfg;
    char err[512];
    w->db = db_open(cfg->db, (int)cfg->sqlite_busy_ms, cfg->sqlite_synchronous, err, sizeof err);
    if (!w->db) {
        log_error("mgmt", "db_open_failed", "error=%s", log_q(err));
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    thread_cond_init_monotonic(&w->wake);
    thread_cond_init_monotonic(&w->idle);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        log_error("mgmt", "thread_failed", "what=cmd_wait error=%s", log_q(strerror(errno)));
        cmd_wait_free(w);
        return NULL;
    }
    w->running = 1;
    return w;
}

int cmd_wait_reserve(struct cmd_wait *w)
{
    int ok = 0;
    pthread_mutex_lock(&w->mu);
    if (!w->stopping && w->slots < CMD_WAIT_MAX) {
        w->slots++;
        w->reserved++;
        ok = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return ok ? 0 : -1;
}

void cmd_wait_done(struct cmd_wait *w)
{
    pthread_mutex_lock(&w->mu);
    w->slots--;
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
}

void cmd_wait_release(struct cmd_wait *w)
{
    pthread_mutex_lock(&w->mu);
    w->reserved--;
    w->slots--;
    pthread_cond_broadcast(&w->idle);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

void cmd_wait_add(struct cmd_wait *w, struct MHD_Connection *conn, int64_t id,
                  struct cmd_wait_result *out)
{
    pthread_mutex_lock(&w->mu);
    int placed = 0;
    w->reserved--;
    /* a reserved slot guarantees a free entry (active <= slots <= CMD_WAIT_MAX), and the
     * thread runs until no reservation is left, stopping or not */
    for (int i = 0; i < CMD_WAIT_MAX; i++)
        if (!w->w[i].id) {
            w->w[i] = (struct waiter){
                .id = id,
                .deadline_ms =
                    thread_now_ms() + (w->cfg->ocpp_call_timeout_s + CMD_WAIT_EXTRA_S) * 1000,
                .conn = conn,
                .out = out,
            };
            w->active++;
            placed = 1;
            break;
        }
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    if (!placed) { /* never: answer rather than hang */
        out->status = 503;
        out->body = NULL;
        MHD_resume_connection(conn);
    }
}

void cmd_wait_stop(struct cmd_wait *w)
{
    if (!w || !w->running)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->running = 0;
    pthread_mutex_lock(&w->mu);
    struct timespec until = thread_deadline_ms(5000);
    while (w->slots > 0)
        if (pthread_cond_timedwait(&w->idle, &w->mu, &until) == ETIMEDOUT)
            break;
    if (w->slots > 0)
        log_warn("mgmt", "command_waits_unanswered", "count=%d", w->slots);
    pthread_mutex_unlock(&w->mu);
}

void cmd_wait_free(struct cmd_wait *w)
{
    if (!w)
        return;
    cmd_wait_stop(w);
    db_close(w->db);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
