/* What the gateway writes for the admin dashboard (db/dashboard.h): every dashboard_sample_s
 * the number of piles online, and each refused OCPP handshake (within a budget: anyone can
 * cause them). Both go through the batched writer; the lws thread only submits. */
#ifndef EVGATE_GW_DASHBOARD_H
#define EVGATE_GW_DASHBOARD_H

struct gw_server;
struct gw_dashboard;
struct lws_context;

/* Refused handshakes recorded a minute at most; the rest are in the log's suppressed= count and
 * in /metrics. The table keeps DB_REFUSALS_KEEP of them. */
#define GW_REFUSALS_RECORDED_PER_MIN 60

/* The dashboard's state; `gw` is borrowed and must outlive it. NULL on out of memory. Caller
 * frees with gw_dashboard_free(). */
struct gw_dashboard *gw_dashboard_new(struct gw_server *gw);

/* Starts sampling on `ctx`: a sample at each multiple of dashboard_sample_s of the clock (so
 * that samples line up across restarts), skipped while the previous one is not committed. */
void gw_dashboard_start(struct gw_dashboard *d, struct lws_context *ctx);

/* Records a refused handshake: `equipment_id` as the client named it, already made safe to log
 * ("" when there was none), the HTTP `status`, the error code `reason` (static), `peer` the
 * client's address or "". Lws thread; best effort (a full writer queue loses the record). */
void gw_dashboard_refusal(struct gw_dashboard *d, const char *equipment_id, unsigned status,
                          const char *reason, const char *peer);

/* Stops sampling (before the writer stops). NULL is a no-op. */
void gw_dashboard_stop(struct gw_dashboard *d);

/* Frees `d` once its last job's completion has run (after the writer is freed). NULL: no-op. */
void gw_dashboard_free(struct gw_dashboard *d);

#endif
