/* The gateway's listening sockets: its own, not lws's.
 *
 * lws 4.1's listener accepts every connection queued on its socket in one go, and each one it
 * adopts gets a timeout in the loop's one sorted timer list, which every insertion walks from
 * its head (a new timeout, the latest, walks it whole). In a reconnect storm (make bench's:
 * 19 500 piles back at once) thousands were accepted before any of their requests was read:
 * lws_dll2_add_sorted took 77-94 % of the loop, piles gave up on their handshakes and came back,
 * and some storms never ended. Here each wake-up of a listener accepts at most GW_ACCEPT_BATCH
 * connections and hands them to lws (lws_adopt_socket_vhost), so the requests of one batch are
 * read, and their timeouts cleared by the upgrade, before the next batch comes in: the list
 * stays about a batch long, and nobody is refused or closed for it.
 *
 * An accepted connection goes to lws only once its first bytes (or its end) arrive; until then
 * it waits on the libev loop in a FIFO of this module, and is closed after GW_ACCEPT_SILENT_S,
 * as lws would have. Every connection lws holds has such a timer, so 10 000 idle connections
 * (test_floods) made each new one walk 10 000 of them: a pile's handshake waited seconds. On
 * lws' poll loop (the fallback without libev) connections go to lws at once.
 *
 * A listener is a raw-file wsi of the vhost's protocols[0] (http.c passes its reasons here);
 * it is not a connection and is not counted as one. */
#ifndef EVGATE_GW_ACCEPT_H
#define EVGATE_GW_ACCEPT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_server;

/* Connections accepted per wake-up of one listener at most. */
#define GW_ACCEPT_BATCH 64
/* A connection that sends nothing for this long after it was accepted is closed. */
#define GW_ACCEPT_SILENT_S 10

/* Opens a nonblocking TCP socket listening on `addr`:`port`. `addr` is an IP literal (IPv4 or
 * IPv6), or NULL for every address: IPv6 and IPv4 both where the host has IPv6
 * (`ipv4_only` false), else IPv4. Returns it, or -1 with `err` saying which call failed and
 * why ("bind: Address already in use"). */
int gw_accept_listen(const char *addr, int port, bool ipv4_only, char *err, size_t errlen);

/* Hands listening socket `fd` to the event loop of `vh`, whose connections it will carry.
 * Returns 0, or -1 (`fd` closed). */
int gw_accept_attach(struct lws_vhost *vh, int fd);

/* Closes the connections still held silent; call before the event loop is destroyed. */
void gw_accept_release(struct gw_server *gw);

/* Whether `wsi` is a listener (gw_accept_attach's), not a connection. */
bool gw_accept_is_listener(struct lws *wsi);

/* The reasons of a listener, delivered to protocols[0]'s callback: accepts on
 * LWS_CALLBACK_RAW_RX_FILE; a socket numbered at or above gw->accept_fd_max is closed at once
 * (counted in the metrics and logged, six lines a minute at most); a listener closed while the
 * gateway is not stopping is logged as an error (listener_closed). Returns what the callback
 * returns. */
int gw_accept_callback(struct gw_server *gw, struct lws *wsi, enum lws_callback_reasons reason);

#endif
