/* The piles' last contacts (ocpp_contacts.last_seen_at, to the second), gathered on the lws
 * thread and written through the writer in one job per flush (the gateway flushes every
 * GW_SEEN_FLUSH_MS and when it stops).
 *
 * A pile's last contact used to ride with the first CALL of each second, an upsert of a random
 * row in nearly every batch: 10 000 piles at 23 000 CALLs a second rewrote the table's pages
 * into the WAL thousands of times a second, and the syncs of that volume cost the gateway
 * stolen CPU and latency on a virtual disk (README "Performance"). Gathered, a page goes to the
 * WAL once per flush. The contacts have a narrow table of their own (migration 15): in
 * ocpp_piles, whose boot information makes its rows long, a flush of 1 000 random piles of
 * 10 000 wrote 163 pages to the WAL (of the table's 173), in ocpp_contacts 52. The
 * price: last_seen_at lags a CALL by up to a flush period and a batch, and a crash loses at
 * most that much of the last contacts; a CALL's own data is still committed before its answer.
 * A BootNotification writes its contact itself, so that a booted pile has one at its answer.
 * Not thread-safe: one thread notes and flushes. */
#ifndef EVGATE_GW_OCPP_SEEN_H
#define EVGATE_GW_OCPP_SEEN_H

#include "gateway/writer.h"

#include <stddef.h>
#include <stdint.h>

#define GW_SEEN_FLUSH_MS 100

struct gw_seen;

/* A gatherer of at most `max` (>= 1) contacts between two flushes; NULL when out of memory. */
struct gw_seen *gw_seen_new(size_t max);
/* Frees what was noted and not flushed too. */
void gw_seen_free(struct gw_seen *s);

/* Notes that pile `equipment_id` (at most GW_PILE_ID_MAX bytes are kept) was heard at `at`
 * (Unix seconds) over `protocol` (static storage: "ocpp1.6", "ocpp2.0.1"). Returns 0, or
 * -ENOSPC when `max` contacts wait already or -ENOMEM (the contact is dropped and counted). */
int gw_seen_note(struct gw_seen *s, const char *equipment_id, const char *protocol, int64_t at);

/* Hands what was noted to `w` as one job and starts a new gathering. Returns how many contacts
 * went, 0 when none waited, or a negative errno when they were dropped (gw_writer_submit's
 * refusal, -ENOMEM; counted). A job that fails is logged and its contacts are dropped: the
 * piles' next CALLs bring theirs again. */
int gw_seen_flush(struct gw_seen *s, struct gw_writer *w);

struct gw_seen_stats {
    uint64_t noted;   /* contacts noted */
    uint64_t dropped; /* of them, never handed to the writer (full, refused, out of memory) */
    uint64_t flushes; /* jobs handed to the writer */
};
void gw_seen_stats(const struct gw_seen *s, struct gw_seen_stats *out);

#endif
