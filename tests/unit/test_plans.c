/* Unit tests of protocol/plans.c: the three conformance plans as data (their titles, sizes, ids,
 * check titles, needs, timeouts, the check every run starts with) and docs/conformance.md's tables
 * of them, which must list every check as the tables have it (the doc is the contract). */
#include "protocol/plans.h"

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifndef CONFORMANCE_DOC
#error "CONFORMANCE_DOC (the path of docs/conformance.md) is set by tests/unit/meson.build"
#endif

static const struct {
    const char *plan;
    size_t min;
    const char *target_kind;
    const char *protocol;
    const char *first;               /* the check the engine starts with */
    const char *title_zh, *title_en; /* as the report and the web UI name the plan */
} expect[] = {
    {"ocpp16-core", 20, "pile", "ocpp1.6", "boot.first-message", "OCPP 1.6 核心功能检测",
     "OCPP 1.6 core"},
    {"ocpp201-core", 15, "pile", "ocpp2.0.1", "boot.first-message", "OCPP 2.0.1 核心功能检测",
     "OCPP 2.0.1 core"},
    {"tcec102-platform", 15, "platform", NULL, "token.evgate-obtains", "T/CEC 102 平台互联检测",
     "T/CEC 102 platform interconnection"},
};
#define N_EXPECT (sizeof expect / sizeof expect[0])

/* The next code point of UTF-8 text *s (advanced), or -1 on a malformed sequence. */
static long next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    long cp;
    int more;
    if (p[0] < 0x80) {
        cp = p[0], more = 0;
    } else if ((p[0] & 0xe0) == 0xc0) {
        cp = p[0] & 0x1f, more = 1;
    } else if ((p[0] & 0xf0) == 0xe0) {
        cp = p[0] & 0x0f, more = 2;
    } else if ((p[0] & 0xf8) == 0xf0) {
        cp = p[0] & 0x07, more = 3;
    } else {
        return -1;
    }
    for (int i = 1; i <= more; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    *s = p + 1 + more;
    return cp;
}

/* Whether `s` is valid UTF-8 with at least one CJK unified ideograph; *chars = code points. */
static int has_cjk(const char *s, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    int cjk = 0;
    *chars = 0;
    while (*p) {
        long cp = next_cp(&p);
        if (cp < 0)
            return 0;
        if (cp >= 0x4e00 && cp <= 0x9fff)
            cjk = 1;
        ++*chars;
    }
    return cjk;
}

/* One line of printable ASCII, 1..max bytes. */
static int ascii_line(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(plan_count(), N_EXPECT);
    for (size_t i = 0; i < N_EXPECT; i++) {
        assert_string_equal(plan_name(i), expect[i].plan);
        assert_string_equal(plan_target_kind(expect[i].plan), expect[i].target_kind);
        if (expect[i].protocol)
            assert_string_equal(plan_protocol(expect[i].plan), expect[i].protocol);
        else
            assert_null(plan_protocol(expect[i].plan));
    }
    assert_null(plan_name(N_EXPECT));
    assert_null(plan_name((size_t)-1));
}

static void test_titles(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXPECT; i++) {
        const char *zh = plan_title_zh(expect[i].plan), *en = plan_title_en(expect[i].plan);
        assert_non_null(zh);
        assert_non_null(en);
        assert_string_equal(zh, expect[i].title_zh);
        assert_string_equal(en, expect[i].title_en);
        size_t chars;
        if (!has_cjk(zh, &chars) || chars > 40 || strpbrk(zh, "\n\r\t"))
            fail_msg("%s: title_zh is not one line of Chinese (at most 40 characters)",
                     expect[i].plan);
        if (!ascii_line(en, 80))
            fail_msg("%s: title_en is not one line of ASCII (at most 80)", expect[i].plan);
        for (size_t j = 0; j < i; j++) /* a person tells the plans apart by their titles */
            if (strcmp(zh, plan_title_zh(expect[j].plan)) == 0 ||
                strcmp(en, plan_title_en(expect[j].plan)) == 0)
                fail_msg("%s and %s have the same title", expect[j].plan, expect[i].plan);
    }
    assert_null(plan_title_zh("nope"));
    assert_null(plan_title_en("nope"));
    assert_null(plan_title_zh(NULL));
    assert_null(plan_title_en(NULL));
    assert_null(plan_title_zh("OCPP16-CORE"));
}

