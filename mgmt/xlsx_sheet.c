/* Worksheet rows of the xlsx reader: a state machine over <sheetData>; see xlsx_read.h. */
#include "mgmt/xlsx_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mgmt/xlsx_dates.h"

/* ---- worksheets ---- */

enum ctype { CT_N, CT_S, CT_STR, CT_INLINE, CT_B, CT_E, CT_D };

struct sheet_ctx {
    struct xml_ctx x;
    const char *sheet;
    xlsx_row_cb cb;
    void *arg;
    unsigned data_depth, row_depth, cell_depth; /* of <sheetData>, <row>, <c>; 0 outside */
    unsigned row;                               /* number of the current (or last) row */
    unsigned col, last_col;                     /* of the current and the previous cell */
    int have_col;                               /* a cell was seen in this row */
    enum ctype t;
    unsigned fmt; /* FMT_* of the cell's style */
    unsigned is_depth, rph;
    int collect;  /* character data goes into rowbuf */
    size_t start; /* rowbuf offset of the current cell's text */
};

static void cell_ref(const struct sheet_ctx *c, char *out)
{
    char col[4];
    xlsx_col_name(c->col, col);
    snprintf(out, 16, "%s%u", col, c->row);
}

static void row_start(struct sheet_ctx *c, const XML_Char **atts)
{
    struct xlsx_book *b = c->x.b;
    const char *r = xr_attr(atts, "r");
    long long num = c->row + 1;
    if (r) {
        num = xr_parse_uint(r, strlen(r), MAX_ROW_NUMBER);
        if (num < 1) {
            xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: bad row number \"%.20s\"", c->sheet, r);
            return;
        }
        if (num <= c->row) {
            xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: row %lld comes after row %u", c->sheet, num,
                     c->row);
            return;
        }
    } else if (num > MAX_ROW_NUMBER) {
        xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: more than %u rows", c->sheet, MAX_ROW_NUMBER);
        return;
    }
    c->row = (unsigned)num;
    c->row_depth = c->x.depth;
    c->have_col = 0;
    b->npend = 0;
    b->row_len = 0;
}

static void cell_start(struct sheet_ctx *c, const XML_Char **atts)
{
    struct xlsx_book *b = c->x.b;
    const char *r = NULL, *t = NULL, *s = NULL;
    for (; *atts; atts += 2) {
        const char *a = xr_local(atts[0]);
        if (a[0] && !a[1]) {
            if (a[0] == 'r')
                r = atts[1];
            else if (a[0] == 't')
                t = atts[1];
            else if (a[0] == 's')
                s = atts[1];
        }
    }
    unsigned col = c->have_col ? c->last_col + 1 : 0;
    if (r) {
        const char *p = r;
        unsigned v = 0;
        while (((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) && v <= MAX_COLUMNS)
            v = v * 26 + (unsigned)((*p++ | 0x20) - 'a' + 1);
        while (*p >= '0' && *p <= '9')
            p++;
        if (v == 0 || v > MAX_COLUMNS || *p) {
            xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s row %u: bad cell reference \"%.20s\"", c->sheet,
                     c->row, r);
            return;
        }
        col = v - 1;
    }
    c->col = col;
    if (col >= MAX_COLUMNS || (c->have_col && col <= c->last_col)) {
        char ref[16];
        cell_ref(c, ref);
        xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s is out of order", c->sheet, ref);
        return;
    }
    if (!t || !strcmp(t, "n"))
        c->t = CT_N;
    else if (!strcmp(t, "s"))
        c->t = CT_S;
    else if (!strcmp(t, "str"))
        c->t = CT_STR;
    else if (!strcmp(t, "inlineStr"))
        c->t = CT_INLINE;
    else if (!strcmp(t, "b"))
        c->t = CT_B;
    else if (!strcmp(t, "e"))
        c->t = CT_E;
    else if (!strcmp(t, "d"))
        c->t = CT_D;
    else {
        char ref[16];
        cell_ref(c, ref);
        xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s has an unknown type \"%.20s\"", c->sheet,
                 ref, t);
        return;
    }
    c->fmt = 0;
    if (s) {
        long long xf = xr_parse_uint(s, strlen(s), INT_MAX);
        if (xf >= 0 && (size_t)xf < b->nxf)
            c->fmt = b->xf_fmt[xf];
    }
    c->cell_depth = c->x.depth;
    c->is_depth = 0;
    c->rph = 0;
    c->collect = 0;
    c->start = b->row_len;
}

