/* Unit tests of db/runs.c: the life of a conformance run (queued -> running -> passed | failed |
 * error | cancelled) and of its checks, which transitions each side may make (DB_CONFLICT /
 * DB_NOTFOUND otherwise), one active run per target, the graded detection moving to `testing`
 * and getting its verdict, cancel of queued and running runs, a gateway restart, the frames
 * bound, listing filters and paging, retention, and running inside a caller's transaction (the
 * gateway's writer). One fresh database per test. */
#include "db/accounts.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "db/detections.h"
#include "db/records.h"
#include "db/runs.h"

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

static const struct db_run_check_in three[] = {
    {"boot", 1},
    {"heartbeat", 1},
    {"data-transfer", 0},
};

static int64_t add_run(struct db *db, const char *plan, const char *kind, const char *target,
                       int64_t detection, int64_t account, int64_t at)
{
    struct db_run_in r = {plan, kind, target, detection, account};
    int64_t id = 0;
    assert_int_equal(db_run_create(db, &r, three, 3, at, &id), DB_OK);
    assert_true(id > 0);
    return id;
}

static int64_t add_pile_run(struct db *db, const char *pile, int64_t at)
{
    return add_run(db, "ocpp16-core", "pile", pile, 0, 1, at);
}

/* Run `id` (caller decrefs *keep) and its field `key` as a string. */
static const char *run_str(struct db *db, int64_t id, const char *key, json_t **keep)
{
    json_t *r = NULL;
    assert_int_equal(db_run_get(db, id, &r), DB_OK);
    *keep = r;
    return json_string_value(json_object_get(r, key));
}

static json_t *check_of(json_t *run, int seq)
{
    return json_array_get(json_object_get(run, "checks"), (size_t)(seq - 1));
}

static const char *verdict_of(json_t *run, int seq)
{
    return json_string_value(json_object_get(check_of(run, seq), "verdict"));
}

/* Column `col` of detection `id` as text into buf ("" for NULL). */
static const char *detection_col(struct db *db, int64_t id, const char *col, char *buf, size_t len)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM detections WHERE id = %lld", col, (long long)id);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
    sqlite3_finalize(st);
    return buf;
}

static int64_t audit_rows(struct db *db, const char *action)
{
    int64_t n = 0;
    assert_int_equal(db_audit_count(db, action, &n), DB_OK);
    return n;
}

/* An operator with a `self` detection in `status` (and a delegated one when asked). */
static int64_t make_detection(struct db *db, int64_t *account, const char *mode, const char *status)
{
    if (!*account) {
        struct db_organisation_in org = {
            "中山市测试公司", "91442000MA4UJ9XY09", "MA4UJ9XY0", "张三", "李四",
            "13800138000",    "a@example.com",      "中山市",    0};
        const char *field = NULL;
        assert_int_equal(db_operator_register(db, "op_one", "$argon2id$x", &org, account, &field),
                         DB_OK);
    }
    int64_t id = 0;
    json_t *data = json_object();
    assert_int_equal(db_detection_create(db, *account, mode, data, 0, &id), DB_OK);
    json_decref(data);
    if (strcmp(status, "draft") != 0)
        assert_int_equal(db_detection_transition(db, id, "draft", status, NULL, 0, "test"), DB_OK);
    return id;
}

/* ---- creating ---------------------------------------------------------------------------- */

static void test_create_and_get(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id = add_pile_run(db, "P1", 100);
    json_t *r = NULL;
    assert_int_equal(db_run_get(db, id, &r), DB_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), id);
    assert_string_equal(json_string_value(json_object_get(r, "plan")), "ocpp16-core");
    assert_string_equal(json_string_value(json_object_get(r, "target_kind")), "pile");
    assert_string_equal(json_string_value(json_object_get(r, "target")), "P1");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "queued");
    assert_true(json_is_null(json_object_get(r, "detection_id")));
    assert_true(json_is_null(json_object_get(r, "reason")));
    assert_true(json_is_null(json_object_get(r, "started_at")));
    assert_true(json_is_false(json_object_get(r, "cancel_requested")));
    assert_int_equal(json_integer_value(json_object_get(r, "account_id")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "created_at")), 100);
    json_t *sum = json_object_get(r, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "total")), 3);
    assert_int_equal(json_integer_value(json_object_get(sum, "pending")), 3);
    assert_int_equal(json_integer_value(json_object_get(sum, "pass")), 0);
    /* the checks in plan order, every one pending from the start */
    assert_int_equal(json_array_size(json_object_get(r, "checks")), 3);
    for (int seq = 1; seq <= 3; seq++) {
        json_t *c = check_of(r, seq);
        assert_int_equal(json_integer_value(json_object_get(c, "seq")), seq);
        assert_string_equal(json_string_value(json_object_get(c, "check_id")),
                            three[seq - 1].check_id);
        assert_int_equal(json_is_true(json_object_get(c, "required")), three[seq - 1].required);
        assert_string_equal(verdict_of(r, seq), "pending");
        assert_int_equal(json_array_size(json_object_get(c, "frames")), 0);
        assert_int_equal(json_integer_value(json_object_get(c, "frames_dropped")), 0);
        assert_true(json_is_null(json_object_get(c, "started_at")));
    }
    json_decref(r);
    assert_int_equal(db_run_get(db, id + 100, &r), DB_NOTFOUND);
    assert_null(r);
}

