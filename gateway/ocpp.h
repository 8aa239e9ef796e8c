/* The gateway's OCPP-J endpoint: ws://HOST:PORT/ocpp/{EquipmentID} (and wss:// on
 * gw_tls_listen when gw_tls_cert is set, gateway/tls.h), subprotocols ocpp1.6 and ocpp2.0.1,
 * security profiles 1-3 per pile (HTTP Basic over ws:// or wss://; Basic over wss:// only; a TLS
 * client certificate). This header is the connection layer's API for the
 * rest of the gateway: the lws protocols, the handshake check, the connection registry and the
 * send queue. Everything here runs on the lws thread unless it says otherwise.
 *
 * Handshake (ocpp_handshake.c), in this order; a refusal is an HTTP answer with a JSON body:
 *   - an upgrade other than `websocket`, or a path outside /ocpp/: hung up, as before;
 *   - the last path segment (lws has URL-decoded it) is the EquipmentID: 1-48 bytes, no `:`
 *     or control characters, else 404;
 *   - not in the pile table: 404; in it but not `accessed`: 403;
 *   - the pile's security profile (piles.security_profile; details at the top of
 *     ocpp_handshake.c): profile 2 or 3 over ws://: 403 `tls_required`; profile 3 over wss://
 *     without a client certificate that gw_tls_ca verifies and whose subject CN is the
 *     EquipmentID: 403 `client_cert_missing`, `client_cert_invalid` or `client_cert_mismatch`.
 *     A profile 3 pile is asked for no password, so it skips the next step;
 *   - (profiles 1 and 2) no or malformed `Authorization: Basic`, a user other than the
 *     EquipmentID, no password issued, or a wrong password: 401 with
 *     `WWW-Authenticate: Basic realm="evgate"`;
 *   - the pile's configured protocol not the first of the offered Sec-WebSocket-Protocol
 *     values that the gateway serves: 400. (lws 4.1 binds the client's first served preference
 *     and cannot be told to bind another, so a pile configured for ocpp1.6 that offers
 *     "ocpp2.0.1, ocpp1.6" is refused rather than silently run on the version it was not
 *     registered with; the message says so.)
 *     OCPP-J (1.6 §3.1.2, 2.0.1 Part 4 §3.1.2) would have the server complete the handshake
 *     without a Sec-WebSocket-Protocol header and close at once. We refuse with 400 instead:
 *     SPEC §7 and issue 5 want the refusal at the handshake with a status; lws 4.1 cannot
 *     complete an upgrade without binding a named protocol (it hangs up without any answer);
 *     and clients fail either way (`ws`: "Server sent no subprotocol"), ocpp-rpc's own server
 *     answers 400 too. The status tells the pile's installer why.
 *   Identity and status are checked before the password because a draft pile has none to
 *   check; the profile's transport before the password so that the plain port is never an
 *   oracle for a profile 2 pile's password; the password before the protocol so that an
 *   unauthenticated client learns nothing about the pile's configuration.
 *
 * Connection (ocpp_conn.c): one struct gw_ocpp_conn per pile session, refcounted so that a
 * completion that outlives the socket can still hold it (gw_ocpp_send then fails softly).
 * Limits: a message larger than ocpp_max_frame_bytes closes with 1009; a binary frame closes
 * with 1003; more than ocpp_max_msgs_per_min messages (a token bucket per pile, ocpp_rate.h:
 * bursts up to that many, refilled at that rate; it outlives the connection, so reconnecting
 * does not refill it) are dropped unanswered and counted (evgate_gateway_ocpp_messages_
 * dropped_total, a warning per connection at most once a minute) — dropping costs less than a
 * disconnect, after which the pile would reconnect and boot again; a pile that sends faster than
 * it reads its answers is not read from while 32 answers wait (backpressure through its own TCP
 * buffers), and one that lets the queue reach a minute's worth of messages plus slack is closed
 * with 1008 "send_queue_full"; no message from the pile for
 * 2 x ocpp_heartbeat_s closes with 1000 "idle"; the sweep pings a connection silent for
 * GW_OCPP_PING_S (at most ocpp_heartbeat_s) and closes it with 1001 "no_pong" when nothing, not
 * even the pong, arrived within GW_OCPP_PONG_WAIT_S (at most half that) after the ping. A
 * second connection for the same EquipmentID replaces the first, which is closed with 1000
 * "replaced". A connection does not outlive what admitted it: it keeps the pile's password
 * fingerprint, profile and transport from its handshake (piles.h, struct gw_pile_admission), and
 * once a second (GW_OCPP_ADMIT_CHECK_MS) the connections of the piles whose entry changed in the
 * pile table (gw_piles_take_changes: at most one refresh period after the change in the database,
 * and no other pile is looked at) are checked against their new entry (gw_pile_admission_check): a
 * pile deleted or no longer `accessed` is closed with 1008 "not_accessed", one whose password was
 * re-issued with 1008 "credentials_changed" (a profile 3 connection, admitted by its client
 * certificate, does not depend on the password), one whose profile now wants TLS or a client
 * certificate that its connection lacks with 1008 "profile_changed". The table's thread finds the
 * changed piles by comparing snapshots; here each costs a registry lookup and, when connected, one
 * gw_piles_lookup (after a mass change of more than GW_PILES_CHANGES_MAX piles, every connection
 * is checked once). A connection is also checked once when it is established, in case the table
 * changed after its handshake's lookup. Each connection is a
 * row of pile_sessions (ocpp_session.c, through the batched writer) with its close reason;
 * rows left open by a crash are ended when the gateway starts, and an orderly stop ends the open
 * ones ("stopping"); the newest DB_PILE_SESSIONS_KEEP (500) ended rows per pile are kept. The
 * connection layer is ocpp_conn.c (callbacks, limits, send queue) and ocpp_registry.c (registry,
 * sweeps, admission checks), sharing ocpp_conn_private.h. */
