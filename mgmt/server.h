/* The mgmt HTTP server: libmicrohttpd with limits from the settings, bodies collected (JSON
 * in memory, multipart uploads streamed to temporary files) before the router runs. */
#ifndef EVGATE_MGMT_SERVER_H
#define EVGATE_MGMT_SERVER_H

struct evg_config;
struct mgmt_server;

/* Starts listening on cfg->mgmt_listen. `cfg` must outlive the server. Returns NULL (logged)
 * on failure. */
struct mgmt_server *mgmt_server_start(const struct evg_config *cfg);

/* Stops accepting, finishes the requests in flight and frees the server. */
void mgmt_server_stop(struct mgmt_server *srv);

#endif
