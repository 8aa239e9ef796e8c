/* Unit tests of common/config.c: the one settings table read from defaults, a config file,
 * EVGATE_* environment variables and flags (later winning), its errors and listen addresses. */
#include "common/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

#define MAX_ARGS  16
#define MAX_FILES 4

struct fixture {
    struct evg_config cfg;
    char err[512];
    char files[MAX_FILES][64];
    int nfiles;
};

/* Removes every EVGATE_* variable, so that the developer's own settings never leak in. */
static void clear_env(void)
{
    for (int guard = 0; guard < 1000; guard++) {
        char name[256] = "";
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "EVGATE_", 7) == 0) {
                snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
                break;
            }
        }
        if (!*name)
            return;
        unsetenv(name);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    clear_env();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cfg_free(&f->cfg);
    for (int i = 0; i < f->nfiles; i++)
        unlink(f->files[i]);
    clear_env();
    free(f);
    return 0;
}

/* Writes `text` to a new temporary file owned by the fixture; returns its path. */
static const char *write_file(struct fixture *f, const char *text)
{
    assert_true(f->nfiles < MAX_FILES);
    char *path = f->files[f->nfiles];
    snprintf(path, sizeof f->files[0], "/tmp/evgate-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    f->nfiles++;
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* cfg_load with argv = {prog, args..., NULL}; the argument list ends with NULL. */
static int load(struct fixture *f, unsigned scope, ...)
{
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "evgate-test";
    va_list ap;
    va_start(ap, scope);
    for (char *a; (a = va_arg(ap, char *)) != NULL;) {
        assert_true(argc <= MAX_ARGS);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    cfg_free(&f->cfg);
    f->err[0] = 0;
    return cfg_load(&f->cfg, scope, "evgate-test", argc, argv, f->err, sizeof f->err);
}

static void assert_err_has(struct fixture *f, const char *needle)
{
    if (!strstr(f->err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", f->err, needle);
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, NULL), 0);
    struct evg_config *c = &f->cfg;
    assert_string_equal(c->config_file, "");
    assert_string_equal(c->db, "var/evgate.db");
    assert_string_equal(c->data_dir, "var/");
    assert_string_equal(c->web_dir, "mgmt/web");
    assert_string_equal(c->mgmt_listen, "127.0.0.1:8080");
    assert_string_equal(c->gateway_listen, "127.0.0.1:8180");
    assert_string_equal(c->admin_password, "");
    assert_string_equal(c->log_level, "info");
    assert_string_equal(c->sqlite_synchronous, "NORMAL");
    assert_int_equal(c->sqlite_busy_ms, 5000);
    assert_int_equal(c->max_upload_bytes, 10 * 1024 * 1024);
    assert_int_equal(c->page_size_max, 200);
    assert_int_equal(c->login_max_failures, 5);

    assert_int_equal(load(f, CFG_GATEWAY, NULL), 0);
    assert_string_equal(f->cfg.gateway_listen, "127.0.0.1:8180");
    assert_int_equal(f->cfg.writer_batch_max, 2000);
}

static void test_file_overrides_default(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "# evgate settings\n"
                                     "\n"
                                     "db = /srv/evgate/evgate.db\n"
                                     "  mgmt_threads=8  \n"
                                     "log_level = \"debug\"\n"
                                     "site_name = 中山市充电设施服务平台\n"
                                     "sqlite_synchronous = FULL\n");
    assert_int_equal(load(f, CFG_MGMT, "--config", path, NULL), 0);
    assert_string_equal(f->cfg.config_file, path);
    assert_string_equal(f->cfg.db, "/srv/evgate/evgate.db");
    assert_int_equal(f->cfg.mgmt_threads, 8);
    assert_string_equal(f->cfg.log_level, "debug");
    assert_string_equal(f->cfg.site_name, "中山市充电设施服务平台");
    assert_string_equal(f->cfg.sqlite_synchronous, "FULL");
    assert_string_equal(f->cfg.mgmt_listen, "127.0.0.1:8080"); /* untouched */
}

static void test_env_overrides_file(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "db = from-file.db\nmgmt_threads = 8\n");
    setenv("EVGATE_DB", "from-env.db", 1);
    setenv("EVGATE_MGMT_LISTEN", "127.0.0.1:9080", 1);
    assert_int_equal(load(f, CFG_MGMT, "--config", path, NULL), 0);
    assert_string_equal(f->cfg.db, "from-env.db");
    assert_string_equal(f->cfg.mgmt_listen, "127.0.0.1:9080");
    assert_int_equal(f->cfg.mgmt_threads, 8);
}

static void test_flag_overrides_env(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "db = from-file.db\nlog_level = warn\n");
    setenv("EVGATE_DB", "from-env.db", 1);
    setenv("EVGATE_MGMT_THREADS", "3", 1);
    setenv("EVGATE_LOG_LEVEL", "error", 1);

    assert_int_equal(
        load(f, CFG_MGMT, "--config", path, "--db", "from-flag.db", "--mgmt-threads=12", NULL), 0);
    assert_string_equal(f->cfg.db, "from-flag.db");
    assert_int_equal(f->cfg.mgmt_threads, 12);
    assert_string_equal(f->cfg.log_level, "error"); /* env over file, no flag */

    assert_int_equal(load(f, CFG_MGMT, "--db=with=equals.db", NULL), 0);
    assert_string_equal(f->cfg.db, "with=equals.db");

    /* The last of repeated flags wins. */
    assert_int_equal(load(f, CFG_MGMT, "--db", "a.db", "--db=b.db", NULL), 0);
    assert_string_equal(f->cfg.db, "b.db");
}