static void test_create_bad_arguments(void **state)
{
    struct db *db = db_fixture_db(state);
    struct db_run_check_in many[DB_RUN_CHECKS_MAX + 1];
    for (int i = 0; i <= DB_RUN_CHECKS_MAX; i++)
        many[i] = (struct db_run_check_in){"c", 1};
    struct db_run_check_in empty_id[] = {{"boot", 1}, {"", 1}};
    char long_name[DB_RUN_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    struct db_run_in ok = {"ocpp16-core", "pile", "P1", 0, 1};
    struct db_run_in bad_kind = {"ocpp16-core", "station", "P1", 0, 1};
    struct db_run_in no_plan = {NULL, "pile", "P1", 0, 1};
    struct db_run_in long_target = {"ocpp16-core", "pile", long_name, 0, 1};
    int64_t id = 0;
    assert_int_equal(db_run_create(db, &ok, three, 0, 100, &id), DB_ERROR);
    assert_int_equal(db_run_create(db, &ok, many, DB_RUN_CHECKS_MAX + 1, 100, &id), DB_ERROR);
    assert_int_equal(db_run_create(db, &ok, empty_id, 2, 100, &id), DB_ERROR);
    assert_int_equal(db_run_create(db, &bad_kind, three, 3, 100, &id), DB_ERROR);
    assert_int_equal(db_run_create(db, &no_plan, three, 3, 100, &id), DB_ERROR);
    assert_int_equal(db_run_create(db, &long_target, three, 3, 100, &id), DB_ERROR);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_runs"), 0);
    /* the most checks a run may have */
    assert_int_equal(db_run_create(db, &ok, many, DB_RUN_CHECKS_MAX, 100, &id), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_checks"),
                     DB_RUN_CHECKS_MAX);
}

static void test_one_active_run_per_target(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t a = add_pile_run(db, "P1", 100);
    struct db_run_in again = {"ocpp201-core", "pile", "P1", 0, 2};
    int64_t id = 0;
    /* queued: refused, and nothing of it written */
    assert_int_equal(db_run_create(db, &again, three, 3, 101, &id), DB_CONFLICT);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_runs"), 1);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_checks"), 3);
    /* running: refused too */
    assert_int_equal(db_run_start(db, a, 102), DB_OK);
    assert_int_equal(db_run_create(db, &again, three, 3, 103, &id), DB_CONFLICT);
    /* other targets are free, and a platform may share a pile's name */
    add_pile_run(db, "P2", 103);
    add_run(db, "tcec102-platform", "platform", "P1", 0, 1, 103);
    /* once finished, the target takes a new run */
    assert_int_equal(db_run_finish(db, a, "error", "the pile disconnected", 104, NULL), DB_OK);
    assert_int_equal(db_run_create(db, &again, three, 3, 105, &id), DB_OK);
    assert_true(id > a);
}

/* ---- the gateway's side ------------------------------------------------------------------ */

struct seen {
    int64_t ids[16];
    char targets[16][16];
    int64_t detections[16];
    int n;
    int stop_at; /* return nonzero at this many rows (0 = never) */
};

