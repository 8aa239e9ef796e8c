/* The command poller, private to commands.c: a thread with its own SQLite connection that reads
 * the queued rows of pile_commands every poll period and hands them to the lws thread through a
 * mutex-protected inbox and a wake-up. It only reads; every write is the lws side's, through the
 * batched writer. */
#ifndef EVGATE_GW_COMMANDS_POLL_H
#define EVGATE_GW_COMMANDS_POLL_H

#include "gateway/piles.h"

#include <stddef.h>
#include <stdint.h>

struct evg_config;
struct gw_cmd_poller;

/* Rows read per poll, and rows held in the inbox before the poller pauses (an lws thread that
 * does not drain it is not fed more). */
#define GW_CMD_POLL_BATCH 256
#define GW_CMD_INBOX_MAX  1024
/* Longest action name kept; a longer one is no action of either version. */
#define GW_CMD_ACTION_MAX 64

/* One queued row. */
struct gw_cmd_row {
    struct gw_cmd_row *next;
    int64_t id;
    char equipment_id[GW_PILE_ID_MAX + 1];
    char action[GW_CMD_ACTION_MAX];
    char *payload; /* JSON text as stored; owned */
};

void gw_cmd_row_free(struct gw_cmd_row *r);

/* Opens the poller's connection to cfg->db; fails every row left queued or sent by an earlier
 * gateway with `restart_error` and takes the newest id as the starting point, in one
 * transaction (a row mgmt adds meanwhile is either failed or seen); then starts the thread
 * (signals blocked), which polls every cfg->ocpp_command_poll_ms and calls `wake(wake_arg)` from
 * the thread after adding rows. NULL with a message in `err`. Free with gw_cmd_poller_stop(). */
struct gw_cmd_poller *gw_cmd_poller_start(const struct evg_config *cfg, const char *restart_error,
                                          void (*wake)(void *), void *wake_arg, char *err,
                                          size_t errlen);

/* Takes the inbox: the rows in id order, linked by `next` (caller frees each with
 * gw_cmd_row_free), or NULL. Thread-safe. */
struct gw_cmd_row *gw_cmd_poller_take(struct gw_cmd_poller *p);

/* Stops and joins the thread; the rows still in the inbox are freed (they stay queued in the
 * database). Idempotent. */
void gw_cmd_poller_join(struct gw_cmd_poller *p);

/* Joins, closes the connection and frees. NULL is a no-op. */
void gw_cmd_poller_stop(struct gw_cmd_poller *p);

#endif
