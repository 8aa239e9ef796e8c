/* Field validation shared by the API handlers. Text is never altered: it is accepted as sent
 * or refused with a reason, so what is stored is byte-identical to what was typed. */
#include "mgmt/validate.h"
#include "mgmt/http.h"
#include "protocol/creditcode.h"

#include <stdio.h>
#include <string.h>

long val_text_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    long n = 0;
    while (p < end) {
        unsigned c = *p;
        size_t extra;
        unsigned cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return -1;
            p++;
            n++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if ((size_t)(end - p) <= extra)
            return -1;
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        p += extra + 1;
        n++;
    }
    return n;
}

int val_text(json_t *details, const char *field, const char *s, size_t len, long min, long max)
{
    char msg[160];
    if (!s || len == 0) {
        if (min == 0)
            return 0;
        mgmt_detail(details, field, "required", "is required");
        return -1;
    }
    long n = val_text_chars(s, len);
    if (n < 0) {
        mgmt_detail(details, field, "bad_format",
                    "must be UTF-8 text without control characters or line breaks");
        return -1;
    }
    if (n < min) {
        snprintf(msg, sizeof msg, "must be at least %ld characters", min);
        mgmt_detail(details, field, "too_short", msg);
        return -1;
    }
    if (n > max) {
        snprintf(msg, sizeof msg, "must be at most %ld characters (got %ld)", max, n);
        mgmt_detail(details, field, "too_long", msg);
        return -1;
    }
    return 0;
}

int val_username(json_t *details, const char *s, size_t len)
{
    if (val_text(details, "username", s, len, 4, 32) < 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            mgmt_detail(details, "username", "bad_format",
                        "may hold only letters A-Z a-z, digits and _");
            return -1;
        }
    }
    return 0;
}

int val_password(json_t *details, const char *s, size_t len)
{
    return val_text(details, "password", s, len, 10, 128);
}

int val_credit_code(json_t *details, const char *s, size_t len)
{
    if (val_text(details, "credit_code", s, len, 1, 64) < 0)
        return -1;
    size_t pos = 0;
    enum cc_result r = strlen(s) == len ? cc_validate(s, &pos) : CC_BAD_CHARACTER;
    if (r == CC_OK)
        return 0;
    static const char *const codes[] = {"", "bad_format", "bad_format", "lowercase", "bad_check"};
    char msg[200];
    if (r == CC_BAD_CHARACTER || r == CC_LOWERCASE)
        snprintf(msg, sizeof msg, "%s (character %zu)", cc_reason(r), pos + 1);
    else
        snprintf(msg, sizeof msg, "%s", cc_reason(r));
    mgmt_detail(details, "credit_code", codes[r], msg);
    return -1;
}

int val_mobile(json_t *details, const char *field, const char *s, size_t len)
{
    if (val_text(details, field, s, len, 1, 64) < 0)
        return -1;
    int ok = len == 11 && s[0] == '1';
    for (size_t i = 0; ok && i < len; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (!ok) {
        mgmt_detail(details, field, "bad_format", "must be 11 digits starting with 1");
        return -1;
    }
    return 0;
}

int val_email(json_t *details, const char *field, const char *s, size_t len)
{
    if (val_text(details, field, s, len, 3, 100) < 0)
        return -1;
    const char *at = memchr(s, '@', len);
    int ok = at && at != s && !memchr(at + 1, '@', len - (size_t)(at - s) - 1);
    if (ok) {
        const char *dot = strrchr(at, '.');
        ok = dot && dot > at + 1 && dot[1] != 0;
    }
    for (size_t i = 0; ok && i < len; i++)
        ok = s[i] != ' ' && s[i] != ',' && s[i] != ';' && s[i] != '<' && s[i] != '>';
    if (!ok) {
        mgmt_detail(details, field, "bad_format", "must be an address like name@example.com");
        return -1;
    }
    return 0;
}
