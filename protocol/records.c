/* Stations, piles and connectors: every value rule of docs/api-records.md, one implementation
 * for JSON forms and xlsx imports (the columns are in records_tables.c). Pure code, no I/O. */
#include "protocol/records_private.h"

#include <stdio.h>
#include <string.h>

/* ---- Per-kind checks: each gets the value with spaces (and, except enums, full-width forms)
 * fixed; returns 0 with canon set, -1 or FATAL with *p set; may raise a flag. ---- */

static int check_area(const char *s, struct rec_problem *p)
{
    size_t n = strlen(s), digits = strspn(s, "0123456789");
    if (n != 6 || digits != 6) {
        if (digits == n)
            return rp_problem(p, "bad_format", "must be a 6-digit GB/T 2260 code (got %zu digits)",
                              n);
        return rp_problem(p, "bad_format", "must be a 6-digit GB/T 2260 code");
    }
    if (rec_area_name(s))
        return 0;
    const struct rec_area *a = rec_area_find(s);
    if (!a)
        return rp_problem(p, "bad_format", "not a GB/T 2260 code");
    if (!a->parent)
        return rp_problem(p, "bad_format",
                          "is the province %s, not a district: enter a district's code", a->name);
    return rp_problem(p, "bad_format",
                      "is the city %s, which has districts: enter a district's code", a->name);
}

static int check_text(const struct rec_column *col, enum rec_cell cell, const char *w, char *canon,
                      size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    char digits[96], shown[48];
    const char *s = w;
    if (cell == REC_CELL_NUMBER) {
        struct num n;
        if (rp_parse_num(w, &n) == 0) {
            rp_clip(shown, sizeof shown, w, 24);
            if (rp_num_int_digits(&n) > EXCEL_DIGITS) {
                rp_problem(
                    p, "text_as_number",
                    "is a number cell too large to be exact (%s): Excel keeps only 15 digits; "
                    "enter the value as text",
                    shown);
                return FATAL;
            }
            rp_num_round(&n);
            if (rp_num_render(&n, digits, sizeof digits) == 0)
                s = digits;
        }
        rp_flag_set(fl, "text_as_number", "is a number cell%s; enter it as text",
                    col->charset && !strcmp(col->charset, "phone") ? " (a leading 0 is lost)" : "");
    } else if (cell == REC_CELL_DATE) {
        rp_flag_set(fl, "text_as_number", "is a date cell; enter it as text");
    }
    const char *cs = col->charset ? col->charset : "";
    if (!strcmp(cs, "area")) {
        if (check_area(s, p))
            return -1;
    } else {
        size_t chars = rp_utf8_count(s);
        if (col->max_len > 0 && chars > (size_t)col->max_len)
            return rp_problem(p, "too_long", "must be at most %d characters (got %zu)",
                              col->max_len, chars);
        int alnum = !strcmp(cs, "alnum"), phone = !strcmp(cs, "phone"), has_digit = 0;
        for (size_t i = 0, k; (alnum || phone) && s[i]; i += k) {
            unsigned cp;
            if (!(k = rp_utf8_next(s + i, &cp)))
                k = 1, cp = 0xFFFD;
            int ok = (cp >= '0' && cp <= '9') ||
                     (alnum && ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))) ||
                     (phone && (cp == '-' || cp == '+' || cp == ' '));
            has_digit |= cp >= '0' && cp <= '9';
            if (!ok)
                return rp_problem(p, "bad_format", "may hold only %s (found '%.*s')",
                                  alnum ? "letters A-Z, a-z and digits"
                                        : "digits, '-', '+' and spaces",
                                  (int)k, s + i);
        }
        if (phone && !has_digit)
            return rp_problem(p, "bad_format", "must hold a phone number's digits");
    }
    if (strlen(s) >= canonlen)
        return rp_problem(p, "too_long", "is too long");
    strcpy(canon, s);
    return 0;
}

