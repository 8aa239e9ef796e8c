/* The gateway's batched database writer: one thread, one connection, group commits.
 *
 * The lws thread never writes to SQLite itself. It submits jobs; the writer thread gathers them
 * for up to `batch_ms` (or `batch_max` jobs), runs them inside one BEGIN IMMEDIATE ... COMMIT
 * and only after the commit hands the completions back, so an answer to a peer is sent only
 * once its data is durable. Completions run on whichever thread calls gw_writer_run_done() —
 * in the gateway, the lws thread, woken through the `wake` hook (lws_cancel_service()).
 *
 * A failing job does not fail its neighbours: the transaction is rolled back, the failing job
 * is reported with its own code, the jobs before it run again and commit in one transaction, and
 * the jobs after it continue as a batch. At most 2 * failures + 1 transactions per batch, where
 * going one by one would cost a commit per job.
 *
 * The writer's connection does not checkpoint the WAL inside its commits: checkpointer.h copies
 * it beside them. */
#ifndef EVGATE_GW_WRITER_H
#define EVGATE_GW_WRITER_H

#include "gateway/checkpointer.h"

#include <stddef.h>
#include <stdint.h>

struct db;
struct gw_writer;

/* A job: runs on the writer thread inside an open transaction on the writer's connection.
 * Returns 0 on success or a negative code (enum db_rc or -errno); any nonzero value rolls the
 * job back. It talks to the database only through db_* functions, must not begin, commit or
 * roll back itself, and must be repeatable: after a neighbour fails it may run again (its first
 * run having been rolled back), so it writes its results into `arg` afresh on every run. */
typedef int (*gw_job_fn)(struct db *db, void *arg);

/* A completion: `rc` is 0 when the job's changes are committed, else the job's own nonzero
 * code, or the DB_* code of a BEGIN or COMMIT that failed. Runs exactly once per accepted job,
 * on the thread calling gw_writer_run_done(); it may submit new jobs. */
typedef void (*gw_done_fn)(void *arg, int rc);

/* Called on the writer thread (or inside gw_writer_run_done()) when completions are waiting
 * and nobody has been told yet. Must be async-safe towards the thread it wakes: in the gateway
 * it is lws_cancel_service(). */
typedef void (*gw_wake_fn)(void *wake_arg);

struct gw_writer_opts {
    const char *db_path;     /* opened by the writer: its own connection */
    int busy_ms;             /* SQLite busy timeout */
    const char *synchronous; /* "NORMAL" or "FULL" */
    int batch_ms;            /* how long to gather a batch after its first job; 0 = no wait */
    size_t batch_max;        /* most jobs in one transaction (>= 1) */
    size_t queue_max;        /* most jobs accepted and not yet completed (>= 1) */
    int64_t cache_kib;       /* the connection's page cache (0 = SQLite's default) */
    int64_t mmap_bytes;      /* its memory map for reads (0 = none) */
    int wal_start_frames;    /* checkpointer.h's start_frames (0 = 20 000) */
    int wal_limit_frames;    /* ... limit_frames (0 = 80 000) */
    int wal_pass_frames;     /* ... and pass_frames (0 = 4 000) */
    gw_wake_fn wake;         /* may be NULL: then the caller polls gw_writer_run_done() */
    void *wake_arg;
};

/* Histogram of commit durations: upper bounds in seconds; the +Inf bucket is implied. */
#define GW_WRITER_COMMIT_BUCKETS 12
extern const double gw_writer_commit_le[GW_WRITER_COMMIT_BUCKETS];

struct gw_writer_stats {
    uint64_t jobs_total;        /* jobs finished (committed or failed) */
    uint64_t jobs_failed_total; /* of those, failed */
    uint64_t commits_total;     /* transactions committed */
    uint64_t rollbacks_total;   /* transactions rolled back (a job or the commit failed) */
    uint64_t refused_total;     /* submits refused with -EAGAIN */
    size_t queue_depth;         /* jobs waiting for a batch */
    size_t inflight;            /* jobs accepted whose completion has not run yet */
    size_t queue_max;
    int db_ok;          /* the last commit or idle ping succeeded */
    double db_ok_age_s; /* seconds since the last successful commit or ping */
    /* BEGIN-to-COMMIT time of committed transactions: count per bucket (not cumulative), the
     * last entry counting those above every bound; their sum in seconds. */
    uint64_t commit_buckets[GW_WRITER_COMMIT_BUCKETS + 1];
    double commit_seconds_sum;
    struct gw_ckpt_stats ckpt; /* the WAL's checkpoints (checkpointer.h) */
};

/* Opens the writer's own connection to opts->db_path (the schema must already be migrated)
 * and starts its thread, with every signal blocked so that signals reach the main thread.
 * Returns the writer, or NULL with a message in `err`. Caller frees with gw_writer_free(). */
struct gw_writer *gw_writer_create(const struct gw_writer_opts *opts, char *err, size_t errlen);

/* Queues a job. Thread-safe and never blocks on the database. `fn` must not be NULL; `done`
 * may be. `arg` is borrowed until `done` runs (the writer never frees it).
 * Returns 0 when accepted (then `done` will run exactly once), -EAGAIN when queue_max jobs are
 * already in flight, -ESHUTDOWN after gw_writer_stop(), -ENOMEM; on error nothing was queued
 * and `done` will not run. */
int gw_writer_submit(struct gw_writer *w, gw_job_fn fn, gw_done_fn done, void *arg);

/* Runs waiting completions on the calling thread, in submission order within a batch, at most
 * a budget of them per call; when more remain it calls `wake` again so the caller returns to
 * its loop and comes back. Returns how many ran. The gateway calls it from
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED. Call it from one thread only. */
size_t gw_writer_run_done(struct gw_writer *w);

/* Refuses new jobs, lets the thread run and commit every queued job, and joins it. Their
 * completions stay queued for gw_writer_run_done() / gw_writer_free(). Idempotent; not to be
 * called from a job or completion. */
void gw_writer_stop(struct gw_writer *w);

/* Stops the writer (see gw_writer_stop), runs every remaining completion on the calling thread,
 * closes the connection and frees `w`. NULL is a no-op. */
void gw_writer_free(struct gw_writer *w);

/* Copies the counters into *out (a short lock; cheap enough for every /metrics request). */
void gw_writer_stats(struct gw_writer *w, struct gw_writer_stats *out);

#endif
