/* Conformance runs, the gateway's side (issue 7, docs/conformance.md): the run poller and the
 * engine's threads, and the hooks through which the lws thread shows a run its pile.
 *
 * Why threads and not the lws loop: a check is a script (send a call, wait for an answer, wait
 * for a message, judge) that reads best straight-line, and a run does a few dozen of them over
 * minutes. Each running run has its own thread and SQLite connection (runs write a row per check:
 * few writes, on the busy timeout like mgmt's) and never touches lws. It talks to the lws thread
 * through two queues:
 *   - run -> lws: requests (watch this pile, stop watching, send this CALL) in an inbox the lws
 *     thread takes on LWS_CALLBACK_EVENT_WAIT_CANCELLED (gw_conform_run), woken with
 *     lws_cancel_service();
 *   - lws -> run: events (a frame in or out on the pile's connection, the connection opened or
 *     closed, the answer to a CALL) in the run's mailbox (mutex and condition variable).
 * The lws thread keeps the table of watched EquipmentIDs itself (at most conform_runs_max), so a
 * frame of an unwatched pile costs one integer test. Engine CALLs go through the remote-operations
 * FIFO (gateway/commands.h, gw_commands_send_raw), so a pile still sees at most one CS->CP CALL
 * outstanding; the pile's own traffic is answered and stored as always: a run only watches.
 *
 * Restarts: gw_conform_start ends every run a previous gateway left running as `error`
 * (DB_RUN_RESTARTED); an orderly stop ends the running ones as `error` "the gateway stopped". */
#ifndef EVGATE_GW_CONFORM_H
#define EVGATE_GW_CONFORM_H

#include <stdbool.h>
#include <stddef.h>

struct gw_server;
struct gw_conform;
struct gw_ocpp_conn;

/* The reason an orderly stop gives the runs it interrupts. */
#define GW_CONFORM_STOPPED "the gateway stopped"

/* At gateway start, after the writer and before serving: ends the runs left running
 * (DB_RUN_RESTARTED), then starts the run poller thread (every ocpp_command_poll_ms it takes
 * queued runs, at most conform_runs_max running at once and one per target). `gw` is borrowed.
 * NULL with a message in `err`. */
struct gw_conform *gw_conform_start(struct gw_server *gw, char *err, size_t errlen);

/* lws thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED: takes the inbox (watch, unwatch, CALLs).
 * NULL is a no-op. */
void gw_conform_run(struct gw_conform *cf);

/* Orderly stop, on the lws thread while the loop still runs its completions, before
 * gw_commands_stop(): tells every run to end (`error` GW_CONFORM_STOPPED), waits for their
 * threads and joins the poller. Idempotent; NULL is a no-op. */
void gw_conform_stop(struct gw_conform *cf);

/* Frees after gw_conform_stop(). NULL is a no-op. */
void gw_conform_free(struct gw_conform *cf);

/* --- hooks of the connection layer (lws thread; cheap when no run watches) ------------------ */

/* A complete text message on `c`: `in` from the pile, else to it. */
void gw_conform_frame(struct gw_conform *cf, struct gw_ocpp_conn *c, bool in, const char *text,
                      size_t len);

/* `c` was established (open) or ended (closed or replaced). */
void gw_conform_conn_event(struct gw_conform *cf, struct gw_ocpp_conn *c, bool open);

/* Whether a run watches `c`'s pile now. */
bool gw_conform_watching(struct gw_conform *cf, const struct gw_ocpp_conn *c);

#endif
