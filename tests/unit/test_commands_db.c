/* Unit tests of db/commands.c: the life of a pile_commands row (queued -> sent -> finished),
 * which transitions each caller may make (DB_CONFLICT / DB_NOTFOUND otherwise), the poller's
 * queued reads in id order after a given id, fail_unfinished at a gateway's start, max_id and
 * pruning. One fresh database per test. */
#include "db/commands.h"
#include "db/db.h"
#include "db/db_internal.h"

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

static int64_t add(struct db *db, const char *pile, const char *action, int64_t at)
{
    int64_t id = 0;
    assert_int_equal(db_command_add(db, pile, 1, action, "{\"type\":\"Soft\"}", at, &id), DB_OK);
    assert_true(id > 0);
    return id;
}

static const char *state_of(struct db *db, int64_t id, json_t **keep)
{
    json_t *c = NULL;
    assert_int_equal(db_command_get(db, id, &c), DB_OK);
    *keep = c;
    return json_string_value(json_object_get(c, "state"));
}

static void test_add_and_get(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id = add(db, "P1", "Reset", 100);
    json_t *c = NULL;
    assert_int_equal(db_command_get(db, id, &c), DB_OK);
    assert_string_equal(json_string_value(json_object_get(c, "state")), "queued");
    assert_string_equal(json_string_value(json_object_get(c, "equipment_id")), "P1");
    assert_string_equal(json_string_value(json_object_get(c, "action")), "Reset");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "payload"), "type")),
                        "Soft");
    assert_true(json_is_null(json_object_get(c, "response")));
    assert_true(json_is_null(json_object_get(c, "unique_id")));
    assert_true(json_is_null(json_object_get(c, "sent_at")));
    assert_int_equal(json_integer_value(json_object_get(c, "created_at")), 100);
    json_decref(c);
    assert_int_equal(db_command_get(db, id + 100, &c), DB_NOTFOUND);
    assert_null(c);
}

static void test_sent_then_answered(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id = add(db, "P1", "Reset", 100);
    json_t *c;
    /* answers are only for sent rows */
    assert_int_equal(db_command_finish(db, id, "answered", "{}", NULL, NULL, 101, 1), DB_CONFLICT);
    assert_int_equal(db_command_sent(db, id, "evg-1", 102), DB_OK);
    assert_string_equal(state_of(db, id, &c), "sent");
    assert_string_equal(json_string_value(json_object_get(c, "unique_id")), "evg-1");
    assert_int_equal(json_integer_value(json_object_get(c, "sent_at")), 102);
    json_decref(c);
    /* a second "sent" and mgmt's abandon both lose against the gateway */
    assert_int_equal(db_command_sent(db, id, "evg-1", 103), DB_CONFLICT);
    assert_int_equal(db_command_abandon(db, id, "not_picked_up", NULL, 103), DB_CONFLICT);
    assert_int_equal(
        db_command_finish(db, id, "answered", "{\"status\":\"Accepted\"}", NULL, NULL, 104, 1),
        DB_OK);
    assert_string_equal(state_of(db, id, &c), "answered");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c, "response"), "status")), "Accepted");
    assert_int_equal(json_integer_value(json_object_get(c, "finished_at")), 104);
    json_decref(c);
    /* finished is final: no later timeout, failure or answer */
    assert_int_equal(db_command_finish(db, id, "timeout", NULL, NULL, NULL, 105, 1), DB_CONFLICT);
    assert_int_equal(db_command_finish(db, id, "failed", NULL, "disconnected", NULL, 105, 0),
                     DB_CONFLICT);
    assert_int_equal(db_command_sent(db, id, "evg-1", 105), DB_CONFLICT);
    /* no such row */
    assert_int_equal(db_command_sent(db, id + 1, "evg-2", 105), DB_NOTFOUND);
    assert_int_equal(db_command_finish(db, id + 1, "answered", NULL, NULL, NULL, 105, 1),
                     DB_NOTFOUND);
    assert_int_equal(db_command_abandon(db, id + 1, "not_picked_up", NULL, 105), DB_NOTFOUND);
}

