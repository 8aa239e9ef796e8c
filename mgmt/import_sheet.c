/* xlsx import, reading side: every row of a data sheet through the shared column rules into
 * the flat texts of struct import_sheet; see import_internal.h. */
#include "mgmt/import_internal.h"
#include "common/config.h"
#include "mgmt/http.h"
#include "mgmt/record_form.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void import_problem(struct import_ctx *c, const char *sheet, unsigned row, const char *column,
                    const char *field, const char *value, const char *code, const char *reason,
                    const char *suggestion)
{
    if (json_array_size(c->problems) >= IMPORT_MAX_PROBLEMS) {
        *c->truncated = 1;
        return;
    }
    json_array_append_new(c->problems,
                          json_pack("{s:s, s:o, s:s?, s:s?, s:s?, s:s, s:s, s:s?}", "sheet", sheet,
                                    "row", row ? json_integer(row) : json_null(), "column", column,
                                    "field", field, "value", value, "code", code, "reason", reason,
                                    "suggestion", suggestion && *suggestion ? suggestion : NULL));
}

static enum rec_cell cell_kind(const struct xlsx_cell *cell)
{
    switch (cell->type) {
    case XLSX_NUMBER:
        return REC_CELL_NUMBER;
    case XLSX_DATE:
        return REC_CELL_DATE;
    case XLSX_EMPTY:
        return REC_CELL_EMPTY;
    default:
        return cell->len ? REC_CELL_STRING : REC_CELL_EMPTY;
    }
}

static void read_header(struct import_sheet *s, const struct xlsx_cell *cells, size_t n)
{
    int found[IMPORT_MAX_FIELDS] = {0};
    for (int i = 0; i < IMPORT_MAX_SHEET_COLS; i++)
        s->map[i] = -1;
    for (size_t i = 0; i < n; i++) {
        if (cells[i].col >= IMPORT_MAX_SHEET_COLS || cells[i].type != XLSX_STRING)
            continue;
        char label[128];
        snprintf(label, sizeof label, "%.*s", (int)cells[i].len, cells[i].text);
        const struct rec_column *col = rec_column_by_label(s->which, label);
        if (!col)
            continue;
        int idx = (int)(col - s->cols);
        if (idx >= 0 && idx < IMPORT_MAX_FIELDS && !found[idx]) {
            s->map[cells[i].col] = idx;
            found[idx] = 1;
        }
    }
    for (size_t k = 0; k < s->ncols && k < IMPORT_MAX_FIELDS; k++)
        if (s->cols[k].required && !found[k])
            import_problem(s->ctx, s->name, 1, s->cols[k].label, s->cols[k].field, NULL,
                           "missing_column", "the header row lacks this required column", NULL);
}

/* Room for one more row; 0 or -1 (out of memory). Both arrays grow together, doubling. */
static int reserve_row(struct import_sheet *s)
{
    if (s->nrows < s->rows_cap)
        return 0;
    size_t cap = s->rows_cap ? s->rows_cap * 2 : 1024;
    if (cap > SIZE_MAX / sizeof(size_t) / (s->ncols ? s->ncols : 1))
        return -1;
    unsigned *rownum = realloc(s->rownum, cap * sizeof *rownum);
    if (!rownum)
        return -1;
    s->rownum = rownum;
    size_t *off = realloc(s->off, cap * s->ncols * sizeof *off);
    if (!off)
        return -1;
    s->off = off;
    s->rows_cap = cap;
    return 0;
}

/* Copies `text` with its NUL into the texts buffer; its offset, or IMPORT_NO_TEXT when out of
 * memory. */
static size_t add_text(struct import_sheet *s, const char *text)
{
    size_t n = strlen(text) + 1;
    if (s->texts_len + n > s->texts_cap) {
        size_t cap = s->texts_cap ? s->texts_cap : 65536;
        while (cap < s->texts_len + n) {
            if (cap > SIZE_MAX / 2)
                return IMPORT_NO_TEXT;
            cap *= 2;
        }
        char *t = realloc(s->texts, cap);
        if (!t)
            return IMPORT_NO_TEXT;
        s->texts = t;
        s->texts_cap = cap;
    }
    memcpy(s->texts + s->texts_len, text, n);
    s->texts_len += n;
    return s->texts_len - n;
}

