/* Unit tests of the gateway's batched database writer (gateway/writer.c) and of the last
 * contacts written through it (gateway/ocpp_seen.c), on a temporary database, with the test
 * thread standing in for the lws thread: it waits on a condition variable that the writer's
 * wake-up hook signals, then runs the completions. No sleeps. */
#include "gateway/ocpp_seen.h"
#include "gateway/writer.h"
#include "db/audit.h"
#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <cmocka.h>

/* Longest wait for a completion before the test fails instead of hanging. */
#define WAIT_LIMIT_S 60

struct fixture {
    char dir[64];
    char path[128];
    struct db *db; /* the test's own connection: migrations and checks */
    /* wake-up from the writer */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int woken;
    /* completions */
    int done_count;
    int done_failed;
};

static void wake(void *arg)
{
    struct fixture *f = arg;
    pthread_mutex_lock(&f->mu);
    f->woken = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Plays the lws thread: sleeps until woken, then runs completions, until `want` have run. */
static void wait_done(struct fixture *f, struct gw_writer *w, int want)
{
    while (f->done_count < want) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WAIT_LIMIT_S;
        pthread_mutex_lock(&f->mu);
        int rc = 0;
        while (!f->woken && rc == 0)
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
        f->woken = 0;
        pthread_mutex_unlock(&f->mu);
        if (rc != 0)
            fail_msg("no wake-up within %d s (%d of %d completions)", WAIT_LIMIT_S, f->done_count,
                     want);
        gw_writer_run_done(w);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/evgate-writer-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->db = db_open(f->path, 5000, "NORMAL", err, sizeof err);
    if (!f->db || db_migrate(f->db, -1, err, sizeof err) != DB_OK) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    char p[192];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return 0;
}

static struct gw_writer *make_writer_wal(struct fixture *f, int batch_ms, size_t batch_max,
                                         size_t queue_max, int wal_start, int wal_limit,
                                         int wal_pass)
{
    struct gw_writer_opts o = {
        .wal_start_frames = wal_start,
        .wal_limit_frames = wal_limit,
        .wal_pass_frames = wal_pass,
        .db_path = f->path,
        .busy_ms = 5000,
        .synchronous = "NORMAL",
        .batch_ms = batch_ms,
        .batch_max = batch_max,
        .queue_max = queue_max,
        .wake = wake,
        .wake_arg = f,
    };
    char err[256] = "";
    struct gw_writer *w = gw_writer_create(&o, err, sizeof err);
    if (!w)
        fail_msg("gw_writer_create: %s", err);
    return w;
}

static struct gw_writer *make_writer(struct fixture *f, int batch_ms, size_t batch_max,
                                     size_t queue_max)
{
    return make_writer_wal(f, batch_ms, batch_max, queue_max, 0, 0, 0);
}

/* One job: an audit row identified by (action, id); `fail` makes it misbehave. */
enum fail_mode { OK = 0, FAIL_AFTER_WRITE, FAIL_CONSTRAINT };

struct job {
    struct fixture *f;
    const char *action;
    int64_t id;
    enum fail_mode fail;
    int rc;
    int done;
};

static int audit_job(struct db *db, void *arg)
{
    struct job *j = arg;
    if (j->fail == FAIL_CONSTRAINT) /* action is NOT NULL: a real failure from SQLite */
        return db_audit_add(db, 0, NULL, "test", j->id, NULL);
    int rc = db_audit_add(db, 0, j->action, "test", j->id, NULL);
    if (rc == DB_OK && j->fail == FAIL_AFTER_WRITE)
        return -EIO; /* wrote its row, then failed: the row must not survive */
    return rc;
}

static void audit_done(void *arg, int rc)
{
    struct job *j = arg;
    j->rc = rc;
    j->done++;
    j->f->done_count++;
    if (rc != 0)
        j->f->done_failed++;
}

static int64_t rows_for(struct fixture *f, int64_t id)
{
    json_t *a = db_audit_for_object(f->db, "test", id);
    assert_non_null(a);
    int64_t n = (int64_t)json_array_size(a);
    json_decref(a);
    return n;
}

#define MANY 10000

static void test_many_jobs_batched(void **state)
{
    struct fixture *f = *state;
    struct gw_writer *w = make_writer(f, 5, 2000, 2 * MANY);
    struct job *jobs = calloc(MANY, sizeof *jobs);
    for (int i = 0; i < MANY; i++) {
        jobs[i] = (struct job){.f = f, .action = "test.many", .id = i};
        assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &jobs[i]), 0);
    }
    wait_done(f, w, MANY);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(jobs[i].done, 1);
        assert_int_equal(jobs[i].rc, 0);
    }
    struct gw_writer_stats st;
    gw_writer_stats(w, &st);
    assert_int_equal(st.jobs_total, MANY);
    assert_int_equal(st.jobs_failed_total, 0);
    assert_true(st.commits_total >= 1);
    assert_true(st.commits_total < MANY); /* batching happened */
    assert_int_equal(st.queue_depth, 0);
    assert_int_equal(st.inflight, 0);
    assert_true(st.db_ok);
    uint64_t observed = 0;
    for (size_t b = 0; b <= GW_WRITER_COMMIT_BUCKETS; b++)
        observed += st.commit_buckets[b];
    assert_int_equal(observed, st.commits_total);

    int64_t count = -1;
    assert_int_equal(db_audit_count(f->db, "test.many", &count), DB_OK);
    assert_int_equal(count, MANY);
    gw_writer_free(w);
    free(jobs);
}

