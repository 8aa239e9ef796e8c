/* The batched database writer: a bounded job queue, one writer thread with its own connection,
 * group commits, and a done-queue handed back to the submitting thread. See writer.h. */
#include "gateway/writer.h"
#include "gateway/checkpointer.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* With nothing to write, check the connection this often so /healthz stays truthful. */
#define GW_WRITER_PING_MS 5000
/* Completions run per gw_writer_run_done() call before yielding back to the event loop. */
#define GW_WRITER_DONE_BUDGET 4096
/* First allocation of a queue ring; rings double up to queue_max. */
#define GW_WRITER_RING_MIN 256
/* The WAL's checkpoints (checkpointer.h), by default: a background pass every 4 000 new pages
 * (16 MiB), chasing the WAL's end once it has 20 000 (80 MiB); from there the writer copies a
 * rest of up to 64 pages between batches, and any rest once the WAL has 80 000 (320 MiB).
 * A start-over that the writer pays for costs it its copy of the rest (and the database sync
 * that comes with reaching the WAL's end, 3 to 30 ms on the EPYC machine of issue 8). 10 000
 * piles at half the maximum rate there (23 000 msg/s) write about 15 000 pages a second: with
 * the writer's copies from 4 000 pages on, the WAL started over four times a second and p99 was
 * 39, 38 and 32 ms; from 20 000, about once a second and 36, 24 and 25 ms, alternating (at
 * SQLite's own 1 000 pages it had been worse still). Passes of 4 000 below 20 000 instead of one
 * of 20 000: p99 lower in 8 of 10 pairs alternating with the gateway before, a median of 28 ms
 * against 48, for 2 µs more CPU a CALL at that rate (pages copied more than once) and none at
 * the maximum. */
#define GW_WRITER_CKPT_START  20000
#define GW_WRITER_CKPT_FINISH 64
#define GW_WRITER_CKPT_LIMIT  80000
#define GW_WRITER_CKPT_PASS   4000

const double gw_writer_commit_le[GW_WRITER_COMMIT_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
};

struct gw_job {
    gw_job_fn fn;
    gw_done_fn done;
    void *arg;
    int rc;
    bool finished; /* within a batch: outcome known */
};

/* A FIFO of jobs that grows by doubling; its length is bounded by the writer's inflight limit. */
struct ring {
    struct gw_job *v;
    size_t cap, head, len;
};

struct gw_writer {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* writer waits here for jobs or stop */
    struct ring pending;    /* submitted, not yet taken into a batch */
    struct ring done;       /* finished, completion not yet run */
    size_t inflight;        /* pending + in the current batch + done */
    size_t queue_max, batch_max;
    int batch_ms;
    bool stopping, joined, wake_pending;
    gw_wake_fn wake;
    void *wake_arg;
    pthread_t thread;

    /* Owned by the writer thread (the batch) or guarded by mu (the rest). */
    struct db *db;
    struct gw_ckpt *ckpt;
    struct gw_job *batch;
    struct gw_writer_stats st;
    int64_t last_ok_ms; /* monotonic */
};

static int ring_push(struct ring *r, const struct gw_job *j, size_t max)
{
    if (r->len == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : GW_WRITER_RING_MIN;
        if (ncap > max)
            ncap = max;
        if (ncap <= r->cap)
            return -ENOMEM; /* cannot happen while len <= inflight <= max */
        struct gw_job *v = malloc(ncap * sizeof *v);
        if (!v)
            return -ENOMEM;
        for (size_t i = 0; i < r->len; i++) /* unwrap into the new array */
            v[i] = r->v[(r->head + i) % r->cap];
        free(r->v);
        r->v = v;
        r->cap = ncap;
        r->head = 0;
    }
    r->v[(r->head + r->len) % r->cap] = *j;
    r->len++;
    return 0;
}

