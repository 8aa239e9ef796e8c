/* The WAL checkpointer of the gateway's database writer.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that finds the WAL past 1 000 pages: it
 * syncs the WAL, copies its pages into the database and syncs that, some 30 ms under load on
 * this project's machine, while every CALL of the batch and of the batches queued behind it
 * waits for its answer (issue 8: p99 of 100 ms and more at half the maximum rate). Here the
 * writer's connection checkpoints no more by itself (db_wal_manual()): a thread of this module
 * copies the WAL on a connection of its own, beside the writer's commits, once every
 * `pass_frames` new pages (one pass of a whole `start_frames`, 80 MiB at once, held up the
 * writer's and the loop's work for 100 ms and more), and from `start_frames` on it chases the
 * WAL's end. The WAL can only start over from its beginning when it has been copied whole at the
 * moment a write transaction begins: a pass that catches up lets it do so at no cost to the
 * writer; from `start_frames` on, the writer copies what it appended during a pass itself,
 * between two batches: up to `finish_frames` pages, or whatever is left once the WAL has
 * `limit_frames`; otherwise another pass runs first. The long copies and their syncs thus happen
 * off the writer's path, and the WAL stays below a little over `limit_frames` pages. Under load
 * the writer also keeps the WAL file a few thousand frames longer than the WAL, with zeros
 * (db_wal_reserve()), so that its commits do not extend the file while a pass syncs it: on ext4
 * they would wait for that sync.
 *
 * A reader that still needs old pages (mgmt in a long read) holds the WAL back as it would
 * without this module; the passes then back off for GW_CKPT_RETRY_MS. The other connections
 * (mgmt's, the gateway's other threads) keep SQLite's automatic checkpoint: a commit of theirs
 * while the WAL is past 1 000 pages copies what the passes have not copied yet, and the
 * checkpoint that comes second of two at once gives up at once (SQLITE_BUSY, no error). */
#ifndef EVGATE_GW_CHECKPOINTER_H
#define EVGATE_GW_CHECKPOINTER_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct gw_ckpt;

struct gw_ckpt_opts {
    struct db *writer_db;    /* the writer's connection (borrowed): its own checkpoints go off */
    const char *db_path;     /* opened by the checkpointer: its own connection */
    int busy_ms;             /* SQLite busy timeout */
    const char *synchronous; /* "NORMAL" or "FULL": how the copy is synced */
    int start_frames;        /* from this length on passes chase the WAL's end (>= 1), and ... */
    int finish_frames;       /* the writer copies a rest this short itself between batches */
    int limit_frames;        /* ... and any rest once the WAL is this long (>= start_frames) */
    int pass_frames;         /* shorter, a pass once this many are not copied yet (0: none) */
};

struct gw_ckpt_stats {
    int64_t wal_frames;        /* the WAL's length after the writer's last commit */
    int64_t reserved_frames;   /* the WAL file's length in frames, once lengthened ahead */
    uint64_t passes_total;     /* background passes run */
    uint64_t finishes_total;   /* copies of the rest by the writer */
    double finish_seconds_sum; /* their time: what they cost the writer's batches */
    uint64_t restarts_total;   /* the WAL started over from its beginning (seen by the writer) */
    uint64_t failures_total;   /* checkpoints that failed (logged) */
};

/* Turns opts->writer_db's own checkpoints off (db_wal_manual()), opens the checkpointer's
 * connection and starts its thread (every signal blocked). Call before the writer's first
 * commit. Returns it, or NULL with a message in `err`. */
struct gw_ckpt *gw_ckpt_start(const struct gw_ckpt_opts *opts, char *err, size_t errlen);

/* On the writer's thread after a batch's completions were handed back: starts a background pass
 * when the WAL is long enough, or, after a pass, copies the rest on the writer's connection. */
void gw_ckpt_after_batch(struct gw_ckpt *c);

/* Thread-safe snapshot of the counters. */
void gw_ckpt_stats(struct gw_ckpt *c, struct gw_ckpt_stats *out);

/* Stops the thread (a pass under way finishes first) and closes its connection; NULL is a
 * no-op. */
void gw_ckpt_free(struct gw_ckpt *c);

#endif