#ifndef EVGATE_GW_OCPP_H
#define EVGATE_GW_OCPP_H

#include <libwebsockets.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_server;
struct gw_ocpp;
struct gw_ocpp_conn;

/* The OCPP-J versions served, in the order of their lws protocols. */
enum gw_ocpp_version {
    GW_OCPP16 = 0,
    GW_OCPP201 = 1,
};
#define GW_OCPP_VERSIONS 2

/* Log lines a minute that peers can cause at will (common/log.h's budget): refused handshakes
 * (ocpp_handshake.c) and protocol violations (ocpp_dispatch.c); the rest are counted in a
 * `suppressed=` of the next line, and every one is in /metrics. */
#define GW_LOG_REFUSALS_PER_MIN   120
#define GW_LOG_VIOLATIONS_PER_MIN 120

/* "ocpp1.6" / "ocpp2.0.1": the subprotocol names (and metrics labels). */
const char *gw_ocpp_version_name(enum gw_ocpp_version v);
/* The version named `name`, or -1. */
int gw_ocpp_version_of(const char *name);

/* The connection layer's state (registry, limits, idle sweep), one per gateway. `gw` is
 * borrowed and must outlive it. Caller frees with gw_ocpp_free(). NULL on out of memory. */
struct gw_ocpp *gw_ocpp_new(struct gw_server *gw);

/* Fills protocols[0..GW_OCPP_VERSIONS-1] with the WebSocket protocols "ocpp1.6" and
 * "ocpp2.0.1" (one callback), with `rx_buffer_size` (cfg.gw_rx_buffer) each. */
void gw_ocpp_protocols(struct lws_protocols *protocols, size_t rx_buffer_size);

/* Starts the idle sweep and the admission check on `ctx` (after the vhost exists). */
void gw_ocpp_start(struct gw_ocpp *o, struct lws_context *ctx);

/* Orderly stop, before the writer is freed: ends every session in the database ("stopping")
 * and cancels the timers; the sockets close with the context. */
void gw_ocpp_stop(struct gw_ocpp *o);

/* Frees the registry after lws_context_destroy(). NULL is a no-op. */
void gw_ocpp_free(struct gw_ocpp *o);

/* Decides a WebSocket upgrade (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE of the HTTP protocol; `upgrade`
 * is the Upgrade header). Returns 0 to let lws upgrade (the pile passed every check and lws
 * will bind its protocol), 1 when a refusal was written (lws then completes the transaction),
 * -1 to hang up. */
int gw_ocpp_confirm_upgrade(struct gw_server *gw, struct lws *wsi, const char *upgrade);

/* What admitted the upgrade of `wsi` (gw_ocpp_confirm_upgrade, for an upgrade it lets through),
 * kept for the connection that LWS_CALLBACK_ESTABLISHED makes of `wsi` next (lws establishes it
 * within the same call, so one slot is enough; a connection established without it is refused).
 * `a` is copied. NULL `o` is a no-op. */
struct gw_pile_admission;
void gw_ocpp_admitted(struct gw_ocpp *o, struct lws *wsi, const struct gw_pile_admission *a);

/* The EquipmentID of an /ocpp/ path (already URL-decoded by lws): its last segment, 1 to
 * GW_PILE_ID_MAX bytes without ':' or control characters, into out. Returns 0 or -1. */
int gw_ocpp_path_id(const char *path, char *out, size_t outlen);

