/* The piles as the OCPP gateway sees them (OCPP endpoint, issue 5): the list its handshakes
 * check, its pile sessions, and the per-pile OCPP settings it answers with (set by mgmt).
 * Strings passed in are borrowed. */
#ifndef EVGATE_DB_PILES_GATEWAY_H
#define EVGATE_DB_PILES_GATEWAY_H

#include "db/db.h"

#include <stdint.h>

/* One pile as the gateway's handshake needs it; the strings are borrowed for the callback only.
 * password_salt and password_hash are NULL until a password was issued (api_stations.c:
 * hash = hex sha256(salt || password)). */
struct db_gateway_pile {
    const char *equipment_id;
    const char *status;   /* draft | submitted | accessed | rejected */
    const char *protocol; /* ocpp1.6 | ocpp2.0.1 | platform */
    const char *password_salt;
    const char *password_hash;
    const char *boot_status; /* Accepted | Pending | Rejected: the BootNotification answer */
    int security_profile;    /* 1 Basic (ws or wss), 2 Basic over TLS only, 3 TLS client cert */
};
/* Returns 0 to go on, nonzero to stop the iteration (db_gateway_piles then returns it). */
typedef int (*db_gateway_pile_fn)(void *arg, const struct db_gateway_pile *p);

/* Calls `fn` for every pile, in ascending byte order of equipment_id, inside one statement (a
 * short read transaction). Returns DB_OK, the callback's nonzero value, or a DB_* error. */
int db_gateway_piles(struct db *db, db_gateway_pile_fn fn, void *arg);

/* Where the table of piles stands: `generation` moves with every delete of a pile and every
 * update of a column struct db_gateway_pile holds (a trigger's count), `max_id` with every
 * insert (the largest id; SQLite gives a new row one above it). The same state after any such
 * write means nothing db_gateway_piles() reads has changed. */
struct db_gateway_piles_state {
    int64_t generation, max_id;
};
/* Reads it into *out. Returns DB_OK, DB_NOTFOUND when the generation's row is missing, or a
 * DB_* error. */
int db_gateway_piles_state(struct db *db, struct db_gateway_piles_state *out);

/* Ended sessions kept per pile: opening one deletes the pile's older ended ones (a pile that
 * reconnects all day must not grow the table without bound). */
#define DB_PILE_SESSIONS_KEEP 500

/* Pile sessions (table pile_sessions): one row per OCPP WebSocket connection. Opens a session
 * of `equipment_id` speaking `protocol` from `peer` (an address, may be NULL) at `at`, its row
 * id into *row, and keeps the pile's newest DB_PILE_SESSIONS_KEEP ended sessions. */
int db_pile_session_open(struct db *db, const char *equipment_id, const char *protocol,
                         const char *peer, int64_t at, int64_t *row);
/* Ends session `row` of `equipment_id` at `at` with `reason` (a short code); a session already
 * ended keeps its first end. DB_NOTFOUND when no open session of that pile has that row. */
int db_pile_session_close(struct db *db, int64_t row, const char *equipment_id, int64_t at,
                          const char *reason);
/* Ends every open session at `at` with `reason` (a gateway that starts owns no connection yet,
 * so sessions left open by a crash are over); how many into *closed (may be NULL). */
int db_pile_sessions_close_open(struct db *db, int64_t at, const char *reason, int64_t *closed);

/* Per-pile OCPP settings (docs/api-commands.md): `boot_status` (Accepted | Pending | Rejected,
 * NULL = keep) and `security_profile` (1..3, 0 = keep). DB_NOTFOUND when there is no row. */
int db_pile_set_ocpp_settings(struct db *db, int64_t row, const char *boot_status,
                              int security_profile);

#endif
