/* Unit tests of mgmt/password.c: argon2id PHC strings with a random salt, verification that
 * refuses anything else, and generated passwords that can be read off a terminal. */
#include "mgmt/password.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_hash_then_verify(void **state)
{
    (void)state;
    char hash[PW_HASH_MAX];
    assert_int_equal(pw_hash("correct horse battery", hash), 0);
    assert_true(strlen(hash) < PW_HASH_MAX);
    assert_int_equal(pw_verify(hash, "correct horse battery"), 1);
}

static void test_wrong_password_fails(void **state)
{
    (void)state;
    char hash[PW_HASH_MAX];
    assert_int_equal(pw_hash("Admin-pass-1234", hash), 0);
    assert_int_equal(pw_verify(hash, "Admin-pass-1235"), 0);
    assert_int_equal(pw_verify(hash, "admin-pass-1234"), 0);
    assert_int_equal(pw_verify(hash, "Admin-pass-1234 "), 0);
    assert_int_equal(pw_verify(hash, "Admin-pass-123"), 0);
    assert_int_equal(pw_verify(hash, ""), 0);
}

/* Chinese, quotes and other non-ASCII text are hashed byte for byte. */
static void test_utf8_password(void **state)
{
    (void)state;
    char hash[PW_HASH_MAX];
    const char *pw = "充电桩密码'\";--\xF0\x9F\x94\x8C";
    assert_int_equal(pw_hash(pw, hash), 0);
    assert_int_equal(pw_verify(hash, pw), 1);
    assert_int_equal(pw_verify(hash, "充电桩密码'\";--"), 0);
}

static void test_salted(void **state)
{
    (void)state;
    char a[PW_HASH_MAX], b[PW_HASH_MAX];
    assert_int_equal(pw_hash("same password twice", a), 0);
    assert_int_equal(pw_hash("same password twice", b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(pw_verify(a, "same password twice"), 1);
    assert_int_equal(pw_verify(b, "same password twice"), 1);
}

/* PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, the OWASP minimum. */
static void test_format(void **state)
{
    (void)state;
    char hash[PW_HASH_MAX];
    assert_int_equal(pw_hash("format check", hash), 0);
    assert_memory_equal(hash, "$argon2id$", 10);
    assert_non_null(strstr(hash, "$v=19$"));
    assert_non_null(strstr(hash, "m=19456,t=2,p=1$"));
    assert_null(strstr(hash, "format check"));
    int dollars = 0;
    for (const char *p = hash; *p; p++)
        dollars += *p == '$';
    assert_int_equal(dollars, 5);
}

/* Any change to the stored string (salt, digest, parameters) makes it fail, not crash. */
static void test_tampered_hash_fails(void **state)
{
    (void)state;
    char hash[PW_HASH_MAX], t[PW_HASH_MAX];
    assert_int_equal(pw_hash("tamper with me", hash), 0);
    size_t n = strlen(hash);

    memcpy(t, hash, n + 1); /* a digest character (not the last: it holds padding bits) */
    t[n - 5] = t[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(pw_verify(t, "tamper with me"), 0);

    memcpy(t, hash, n + 1); /* a salt character */
    char *salt = strrchr(t, '$');
    assert_non_null(salt);
    while (salt > t && salt[-1] != '$')
        salt--;
    salt[0] = salt[0] == 'A' ? 'B' : 'A';
    assert_int_equal(pw_verify(t, "tamper with me"), 0);

    memcpy(t, hash, n + 1); /* cheaper parameters */
    char *m = strstr(t, "t=2");
    assert_non_null(m);
    m[2] = '1';
    assert_int_equal(pw_verify(t, "tamper with me"), 0);

    memcpy(t, hash, n + 1); /* truncated */
    t[n / 2] = 0;
    assert_int_equal(pw_verify(t, "tamper with me"), 0);

    memcpy(t, hash, n + 1); /* argon2i instead of argon2id, digest unchanged */
    memmove(t + 8, t + 9, n - 8);
    assert_memory_equal(t, "$argon2i$", 9);
    assert_int_equal(pw_verify(t, "tamper with me"), 0);
}

static void test_non_argon2_fails(void **state)
{
    (void)state;
    assert_int_equal(pw_verify("", ""), 0);
    assert_int_equal(pw_verify(NULL, "x"), 0);
    assert_int_equal(pw_verify("plaintext", "plaintext"), 0);
    assert_int_equal(
        pw_verify("$2b$12$abcdefghijklmnopqrstuuOa7U6q5Uu3yXnK/6kZp1Ul0p7KJbmTq", "plaintext"), 0);
    assert_int_equal(pw_verify("$argon2id$", ""), 0);
    assert_int_equal(pw_verify("$argon2id$v=19$m=19456,t=2,p=1$$", ""), 0);
    assert_int_equal(pw_verify("$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA", "x"), 0);
}

static void test_generate(void **state)
{
    (void)state;
    static const char allowed[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    char a[17], b[17], big[65];
    memset(a, 'Z' + 1, sizeof a);
    assert_int_equal(pw_generate(a, sizeof a), 0);
    assert_int_equal(strlen(a), 16);
    assert_int_equal(pw_generate(b, sizeof b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(pw_generate(big, sizeof big), 0);
    assert_int_equal(strlen(big), 64);
    for (const char *p = big; *p; p++)
        assert_non_null(strchr(allowed, *p));
    /* Never the characters that read alike on a terminal. */
    for (int n = 0; n < 50; n++) {
        assert_int_equal(pw_generate(big, sizeof big), 0);
        assert_int_equal(strcspn(big, "0O1lI"), 64);
    }
}

static void test_generate_bounds(void **state)
{
    (void)state;
    char small[16], huge[300];
    assert_int_equal(pw_generate(small, sizeof small), -1);
    assert_int_equal(pw_generate(huge, sizeof huge), -1);
    assert_int_equal(pw_generate(huge, 256), 0);
    assert_int_equal(strlen(huge), 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_then_verify), cmocka_unit_test(test_wrong_password_fails),
        cmocka_unit_test(test_utf8_password),    cmocka_unit_test(test_salted),
        cmocka_unit_test(test_format),           cmocka_unit_test(test_tampered_hash_fails),
        cmocka_unit_test(test_non_argon2_fails), cmocka_unit_test(test_generate),
        cmocka_unit_test(test_generate_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
