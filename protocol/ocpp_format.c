/* The two JSON Schema formats the OCPP schemas use: date-time (RFC 3339 §5.6) and uri
 * (RFC 3986, as ajv-formats' "uri" accepts it: an absolute URI with a scheme). */
#include "protocol/ocpp.h"

#include <string.h>

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* date-time = full-date ("T" / "t" / " ") partial-time [time-secfrac] time-offset, with
 * time-offset = "Z" / "z" / ("+" / "-") HH ":" MM. Calendar and clock ranges as ajv-formats
 * checks them: day within its month (leap years), 00-23:00-59:00-59, and the leap second only as
 * 23:59:60. Stricter than ajv-formats 2.1.1, which also takes a time without any offset (which
 * RFC 3339 and JSON Schema's "date-time" do not) and offsets as +HH or +HHMM. */
int ocpp_is_date_time(const char *s, size_t len)
{
    static const int days[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || len < 20)
        return 0;
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return 0;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return 0;
    const char *t = s + 11;
    if (!digits(t, 2) || t[2] != ':' || !digits(t + 3, 2) || t[5] != ':' || !digits(t + 6, 2))
        return 0;
    int year = num(s, 4), month = num(s + 5, 2), day = num(s + 8, 2);
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (month < 1 || month > 12 || day < 1 || day > (month == 2 && leap ? 29 : days[month]))
        return 0;
    int hour = num(t, 2), minute = num(t + 3, 2), second = num(t + 6, 2);
    if (!((hour <= 23 && minute <= 59 && second <= 59) ||
          (hour == 23 && minute == 59 && second == 60)))
        return 0;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
        return 1;
    if (i + 6 != len || (s[i] != '+' && s[i] != '-') || !digits(s + i + 1, 2) || s[i + 3] != ':' ||
        !digits(s + i + 4, 2))
        return 0;
    return num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59;
}

/* ---- uri: the grammar of ajv-formats' URI expression (RFC 3986 "URI", case-insensitive) ---- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_hex(int c)
{
    c = lower(c);
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_alnum(int c)
{
    c = lower(c);
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

/* Characters of the sets: unreserved / sub-delims, plus the extras each part allows. */
static int in_set(int c, const char *extra)
{
    return is_alnum(c) || (c && strchr("-._~!$&'()*+,;=", c)) || (c && strchr(extra, c));
}

/* Length of a run of set characters and %HH escapes starting at s[i]. */
static size_t run(const char *s, size_t len, size_t i, const char *extra)
{
    size_t start = i;
    for (;;) {
        if (i < len && in_set((unsigned char)s[i], extra))
            i++;
        else if (i + 2 < len && s[i] == '%' && is_hex((unsigned char)s[i + 1]) &&
                 is_hex((unsigned char)s[i + 2]))
            i += 3;
        else
            return i - start;
    }
}

static int ipv4(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        while (i < len && i - start < 3 && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || (i < len && s[i] >= '0' && s[i] <= '9') ||
            num(s + start, i - start) > 255)
            return 0;
        if (++parts < 4) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == len;
}

/* RFC 3986 IPv6address: eight h16 groups (a trailing IPv4 counting two), or fewer with one "::"
 * standing for at least one group. */
static int ipv6(const char *s, size_t len)
{
    int groups = 0, gap = 0;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 1;
        i = 2;
        if (i == len)
            return 1;
    }
    for (;;) {
        size_t start = i;
        while (i < len && i - start < 4 && is_hex((unsigned char)s[i]))
            i++;
        if (i < len && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
            /* the last part may be IPv4 */
            if (!ipv4(s + start, len - start))
                return 0;
            groups += 2;
            break;
        }
        if (i == start || (i < len && is_hex((unsigned char)s[i])))
            return 0;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < len && s[i] == ':') {
            if (gap)
                return 0;
            gap = 1;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return 0;
        }
    }
    return gap ? groups <= 7 : groups == 8;
}

static int ip_literal(const char *s, size_t len)
{
    if (len >= 1 && (s[0] == 'v' || s[0] == 'V')) {
        size_t i = 1;
        while (i < len && is_hex((unsigned char)s[i]))
            i++;
        if (i == 1 || i >= len || s[i] != '.' || i + 1 == len)
            return 0;
        for (i++; i < len; i++)
            if (!in_set((unsigned char)s[i], ":"))
                return 0;
        return 1;
    }
    return ipv6(s, len);
}

/* [ "?" query ] [ "#" fragment ] up to the end. */
static int tail_ok(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == '?')
        i += 1 + run(s, len, i + 1, ":@/?");
    if (i < len && s[i] == '#')
        i += 1 + run(s, len, i + 1, ":@/?");
    return i == len;
}

/* path-abempty (or any run of segments and "/"), then the tail */
static int path_then_tail(const char *s, size_t len, size_t i)
{
    return tail_ok(s, len, i + run(s, len, i, ":@/"));
}

/* "//" or "/" then [ userinfo "@" ] host [ ":" port ] path-abempty tail */
static int authority_form(const char *s, size_t len, size_t i)
{
    for (int with_user = 0; with_user < 2; with_user++) {
        size_t j = i;
        if (with_user) {
            j += run(s, len, j, ":");
            if (j >= len || s[j] != '@')
                continue;
            j++;
        }
        if (j < len && s[j] == '[') {
            const char *end = memchr(s + j, ']', len - j);
            if (!end || !ip_literal(s + j + 1, (size_t)(end - s) - j - 1))
                continue;
            j = (size_t)(end - s) + 1;
        } else {
            j += run(s, len, j, ""); /* reg-name, which IPv4 addresses also are */
        }
        if (j < len && s[j] == ':')
            for (j++; j < len && s[j] >= '0' && s[j] <= '9';)
                j++;
        if (j < len && s[j] != '/' && s[j] != '?' && s[j] != '#')
            continue;
        if (path_then_tail(s, len, j))
            return 1;
    }
    return 0;
}

int ocpp_is_uri(const char *s, size_t len)
{
    if (!s || len == 0 ||
        !((lower((unsigned char)s[0]) >= 'a' && lower((unsigned char)s[0]) <= 'z')))
        return 0;
    size_t i = 1;
    while (i < len && (is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i >= len || s[i] != ':')
        return 0;
    i++;
    /* hier-part: "//" authority path-abempty ("/" authority too, as the expression has "\/?\/"),
     * path-absolute, or path-rootless; never empty */
    if (i < len && s[i] == '/') {
        if (i + 1 < len && s[i + 1] == '/' && authority_form(s, len, i + 2))
            return 1;
        if (authority_form(s, len, i + 1))
            return 1;
        /* path-absolute: "/" [ segment-nz *( "/" segment ) ] */
        size_t seg = run(s, len, i + 1, ":@");
        if (seg == 0)
            return tail_ok(s, len, i + 1);
        return path_then_tail(s, len, i + 1);
    }
    size_t seg = run(s, len, i, ":@");
    return seg > 0 && path_then_tail(s, len, i);
}