static int collect(void *arg, const struct db_run_head *h)
{
    struct seen *s = arg;
    assert_non_null(h->plan);
    assert_non_null(h->target_kind);
    s->ids[s->n] = h->id;
    snprintf(s->targets[s->n], sizeof s->targets[0], "%s", h->target);
    s->detections[s->n] = h->detection_id;
    s->n++;
    return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void test_queued_and_start(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t ids[4];
    const char *piles[4] = {"P1", "P2", "P3", "P4"};
    for (int i = 0; i < 4; i++)
        ids[i] = add_pile_run(db, piles[i], 100 + i);
    assert_int_equal(db_run_start(db, ids[1], 110), DB_OK);

    struct seen s = {0};
    assert_int_equal(db_runs_queued(db, 0, 100, collect, &s), DB_OK);
    assert_int_equal(s.n, 3);
    assert_true(s.ids[0] == ids[0] && s.ids[1] == ids[2] && s.ids[2] == ids[3]);
    assert_string_equal(s.targets[1], "P3");
    assert_true(s.detections[0] == 0);

    memset(&s, 0, sizeof s); /* after an id, with a limit */
    assert_int_equal(db_runs_queued(db, ids[0], 1, collect, &s), DB_OK);
    assert_int_equal(s.n, 1);
    assert_true(s.ids[0] == ids[2]);

    memset(&s, 0, sizeof s); /* the callback stops it */
    s.stop_at = 1;
    assert_int_equal(db_runs_queued(db, 0, 100, collect, &s), 7);
    assert_int_equal(s.n, 1);

    /* started: running with its time; a second start loses */
    json_t *r;
    assert_string_equal(run_str(db, ids[1], "state", &r), "running");
    assert_int_equal(json_integer_value(json_object_get(r, "started_at")), 110);
    json_decref(r);
    assert_int_equal(db_run_start(db, ids[1], 111), DB_CONFLICT);
    assert_int_equal(db_run_start(db, ids[3] + 1, 111), DB_NOTFOUND);
    /* a cancelled run cannot be started */
    assert_int_equal(db_run_cancel(db, ids[0], 112, NULL), DB_OK);
    assert_int_equal(db_run_start(db, ids[0], 113), DB_CONFLICT);
}

static void test_check_rules(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id = add_pile_run(db, "P1", 100);
    /* nothing happens to the checks of a queued run */
    assert_int_equal(db_run_check_start(db, id, 1, 101), DB_CONFLICT);
    assert_int_equal(db_run_check_verdict(db, id, 1, "pass", NULL, NULL, 101), DB_CONFLICT);
    assert_int_equal(db_run_start(db, id, 101), DB_OK);
    assert_int_equal(db_run_check_start(db, id, 1, 102), DB_OK);
    assert_int_equal(db_run_check_start(db, id, 1, 102), DB_CONFLICT);
    assert_int_equal(db_run_check_start(db, id, 4, 102), DB_NOTFOUND);
    assert_int_equal(db_run_check_start(db, id + 1, 1, 102), DB_NOTFOUND);
    /* only final verdicts */
    assert_int_equal(db_run_check_verdict(db, id, 1, "pending", NULL, NULL, 103), DB_ERROR);
    assert_int_equal(db_run_check_verdict(db, id, 1, "running", NULL, NULL, 103), DB_ERROR);
    assert_int_equal(db_run_check_verdict(db, id, 1, NULL, NULL, NULL, 103), DB_ERROR);
    assert_int_equal(db_run_check_verdict(db, id, 1, "pass", NULL,
                                          "[{\"dir\":\"out\",\"ms\":0,\"text\":\"[2,\\\"1\\\","
                                          "\\\"Reset\\\",{}]\"}]",
                                          104),
                     DB_OK);
    /* decided is final */
    assert_int_equal(db_run_check_verdict(db, id, 1, "fail", "late", NULL, 105), DB_CONFLICT);
    assert_int_equal(db_run_check_start(db, id, 1, 105), DB_CONFLICT);
    /* a check may be decided without having run (skipped: needs a person) */
    assert_int_equal(
        db_run_check_verdict(db, id, 2, "skipped", "needs a person at the pile", NULL, 106), DB_OK);
    assert_int_equal(db_run_check_verdict(db, id, 9, "pass", NULL, NULL, 106), DB_NOTFOUND);

    json_t *r = NULL;
    assert_int_equal(db_run_get(db, id, &r), DB_OK);
    json_t *c1 = check_of(r, 1), *c2 = check_of(r, 2);
    assert_string_equal(verdict_of(r, 1), "pass");
    assert_int_equal(json_integer_value(json_object_get(c1, "started_at")), 102);
    assert_int_equal(json_integer_value(json_object_get(c1, "finished_at")), 104);
    json_t *f = json_array_get(json_object_get(c1, "frames"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "dir")), "out");
    assert_string_equal(json_string_value(json_object_get(f, "text")), "[2,\"1\",\"Reset\",{}]");
    assert_string_equal(verdict_of(r, 2), "skipped");
    assert_string_equal(json_string_value(json_object_get(c2, "reason")),
                        "needs a person at the pile");
    assert_int_equal(json_integer_value(json_object_get(c2, "started_at")), 106);
    json_t *sum = json_object_get(r, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "pass")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "skipped")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "pending")), 1);
    json_decref(r);

    /* a finished run's checks are closed */
    assert_int_equal(db_run_finish(db, id, NULL, NULL, 107, NULL), DB_OK);
    assert_int_equal(db_run_check_start(db, id, 3, 108), DB_CONFLICT);
    assert_int_equal(db_run_check_verdict(db, id, 3, "pass", NULL, NULL, 108), DB_CONFLICT);
}

static void test_frames_bound(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id = add_pile_run(db, "P1", 100);
    assert_int_equal(db_run_start(db, id, 101), DB_OK);
    /* not an array of objects: refused, the check untouched */
    assert_int_equal(db_run_check_verdict(db, id, 1, "pass", NULL, "{}", 102), DB_ERROR);
    assert_int_equal(db_run_check_verdict(db, id, 1, "pass", NULL, "[1]", 102), DB_ERROR);
    assert_int_equal(db_run_check_verdict(db, id, 1, "pass", NULL, "not json", 102), DB_ERROR);

    /* 70 frames, the first with a text of 5000 bytes of three-byte characters */
    json_t *frames = json_array();
    char *big = malloc(5001);
    assert_non_null(big);
    for (int i = 0; i < 5000; i += 3)
        memcpy(big + i, i + 3 <= 5000 ? "桩" : "xx", i + 3 <= 5000 ? 3 : 2);
    big[5000] = 0;
    assert_int_equal(strlen(big), 5000);
    for (int i = 0; i < 70; i++)
        json_array_append_new(frames,
                              json_pack("{s:s, s:i, s:s}", "dir", i % 2 ? "in" : "out", "ms",
                                        i * 10, "text", i == 0 ? big : "[3,\"1\",{}]"));
    char *text = json_dumps(frames, JSON_COMPACT);
    json_decref(frames);
    char reason[DB_RUN_REASON_MAX + 100];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    assert_int_equal(db_run_check_verdict(db, id, 1, "fail", reason, text, 103), DB_OK);
    free(text);
    free(big);

    json_t *r = NULL;
    assert_int_equal(db_run_get(db, id, &r), DB_OK);
    json_t *c = check_of(r, 1);
    json_t *kept = json_object_get(c, "frames");
    assert_int_equal(json_array_size(kept), DB_RUN_FRAMES_MAX);
    assert_int_equal(json_integer_value(json_object_get(c, "frames_dropped")),
                     70 - DB_RUN_FRAMES_MAX);
    json_t *first = json_array_get(kept, 0);
    const char *t = json_string_value(json_object_get(first, "text"));
    size_t tlen = strlen(t);
    assert_true(tlen <= DB_RUN_FRAME_TEXT_MAX && tlen > DB_RUN_FRAME_TEXT_MAX - 3);
    assert_int_equal(tlen % 3, 0); /* cut between characters, never inside one */
    assert_int_equal(json_integer_value(json_object_get(first, "cut")), 5000);
    json_t *last = json_array_get(kept, DB_RUN_FRAMES_MAX - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "ms")), (DB_RUN_FRAMES_MAX - 1) * 10);
    assert_null(json_object_get(last, "cut"));
    assert_int_equal(strlen(json_string_value(json_object_get(c, "reason"))), DB_RUN_REASON_MAX);
    json_decref(r);

    /* NULL frames: none */
    assert_int_equal(db_run_check_verdict(db, id, 2, "pass", NULL, NULL, 104), DB_OK);
    assert_int_equal(db_run_get(db, id, &r), DB_OK);
    assert_int_equal(json_array_size(json_object_get(check_of(r, 2), "frames")), 0);
    json_decref(r);
}

