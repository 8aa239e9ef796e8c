/* evgate calling operator platforms over T/CEC 102 (SPEC §8, issue 6): every tcec_poll_s, for
 * each platform with live credentials (db_tcec_peers), obtain an AccessToken from the
 * platform's query_token and renew it before it expires, page through query_stations_info, ask
 * query_station_status for those stations and query_station_stats for each of them (the
 * previous day), check every answer (envelope shape, signature, decryption, Ret, the data
 * dictionary's rules) and record each call as an exchange (direction "out", payloads with the
 * secrets and tokens redacted).
 *
 * Identity: evgate presents OperatorID tcec_operator_id and the platform's issued credential set
 * (OperatorSecret, DataSecret, DataSecretIV, SigSecret) — one set serves both directions, so an
 * operator configures a single set for the city platform (docs/tcec.md).
 *
 * Why libcurl on its own thread and not an lws client on the gateway's loop: these calls are few
 * (a handful per platform every few minutes), sequential (a page depends on the previous one)
 * and may be slow; a blocking easy handle on a separate thread keeps that logic straight-line and
 * can never stall the piles' event loop, and libcurl gives certificate and host-name checks,
 * proxies and HTTP/1.1 details for free. The thread has its own SQLite connection; its writes
 * (exchange rows) are few and wait on the busy timeout like mgmt's. */
#ifndef EVGATE_GW_TCEC_CLIENT_H
#define EVGATE_GW_TCEC_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct evg_config;
struct gw_tcec_client;

/* Most pages of query_stations_info read in one round (PageSize 50: 50 000 stations). */
#define GW_TCEC_MAX_PAGES 1000
/* Stations asked per query_station_status call (the standard's limit). */
#define GW_TCEC_STATUS_BATCH 50

/* Starts the client thread (it does nothing when cfg->tcec_poll_s is 0, but still starts so that
 * gw_tcec_client_poll_now() works). `cfg` must outlive it. NULL with a message in `err` when
 * tcec_operator_id is not a valid OperatorID or the database cannot be opened. */
struct gw_tcec_client *gw_tcec_client_start(const struct evg_config *cfg, char *err, size_t errlen);

/* The last round's platforms: `polled` (with an interface address and credentials) and
 * `reachable` (answered query_stations_info). Thread-safe (atomics); NULL gives zeros. */
void gw_tcec_client_stats(const struct gw_tcec_client *c, size_t *polled, size_t *reachable);

/* Asks the thread to start a round now (thread-safe, does not wait). */
void gw_tcec_client_poll_now(struct gw_tcec_client *c);

/* Stops the thread (a call in flight ends within tcec_http_timeout_s) and frees it. NULL is a
 * no-op. */
void gw_tcec_client_stop(struct gw_tcec_client *c);

#endif