static void test_error_fields(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id = add(db, "P1", "Reset", 100);
    assert_int_equal(db_command_sent(db, id, "evg-1", 101), DB_OK);
    assert_int_equal(db_command_finish(db, id, "error", "{\"status\":5}", "invalid_response",
                                       "$.status: not a string", 102, 1),
                     DB_OK);
    json_t *c;
    assert_string_equal(state_of(db, id, &c), "error");
    assert_string_equal(json_string_value(json_object_get(c, "error")), "invalid_response");
    assert_string_equal(json_string_value(json_object_get(c, "detail")), "$.status: not a string");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "response"), "status")),
                     5);
    json_decref(c);
}

static void test_failures_from_queued_or_sent(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t a = add(db, "P1", "Reset", 100), b = add(db, "P1", "Reset", 100);
    json_t *c;
    /* the gateway fails a queued row (offline) */
    assert_int_equal(db_command_finish(db, a, "failed", NULL, "offline", "no connection", 101, 0),
                     DB_OK);
    assert_string_equal(state_of(db, a, &c), "failed");
    assert_string_equal(json_string_value(json_object_get(c, "error")), "offline");
    json_decref(c);
    /* and a sent one (disconnected) */
    assert_int_equal(db_command_sent(db, b, "evg-2", 101), DB_OK);
    assert_int_equal(db_command_finish(db, b, "failed", NULL, "disconnected", NULL, 102, 0), DB_OK);
    assert_string_equal(state_of(db, b, &c), "failed");
    json_decref(c);
    /* mgmt's abandon: queued only */
    int64_t d = add(db, "P1", "Reset", 103);
    assert_int_equal(db_command_abandon(db, d, "not_picked_up", "no gateway", 104), DB_OK);
    assert_string_equal(state_of(db, d, &c), "failed");
    assert_string_equal(json_string_value(json_object_get(c, "error")), "not_picked_up");
    json_decref(c);
    /* the gateway then tries to send it: too late */
    assert_int_equal(db_command_sent(db, d, "evg-3", 105), DB_CONFLICT);
}

struct seen {
    int64_t ids[16];
    char actions[16][32];
    int n;
    int stop_at; /* return nonzero at this many rows (0 = never) */
};

