/* Unit tests of gateway/ocpp_rate.c: the per-pile message-rate bucket, which a pile keeps across
 * its connections until it has refilled. */
#include "gateway/ocpp_rate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define S 1000000LL /* microseconds */

static int takes(struct gw_rate *r, struct gw_rate_bucket *b, int64_t now, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += gw_rate_take(r, b, now);
    return ok;
}

/* 60 a minute: a burst of 60, then one a second. */
static void test_bucket(void **state)
{
    (void)state;
    struct gw_rate *r = gw_rate_new(60);
    assert_non_null(r);
    struct gw_rate_bucket b = gw_rate_restore(r, "P1", 100 * S);
    assert_int_equal(takes(r, &b, 100 * S, 100), 60);
    assert_int_equal(takes(r, &b, 100 * S + S / 2, 1), 0);
    assert_int_equal(takes(r, &b, 101 * S, 5), 1);
    assert_int_equal(takes(r, &b, 111 * S, 20), 10);
    assert_int_equal(takes(r, &b, 1000 * S, 100), 60); /* never above the burst */
    gw_rate_free(r);
}

/* A pile that reconnects gets its old bucket back, refilled for the time it was away; other
 * piles and piles away long enough start full. */
static void test_remembered_across_connections(void **state)
{
    (void)state;
    struct gw_rate *r = gw_rate_new(60);
    struct gw_rate_bucket b = gw_rate_restore(r, "P1", 0);
    assert_int_equal(takes(r, &b, 0, 60), 60);
    gw_rate_remember(r, "P1", b, 0);
    struct gw_rate_bucket other = gw_rate_restore(r, "P2", 0);
    assert_int_equal(takes(r, &other, 0, 100), 60);
    struct gw_rate_bucket again = gw_rate_restore(r, "P1", 10 * S);
    assert_int_equal(takes(r, &again, 10 * S, 100), 10);
    /* taken back: a second restore starts full */
    struct gw_rate_bucket third = gw_rate_restore(r, "P1", 10 * S);
    assert_int_equal(takes(r, &third, 10 * S, 100), 60);
    /* a bucket that will be full is not kept; a swept one is forgotten once refilled */
    gw_rate_remember(r, "P3", (struct gw_rate_bucket){60, 0}, 0);
    gw_rate_remember(r, "P4", (struct gw_rate_bucket){0, 0}, 0);
    gw_rate_sweep(r, 30 * S);
    struct gw_rate_bucket p4 = gw_rate_restore(r, "P4", 30 * S);
    assert_int_equal(takes(r, &p4, 30 * S, 100), 30);
    gw_rate_remember(r, "P5", (struct gw_rate_bucket){0, 0}, 0);
    gw_rate_sweep(r, 61 * S);
    struct gw_rate_bucket p5 = gw_rate_restore(r, "P5", 61 * S);
    assert_int_equal(takes(r, &p5, 61 * S, 100), 60);
    gw_rate_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_remembered_across_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
