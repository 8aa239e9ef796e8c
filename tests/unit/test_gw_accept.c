/* Unit tests of gateway/accept.c's listening sockets: what gw_accept_listen binds to, the
 * socket's flags, and the errors that name the failing call. (The batches themselves are
 * tested against the real gateway: tests/integration/test_gateway.py.) */
#include "gateway/accept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* accept.c counts into the gateway's metrics; none are read here. */
struct gw_metrics;
void gw_metrics_conn_open(struct gw_metrics *m);
void gw_metrics_conn_close(struct gw_metrics *m);
void gw_metrics_conn_refused_fds(struct gw_metrics *m);
void gw_metrics_accept_batch(struct gw_metrics *m, unsigned accepted, bool full);
void gw_metrics_conn_open(struct gw_metrics *m)
{
    (void)m;
}
void gw_metrics_conn_close(struct gw_metrics *m)
{
    (void)m;
}
void gw_metrics_conn_refused_fds(struct gw_metrics *m)
{
    (void)m;
}
void gw_metrics_accept_batch(struct gw_metrics *m, unsigned accepted, bool full)
{
    (void)m;
    (void)accepted;
    (void)full;
}

static int port_of(int fd, int *family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *family = ss.ss_family;
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A blocking connect to 127.0.0.1:port; returns whether the listener took it. */
static bool connects_v4(int port)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
    close(c);
    return ok;
}

static bool have_ipv6(void)
{
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* An IPv4 literal: bound there, nonblocking and close-on-exec (the gateway execs nothing, but a
 * descriptor must not leak into what a library might start), and listening. */
static void test_ipv4_literal(void **state)
{
    (void)state;
    char err[128] = "";
    int fd = gw_accept_listen("127.0.0.1", 0, false, err, sizeof err);
    assert_true(fd >= 0);
    assert_string_equal(err, "");
    int family = 0, port = port_of(fd, &family);
    assert_int_equal(family, AF_INET);
    assert_true(port > 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_true(connects_v4(port));
    int c = accept(fd, NULL, NULL);
    assert_true(c >= 0);
    close(c);
    close(fd);
}

/* A port already listened on: -1, and the message names the call and the reason. */
static void test_busy_port_is_named(void **state)
{
    (void)state;
    char err[128];
    int fd = gw_accept_listen("127.0.0.1", 0, false, err, sizeof err);
    assert_true(fd >= 0);
    int family = 0, port = port_of(fd, &family);
    assert_int_equal(gw_accept_listen("127.0.0.1", port, false, err, sizeof err), -1);
    assert_string_equal(err, "bind: Address already in use");
    close(fd);
}

/* Not an address literal (names are resolved by the caller): refused, saying so. */
static void test_not_an_address(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(gw_accept_listen("gateway.example", 8180, false, err, sizeof err), -1);
    assert_string_equal(err, "\"gateway.example\" is not an IP address");
    assert_int_equal(gw_accept_listen("127.0.0.256", 8180, true, err, sizeof err), -1);
}

/* Every address, IPv4 only (gateway_listen 0.0.0.0:port). */
static void test_every_ipv4_address(void **state)
{
    (void)state;
    char err[128];
    int fd = gw_accept_listen(NULL, 0, true, err, sizeof err);
    assert_true(fd >= 0);
    int family = 0, port = port_of(fd, &family);
    assert_int_equal(family, AF_INET);
    assert_true(connects_v4(port));
    close(fd);
}

/* Every address with IPv6 (gateway_listen *:port or [::]:port): one IPv6 socket that takes
 * IPv4 connections too; an IPv6 literal binds IPv6. Skipped on a host without IPv6. */
static void test_every_address_dual_stack(void **state)
{
    (void)state;
    if (!have_ipv6())
        skip();
    char err[128];
    int fd = gw_accept_listen(NULL, 0, false, err, sizeof err);
    assert_true(fd >= 0);
    int family = 0, port = port_of(fd, &family);
    assert_int_equal(family, AF_INET6);
    int v6only = -1;
    socklen_t len = sizeof v6only;
    assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
    assert_int_equal(v6only, 0);
    assert_true(connects_v4(port));
    close(fd);

    fd = gw_accept_listen("::1", 0, false, err, sizeof err);
    assert_true(fd >= 0);
    port_of(fd, &family);
    assert_int_equal(family, AF_INET6);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_literal),
        cmocka_unit_test(test_busy_port_is_named),
        cmocka_unit_test(test_not_an_address),
        cmocka_unit_test(test_every_ipv4_address),
        cmocka_unit_test(test_every_address_dual_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
