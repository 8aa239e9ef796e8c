/* db/detections.c: the T/CEC credentials of a platform — re-issuing revokes the old set, one
 * live set per OperatorID — and the access gate. */
#include "db/accounts.h"
#include "db/db.h"
#include "db/detections.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
    char dir[64];
    struct db *db;
    int64_t account, detection;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char path[128], err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/evgate-detdb-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof path, "%s/evgate.db", f->dir);
    f->db = db_open(path, 5000, "NORMAL", err, sizeof err);
    assert_non_null(f->db);
    assert_int_equal(db_migrate(f->db, -1, err, sizeof err), DB_OK);
    struct db_organisation_in org = {
        "中山市测试公司", "91442000MA4UJ9XY09", "MA4UJ9XY0", "张三", "李四",
        "13800138000",    "a@example.com",      "中山市",    0};
    const char *field = NULL;
    assert_int_equal(
        db_operator_register(f->db, "op_one", "$argon2id$x", &org, &f->account, &field), DB_OK);
    json_t *data = json_object();
    assert_int_equal(db_detection_create(f->db, f->account, "self", data, 0, &f->detection), DB_OK);
    json_decref(data);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    db_close(f->db);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct db_tcec_credentials make(int64_t detection, const char *tag)
{
    struct db_tcec_credentials c = {.detection_id = detection, .issued_at = 1700000000};
    snprintf(c.operator_id, sizeof c.operator_id, "MA4UJ9XY0");
    snprintf(c.operator_secret, sizeof c.operator_secret, "%s-operator000", tag);
    snprintf(c.data_secret, sizeof c.data_secret, "%s-data00000000", tag);
    snprintf(c.data_secret_iv, sizeof c.data_secret_iv, "%s-iv0000000000", tag);
    snprintf(c.sig_secret, sizeof c.sig_secret, "%s-sig000000000", tag);
    return c;
}

static void test_reissue_revokes_the_old_set(void **state)
{
    struct fixture *f = *state;
    struct db_tcec_credentials live, a = make(f->detection, "aa"), b = make(f->detection, "bb");
    assert_int_equal(db_credentials_live(f->db, "MA4UJ9XY0", &live), DB_NOTFOUND);
    assert_int_equal(db_credentials_issue(f->db, &a, f->account), DB_OK);
    assert_int_equal(db_credentials_live(f->db, "MA4UJ9XY0", &live), DB_OK);
    assert_string_equal(live.sig_secret, a.sig_secret);
    assert_int_equal(db_credentials_issue(f->db, &b, f->account), DB_OK);
    assert_int_equal(db_credentials_live(f->db, "MA4UJ9XY0", &live), DB_OK);
    /* only the new set is live: the gateway can no longer verify with the old secrets */
    assert_string_equal(live.operator_secret, b.operator_secret);
    assert_string_equal(live.data_secret, b.data_secret);
    assert_string_equal(live.data_secret_iv, b.data_secret_iv);
    assert_string_equal(live.sig_secret, b.sig_secret);
    assert_string_not_equal(live.sig_secret, a.sig_secret);
    assert_int_equal(db_credentials_live(f->db, "NOSUCHID0", &live), DB_NOTFOUND);
}

static void test_access_gate_follows_the_verdict(void **state)
{
    struct fixture *f = *state;
    int64_t gate = -1;
    assert_int_equal(db_access_gate(f->db, f->account, &gate), DB_OK);
    assert_int_equal(gate, 0);
    assert_int_equal(db_detection_transition(f->db, f->detection, "draft", "submitted", NULL,
                                             f->account, "detection.submit"),
                     DB_OK);
    /* a verdict needs an approved (or testing) application */
    assert_int_equal(db_detection_verdict(f->db, f->detection, "passed", "manual", "ok", 0),
                     DB_CONFLICT);
    assert_int_equal(db_detection_transition(f->db, f->detection, "submitted", "approved", NULL, 0,
                                             "detection.approve"),
                     DB_OK);
    assert_int_equal(db_access_gate(f->db, f->account, &gate), DB_OK);
    assert_int_equal(gate, 0);
    assert_int_equal(db_detection_verdict(f->db, f->detection, "passed", "manual", "ok", 0), DB_OK);
    assert_int_equal(db_access_gate(f->db, f->account, &gate), DB_OK);
    assert_int_equal(gate, f->detection);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reissue_revokes_the_old_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_gate_follows_the_verdict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
