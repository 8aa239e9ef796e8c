/* Pile sessions: one row of table pile_sessions per OCPP-J connection, opened when the pile
 * connects and ended when it goes, written through the batched writer (never on the lws thread).
 * A pile is online while it has a session without disconnected_at. Lws thread only. */
#ifndef EVGATE_GW_OCPP_SESSION_H
#define EVGATE_GW_OCPP_SESSION_H

struct gw_server;
struct gw_pile_session;

/* Records that `equipment_id` connected now speaking `protocol` from `peer` (strings copied).
 * Returns the session to end later, or NULL when it could not be queued (logged; e.g. the
 * writer's queue is full or the gateway is stopping). */
struct gw_pile_session *gw_pile_session_open(struct gw_server *gw, const char *equipment_id,
                                             const char *protocol, const char *peer);

/* Records that the session ended now with `reason` (a static code: peer_closed, replaced, idle,
 * ...) and releases `s`. NULL is a no-op. The writer runs the jobs in order, so the end never
 * overtakes its start. */
void gw_pile_session_close(struct gw_server *gw, struct gw_pile_session *s, const char *reason);

#endif
