/* Unit tests of protocol/creditcode.c: the GB 32100-2015 shape and check character of unified
 * social credit codes, and the organisation code taken from them as the T/CEC OperatorID. */
#include "protocol/creditcode.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Real-looking codes from the seed guide and the API docs. */
static const char *const known_valid[] = {
    "91350100M000100Y43",
    "91442000MA4UJ9XY09",
};

static void test_known_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known_valid / sizeof known_valid[0]; i++) {
        size_t pos = 12345;
        assert_int_equal(cc_validate(known_valid[i], &pos), CC_OK);
        assert_int_equal(cc_validate(known_valid[i], NULL), CC_OK);
        assert_int_equal(cc_check_char(known_valid[i]), known_valid[i][17]);
    }
}

/* Codes built from random bodies with the computed check character all validate; the same
 * body with any other check character does not. */
static void test_generated_valid(void **state)
{
    (void)state;
    srand(20151201);
    for (int n = 0; n < 2000; n++) {
        char code[19];
        for (int i = 0; i < 17; i++)
            code[i] = alphabet[rand() % 31];
        code[17] = cc_check_char(code);
        code[18] = 0;
        assert_true(strchr(alphabet, code[17]) != NULL);
        assert_int_equal(cc_validate(code, NULL), CC_OK);
        code[17] = alphabet[(strchr(alphabet, code[17]) - alphabet + 1 + rand() % 30) % 31];
        assert_int_equal(cc_validate(code, NULL), CC_BAD_CHECK);
    }
}

/* A body whose weighted sum is a multiple of 31 has check character '0' (31 - 0 wraps). */
static void test_check_char_wraps_to_zero(void **state)
{
    (void)state;
    assert_int_equal(cc_check_char("00000000000000000"), '0');
    assert_int_equal(cc_validate("000000000000000000", NULL), CC_OK);
}

static void test_wrong_length(void **state)
{
    (void)state;
    assert_int_equal(cc_validate("", NULL), CC_BAD_LENGTH);
    assert_int_equal(cc_validate("9", NULL), CC_BAD_LENGTH);
    assert_int_equal(cc_validate("91350100M000100Y4", NULL), CC_BAD_LENGTH);    /* 17 */
    assert_int_equal(cc_validate("91350100M000100Y430", NULL), CC_BAD_LENGTH);  /* 19 */
    assert_int_equal(cc_validate("91350100M000100Y4391", NULL), CC_BAD_LENGTH); /* 20 */
    assert_int_equal(cc_validate("91350100M000100Y43 ", NULL), CC_BAD_LENGTH);  /* trailing */
    assert_int_equal(cc_validate("91442000MA4UJ9XY09"
                                 "0000",
                                 NULL),
                     CC_BAD_LENGTH); /* 22 */
}

static void expect_bad_char(const char *code, size_t want_pos)
{
    size_t pos = 999;
    assert_int_equal(cc_validate(code, &pos), CC_BAD_CHARACTER);
    assert_int_equal(pos, want_pos);
}

/* I, O, S, V and Z are not in the GB 32100 alphabet (they look like 1, 0, 5, U and 2). */
static void test_forbidden_letters(void **state)
{
    (void)state;
    const char *forbidden = "IOSVZ";
    for (const char *f = forbidden; *f; f++) {
        for (size_t at = 0; at < 18; at++) {
            char code[19];
            memcpy(code, known_valid[1], sizeof code);
            code[at] = *f;
            expect_bad_char(code, at);
        }
    }
}

static void test_punctuation_and_space(void **state)
{
    (void)state;
    expect_bad_char("91442000-MA4UJ9XY0", 8);
    expect_bad_char(" 91442000MA4UJ9XY09", 0);
    expect_bad_char("91442000 MA4UJ9XY0", 8);
    expect_bad_char("9144200.MA4UJ9XY09", 7);
    expect_bad_char("91442000MA4UJ9XY0\t", 17);
    expect_bad_char("91442000MA4UJ9XY0*", 17);
    /* Reported before the length: the user learns what is wrong with the text first. */
    expect_bad_char("9144/", 4);
}

/* Full-width digits (U+FF10..U+FF19, three UTF-8 bytes each) are a common paste from Chinese
 * documents: the first byte is reported. */