/* Commits `n` jobs one after the other (each its own transaction), ids from `first`. */
static void commit_one_by_one(struct fixture *f, struct gw_writer *w, struct job *jobs, int first,
                              int n)
{
    for (int i = first; i < first + n; i++) {
        jobs[i] = (struct job){.f = f, .action = "test.wal", .id = i};
        assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &jobs[i]), 0);
        wait_done(f, w, i + 1);
        assert_int_equal(jobs[i].rc, 0);
    }
}

#define WAL_JOBS     1000
#define WAL_START    20
#define WAL_LIMIT    80
#define WAL_JOBS_MAX 200000

static bool ckpt_worked(const struct gw_writer_stats *st, uint64_t restarts_before)
{
    return st->ckpt.passes_total >= 1 && st->ckpt.finishes_total >= 1 &&
           st->ckpt.restarts_total >= restarts_before + 2;
}

static bool restarted(const struct gw_writer_stats *st, uint64_t restarts_before)
{
    return st->ckpt.restarts_total > restarts_before;
}

/* Commits one job at a time from *n on until `done` holds of the writer's counters, bounded by
 * WAIT_LIMIT_S and WAL_JOBS_MAX (the checkpointer's syncs take what this machine's disk takes:
 * a count of commits fixed in advance raced them). */
static void commit_until(struct fixture *f, struct gw_writer *w, struct job *jobs, int *n,
                         bool (*done)(const struct gw_writer_stats *, uint64_t), uint64_t arg,
                         struct gw_writer_stats *st)
{
    time_t until = time(NULL) + WAIT_LIMIT_S;
    gw_writer_stats(w, st);
    while (!done(st, arg) && *n < WAL_JOBS_MAX && time(NULL) < until) {
        commit_one_by_one(f, w, jobs, *n, 1);
        (*n)++;
        gw_writer_stats(w, st);
    }
}

/* The writer's connection no longer checkpoints by itself at SQLite's 1 000 pages: the
 * checkpointer copies the WAL in the background and the writer the rest, and the WAL starts
 * over again and again; a reader holding an old snapshot holds the WAL back without errors,
 * and once it is gone the WAL starts over again. */