static void test_finish_passed_and_failed(void **state)
{
    struct db *db = db_fixture_db(state);
    char final[16];
    json_t *r;
    /* every required check passed, the optional one failed: passed */
    int64_t a = add_pile_run(db, "P1", 100);
    assert_int_equal(db_run_finish(db, a, NULL, NULL, 101, final), DB_CONFLICT); /* queued */
    assert_int_equal(db_run_start(db, a, 101), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 1, "pass", NULL, NULL, 102), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 2, "pass", NULL, NULL, 102), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 3, "fail", "unknown vendor accepted", NULL, 102),
                     DB_OK);
    assert_int_equal(db_run_finish(db, a, "passed", NULL, 103, final), DB_ERROR); /* computed */
    assert_int_equal(db_run_finish(db, a, NULL, NULL, 103, final), DB_OK);
    assert_string_equal(final, "passed");
    assert_string_equal(run_str(db, a, "state", &r), "passed");
    assert_true(json_is_null(json_object_get(r, "reason")));
    assert_int_equal(json_integer_value(json_object_get(r, "finished_at")), 103);
    json_decref(r);
    /* finished is final */
    assert_int_equal(db_run_finish(db, a, NULL, NULL, 104, NULL), DB_CONFLICT);
    assert_int_equal(db_run_finish(db, a, "error", "late", 104, NULL), DB_CONFLICT);
    assert_int_equal(db_run_finish(db, a + 100, NULL, NULL, 104, NULL), DB_NOTFOUND);

    /* a required check failed: failed, the reason counting them */
    int64_t b = add_pile_run(db, "P1", 110);
    assert_int_equal(db_run_start(db, b, 111), DB_OK);
    assert_int_equal(db_run_check_verdict(db, b, 1, "fail", "no BootNotification", NULL, 112),
                     DB_OK);
    assert_int_equal(db_run_check_verdict(db, b, 2, "pass", NULL, NULL, 112), DB_OK);
    assert_int_equal(db_run_check_verdict(db, b, 3, "pass", NULL, NULL, 112), DB_OK);
    assert_int_equal(db_run_finish(db, b, NULL, NULL, 113, final), DB_OK);
    assert_string_equal(final, "failed");
    assert_string_equal(run_str(db, b, "state", &r), "failed");
    assert_string_equal(json_string_value(json_object_get(r, "reason")),
                        "1 required check did not pass");
    json_decref(r);

    /* a required check skipped is not passed; undecided checks end skipped */
    int64_t c = add_pile_run(db, "P1", 120);
    assert_int_equal(db_run_start(db, c, 121), DB_OK);
    assert_int_equal(db_run_check_verdict(db, c, 1, "pass", NULL, NULL, 122), DB_OK);
    assert_int_equal(db_run_check_start(db, c, 2, 122), DB_OK);
    assert_int_equal(db_run_finish(db, c, NULL, NULL, 123, final), DB_OK);
    assert_string_equal(final, "failed");
    assert_string_equal(run_str(db, c, "state", &r), "failed");
    assert_string_equal(verdict_of(r, 2), "skipped");
    assert_string_equal(verdict_of(r, 3), "skipped");
    assert_string_equal(json_string_value(json_object_get(check_of(r, 3), "reason")),
                        "the run ended before this check");
    assert_int_equal(json_integer_value(json_object_get(check_of(r, 3), "finished_at")), 123);
    json_decref(r);

    /* optional checks alone never fail a run */
    int64_t d = add_pile_run(db, "P1", 130);
    assert_int_equal(db_run_start(db, d, 131), DB_OK);
    assert_int_equal(db_run_check_verdict(db, d, 1, "pass", NULL, NULL, 132), DB_OK);
    assert_int_equal(db_run_check_verdict(db, d, 2, "pass", NULL, NULL, 132), DB_OK);
    assert_int_equal(db_run_check_verdict(db, d, 3, "error", "timeout", NULL, 132), DB_OK);
    assert_int_equal(db_run_finish(db, d, NULL, "ok", 133, final), DB_OK);
    assert_string_equal(final, "passed");
    assert_string_equal(run_str(db, d, "reason", &r), "ok");
    json_decref(r);
}

static void test_finish_error_and_cancelled(void **state)
{
    struct db *db = db_fixture_db(state);
    json_t *r;
    char final[16];
    int64_t a = add_pile_run(db, "P1", 100);
    assert_int_equal(db_run_start(db, a, 101), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 1, "fail", "x", NULL, 102), DB_OK);
    assert_int_equal(db_run_check_start(db, a, 2, 102), DB_OK);
    assert_int_equal(db_run_finish(db, a, "error", "the pile disconnected", 103, final), DB_OK);
    assert_string_equal(final, "error");
    assert_string_equal(run_str(db, a, "state", &r), "error");
    assert_string_equal(json_string_value(json_object_get(r, "reason")), "the pile disconnected");
    assert_string_equal(verdict_of(r, 1), "fail"); /* decided stays */
    assert_string_equal(verdict_of(r, 2), "error");
    assert_string_equal(json_string_value(json_object_get(check_of(r, 2), "reason")),
                        "the pile disconnected");
    assert_string_equal(verdict_of(r, 3), "skipped");
    json_decref(r);

    int64_t b = add_pile_run(db, "P1", 110);
    assert_int_equal(db_run_start(db, b, 111), DB_OK);
    assert_int_equal(db_run_check_start(db, b, 1, 112), DB_OK);
    assert_int_equal(db_run_finish(db, b, "cancelled", NULL, 113, final), DB_OK);
    assert_string_equal(final, "cancelled");
    assert_string_equal(run_str(db, b, "state", &r), "cancelled");
    assert_string_equal(json_string_value(json_object_get(r, "reason")), "cancelled");
    for (int seq = 1; seq <= 3; seq++) {
        assert_string_equal(verdict_of(r, seq), "skipped");
        assert_string_equal(json_string_value(json_object_get(check_of(r, seq), "reason")),
                            "cancelled");
    }
    json_decref(r);
}

