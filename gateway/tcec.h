/* The gateway's T/CEC 102 endpoint: operator platforms POST to /evcs/v1/{interface}
 * (query_token and the notifications; docs/tcec.md "Serving platforms"). http.c hands the
 * HTTP callbacks of such a path to these functions; the state of one request lives in a
 * struct gw_tcec_req that the HTTP connection's session data points to (`slot`).
 *
 * On the lws thread: the body is read (bounded by tcec_body_max_bytes) and the envelope's shape
 * checked (tcec_request_parse); every other check, and what the request stores, runs in one
 * job of the batched writer (tcec_serve.c); the answer is built and sent from the job's
 * completion, after the commit. */
#ifndef EVGATE_GW_TCEC_H
#define EVGATE_GW_TCEC_H

#include <libwebsockets.h>

struct gw_server;
struct gw_tcec_req;

/* The path prefix of the endpoint. */
#define GW_TCEC_PREFIX "/evcs/v1/"

/* 1 when `path` is the endpoint's ("/evcs/v1/..."). */
int gw_tcec_is_path(const char *path);

/* LWS_CALLBACK_HTTP for such a path: starts a request in *slot (detaching any earlier one).
 * Returns what the lws callback returns. */
int gw_tcec_on_http(struct gw_server *gw, struct lws *wsi, const char *path,
                    struct gw_tcec_req **slot);

/* LWS_CALLBACK_HTTP_BODY and LWS_CALLBACK_HTTP_BODY_COMPLETION of that request. */
int gw_tcec_on_body(struct gw_tcec_req *r, const void *in, size_t len);
int gw_tcec_on_body_done(struct gw_tcec_req *r);

/* LWS_CALLBACK_HTTP_WRITEABLE: sends the answer once there is one (headers, then the body);
 * frees the request and clears *slot when done. Returns what the lws callback returns. */
int gw_tcec_on_writeable(struct gw_tcec_req **slot);

/* LWS_CALLBACK_CLOSED_HTTP / LWS_CALLBACK_HTTP_DROP_PROTOCOL: frees the request, or, while
 * its writer job is in flight, detaches it from the connection so that the completion frees
 * it. Clears *slot. */
void gw_tcec_on_close(struct gw_tcec_req **slot);

#endif