/* Room for `more` bytes of row text, within max_row_bytes. */
static int row_reserve(struct sheet_ctx *c, size_t more)
{
    struct xlsx_book *b = c->x.b;
    if (b->row_len + more > b->lim.max_row_bytes) {
        xr_xfail(&c->x, XLSX_TOO_LARGE, "sheet %s: row %u holds more than %zu bytes of text",
                 c->sheet, c->row, b->lim.max_row_bytes);
        return -1;
    }
    if (xr_grow((void **)&b->rowbuf, &b->row_cap, b->row_len + more, 1)) {
        xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

static void XMLCALL sheet_text(void *ud, const XML_Char *s, int len)
{
    struct sheet_ctx *c = ud;
    c->x.event = 1;
    if (!c->collect || c->x.stopped)
        return;
    struct xlsx_book *b = c->x.b;
    if (b->row_len - c->start + (size_t)len > b->lim.max_cell_bytes) {
        char ref[16];
        cell_ref(c, ref);
        xr_xfail(&c->x, XLSX_TOO_LONG, "sheet %s: cell %s holds more than %zu bytes", c->sheet, ref,
                 b->lim.max_cell_bytes);
        return;
    }
    if (row_reserve(c, (size_t)len))
        return;
    memcpy(b->rowbuf + b->row_len, s, (size_t)len);
    b->row_len += (size_t)len;
}

static void cell_end(struct sheet_ctx *c)
{
    struct xlsx_book *b = c->x.b;
    c->cell_depth = 0;
    c->collect = 0;
    c->have_col = 1;
    c->last_col = c->col;
    /* room for a NUL, a date text and its NUL after the stored value */
    if (row_reserve(c, 34))
        return;
    char *v = b->rowbuf + c->start;
    size_t n = b->row_len - c->start;
    struct pending p = {.col = c->col, .off = c->start, .len = n};
    char ref[16];
    switch (c->t) {
    case CT_S: {
        long long i = xr_parse_uint(v, n, LLONG_MAX);
        b->row_len = c->start;
        if (n == 0)
            return;
        if (i < 0 || (size_t)i >= b->nsst) {
            cell_ref(c, ref);
            xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s refers to a missing shared string",
                     c->sheet, ref);
            return;
        }
        p.type = XLSX_STRING;
        p.ext = b->sst + b->sst_idx[i].off;
        p.len = b->sst_idx[i].len;
        if (p.len > b->lim.max_cell_bytes) {
            cell_ref(c, ref);
            xr_xfail(&c->x, XLSX_TOO_LONG, "sheet %s: cell %s holds more than %zu bytes", c->sheet,
                     ref, b->lim.max_cell_bytes);
            return;
        }
        break;
    }
    case CT_STR:
    case CT_INLINE:
        p.len = xr_decode_escapes(v, n);
        p.type = XLSX_STRING;
        break;
    case CT_E:
        p.type = XLSX_ERROR;
        break;
    case CT_B:
        b->row_len = c->start;
        if (n == 0)
            return;
        p.type = XLSX_BOOL;
        if ((n == 1 && v[0] == '1') || (n == 4 && !strncasecmp(v, "true", 4))) {
            p.ext = "TRUE";
        } else if ((n == 1 && v[0] == '0') || (n == 5 && !strncasecmp(v, "false", 5))) {
            p.ext = "FALSE";
        } else {
            cell_ref(c, ref);
            xr_xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s has a bad boolean", c->sheet, ref);
            return;
        }
        p.len = strlen(p.ext);
        break;
    case CT_N:
    case CT_D: {
        char date[32];
        size_t dl = c->t == CT_D ? xlsx_iso_text(v, n, date)
                    : c->fmt     ? xlsx_serial_text(v, n, b->date1904, c->fmt, date)
                                 : 0;
        p.type = c->t == CT_D ? XLSX_DATE : XLSX_NUMBER;
        if (dl) {
            p.type = XLSX_DATE;
            p.raw_off = c->start;
            p.raw_len = n;
            v[n] = 0;
            p.off = c->start + n + 1;
            p.len = dl;
            memcpy(b->rowbuf + p.off, date, dl);
            b->row_len = p.off;
        }
        break;
    }
    }
    if (p.len == 0) { /* no value: the cell is left out */
        b->row_len = c->start;
        return;
    }
    if (!p.ext) {
        b->row_len = p.off + p.len;
        b->rowbuf[b->row_len++] = 0;
    }
    if (!p.raw_len) {
        p.raw_off = p.off;
        p.raw_len = p.len;
    }
    if (b->npend >= b->lim.max_cells_per_row) {
        xr_xfail(&c->x, XLSX_TOO_MANY_CELLS, "sheet %s: row %u has more than %zu cells", c->sheet,
                 c->row, b->lim.max_cells_per_row);
        return;
    }
    if (b->npend == b->pend_cap) { /* pend and cells grow together */
        size_t cap = b->pend_cap;
        if (xr_grow((void **)&b->pend, &cap, b->npend + 1, sizeof *b->pend)) {
            xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        struct xlsx_cell *cells = reallocarray(b->cells, cap, sizeof *cells);
        if (!cells) {
            xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        b->cells = cells;
        b->pend_cap = cap;
    }
    b->pend[b->npend++] = p;
}

static void row_end(struct sheet_ctx *c)
{
    struct xlsx_book *b = c->x.b;
    c->row_depth = 0;
    if (!b->npend)
        return;
    if (c->row > b->lim.max_rows) {
        xr_xfail(&c->x, XLSX_TOO_MANY_ROWS, "sheet %s: row %u holds values; at most %zu rows",
                 c->sheet, c->row, b->lim.max_rows);
        return;
    }
    for (size_t i = 0; i < b->npend; i++) {
        const struct pending *p = &b->pend[i];
        const char *text = p->ext ? p->ext : b->rowbuf + p->off;
        b->cells[i] = (struct xlsx_cell){p->col,
                                         p->type,
                                         text,
                                         p->len,
                                         p->ext ? text : b->rowbuf + p->raw_off,
                                         p->ext ? p->len : p->raw_len};
    }
    int rc = c->cb(c->arg, c->row, b->cells, b->npend);
    b->npend = 0;
    b->row_len = 0;
    if (rc) {
        c->x.status = rc;
        c->x.stopped = 1;
        XML_StopParser(c->x.p, XML_FALSE);
    }
}

static int is_name(const char *n, const char *want)
{
    return n[0] == want[0] && !strcmp(n, want);
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct sheet_ctx *c = ud;
    if (xr_enter(&c->x))
        return;
    const char *n = xr_local(name);
    if (c->cell_depth) {
        if (is_name(n, "v")) {
            c->collect = c->t != CT_INLINE;
        } else if (is_name(n, "is")) {
            if (!c->is_depth)
                c->is_depth = c->x.depth;
        } else if (is_name(n, "rPh")) {
            c->rph++;
        } else if (is_name(n, "t")) {
            c->collect = c->is_depth && !c->rph && c->t == CT_INLINE;
        }
    } else if (c->row_depth) {
        if (is_name(n, "c"))
            cell_start(c, atts);
    } else if (c->data_depth) {
        if (is_name(n, "row"))
            row_start(c, atts);
    } else if (is_name(n, "sheetData")) {
        c->data_depth = c->x.depth;
    }
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
    struct sheet_ctx *c = ud;
    unsigned d = c->x.depth;
    if (xr_leave(&c->x))
        return;
    if (c->cell_depth) {
        const char *n = xr_local(name);
        if (d == c->cell_depth)
            cell_end(c);
        else if (is_name(n, "v") || is_name(n, "t"))
            c->collect = 0;
        else if (is_name(n, "rPh") && c->rph)
            c->rph--;
        else if (d == c->is_depth)
            c->is_depth = 0;
    } else if (c->row_depth) {
        if (d == c->row_depth)
            row_end(c);
    } else if (c->data_depth && d == c->data_depth) {
        xr_xdone(&c->x); /* what follows <sheetData> (merges, validations, ...) is not needed */
    }
}

int xlsx_read_sheet(struct xlsx_book *b, const char *sheet_name, xlsx_row_cb cb, void *arg,
                    char *err, size_t errlen)
{
    const struct sheet *s = NULL;
    for (size_t i = 0; i < b->nsheets && !s; i++)
        if (!strcmp(b->sheets[i].name, sheet_name))
            s = &b->sheets[i];
    for (size_t i = 0; i < b->nsheets && !s; i++)
        if (!strcasecmp(b->sheets[i].name, sheet_name))
            s = &b->sheets[i];
    if (!s)
        return xr_fail(err, errlen, XLSX_NO_SHEET, "no sheet named \"%.200s\"", sheet_name);
    if (!s->worksheet || !s->path)
        return xr_fail(err, errlen, XLSX_NO_SHEET, "sheet \"%.200s\" is not a worksheet", s->name);
    struct sheet_ctx c = {
        .x = {.err = err, .errlen = errlen}, .sheet = s->name, .cb = cb, .arg = arg};
    b->npend = 0;
    b->row_len = 0;
    int rc = xr_parse_part(b, s->path, &c.x, sheet_start, sheet_end, sheet_text);
    if (rc == 1)
        return xr_fail(err, errlen, XLSX_BAD_XML, "sheet \"%.200s\": its part %.200s is missing",
                       s->name, s->path);
    return rc;
}