static void test_cancel(void **state)
{
    struct db *db = db_fixture_db(state);
    json_t *r;
    int now = -1, flag = -1;
    /* queued: cancelled at once */
    int64_t q = add_pile_run(db, "P1", 100);
    assert_int_equal(db_run_cancel_requested(db, q, &flag), DB_OK);
    assert_int_equal(flag, 0);
    assert_int_equal(db_run_cancel(db, q, 101, &now), DB_OK);
    assert_int_equal(now, 1);
    assert_string_equal(run_str(db, q, "state", &r), "cancelled");
    assert_int_equal(json_integer_value(json_object_get(r, "finished_at")), 101);
    assert_string_equal(verdict_of(r, 1), "skipped");
    assert_string_equal(json_string_value(json_object_get(check_of(r, 1), "reason")), "cancelled");
    json_decref(r);
    assert_int_equal(db_run_start(db, q, 102), DB_CONFLICT); /* the gateway comes too late */
    assert_int_equal(db_run_cancel(db, q, 102, &now), DB_CONFLICT);

    /* running: the engine is asked, the run goes on until it looks */
    int64_t a = add_pile_run(db, "P1", 110);
    assert_int_equal(db_run_start(db, a, 111), DB_OK);
    assert_int_equal(db_run_check_start(db, a, 1, 111), DB_OK);
    now = -1;
    assert_int_equal(db_run_cancel(db, a, 112, &now), DB_OK);
    assert_int_equal(now, 0);
    assert_int_equal(db_run_cancel_requested(db, a, &flag), DB_OK);
    assert_int_equal(flag, 1);
    assert_string_equal(run_str(db, a, "state", &r), "running");
    assert_true(json_is_true(json_object_get(r, "cancel_requested")));
    json_decref(r);
    assert_int_equal(db_run_cancel(db, a, 113, NULL), DB_OK); /* asking twice is fine */
    assert_int_equal(db_run_finish(db, a, "cancelled", NULL, 114, NULL), DB_OK);
    assert_string_equal(run_str(db, a, "state", &r), "cancelled");
    assert_string_equal(verdict_of(r, 1), "skipped");
    json_decref(r);
    /* finished: nothing to cancel; none: not found */
    assert_int_equal(db_run_cancel(db, a, 115, NULL), DB_CONFLICT);
    assert_int_equal(db_run_cancel(db, a + 100, 115, NULL), DB_NOTFOUND);
    assert_int_equal(db_run_cancel_requested(db, a + 100, &flag), DB_NOTFOUND);
}

static void test_gateway_restart(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t account = 0, det = make_detection(db, &account, "self", "approved");
    int64_t a = add_pile_run(db, "P1", 100),
            b = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 100);
    int64_t q = add_pile_run(db, "P2", 100), done = add_pile_run(db, "P3", 100);
    assert_int_equal(db_run_start(db, a, 101), DB_OK);
    assert_int_equal(db_run_start(db, b, 101), DB_OK);
    assert_int_equal(db_run_start(db, done, 101), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 1, "pass", NULL, NULL, 102), DB_OK);
    assert_int_equal(db_run_check_start(db, a, 2, 102), DB_OK);
    assert_int_equal(db_run_finish(db, done, "error", "the pile disconnected", 103, NULL), DB_OK);

    int64_t n = 0;
    assert_int_equal(db_runs_fail_running(db, 200, &n), DB_OK);
    assert_true(n == 2);
    json_t *r;
    assert_string_equal(run_str(db, a, "state", &r), "error");
    assert_string_equal(json_string_value(json_object_get(r, "reason")), DB_RUN_RESTARTED);
    assert_int_equal(json_integer_value(json_object_get(r, "finished_at")), 200);
    assert_string_equal(verdict_of(r, 1), "pass");
    assert_string_equal(verdict_of(r, 2), "error");
    assert_string_equal(json_string_value(json_object_get(check_of(r, 2), "reason")),
                        DB_RUN_RESTARTED);
    assert_string_equal(verdict_of(r, 3), "skipped");
    json_decref(r);
    assert_string_equal(run_str(db, b, "state", &r), "error");
    json_decref(r);
    assert_string_equal(run_str(db, q, "state", &r), "queued"); /* to be taken */
    json_decref(r);
    assert_string_equal(run_str(db, done, "reason", &r), "the pile disconnected");
    assert_int_equal(json_integer_value(json_object_get(r, "finished_at")), 103);
    json_decref(r);
    /* the platform's detection judged nothing: back to approved, may run again */
    char buf[64];
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "approved");
    assert_string_equal(detection_col(db, det, "verdict", buf, sizeof buf), "");
    assert_int_equal(audit_rows(db, "detection.testing_ended"), 1);

    /* again: nothing running */
    assert_int_equal(db_runs_fail_running(db, 201, &n), DB_OK);
    assert_true(n == 0);
    /* and a new run on the same targets succeeds */
    int64_t a2 = add_pile_run(db, "P1", 210);
    assert_int_equal(db_run_start(db, a2, 211), DB_OK);
    for (int seq = 1; seq <= 3; seq++)
        assert_int_equal(db_run_check_verdict(db, a2, seq, "pass", NULL, NULL, 212), DB_OK);
    char final[16];
    assert_int_equal(db_run_finish(db, a2, NULL, NULL, 213, final), DB_OK);
    assert_string_equal(final, "passed");
    add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 214);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "testing");
}

