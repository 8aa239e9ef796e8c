/* Unit tests of protocol/ipnet.c: addresses and CIDR blocks as detection applications list them
 * (what mgmt accepts) and whether an address lies in a block (what the gateway enforces on
 * T/CEC requests), IPv4-mapped IPv6 peers included. */
#include "protocol/ipnet.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
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

static void test_parse_list(void **state)
{
    (void)state;
    struct ipnet l[IPNET_LIST_MAX];
    size_t n = 99;
    char bad[64];
    assert_int_equal(ipnet_parse_list("", l, &n, bad, sizeof bad), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ipnet_parse_list(" 127.0.0.1 , 10.0.0.0/8,::1", l, &n, bad, sizeof bad), 0);
    assert_int_equal(n, 3);
    assert_int_equal(l[1].prefix, 8);
    assert_int_equal(ipnet_parse_list("127.0.0.1, nginx.local", l, &n, bad, sizeof bad), -1);
    assert_string_equal(bad, "nginx.local");
    assert_int_equal(ipnet_parse_list("127.0.0.1,", l, &n, bad, sizeof bad), -1);
    assert_string_equal(bad, "");
    char many[512] = "";
    for (int i = 0; i <= IPNET_LIST_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s10.0.0.%d", i ? "," : "", i);
    assert_int_equal(ipnet_parse_list(many, l, &n, bad, sizeof bad), -1);
    assert_string_equal(bad, "10.0.0.16");
}

static const char *client(const char *trusted, const char *peer, const char *xff)
{
    static char out[64];
    struct ipnet l[IPNET_LIST_MAX];
    size_t n;
    assert_int_equal(ipnet_parse_list(trusted, l, &n, NULL, 0), 0);
    ipnet_forwarded_client(l, n, peer, xff, out, sizeof out);
    return out;
}

static void test_forwarded_client(void **state)
{
    (void)state;
    /* no trusted proxy, or a peer that is not one: the header is ignored */
    assert_string_equal(client("", "127.0.0.1", "203.0.113.9"), "127.0.0.1");
    assert_string_equal(client("10.0.0.1", "192.0.2.7", "203.0.113.9"), "192.0.2.7");
    assert_string_equal(client("127.0.0.1", "127.0.0.1", NULL), "127.0.0.1");
    /* nginx's $proxy_add_x_forwarded_for: the client's forgery on the left is never reached */
    assert_string_equal(client("127.0.0.1", "127.0.0.1", "1.1.1.1, 203.0.113.9"), "203.0.113.9");
    /* two proxies, a block and a dual-stack peer */
    assert_string_equal(client("10.0.0.0/8,127.0.0.1", "::ffff:127.0.0.1",
                               "198.51.100.4,203.0.113.9 , 10.1.2.3"),
                        "203.0.113.9");
    assert_string_equal(client("127.0.0.1", "127.0.0.1", "2001:db8::5"), "2001:db8::5");
    /* garbage stops the walk at the last trusted hop */
    assert_string_equal(client("127.0.0.1", "127.0.0.1", "203.0.113.9, unknown"), "127.0.0.1");
    assert_string_equal(client("127.0.0.1,10.0.0.0/8", "127.0.0.1", "x, 10.0.0.2"), "10.0.0.2");
    assert_string_equal(client("127.0.0.1", "127.0.0.1", "203.0.113.0/24"), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "127.0.0.1", ""), "127.0.0.1");
    char longest[200];
    memset(longest, '1', sizeof longest - 1);
    longest[sizeof longest - 1] = 0;
    assert_string_equal(client("127.0.0.1", "127.0.0.1", longest), "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_parse_list),
        cmocka_unit_test(test_forwarded_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
