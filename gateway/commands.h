/* Remote operations, the gateway's side: CS->CP CALLs that mgmt queues as rows of
 * pile_commands (db/commands.h), sent to the pile's connection, and the pile's answers written
 * back into the same row.
 *
 * A poller thread (commands_poll.c) with its own SQLite connection reads the queued rows every
 * ocpp_command_poll_ms and hands them to the lws thread through a mutex-protected inbox and
 * lws_cancel_service(); everything else runs on the lws thread and writes only through the
 * batched writer. Per connection: a FIFO of at most GW_CMD_WAITING_MAX waiting commands and at
 * most one outstanding CALL (OCPP-J allows one per direction). A command is marked sent in the
 * database before its CALL goes out (so an answer always finds a sent row), and its deadline is
 * checked by one timer for the whole gateway that walks only the connections with work, once a
 * second (lws 4.1 keeps timers in a sorted list: one per connection would cost a walk of it on
 * every re-arm). How each ending is recorded: docs/api-commands.md; its `error` codes besides:
 * "call_error" for a CALLERROR (detail "<code>: <description>"), and failed with "too_large"
 * (the CALL exceeds ocpp_max_frame_bytes) or "send_failed" when the CALL cannot be queued on the
 * socket ("busy" when the pile is not reading). A timeout has no error code, only a detail. */
#ifndef EVGATE_GW_COMMANDS_H
#define EVGATE_GW_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

struct gw_server;
struct gw_commands;
struct gw_ocpp_conn;
struct ocpp_frame;

/* Commands waiting behind the outstanding one on one connection; one more is failed "busy". */
#define GW_CMD_WAITING_MAX 8
/* The pile's finished commands are pruned to ocpp_commands_keep every this many finished. */
#define GW_CMD_PRUNE_EVERY 16

/* At gateway start, before serving: opens the poller's own connection to cfg->db, fails every
 * row left queued or sent by an earlier gateway ("gateway_restarted") and takes the newest id
 * as the starting point (both in one transaction, so a row mgmt adds meanwhile is either
 * failed or seen), then starts the poller thread (signals blocked). `gw` is borrowed and must
 * outlive it; gw->ctx is read (atomically) to wake the lws thread. NULL with a message in
 * `err` on failure. Free with gw_commands_free(). */
struct gw_commands *gw_commands_start(struct gw_server *gw, char *err, size_t errlen);

/* lws thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED: takes the inbox and routes each row to its
 * pile's connection (or fails it). NULL is a no-op. */
void gw_commands_run(struct gw_commands *cm);

/* lws thread, orderly stop, before the writer is freed: joins the poller, fails every waiting
 * and outstanding command ("gateway_restarted") through the writer and cancels the timer.
 * Rows still in the inbox stay queued (the next start fails them). Idempotent; NULL is a
 * no-op. */
void gw_commands_stop(struct gw_commands *cm);

/* Frees after gw_commands_stop() and lws_context_destroy(). NULL is a no-op. */
void gw_commands_free(struct gw_commands *cm);

/* --- engine CALLs (conformance runs, gateway/conform.h; lws thread) ------------------------- */

/* How an engine CALL ended: state "answered" (a CALLRESULT: `response` is its payload's JSON
 * text, not checked: the engine judges it), "error" (a CALLERROR: `error` "call_error",
 * `response` {code, description, details}), "timeout" (no answer within ocpp_call_timeout_s),
 * "failed" (`error` a code as for commands: disconnected, busy, too_large, send_failed,
 * gateway_restarted). `detail` one line or NULL. Everything is borrowed for the callback. */
struct gw_cmd_raw_result {
    const char *state;
    const char *error;
    const char *response;
    const char *detail;
    const char *unique_id;
};
typedef void (*gw_cmd_raw_done)(void *arg, const struct gw_cmd_raw_result *res);

/* Queues CALL `action` with `payload_text` (JSON text, sent as is: neither the action nor the
 * payload is checked against the pile's version, so that a run can probe with both) on `c`,
 * behind the remote operations already waiting, with no row in pile_commands. `done(arg, res)`
 * is called exactly once on the lws thread when it ends (possibly before this returns), unless
 * this returns nonzero: -ENOTCONN (closed), -EBUSY (GW_CMD_WAITING_MAX waiting), -EINVAL (bad
 * action or payload text), -ESHUTDOWN (stopping), -ENOMEM. */
int gw_commands_send_raw(struct gw_commands *cm, struct gw_ocpp_conn *c, const char *action,
                         const char *payload_text, gw_cmd_raw_done done, void *arg);

/* --- hooks of the connection layer (lws thread) --------------------------------------------- */

/* The connection `c` ends (closed or replaced): its waiting and outstanding commands fail
 * "disconnected". */
void gw_commands_conn_closed(struct gw_ocpp_conn *c);

/* A CALLRESULT or CALLERROR `f` (its text `text`, len bytes) from the pile: when it answers the
 * connection's outstanding CALL, finishes that command (answered; error with invalid_response,
 * which is also a protocol violation; error for a CALLERROR), sends the next waiting one and
 * returns true. False when it answers nothing of ours (late, after a timeout, or bogus). */
bool gw_commands_on_answer(struct gw_ocpp_conn *c, const struct ocpp_frame *f, const char *text,
                           size_t len);

#endif
