/* Unit tests of common/log.c: the budget for lines peers can cause at will, log_q()'s quoting and
 * escaping, and log_msg()'s one-line guarantee. */
#include "common/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_budget(void **state)
{
    (void)state;
    struct log_budget b = {.per_minute = 3};
    unsigned long long left_out = 99;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(log_budget_take(&b, &left_out), 1);
        assert_int_equal(left_out, 0);
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(log_budget_take(&b, &left_out), 0);
    assert_int_equal(b.suppressed, 5);
    /* the next minute: lines pass again, the first one says how many were left out */
    b.window--;
    assert_int_equal(log_budget_take(&b, &left_out), 1);
    assert_int_equal(left_out, 5);
    assert_int_equal(log_budget_take(&b, &left_out), 1);
    assert_int_equal(left_out, 0);
}

static void test_q_plain_and_quoted(void **state)
{
    (void)state;
    assert_string_equal(log_q("EQ0001"), "EQ0001");
    assert_string_equal(log_q("/api/v1/piles/{id}"), "/api/v1/piles/{id}");
    assert_string_equal(log_q("127.0.0.1:8080"), "127.0.0.1:8080");
    assert_string_equal(log_q(NULL), "-");
    assert_string_equal(log_q(""), "\"\"");
    assert_string_equal(log_q("two words"), "\"two words\"");
    assert_string_equal(log_q("a=b"), "\"a=b\"");
    assert_string_equal(log_q("say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
    assert_string_equal(log_q("x\n2026-01-01T00:00:00.000Z error gateway forged"),
                        "\"x\\n2026-01-01T00:00:00.000Z error gateway forged\"");
    assert_string_equal(log_q("\r\t\x01\x7f"), "\"\\r\\t\\x01\\x7f\"");
    assert_string_equal(log_q("中山"), "\"中山\""); /* UTF-8 kept, inside quotes */
}

static void test_q_ring_and_bound(void **state)
{
    (void)state;
    /* LOG_Q_SLOTS results can be arguments of one call */
    const char *r[LOG_Q_SLOTS];
    char want[LOG_Q_SLOTS][8];
    for (int i = 0; i < LOG_Q_SLOTS; i++) {
        snprintf(want[i], sizeof want[i], "v%d", i);
        r[i] = log_q(want[i]);
    }
    for (int i = 0; i < LOG_Q_SLOTS; i++)
        assert_string_equal(r[i], want[i]);
    /* long values are cut, plain or quoted, and stay within the bound */
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, 'a', 4999);
    big[4999] = 0;
    const char *q = log_q(big);
    assert_int_equal(strlen(q), LOG_Q_MAX + 3);
    assert_string_equal(q + LOG_Q_MAX, "...");
    memset(big, '\n', 4999);
    q = log_q(big);
    assert_true(strlen(q) <= LOG_Q_MAX + 10);
    assert_int_equal(q[0], '"');
    assert_int_equal(q[strlen(q) - 1], '"');
    assert_non_null(strstr(q, "...\""));
    free(big);
}

/* What log_msg writes to stderr for one call. */
static char *captured(enum log_level level, const char *value)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    log_msg(level, "test", "event", "raw=%s quoted=%s", value, log_q(value));
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    static char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static void test_msg_is_one_line(void **state)
{
    (void)state;
    log_set_level(LOG_INFO);
    /* even a value passed raw by mistake cannot break the line */
    char *line = captured(LOG_INFO, "a\nb\rc");
    assert_non_null(strstr(line, " info test event raw=a?b?c quoted=\"a\\nb\\rc\"\n"));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
    /* below the level: nothing */
    assert_string_equal(captured(LOG_DEBUG, "x"), "");
    log_set_level(LOG_DEBUG);
    assert_non_null(strstr(captured(LOG_DEBUG, "x"), " debug test event raw=x quoted=x\n"));
    assert_string_equal(log_level_name(log_get_level()), "debug");
    assert_int_equal(log_set_level_name("loud"), -1);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    assert_int_equal(log_set_level_name("warn"), 0);
    assert_string_equal(log_level_name(log_get_level()), "warn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_q_plain_and_quoted),
        cmocka_unit_test(test_q_ring_and_bound),
        cmocka_unit_test(test_msg_is_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
