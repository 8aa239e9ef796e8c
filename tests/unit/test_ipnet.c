/* Unit tests of protocol/ipnet.c: addresses and CIDR blocks as detection applications list them
 * (what mgmt accepts) and whether an address lies in a block (what the gateway enforces on
 * T/CEC requests), IPv4-mapped IPv6 peers included. */
#include "protocol/ipnet.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

static void test_parse(void **state)
{
    (void)state;
    struct ipnet n;
    assert_int_equal(ipnet_parse("203.0.113.10", &n), 0);
    assert_int_equal(n.family, AF_INET);
    assert_int_equal(n.prefix, 32);
    assert_int_equal(ipnet_parse("203.0.113.0/24", &n), 0);
    assert_int_equal(n.prefix, 24);
    assert_int_equal(ipnet_parse("0.0.0.0/0", &n), 0);
    assert_int_equal(n.prefix, 0);
    assert_int_equal(ipnet_parse("2001:db8::/64", &n), 0);
    assert_int_equal(n.family, AF_INET6);
    assert_int_equal(n.prefix, 64);
    assert_int_equal(ipnet_parse("::1", &n), 0);
    assert_int_equal(n.prefix, 128);
    const char *bad[] = {"",           "1.2.3",       "1.2.3.4/33", "1.2.3.4/",    "1.2.3.4/-1",
                         "1.2.3.4/+8", "1.2.3.4/08",  "::/129",     "example.com", "1.2.3.4/8x",
                         "1.2.3.4 ",   "2001:db8::g", NULL};
    for (size_t i = 0; bad[i]; i++)
        if (ipnet_parse(bad[i], &n) == 0)
            fail_msg("\"%s\" parsed", bad[i]);
    assert_int_equal(ipnet_parse(NULL, &n), -1);
}

static int in(const char *block, const char *addr)
{
    struct ipnet n;
    assert_int_equal(ipnet_parse(block, &n), 0);
    return ipnet_contains(&n, addr);
}

static void test_contains(void **state)
{
    (void)state;
    assert_true(in("127.0.0.1", "127.0.0.1"));
    assert_false(in("127.0.0.1", "127.0.0.2"));
    assert_true(in("127.0.0.0/8", "127.255.1.2"));
    assert_false(in("127.0.0.0/8", "128.0.0.1"));
    assert_true(in("10.1.2.128/25", "10.1.2.200"));
    assert_false(in("10.1.2.128/25", "10.1.2.127"));
    assert_true(in("10.1.2.3/31", "10.1.2.2"));
    assert_false(in("10.1.2.3/31", "10.1.2.4"));
    assert_true(in("0.0.0.0/0", "192.0.2.1"));
    assert_true(in("2001:db8::/64", "2001:db8::abcd"));
    assert_false(in("2001:db8::/64", "2001:db8:0:1::1"));
    assert_true(in("::1", "::1"));
    /* a dual-stack socket's view of an IPv4 peer */
    assert_true(in("127.0.0.1", "::ffff:127.0.0.1"));
    assert_false(in("127.0.0.1", "::ffff:127.0.0.2"));
    /* families do not mix otherwise */
    assert_false(in("0.0.0.0/0", "::1"));
    assert_false(in("::/0", "127.0.0.1"));
    /* an address with a prefix, or not an address, is never in */
    assert_false(in("127.0.0.0/8", "127.0.0.1/32"));
    assert_false(in("127.0.0.0/8", ""));
    assert_false(in("127.0.0.0/8", "localhost"));
    assert_int_equal(ipnet_contains(NULL, "127.0.0.1"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_contains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