static void test_unknown_plan(void **state)
{
    (void)state;
    size_t n = 99;
    assert_null(plan_checks("ocpp15-core", &n));
    assert_int_equal(n, 0);
    n = 99;
    assert_null(plan_checks(NULL, &n));
    assert_int_equal(n, 0);
    assert_null(plan_checks("", NULL));
    assert_null(plan_checks("OCPP16-CORE", NULL)); /* names are exact */
    assert_null(plan_checks("ocpp16-core ", NULL));
    assert_null(plan_target_kind("nope"));
    assert_null(plan_target_kind(NULL));
    assert_null(plan_protocol("nope"));
    assert_null(plan_check_find("nope", "boot.first-message"));
    assert_null(plan_check_find("ocpp16-core", "no.such-check"));
    assert_null(plan_check_find("ocpp16-core", NULL));
    /* a check of one plan is not found in another */
    assert_null(plan_check_find("tcec102-platform", "boot.first-message"));
    assert_null(plan_check_find("ocpp16-core", "token.evgate-obtains"));
}

static void test_checks(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^[a-z0-9]+(\\.[a-z0-9-]+)+$", REG_EXTENDED | REG_NOSUB), 0);
    for (size_t i = 0; i < N_EXPECT; i++) {
        size_t n = 0;
        const struct plan_check *c = plan_checks(expect[i].plan, &n);
        assert_non_null(c);
        if (n < expect[i].min)
            fail_msg("%s has %zu checks, fewer than %zu", expect[i].plan, n, expect[i].min);
        assert_ptr_equal(plan_checks(expect[i].plan, NULL), c);
        assert_string_equal(c[0].id, expect[i].first);
        assert_true(c[0].required);
        assert_int_equal(c[0].needs, PLAN_NEED_NONE); /* a run can always start */
        for (size_t k = 0; k < n; k++) {
            const struct plan_check *ck = &c[k];
            const char *id = ck->id;
            if (!id || regexec(&re, id, 0, NULL, 0) != 0)
                fail_msg("%s check %zu: id \"%s\" is not dotted lower case", expect[i].plan, k,
                         id ? id : "(null)");
            for (size_t j = 0; j < k; j++)
                if (strcmp(c[j].id, id) == 0)
                    fail_msg("%s: id %s twice (checks %zu and %zu)", expect[i].plan, id, j, k);
            assert_ptr_equal(plan_check_find(expect[i].plan, id), ck);
            size_t chars;
            if (!ck->title_zh || !has_cjk(ck->title_zh, &chars) || chars > 40 ||
                strpbrk(ck->title_zh, "\n\r\t|"))
                fail_msg("%s %s: title_zh is not one line of Chinese (at most 40 characters)",
                         expect[i].plan, id);
            if (!ck->title_en || !ascii_line(ck->title_en, 80) || strchr(ck->title_en, '|'))
                fail_msg("%s %s: title_en is not one line of ASCII (at most 80)", expect[i].plan,
                         id);
            if (!ck->what || !ascii_line(ck->what, 400))
                fail_msg("%s %s: what is not one line of ASCII (at most 400)", expect[i].plan, id);
            if (ck->timeout_s < 1 || ck->timeout_s > PLAN_TIMEOUT_MAX_S)
                fail_msg("%s %s: timeout %u s is outside 1..%d", expect[i].plan, id, ck->timeout_s,
                         PLAN_TIMEOUT_MAX_S);
            if (ck->needs & ~(unsigned)PLAN_NEED_ALL)
                fail_msg("%s %s: unknown need bits %#x", expect[i].plan, id, ck->needs);
            /* someone has to do it: a check waiting for a person waits long enough */
            if (ck->needs && ck->timeout_s < 120)
                fail_msg("%s %s: needs a person but waits only %u s", expect[i].plan, id,
                         ck->timeout_s);
        }
    }
    regfree(&re);
}