static void test_fullwidth_digits(void **state)
{
    (void)state;
    expect_bad_char("\xEF\xBC\x99"
                    "1442000MA4UJ9XY09",
                    0);
    expect_bad_char("91442000MA4UJ9XY0"
                    "\xEF\xBC\x99",
                    17);
    expect_bad_char("9144"
                    "\xEF\xBC\x92\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90"
                    "MA4UJ9XY09",
                    4);
}

static void test_lowercase(void **state)
{
    (void)state;
    size_t pos = 999;
    assert_int_equal(cc_validate("91442000ma4UJ9XY09", &pos), CC_LOWERCASE);
    assert_int_equal(pos, 8);
    assert_int_equal(cc_validate("91350100m000100y43", &pos), CC_LOWERCASE);
    assert_int_equal(pos, 8);
    assert_int_equal(cc_validate("91442000MA4UJ9XY0a", &pos), CC_LOWERCASE);
    assert_int_equal(pos, 17);
    /* Lower case is reported even when the length is wrong too. */
    assert_int_equal(cc_validate("91442000ma", &pos), CC_LOWERCASE);
    assert_int_equal(pos, 8);
    /* A lower-case forbidden letter stays forbidden once upper-cased. */
    for (const char *f = "iosvz"; *f; f++) {
        char code[19];
        memcpy(code, known_valid[1], sizeof code);
        code[10] = *f;
        expect_bad_char(code, 10);
    }
}

/* Every wrong 18th character of one code, from the alphabet and from outside it. */
static void test_every_wrong_check_char(void **state)
{
    (void)state;
    char code[19];
    memcpy(code, known_valid[0], sizeof code);
    int wrong = 0;
    for (const char *c = alphabet; *c; c++) {
        code[17] = *c;
        if (*c == known_valid[0][17]) {
            assert_int_equal(cc_validate(code, NULL), CC_OK);
            continue;
        }
        size_t pos = 999;
        assert_int_equal(cc_validate(code, &pos), CC_BAD_CHECK);
        wrong++;
    }
    assert_int_equal(wrong, 30);
    code[17] = 'I';
    expect_bad_char(code, 17);
    code[17] = 'c';
    size_t pos = 999;
    assert_int_equal(cc_validate(code, &pos), CC_LOWERCASE);
    assert_int_equal(pos, 17);
}

/* A changed body character (a typo) is caught by the check character. */
static void test_single_typo_caught(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known_valid / sizeof known_valid[0]; i++) {
        for (size_t at = 0; at < 17; at++) {
            for (const char *c = alphabet; *c; c++) {
                if (*c == known_valid[i][at])
                    continue;
                char code[19];
                memcpy(code, known_valid[i], sizeof code);
                code[at] = *c;
                assert_int_equal(cc_validate(code, NULL), CC_BAD_CHECK);
            }
        }
    }
}

static void test_check_char_of_bad_body(void **state)
{
    (void)state;
    assert_int_equal(cc_check_char("91442000MA4UJ9XYO"), 0);
    assert_int_equal(cc_check_char("91442000ma4UJ9XY0"), 0);
    assert_int_equal(cc_check_char("9144200-MA4UJ9XY0"), 0);
}

static void test_operator_id(void **state)
{
    (void)state;
    char out[10];
    memset(out, 'x', sizeof out);
    cc_operator_id("91442000MA4UJ9XY09", out);
    assert_string_equal(out, "MA4UJ9XY0");
    cc_operator_id("91350100M000100Y43", out);
    assert_string_equal(out, "M000100Y4");
    assert_int_equal(strlen(out), 9);
}

static void test_reasons(void **state)
{
    (void)state;
    const enum cc_result all[] = {CC_OK, CC_BAD_LENGTH, CC_BAD_CHARACTER, CC_LOWERCASE,
                                  CC_BAD_CHECK};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *r = cc_reason(all[i]);
        assert_non_null(r);
        assert_true(strlen(r) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(r, cc_reason(all[j]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_valid),
        cmocka_unit_test(test_generated_valid),
        cmocka_unit_test(test_check_char_wraps_to_zero),
        cmocka_unit_test(test_wrong_length),
        cmocka_unit_test(test_forbidden_letters),
        cmocka_unit_test(test_punctuation_and_space),
        cmocka_unit_test(test_fullwidth_digits),
        cmocka_unit_test(test_lowercase),
        cmocka_unit_test(test_every_wrong_check_char),
        cmocka_unit_test(test_single_typo_caught),
        cmocka_unit_test(test_check_char_of_bad_body),
        cmocka_unit_test(test_operator_id),
        cmocka_unit_test(test_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
