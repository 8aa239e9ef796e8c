/* libFuzzer target: arbitrary text through rec_check_value for every column and cell kind, with
 * `out` exactly as large as claimed; also the label, area and connector functions. Checks that
 * results are well-formed: codes from the contract, valid UTF-8, canonical values and
 * suggestions that pass again. */
#include "protocol/records.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TODAY "2024-06-01"

static const char *const codes[] = {
    "required",    "spaces",     "full_width", "number_as_text", "text_as_number",
    "date_serial", "bad_format", "too_long",   "out_of_range",   "bad_enum",
};

static int valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u, n, cp, min;
        if (c < 0x80) {
            u++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        for (unsigned i = 1; i < n; i++) {
            if ((u[i] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (u[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        u += n;
    }
    return 1;
}

static int terminated(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

/* A value that rec_check_value accepted (or suggested) passes again, unchanged, as the kind of
 * cell a form would send it in. */
static void passes_again(const struct rec_column *col, const char *v)
{
    char again[REC_OUT_MAX];
    struct rec_problem p;
    if (!v[0])
        return;
    enum rec_cell cell =
        col->kind == REC_INT || col->kind == REC_DECIMAL ? REC_CELL_NUMBER : REC_CELL_STRING;
    if (rec_check_value(col, cell, v, TODAY, again, sizeof again, &p) != 0)
        abort();
    if (strcmp(again, v))
        abort();
}

static void check_one(const struct rec_column *col, enum rec_cell cell, const char *text,
                      size_t outlen)
{
    struct rec_problem p;
    char *out = outlen ? malloc(outlen) : NULL;
    if (outlen && !out)
        return;
    int rc = rec_check_value(col, cell, text, TODAY, out, outlen, &p);
    if (rc == 0) {
        if (out) {
            if (!terminated(out, outlen) || !valid_utf8(out))
                abort();
            char copy[REC_OUT_MAX];
            if (strlen(out) >= sizeof copy)
                abort();
            strcpy(copy, out);
            passes_again(col, copy);
        }
    } else {
        if (rc != -1 || !p.code)
            abort();
        size_t k;
        for (k = 0; k < sizeof codes / sizeof codes[0]; k++)
            if (!strcmp(p.code, codes[k]))
                break;
        if (k == sizeof codes / sizeof codes[0])
            abort();
        if (!terminated(p.reason, sizeof p.reason) || !p.reason[0] || !valid_utf8(p.reason))
            abort();
        if (!terminated(p.suggestion, sizeof p.suggestion) || !valid_utf8(p.suggestion))
            abort();
        char copy[sizeof p.suggestion];
        strcpy(copy, p.suggestion);
        passes_again(col, copy);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    /* First byte: the size of `out` (0: REC_OUT_MAX); the rest: the text. */
    size_t outlen = data[0] ? data[0] % 40 : REC_OUT_MAX;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;

    for (int s = 0; s < REC_SHEETS; s++) {
        size_t n;
        const struct rec_column *cols = rec_columns((enum rec_sheet)s, &n);
        for (size_t i = 0; i < n; i++)
            for (int cell = REC_CELL_EMPTY; cell <= REC_CELL_DATE; cell++)
                check_one(&cols[i], (enum rec_cell)cell, text, outlen);
        const struct rec_column *c = rec_column_by_label((enum rec_sheet)s, text);
        if (c && (c < cols || c >= cols + n))
            abort();
    }

    const char *name = rec_area_name(text);
    if (name && (strlen(text) != 6 || !valid_utf8(name)))
        abort();
    if (rec_area_find(text) == NULL && name)
        abort();
    (void)rec_area_accepted(text, text);
    (void)rec_area_accepted("442000", text);

    /* Connector rules on '|'-separated values. */
    const char *values[16] = {0};
    size_t nv = 0;
    for (char *p = text; nv < 16;) {
        values[nv++] = p;
        char *bar = strchr(p, '|');
        if (!bar)
            break;
        *bar = 0;
        p = bar + 1;
    }
    size_t bad = 99;
    struct rec_problem p;
    if (rec_check_connector(values, nv > 11 ? values[11] : NULL, &bad, &p) != 0) {
        size_t n;
        rec_columns(REC_CONNECTORS, &n);
        if (bad >= n || strcmp(p.code, "inconsistent") || !valid_utf8(p.reason))
            abort();
    }
    free(text);
    return 0;
}
