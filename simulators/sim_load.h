/* evsim-pile --scenario load: the throughput benchmark's load generator (sim_load.c). Booted piles
 * send a fixed mix of MeterValues, StatusNotification, MeterValues, Heartbeat, either closed loop
 * (the next CALL as soon as the answer arrives) or paced at --msg-rate in total; CALLs are
 * rendered from templates and answers matched by their prefix, with no JSON parsing either way,
 * so that the simulator costs less than what it loads. Single-threaded, on the lws loop. */
#ifndef EVSIM_SIM_LOAD_H
#define EVSIM_SIM_LOAD_H

#include "simulators/sim.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws_context;

/* Starts the load's clock on ctx for piles[0..n) (borrowed for the run): with o->msg_rate, each
 * pile gets a random phase within the period n / msg_rate and one timer walks the piles in
 * phase order. 0, or -1 when out of memory. */
int sim_load_start(struct lws_context *ctx, const struct sim_opts *o, struct pile *piles, size_t n);
/* Frees the schedule; the counters stay for the report. */
void sim_load_free(void);

/* Nothing else for p to send (booted, statuses answered, no CALL queued or outstanding): send
 * the next load CALL if it is due (closed loop: always; paced: a CALL owed from its schedule).
 * The first call makes p part of the load. */
void sim_load_idle(const struct sim_opts *o, struct pile *p, int64_t now_ms);

/* A message from the gateway while p's outstanding CALL is a load CALL. */
enum sim_load_rx {
    SIM_LOAD_ANSWERED, /* the answer (CALLRESULT or CALLERROR) to it: the caller dispatches */
    SIM_LOAD_DROPPED,  /* an answer to something else, or a frame of no OCPP-J shape: counted */
    SIM_LOAD_CALL,     /* a CALL of the central system: the caller parses and answers it */
};
enum sim_load_rx sim_load_on_message(struct pile *p, const char *text, size_t len);

/* p's outstanding load CALL timed out / its connection closed (the CALL is lost). */
void sim_load_timeout(struct pile *p);
void sim_load_closed(struct pile *p);

/* From the sweep, until the window is set: `settling` piles are still connecting or booting
 * (not counting those whose connection failed). At 0 the load begins (booted piles wait for it:
 * their traffic would slow the boots of the others, measured: 6 000 of 10 000 piles booted
 * after 20 s with it running) and the window starts o->warmup_s later; with o->load_go, "load
 * ready" is printed at 0 and the load begins at sim_load_go() (one process's load would slow
 * the boots of another's piles just the same). */
void sim_load_settling(size_t settling);
/* Async-signal-safe: with o->load_go, the load may start (SIGUSR1). */
void sim_load_go(void);
/* With o->load_go: the monotonic ms at which the load was let go (--duration counts from
 * there), 0 before. Without: 0. */
int64_t sim_load_go_ms(void);
/* Whether the window is set (the sweep stops counting). */
bool sim_load_window_set(void);
/* --duration has passed: the window ends, no load CALL is sent after it. */
void sim_load_end(void);
/* Whether every load CALL sent within the window is answered, timed out or lost, or
 * SIM_LOAD_DRAIN_S have passed since the window ended: then the run may end. Those still
 * outstanding are reported as unanswered. */
bool sim_load_drained(void);
#define SIM_LOAD_DRAIN_S 5

/* The window's figures: lines on stdout; the summary JSON's "load" object (caller owns it),
 * with --msg-rate also "schedule_lag_us": how late the one timer visited the piles due (the
 * pacing's own accuracy, whether or not the server keeps up). */
void sim_load_print(void);
json_t *sim_load_json(void);

#endif
