/* Internals shared by the records_*.c files: the text helpers and problem messages
 * (records_text.c) and the exact decimal numbers (records_num.c) that the value checks
 * (records.c) and the column lookups (records_tables.c) use. Not part of the API, which is
 * protocol/records.h. */
#ifndef EVGATE_RECORDS_PRIVATE_H
#define EVGATE_RECORDS_PRIVATE_H

#include "protocol/records.h"

#include <stddef.h>

/* ---- records_text.c: UTF-8 and spaces ---- */

/* The longest input looked at; anything longer is refused before any copy. Normalising only
 * shrinks a text, so work buffers of this size always suffice. */
#define WORK_MAX 4096

size_t rp_utf8_next(const char *str, unsigned *cp);
size_t rp_utf8_count(const char *s);
/* Encodes cp into out (up to 4 bytes, no NUL); returns the bytes written. */
size_t rp_utf8_put(char *out, unsigned cp);
int rp_space_kind(unsigned cp);
int rp_is_control(unsigned cp);
int rp_normalise_spaces(const char *in, char *out, char *why, size_t whylen);
int rp_fold_full_width(char *s);
void rp_clip(char *dst, size_t dstlen, const char *src, size_t chars);

/* ---- records_text.c: problems ---- */

/* Fills *p with `code` and the formatted reason (no suggestion); returns -1. */
int rp_problem(struct rec_problem *p, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets p's suggestion to `value`, or clears it when it does not fit. */
void rp_suggest(struct rec_problem *p, const char *value);

/* The first fixable problem of a value (spaces, full_width, a cell of the wrong kind): reported
 * in place of the value's own problems, with the corrected value as suggestion. */
struct flag {
    const char *code;
    char reason[160];
};

/* Raises flag f with `code` and the formatted reason unless it is raised already. */
void rp_flag_set(struct flag *f, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A check_* result meaning "report this problem even before the flags". */
#define FATAL (-2)

/* ---- records_num.c: exact decimal text, no doubles until the range check ---- */

#define NUM_DIGITS   40
#define EXCEL_DIGITS 15 /* Excel keeps 15 significant digits */

struct num {
    int neg;
    char d[NUM_DIGITS + 1]; /* significant digits, no leading or trailing zeros; "" for 0 */
    int nd;
    long e; /* value = d × 10^e */
};

int rp_parse_num(const char *s, struct num *n);
/* Digits before the decimal point (0 for 0), and after it. */
long rp_num_int_digits(const struct num *n);
long rp_num_decimals(const struct num *n);
void rp_num_round(struct num *n);
int rp_num_render(const struct num *n, char *out, size_t len);
/* The value as a double, for range checks only. */
double rp_num_value(const struct num *n);

#endif