static int check_number(const struct rec_column *col, enum rec_cell cell, const char *w,
                        char *canon, size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    int whole = col->kind == REC_INT;
    char shown[48], lo[32], hi[32];
    struct num n;
    rp_clip(shown, sizeof shown, w, 24);
    if (cell == REC_CELL_DATE)
        return rp_problem(p, "bad_format", "is a date cell (%s); enter a plain number", shown);
    if (rp_parse_num(w, &n) < 0)
        return rp_problem(p, "bad_format", "must be a %s (got '%s')",
                          whole ? "whole number" : "number", shown);
    if (cell == REC_CELL_NUMBER)
        rp_num_round(&n);
    else
        rp_flag_set(fl, "number_as_text", "is a number stored as text");
    long decs = rp_num_decimals(&n);
    if (whole && decs > 0)
        return rp_problem(p, "bad_format", "must be a whole number (got %s)", shown);
    if (!whole && decs > col->decimals)
        return rp_problem(p, "bad_format", "must have at most %d decimal%s (got %ld)",
                          col->decimals, col->decimals == 1 ? "" : "s", decs);
    double v = rp_num_value(&n);
    if (v < col->min || v > col->max) {
        snprintf(lo, sizeof lo, "%.15g", col->min);
        snprintf(hi, sizeof hi, "%.15g", col->max);
        return rp_problem(p, "out_of_range", "must be between %s and %s (got %s)", lo, hi, shown);
    }
    if (rp_num_render(&n, canon, canonlen) < 0)
        return rp_problem(p, "too_long", "is too long");
    return 0;
}

/* The comparison key of an enum code or name: full-width forms folded, spaces dropped, ASCII
 * lower-cased; with `cut`, only what comes before the first '(' ("公交(专用)" → "公交"). */
static void enum_key(const char *s, int cut, char *out, size_t outlen)
{
    size_t o = 0, k;
    unsigned cp;
    for (size_t i = 0; s[i]; i += k) {
        if (!(k = rp_utf8_next(s + i, &cp)))
            break;
        if (cp >= 0xFF01 && cp <= 0xFF5E)
            cp -= 0xFEE0;
        if (rp_space_kind(cp))
            continue;
        if (cut && cp == '(')
            break;
        if (cp >= 'A' && cp <= 'Z')
            cp += 32;
        if (o + 4 >= outlen)
            break;
        o += rp_utf8_put(out + o, cp);
    }
    out[o] = 0;
}

static int name_matches(const struct rec_enum *e, const char *text)
{
    char a[WORK_MAX + 1], b[256];
    enum_key(text, 0, a, sizeof a);
    if (!a[0])
        return 0;
    enum_key(e->name, 0, b, sizeof b);
    if (!strcmp(a, b))
        return 1;
    enum_key(e->name, 1, b, sizeof b);
    return !strcmp(a, b);
}

/* Finds "code" or "code-名称" (the name compared by its key, so "（" and "(" both do). Returns
 * the index or -1; *code_only_of gets the index whose code matched when the name did not. */
static int enum_exact(const struct rec_enum *e, const char *s, int *code_only_of)
{
    const char *dash = strchr(s, '-');
    char code[64];
    size_t cl = dash ? (size_t)(dash - s) : 0;
    while (cl > 0 && s[cl - 1] == ' ')
        cl--;
    if (dash && cl < sizeof code) {
        memcpy(code, s, cl);
        code[cl] = 0;
    } else {
        code[0] = 0;
    }
    for (int i = 0; e[i].code; i++) {
        if (!strcmp(s, e[i].code))
            return i;
        if (code[0] && !strcmp(code, e[i].code)) {
            if (name_matches(&e[i], dash + 1))
                return i;
            if (code_only_of)
                *code_only_of = i;
        }
    }
    return -1;
}