static void test_config_from_flag_and_env(void **state)
{
    struct fixture *f = *state;
    const char *a = write_file(f, "db = a.db\n");
    const char *b = write_file(f, "db = b.db\n");

    setenv("EVGATE_CONFIG", a, 1);
    assert_int_equal(load(f, CFG_MGMT, NULL), 0);
    assert_string_equal(f->cfg.db, "a.db");
    assert_string_equal(f->cfg.config_file, a);

    /* The flag names the file over the environment, in both spellings. */
    assert_int_equal(load(f, CFG_MGMT, "--config", b, NULL), 0);
    assert_string_equal(f->cfg.db, "b.db");
    char flag[128];
    snprintf(flag, sizeof flag, "--config=%s", b);
    assert_int_equal(load(f, CFG_GATEWAY, flag, NULL), 0);
    assert_string_equal(f->cfg.db, "b.db");
    assert_string_equal(f->cfg.config_file, b);
}

static void test_missing_config_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, "--config", "/nonexistent/evgate.conf", NULL), -1);
    assert_err_has(f, "/nonexistent/evgate.conf");
}

static void test_unknown_key_in_file(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "db = x.db\ndatabase_path = y.db\n");
    assert_int_equal(load(f, CFG_MGMT, "--config", path, NULL), -1);
    assert_err_has(f, "database_path");
    char where[96];
    snprintf(where, sizeof where, "%s:2", path);
    assert_err_has(f, where);
}

static void test_bad_line_in_file(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "db x.db\n");
    assert_int_equal(load(f, CFG_MGMT, "--config", path, NULL), -1);
    assert_err_has(f, path);
}

static void test_unknown_flag(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, "--bogus-setting", "1", NULL), -1);
    assert_err_has(f, "--bogus-setting");
    assert_int_equal(load(f, CFG_MGMT, "--db_path=x", NULL), -1);
    assert_err_has(f, "--db_path");
    /* Flags use dashes; the underscore spelling of a real setting is not a flag. */
    assert_int_equal(load(f, CFG_MGMT, "--mgmt_listen", "127.0.0.1:1", NULL), -1);
    assert_err_has(f, "--mgmt_listen");
}

static void test_flag_without_value_or_dashes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, "--db", NULL), -1);
    assert_err_has(f, "db");
    assert_int_equal(load(f, CFG_MGMT, "stray", NULL), -1);
    assert_err_has(f, "stray");
}

