/* Accounts (admins and operators) and the operators' organisations. */
#ifndef EVGATE_DB_ACCOUNTS_H
#define EVGATE_DB_ACCOUNTS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* The fields authentication and authorisation need. Strings are owned by the struct. */
struct db_account {
    int64_t id;
    char username[40];
    char role[16];   /* admin | operator */
    char status[16]; /* pending | active | rejected | disabled */
    char *password_hash;
    int64_t organisation_id; /* 0 for admins */
};
void db_account_clear(struct db_account *a);

/* An operator's organisation as registered. Strings are borrowed from the caller. */
struct db_organisation_in {
    const char *company_name;
    const char *credit_code;
    const char *operator_id;
    const char *legal_representative;
    const char *contact_name;
    const char *mobile;
    const char *email;
    const char *address;
    int64_t license_file_id; /* 0 keeps the current licence (update only) */
};

/* Looks an account up. DB_NOTFOUND when none; fill `out` (clear it afterwards). */
int db_account_by_username(struct db *db, const char *username, struct db_account *out);
int db_account_by_id(struct db *db, int64_t id, struct db_account *out);

/* Creates a `pending` operator with its organisation in one transaction; *id is the account.
 * DB_CONFLICT with *conflict_field = "username" or "credit_code" on a duplicate. */
int db_operator_register(struct db *db, const char *username, const char *password_hash,
                         const struct db_organisation_in *org, int64_t *id,
                         const char **conflict_field);

/* Replaces a pending or rejected operator's organisation fields, sets it `pending` again and
 * clears the reject reason. DB_CONFLICT with *conflict_field "credit_code" on a duplicate, or
 * "status" when the account is neither pending nor rejected. */
int db_operator_resubmit(struct db *db, int64_t account_id, const struct db_organisation_in *org,
                         const char **conflict_field);

/* Creates admin `username` unless an admin exists. *created is 1 when it did. */
int db_admin_ensure(struct db *db, const char *username, const char *password_hash, int *created);

/* Moves operator `id` to `to` when its status is one of `from` (comma-separated, e.g.
 * "pending,rejected"), recording the reviewer, the reason (may be NULL) and an audit row with
 * `action`, all in one transaction. DB_CONFLICT when the status did not match or the account is
 * not an operator; DB_NOTFOUND when there is no such account. */
int db_operator_set_status(struct db *db, int64_t id, const char *from, const char *to,
                           const char *reason, int64_t actor_id, const char *action);

/* The public view of an account: {id, username, role, status, reject_reason, created_at,
 * submitted_at, reviewed_at (epoch seconds or null), organisation {...} or null,
 * license {id, name, mime, size, sha256} or null}. Caller owns; NULL when not found. */
json_t *db_account_view(struct db *db, int64_t id);

/* Operators filtered by status (NULL = all) and a substring `q` of user name, company name or
 * credit code (NULL = all), oldest submission first, one page. Fills *items (new array of views,
 * caller owns) and *total. */
int db_operator_list(struct db *db, const char *status, const char *q, int64_t page,
                     int64_t page_size, json_t **items, int64_t *total);

#endif
