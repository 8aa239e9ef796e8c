/* The gateway's OCPP-J endpoint: ws://HOST:PORT/ocpp/{EquipmentID}, subprotocols ocpp1.6 and
 * ocpp2.0.1, security profile 1 (HTTP Basic). This header is the connection layer's API for the
 * rest of the gateway: the lws protocols, the handshake check, the connection registry and the
 * send queue. Everything here runs on the lws thread unless it says otherwise.
 *
 * Handshake (ocpp_handshake.c), in this order; a refusal is an HTTP answer with a JSON body:
 *   - an upgrade other than `websocket`, or a path outside /ocpp/: hung up, as before;
 *   - the last path segment (lws has URL-decoded it) is the EquipmentID: 1-48 bytes, no `:`
 *     or control characters, else 404;
 *   - not in the pile table: 404; in it but not `accessed`: 403;
 *   - no or malformed `Authorization: Basic`, a user other than the EquipmentID, no password
 *     issued, or a wrong password: 401 with `WWW-Authenticate: Basic realm="evgate"`;
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
 *   check; the password before the protocol so that an unauthenticated client learns nothing
 *   about the pile's configuration.
 *
 * Connection (ocpp_conn.c): one struct gw_ocpp_conn per pile session, refcounted so that a
 * completion that outlives the socket can still hold it (gw_ocpp_send then fails softly).
 * Limits: a message larger than ocpp_max_frame_bytes closes with 1009; a binary frame closes
 * with 1003; more than ocpp_max_msgs_per_min messages (a token bucket: bursts up to that many,
 * refilled at that rate) are dropped unanswered and counted (evgate_gateway_ocpp_messages_
 * dropped_total, a warning per connection at most once a minute) — dropping costs less than a
 * disconnect, after which the pile would reconnect and boot again; no message from the pile for
 * 2 x ocpp_heartbeat_s closes with 1000 "idle"; lws pings a connection silent for
 * GW_OCPP_PING_S and hangs up when no pong follows. A second connection for the same
 * EquipmentID replaces the first, which is closed with 1000 "replaced". Each connection is a
 * row of pile_sessions (ocpp_session.c, through the batched writer) with its close reason;
 * rows left open by a crash are ended when the gateway starts, and an orderly stop ends the open
 * ones ("stopping"). */
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

/* Starts the idle sweep on `ctx` (after the vhost exists). */
void gw_ocpp_start(struct gw_ocpp *o, struct lws_context *ctx);

/* Orderly stop, before the writer is freed: ends every session in the database ("stopping")
 * and cancels the sweep; the sockets close with the context. */
void gw_ocpp_stop(struct gw_ocpp *o);

/* Frees the registry after lws_context_destroy(). NULL is a no-op. */
void gw_ocpp_free(struct gw_ocpp *o);

/* Decides a WebSocket upgrade (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE of the HTTP protocol; `upgrade`
 * is the Upgrade header). Returns 0 to let lws upgrade (the pile passed every check and lws
 * will bind its protocol), 1 when a refusal was written (lws then completes the transaction),
 * -1 to hang up. */
int gw_ocpp_confirm_upgrade(struct gw_server *gw, struct lws *wsi, const char *upgrade);

/* The EquipmentID of an /ocpp/ path (already URL-decoded by lws): its last segment, 1 to
 * GW_PILE_ID_MAX bytes without ':' or control characters, into out. Returns 0 or -1. */
int gw_ocpp_path_id(const char *path, char *out, size_t outlen);

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
 * connection is closing or closed, -EMSGSIZE above ocpp_max_frame_bytes, -ENOBUFS when
 * GW_OCPP_SENDQ_MAX messages are already waiting (the pile is not reading: the caller may close
 * it), -ENOMEM. */
int gw_ocpp_send(struct gw_ocpp_conn *c, const char *text, size_t len);

/* Closes the connection with WebSocket close `code` and `reason` (a short static code, also
 * recorded as the session's close reason) from the next writeable callback. Idempotent: the
 * first reason wins. */
void gw_ocpp_close(struct gw_ocpp_conn *c, int code, const char *reason);

/* Counters the dispatcher keeps per connection: each call adds one and returns the new total.
 * Protocol violations (CALLERRORs the pile caused) and messages carrying meter values (the
 * retention pruning's cadence). */
uint64_t gw_ocpp_conn_add_violation(struct gw_ocpp_conn *c);
uint64_t gw_ocpp_conn_add_samples(struct gw_ocpp_conn *c);

/* --- ocpp_dispatch.c -------------------------------------------------------------------- */

/* Handles one complete text message (len bytes, not NUL-terminated, valid UTF-8) received on
 * `c`; answers through gw_ocpp_send(). Called on the lws thread; must not block. */
void gw_ocpp_on_frame(struct gw_ocpp_conn *c, const char *text, size_t len);

#endif
