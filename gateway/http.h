/* The gateway's plain-HTTP protocol (protocols[0] of the vhost): GET /healthz, GET /metrics,
 * a JSON 404 for any other path and 405 for any other method; POST /evcs/v1/{interface} goes to
 * the T/CEC endpoint (gateway/tcec.h); WebSocket upgrades go to the OCPP-J handshake
 * (gateway/ocpp.h). */
#ifndef EVGATE_GW_HTTP_H
#define EVGATE_GW_HTTP_H

#include <libwebsockets.h>

/* Fills `p` (a protocols[] slot) with the HTTP protocol; rx_buffer_size comes from
 * cfg.gw_rx_buffer. The protocol's state lives in the context user (struct gw_server). */
void gw_http_protocol(struct lws_protocols *p, size_t rx_buffer_size);

/* The lws callback for that protocol; also handles the context-wide reasons delivered to
 * protocols[0] (connection accounting, cross-thread wake-ups). */
int gw_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);

#endif
