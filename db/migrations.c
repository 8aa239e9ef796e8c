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
    {3, "detections",
     "CREATE TABLE detections ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
     "  mode TEXT NOT NULL CHECK (mode IN ('self', 'delegated')),"
     "  status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected',"
     "    'testing', 'passed', 'failed')),"
     /* the editable fields as one JSON object: commissioning_unit, contact, platform,
      * delegation_scope, pile_summary */
     "  data TEXT NOT NULL DEFAULT '{}',"
     "  delegate_detection_id INTEGER REFERENCES detections(id),"
     "  reject_reason TEXT,"
     "  verdict TEXT CHECK (verdict IN ('passed', 'failed')),"
     "  verdict_source TEXT CHECK (verdict_source IN ('manual', 'run')),"
     "  verdict_note TEXT,"
     "  verdict_at INTEGER,"
     "  verdict_by INTEGER REFERENCES accounts(id),"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  submitted_at INTEGER,"
     "  reviewed_at INTEGER,"
     "  reviewed_by INTEGER REFERENCES accounts(id)"
     ");"
     "CREATE INDEX detections_account ON detections(account_id, status);"
     "CREATE INDEX detections_status ON detections(status, submitted_at);"
     "CREATE TABLE detection_materials ("
     "  id INTEGER PRIMARY KEY,"
     "  detection_id INTEGER NOT NULL REFERENCES detections(id) ON DELETE CASCADE,"
     "  file_id INTEGER NOT NULL REFERENCES files(id),"
     "  created_at INTEGER NOT NULL"
     ");"
     "CREATE INDEX detection_materials_detection ON detection_materials(detection_id);"
     /* T/CEC secrets are used as keys (AES, HMAC), so they are stored, not hashed; one live
      * set per OperatorID. */
     "CREATE TABLE tcec_credentials ("
     "  id INTEGER PRIMARY KEY,"
     "  detection_id INTEGER NOT NULL REFERENCES detections(id),"
     "  operator_id TEXT NOT NULL,"
     "  operator_secret TEXT NOT NULL,"
     "  data_secret TEXT NOT NULL,"
     "  data_secret_iv TEXT NOT NULL,"
     "  sig_secret TEXT NOT NULL,"
     "  issued_at INTEGER NOT NULL,"
     "  revoked_at INTEGER"
     ");"
     "CREATE UNIQUE INDEX tcec_credentials_live ON tcec_credentials(operator_id)"
     "  WHERE revoked_at IS NULL;"
     "CREATE INDEX tcec_credentials_detection ON tcec_credentials(detection_id);"},
    {4, "records",
     "CREATE TABLE access_applications ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
     "  status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),"
     "  reject_reason TEXT,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  submitted_at INTEGER,"
     "  reviewed_at INTEGER,"
     "  reviewed_by INTEGER REFERENCES accounts(id)"
     ");"
     "CREATE INDEX access_applications_account ON access_applications(account_id, status);"
     /* Records keep their fields as one JSON object (`data`, canonical values) and copy the
      * columns that queries filter on. */
     "CREATE TABLE stations ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
     "  station_id TEXT NOT NULL,"
     "  status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accessed', 'rejected')),"
     "  application_id INTEGER REFERENCES access_applications(id),"
     "  name TEXT NOT NULL,"
     "  area_code TEXT NOT NULL,"
     "  station_type INTEGER NOT NULL,"
     "  data TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  UNIQUE (account_id, station_id)"
     ");"
     "CREATE INDEX stations_area ON stations(area_code);"
     "CREATE INDEX stations_application ON stations(application_id);"
     "CREATE TABLE piles ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
     "  equipment_id TEXT NOT NULL UNIQUE,"
     "  station_row INTEGER NOT NULL REFERENCES stations(id),"
     "  status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accessed', 'rejected')),"
     "  application_id INTEGER REFERENCES access_applications(id),"
     "  equipment_type INTEGER NOT NULL,"
     "  protocol TEXT NOT NULL,"
     "  data TEXT NOT NULL,"
     "  password_salt TEXT," /* gateway password: salted sha256 of a 128-bit secret */
     "  password_hash TEXT,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL"
     ");"
     "CREATE INDEX piles_account ON piles(account_id, status);"
     "CREATE INDEX piles_station ON piles(station_row);"
     "CREATE INDEX piles_application ON piles(application_id);"
     "CREATE TABLE connectors ("
     "  id INTEGER PRIMARY KEY,"
     "  pile_row INTEGER NOT NULL REFERENCES piles(id) ON DELETE CASCADE,"
     "  connector_id TEXT NOT NULL UNIQUE,"
     "  ocpp_connector_id INTEGER NOT NULL,"
     "  data TEXT NOT NULL,"
     "  UNIQUE (pile_row, ocpp_connector_id)"
     ");"},
    /* The gateway's record of OCPP connections: a pile is online while it has a session
     * without disconnected_at. Keyed by equipment_id, not the pile's row, so that the writer's
     * jobs need no lookup and the history outlives a record's edits. */
    {5, "pile_sessions",
     "CREATE TABLE pile_sessions ("
     "  id INTEGER PRIMARY KEY,"
     "  equipment_id TEXT NOT NULL,"
     "  protocol TEXT NOT NULL," /* the negotiated subprotocol */
     "  peer TEXT,"              /* the pile's address */
     "  connected_at INTEGER NOT NULL,"
     "  disconnected_at INTEGER," /* NULL while connected */
     "  close_reason TEXT"        /* peer_closed, disconnected, replaced, idle, too_large, binary,
                                     stopping, gateway_restart */
     ");"
     "CREATE INDEX pile_sessions_pile ON pile_sessions(equipment_id, connected_at);"
     "CREATE INDEX pile_sessions_open ON pile_sessions(equipment_id)"
     "  WHERE disconnected_at IS NULL;"},
    /* What piles report over OCPP-J (gateway, issue 5 item 3), written by the gateway's batched
     * writer; keyed by equipment_id like pile_sessions. Energies in Wh. */
    {6, "ocpp_state",
     "CREATE TABLE ocpp_piles ("
     "  equipment_id TEXT PRIMARY KEY,"
     "  protocol TEXT," /* the subprotocol last heard */
     "  vendor TEXT,"
     "  model TEXT,"
     "  serial TEXT,"
     "  firmware TEXT,"
     "  boot_reason TEXT,"     /* 2.0.1 BootReasonEnumType; NULL in 1.6 */
     "  last_boot_at INTEGER," /* the last accepted BootNotification; NULL = never booted */
     "  last_seen_at INTEGER," /* the last CALL received */
     "  violations INTEGER NOT NULL DEFAULT 0" /* protocol violations ever counted */
     ");"
     /* connector_id: 1.6 connectorId (0 = the pile as a whole) or 2.0.1 evseId;
      * evse_connector_id: 2.0.1 connectorId within the EVSE, 0 in 1.6. tcec_status: T/CEC 102
      * ConnectorStatus (0 offline, 1 idle, 2 occupied not charging, 3 charging, 4 reserved,
      * 255 fault), mapped in gateway/ocpp_answers.c. */
     "CREATE TABLE ocpp_connectors ("
     "  equipment_id TEXT NOT NULL,"
     "  connector_id INTEGER NOT NULL,"
     "  evse_connector_id INTEGER NOT NULL DEFAULT 0,"
     "  status TEXT NOT NULL,"
     "  tcec_status INTEGER NOT NULL,"
     "  error_code TEXT,"
     "  updated_at INTEGER NOT NULL,"
     "  PRIMARY KEY (equipment_id, connector_id, evse_connector_id)"
     ");"
     /* id is 1.6's transactionId; transaction_ref 2.0.1's (a string chosen by the station). */
     "CREATE TABLE ocpp_transactions ("
     "  id INTEGER PRIMARY KEY,"
     "  equipment_id TEXT NOT NULL,"
     "  connector_id INTEGER NOT NULL,"
     "  transaction_ref TEXT,"
     "  id_tag TEXT,"
     "  started_at INTEGER NOT NULL,"
     "  stopped_at INTEGER,"
     "  meter_start_wh INTEGER,"
     "  meter_stop_wh INTEGER," /* the final reading, or the latest while running */
     "  energy_wh INTEGER,"
     "  stop_reason TEXT,"
     "  updated_at INTEGER NOT NULL"
     ");"
     "CREATE UNIQUE INDEX ocpp_transactions_ref ON ocpp_transactions(equipment_id,"
     "  transaction_ref) WHERE transaction_ref IS NOT NULL;"
     "CREATE INDEX ocpp_transactions_pile ON ocpp_transactions(equipment_id, started_at);"
     /* Sampled values, the newest ocpp_meter_values_keep per pile. */
     "CREATE TABLE ocpp_meter_values ("
     "  id INTEGER PRIMARY KEY,"
     "  equipment_id TEXT NOT NULL,"
     "  connector_id INTEGER NOT NULL,"
     "  transaction_id INTEGER," /* ocpp_transactions.id (no FK: rows outlive nothing here) */
     "  sampled_at INTEGER NOT NULL,"
     "  measurand TEXT NOT NULL,"
     "  phase TEXT,"
     "  unit TEXT,"
     "  context TEXT,"
     "  value REAL NOT NULL"
     ");"
     "CREATE INDEX ocpp_meter_values_pile ON ocpp_meter_values(equipment_id, id);"
     "CREATE INDEX ocpp_meter_values_tx ON ocpp_meter_values(transaction_id)"
     "  WHERE transaction_id IS NOT NULL;"
     /* The newest offending frames per pile (the count is ocpp_piles.violations). */
     "CREATE TABLE pile_violations ("
     "  id INTEGER PRIMARY KEY,"
     "  equipment_id TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  code TEXT NOT NULL," /* the CALLERROR code answered */
     "  path TEXT,"          /* the failing JSON path, NULL for framing */
     "  reason TEXT,"
     "  frame TEXT NOT NULL" /* the frame as received, cut at 1 KiB */
     ");"
     "CREATE INDEX pile_violations_pile ON pile_violations(equipment_id, id);"},
    /* Per-pile OCPP settings an admin sets, and the remote operations mgmt sends to piles
     * through the gateway (db/commands.h says how the two daemons share the table). */
    {7, "pile_commands",
     "ALTER TABLE piles ADD COLUMN boot_status TEXT NOT NULL DEFAULT 'Accepted'"
     "  CHECK (boot_status IN ('Accepted', 'Pending', 'Rejected'));"
     "ALTER TABLE piles ADD COLUMN security_profile INTEGER NOT NULL DEFAULT 1"
     "  CHECK (security_profile IN (1, 2, 3));"
     "CREATE TABLE pile_commands ("
     "  id INTEGER PRIMARY KEY,"
     "  equipment_id TEXT NOT NULL,"
     "  account_id INTEGER NOT NULL," /* who sent it (no FK: the history outlives nothing) */
     "  action TEXT NOT NULL,"
     "  payload TEXT NOT NULL," /* the CALL's payload, JSON */
     "  state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'answered', 'error', 'timeout',"
     "    'failed')),"
     "  unique_id TEXT," /* the CALL's uniqueId, once sent */
     "  response TEXT,"  /* answered: the CALLRESULT payload; error: {code, description, details} */
     "  error TEXT,"     /* why it is not answered: a short code (offline, busy, ...) */
     "  detail TEXT,"    /* one line of English about error */
     "  created_at INTEGER NOT NULL,"
     "  sent_at INTEGER,"
     "  finished_at INTEGER"
     ");"
     "CREATE INDEX pile_commands_queued ON pile_commands(id) WHERE state = 'queued';"
     "CREATE INDEX pile_commands_pile ON pile_commands(equipment_id, id);"},
    /* T/CEC 102 interconnection (db/tcec.h): the AccessTokens evgate issued (hashes only; a
     * token lives while the credentials it was issued under are live), the replay guard, the
     * exchanges in both directions, and what operator platforms report. Keyed by IDs, without
     * foreign keys: the history outlives the records it names. */
    {8, "tcec_serving",
     "CREATE TABLE tcec_tokens ("
     "  id INTEGER PRIMARY KEY,"
     "  operator_id TEXT NOT NULL,"
     "  credentials_id INTEGER NOT NULL," /* tcec_credentials.id */
     "  token_hash TEXT NOT NULL UNIQUE," /* hex sha256 of the AccessToken */
     "  issued_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL"
     ");"
     "CREATE INDEX tcec_tokens_operator ON tcec_tokens(operator_id, id);"
     "CREATE INDEX tcec_tokens_expiry ON tcec_tokens(expires_at);"
     "CREATE TABLE tcec_replay ("
     "  operator_id TEXT NOT NULL,"
     "  timestamp TEXT NOT NULL," /* the request's TimeStamp, yyyyMMddHHmmss */
     "  seq TEXT NOT NULL,"
     "  ts_epoch INTEGER NOT NULL," /* what the TimeStamp means, for forgetting */
     "  PRIMARY KEY (operator_id, timestamp, seq)"
     ") WITHOUT ROWID;"
     "CREATE INDEX tcec_replay_age ON tcec_replay(ts_epoch);"
     "CREATE TABLE tcec_exchanges ("
     "  id INTEGER PRIMARY KEY,"
     "  operator_id TEXT NOT NULL,"
     "  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
     "  interface TEXT NOT NULL,"
     "  peer TEXT,"
     "  at INTEGER NOT NULL,"
     "  ret INTEGER," /* NULL: no T/CEC answer */
     "  msg TEXT,"
     "  reason TEXT,"  /* why refused or failed: signature, token, replay, source_ip, ... */
     "  request TEXT," /* the decrypted payload, secrets redacted, cut */
     "  response TEXT,"
     "  duration_ms INTEGER NOT NULL DEFAULT 0"
     ");"
     "CREATE INDEX tcec_exchanges_operator ON tcec_exchanges(operator_id, id);"
     "CREATE TABLE tcec_connector_status ("
     "  connector_id TEXT PRIMARY KEY,"
     "  account_id INTEGER NOT NULL," /* the connector's owner */
     "  operator_id TEXT NOT NULL,"   /* the platform that reported it */
     "  status INTEGER NOT NULL,"     /* T/CEC: 0 offline, 1 idle, 2 occupied, 3 charging, ... */
     "  park_status INTEGER,"
     "  lock_status INTEGER,"
     "  reported_at INTEGER NOT NULL"
     ");"
     "CREATE TABLE tcec_connector_status_history ("
     "  id INTEGER PRIMARY KEY,"
     "  connector_id TEXT NOT NULL,"
     "  account_id INTEGER NOT NULL,"
     "  operator_id TEXT NOT NULL,"
     "  status INTEGER NOT NULL,"
     "  park_status INTEGER,"
     "  lock_status INTEGER,"
     "  reported_at INTEGER NOT NULL"
     ");"
     "CREATE INDEX tcec_connector_status_history_connector"
     "  ON tcec_connector_status_history(connector_id, id);"
     "CREATE TABLE tcec_charge_orders ("
     "  id INTEGER PRIMARY KEY,"
     "  operator_id TEXT NOT NULL," /* the platform that pushed it */
     "  start_charge_seq TEXT NOT NULL,"
     "  account_id INTEGER NOT NULL,"
     "  connector_id TEXT NOT NULL,"
     "  start_time TEXT NOT NULL," /* yyyy-MM-dd HH:mm:ss as sent (China Standard Time) */
     "  end_time TEXT NOT NULL,"
     "  total_power REAL NOT NULL,"
     "  total_elec_money REAL NOT NULL,"
     "  total_service_money REAL NOT NULL,"
     "  total_money REAL NOT NULL,"
     "  stop_reason INTEGER NOT NULL,"
     "  data TEXT NOT NULL," /* the order as sent, JSON */
     "  received_at INTEGER NOT NULL,"
     "  UNIQUE (operator_id, start_charge_seq)"
     ");"
     "CREATE INDEX tcec_charge_orders_connector ON tcec_charge_orders(connector_id, start_time);"
     "CREATE TABLE tcec_station_info ("
     "  account_id INTEGER NOT NULL,"
     "  station_id TEXT NOT NULL,"
     "  operator_id TEXT NOT NULL,"
     "  data TEXT NOT NULL," /* the StationInfo as last reported, JSON */
     "  reported_at INTEGER NOT NULL,"
     "  PRIMARY KEY (account_id, station_id)"
     ");"},
    /* Conformance runs (docs/conformance.md, db/runs.h): a run of one plan against one pile or
     * operator platform and its checks in plan order. Runs are keyed by IDs without foreign
     * keys, like pile_commands; a run's checks go with it. At most one queued or running run
     * per target, kept by a partial unique index so that two requests racing cannot both win.
     * conformance_checks keeps its rowid: frames make rows too large for WITHOUT ROWID. */
    {9, "conformance_runs",
     "CREATE TABLE conformance_runs ("
     "  id INTEGER PRIMARY KEY,"
     "  plan TEXT NOT NULL,"
     "  target_kind TEXT NOT NULL CHECK (target_kind IN ('pile', 'platform')),"
     "  target TEXT NOT NULL,"        /* EquipmentID or OperatorID */
     "  detection_id INTEGER,"        /* the detection the run grades, NULL for none */
     "  account_id INTEGER NOT NULL," /* who started it */
     "  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'passed', 'failed', 'error',"
     "    'cancelled')),"
     "  reason TEXT,"
     "  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),"
     "  created_at INTEGER NOT NULL,"
     "  started_at INTEGER,"
     "  finished_at INTEGER"
     ");"
     "CREATE UNIQUE INDEX conformance_runs_active ON conformance_runs(target_kind, target)"
     "  WHERE state IN ('queued', 'running');"
     "CREATE INDEX conformance_runs_queued ON conformance_runs(id) WHERE state = 'queued';"
     "CREATE INDEX conformance_runs_running ON conformance_runs(id) WHERE state = 'running';"
     "CREATE INDEX conformance_runs_target ON conformance_runs(target, id);"
     "CREATE INDEX conformance_runs_account ON conformance_runs(account_id, id);"
     "CREATE TABLE conformance_checks ("
     "  run_id INTEGER NOT NULL REFERENCES conformance_runs(id) ON DELETE CASCADE,"
     "  seq INTEGER NOT NULL," /* 1, 2, ... in plan order */
     "  check_id TEXT NOT NULL,"
     "  required INTEGER NOT NULL CHECK (required IN (0, 1)),"
     "  verdict TEXT NOT NULL DEFAULT 'pending' CHECK (verdict IN ('pending', 'running', 'pass',"
     "    'fail', 'skipped', 'error')),"
     "  reason TEXT,"
     /* JSON array of {dir, ms, text}, bounded (DB_RUN_FRAMES_MAX frames of
      * DB_RUN_FRAME_TEXT_MAX bytes); the frames beyond are counted in frames_dropped */
     "  frames TEXT NOT NULL DEFAULT '[]',"
     "  frames_dropped INTEGER NOT NULL DEFAULT 0,"
     "  started_at INTEGER,"
     "  finished_at INTEGER,"
     "  PRIMARY KEY (run_id, seq)"
     ");"},
    /* A person at the pile confirms a manual step of a check ("the cable is plugged in"): the
     * check then fails, rather than being skipped, when the expected message does not come. */
    {10, "conformance_confirm", "ALTER TABLE conformance_checks ADD COLUMN confirmed_at INTEGER;"},
    /* The TimeStamp of a request a platform sent (epoch seconds), so that a conformance run can
     * tell how long after its TimeStamp a push arrived; NULL when unknown or not read. */
    {11, "tcec_exchange_sent_at", "ALTER TABLE tcec_exchanges ADD COLUMN sent_at INTEGER;"},
    /* The station and pile lists over a city's records (issue 8): indexes for the filters and
     * orders of the lists, and a generation that every update and delete of a listed record
     * bumps (inserts raise the largest id instead: db/record_lists.c), so that a list's total
     * (its COUNT(*)) is counted once per change instead of once per page. It starts at a random
     * value so that a database created again at the same path does not repeat the generations
     * of the old one. The pile list gets no new index: every index costs each row of a pile
     * import, and the pile list is not yet measured at a city's scale. */
    {12, "record_lists",
     /* the pages of all stations and of one operator's, in order, with every filtered column */
     "CREATE INDEX stations_station ON stations(station_id, id, status, area_code, station_type,"
     "  application_id, name, account_id);"
     "CREATE INDEX stations_list ON stations(account_id, station_id, id, status, area_code,"
     "  station_type, application_id, name);"
     "CREATE INDEX stations_area_status ON stations(area_code, status);"
     "CREATE TABLE record_generation ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  generation INTEGER NOT NULL"
     ");"
     "INSERT INTO record_generation (id, generation) VALUES (1, abs(random() % 1000000000000));"
     "CREATE TRIGGER stations_generation_delete AFTER DELETE ON stations BEGIN"
     "  UPDATE record_generation SET generation = generation + 1; END;"
     "CREATE TRIGGER stations_generation_update AFTER UPDATE OF account_id, station_id, status,"
     "  application_id, name, area_code, station_type ON stations BEGIN"
     "  UPDATE record_generation SET generation = generation + 1; END;"
     "CREATE TRIGGER piles_generation_delete AFTER DELETE ON piles BEGIN"
     "  UPDATE record_generation SET generation = generation + 1; END;"
     "CREATE TRIGGER piles_generation_update AFTER UPDATE OF account_id, equipment_id,"
     "  station_row, status, application_id, equipment_type, protocol ON piles BEGIN"
     "  UPDATE record_generation SET generation = generation + 1; END;"},
    /* The admin dashboard (issue 10 item 6, db/dashboard.h). pile_online_samples: the number of
     * piles online, which the gateway samples every dashboard_sample_s and keeps for
     * dashboard_keep_days, for the chart of the last 24 hours. ocpp_refusals: the newest
     * refused OCPP handshakes (DB_REFUSALS_KEEP; before, they were only logged and counted).
     * The two partial and plain indexes let the dashboard count online piles by protocol from
     * the index alone and find today's transactions without reading the others. */
    {13, "dashboard",
     "CREATE TABLE pile_online_samples ("
     "  at INTEGER PRIMARY KEY," /* epoch seconds */
     "  online INTEGER NOT NULL"
     ");"
     "CREATE TABLE ocpp_refusals ("
     "  id INTEGER PRIMARY KEY,"
     "  at INTEGER NOT NULL,"
     "  equipment_id TEXT NOT NULL," /* as the client named it, unsafe characters as '?' */
     "  status INTEGER NOT NULL,"    /* the HTTP status answered */
     "  reason TEXT NOT NULL," /* the error code: unknown_pile, unauthorized, tls_required, ... */
     "  peer TEXT"
     ");"
     "CREATE INDEX pile_sessions_open_protocol ON pile_sessions(protocol, equipment_id)"
     "  WHERE disconnected_at IS NULL;"
     "CREATE INDEX ocpp_transactions_started ON ocpp_transactions(started_at);"},
    /* The gateway's pile table (gateway/piles.h) is a copy of these columns of piles; it
     * reloads the copy only when this generation or the largest pile id moved (before, it read
     * every pile every second: 7 % of a core with 100 000 piles and nothing changing). Any
     * delete, or update of a copied column, bumps it, whatever the value written; an insert
     * raises the largest id instead, so that an import of 100 000 piles runs no trigger (one
     * took 5.8 s instead of 4.5 to 5). Random start: see record_generation. */
    {14, "pile_table_generation",
     "CREATE TABLE pile_table_generation ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  generation INTEGER NOT NULL"
     ");"
     "INSERT INTO pile_table_generation (id, generation)"
     "  VALUES (1, abs(random() % 1000000000000));"
     "CREATE TRIGGER pile_table_delete AFTER DELETE ON piles BEGIN"
     "  UPDATE pile_table_generation SET generation = generation + 1; END;"
     "CREATE TRIGGER pile_table_update AFTER UPDATE OF equipment_id, status, protocol,"
     "  password_salt, password_hash, boot_status, security_profile ON piles BEGIN"
     "  UPDATE pile_table_generation SET generation = generation + 1; END;"},
    /* The piles' last contacts in a table of their own, narrow and ordered by equipment_id
     * (WITHOUT ROWID: one b-tree, no index to look up first). The gateway writes every
     * connected pile's contact about once a second, gathered ten times a second
     * (gateway/ocpp_seen.h); as columns of ocpp_piles, whose boot information makes its rows
     * long, a gathering of 1 000 random piles out of 10 000 wrote 163 pages to the WAL, here
     * 52, and each upsert searched two b-trees. */
    {15, "ocpp_contacts",
     "CREATE TABLE ocpp_contacts ("
     "  equipment_id TEXT PRIMARY KEY,"
     "  protocol TEXT,"                /* the subprotocol last heard */
     "  last_seen_at INTEGER NOT NULL" /* the last CALL received */
     ") WITHOUT ROWID;"
     "INSERT INTO ocpp_contacts (equipment_id, protocol, last_seen_at)"
     "  SELECT equipment_id, protocol, last_seen_at FROM ocpp_piles"
     "  WHERE last_seen_at IS NOT NULL;"
     "ALTER TABLE ocpp_piles DROP COLUMN last_seen_at;"
     "ALTER TABLE ocpp_piles DROP COLUMN protocol;"},
    /* ocpp_connectors keyed by its primary key alone (WITHOUT ROWID): a StatusNotification's
     * upsert searched the key's index and then the rowid table; now one b-tree. */
    {16, "ocpp_connectors_without_rowid",
     "CREATE TABLE ocpp_connectors_new ("
     "  equipment_id TEXT NOT NULL,"
     "  connector_id INTEGER NOT NULL,"
     "  evse_connector_id INTEGER NOT NULL DEFAULT 0,"
     "  status TEXT NOT NULL,"
     "  tcec_status INTEGER NOT NULL,"
     "  error_code TEXT,"
     "  updated_at INTEGER NOT NULL,"
     "  PRIMARY KEY (equipment_id, connector_id, evse_connector_id)"
     ") WITHOUT ROWID;"
     "INSERT INTO ocpp_connectors_new (equipment_id, connector_id, evse_connector_id, status,"
     "  tcec_status, error_code, updated_at) SELECT equipment_id, connector_id,"
     "  evse_connector_id, status, tcec_status, error_code, updated_at FROM ocpp_connectors;"
     "DROP TABLE ocpp_connectors;"
     "ALTER TABLE ocpp_connectors_new RENAME TO ocpp_connectors;"},
};

const int db_migrations_count = (int)(sizeof db_migrations / sizeof db_migrations[0]);