static struct gw_job ring_pop(struct ring *r)
{
    struct gw_job j = r->v[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    return j;
}

/* Caller holds mu. */
static void note_db_state(struct gw_writer *w, int ok)
{
    w->st.db_ok = ok;
    if (ok)
        w->last_ok_ms = thread_now_ms();
}

static void observe_commit(struct gw_writer_stats *st, double seconds)
{
    size_t b = 0;
    while (b < GW_WRITER_COMMIT_BUCKETS && seconds > gw_writer_commit_le[b])
        b++;
    st->commit_buckets[b]++;
    st->commit_seconds_sum += seconds;
    st->commits_total++;
}

static void finish(struct gw_job *j, int rc, struct gw_writer_stats *st)
{
    j->rc = rc;
    j->finished = true;
    st->jobs_total++;
    if (rc != 0)
        st->jobs_failed_total++;
}

/* Runs batch[0..n) on the writer thread; fills each job's rc and the counters in `st` (a local
 * delta, merged under the lock by the caller). Returns whether the database answered well. */
static bool run_batch(struct gw_writer *w, struct gw_job *b, size_t n, struct gw_writer_stats *st)
{
    bool db_ok = true;
    size_t lo = 0, hi = n; /* next transaction covers the unfinished jobs of [lo, hi) */
    while (lo < n) {
        if (b[lo].finished) {
            lo++;
            continue;
        }
        if (hi <= lo)
            hi = n;
        struct timespec t0 = thread_now();
        int rc = db_begin(w->db);
        if (rc != DB_OK) {
            log_error("gateway", "writer_begin_failed", "rc=%d jobs=%zu", rc, n - lo);
            for (size_t i = lo; i < n; i++)
                if (!b[i].finished)
                    finish(&b[i], rc, st);
            return false;
        }
        size_t failed = n;
        for (size_t i = lo; i < hi; i++) {
            if (b[i].finished)
                continue;
            rc = b[i].fn(w->db, b[i].arg);
            if (rc != 0) {
                failed = i;
                break;
            }
        }
        if (failed == n) {
            rc = db_commit(w->db);
            if (rc == DB_OK) {
                observe_commit(st, thread_seconds_since(t0));
            } else {
                db_rollback(w->db);
                st->rollbacks_total++;
                db_ok = false;
            }
            for (size_t i = lo; i < hi; i++)
                if (!b[i].finished)
                    finish(&b[i], rc, st);
            lo = hi;
            hi = n;
            continue;
        }
        /* One job failed: drop the whole transaction, report that job, then commit the jobs
         * before it again (they ran fine) and carry on after it. */
        db_rollback(w->db);
        st->rollbacks_total++;
        log_debug("gateway", "writer_job_failed", "rc=%d", rc);
        finish(&b[failed], rc, st);
        hi = failed;
    }
    return db_ok;
}

static void *writer_main(void *p)
{
    struct gw_writer *w = p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->pending.len == 0 && !w->stopping) {
            struct timespec until = thread_deadline_ms(GW_WRITER_PING_MS);
            if (pthread_cond_timedwait(&w->work_cv, &w->mu, &until) == ETIMEDOUT &&
                w->pending.len == 0 && !w->stopping &&
                thread_now_ms() - w->last_ok_ms >= GW_WRITER_PING_MS) {
                pthread_mutex_unlock(&w->mu);
                int ok = db_schema_version(w->db) >= 0;
                pthread_mutex_lock(&w->mu);
                note_db_state(w, ok);
            }
        }
        if (w->pending.len == 0)
            break; /* stopping and drained */

        /* Gather: give more jobs up to batch_ms to join this commit. */
        if (w->batch_ms > 0 && !w->stopping && w->pending.len < w->batch_max) {
            struct timespec until = thread_deadline_ms(w->batch_ms);
            while (w->pending.len < w->batch_max && !w->stopping)
                if (pthread_cond_timedwait(&w->work_cv, &w->mu, &until) == ETIMEDOUT)
                    break;
        }
        size_t n = w->pending.len < w->batch_max ? w->pending.len : w->batch_max;
        for (size_t i = 0; i < n; i++) {
            w->batch[i] = ring_pop(&w->pending);
            w->batch[i].finished = false;
        }
        pthread_mutex_unlock(&w->mu);

