/* jsonfast (see jsonfast.h): yajl's events built into jansson's values.
 *
 * Where jansson's own parser and yajl could differ, the fast path steps aside:
 * - escapes: yajl turns a lone "\uD800" into "?" and lets "\u0000" through, jansson refuses
 *   both; a text with a backslash goes to jansson whole;
 * - white space: yajl also skips form feeds and vertical tabs, jansson refuses them;
 * - strings and keys: yajl is told not to check UTF-8 (it lets overlong forms and surrogates
 *   through anyway); in a text that is not all ASCII, jansson's json_stringn and
 *   json_object_setn_new check them as its parser does, and a refusal sends the text to jansson
 *   (control characters yajl refuses itself);
 * - numbers: yajl hands over their text, converted here as jansson does (an integer unless it
 *   has '.', 'e' or 'E'; strtoll, strtod in the C locale; out of range is an error);
 * - the end: yajl takes an unfinished string after the value ("[]\"") as more to come, so the
 *   text after the outermost value is checked here; and only arrays and objects are taken (a
 *   number at the very end is only known to be whole once yajl is told the text is over);
 * - yajl refuses what jansson takes in a few corners (-9223372036854775808): jansson then
 *   parses it. */
#include "protocol/jsonfast.h"

#include <yajl/yajl_parse.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JF_DEPTH  64  /* open arrays and objects; jansson allows 2048 */
#define JF_KEY    256 /* bytes of a key */
#define JF_NUMBER 64  /* characters of a number */

struct build {
    yajl_handle h;
    size_t flags;
    int ascii;              /* no byte of the text is above 0x7f: nothing to check */
    size_t end;             /* the offset just past the outermost value's closing bracket */
    json_t *root;           /* the outermost value, which owns the rest */
    json_t *open[JF_DEPTH]; /* the arrays and objects not closed yet, innermost last */
    size_t depth;
    char key[JF_KEY]; /* the key the next value of the innermost object goes under */
    size_t key_len;
};

/* Puts v (a new reference, NULL when jansson refused to make it) where it belongs; 0 makes
 * yajl stop. */
static int place(struct build *b, json_t *v)
{
    if (!v)
        return 0;
    if (!b->depth) {
        b->root = v; /* yajl takes one value only */
        return 1;
    }
    json_t *in = b->open[b->depth - 1];
    if (json_is_array(in))
        return json_array_append_new(in, v) == 0;
    /* a key already there is replaced and the object keeps its size: a duplicate, which
     * stops the parse (the tree is thrown away), found without a second lookup */
    size_t size = json_object_size(in);
    int rc = b->ascii ? json_object_setn_new_nocheck(in, b->key, b->key_len, v)
                      : json_object_setn_new(in, b->key, b->key_len, v);
    return rc == 0 && (!(b->flags & JSON_REJECT_DUPLICATES) || json_object_size(in) > size);
}

static int open_value(struct build *b, json_t *v)
{
    if (b->depth == JF_DEPTH) {
        json_decref(v);
        return 0;
    }
    if (!place(b, v))
        return 0;
    b->open[b->depth++] = v;
    return 1;
}

static int on_null(void *ctx)
{
    return place(ctx, json_null());
}

static int on_boolean(void *ctx, int v)
{
    return place(ctx, json_boolean(v));
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static int on_number(void *ctx, const char *s, size_t n)
{
    char text[JF_NUMBER + 1], *end;
    if (n > JF_NUMBER)
        return 0;
    memcpy(text, s, n);
    text[n] = 0;
    errno = 0;
    if (!memchr(text, '.', n) && !memchr(text, 'e', n) && !memchr(text, 'E', n)) {
        long long v = strtoll(text, &end, 10);
        return end == text + n && errno != ERANGE && place(ctx, json_integer(v));
    }
    pthread_once(&c_locale_once, make_c_locale);
    if (!c_locale)
        return 0;
    double v = strtod_l(text, &end, c_locale);
    if (end != text + n || ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE))
        return 0;
    return place(ctx, json_real(v));
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    struct build *b = ctx;
    return place(b, b->ascii ? json_stringn_nocheck((const char *)s, n)
                             : json_stringn((const char *)s, n));
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
    struct build *b = ctx;
    if (n >= sizeof b->key)
        return 0;
    memcpy(b->key, s, n); /* yajl's buffer may be reused before the value comes */
    b->key_len = n;
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_value(ctx, json_object());
}

static int on_start_array(void *ctx)
{
    return open_value(ctx, json_array());
}

static int on_end(void *ctx)
{
    struct build *b = ctx;
    if (!--b->depth)
        b->end = yajl_get_bytes_consumed(b->h);
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static size_t skip_space(const char *text, size_t len, size_t at)
{
    while (at < len &&
           (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
        at++;
    return at;
}

/* Whether the fast path may take the text (see the top of this file); *ascii: whether it is
 * ASCII. */
static int fast_path(const char *text, size_t len, size_t flags, int *ascii)
{
    if (!text || (flags & ~(size_t)(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)))
        return 0;
    size_t at = skip_space(text, len, 0);
    if (at == len || (text[at] != '[' && text[at] != '{') || memchr(text, '\\', len) ||
        memchr(text, '\f', len) || memchr(text, '\v', len))
        return 0;
    uint64_t any = 0, w;
    size_t i = 0;
    for (; i + sizeof w <= len; i += sizeof w) {
        memcpy(&w, text + i, sizeof w);
        any |= w;
    }
    for (; i < len; i++)
        any |= (unsigned char)text[i];
    *ascii = !(any & 0x8080808080808080u);
    return 1;
}

static json_t *fast(const char *text, size_t len, size_t flags, int ascii)
{
    struct build b = {.flags = flags, .ascii = ascii};
    yajl_handle h = b.h = yajl_alloc(&callbacks, NULL, &b);
    if (!h)
        return NULL;
    yajl_config(h, yajl_dont_validate_strings, 1);
    int ok = yajl_parse(h, (const unsigned char *)text, len) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok && b.root && !b.depth && b.end &&
             skip_space(text, len, b.end) == len;
    yajl_free(h);
    if (!ok) {
        json_decref(b.root);
        return NULL;
    }
    return b.root;
}

json_t *jsonfast_loadb(const char *text, size_t len, size_t flags, json_error_t *error)
{
    int ascii = 0;
    json_t *v = fast_path(text, len, flags, &ascii) ? fast(text, len, flags, ascii) : NULL;
    return v ? v : json_loadb(text, len, flags, error);
}
