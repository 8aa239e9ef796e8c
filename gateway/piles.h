/* The gateway's in-memory table of piles, what an OCPP handshake needs to decide without
 * touching SQLite on the lws thread: equipment_id -> status, protocol, password salt and hash.
 *
 * A background thread with its own database connection checks the table every `refresh_ms`
 * (and soon after gw_piles_refresh_soon()): when its state (db_gateway_piles_state) moved, or
 * every few minutes anyway, it loads the whole table into a new sorted snapshot off any lock
 * and swaps it in under a mutex; a lookup holds that mutex only to binary-search and copy one
 * entry out, so the lws thread never waits for a query. A changed password or status is seen
 * by handshakes within one refresh period.
 *
 * Each load is compared with the snapshot it replaces (on the thread, off the lock): the piles
 * whose admission changed (accessed or not, password, security profile) or that left the table
 * are queued for gw_piles_take_changes(), so that the gateway re-checks the connections of
 * those piles only (gw_pile_admission_check), not every connection at every reload. */
#ifndef EVGATE_GW_PILES_H
#define EVGATE_GW_PILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest station identity OCPP-J allows in the URL (identifierString[48]). */
#define GW_PILE_ID_MAX 48
/* Changed piles queued for gw_piles_take_changes() at most; past it the queue is dropped and
 * the taker told to check every connection (a mass change, e.g. a bulk re-issue). */
#define GW_PILES_CHANGES_MAX 4096

struct gw_piles;

/* One pile, copied out of the table. */
struct gw_pile {
    char equipment_id[GW_PILE_ID_MAX + 1];
    char protocol[16]; /* "ocpp1.6", "ocpp2.0.1", "platform" */
    bool accessed;     /* status = accessed: may connect */
    bool has_password; /* a password was issued (and its hash is well-formed) */
    char salt[65];
    unsigned char hash[32]; /* sha256(salt || password) */
    char boot_status[10];   /* "Accepted", "Pending", "Rejected": the BootNotification answer */
    int security_profile;   /* 1: Basic auth, ws or wss; 2: Basic auth over wss only;
                             * 3: wss with a client certificate whose CN is the EquipmentID */
};

/* What admitted a connection (gw_pile_admission_init at its handshake), kept with it so that a
 * later entry of the pile can be judged against it. The password is kept only as a fingerprint
 * (the first 8 bytes of its stored salted hash), which is never logged. */
struct gw_pile_admission {
    bool by_password;     /* admitted with the Basic-auth password (profiles 1 and 2) */
    uint64_t password_fp; /* its fingerprint when by_password */
    int profile;          /* the security profile applied, 1-3 */
    bool tls;             /* the connection is TLS (wss://) */
    bool client_cert;     /* with a client certificate that gw_tls_ca verified and whose
                           * subject CN is the EquipmentID */
};

/* The piles queued since the last gw_piles_take_changes(). */
struct gw_pile_changes {
    char (*ids)[GW_PILE_ID_MAX + 1]; /* n EquipmentIDs; caller frees with free() */
    size_t n;
    bool all; /* more than GW_PILES_CHANGES_MAX changed: ids is empty, check everything */
};

struct gw_piles_stats {
    size_t piles;            /* entries in the current snapshot */
    uint64_t checks_total;   /* times the table was compared with the database (loads included) */
    uint64_t loads_total;    /* snapshots loaded (the first one included) */
    uint64_t load_failures;  /* loads that failed (the old snapshot stayed) */
    double last_check_age_s; /* seconds since the snapshot was last found current */
};

/* Opens a connection to `db_path` (migrated already), loads the first snapshot on the calling
 * thread (so that piles accessed before the start can connect at once) and starts the refresh
 * thread, which checks every `refresh_ms`. Returns NULL with a message in `err` when the database
 * cannot be read. Caller frees with gw_piles_stop(). */
struct gw_piles *gw_piles_start(const char *db_path, int busy_ms, const char *synchronous,
                                int refresh_ms, char *err, size_t errlen);

/* Stops and joins the thread, closes its connection and frees the table. NULL is a no-op. */
void gw_piles_stop(struct gw_piles *t);

/* Copies the pile `equipment_id` into *out. Returns 0, or -1 when the table has no such pile.
 * Thread-safe; holds the table's mutex for a binary search only. */
int gw_piles_lookup(struct gw_piles *t, const char *equipment_id, struct gw_pile *out);

/* Asks the thread to reload soon, without waiting: at once unless it loaded less than a second
 * ago (so that refused handshakes cannot make it query in a loop). Thread-safe; never blocks
 * beyond taking the mutex. */
void gw_piles_refresh_soon(struct gw_piles *t);

/* Whether `password` (len bytes) is the pile's gateway password: sha256(salt || password)
 * compared in constant time. False when no password was issued. */
bool gw_pile_password_ok(const struct gw_pile *p, const char *password, size_t len);

/* The security profile the handshake applies to `p`: its own when 1-3, else 3 (the strictest;
 * the schema forbids other values). */
int gw_pile_profile(const struct gw_pile *p);

/* Fills *a with what admitted a connection of pile `p` (the entry its handshake was checked
 * against): the password's fingerprint when the profile asks for a password, the profile, and
 * the transport (`tls`; `client_cert` as in struct gw_pile_admission). */
void gw_pile_admission_init(struct gw_pile_admission *a, const struct gw_pile *p, bool tls,
                            bool client_cert);

/* Whether a connection admitted as `a` may stay open now that its pile's entry is `now` (NULL:
 * the pile left the table). NULL when it may; else the reason to close it, a static code:
 * "not_accessed" (gone, or no longer accessed), "profile_changed" (the profile now asks for a
 * transport the connection lacks: TLS for 2 and 3, a client certificate for 3) or
 * "credentials_changed" (admitted with a password that is no longer the pile's). A connection
 * admitted by its client certificate does not depend on the password. Pure. */
const char *gw_pile_admission_check(const struct gw_pile_admission *a, const struct gw_pile *now);

/* Hands over the piles queued since the last call (see the top of this file) into *out (caller
 * frees out->ids). One taker (the gateway's lws thread); never blocks beyond the mutex. */
void gw_piles_take_changes(struct gw_piles *t, struct gw_pile_changes *out);

/* Copies the table's counters. Thread-safe. */
void gw_piles_stats(struct gw_piles *t, struct gw_piles_stats *out);

#endif