/* ---- the graded detection ---------------------------------------------------------------- */

static void test_detection_lifecycle(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t account = 0, det = make_detection(db, &account, "self", "approved");
    char buf[256];
    /* queuing moves it to testing, with an audit row by who started it */
    int64_t a = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 100);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "testing");
    assert_int_equal(audit_rows(db, "detection.testing"), 1);
    json_t *audit = db_audit_for_object(db, "detection", det);
    json_t *last = json_array_get(audit, json_array_size(audit) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "action")), "detection.testing");
    assert_int_equal(json_integer_value(json_object_get(last, "actor_id")), account);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(last, "detail"), "run_id")),
                     a);
    json_decref(audit);
    json_t *r;
    assert_string_equal(run_str(db, a, "state", &r), "queued");
    assert_int_equal(json_integer_value(json_object_get(r, "detection_id")), det);
    json_decref(r);
    /* a detection in testing cannot start another run (even for another target) */
    struct db_run_in other = {"tcec102-platform", "platform", "OTHER0001", det, account};
    int64_t id = 0;
    assert_int_equal(db_run_create(db, &other, three, 3, 101, &id), DB_CONFLICT);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_runs"), 1);

    /* a required check failed: the detection failed, the note naming the run */
    assert_int_equal(db_run_start(db, a, 102), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 1, "fail", "bad signature accepted", NULL, 103),
                     DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 2, "pass", NULL, NULL, 103), DB_OK);
    assert_int_equal(db_run_check_verdict(db, a, 3, "pass", NULL, NULL, 103), DB_OK);
    assert_int_equal(db_run_finish(db, a, NULL, NULL, 104, NULL), DB_OK);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "failed");
    assert_string_equal(detection_col(db, det, "verdict", buf, sizeof buf), "failed");
    assert_string_equal(detection_col(db, det, "verdict_source", buf, sizeof buf), "run");
    char want[128];
    snprintf(want, sizeof want, "run %lld failed: 1 required check did not pass", (long long)a);
    assert_string_equal(detection_col(db, det, "verdict_note", buf, sizeof buf), want);
    assert_int_equal(audit_rows(db, "detection.verdict"), 1);

    /* the operator fixes it and reruns: from failed to testing, then passed */
    int64_t b = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 110);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "testing");
    assert_int_equal(db_run_start(db, b, 111), DB_OK);
    for (int seq = 1; seq <= 2; seq++)
        assert_int_equal(db_run_check_verdict(db, b, seq, "pass", NULL, NULL, 112), DB_OK);
    assert_int_equal(db_run_check_verdict(db, b, 3, "fail", "optional", NULL, 112), DB_OK);
    assert_int_equal(db_run_finish(db, b, NULL, NULL, 113, NULL), DB_OK);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "passed");
    assert_string_equal(detection_col(db, det, "verdict", buf, sizeof buf), "passed");
    snprintf(want, sizeof want, "run %lld passed", (long long)b);
    assert_string_equal(detection_col(db, det, "verdict_note", buf, sizeof buf), want);
    assert_string_equal(detection_col(db, det, "verdict_at", buf, sizeof buf), "113");
    assert_int_equal(audit_rows(db, "detection.verdict"), 2);
    /* passed: no further run grades it */
    struct db_run_in again = {"tcec102-platform", "platform", "MA4UJ9XY0", det, account};
    assert_int_equal(db_run_create(db, &again, three, 3, 120, &id), DB_CONFLICT);
}

static void test_detection_refused(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t account = 0;
    int64_t draft = make_detection(db, &account, "self", "draft");
    int64_t submitted = make_detection(db, &account, "self", "submitted");
    int64_t delegated = make_detection(db, &account, "delegated", "approved");
    int64_t id = 0;
    const int64_t dets[] = {draft, submitted, delegated, 9999};
    const int want[] = {DB_CONFLICT, DB_CONFLICT, DB_CONFLICT, DB_NOTFOUND};
    for (int i = 0; i < 4; i++) {
        struct db_run_in r = {"tcec102-platform", "platform", "MA4UJ9XY0", dets[i], account};
        assert_int_equal(db_run_create(db, &r, three, 3, 100, &id), want[i]);
    }
    /* nothing written by any of them */
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_runs"), 0);
    assert_int_equal(audit_rows(db, "detection.testing"), 0);
    char buf[32];
    assert_string_equal(detection_col(db, delegated, "status", buf, sizeof buf), "approved");
}

static void test_detection_cancel_and_manual_verdict(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t account = 0, det = make_detection(db, &account, "self", "approved");
    char buf[64];
    /* a failed detection whose queued rerun is cancelled goes back to failed */
    assert_int_equal(db_detection_verdict(db, det, "failed", "manual", "by hand", 0), DB_OK);
    int64_t a = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 100);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "testing");
    assert_int_equal(db_run_cancel(db, a, 101, NULL), DB_OK);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "failed");
    assert_string_equal(detection_col(db, det, "verdict_note", buf, sizeof buf), "by hand");
    assert_int_equal(audit_rows(db, "detection.testing_ended"), 1);

    /* an admin's manual verdict while a run is going wins over the run's */
    int64_t b = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 110);
    assert_int_equal(db_run_start(db, b, 111), DB_OK);
    assert_int_equal(db_detection_verdict(db, det, "passed", "manual", "checked on site", 0),
                     DB_OK);
    assert_int_equal(db_run_finish(db, b, NULL, NULL, 112, NULL), DB_OK); /* failed */
    json_t *r;
    assert_string_equal(run_str(db, b, "state", &r), "failed");
    json_decref(r);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "passed");
    assert_string_equal(detection_col(db, det, "verdict_source", buf, sizeof buf), "manual");
}