static int on_row(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    struct import_sheet *s = arg;
    if (!s->header_seen) {
        s->header_seen = 1;
        read_header(s, cells, n);
        return 0;
    }
    const struct xlsx_cell *by_col[IMPORT_MAX_FIELDS] = {0};
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (cells[i].col >= IMPORT_MAX_SHEET_COLS || s->map[cells[i].col] < 0)
            continue;
        by_col[s->map[cells[i].col]] = &cells[i];
        any |= cell_kind(&cells[i]) != REC_CELL_EMPTY;
    }
    if (!any)
        return 0; /* an empty row, or one with only unknown columns */
    if (reserve_row(s) < 0) {
        s->nomem = 1;
        return XLSX_NOMEM;
    }
    size_t *off = s->off + s->nrows * s->ncols;
    char canon[REC_OUT_MAX], small[512];
    for (size_t k = 0; k < s->ncols && k < IMPORT_MAX_FIELDS; k++) {
        const struct rec_column *col = &s->cols[k];
        const struct xlsx_cell *cell = by_col[k];
        enum rec_cell kind = cell ? cell_kind(cell) : REC_CELL_EMPTY;
        off[k] = IMPORT_NO_TEXT;
        if (kind == REC_CELL_EMPTY && !col->required)
            continue;
        /* the whole cell, however long: the rules decide, nothing is cut here (a short one
         * is copied on the stack, most cells are) */
        char *heap = NULL;
        const char *text = "";
        if (cell && cell->len < sizeof small) {
            memcpy(small, cell->text, cell->len);
            small[cell->len] = 0;
            text = small;
        } else if (cell) {
            if (!(heap = strndup(cell->text, cell->len))) {
                s->nomem = 1;
                return XLSX_NOMEM;
            }
            text = heap;
        }
        struct rec_problem p;
        memset(&p, 0, sizeof p);
        if (rec_check_value(col, kind, text, s->ctx->today, canon, sizeof canon, &p) < 0) {
            import_problem(s->ctx, s->name, row, col->label, col->field,
                           kind == REC_CELL_EMPTY ? NULL : text, p.code, p.reason, p.suggestion);
        } else if (kind != REC_CELL_EMPTY && (off[k] = add_text(s, canon)) == IMPORT_NO_TEXT) {
            free(heap);
            s->nomem = 1;
            return XLSX_NOMEM;
        }
        free(heap);
    }
    for (size_t k = IMPORT_MAX_FIELDS; k < s->ncols; k++)
        off[k] = IMPORT_NO_TEXT;
    s->rownum[s->nrows++] = row;
    return 0;
}

int import_read_sheet(struct import_ctx *c, struct xlsx_book *book, enum rec_sheet which,
                      struct import_sheet *s)
{
    memset(s, 0, sizeof *s);
    s->ctx = c;
    s->which = which;
    s->name = rec_sheet_name(which);
    s->cols = rec_columns(which, &s->ncols);
    char err[256];
    int rc = xlsx_read_sheet(book, s->name, on_row, s, err, sizeof err);
    if (s->nomem)
        return -1;
    if (rc == XLSX_NO_SHEET) {
        import_problem(c, s->name, 0, NULL, NULL, NULL, "missing_sheet",
                       "the workbook has no sheet with this name: use the template", NULL);
        return 1;
    }
    if (rc == XLSX_TOO_MANY_ROWS) {
        char msg[400];
        snprintf(msg, sizeof msg, "at most %lld data rows per sheet (%s)",
                 c->req->cfg->max_import_rows, err);
        import_problem(c, s->name, 0, NULL, NULL, NULL, "too_many_rows", msg, NULL);
        return 1;
    }
    if (rc != XLSX_OK) {
        int big = rc == XLSX_TOO_LARGE || rc == XLSX_TOO_LONG || rc == XLSX_TOO_MANY_CELLS;
        import_problem(c, s->name, 0, NULL, NULL, NULL, big ? "too_large" : "not_xlsx", err, NULL);
        return 1;
    }
    if (!s->header_seen)
        import_problem(c, s->name, 0, NULL, NULL, NULL, "missing_column", "the sheet is empty",
                       NULL);
    return s->header_seen ? 0 : 1;
}

/* Room for `more` bytes after json_len; 0 or -1. */
static int reserve_json(struct import_sheet *s, size_t more)
{
    if (s->json_len + more <= s->json_cap)
        return 0;
    size_t cap = s->json_cap ? s->json_cap : 65536;
    while (cap < s->json_len + more) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *j = realloc(s->json, cap);
    if (!j)
        return -1;
    s->json = j;
    s->json_cap = cap;
    return 0;
}

int import_sheet_dump(struct import_sheet *s, const size_t *skip, size_t nskip)
{
    if (!(s->json_off = malloc((s->nrows + 1) * sizeof *s->json_off)) || reserve_json(s, 65536))
        return -1;
    for (size_t i = 0; i < s->nrows; i++) {
        json_t *rec = json_object();
        if (!rec)
            return -1;
        for (size_t k = 0; k < s->ncols && k < IMPORT_MAX_FIELDS; k++) {
            const char *t = import_text(s, i, k);
            size_t j = 0;
            while (j < nskip && skip[j] != k)
                j++;
            if (t && j == nskip)
                json_object_set_new_nocheck(rec, s->cols[k].field, record_typed(&s->cols[k], t));
        }
        /* straight into the buffer (json_dumps would grow a buffer of its own, then copy it);
         * a record that does not fit is dumped again once the buffer has grown */
        size_t n =
            json_dumpb(rec, s->json + s->json_len, s->json_cap - s->json_len, MGMT_JSON_FLAGS);
        if (n && s->json_len + n + 1 > s->json_cap)
            n = reserve_json(s, n + 1) ? 0
                                       : json_dumpb(rec, s->json + s->json_len,
                                                    s->json_cap - s->json_len, MGMT_JSON_FLAGS);
        json_decref(rec);
        if (n == 0)
            return -1;
        s->json[s->json_len + n] = 0;
        s->json_off[i] = s->json_len;
        s->json_len += n + 1;
    }
    return 0;
}

void import_sheet_free(struct import_sheet *s)
{
    free(s->rownum);
    free(s->off);
    free(s->texts);
    free(s->json_off);
    free(s->json);
    s->rownum = NULL;
    s->off = NULL;
    s->texts = NULL;
    s->json_off = NULL;
    s->json = NULL;
    s->nrows = s->rows_cap = s->texts_len = s->texts_cap = s->json_len = s->json_cap = 0;
}