static void test_integer_out_of_range(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, "--mgmt-threads", "65", NULL), -1);
    assert_err_has(f, "mgmt_threads");
    assert_err_has(f, "65");

    assert_int_equal(load(f, CFG_MGMT, "--page-size-max=0", NULL), -1);
    assert_err_has(f, "page_size_max");

    setenv("EVGATE_SQLITE_BUSY_MS", "12abc", 1);
    assert_int_equal(load(f, CFG_MGMT, NULL), -1);
    assert_err_has(f, "sqlite_busy_ms");
    assert_err_has(f, "EVGATE_SQLITE_BUSY_MS");
    unsetenv("EVGATE_SQLITE_BUSY_MS");

    const char *path = write_file(f, "max_upload_bytes = 99999999999999999999999\n");
    assert_int_equal(load(f, CFG_MGMT, "--config", path, NULL), -1);
    assert_err_has(f, "max_upload_bytes");

    /* The bounds themselves are accepted. */
    assert_int_equal(load(f, CFG_MGMT, "--mgmt-threads", "64", "--page-size-max", "1", NULL), 0);
    assert_int_equal(f->cfg.mgmt_threads, 64);
    assert_int_equal(f->cfg.page_size_max, 1);
}

static void test_help(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, "--help", NULL), 1);
    assert_int_equal(load(f, CFG_GATEWAY, "--db", "x.db", "-h", NULL), 1);
    /* --help wins even over an error later on the line. */
    assert_int_equal(load(f, CFG_MGMT, "--help", "--bogus", NULL), 1);
}

static void test_help_text(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_help(out, "evgate-mgmt", CFG_MGMT);
    fclose(out);
    assert_non_null(strstr(text, "evgate-mgmt"));
    assert_non_null(strstr(text, "--db"));
    assert_non_null(strstr(text, "EVGATE_DB"));
    assert_non_null(strstr(text, "--mgmt-listen"));
    assert_non_null(strstr(text, "EVGATE_ADMIN_PASSWORD"));
    assert_non_null(strstr(text, "127.0.0.1:8080"));
    assert_null(strstr(text, "--gateway-listen")); /* a gateway setting */
    free(text);

    text = NULL;
    out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_help(out, "evgate-gateway", CFG_GATEWAY);
    fclose(out);
    assert_non_null(strstr(text, "--gateway-listen"));
    assert_null(strstr(text, "--mgmt-listen"));
    assert_null(strstr(text, "--admin-password"));
    free(text);
}

/* One config file serves both daemons: each takes its own settings from it. As flags,
 * another program's settings are refused, so a typo is never silently ignored. */
static void test_other_scope(void **state)
{
    struct fixture *f = *state;
    const char *path = write_file(f, "mgmt_listen = 127.0.0.1:9080\n"
                                     "gateway_listen = 127.0.0.1:9180\n"
                                     "admin_password = from-file-Secret1\n");
    assert_int_equal(load(f, CFG_MGMT, "--config", path, NULL), 0);
    assert_string_equal(f->cfg.mgmt_listen, "127.0.0.1:9080");
    assert_string_equal(f->cfg.gateway_listen, "127.0.0.1:8180");
    assert_string_equal(f->cfg.admin_password, "from-file-Secret1");

    assert_int_equal(load(f, CFG_GATEWAY, "--config", path, NULL), 0);
    assert_string_equal(f->cfg.gateway_listen, "127.0.0.1:9180");
    assert_string_equal(f->cfg.mgmt_listen, "127.0.0.1:8080");
    assert_string_equal(f->cfg.admin_password, ""); /* the gateway never holds it */

    assert_int_equal(load(f, CFG_MGMT, "--gateway-listen", "127.0.0.1:1", NULL), -1);
    assert_err_has(f, "--gateway-listen");
    assert_int_equal(load(f, CFG_GATEWAY, "--admin-password=x", NULL), -1);
    assert_err_has(f, "--admin-password");
    assert_int_equal(load(f, CFG_GATEWAY, "--mgmt-threads", "2", NULL), -1);
    assert_err_has(f, "--mgmt-threads");

    /* Both daemons share one environment, so the other's variables are ignored too. */
    setenv("EVGATE_GATEWAY_LISTEN", "127.0.0.1:7180", 1);
    setenv("EVGATE_GW_RX_BUFFER", "1", 1); /* out of range, but not mgmt's business */
    assert_int_equal(load(f, CFG_MGMT, NULL), 0);
    assert_string_equal(f->cfg.gateway_listen, "127.0.0.1:8180");
    unsetenv("EVGATE_GW_RX_BUFFER");
    setenv("EVGATE_MGMT_THREADS", "100000", 1); /* nor this the gateway's */
    assert_int_equal(load(f, CFG_GATEWAY, NULL), 0);
    assert_string_equal(f->cfg.gateway_listen, "127.0.0.1:7180");
}

