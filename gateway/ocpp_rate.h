/* The per-pile message-rate limit of OCPP-J connections (ocpp_max_msgs_per_min): a token bucket
 * that holds up to a minute's worth of messages and refills at that rate. The limit is the
 * pile's, not the connection's: a connection that replaces another takes over its bucket, and the
 * bucket of a pile that disconnects is remembered until it would have refilled, so reconnecting
 * does not buy a fresh minute. Lws thread only. */
#ifndef EVGATE_GW_OCPP_RATE_H
#define EVGATE_GW_OCPP_RATE_H

#include <stdbool.h>
#include <stdint.h>

/* Remembered buckets at most; past that a disconnecting pile's bucket is not kept (its next
 * connection starts full), which only a flood of distinct piles can cause. */
#define GW_RATE_MEMO_MAX 200000

/* One bucket: tokens at the time `at_us` (monotonic microseconds). */
struct gw_rate_bucket {
    double tokens;
    int64_t at_us;
};

struct gw_rate;

/* A table for `per_min` messages a minute. NULL on out of memory. */
struct gw_rate *gw_rate_new(long long per_min);
void gw_rate_free(struct gw_rate *r);

/* The bucket of pile `id` connecting at `now_us`: the one remembered at its last disconnect
 * (then forgotten), or a full one. */
struct gw_rate_bucket gw_rate_restore(struct gw_rate *r, const char *id, int64_t now_us);

/* Remembers the bucket of pile `id` that disconnects at `now_us`, unless it would be full by
 * then anyway. */
void gw_rate_remember(struct gw_rate *r, const char *id, struct gw_rate_bucket b, int64_t now_us);

/* Refills `b` up to `now_us` and takes one token: true when the message may pass. */
bool gw_rate_take(const struct gw_rate *r, struct gw_rate_bucket *b, int64_t now_us);

/* Forgets remembered buckets that have refilled by `now_us` (call now and then). */
void gw_rate_sweep(struct gw_rate *r, int64_t now_us);

#endif