static void test_wal_checkpointed_beside_the_writer(void **state)
{
    struct fixture *f = *state;
    struct gw_writer *w = make_writer_wal(f, 0, 10, 100, WAL_START, WAL_LIMIT, 0);
    struct job *jobs = calloc(WAL_JOBS_MAX, sizeof *jobs);
    struct gw_writer_stats st;
    int n = 0;

    commit_until(f, w, jobs, &n, ckpt_worked, 0, &st);
    assert_true(ckpt_worked(&st, 0));
    assert_int_equal(st.ckpt.failures_total, 0);
    /* the writer lengthened the WAL file ahead of the WAL (db_wal_reserve) */
    char wal[sizeof f->path + 8];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(st.ckpt.reserved_frames > WAL_LIMIT);
    assert_true(sb.st_size >= 32 + st.ckpt.reserved_frames * (4096 + 24));

    /* a reader's snapshot: the WAL cannot start over beneath it (once at most: a snapshot taken
     * when the WAL was copied whole reads the database file alone, and keeps checkpoints from
     * writing to it instead); every commit adds a page or more */
    sqlite3 *r = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &r, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(r, "BEGIN; SELECT count(*) FROM audit_log;", NULL, NULL, NULL),
                     SQLITE_OK);
    uint64_t restarts = st.ckpt.restarts_total;
    commit_one_by_one(f, w, jobs, n, WAL_JOBS);
    n += WAL_JOBS;
    gw_writer_stats(w, &st);
    assert_true(st.ckpt.restarts_total <= restarts + 1);
    assert_true(st.ckpt.wal_frames > WAL_LIMIT);
    assert_int_equal(st.ckpt.failures_total, 0);

    /* gone: the next pass (after its back-off of GW_CKPT_RETRY_MS) copies it all */
    assert_int_equal(sqlite3_exec(r, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(r);
    restarts = st.ckpt.restarts_total;
    commit_until(f, w, jobs, &n, restarted, restarts, &st);
    assert_true(st.ckpt.restarts_total > restarts);
    assert_true(st.ckpt.wal_frames < WAL_START); /* only what came after the restart */
    assert_int_equal(st.ckpt.failures_total, 0);

    int64_t count = -1;
    assert_int_equal(db_audit_count(f->db, "test.wal", &count), DB_OK);
    assert_int_equal(count, n);
    gw_writer_free(w);
    assert_int_equal(db_integrity_check(f->db), DB_OK);
    free(jobs);
}

/* Below start_frames a pass runs once every pass_frames new pages, so that none copies a whole
 * start_frames at once, and the writer never copies a rest itself there. start_frames is out of
 * reach here: every pass counted is one of those (without them none runs, and the loop ends at
 * its bounds). */
#define WAL_CHUNK_START 1000000
#define WAL_CHUNK_PASS  100

static bool chunked(const struct gw_writer_stats *st, uint64_t unused)
{
    (void)unused;
    return st->ckpt.passes_total >= 3;
}

static void test_wal_passes_in_chunks(void **state)
{
    struct fixture *f = *state;
    struct gw_writer *w =
        make_writer_wal(f, 0, 10, 100, WAL_CHUNK_START, WAL_CHUNK_START, WAL_CHUNK_PASS);
    struct job *jobs = calloc(WAL_JOBS_MAX, sizeof *jobs);
    struct gw_writer_stats st;
    int n = 0;
    commit_until(f, w, jobs, &n, chunked, 0, &st);
    assert_true(chunked(&st, 0));
    assert_true(st.ckpt.wal_frames < WAL_CHUNK_START / 4); /* nor was the WAL file lengthened */
    assert_int_equal(st.ckpt.reserved_frames, 0);
    assert_int_equal(st.ckpt.finishes_total, 0);
    assert_int_equal(st.ckpt.failures_total, 0);
    gw_writer_free(w);
    int64_t count = -1;
    assert_int_equal(db_audit_count(f->db, "test.wal", &count), DB_OK);
    assert_int_equal(count, n);
    free(jobs);
}

/* A job that holds the writer (inside its transaction) until the test releases it. */
struct gate {
    struct fixture *f;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, open;
};

static int gate_job(struct db *db, void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

static void gate_done(void *arg, int rc)
{
    struct gate *g = arg;
    g->f->done_count++;
    if (rc != 0)
        g->f->done_failed++;
}

static void gate_init(struct gate *g, struct fixture *f)
{
    memset(g, 0, sizeof *g);
    g->f = f;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
}

static void gate_wait_entered(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_destroy(struct gate *g)
{
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

static void test_full_queue_refuses(void **state)
{
    struct fixture *f = *state;
    enum { QMAX = 4 };
    struct gw_writer *w = make_writer(f, 0, 1, QMAX);
    struct gate g;
    gate_init(&g, f);
    assert_int_equal(gw_writer_submit(w, gate_job, gate_done, &g), 0);
    gate_wait_entered(&g); /* the writer is stuck inside the first job */

    struct job jobs[QMAX];
    for (int i = 0; i < QMAX - 1; i++) { /* the held job counts as in flight */
        jobs[i] = (struct job){.f = f, .action = "test.full", .id = 100 + i};
        assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &jobs[i]), 0);
    }
    struct job refused = {.f = f, .action = "test.full", .id = 999};
    assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &refused), -EAGAIN);
    assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &refused), -EAGAIN);

    struct gw_writer_stats st;
    gw_writer_stats(w, &st);
    assert_int_equal(st.refused_total, 2);
    assert_int_equal(st.inflight, QMAX);

    gate_open(&g);
    wait_done(f, w, QMAX);
    assert_int_equal(f->done_failed, 0);
    assert_int_equal(refused.done, 0); /* a refused job never completes */

    /* Room again once completions have run. */
    assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &refused), 0);
    wait_done(f, w, QMAX + 1);
    assert_int_equal(refused.rc, 0);

    int64_t count = -1;
    assert_int_equal(db_audit_count(f->db, "test.full", &count), DB_OK);
    assert_int_equal(count, QMAX);
    gw_writer_free(w);
    gate_destroy(&g);
}

