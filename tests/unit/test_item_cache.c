/* Unit tests of mgmt/item_cache.c: a rendered item is reused only for the same list, row and
 * byte-identical columns; anything else renders again. */
#include "mgmt/item_cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int get(char kind, int64_t row, const char *columns, char *out, size_t cap)
{
    struct item_text t = {0};
    int hit = item_cache_get(kind, row, columns, strlen(columns), &t);
    snprintf(out, cap, "%s", hit ? t.text : "");
    free(t.text);
    return hit;
}

static void put(char kind, int64_t row, const char *columns, const char *text)
{
    item_cache_put(kind, row, columns, strlen(columns), text, strlen(text));
}

static void test_reused_only_for_the_same_columns(void **state)
{
    (void)state;
    char out[64];
    assert_false(get('s', 7, "a|1", out, sizeof out));
    put('s', 7, "a|1", "{\"x\":1}");
    assert_true(get('s', 7, "a|1", out, sizeof out));
    assert_string_equal(out, "{\"x\":1}");
    assert_false(get('s', 7, "a|2", out, sizeof out)); /* the row changed */
    assert_false(get('s', 7, "a|", out, sizeof out));  /* a prefix is not the same */
    assert_false(get('p', 7, "a|1", out, sizeof out)); /* another list's row 7 */
    put('s', 7, "a|2", "{\"x\":2}");
    assert_false(get('s', 7, "a|1", out, sizeof out));
    assert_true(get('s', 7, "a|2", out, sizeof out));
    assert_string_equal(out, "{\"x\":2}");
    /* a row that falls in the same slot replaces it, never answers for it */
    int64_t other = 7 + MGMT_ITEM_CACHE_SLOTS;
    for (int64_t r = 8; r < 8 + 4 * MGMT_ITEM_CACHE_SLOTS; r++)
        put('s', r, "a|2", "{\"other\":true}");
    put('s', other, "a|2", "{\"x\":3}");
    if (get('s', 7, "a|2", out, sizeof out))
        assert_string_equal(out, "{\"x\":2}");
    assert_true(get('s', other, "a|2", out, sizeof out));
    assert_string_equal(out, "{\"x\":3}");
}

static void test_text_buffer_grows(void **state)
{
    (void)state;
    struct item_text t = {0};
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 100; i++)
        item_text_add(&t, chunk, sizeof chunk);
    assert_false(t.failed);
    assert_int_equal(t.len, 100000);
    assert_int_equal(strlen(t.text), 100000);
    free(t.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reused_only_for_the_same_columns),
        cmocka_unit_test(test_text_buffer_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