/* ---- listing and retention --------------------------------------------------------------- */

static int64_t list_ids(struct db *db, const struct db_run_filter *f, int64_t page,
                        int64_t page_size, int64_t *ids, size_t *n)
{
    json_t *items = NULL;
    int64_t total = -1;
    assert_int_equal(db_runs_list(db, f, page, page_size, &items, &total), DB_OK);
    *n = json_array_size(items);
    for (size_t i = 0; i < *n; i++) {
        json_t *it = json_array_get(items, i);
        ids[i] = json_integer_value(json_object_get(it, "id"));
        assert_null(json_object_get(it, "checks")); /* the list leaves the frames out */
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(it, "summary"), "total")), 3);
    }
    json_decref(items);
    return total;
}

static void test_list_filters_and_paging(void **state)
{
    struct db *db = db_fixture_db(state);
    /* a: P1 ocpp16 by 1 (passed), b: P2 ocpp201 by 2 (queued), c: P1 ocpp16 by 2 (running),
     * d: MA platform by 1 (queued) */
    int64_t a = add_run(db, "ocpp16-core", "pile", "P1", 0, 1, 100);
    assert_int_equal(db_run_start(db, a, 101), DB_OK);
    for (int seq = 1; seq <= 3; seq++)
        assert_int_equal(db_run_check_verdict(db, a, seq, "pass", NULL, NULL, 102), DB_OK);
    assert_int_equal(db_run_finish(db, a, NULL, NULL, 103, NULL), DB_OK);
    int64_t b = add_run(db, "ocpp201-core", "pile", "P2", 0, 2, 104);
    int64_t c = add_run(db, "ocpp16-core", "pile", "P1", 0, 2, 105);
    assert_int_equal(db_run_start(db, c, 106), DB_OK);
    int64_t d = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", 0, 1, 107);

    int64_t ids[16];
    size_t n;
    assert_true(list_ids(db, NULL, 1, 10, ids, &n) == 4);
    assert_int_equal(n, 4);
    assert_true(ids[0] == d && ids[1] == c && ids[2] == b && ids[3] == a); /* newest first */

    struct db_run_filter f = {.plan = "ocpp16-core"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 2);
    assert_true(ids[0] == c && ids[1] == a);
    f = (struct db_run_filter){.target = "P1", .state = "passed"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 1);
    assert_true(ids[0] == a);
    f = (struct db_run_filter){.state = "queued"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 2);
    assert_true(ids[0] == d && ids[1] == b);
    f = (struct db_run_filter){.account_id = 2};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 2);
    assert_true(ids[0] == c && ids[1] == b);
    f = (struct db_run_filter){.plan = "", .target = "", .state = "", .account_id = 0};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 4); /* "" is any */
    f = (struct db_run_filter){.target = "P9"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 0);
    assert_int_equal(n, 0);

    /* paging: total stays, pages slice newest first */
    assert_true(list_ids(db, NULL, 1, 3, ids, &n) == 4);
    assert_int_equal(n, 3);
    assert_true(list_ids(db, NULL, 2, 3, ids, &n) == 4);
    assert_int_equal(n, 1);
    assert_true(ids[0] == a);
    assert_true(list_ids(db, NULL, 3, 3, ids, &n) == 4);
    assert_int_equal(n, 0);
    json_t *items = NULL;
    int64_t total;
    assert_int_equal(db_runs_list(db, NULL, 0, 3, &items, &total), DB_ERROR);
    assert_int_equal(db_runs_list(db, NULL, 1, 0, &items, &total), DB_ERROR);
    assert_null(items);
}

/* An active operator `name` (a distinct credit code per name) with a station and an accessed
 * pile `pile`; its account id. */
static int64_t make_pile_owner(struct db *db, const char *name, const char *credit,
                               const char *pile)
{
    struct db_organisation_in org = {"中山市测试公司", credit,          credit + 8, "张三", "李四",
                                     "13800138000",    "a@example.com", "中山市",   0};
    const char *field = NULL;
    int64_t account = 0, station = 0, row = 0;
    assert_int_equal(db_operator_register(db, name, "$argon2id$x", &org, &account, &field), DB_OK);
    char sid[32];
    snprintf(sid, sizeof sid, "ST%s", pile);
    assert_int_equal(
        db_station_insert(db, account, 0, "accessed", sid, "测试站", "442000", 1, "{}", &station),
        DB_OK);
    assert_int_equal(
        db_pile_insert(db, account, 0, "accessed", pile, station, 1, "ocpp1.6", "{}", &row), DB_OK);
    return account;
}

