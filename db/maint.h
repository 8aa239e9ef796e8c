/* What the administrator's tool (evgatectl) does to accounts, tokens and the per-pile OCPP
 * settings, apart from the daemons' own queries. Strings passed in are borrowed. */
#ifndef EVGATE_DB_MAINT_H
#define EVGATE_DB_MAINT_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Creates an active admin `username` with `password_hash` (even when other admins exist), and
 * an audit row `admin_created` by the system; *id is its account. DB_CONFLICT when the user
 * name is taken. */
int db_admin_create(struct db *db, const char *username, const char *password_hash, int64_t *id);

/* Replaces account `id`'s password hash, ends all its browser sessions (whoever held the old
 * password is logged out) and records `password_reset` in the audit log, in one transaction.
 * Its API tokens stay: they are revoked one by one (db_token_revoke_any). DB_NOTFOUND when
 * there is no such account. */
int db_account_set_password(struct db *db, int64_t id, const char *password_hash);

/* Unrevoked API tokens of account `account_id` (0 = of every account), oldest first, as a new
 * array of {id, username, name, prefix, created_at, last_used_at or null}; caller owns. NULL on
 * error. */
json_t *db_token_list_all(struct db *db, int64_t account_id);

/* Revokes token `id` whoever owns it, with an audit row `token_revoked` by the system; its
 * owner's username into `owner` (40 bytes, may be NULL). DB_NOTFOUND when there is no such
 * unrevoked token. */
int db_token_revoke_any(struct db *db, int64_t id, char owner[40]);

/* Every pile's OCPP settings as a new array of {equipment_id, boot_status, security_profile},
 * in ascending byte order of equipment_id; caller owns. NULL on error. */
json_t *db_pile_settings_all(struct db *db);

/* The row of pile `equipment_id` into *row; DB_NOTFOUND when there is none. */
int db_pile_row(struct db *db, const char *equipment_id, int64_t *row);

#endif