        struct gw_writer_stats d = {0};
        bool ok = run_batch(w, w->batch, n, &d);

        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; i < n; i++)
            if (ring_push(&w->done, &w->batch[i], w->queue_max) < 0) /* only out of memory */
                log_error("gateway", "writer_completion_lost", "rc=%d", w->batch[i].rc);
        w->st.jobs_total += d.jobs_total;
        w->st.jobs_failed_total += d.jobs_failed_total;
        w->st.commits_total += d.commits_total;
        w->st.rollbacks_total += d.rollbacks_total;
        for (size_t b = 0; b <= GW_WRITER_COMMIT_BUCKETS; b++)
            w->st.commit_buckets[b] += d.commit_buckets[b];
        w->st.commit_seconds_sum += d.commit_seconds_sum;
        note_db_state(w, ok);
        bool wake = !w->wake_pending && w->wake;
        w->wake_pending = true;
        if (wake) {
            pthread_mutex_unlock(&w->mu);
            w->wake(w->wake_arg);
            pthread_mutex_lock(&w->mu);
        }
        /* The answers are on their way; a checkpoint now delays only the next batch. */
        pthread_mutex_unlock(&w->mu);
        gw_ckpt_after_batch(w->ckpt);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct gw_writer *gw_writer_create(const struct gw_writer_opts *opts, char *err, size_t errlen)
{
    if (!opts->db_path || opts->batch_max < 1 || opts->queue_max < 1 || opts->batch_ms < 0) {
        snprintf(err, errlen, "writer: bad options");
        return NULL;
    }
    struct gw_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->queue_max = opts->queue_max;
    /* A batch never holds more than can be in flight. */
    w->batch_max = opts->batch_max < opts->queue_max ? opts->batch_max : opts->queue_max;
    w->batch_ms = opts->batch_ms;
    w->wake = opts->wake;
    w->wake_arg = opts->wake_arg;
    w->joined = true; /* until the thread exists */
    w->st.queue_max = w->queue_max;

    thread_cond_init_monotonic(&w->work_cv);
    pthread_mutex_init(&w->mu, NULL);

    w->batch = malloc(w->batch_max * sizeof *w->batch);
    if (!w->batch) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    w->db = db_open(opts->db_path, opts->busy_ms, opts->synchronous, err, errlen);
    if (!w->db)
        goto fail;
    /* A cache that holds the hot indexes and a map for the rest: with SQLite's 2 MiB default,
     * 10 000 piles sending made the writer read pages back with pread (8 % of its CPU). */
    if (opts->cache_kib > 0 || opts->mmap_bytes > 0)
        db_tune(w->db, opts->cache_kib > 0 ? opts->cache_kib : 2000, opts->mmap_bytes);
    struct gw_ckpt_opts co = {
        .writer_db = w->db,
        .db_path = opts->db_path,
        .busy_ms = opts->busy_ms,
        .synchronous = opts->synchronous,
        .start_frames = opts->wal_start_frames > 0 ? opts->wal_start_frames : GW_WRITER_CKPT_START,
        .finish_frames = GW_WRITER_CKPT_FINISH,
        .limit_frames = opts->wal_limit_frames > 0 ? opts->wal_limit_frames : GW_WRITER_CKPT_LIMIT,
        .pass_frames = opts->wal_pass_frames > 0 ? opts->wal_pass_frames : GW_WRITER_CKPT_PASS,
    };
    w->ckpt = gw_ckpt_start(&co, err, errlen);
    if (!w->ckpt)
        goto fail;
    note_db_state(w, 1);

    /* Signals belong to the main thread: the writer inherits a fully blocked mask. */
    int rc = thread_start_quiet(&w->thread, writer_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
        goto fail;
    }
    w->joined = false;
    return w;
fail:
    gw_writer_free(w);
    return NULL;
}

int gw_writer_submit(struct gw_writer *w, gw_job_fn fn, gw_done_fn done, void *arg)
{
    if (!fn)
        return -EINVAL;
    struct gw_job j = {.fn = fn, .done = done, .arg = arg};
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        rc = -ESHUTDOWN;
    } else if (w->inflight >= w->queue_max) {
        w->st.refused_total++;
        rc = -EAGAIN;
    } else if ((rc = ring_push(&w->pending, &j, w->queue_max)) == 0) {
        w->inflight++;
        /* Wake the writer when it may be idle (first job) or its batch is full; in between it
         * is gathering on a deadline and needs no wake-up per job. */
        if (w->pending.len == 1 || w->pending.len == w->batch_max)
            pthread_cond_signal(&w->work_cv);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

size_t gw_writer_run_done(struct gw_writer *w)
{
    struct gw_job chunk[64];
    size_t total = 0;
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&w->mu);
        if (total >= GW_WRITER_DONE_BUDGET && w->done.len > 0) {
            /* Leave the rest for the next wake-up so the event loop serves its sockets. */
            pthread_mutex_unlock(&w->mu);
            if (w->wake)
                w->wake(w->wake_arg);
            return total;
        }
        while (n < sizeof chunk / sizeof chunk[0] && w->done.len > 0)
            chunk[n++] = ring_pop(&w->done);
        if (n == 0)
            w->wake_pending = false; /* seen empty: the writer must wake us for the next */
        w->inflight -= n;
        pthread_mutex_unlock(&w->mu);
        if (n == 0)
            return total;
        for (size_t i = 0; i < n; i++)
            if (chunk[i].done)
                chunk[i].done(chunk[i].arg, chunk[i].rc);
        total += n;
    }
}

void gw_writer_stop(struct gw_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->work_cv);
    bool join = !w->joined;
    w->joined = true;
    pthread_mutex_unlock(&w->mu);
    if (join)
        pthread_join(w->thread, NULL);
}

void gw_writer_free(struct gw_writer *w)
{
    if (!w)
        return;
    gw_writer_stop(w);
    while (gw_writer_run_done(w) > 0)
        ;
    gw_ckpt_free(w->ckpt);
    db_close(w->db);
    free(w->pending.v);
    free(w->done.v);
    free(w->batch);
    pthread_cond_destroy(&w->work_cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void gw_writer_stats(struct gw_writer *w, struct gw_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    out->queue_depth = w->pending.len;
    out->inflight = w->inflight;
    out->db_ok_age_s = (double)(thread_now_ms() - w->last_ok_ms) / 1000.0;
    pthread_mutex_unlock(&w->mu);
    gw_ckpt_stats(w->ckpt, &out->ckpt); /* exists from gw_writer_create() on */
}
