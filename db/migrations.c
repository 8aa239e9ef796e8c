/* The schema, as numbered forward-only migrations. Never edit a released migration: add one.
 * Times are seconds since the epoch (UTC). */
#include "db/db_internal.h"

const struct db_migration db_migrations[] = {
    {1, "accounts",
     "CREATE TABLE files ("
     "  id INTEGER PRIMARY KEY,"
     "  owner_account_id INTEGER,"
     "  purpose TEXT NOT NULL," /* license, material, ... */
     "  original_name TEXT NOT NULL,"
     "  stored_name TEXT NOT NULL UNIQUE," /* random, under data_dir/uploads */
     "  mime TEXT NOT NULL,"
     "  size INTEGER NOT NULL,"
     "  sha256 TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL"
     ");"
     "CREATE TABLE organisations ("
     "  id INTEGER PRIMARY KEY,"
     "  company_name TEXT NOT NULL,"
     "  credit_code TEXT NOT NULL UNIQUE,"
     "  operator_id TEXT NOT NULL," /* characters 9-17 of the credit code */
     "  legal_representative TEXT NOT NULL,"
     "  contact_name TEXT NOT NULL,"
     "  mobile TEXT NOT NULL,"
     "  email TEXT NOT NULL,"
     "  address TEXT NOT NULL,"
     "  license_file_id INTEGER REFERENCES files(id),"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL"
     ");"
     "CREATE TABLE accounts ("
     "  id INTEGER PRIMARY KEY,"
     "  username TEXT NOT NULL UNIQUE,"
     "  password_hash TEXT NOT NULL,"
     "  role TEXT NOT NULL CHECK (role IN ('admin', 'operator')),"
     "  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'disabled')),"
     "  reject_reason TEXT,"
     "  organisation_id INTEGER REFERENCES organisations(id),"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  submitted_at INTEGER,"
     "  reviewed_at INTEGER,"
     "  reviewed_by INTEGER REFERENCES accounts(id)"
     ");"
     "CREATE INDEX accounts_status ON accounts(role, status, submitted_at);"},
    {2, "sessions_tokens_audit",
     "CREATE TABLE sessions ("
     "  id INTEGER PRIMARY KEY,"
     "  token_hash TEXT NOT NULL UNIQUE," /* sha256 of the cookie value */
     "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  csrf_token TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL"
     ");"
     "CREATE INDEX sessions_account ON sessions(account_id);"
     "CREATE TABLE api_tokens ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  name TEXT NOT NULL,"
     "  token_hash TEXT NOT NULL UNIQUE," /* sha256 of the bearer token */
     "  prefix TEXT NOT NULL,"            /* first characters, to recognise it in a list */
     "  created_at INTEGER NOT NULL,"
     "  last_used_at INTEGER,"
     "  revoked_at INTEGER"
     ");"
     "CREATE INDEX api_tokens_account ON api_tokens(account_id);"
     "CREATE TABLE audit_log ("
     "  id INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  actor_account_id INTEGER REFERENCES accounts(id),"
     "  action TEXT NOT NULL,"
     "  object_type TEXT NOT NULL,"
     "  object_id INTEGER NOT NULL,"
     "  detail TEXT" /* JSON */
     ");"
     "CREATE INDEX audit_object ON audit_log(object_type, object_id);"
     "CREATE TABLE login_failures ("
     "  key TEXT PRIMARY KEY," /* 'u:<username>' or 'a:<address>' */
     "  failures INTEGER NOT NULL,"
     "  locked_until INTEGER NOT NULL DEFAULT 0,"
     "  last_at INTEGER NOT NULL"
     ");"},
};

const int db_migrations_count = (int)(sizeof db_migrations / sizeof db_migrations[0]);
