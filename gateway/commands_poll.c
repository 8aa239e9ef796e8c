/* The command poller: queued pile_commands rows to the lws thread. See commands_poll.h. */
#include "gateway/commands_poll.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/commands.h"
#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gw_cmd_poller {
    struct db *db; /* the thread's own connection */
    long poll_ms;
    void (*wake)(void *);
    void *wake_arg;
    pthread_t thread;
    bool started;
    int64_t last_id; /* the thread's only */

    pthread_mutex_t lock; /* guards the inbox and `stopping` */
    pthread_cond_t cond;  /* CLOCK_MONOTONIC */
    bool stopping;
    struct gw_cmd_row *head, *tail;
    size_t len;
};

void gw_cmd_row_free(struct gw_cmd_row *r)
{
    if (!r)
        return;
    free(r->payload);
    free(r);
}

struct batch {
    struct gw_cmd_row *head, *tail;
    size_t n;
    int64_t last_id;
};

static int take_row(void *arg, int64_t id, const char *equipment_id, const char *action,
                    const char *payload)
{
    struct batch *b = arg;
    struct gw_cmd_row *r = calloc(1, sizeof *r);
    if (!r || !(r->payload = strdup(payload))) {
        free(r);
        return -ENOMEM; /* the rest is read again next time */
    }
    r->id = id;
    snprintf(r->equipment_id, sizeof r->equipment_id, "%s", equipment_id);
    snprintf(r->action, sizeof r->action, "%s", action);
    if (b->tail)
        b->tail->next = r;
    else
        b->head = r;
    b->tail = r;
    b->n++;
    b->last_id = id;
    return 0;
}

/* One poll; called without the lock. */
static void poll_once(struct gw_cmd_poller *p)
{
    struct batch b = {.last_id = p->last_id};
    int rc = db_commands_queued(p->db, p->last_id, GW_CMD_POLL_BATCH, take_row, &b);
    if (rc != DB_OK && rc != -ENOMEM)
        log_warn("gateway", "commands_poll_failed", "rc=%d", rc);
    if (!b.head)
        return;
    p->last_id = b.last_id;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = b.head;
    else
        p->head = b.head;
    p->tail = b.tail;
    p->len += b.n;
    pthread_mutex_unlock(&p->lock);
    log_debug("gateway", "commands_polled", "rows=%zu last_id=%lld", b.n, (long long)b.last_id);
    p->wake(p->wake_arg);
}

static void *run(void *arg)
{
    struct gw_cmd_poller *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        if (p->len < GW_CMD_INBOX_MAX) {
            pthread_mutex_unlock(&p->lock);
            poll_once(p);
            pthread_mutex_lock(&p->lock);
        }
        struct timespec due = thread_deadline_ms(p->poll_ms);
        while (!p->stopping && pthread_cond_timedwait(&p->cond, &p->lock, &due) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct gw_cmd_poller *gw_cmd_poller_start(const struct evg_config *cfg, const char *restart_error,
                                          void (*wake)(void *), void *wake_arg, char *err,
                                          size_t errlen)
{
    struct gw_cmd_poller *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->poll_ms = cfg->ocpp_command_poll_ms > 0 ? (long)cfg->ocpp_command_poll_ms : 200;
    p->wake = wake;
    p->wake_arg = wake_arg;
    thread_cond_init_monotonic(&p->cond);
    pthread_mutex_init(&p->lock, NULL);

    p->db = db_open(cfg->db, (int)cfg->sqlite_busy_ms, cfg->sqlite_synchronous, err, errlen);
    if (!p->db)
        goto fail;
    int64_t failed = 0;
    int rc = db_begin(p->db);
    if (rc == DB_OK)
        rc = db_commands_fail_unfinished(p->db, db_now(), restart_error, &failed);
    if (rc == DB_OK)
        rc = db_commands_max_id(p->db, &p->last_id);
    if (rc == DB_OK)
        rc = db_commit(p->db);
    else
        db_rollback(p->db);
    if (rc != DB_OK) {
        snprintf(err, errlen, "cannot read or update pile_commands (rc=%d)", rc);
        goto fail;
    }
    if (failed)
        log_info("gateway", "commands_failed_at_start", "commands=%lld error=%s", (long long)failed,
                 log_q(restart_error));

    rc = thread_start_quiet(&p->thread, run, p);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the command poller: %s", strerror(rc));
        goto fail;
    }
    p->started = true;
    log_info("gateway", "commands_polling", "poll_ms=%ld after_id=%lld", p->poll_ms,
             (long long)p->last_id);
    return p;
fail:
    gw_cmd_poller_stop(p);
    return NULL;
}

struct gw_cmd_row *gw_cmd_poller_take(struct gw_cmd_poller *p)
{
    pthread_mutex_lock(&p->lock);
    struct gw_cmd_row *r = p->head;
    p->head = p->tail = NULL;
    p->len = 0;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void gw_cmd_poller_join(struct gw_cmd_poller *p)
{
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        p->started = false;
    }
    for (struct gw_cmd_row *r = gw_cmd_poller_take(p), *next; r; r = next) {
        next = r->next;
        gw_cmd_row_free(r);
    }
}

void gw_cmd_poller_stop(struct gw_cmd_poller *p)
{
    if (!p)
        return;
    gw_cmd_poller_join(p);
    db_close(p->db);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
