/* Unit tests of db/db.c and db/migrations.c: forward-only migrations from every older schema
 * keep the rows, run once even when two connections start together, and a newer schema is
 * refused. Each test works on a fresh file in its own temporary directory. */
#include "db/db.h"
#include "db/db_internal.h"

#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db_fixture.h"

#define BUSY_MS 10000

struct fixture {
    char dir[64];
    char path[128];
    struct db *db;
    char err[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evgate-test-db-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    /* A sub-directory that does not exist yet: db_open creates it. */
    snprintf(f->path, sizeof f->path, "%s/var/evgate.db", f->dir);
    *state = f;
    return 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static struct db *open_db(struct fixture *f, const char *synchronous)
{
    struct db *db = db_open(f->path, BUSY_MS, synchronous, f->err, sizeof f->err);
    if (!db)
        fail_msg("db_open %s: %s", f->path, f->err);
    return db;
}

static void migrate_ok(struct fixture *f, int target)
{
    f->err[0] = 0;
    int rc = db_migrate(f->db, target, f->err, sizeof f->err);
    if (rc != DB_OK)
        fail_msg("db_migrate to %d: %d %s", target, rc, f->err);
}

/* The first column of the first row of `sql` as text ("" when no row). */
static void query_text(struct db *db, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db->h));
    out[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
}

static int table_exists(struct db *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db->h,
                                        "SELECT count(*) FROM sqlite_master "
                                        "WHERE type = 'table' AND name = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The whole schema as one string, to compare before and after. */
static char *schema_of(struct db *db)
{
    static char buf[65536];
    buf[0] = 0;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db->h,
                                        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') "
                                        "FROM sqlite_master ORDER BY type, name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s\n", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return strdup(buf);
}

static const char *const tables[] = {
    "accounts",
    "organisations",
    "files",
    "sessions",
    "api_tokens",
    "audit_log",
    "login_failures",
    "detections",
    "detection_materials",
    "tcec_credentials",
    "access_applications",
    "stations",
    "piles",
    "connectors",
    "pile_sessions",
    "ocpp_piles",
    "ocpp_connectors",
    "ocpp_transactions",
    "ocpp_meter_values",
    "pile_violations",
    "pile_commands",
    "tcec_tokens",
    "tcec_replay",
    "tcec_exchanges",
    "tcec_connector_status",
    "tcec_connector_status_history",
    "tcec_charge_orders",
    "tcec_station_info",
    "conformance_runs",
    "conformance_checks",
    "pile_online_samples",
    "ocpp_refusals",
    "pile_table_generation",
    "ocpp_contacts",
};

/* Rows that the schema of `version` accepts, and a query that finds them again after the
 * later migrations. A new migration adds its own entry here: a database at version k gets the
 * rows of every entry up to k, which may refer to the rows of earlier entries. An entry whose
 * rows a later migration moves elsewhere names the last version that accepts them (`until`,
 * 0 for none); the migration's own entry then inserts them as its schema has them. */
struct rows_at {
    int version;
    const char *insert;
    const char *check;
    const char *expect;
    int until;
};

static bool rows_for(const struct rows_at *r, int k)
{
    return r->version <= k && (!r->until || k <= r->until);
}

static const struct rows_at rows[] = {
    {1,
     "INSERT INTO files (id, owner_account_id, purpose, original_name, stored_name, mime, size,"
     "  sha256, created_at) VALUES (1, NULL, 'license', '营业执照.pdf', 'f1', 'application/pdf',"
     "  12345, 'ab', 1700000000);"
     "INSERT INTO organisations (id, company_name, credit_code, operator_id,"
     "  legal_representative, contact_name, mobile, email, address, license_file_id,"
     "  created_at, updated_at) VALUES (1, '中山市充电科技有限公司', '91442000MA4UJ9XY09',"
     "  'MA4UJ9XY0', '张三', '李四', '13800138000', 'li@example.com', '中山市东区', 1,"
     "  1700000000, 1700000000);"
     "INSERT INTO accounts (id, username, password_hash, role, status, organisation_id,"
     "  created_at, updated_at) VALUES (7, 'zs_charge', '$argon2id$x', 'operator', 'pending', 1,"
     "  1700000000, 1700000000);",
     "SELECT a.username || '/' || o.company_name || '/' || f.original_name FROM accounts a"
     "  JOIN organisations o ON o.id = a.organisation_id JOIN files f ON f.id = o.license_file_id"
     "  WHERE a.id = 7",
     "zs_charge/中山市充电科技有限公司/营业执照.pdf", 0},
    {2,
     "INSERT INTO accounts (id, username, password_hash, role, status, created_at, updated_at)"
     "  VALUES (1, 'admin', '$argon2id$y', 'admin', 'active', 1700000000, 1700000000);"
     "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at)"
     "  VALUES ('s1', 1, 'c1', 1700000000, 1700028800);"
     "INSERT INTO api_tokens (account_id, name, token_hash, prefix, created_at)"
     "  VALUES (1, 'ci', 't1', 'evg_', 1700000000);"
     "INSERT INTO audit_log (at, actor_account_id, action, object_type, object_id, detail)"
     "  VALUES (1700000000, 1, 'approve', 'account', 1, '{\"note\":\"ok\"}');"
     "INSERT INTO login_failures (key, failures, locked_until, last_at)"
     "  VALUES ('u:admin', 2, 0, 1700000000);",
     "SELECT s.csrf_token || '/' || t.name || '/' || l.action || '/' || f.failures FROM sessions s"
     "  JOIN api_tokens t ON t.account_id = s.account_id"
     "  JOIN audit_log l ON l.actor_account_id = s.account_id"
     "  JOIN login_failures f ON f.key = 'u:admin'",
     "c1/ci/approve/2", 0},
    {3,
     "INSERT INTO detections (id, account_id, mode, status, created_at, updated_at)"
     "  VALUES (5, 7, 'self', 'approved', 1700000000, 1700000000);"
     "INSERT INTO detection_materials (detection_id, file_id, created_at)"
     "  VALUES (5, 1, 1700000000);"
     "INSERT INTO tcec_credentials (detection_id, operator_id, operator_secret, data_secret,"
     "  data_secret_iv, sig_secret, issued_at) VALUES (5, 'MA4UJ9XY0', 'o', 'd', 'i', 's',"
     "  1700000000);",
     "SELECT d.mode || '/' || d.status || '/' || m.file_id || '/' || c.operator_id"
     "  FROM detections d JOIN detection_materials m ON m.detection_id = d.id"
     "  JOIN tcec_credentials c ON c.detection_id = d.id WHERE d.id = 5",
     "self/approved/1/MA4UJ9XY0", 0},
    {4,
     "INSERT INTO access_applications (id, account_id, status, created_at, updated_at)"
     "  VALUES (3, 7, 'submitted', 1700000000, 1700000000);"
     "INSERT INTO stations (id, account_id, station_id, status, application_id, name, area_code,"
     "  station_type, data, created_at, updated_at) VALUES (11, 7, 'ZS001', 'submitted', 3,"
     "  '中山站', '442000', 1, '{}', 1700000000, 1700000000);"
     "INSERT INTO piles (id, account_id, equipment_id, station_row, status, application_id,"
     "  equipment_type, protocol, data, created_at, updated_at) VALUES (21, 7, 'P001', 11,"
     "  'submitted', 3, 1, 'ocpp1.6', '{}', 1700000000, 1700000000);"
     "INSERT INTO connectors (pile_row, connector_id, ocpp_connector_id, data)"
     "  VALUES (21, 'P00101', 1, '{}');",
     "SELECT s.station_id || '/' || p.equipment_id || '/' || c.connector_id || '/' || a.status"
     "  FROM stations s JOIN piles p ON p.station_row = s.id JOIN connectors c"
     "  ON c.pile_row = p.id JOIN access_applications a ON a.id = p.application_id",
     "ZS001/P001/P00101/submitted", 0},
    {5,
     "INSERT INTO pile_sessions (equipment_id, protocol, peer, connected_at, disconnected_at,"
     "  close_reason) VALUES ('P001', 'ocpp1.6', '127.0.0.1', 1700000000, 1700000600, 'idle');"
     "INSERT INTO pile_sessions (equipment_id, protocol, connected_at)"
     "  VALUES ('P001', 'ocpp1.6', 1700000700);",
     "SELECT count(*) || '/' || count(disconnected_at) || '/' || max(close_reason)"
     "  FROM pile_sessions WHERE equipment_id = 'P001'",
     "2/1/idle", 0},
    /* a pile's OCPP record as versions 6 to 14 have it (15 moves its last contact) */
    {6,
     "INSERT INTO ocpp_piles (equipment_id, protocol, vendor, model, last_boot_at, last_seen_at,"
     "  violations) VALUES ('P001', 'ocpp1.6', 'Star', 'DC-120', 1700000000, 1700000100, 2);",
     "SELECT p.vendor || '/' || c.protocol || '@' || c.last_seen_at || '/' || p.violations"
     "  FROM ocpp_piles p JOIN ocpp_contacts c USING (equipment_id)",
     "Star/ocpp1.6@1700000100/2", 14},
    {6,
     "INSERT INTO ocpp_connectors (equipment_id, connector_id, status, tcec_status, updated_at)"
     "  VALUES ('P001', 1, 'Charging', 3, 1700000100);"
     "INSERT INTO ocpp_transactions (id, equipment_id, connector_id, id_tag, started_at,"
     "  stopped_at, meter_start_wh, meter_stop_wh, energy_wh, stop_reason, updated_at)"
     "  VALUES (41, 'P001', 1, 'TAG1', 1700000000, 1700003600, 1000, 21000, 20000, 'Local',"
     "  1700003600);"
     "INSERT INTO ocpp_meter_values (equipment_id, connector_id, transaction_id, sampled_at,"
     "  measurand, unit, value) VALUES ('P001', 1, 41, 1700001800,"
     "  'Energy.Active.Import.Register', 'Wh', 11000);"
     "INSERT INTO pile_violations (equipment_id, at, code, path, frame)"
     "  VALUES ('P001', 1700000050, 'TypeConstraintViolation', '$.connectorId', '[2]');",
     "SELECT p.vendor || '/' || c.tcec_status || '/' || t.energy_wh || '/' || m.value || '/' ||"
     "  v.code FROM ocpp_piles p JOIN ocpp_connectors c USING (equipment_id)"
     "  JOIN ocpp_transactions t USING (equipment_id) JOIN ocpp_meter_values m"
     "  ON m.transaction_id = t.id JOIN pile_violations v ON v.equipment_id = p.equipment_id",
     "Star/3/20000/11000.0/TypeConstraintViolation", 0},
    {7,
     "UPDATE piles SET boot_status = 'Pending', security_profile = 2 WHERE id = 21;"
     "INSERT INTO pile_commands (equipment_id, account_id, action, payload, state, created_at)"
     "  VALUES ('P001', 7, 'Reset', '{\"type\":\"Soft\"}', 'queued', 1700000000);",
     "SELECT p.boot_status || '/' || p.security_profile || '/' || c.action || '/' || c.state"
     "  FROM piles p JOIN pile_commands c USING (equipment_id)",
     "Pending/2/Reset/queued", 0},
    {8,
     "INSERT INTO tcec_tokens (operator_id, credentials_id, token_hash, issued_at, expires_at)"
     "  VALUES ('MA4UJ9XY0', 1, 'h1', 1700000000, 1700007200);"
     "INSERT INTO tcec_replay (operator_id, timestamp, seq, ts_epoch)"
     "  VALUES ('MA4UJ9XY0', '20231115060000', '0001', 1700000000);"
     "INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at, ret, msg, reason)"
     "  VALUES ('MA4UJ9XY0', 'in', 'query_token', '127.0.0.1', 1700000000, 0, '', NULL);"
     "INSERT INTO tcec_connector_status (connector_id, account_id, operator_id, status,"
     "  reported_at) VALUES ('P00101', 7, 'MA4UJ9XY0', 3, 1700000000);"
     "INSERT INTO tcec_connector_status_history (connector_id, account_id, operator_id, status,"
     "  reported_at) VALUES ('P00101', 7, 'MA4UJ9XY0', 3, 1700000000);"
     "INSERT INTO tcec_charge_orders (operator_id, start_charge_seq, account_id, connector_id,"
     "  start_time, end_time, total_power, total_elec_money, total_service_money, total_money,"
     "  stop_reason, data, received_at) VALUES ('MA4UJ9XY0', 'MA4UJ9XY0001', 7, 'P00101',"
     "  '2023-11-15 06:00:00', '2023-11-15 07:00:00', 20.5, 10, 5, 15, 0, '{}', 1700003600);"
     "INSERT INTO tcec_station_info (account_id, station_id, operator_id, data, reported_at)"
     "  VALUES (7, 'ZS001', 'MA4UJ9XY0', '{}', 1700000000);",
     "SELECT t.token_hash || '/' || r.seq || '/' || e.interface || '/' || s.status || '/' ||"
     "  h.status || '/' || o.total_power || '/' || i.station_id FROM tcec_tokens t"
     "  JOIN tcec_replay r USING (operator_id) JOIN tcec_exchanges e USING (operator_id)"
     "  JOIN tcec_connector_status s USING (operator_id)"
     "  JOIN tcec_connector_status_history h USING (operator_id)"
     "  JOIN tcec_charge_orders o USING (operator_id) JOIN tcec_station_info i USING (operator_id)",
     "h1/0001/query_token/3/3/20.5/ZS001", 0},
    {9,
     "INSERT INTO conformance_runs (id, plan, target_kind, target, detection_id, account_id,"
     "  state, created_at, started_at) VALUES (31, 'tcec102-platform', 'platform', 'MA4UJ9XY0',"
     "  5, 7, 'running', 1700000000, 1700000001);"
     "INSERT INTO conformance_checks (run_id, seq, check_id, required, verdict, reason, frames,"
     "  started_at, finished_at) VALUES (31, 1, 'token-issue', 1, 'pass', NULL,"
     "  '[{\"dir\":\"in\",\"ms\":3,\"text\":\"{}\"}]', 1700000001, 1700000002);"
     "INSERT INTO conformance_checks (run_id, seq, check_id, required)"
     "  VALUES (31, 2, 'token-obtain', 0);",
     "SELECT r.plan || '/' || r.state || '/' || r.cancel_requested || '/' || count(*) || '/' ||"
     "  sum(c.verdict = 'pass') || '+' || sum(c.verdict = 'pending') || '/' ||"
     "  max(json_array_length(c.frames))"
     "  FROM conformance_runs r JOIN conformance_checks c ON c.run_id = r.id WHERE r.id = 31",
     "tcec102-platform/running/0/2/1+1/1", 0},
    {13,
     "INSERT INTO pile_online_samples (at, online) VALUES (1700000300, 42);"
     "INSERT INTO ocpp_refusals (at, equipment_id, status, reason, peer)"
     "  VALUES (1700000001, 'NOPE', 404, 'unknown_pile', '127.0.0.1');",
     "SELECT s.online || '/' || r.equipment_id || '/' || r.status || '/' || r.reason"
     "  FROM pile_online_samples s, ocpp_refusals r",
     "42/NOPE/404/unknown_pile", 0},
    {14,
     "UPDATE pile_table_generation SET generation = 40;"
     "UPDATE piles SET password_hash = 'h2' WHERE equipment_id = 'P001';"
     "UPDATE piles SET data = '{}' WHERE equipment_id = 'P001';",
     "SELECT generation FROM pile_table_generation", "41", 0},
    /* the same pile's record as version 15 has it (the version 6 entry's other rows refer to it) */
    {15,
     "INSERT INTO ocpp_piles (equipment_id, vendor, model, last_boot_at, violations)"
     "  VALUES ('P001', 'Star', 'DC-120', 1700000000, 2);"
     "INSERT INTO ocpp_contacts (equipment_id, protocol, last_seen_at)"
     "  VALUES ('P001', 'ocpp1.6', 1700000100);",
     "SELECT p.vendor || '/' || c.protocol || '@' || c.last_seen_at || '/' || p.violations"
     "  FROM ocpp_piles p JOIN ocpp_contacts c USING (equipment_id)",
     "Star/ocpp1.6@1700000100/2", 0},
    {16,
     "INSERT INTO ocpp_connectors (equipment_id, connector_id, evse_connector_id, status,"
     "  tcec_status, updated_at) VALUES ('P001', 2, 1, 'Available', 1, 1700000200);",
     "SELECT group_concat(connector_id || ':' || evse_connector_id || ':' || status, ',')"
     "  FROM (SELECT * FROM ocpp_connectors WHERE equipment_id = 'P001'"
     "  ORDER BY connector_id, evse_connector_id)",
     "1:0:Charging,2:1:Available", 0},
};
#define NROWS (sizeof rows / sizeof rows[0])

static void test_latest_from_empty(void **state)
{
    struct fixture *f = *state;
    f->db = open_db(f, "NORMAL");
    assert_int_equal(db_schema_version(f->db), 0);
    assert_true(db_latest_version() >= 2);
    assert_int_equal(db_latest_version(), db_migrations[db_migrations_count - 1].version);
    migrate_ok(f, -1);
    assert_int_equal(db_schema_version(f->db), db_latest_version());
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (table_exists(f->db, tables[i]) != 1)
            fail_msg("table %s is missing", tables[i]);
    assert_int_equal(db_integrity_check(f->db), DB_OK);

    /* The version is in the file, not the connection. */
    db_close(f->db);
    f->db = open_db(f, "NORMAL");
    assert_int_equal(db_schema_version(f->db), db_latest_version());
}

/* Versions are numbered 1, 2, ... without gaps, in order, each with a name. */
static void test_migrations_numbered(void **state)
{
    (void)state;
    assert_true(db_migrations_count >= 1);
    for (int i = 0; i < db_migrations_count; i++) {
        assert_int_equal(db_migrations[i].version, i + 1);
        assert_non_null(db_migrations[i].name);
        assert_non_null(db_migrations[i].sql);
    }
}

static void check_rows(struct fixture *f, int k)
{
    for (size_t i = 0; i < NROWS && rows[i].version <= k; i++) {
        if (!rows_for(&rows[i], k))
            continue;
        char got[512];
        query_text(f->db, rows[i].check, got, sizeof got);
        if (strcmp(got, rows[i].expect) != 0)
            fail_msg("rows of version %d, inserted at %d, after migrating to %d: got \"%s\", "
                     "want \"%s\"",
                     rows[i].version, k, db_latest_version(), got, rows[i].expect);
    }
}

/* For every version k up to the latest: a fresh file migrated to k, the rows that k allows,
 * then migrated to the latest; the rows are all still there. */
static void test_from_each_older_version(void **state)
{
    struct fixture *f = *state;
    int latest = db_latest_version();
    if (rows[NROWS - 1].version < latest)
        print_message("note: no rows for migrations above %d yet; add an entry to rows[]\n",
                      rows[NROWS - 1].version);
    for (int k = 0; k <= latest; k++) {
        db_close(f->db);
        snprintf(f->path, sizeof f->path, "%s/from%d/evgate.db", f->dir, k);
        f->db = open_db(f, "NORMAL");
        migrate_ok(f, k);
        assert_int_equal(db_schema_version(f->db), k);
        for (size_t i = 0; i < NROWS && rows[i].version <= k; i++)
            if (rows_for(&rows[i], k))
                db_fixture_exec(f->db, rows[i].insert);

        migrate_ok(f, -1);
        assert_int_equal(db_schema_version(f->db), latest);
        check_rows(f, k);
        for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
            if (table_exists(f->db, tables[i]) != 1)
                fail_msg("from version %d: table %s is missing", k, tables[i]);
        assert_int_equal(db_integrity_check(f->db), DB_OK);
        char fk[64];
        query_text(f->db, "PRAGMA foreign_key_check", fk, sizeof fk);
        assert_string_equal(fk, "");
    }
}

/* Each step applies only the versions between the current one and the target. */
static void test_step_by_step(void **state)
{
    struct fixture *f = *state;
    f->db = open_db(f, "NORMAL");
    for (int k = 1; k <= db_latest_version(); k++) {
        migrate_ok(f, k);
        assert_int_equal(db_schema_version(f->db), k);
    }
    /* A lower target never goes back: migrations run forward only. */
    migrate_ok(f, 1);
    assert_int_equal(db_schema_version(f->db), db_latest_version());
}

static void test_migrate_twice_is_noop(void **state)
{
    struct fixture *f = *state;
    f->db = open_db(f, "NORMAL");
    migrate_ok(f, -1);
    for (size_t i = 0; i < NROWS && rows[i].version <= db_latest_version(); i++)
        if (rows_for(&rows[i], db_latest_version()))
            db_fixture_exec(f->db, rows[i].insert);
    char *before = schema_of(f->db);
    migrate_ok(f, -1);
    migrate_ok(f, db_latest_version());
    char *after = schema_of(f->db);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(db_schema_version(f->db), db_latest_version());
    check_rows(f, db_latest_version());
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    f->db = open_db(f, "NORMAL");
    migrate_ok(f, -1);
    int newer = db_latest_version() + 1;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", newer);
    db_fixture_exec(f->db, sql);

    f->err[0] = 0;
    assert_int_not_equal(db_migrate(f->db, -1, f->err, sizeof f->err), DB_OK);
    char want[32];
    snprintf(want, sizeof want, "%d", newer);
    if (!strstr(f->err, "newer") || !strstr(f->err, want))
        fail_msg("unhelpful message: \"%s\"", f->err);
    assert_int_equal(db_schema_version(f->db), newer);
    /* Nothing was left locked: the connection still works. */
    assert_int_equal(db_begin(f->db), DB_OK);
    assert_int_equal(db_commit(f->db), DB_OK);
}

static void test_wal_and_synchronous(void **state)
{
    struct fixture *f = *state;
    char got[64];
    f->db = open_db(f, "NORMAL");
    query_text(f->db, "PRAGMA journal_mode", got, sizeof got);
    assert_string_equal(got, "wal");
    query_text(f->db, "PRAGMA synchronous", got, sizeof got);
    assert_string_equal(got, "1"); /* NORMAL */
    query_text(f->db, "PRAGMA foreign_keys", got, sizeof got);
    assert_string_equal(got, "1");
    db_close(f->db);

    f->db = open_db(f, "FULL");
    query_text(f->db, "PRAGMA journal_mode", got, sizeof got);
    assert_string_equal(got, "wal");
    query_text(f->db, "PRAGMA synchronous", got, sizeof got);
    assert_string_equal(got, "2"); /* FULL */
    db_close(f->db);
    f->db = NULL;

    assert_null(db_open(f->path, BUSY_MS, "OFF", f->err, sizeof f->err));
    assert_non_null(strstr(f->err, "OFF"));
}

/* ---------- two connections migrating one fresh file at once ---------- */

struct racer {
    const char *path;
    pthread_barrier_t *start;
    int open_ok;
    int rc;
    int version;
    char err[256];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->start);
    struct db *db = db_open(r->path, BUSY_MS, "NORMAL", r->err, sizeof r->err);
    r->open_ok = db != NULL;
    if (db) {
        r->rc = db_migrate(db, -1, r->err, sizeof r->err);
        r->version = db_schema_version(db);
        db_close(db);
    }
    return NULL;
}

/* Runs `n` racers on f->path and returns the log they wrote (caller frees): the "migrated"
 * events show how often each migration was applied. */
static char *run_racers(struct fixture *f, struct racer *racers, int n)
{
    char logpath[] = "/tmp/evgate-test-db-log-XXXXXX";
    int logfd = mkstemp(logpath);
    assert_true(logfd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(logfd, STDERR_FILENO) >= 0);

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    pthread_t th[8];
    assert_true(n <= 8);
    for (int i = 0; i < n; i++) {
        memset(&racers[i], 0, sizeof racers[i]);
        racers[i].path = f->path;
        racers[i].start = &start;
        pthread_create(&th[i], NULL, race, &racers[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t len = lseek(logfd, 0, SEEK_END);
    char *log = calloc(1, (size_t)len + 1);
    assert_non_null(log);
    assert_int_equal(pread(logfd, log, (size_t)len, 0), len);
    close(logfd);
    unlink(logpath);
    fputs(log, stderr); /* still shown with the test's output */
    return log;
}

static int count_migrated(const char *log, int version)
{
    char needle[64];
    snprintf(needle, sizeof needle, " db migrated version=%d ", version);
    int n = 0;
    for (const char *p = log; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_concurrent_first_start(void **state)
{
    struct fixture *f = *state;
    /* Repeated, since the interleaving differs from run to run. */
    for (int round = 0; round < 10; round++) {
        snprintf(f->path, sizeof f->path, "%s/round%d/evgate.db", f->dir, round);
        struct racer racers[2];
        char *log = run_racers(f, racers, 2);
        for (int i = 0; i < 2; i++) {
            if (!racers[i].open_ok)
                fail_msg("round %d: racer %d could not open: %s", round, i, racers[i].err);
            if (racers[i].rc != DB_OK)
                fail_msg("round %d: racer %d: db_migrate %d: %s", round, i, racers[i].rc,
                         racers[i].err);
            assert_int_equal(racers[i].version, db_latest_version());
        }
        for (int v = 1; v <= db_latest_version(); v++) {
            int n = count_migrated(log, v);
            if (n != 1)
                fail_msg("round %d: migration %d applied %d times", round, v, n);
        }
        free(log);

        f->db = open_db(f, "NORMAL");
        assert_int_equal(db_schema_version(f->db), db_latest_version());
        for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
            assert_int_equal(table_exists(f->db, tables[i]), 1);
        assert_int_equal(db_integrity_check(f->db), DB_OK);
        db_close(f->db);
        f->db = NULL;
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_latest_from_empty),       T(test_migrations_numbered),
        T(test_from_each_older_version), T(test_step_by_step),
        T(test_migrate_twice_is_noop),   T(test_newer_schema_refused),
        T(test_wal_and_synchronous),     T(test_concurrent_first_start),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
