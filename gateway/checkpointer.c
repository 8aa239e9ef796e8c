/* The writer's WAL checkpointer: a background thread for the long copy, the writer for the rest.
 * See checkpointer.h. */
#include "gateway/checkpointer.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/db.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* After a pass that a reader kept from copying everything, the next waits this long. */
#define GW_CKPT_RETRY_MS 100
/* The WAL file is kept at least GW_CKPT_AHEAD frames longer than the WAL, in steps of about as
 * many (8 MiB of zeros with 4 KiB pages, a few ms of the writer's time), once the WAL has a
 * quarter of start_frames: a shorter WAL (a test's, an idle city's) grows the file as SQLite
 * does. Since the WAL starts over from its beginning, the file stops growing after the first
 * cycles of a load, at about limit_frames at most. */
#define GW_CKPT_AHEAD 2048

struct gw_ckpt {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the thread waits here for a pass to run or for stop */
    pthread_t thread;
    bool started, stopping;
    struct db *db;        /* the thread's own connection */
    struct db *writer_db; /* the writer's, used on the writer's thread only */
    int start_frames, finish_frames, limit_frames, pass_frames;
    int reserved; /* the writer's only: the WAL file's length in frames, as last seen */

    /* Guarded by mu. */
    bool running;       /* a pass is asked for or under way */
    bool pass_finished; /* a pass ended since the writer last looked */
    int pass_copied;    /* how far it copied: the WAL's frames up to there are in the database
                         * (0 again once the WAL started over) */
    bool pass_whole;    /* it copied the whole WAL as it was when it began */
    struct timespec retry_at;
    struct gw_ckpt_stats st;
};

static void *ckpt_main(void *p)
{
    struct gw_ckpt *c = p;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->running && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stopping)
            break;
        pthread_mutex_unlock(&c->mu);
        int wal = 0, copied = 0;
        int rc = db_checkpoint(c->db, &wal, &copied);
        /* SQLite syncs the database file only when a checkpoint reaches the WAL's end: that
         * would be the writer's copy of the rest, which would then wait for every page of
         * this pass to reach the disk. */
        if (rc == DB_OK && copied > 0 && db_sync_file(c->db) != DB_OK)
            rc = DB_ERROR;
        pthread_mutex_lock(&c->mu);
        c->running = false;
        c->st.passes_total++;
        if (rc == DB_ERROR)
            c->st.failures_total++;
        /* short of the WAL's end and no further than the last pass: a reader's old snapshot,
         * another checkpoint or an error; not again at once (the writer's own read mark of the
         * transaction it just committed can hold a pass back a little, and is gone by the next) */
        bool stuck = rc != DB_OK || (copied < wal && copied == c->pass_copied);
        c->pass_finished = rc == DB_OK;
        c->pass_copied = copied;
        c->pass_whole = rc == DB_OK && copied >= wal;
        if (stuck)
            c->retry_at = thread_deadline_ms(GW_CKPT_RETRY_MS);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

struct gw_ckpt *gw_ckpt_start(const struct gw_ckpt_opts *opts, char *err, size_t errlen)
{
    if (!opts->writer_db || !opts->db_path || opts->start_frames < 1 || opts->finish_frames < 0 ||
        opts->limit_frames < opts->start_frames || opts->pass_frames < 0) {
        snprintf(err, errlen, "checkpointer: bad options");
        return NULL;
    }
    struct gw_ckpt *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->writer_db = opts->writer_db;
    c->start_frames = opts->start_frames;
    c->finish_frames = opts->finish_frames;
    c->limit_frames = opts->limit_frames;
    c->pass_frames = opts->pass_frames;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->db = db_open(opts->db_path, opts->busy_ms, opts->synchronous, err, errlen);
    if (!c->db)
        goto fail;
    int rc = thread_start_quiet(&c->thread, ckpt_main, c);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the checkpointer thread: %s", strerror(rc));
        goto fail;
    }
    c->started = true;
    db_wal_manual(c->writer_db);
    return c;
fail:
    gw_ckpt_free(c);
    return NULL;
}

/* The writer copies the rest of the WAL; the next write transaction can then start it over. */
static void finish_on_writer(struct gw_ckpt *c)
{
    struct timespec t0 = thread_now();
    int wal = 0, copied = 0;
    int rc = db_checkpoint(c->writer_db, &wal, &copied);
    double s = thread_seconds_since(t0);
    pthread_mutex_lock(&c->mu);
    c->st.finishes_total++;
    c->st.finish_seconds_sum += s;
    if (rc == DB_ERROR)
        c->st.failures_total++;
    if (rc != DB_OK || copied < wal)
        c->retry_at = thread_deadline_ms(GW_CKPT_RETRY_MS);
    pthread_mutex_unlock(&c->mu);
}

/* On the writer's thread, between batches: lengthens the WAL file ahead of the WAL, under the
 * write lock (db_wal_reserve). Commits then append without extending the file: on ext4 a write
 * that extends a file waits for an fdatasync of it under way, and every pass begins with one of
 * the WAL (SQLite's), 100 ms and more under load, during which the writer's batches stood. */
static void reserve_on_writer(struct gw_ckpt *c, int frames)
{
    if (frames < c->start_frames / 4 || frames + GW_CKPT_AHEAD <= c->reserved ||
        c->reserved >= c->limit_frames + 2 * GW_CKPT_AHEAD)
        return;
    if (db_begin(c->writer_db) != DB_OK)
        return; /* busy: after the next batch */
    int have = 0, rc = db_wal_reserve(c->writer_db, frames + 2 * GW_CKPT_AHEAD, &have);
    if (db_commit(c->writer_db) != DB_OK) {
        db_rollback(c->writer_db);
        rc = DB_ERROR;
    }
    pthread_mutex_lock(&c->mu);
    if (rc == DB_OK) {
        c->reserved = have;
        c->st.reserved_frames = have;
    } else {
        c->reserved = c->limit_frames + 2 * GW_CKPT_AHEAD; /* not again (logged) */
    }
    pthread_mutex_unlock(&c->mu);
}

void gw_ckpt_after_batch(struct gw_ckpt *c)
{
    int frames = db_wal_frames(c->writer_db);
    reserve_on_writer(c, frames);
    pthread_mutex_lock(&c->mu);
    if (frames < c->st.wal_frames) {
        c->st.restarts_total++;
        c->pass_copied = 0;
    }
    c->st.wal_frames = frames;
    if (c->running || c->stopping) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    if (c->pass_finished) {
        c->pass_finished = false;
        int rest = frames - c->pass_copied; /* appended while the pass ran */
        if (c->pass_whole && rest > 0 && frames >= c->start_frames &&
            (rest <= c->finish_frames || frames >= c->limit_frames)) {
            pthread_mutex_unlock(&c->mu);
            finish_on_writer(c);
            return;
        }
    }
    bool due = frames >= c->start_frames ||
               (c->pass_frames > 0 && frames - c->pass_copied >= c->pass_frames);
    if (due && !thread_before(thread_now(), c->retry_at)) {
        c->running = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

void gw_ckpt_stats(struct gw_ckpt *c, struct gw_ckpt_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}

void gw_ckpt_free(struct gw_ckpt *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stopping = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    db_close(c->db);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