static void test_list_owner(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t a = make_pile_owner(db, "op_a", "91442000MA4UJ9XY09", "PA");
    int64_t b = make_pile_owner(db, "op_b", "91442000MA4UJ9XZ01", "PB");
    int64_t det_a = make_detection(db, &a, "self", "approved");
    int64_t det_b = make_detection(db, &b, "self", "approved");
    /* r1: A's pile started by B (an admin, say), r2: B's pile started by A, r3: A's detection,
     * r4: B's detection on a platform named like A's pile, r5: a pile nobody owns, by A */
    int64_t r1 = add_run(db, "ocpp16-core", "pile", "PA", 0, b, 100);
    int64_t r2 = add_run(db, "ocpp16-core", "pile", "PB", 0, a, 101);
    int64_t r3 = add_run(db, "tcec102-platform", "platform", "OPA", det_a, a, 102);
    int64_t r4 = add_run(db, "tcec102-platform", "platform", "PA", det_b, b, 103);
    int64_t r5 = add_run(db, "ocpp16-core", "pile", "PX", 0, a, 104);

    int64_t ids[16];
    size_t n;
    struct db_run_filter f = {.owner_id = a};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 2);
    assert_int_equal(n, 2);
    assert_true(ids[0] == r3 && ids[1] == r1);
    f = (struct db_run_filter){.owner_id = b};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 2);
    assert_true(ids[0] == r4 && ids[1] == r2);
    /* with the other filters */
    f = (struct db_run_filter){.owner_id = a, .plan = "ocpp16-core"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 1);
    assert_true(ids[0] == r1);
    f = (struct db_run_filter){.owner_id = a, .account_id = a};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 1);
    assert_true(ids[0] == r3);
    f = (struct db_run_filter){.owner_id = a, .target = "PA"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 1); /* not B's platform of that name */
    assert_true(ids[0] == r1);
    f = (struct db_run_filter){.owner_id = a, .state = "running"};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 0);
    /* an account owning nothing sees nothing; 0 is any owner */
    f = (struct db_run_filter){.owner_id = b + 100};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 0);
    f = (struct db_run_filter){.owner_id = 0};
    assert_true(list_ids(db, &f, 1, 10, ids, &n) == 5);
    assert_true(ids[0] == r5);
    /* paging keeps the owner's total */
    f = (struct db_run_filter){.owner_id = a};
    assert_true(list_ids(db, &f, 2, 1, ids, &n) == 2);
    assert_int_equal(n, 1);
    assert_true(ids[0] == r1);
}

static void finish_one(struct db *db, const char *target, int64_t at)
{
    int64_t id = add_pile_run(db, target, at);
    assert_int_equal(db_run_start(db, id, at), DB_OK);
    assert_int_equal(db_run_finish(db, id, "error", "x", at, NULL), DB_OK);
}

static void test_retention(void **state)
{
    struct db *db = db_fixture_db(state);
    for (int i = 0; i < DB_RUNS_KEEP + 5; i++)
        finish_one(db, "P1", 100 + i);
    finish_one(db, "P2", 100);
    /* finishing keeps the newest DB_RUNS_KEEP of the target, with their checks */
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM conformance_runs WHERE target = 'P1'"),
        DB_RUNS_KEEP);
    assert_int_equal(db_fixture_int(db, "SELECT min(created_at) FROM conformance_runs"
                                        " WHERE target = 'P1'"),
                     100 + 5);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_checks c"
                                        " JOIN conformance_runs r ON r.id = c.run_id"
                                        " WHERE r.target = 'P1'"),
                     3 * DB_RUNS_KEEP);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_checks"),
                     3 * (DB_RUNS_KEEP + 1)); /* no orphans */
    /* an active run is neither deleted nor counted */
    int64_t q = add_pile_run(db, "P1", 200);
    assert_int_equal(db_runs_prune(db, "pile", "P1", 2), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM conformance_runs WHERE target = 'P1'"), 3);
    json_t *r;
    assert_string_equal(run_str(db, q, "state", &r), "queued");
    json_decref(r);
    /* the other kind of target of the same name is apart */
    assert_int_equal(db_runs_prune(db, "platform", "P2", 0), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM conformance_runs WHERE target = 'P2'"), 1);
    assert_int_equal(db_runs_prune(db, "pile", "P1", 0), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM conformance_runs WHERE target = 'P1'"), 1);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM conformance_checks"), 3 * 2);
}

/* ---- inside a caller's transaction (the gateway's writer) -------------------------------- */

static void test_in_callers_transaction(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t account = 0, det = make_detection(db, &account, "self", "approved");
    int64_t a = add_run(db, "tcec102-platform", "platform", "MA4UJ9XY0", det, account, 100);
    /* a writer job that fails after finishing: the caller's rollback undoes all of it */
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_run_start(db, a, 101), DB_OK);
    assert_int_equal(db_run_finish(db, a, NULL, NULL, 102, NULL), DB_OK);
    db_rollback(db);
    json_t *r;
    char buf[32];
    assert_string_equal(run_str(db, a, "state", &r), "queued");
    json_decref(r);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "testing");
    /* committed by the caller: all of it */
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_run_start(db, a, 103), DB_OK);
    assert_int_equal(db_run_finish(db, a, "error", "the gateway stopped", 104, NULL), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_string_equal(run_str(db, a, "state", &r), "error");
    json_decref(r);
    assert_string_equal(detection_col(db, det, "status", buf, sizeof buf), "approved");
    /* and the connection is out of any transaction: our own ones work */
    add_pile_run(db, "P1", 105);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_and_get),
        T(test_create_bad_arguments),
        T(test_one_active_run_per_target),
        T(test_queued_and_start),
        T(test_check_rules),
        T(test_frames_bound),
        T(test_finish_passed_and_failed),
        T(test_finish_error_and_cancelled),
        T(test_cancel),
        T(test_gateway_restart),
        T(test_detection_lifecycle),
        T(test_detection_refused),
        T(test_detection_cancel_and_manual_verdict),
        T(test_list_filters_and_paging),
        T(test_list_owner),
        T(test_retention),
        T(test_in_callers_transaction),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
