/* Browser sessions, bearer API tokens and the failed-login throttle.
 * Only hashes of session cookies and tokens are stored, never the values. */
#ifndef EVGATE_DB_SESSIONS_H
#define EVGATE_DB_SESSIONS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Stores a session for `account_id` under `token_hash` (hex sha256 of the cookie value). */
int db_session_create(struct db *db, const char *token_hash, int64_t account_id,
                      const char *csrf_token, int64_t expires_at);

/* Finds an unexpired session: *account_id and csrf (65 bytes). DB_NOTFOUND when none. */
int db_session_lookup(struct db *db, const char *token_hash, int64_t now, int64_t *account_id,
                      char csrf[65]);

/* Deletes one session (logout), and every expired one. */
int db_session_delete(struct db *db, const char *token_hash);

/* Stores a bearer token; *id is its row. `prefix` is shown in lists to recognise it. */
int db_token_create(struct db *db, int64_t account_id, const char *name, const char *token_hash,
                    const char *prefix, int64_t *id);

/* Finds the owner of an unrevoked token and records its use (last_used_at, rewritten at most
 * every DB_TOKEN_USE_EVERY_S). DB_NOTFOUND when none. */
#define DB_TOKEN_USE_EVERY_S 60
int db_token_lookup(struct db *db, const char *token_hash, int64_t *account_id);

/* The account's unrevoked tokens as a new array of {id, name, prefix, created_at,
 * last_used_at}; caller owns. NULL on error. */
json_t *db_token_list(struct db *db, int64_t account_id);

/* Revokes the account's token `id`. DB_NOTFOUND when it has no such unrevoked token. */
int db_token_revoke(struct db *db, int64_t account_id, int64_t id);

/* Failed-login throttle, keyed by e.g. "u:<username>" or "a:<address>".
 * db_login_locked: *locked_until (0 when not locked) for `key` at `now`. */
int db_login_locked(struct db *db, const char *key, int64_t now, int64_t *locked_until);

/* Records a failure; once `max_failures` in a row are reached the key is locked until
 * now + lock_s (and the count restarts). */
int db_login_failed(struct db *db, const char *key, int64_t now, int64_t max_failures,
                    int64_t lock_s);

/* Forgets the key's failures (after a successful login). */
int db_login_succeeded(struct db *db, const char *key);

#endif