static void test_data_dir_slash(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, CFG_MGMT, "--data-dir", "/srv/evgate/data", NULL), 0);
    assert_string_equal(f->cfg.data_dir, "/srv/evgate/data/");
    assert_int_equal(load(f, CFG_MGMT, "--data-dir", "/srv/evgate/data/", NULL), 0);
    assert_string_equal(f->cfg.data_dir, "/srv/evgate/data/");
}

static void expect_listen(const char *listen, const char *want_host, int want_port)
{
    char host[64];
    int port = -1;
    if (cfg_split_listen(listen, host, sizeof host, &port) != 0)
        fail_msg("\"%s\" was refused", listen);
    assert_string_equal(host, want_host);
    assert_int_equal(port, want_port);
}

static void expect_bad_listen(const char *listen, size_t hostlen)
{
    char host[64];
    int port = -1;
    assert_true(hostlen <= sizeof host);
    if (cfg_split_listen(listen, host, hostlen, &port) != -1)
        fail_msg("\"%s\" was accepted", listen);
}

static void test_split_listen(void **state)
{
    (void)state;
    expect_listen("127.0.0.1:8080", "127.0.0.1", 8080);
    expect_listen("0.0.0.0:1", "0.0.0.0", 1);
    expect_listen("localhost:65535", "localhost", 65535);
    expect_listen("[::1]:8080", "::1", 8080);
    expect_listen("[::]:8180", "::", 8180);
    expect_listen("[fe80::1%lo]:443", "fe80::1%lo", 443);

    expect_bad_listen("127.0.0.1", 64);
    expect_bad_listen("8080", 64);
    expect_bad_listen(":8080", 64);
    expect_bad_listen("127.0.0.1:", 64);
    expect_bad_listen("127.0.0.1:0", 64);
    expect_bad_listen("127.0.0.1:65536", 64);
    expect_bad_listen("127.0.0.1:-80", 64);
    expect_bad_listen("127.0.0.1:80x", 64);
    expect_bad_listen("127.0.0.1:8080 ", 64);
    expect_bad_listen("127.0.0.1:99999999999999999999", 64);
    expect_bad_listen("", 64);
    /* The host must fit the caller's buffer with its NUL. */
    expect_bad_listen("127.0.0.1:8080", 9);
    expect_listen("127.0.0.1:8080", "127.0.0.1", 8080); /* 10 bytes would do */
    char host[10];
    int port;
    assert_int_equal(cfg_split_listen("127.0.0.1:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_file_overrides_default),
        T(test_env_overrides_file),
        T(test_flag_overrides_env),
        T(test_config_from_flag_and_env),
        T(test_missing_config_file),
        T(test_unknown_key_in_file),
        T(test_bad_line_in_file),
        T(test_unknown_flag),
        T(test_flag_without_value_or_dashes),
        T(test_integer_out_of_range),
        T(test_help),
        T(test_help_text),
        T(test_other_scope),
        T(test_data_dir_slash),
        T(test_split_listen),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
