/* Pile sessions through the batched writer; see ocpp_session.h. */
#include "gateway/ocpp_session.h"
#include "gateway/gateway.h"
#include "gateway/piles.h"
#include "gateway/writer.h"
#include "common/log.h"
#include "db/piles_gateway.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shared by the open and close jobs (writer thread) and the connection (lws thread). `row` is
 * written and read on the writer thread only, `refs` touched on the lws thread only (the writer's
 * completions run there); the rest is set before a job is submitted. */
struct gw_pile_session {
    char equipment_id[GW_PILE_ID_MAX + 1];
    char protocol[16];
    char peer[64];
    int64_t connected_at, disconnected_at;
    const char *reason; /* static */
    int64_t row;
    int refs;
};

static void session_unref(struct gw_pile_session *s)
{
    if (s && --s->refs == 0)
        free(s);
}

static int open_job(struct db *db, void *arg)
{
    struct gw_pile_session *s = arg;
    s->row = 0;
    return db_pile_session_open(db, s->equipment_id, s->protocol, s->peer, s->connected_at,
                                &s->row);
}

static void open_done(void *arg, int rc)
{
    struct gw_pile_session *s = arg;
    if (rc != 0)
        log_warn("gateway", "pile_session_open_failed", "equipment_id=%s rc=%d",
                 log_q(s->equipment_id), rc);
    session_unref(s);
}

static int close_job(struct db *db, void *arg)
{
    struct gw_pile_session *s = arg;
    if (!s->row)
        return 0; /* its start was not recorded: nothing to end */
    int rc = db_pile_session_close(db, s->row, s->equipment_id, s->disconnected_at, s->reason);
    return rc == DB_NOTFOUND ? 0 : rc;
}

static void close_done(void *arg, int rc)
{
    struct gw_pile_session *s = arg;
    if (rc != 0)
        log_warn("gateway", "pile_session_close_failed", "equipment_id=%s rc=%d",
                 log_q(s->equipment_id), rc);
    session_unref(s);
}

struct gw_pile_session *gw_pile_session_open(struct gw_server *gw, const char *equipment_id,
                                             const char *protocol, const char *peer)
{
    if (!gw->writer)
        return NULL;
    struct gw_pile_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->equipment_id, sizeof s->equipment_id, "%s", equipment_id);
    snprintf(s->protocol, sizeof s->protocol, "%s", protocol);
    snprintf(s->peer, sizeof s->peer, "%s", peer ? peer : "");
    s->connected_at = db_now();
    s->refs = 2; /* the open job, the caller */
    int rc = gw_writer_submit(gw->writer, open_job, open_done, s);
    if (rc != 0) {
        log_warn("gateway", "pile_session_not_recorded", "equipment_id=%s rc=%d",
                 log_q(equipment_id), rc);
        free(s);
        return NULL;
    }
    return s;
}

void gw_pile_session_close(struct gw_server *gw, struct gw_pile_session *s, const char *reason)
{
    if (!s)
        return;
    s->disconnected_at = db_now();
    s->reason = reason;
    if (!gw->writer || gw_writer_submit(gw->writer, close_job, close_done, s) != 0) {
        log_warn("gateway", "pile_session_end_not_recorded", "equipment_id=%s reason=%s",
                 log_q(s->equipment_id), log_q(reason));
        session_unref(s);
    }
}