static int collect(void *arg, int64_t id, const char *equipment_id, const char *action,
                   const char *payload)
{
    struct seen *s = arg;
    assert_non_null(equipment_id);
    assert_non_null(payload);
    s->ids[s->n] = id;
    snprintf(s->actions[s->n], sizeof s->actions[0], "%s", action);
    s->n++;
    return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void test_queued_order_and_after(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t ids[5];
    const char *actions[5] = {"Reset", "TriggerMessage", "GetConfiguration", "ClearCache",
                              "UnlockConnector"};
    for (int i = 0; i < 5; i++)
        ids[i] = add(db, i % 2 ? "P2" : "P1", actions[i], 100 + i);
    /* one sent, one failed: not queued any more */
    assert_int_equal(db_command_sent(db, ids[1], "evg-x", 110), DB_OK);
    assert_int_equal(db_command_abandon(db, ids[3], "not_picked_up", NULL, 110), DB_OK);

    struct seen s = {0};
    assert_int_equal(db_commands_queued(db, 0, 100, collect, &s), DB_OK);
    assert_int_equal(s.n, 3);
    assert_true(s.ids[0] == ids[0] && s.ids[1] == ids[2] && s.ids[2] == ids[4]);
    assert_string_equal(s.actions[1], "GetConfiguration");

    memset(&s, 0, sizeof s); /* after an id, with a limit */
    assert_int_equal(db_commands_queued(db, ids[0], 1, collect, &s), DB_OK);
    assert_int_equal(s.n, 1);
    assert_true(s.ids[0] == ids[2]);

    memset(&s, 0, sizeof s); /* the callback stops it */
    s.stop_at = 1;
    assert_int_equal(db_commands_queued(db, 0, 100, collect, &s), 7);
    assert_int_equal(s.n, 1);

    memset(&s, 0, sizeof s);
    assert_int_equal(db_commands_queued(db, ids[4], 100, collect, &s), DB_OK);
    assert_int_equal(s.n, 0);

    int64_t max = 0;
    assert_int_equal(db_commands_max_id(db, &max), DB_OK);
    assert_true(max == ids[4]);
}

static void test_max_id_empty(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t max = 99;
    assert_int_equal(db_commands_max_id(db, &max), DB_OK);
    assert_true(max == 0);
}

static void test_fail_unfinished(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t q = add(db, "P1", "Reset", 100), s = add(db, "P1", "Reset", 100);
    int64_t done = add(db, "P1", "Reset", 100);
    assert_int_equal(db_command_sent(db, s, "evg-s", 101), DB_OK);
    assert_int_equal(db_command_sent(db, done, "evg-d", 101), DB_OK);
    assert_int_equal(db_command_finish(db, done, "answered", "{}", NULL, NULL, 102, 1), DB_OK);
    int64_t n = 0;
    assert_int_equal(db_commands_fail_unfinished(db, 200, "gateway_restarted", &n), DB_OK);
    assert_true(n == 2);
    json_t *c;
    assert_string_equal(state_of(db, q, &c), "failed");
    assert_string_equal(json_string_value(json_object_get(c, "error")), "gateway_restarted");
    assert_int_equal(json_integer_value(json_object_get(c, "finished_at")), 200);
    json_decref(c);
    assert_string_equal(state_of(db, s, &c), "failed");
    json_decref(c);
    assert_string_equal(state_of(db, done, &c), "answered"); /* finished rows stay */
    assert_int_equal(json_integer_value(json_object_get(c, "finished_at")), 102);
    json_decref(c);
    assert_int_equal(db_commands_fail_unfinished(db, 201, "gateway_restarted", NULL), DB_OK);
    struct seen seen = {0};
    assert_int_equal(db_commands_queued(db, 0, 100, collect, &seen), DB_OK);
    assert_int_equal(seen.n, 0);
}

static void test_list_and_prune(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t ids[12];
    for (int i = 0; i < 12; i++) {
        ids[i] = add(db, "P1", "Reset", 100 + i);
        if (i != 2 && i != 9) { /* 2: still sent (old but unfinished), 9: still queued */
            assert_int_equal(db_command_sent(db, ids[i], "evg", 100 + i), DB_OK);
            assert_int_equal(
                db_command_finish(db, ids[i], "answered", "{}", NULL, NULL, 100 + i, 1), DB_OK);
        } else if (i == 2) {
            assert_int_equal(db_command_sent(db, ids[i], "evg", 100 + i), DB_OK);
        }
    }
    int64_t other = add(db, "P2", "Reset", 100);
    assert_int_equal(db_command_finish(db, other, "failed", NULL, "offline", NULL, 100, 0), DB_OK);

    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(db_commands_list(db, "P1", 5, 0, &items, &total), DB_OK);
    assert_true(total == 12);
    assert_int_equal(json_array_size(items), 5);
    assert_true(json_integer_value(json_object_get(json_array_get(items, 0), "id")) == ids[11]);
    json_decref(items);
    assert_int_equal(db_commands_list(db, "P1", 5, 10, &items, &total), DB_OK);
    assert_int_equal(json_array_size(items), 2);
    assert_true(json_integer_value(json_object_get(json_array_get(items, 1), "id")) == ids[0]);
    json_decref(items);

    /* keep the newest 4: ids[8..11]; older finished rows go, the unfinished ids[2] stays, and
     * P2 is untouched */
    assert_int_equal(db_commands_prune(db, "P1", 4), DB_OK);
    assert_int_equal(db_commands_list(db, "P1", 100, 0, &items, &total), DB_OK);
    assert_true(total == 5);
    int64_t want[5] = {ids[11], ids[10], ids[9], ids[8], ids[2]};
    for (int i = 0; i < 5; i++)
        assert_true(json_integer_value(json_object_get(json_array_get(items, i), "id")) == want[i]);
    json_decref(items);
    json_t *c = NULL;
    assert_int_equal(db_command_get(db, other, &c), DB_OK);
    json_decref(c);
    /* keeping more than there are deletes nothing */
    assert_int_equal(db_commands_prune(db, "P1", 100), DB_OK);
    assert_int_equal(db_commands_list(db, "P1", 100, 0, &items, &total), DB_OK);
    assert_true(total == 5);
    json_decref(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_get, db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sent_then_answered, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_error_fields, db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failures_from_queued_or_sent, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_queued_order_and_after, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_max_id_empty, db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fail_unfinished, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_and_prune, db_fixture_setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