static void test_need_names(void **state)
{
    (void)state;
    assert_string_equal(plan_need_name(PLAN_NEED_NONE), "none");
    assert_string_equal(plan_need_name(PLAN_NEED_PERSON), "person");
    assert_string_equal(plan_need_name(PLAN_NEED_CABLE), "cable");
    assert_string_equal(plan_need_name(PLAN_NEED_CARD), "card");
    assert_null(plan_need_name(PLAN_NEED_CABLE | PLAN_NEED_CARD));
    assert_null(plan_need_name(1u << 7));
}

/* The needs column of the doc: "—" or the names joined by " + ". */
static void needs_text(unsigned needs, char *buf, size_t size)
{
    buf[0] = 0;
    if (!needs) {
        snprintf(buf, size, "—");
        return;
    }
    for (unsigned bit = 1; bit <= PLAN_NEED_ALL; bit <<= 1)
        if (needs & bit) {
            size_t len = strlen(buf);
            snprintf(buf + len, size - len, "%s%s", len ? " + " : "", plan_need_name(bit));
        }
}

static char *read_doc(void)
{
    FILE *f = fopen(CONFORMANCE_DOC, "rb");
    if (!f)
        fail_msg("cannot open %s", CONFORMANCE_DOC);
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            text = realloc(text, cap);
            assert_non_null(text);
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    text[len] = 0;
    return text;
}

/* docs/conformance.md, section "The plans": per plan a "### `plan`" table whose rows are
 * "| seq | `id` | title_zh | yes/no | needs | ..." in the plan's order, and no other rows. */
static void test_doc_tables(void **state)
{
    (void)state;
    char *doc = read_doc();
    const char *section = strstr(doc, "\n## The plans\n");
    if (!section)
        fail_msg("%s has no section \"## The plans\"", CONFORMANCE_DOC);
    const char *section_end = strstr(section + 1, "\n## ");
    for (size_t i = 0; i < N_EXPECT; i++) {
        char heading[64];
        snprintf(heading, sizeof heading, "\n### `%s`", expect[i].plan);
        const char *start = strstr(section, heading);
        if (!start || (section_end && start > section_end))
            fail_msg("\"The plans\" has no heading ### `%s`", expect[i].plan);
        const char *end = strstr(start + 1, "\n### ");
        if (!end || (section_end && end > section_end))
            end = section_end ? section_end : start + strlen(start);
        size_t n;
        const struct plan_check *c = plan_checks(expect[i].plan, &n);
        const char *at = start;
        for (size_t k = 0; k < n; k++) {
            char row[512], needs[64];
            needs_text(c[k].needs, needs, sizeof needs);
            snprintf(row, sizeof row, "\n| %zu | `%s` | %s | %s | %s |", k + 1, c[k].id,
                     c[k].title_zh, c[k].required ? "yes" : "no", needs);
            const char *found = strstr(at, row);
            if (!found || found > end)
                fail_msg("%s: the table of %s lacks, after the previous check, the row \"%s\"",
                         CONFORMANCE_DOC, expect[i].plan, row + 1);
            at = found + 1;
        }
        /* no rows beyond the plan's checks */
        size_t rows = 0;
        for (const char *p = start; p && p < end; p = strchr(p + 1, '\n'))
            if (p[0] == '\n' && p[1] == '|' && p[2] == ' ' && p[3] >= '0' && p[3] <= '9')
                rows++;
        if (rows != n)
            fail_msg("%s: the table of %s has %zu numbered rows, the plan %zu checks",
                     CONFORMANCE_DOC, expect[i].plan, rows, n);
    }
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),     cmocka_unit_test(test_titles),
        cmocka_unit_test(test_unknown_plan), cmocka_unit_test(test_checks),
        cmocka_unit_test(test_need_names),   cmocka_unit_test(test_doc_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
