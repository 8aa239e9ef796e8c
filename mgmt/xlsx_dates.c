/* SpreadsheetML number formats and date serials; see xlsx_dates.h. */
#include "mgmt/xlsx_dates.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIAL 2958465.0 /* 9999-12-31 */

unsigned xlsx_fmt_builtin(long id)
{
    if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 54) ||
        id == 57 || id == 58)
        return XLSX_FMT_DATE;
    if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47) || (id >= 32 && id <= 35) || id == 55 ||
        id == 56)
        return XLSX_FMT_TIME;
    if (id == 22)
        return XLSX_FMT_DATE | XLSX_FMT_TIME;
    return 0;
}

/* Classifies a format code: y, d, e (era year), b (Buddhist year) and a month m are date
 * tokens; h, s, AM/PM and a minute m (after h, or before s) time tokens. Quoted text, escaped
 * and padding characters and [bracketed] parts other than elapsed [h] [m] [s] are skipped. */
unsigned xlsx_fmt_classify(const char *f)
{
    unsigned flags = 0;
    char last = 0;     /* the last date/time token letter seen */
    int pending_m = 0; /* an m whose meaning depends on the next token */
    for (const char *p = f; *p; p++) {
        char c = *p;
        if (c == '"') {
            while (p[1] && p[1] != '"')
                p++;
            if (p[1])
                p++;
            continue;
        }
        if (c == '\\' || c == '_' || c == '*') {
            if (p[1])
                p++;
            continue;
        }
        if (c == '[') {
            const char *q = p + 1;
            while (*q && *q != ']')
                q++;
            size_t n = (size_t)(q - p - 1);
            int elapsed = n > 0;
            for (size_t i = 1; i <= n; i++) {
                char e = (char)(p[i] | 0x20);
                if (e != 'h' && e != 'm' && e != 's')
                    elapsed = 0;
            }
            if (elapsed) { /* [h]:mm, [mm]:ss: elapsed time */
                flags |= XLSX_FMT_TIME;
                last = (char)(p[1] | 0x20);
                pending_m = 0;
            }
            p = *q ? q : q - 1;
            continue;
        }
        if (!strncasecmp(p, "General", 7)) {
            p += 6;
            continue;
        }
        if (!strncasecmp(p, "AM/PM", 5) || !strncasecmp(p, "A/P", 3)) {
            flags |= XLSX_FMT_TIME;
            p += (p[1] == '/' ? 2 : 4);
            continue;
        }
        char l = (char)(c | 0x20);
        if ((c == 'e' || c == 'E') && (p[1] == '+' || p[1] == '-'))
            continue; /* scientific notation */
        if (l == 'y' || l == 'd' || l == 'e' || l == 'b') {
            if (pending_m)
                flags |= XLSX_FMT_DATE;
            pending_m = 0;
            flags |= XLSX_FMT_DATE;
            last = l;
        } else if (l == 'h') {
            if (pending_m)
                flags |= XLSX_FMT_DATE;
            pending_m = 0;
            flags |= XLSX_FMT_TIME;
            last = 'h';
        } else if (l == 's') {
            pending_m = 0; /* an m before s is a minute */
            flags |= XLSX_FMT_TIME;
            last = 's';
        } else if (l == 'm') {
            while ((p[1] | 0x20) == 'm')
                p++;
            if (last == 'h')
                flags |= XLSX_FMT_TIME;
            else
                pending_m = 1;
            last = 'm';
        }
    }
    if (pending_m)
        flags |= XLSX_FMT_DATE;
    return flags;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long long z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* Formats serial `v` (n bytes) shown with format flags `fmt` as a date text into out (32 bytes);
 * returns its length, or 0 when it is not a number in the date range (left a number). */
size_t xlsx_serial_text(const char *v, size_t n, int date1904, unsigned fmt, char *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (*end || errno || !isfinite(d) || d < 0 || d >= MAX_SERIAL + 1)
        return 0;
    long long secs = llround(d * 86400.0);
    long long day = secs / 86400;
    if (day > (long long)MAX_SERIAL)
        return 0;
    unsigned tod = (unsigned)(secs % 86400);
    int show_date = (fmt & XLSX_FMT_DATE) || day > 0 || date1904;
    int show_time = (fmt & XLSX_FMT_TIME) || tod != 0;
    int y;
    unsigned m, dd;
    if (date1904) {
        civil(day - 24107, &y, &m, &dd);
    } else if (day == 0) { /* Excel shows 1900-01-00 */
        y = 1900, m = 1, dd = 0;
    } else if (day == 60) { /* the 1900 leap-year bug: a day that never was */
        y = 1900, m = 2, dd = 29;
    } else {
        civil(day < 60 ? day - 25568 : day - 25569, &y, &m, &dd);
    }
    int len;
    if (show_date && show_time)
        len = snprintf(out, 32, "%04d-%02u-%02u %02u:%02u:%02u", y, m, dd, tod / 3600,
                       tod / 60 % 60, tod % 60);
    else if (show_date)
        len = snprintf(out, 32, "%04d-%02u-%02u", y, m, dd);
    else
        len = snprintf(out, 32, "%02u:%02u:%02u", tod / 3600, tod / 60 % 60, tod % 60);
    return len > 0 && len < 32 ? (size_t)len : 0;
}

/* An ISO 8601 cell (t="d"): "2024-03-15T00:00:00Z" -> "2024-03-15"; a time of day is kept. */
size_t xlsx_iso_text(const char *v, size_t n, char *out)
{
    if (n < 10 || v[4] != '-' || v[7] != '-')
        return 0;
    memcpy(out, v, 10);
    size_t len = 10;
    if (n >= 19 && (v[10] == 'T' || v[10] == ' ') && v[13] == ':' && v[16] == ':' &&
        memcmp(v + 11, "00:00:00", 8) != 0) {
        out[10] = ' ';
        memcpy(out + 11, v + 11, 8);
        len = 19;
    }
    out[len] = 0;
    return len;
}