static int check_enum(const struct rec_column *col, enum rec_cell cell, const char *w, char *canon,
                      size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    const struct rec_enum *e = col->enums;
    char folded[WORK_MAX + 1], key[WORK_MAX + 1], ckey[64], shown[48], list[128];
    int mismatch = -1, i;
    struct num n;
    if (!e)
        return rp_problem(p, "bad_enum", "has no list of values");
    if ((i = enum_exact(e, w, &mismatch)) >= 0)
        goto found;
    strcpy(folded, w);
    if (rp_fold_full_width(folded) && (i = enum_exact(e, folded, &mismatch)) >= 0) {
        rp_flag_set(fl, "full_width", "has full-width characters");
        goto found;
    }
    /* A number cell holds its value: 1 however it is written. Elsewhere "01", "1.0", "公共",
     * "OCPP1.6" are near misses with an obvious code. */
    int numeric = rp_parse_num(folded, &n) == 0 && rp_num_decimals(&n) == 0 &&
                  rp_num_render(&n, key, sizeof key) == 0;
    for (i = 0; numeric && e[i].code; i++)
        if (!strcmp(key, e[i].code)) {
            if (cell == REC_CELL_NUMBER)
                goto found;
            break;
        }
    if (!numeric || !e[i].code) {
        enum_key(folded, 0, key, sizeof key);
        for (i = 0; e[i].code; i++) {
            enum_key(e[i].code, 0, ckey, sizeof ckey);
            if (!strcmp(key, ckey) || name_matches(&e[i], folded))
                break;
        }
    }
    rp_clip(shown, sizeof shown, w, 24);
    if (e[i].code) {
        rp_problem(p, "bad_enum", "'%s' is not a code: enter %s (%s)", shown, e[i].code, e[i].name);
        rp_suggest(p, e[i].code);
        return -1;
    }
    if (mismatch >= 0)
        return rp_problem(p, "bad_enum", "code %s means %s; the name does not match",
                          e[mismatch].code, e[mismatch].name);
    size_t o = 0;
    list[0] = 0;
    for (i = 0; e[i].code && o + strlen(e[i].code) + 8 < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", e[i].code);
    return rp_problem(p, "bad_enum", "must be one of %s", list);
found:
    if (strlen(e[i].code) >= canonlen)
        return rp_problem(p, "too_long", "is too long");
    strcpy(canon, e[i].code);
    return 0;
}

/* ---- Dates ---- */

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int real_date(long y, long m, long d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), for Excel serials. */
static void civil_from_days(long z, long *y, long *m, long *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits_at(const char *s, int n, long *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* Strict YYYY-MM-DD (shape only). */
static int iso_shape(const char *s, long *y, long *m, long *d)
{
    return digits_at(s, 4, y) && s[4] == '-' && digits_at(s + 5, 2, m) && s[7] == '-' &&
           digits_at(s + 8, 2, d);
}

/* Forms people type: 2023/1/5, 2023.1.5, 2023-1-5, 2023年1月5日, 20230105, with an optional
 * time after a space. Returns 1 with the parts. */
static int loose_date(const char *s, long *y, long *m, long *d)
{
    if (strlen(s) == 8 && digits_at(s, 4, y) && digits_at(s + 4, 2, m) && digits_at(s + 6, 2, d))
        return 1;
    if (!digits_at(s, 4, y))
        return 0;
    s += 4;
    const char *seps[2][4] = {{"-", "/", ".", "年"}, {"-", "/", ".", "月"}};
    long *parts[2] = {m, d};
    for (int part = 0; part < 2; part++) {
        size_t j;
        for (j = 0; j < 4; j++)
            if (!strncmp(s, seps[part][j], strlen(seps[part][j])))
                break;
        if (j == 4)
            return 0;
        s += strlen(seps[part][j]);
        int n = 0;
        while (n < 2 && s[n] >= '0' && s[n] <= '9')
            n++;
        if (!n || !digits_at(s, n, parts[part]))
            return 0;
        s += n;
    }
    if (!strncmp(s, "日", strlen("日")))
        s += strlen("日");
    return *s == 0 || *s == ' ';
}

static int valid_today(const char *t)
{
    long y, m, d;
    return t && strlen(t) == 10 && iso_shape(t, &y, &m, &d) && real_date(y, m, d);
}

static int check_date(enum rec_cell cell, const char *w, const char *today, char *canon,
                      size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    char date[32], shown[48];
    long y, m, d;
    rp_clip(shown, sizeof shown, w, 24);
    if (cell == REC_CELL_NUMBER) {
        struct num n;
        long serial = -1;
        if (rp_parse_num(w, &n) == 0 && !n.neg && rp_num_int_digits(&n) <= 7) {
            serial = 0;
            for (long i = 0; i < rp_num_int_digits(&n); i++)
                serial = serial * 10 + (i < n.nd ? n.d[i] - '0' : 0);
        }
        if (serial < 1 || serial > 2958465)
            return rp_problem(p, "bad_format", "must be a date YYYY-MM-DD (got the number %s)",
                              shown);
        /* Excel's 1900 system counts 1900-02-29 (serial 60), a day that never was. */
        if (serial == 60)
            return rp_problem(
                p, "bad_format",
                "is Excel day 60, 1900-02-29, which does not exist; enter YYYY-MM-DD");
        civil_from_days(serial - (serial < 60 ? 25568 : 25569), &y, &m, &d);
        snprintf(date, sizeof date, "%04ld-%02ld-%02ld", y, m, d);
        rp_flag_set(fl, "date_serial",
                    "is a date serial number (%s means %s); enter it as YYYY-MM-DD", shown, date);
    } else {
        size_t len = strlen(w);
        if (cell == REC_CELL_DATE && len == 8 && w[2] == ':' && w[5] == ':')
            return rp_problem(p, "bad_format", "is a time (%s), not a date", shown);
        int iso = (len == 10 || (cell == REC_CELL_DATE && len > 10 && w[10] == ' ')) &&
                  iso_shape(w, &y, &m, &d);
        if (!iso) {
            if (loose_date(w, &y, &m, &d) && real_date(y, m, d)) {
                snprintf(date, sizeof date, "%04ld-%02ld-%02ld", y, m, d);
                rp_problem(p, "bad_format", "must be written YYYY-MM-DD");
                if (!valid_today(today) || strcmp(date, today) <= 0)
                    rp_suggest(p, date);
                return -1;
            }
            return rp_problem(p, "bad_format", "must be a date YYYY-MM-DD (got '%s')", shown);
        }
        if (!real_date(y, m, d))
            return rp_problem(p, "bad_format", "is not a real date (%s)", shown);
        snprintf(date, sizeof date, "%04ld-%02ld-%02ld", y, m, d);
    }
    if (valid_today(today) && strcmp(date, today) > 0)
        return rp_problem(p, "out_of_range", "must not be in the future (%s is after today, %s)",
                          date, today);
    if (strlen(date) >= canonlen)
        return rp_problem(p, "too_long", "is too long");
    strcpy(canon, date);
    return 0;
}

/* ---- rec_check_value ---- */

static int check_empty(const struct rec_column *col, char *out, size_t outlen,
                       struct rec_problem *p, const char *why)
{
    if (col->required)
        return rp_problem(p, "required", "is required%s", why);
    if (out && outlen)
        out[0] = 0;
    return 0;
}

int rec_check_value(const struct rec_column *col, enum rec_cell cell, const char *text,
                    const char *today, char *out, size_t outlen, struct rec_problem *p)
{
    struct rec_problem spare, core;
    struct flag fl = {0};
    char w[WORK_MAX + 1], canon[REC_OUT_MAX], why[160];
    if (!p)
        p = &spare;
    memset(p, 0, sizeof *p);
    memset(&core, 0, sizeof core);
    if (out && outlen)
        out[0] = 0;
    if (!col)
        return rp_problem(p, "bad_format", "unknown column");
    if (!text || cell == REC_CELL_EMPTY)
        text = "";
    size_t len = strnlen(text, WORK_MAX + 1);
    if (len == 0)
        return check_empty(col, out, outlen, p, "");
    if (len > WORK_MAX) {
        if (col->kind == REC_TEXT && col->max_len > 0)
            return rp_problem(p, "too_long", "must be at most %d characters (got %zu)",
                              col->max_len, rp_utf8_count(text));
        return rp_problem(p, "bad_format", "is far too long");
    }
    unsigned cp;
    for (size_t i = 0, k; text[i]; i += k) {
        if (!(k = rp_utf8_next(text + i, &cp)))
            return rp_problem(p, "bad_format", "is not valid UTF-8 text");
        if (rp_is_control(cp))
            return rp_problem(p, "bad_format", "has a control character (U+%04X)", cp);
    }
    if (rp_normalise_spaces(text, w, why, sizeof why)) {
        if (!w[0]) {
            if (col->required)
                return check_empty(col, out, outlen, p, " (the value holds only spaces)");
            return rp_problem(p, "spaces", "holds only spaces; leave it empty");
        }
        rp_flag_set(&fl, "spaces", "%s", why);
    }
    int rc;
    switch (col->kind) {
    case REC_ENUM:
        rc = check_enum(col, cell, w, canon, sizeof canon, &core, &fl);
        break;
    case REC_TEXT:
        if (col->charset && rp_fold_full_width(w))
            rp_flag_set(&fl, "full_width", "has full-width characters");
        rc = check_text(col, cell, w, canon, sizeof canon, &core, &fl);
        break;
    case REC_INT:
    case REC_DECIMAL:
        if (rp_fold_full_width(w))
            rp_flag_set(&fl, "full_width", "has full-width characters");
        rc = check_number(col, cell, w, canon, sizeof canon, &core, &fl);
        break;
    case REC_DATE:
        if (rp_fold_full_width(w))
            rp_flag_set(&fl, "full_width", "has full-width characters");
        rc = check_date(cell, w, today, canon, sizeof canon, &core, &fl);
        break;
    default:
        return rp_problem(p, "bad_format", "unknown column kind");
    }
    if (rc == FATAL || (rc < 0 && !fl.code)) {
        *p = core;
        return -1;
    }
    if (fl.code) {
        rp_problem(p, fl.code, "%s", fl.reason);
        if (rc == 0) {
            rp_suggest(p, canon);
        } else {
            size_t used = strlen(p->reason);
            if (used + strlen(core.reason) + 8 < sizeof p->reason)
                snprintf(p->reason + used, sizeof p->reason - used, "; also %s", core.reason);
            if (core.suggestion[0])
                rp_suggest(p, core.suggestion);
        }
        return -1;
    }
    if (out && outlen) {
        if (strlen(canon) >= outlen)
            return rp_problem(p, "too_long", "does not fit in %zu bytes", outlen);
        strcpy(out, canon);
    }
    return 0;
}

/* ---- Record rules ---- */

/* A canonical number with at most one decimal as tenths. Returns 0 or -1. */
static int tenths(const char *s, long long *v)
{
    struct num n;
    if (!s || rp_parse_num(s, &n) < 0 || n.neg || rp_num_decimals(&n) > 1 ||
        rp_num_int_digits(&n) > 7)
        return -1;
    /* value × 10 = d × 10^(e + 1), e + 1 >= 0 with at most one decimal */
    *v = 0;
    for (int i = 0; i < n.nd; i++)
        *v = *v * 10 + (n.d[i] - '0');
    for (long e = n.e + 1; e > 0; e--)
        *v *= 10;
    return 0;
}

static size_t column_index(enum rec_sheet sheet, const char *field)
{
    size_t n;
    const struct rec_column *cols = rec_columns(sheet, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cols[i].field, field))
            return i;
    return 0;
}

int rec_check_connector(const char *const *values, const char *pile_power, size_t *col,
                        struct rec_problem *p)
{
    size_t iu = column_index(REC_CONNECTORS, "voltage_upper_limits");
    size_t il = column_index(REC_CONNECTORS, "voltage_lower_limits");
    size_t ic = column_index(REC_CONNECTORS, "current");
    size_t ip = column_index(REC_CONNECTORS, "power");
    long long up, low, cur, pw, pile;
    memset(p, 0, sizeof *p);
    if (!values)
        return 0;
    int have_up = tenths(values[iu], &up) == 0, have_pw = tenths(values[ip], &pw) == 0;
    if (have_up && tenths(values[il], &low) == 0 && low > up) {
        *col = il;
        return rp_problem(p, "inconsistent",
                          "must not exceed the upper voltage limit (%s V > %s V)", values[il],
                          values[iu]);
    }
    if (have_pw && pile_power && pile_power[0] && tenths(pile_power, &pile) == 0 && pw > pile) {
        *col = ip;
        return rp_problem(p, "inconsistent", "must not exceed the pile's power (%s kW > %s kW)",
                          values[ip], pile_power);
    }
    /* power (kW) <= U (V) × I (A) / 1000, in tenths: pw × 10000 <= up × cur. */
    if (have_pw && have_up && tenths(values[ic], &cur) == 0 && pw * 10000 > up * cur) {
        *col = ip;
        return rp_problem(p, "inconsistent",
                          "must be at most upper voltage × current / 1000 = %s V × %s A / 1000 = "
                          "%.15g kW (got %s)",
                          values[iu], values[ic], (double)(up * cur) / 1e5, values[ip]);
    }
    return 0;
}
