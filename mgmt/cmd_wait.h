/* Requests waiting for a pile's answer to a remote operation (docs/api-commands.md) without
 * holding an MHD worker thread: server.c suspends the request's connection, one waiter thread
 * with its own SQLite connection looks at every waited-for row in one query each
 * CMD_WAIT_POLL_MS, and resumes each connection when its row is finished or its wait is over. */
#ifndef EVGATE_MGMT_CMD_WAIT_H
#define EVGATE_MGMT_CMD_WAIT_H

#include <jansson.h>
#include <stdint.h>

struct MHD_Connection;
struct evg_config;
struct cmd_wait;

#define CMD_WAIT_MAX     256 /* requests waiting at once; one more is 503 `busy` */
#define CMD_WAIT_POLL_MS 100
#define CMD_WAIT_EXTRA_S 10 /* mgmt waits ocpp_call_timeout_s + this for the gateway */

/* What a waiting request answers once resumed. */
struct cmd_wait_result {
    unsigned status; /* 200 finished, 202 still sent, 500/503 when the row could not be read */
    json_t *body;    /* the command object (commands_view), or NULL; the request owns it */
};

/* Starts the waiter thread. `cfg` must outlive it. NULL (logged) on failure. */
struct cmd_wait *cmd_wait_start(const struct evg_config *cfg);

/* Takes a slot for one waiting request, before the handler queues the command, so that a
 * refused wait never leaves a row behind. 0, or -1 when CMD_WAIT_MAX requests hold one or
 * the server is stopping. */
int cmd_wait_reserve(struct cmd_wait *w);

/* Gives back a slot that cmd_wait_reserve() took and no request used. */
void cmd_wait_release(struct cmd_wait *w);

/* Uses the caller's reserved slot: `conn`, which the caller suspended from inside its MHD
 * access handler, waits for command `id`. Later, from the waiter thread, *out is filled and
 * the connection resumed; the handler then runs again and answers with *out. */
void cmd_wait_add(struct cmd_wait *w, struct MHD_Connection *conn, int64_t id,
                  struct cmd_wait_result *out);

/* The resumed request's answer has been sent (or its connection ended): frees its slot. */
void cmd_wait_done(struct cmd_wait *w);

/* Ends every wait now (a still queued row becomes failed / not_picked_up), resumes the
 * connections and waits up to 5 s for them to answer, then stops the thread. Call before
 * MHD_stop_daemon; cmd_wait_done() stays valid until cmd_wait_free(). */
void cmd_wait_stop(struct cmd_wait *w);
void cmd_wait_free(struct cmd_wait *w);

#endif