#define NEIGH 100

static void test_failing_job_keeps_neighbours(void **state)
{
    struct fixture *f = *state;
    /* The writer is held inside a first job while the others queue up; with no gathering
     * window it then takes everything waiting: all NEIGH jobs form the next batch. */
    struct gw_writer *w = make_writer(f, 0, 1000, 1000);
    struct gate g;
    gate_init(&g, f);
    assert_int_equal(gw_writer_submit(w, gate_job, gate_done, &g), 0);
    gate_wait_entered(&g);

    struct job jobs[NEIGH];
    int bad = 0;
    for (int i = 0; i < NEIGH; i++) {
        enum fail_mode m = OK;
        if (i == 0 || i % 10 == 3) /* the first, and every tenth: both kinds of failure */
            m = i % 20 == 3 ? FAIL_CONSTRAINT : FAIL_AFTER_WRITE;
        if (i == NEIGH - 1 || i == NEIGH - 2) /* two failures in a row at the end */
            m = FAIL_AFTER_WRITE;
        bad += m != OK;
        jobs[i] = (struct job){.f = f, .action = "test.neigh", .id = 1000 + i, .fail = m};
        assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &jobs[i]), 0);
    }
    struct gw_writer_stats before;
    gw_writer_stats(w, &before);
    gate_open(&g);
    wait_done(f, w, NEIGH + 1);

    struct gw_writer_stats st;
    gw_writer_stats(w, &st);
    assert_int_equal(st.jobs_failed_total, bad);
    assert_int_equal(f->done_failed, bad);
    /* One batch: the gate's commit, then at most 2 * failures + 1 transactions. */
    assert_true(st.commits_total - before.commits_total <= (uint64_t)bad + 2);
    assert_int_equal(st.rollbacks_total, bad);
    for (int i = 0; i < NEIGH; i++) {
        assert_int_equal(jobs[i].done, 1);
        if (jobs[i].fail == OK) {
            assert_int_equal(jobs[i].rc, 0);
            assert_int_equal(rows_for(f, jobs[i].id), 1);
        } else {
            assert_int_not_equal(jobs[i].rc, 0);
            assert_int_equal(rows_for(f, jobs[i].id), 0);
        }
    }
    assert_int_equal(jobs[0].rc, -EIO);
    assert_int_equal(jobs[3].rc, DB_CONFLICT);
    int64_t count = -1;
    assert_int_equal(db_audit_count(f->db, "test.neigh", &count), DB_OK);
    assert_int_equal(count, NEIGH - bad);
    gw_writer_free(w);
    gate_destroy(&g);
}

static void test_stop_drains_queue(void **state)
{
    struct fixture *f = *state;
    /* A gathering window far longer than the test: only the stop makes the writer commit. */
    struct gw_writer *w = make_writer(f, 1000, 100000, 100000);
    enum { N = 500 };
    struct job *jobs = calloc(N, sizeof *jobs);
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct job){.f = f, .action = "test.drain", .id = 5000 + i};
        assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &jobs[i]), 0);
    }
    gw_writer_stop(w);
    assert_int_equal(gw_writer_submit(w, audit_job, audit_done, &jobs[0]), -ESHUTDOWN);
    gw_writer_free(w); /* runs the remaining completions here */
    assert_int_equal(f->done_count, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(jobs[i].rc, 0);
    int64_t count = -1;
    assert_int_equal(db_audit_count(f->db, "test.drain", &count), DB_OK);
    assert_int_equal(count, N);
    free(jobs);
}

