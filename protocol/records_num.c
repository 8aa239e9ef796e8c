/* Numbers of the records rules as exact decimal text: parsing, Excel's 15 digits, rendering.
 * See records_private.h. */
#include "protocol/records_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Numbers: exact decimal text, no doubles until the range check ---- */

/* Parses [+-]digits[.digits][(e|E)[+-]digits]. Returns 0 or -1. */
int rp_parse_num(const char *s, struct num *n)
{
    memset(n, 0, sizeof *n);
    long frac = 0, dropped = 0, exp = 0;
    int digits = 0;
    if (*s == '+' || *s == '-')
        n->neg = *s++ == '-';
    for (int in_frac = 0;; s++) {
        if (*s == '.' && !in_frac) {
            in_frac = 1;
            continue;
        }
        if (*s < '0' || *s > '9')
            break;
        digits++;
        if (in_frac)
            frac++;
        if (n->nd == 0 && *s == '0')
            continue;
        if (n->nd < NUM_DIGITS)
            n->d[n->nd++] = *s;
        else
            dropped++;
    }
    if (!digits)
        return -1;
    if (*s == 'e' || *s == 'E') {
        int eneg = 0, edigits = 0;
        s++;
        if (*s == '+' || *s == '-')
            eneg = *s++ == '-';
        for (; *s >= '0' && *s <= '9'; s++, edigits++)
            if (exp < 1000000)
                exp = exp * 10 + (*s - '0');
        if (!edigits)
            return -1;
        if (eneg)
            exp = -exp;
    }
    if (*s)
        return -1;
    n->e = exp - frac + dropped;
    while (n->nd > 0 && n->d[n->nd - 1] == '0')
        n->nd--, n->e++;
    n->d[n->nd] = 0;
    if (n->nd == 0)
        n->neg = 0, n->e = 0;
    return 0;
}

long rp_num_int_digits(const struct num *n)
{
    return n->nd ? n->nd + n->e : 0;
}

long rp_num_decimals(const struct num *n)
{
    return n->e < 0 ? -n->e : 0;
}

/* Rounds to Excel's 15 significant digits: a stored 113.39123400000001 is 113.391234. */
void rp_num_round(struct num *n)
{
    if (n->nd <= EXCEL_DIGITS)
        return;
    int up = n->d[EXCEL_DIGITS] >= '5';
    n->e += n->nd - EXCEL_DIGITS;
    n->nd = EXCEL_DIGITS;
    if (up) {
        int i = EXCEL_DIGITS - 1;
        while (i >= 0 && n->d[i] == '9')
            n->d[i--] = '0';
        if (i < 0) {
            n->d[0] = '1';
            n->nd = 1;
            n->e += EXCEL_DIGITS;
        } else {
            n->d[i]++;
        }
    }
    while (n->nd > 0 && n->d[n->nd - 1] == '0')
        n->nd--, n->e++;
    n->d[n->nd] = 0;
}

/* Writes the plain decimal form ("-12.5", "0.001", "1000"). Returns -1 when it would not fit
 * (or be absurdly long). */
int rp_num_render(const struct num *n, char *out, size_t len)
{
    long ints = rp_num_int_digits(n), decs = rp_num_decimals(n);
    if (ints > 60 || decs > 60 || (size_t)(n->nd + 64 + 3) > len)
        return -1;
    size_t o = 0;
    if (n->nd == 0) {
        strcpy(out, "0");
        return 0;
    }
    if (n->neg)
        out[o++] = '-';
    if (n->e >= 0) {
        memcpy(out + o, n->d, (size_t)n->nd);
        o += (size_t)n->nd;
        for (long i = 0; i < n->e; i++)
            out[o++] = '0';
    } else if (ints > 0) {
        memcpy(out + o, n->d, (size_t)ints);
        o += (size_t)ints;
        out[o++] = '.';
        memcpy(out + o, n->d + ints, (size_t)(n->nd - ints));
        o += (size_t)(n->nd - ints);
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (long i = 0; i < -ints; i++)
            out[o++] = '0';
        memcpy(out + o, n->d, (size_t)n->nd);
        o += (size_t)n->nd;
    }
    out[o] = 0;
    return 0;
}

double rp_num_value(const struct num *n)
{
    char buf[NUM_DIGITS + 32];
    if (n->nd == 0)
        return 0;
    snprintf(buf, sizeof buf, "%s0.%se%ld", n->neg ? "-" : "", n->d, n->e + n->nd);
    return strtod(buf, NULL);
}