/* Monotonic microseconds: the clock of the connections' times. */
int64_t gw_ocpp_mono_us(void);

/* --- one connection --------------------------------------------------------------------- */

/* The pile's EquipmentID; valid while the caller holds the connection. */
const char *gw_ocpp_conn_id(const struct gw_ocpp_conn *c);
enum gw_ocpp_version gw_ocpp_conn_version(const struct gw_ocpp_conn *c);
struct gw_server *gw_ocpp_conn_server(const struct gw_ocpp_conn *c);
/* False once the socket is closing or closed. */
bool gw_ocpp_conn_open(const struct gw_ocpp_conn *c);

/* Keeps `c` alive past its socket (e.g. across a writer job); every ref needs an unref. */
void gw_ocpp_conn_ref(struct gw_ocpp_conn *c);
void gw_ocpp_conn_unref(struct gw_ocpp_conn *c);

/* Queues the text message `text` (len bytes, copied) for the pile and asks lws for a writeable
 * callback; it goes out in order, one message per callback. Returns 0, -ENOTCONN when the
 * connection is closing or closed, -EMSGSIZE above ocpp_max_frame_bytes, -ENOBUFS when the
 * queue is at its bound (ocpp_max_msgs_per_min + GW_OCPP_SENDQ_SLACK messages: the pile is not
 * reading; it is being closed with 1008 "send_queue_full"), -ENOMEM. */
int gw_ocpp_send(struct gw_ocpp_conn *c, const char *text, size_t len);

/* Closes the connection with WebSocket close `code` and `reason` (a short static code, also
 * recorded as the session's close reason) from the next writeable callback. Idempotent: the
 * first reason wins. */
void gw_ocpp_close(struct gw_ocpp_conn *c, int code, const char *reason);

/* The open connection of `equipment_id` (registered and not closing), or NULL. Borrowed: take
 * a reference to keep it past the current callback. */
struct gw_ocpp_conn *gw_ocpp_find(struct gw_ocpp *o, const char *equipment_id);

/* The connection's remote-operation state (commands.c's), NULL until it has one; commands.c
 * sets it and clears it when the connection ends. */
struct gw_cmd_conn;
struct gw_cmd_conn *gw_ocpp_conn_cmds(const struct gw_ocpp_conn *c);
void gw_ocpp_conn_set_cmds(struct gw_ocpp_conn *c, struct gw_cmd_conn *s);

/* BootNotification state of this connection (ocpp_dispatch.c): whether the central system
 * answered a BootNotification of it with Accepted (the last answer counts), and the CP->CS
 * action that the last TriggerMessage sent on it asked for (static storage, or NULL). */
bool gw_ocpp_conn_boot_accepted(const struct gw_ocpp_conn *c);
void gw_ocpp_conn_set_boot_accepted(struct gw_ocpp_conn *c, bool accepted);
const char *gw_ocpp_conn_triggered(const struct gw_ocpp_conn *c);
void gw_ocpp_conn_set_triggered(struct gw_ocpp_conn *c, const char *action);

/* Counters the dispatcher keeps per connection: each call adds one and returns the new total.
 * Protocol violations (CALLERRORs the pile caused) and messages carrying meter values (the
 * retention pruning's cadence). */
uint64_t gw_ocpp_conn_add_violation(struct gw_ocpp_conn *c);
uint64_t gw_ocpp_conn_add_samples(struct gw_ocpp_conn *c);

/* When the connection's latest message was read, gw_ocpp_mono_us(): during
 * gw_ocpp_on_frame(), the frame at hand. */
int64_t gw_ocpp_conn_rx_us(const struct gw_ocpp_conn *c);

/* The second (epoch) whose last contact is on its way to ocpp_contacts.last_seen_at, 0 for none:
 * noted for the next flush of last contacts (ocpp_seen.h), or carried by a BootNotification's
 * own job, which sets it back when it fails so that the next CALL brings it again. */
int64_t gw_ocpp_conn_seen_at(const struct gw_ocpp_conn *c);
void gw_ocpp_conn_set_seen_at(struct gw_ocpp_conn *c, int64_t at);
/* A CALL heard at `at`: the pile's last contact, noted for the next flush unless this second's
 * is on its way already. */
void gw_ocpp_conn_note_seen(struct gw_ocpp_conn *c, int64_t at);

/* --- ocpp_dispatch.c -------------------------------------------------------------------- */

/* Handles one complete text message (len bytes, not NUL-terminated, valid UTF-8) received on
 * `c`; answers through gw_ocpp_send(). Called on the lws thread; must not block. */
void gw_ocpp_on_frame(struct gw_ocpp_conn *c, const char *text, size_t len);

#endif
