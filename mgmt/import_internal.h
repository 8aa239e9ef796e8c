/* Private to the xlsx import (import.c, import_sheet.c): a data sheet read into flat arrays
 * of canonical texts, and the problem list. */
#ifndef EVGATE_MGMT_IMPORT_INTERNAL_H
#define EVGATE_MGMT_IMPORT_INTERNAL_H

#include "mgmt/import.h"
#include "mgmt/xlsx_read.h"
#include "protocol/records.h"

#include <stddef.h>

#define IMPORT_MAX_SHEET_COLS 256 /* xlsx columns looked at for the header */
#define IMPORT_MAX_FIELDS     64  /* columns of one record sheet */
#define IMPORT_NO_TEXT        ((size_t)-1)

struct import_ctx {
    struct mgmt_req *req;
    json_t *problems;
    int *truncated;
    char today[11];
};

/* One data sheet. Rows are kept as canonical texts only (what passed rec_check_value), one
 * offset per column into one text buffer: a 100 000-row file is then a few allocations
 * instead of a JSON tree per row, and the record's typed JSON is built once, when it is
 * written. A row's typed record is exactly its non-NULL texts through record_typed. */
struct import_sheet {
    struct import_ctx *ctx;
    enum rec_sheet which;
    const char *name;
    const struct rec_column *cols;
    size_t ncols;
    int map[IMPORT_MAX_SHEET_COLS]; /* xlsx column -> index in cols, or -1 */
    int header_seen;
    int nomem;
    size_t nrows, rows_cap;
    unsigned *rownum; /* the sheet's row number of each kept row */
    size_t *off;      /* nrows * ncols offsets into texts, or IMPORT_NO_TEXT */
    char *texts;
    size_t texts_len, texts_cap;
    size_t *json_off; /* per row: its record as compact JSON in `json` (import_sheet_dump) */
    char *json;
    size_t json_len, json_cap;
};

/* Appends a problem (at most IMPORT_MAX_PROBLEMS, then sets *truncated). NULL/0 leave a
 * field out (row 0 is null). */
void import_problem(struct import_ctx *c, const char *sheet, unsigned row, const char *column,
                    const char *field, const char *value, const char *code, const char *reason,
                    const char *suggestion);

/* Reads sheet `which` of the book into s (released with import_sheet_free, also on failure);
 * file-level problems are reported. Returns 0, 1 when the sheet cannot be used (a problem
 * says why) or -1 when out of memory. */
int import_read_sheet(struct import_ctx *c, struct xlsx_book *book, enum rec_sheet which,
                      struct import_sheet *s);

/* Renders every row's record (its non-NULL texts through record_typed, in column order, without
 * the columns of `skip`, nskip of them) as compact JSON, for import_json. Done by the thread
 * that read the sheet, so that the writing transaction only inserts. 0 or -1 (out of memory). */
int import_sheet_dump(struct import_sheet *s, const size_t *skip, size_t nskip);

/* The JSON of row i after import_sheet_dump. */
static inline const char *import_json(const struct import_sheet *s, size_t i)
{
    return s->json + s->json_off[i];
}

void import_sheet_free(struct import_sheet *s);

/* The canonical text of column k of kept row i, or NULL when the cell is empty or invalid. */
static inline const char *import_text(const struct import_sheet *s, size_t i, size_t k)
{
    size_t o = s->off[i * s->ncols + k];
    return o == IMPORT_NO_TEXT ? NULL : s->texts + o;
}

#endif
