/* Unit tests of common/log.c's budget for lines peers can cause at will. */
#include "common/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