/* A pile's ocpp_contacts.last_seen_at and protocol through a connection of the test's own (-1 and
 * "" when there is no row). */
static int64_t seen_of(struct fixture *f, const char *id, char *protocol, size_t protocol_len)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT last_seen_at, protocol FROM ocpp_contacts"
                                        " WHERE equipment_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int64_t at = -1;
    protocol[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        at = sqlite3_column_int64(st, 0);
        snprintf(protocol, protocol_len, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return at;
}

static void test_last_contacts_gathered(void **state)
{
    struct fixture *f = *state;
    struct gw_writer *w = make_writer(f, 0, 100, 100);
    struct gw_seen *s = gw_seen_new(3);
    assert_non_null(s);
    assert_int_equal(gw_seen_flush(s, w), 0); /* nothing noted: no job */
    assert_int_equal(gw_seen_note(s, "CP-A", "ocpp1.6", 1000), 0);
    assert_int_equal(gw_seen_note(s, "CP-B", "ocpp2.0.1", 1001), 0);
    assert_int_equal(gw_seen_note(s, "CP-A", "ocpp1.6", 1005), 0);
    assert_int_equal(gw_seen_note(s, "CP-C", "ocpp1.6", 1006), -ENOSPC); /* at most 3 */
    assert_int_equal(gw_seen_flush(s, w), 3);
    /* the next gathering starts empty; an older contact than the one stored does not win */
    assert_int_equal(gw_seen_note(s, "CP-A", "ocpp1.6", 1003), 0);
    assert_int_equal(gw_seen_note(s, "CP-C", "ocpp1.6", 1007), 0);
    assert_int_equal(gw_seen_flush(s, w), 2);
    gw_writer_free(w); /* commits both jobs and runs their completions */

    char protocol[16];
    assert_int_equal(seen_of(f, "CP-A", protocol, sizeof protocol), 1005);
    assert_string_equal(protocol, "ocpp1.6");
    assert_int_equal(seen_of(f, "CP-B", protocol, sizeof protocol), 1001);
    assert_string_equal(protocol, "ocpp2.0.1");
    assert_int_equal(seen_of(f, "CP-C", protocol, sizeof protocol), 1007);

    /* no writer: what was noted is dropped and counted */
    assert_int_equal(gw_seen_note(s, "CP-D", "ocpp1.6", 1010), 0);
    assert_int_equal(gw_seen_flush(s, NULL), -ESHUTDOWN);
    struct gw_seen_stats st;
    gw_seen_stats(s, &st);
    assert_int_equal(st.noted, 7);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.flushes, 2);
    assert_int_equal(seen_of(f, "CP-D", protocol, sizeof protocol), -1);
    gw_seen_free(s);

    /* a gathering that outgrows its first allocation keeps every contact */
    w = make_writer(f, 0, 100, 100);
    s = gw_seen_new(200);
    assert_non_null(s);
    char id[16];
    for (int i = 0; i < 150; i++) {
        snprintf(id, sizeof id, "CP-G%03d", i);
        assert_int_equal(gw_seen_note(s, id, "ocpp1.6", 2000 + i), 0);
    }
    assert_int_equal(gw_seen_flush(s, w), 150);
    gw_writer_free(w);
    for (int i = 0; i < 150; i += 37) {
        snprintf(id, sizeof id, "CP-G%03d", i);
        assert_int_equal(seen_of(f, id, protocol, sizeof protocol), 2000 + i);
    }
    assert_int_equal(seen_of(f, "CP-G149", protocol, sizeof protocol), 2149);
    gw_seen_free(s);
}

static void test_bad_database_path(void **state)
{
    (void)state;
    struct gw_writer_opts o = {
        .db_path = "/proc/evgate-no-such-dir/t.db",
        .busy_ms = 100,
        .synchronous = "NORMAL",
        .batch_max = 1,
        .queue_max = 1,
    };
    char err[256] = "";
    assert_null(gw_writer_create(&o, err, sizeof err));
    assert_true(err[0] != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_jobs_batched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_job_keeps_neighbours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_drains_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_checkpointed_beside_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_passes_in_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_contacts_gathered, setup, teardown),
        cmocka_unit_test(test_bad_database_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
