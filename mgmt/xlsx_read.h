/* A streaming reader of .xlsx workbooks (Office Open XML spreadsheets) for the imports of SPEC §6:
 * libzip reads the archive, expat parses each part in chunks. Built for hostile uploads: every
 * size is bounded (struct xlsx_limits), DOCTYPEs are refused, nothing recurses on the input. */
#ifndef EVGATE_MGMT_XLSX_READ_H
#define EVGATE_MGMT_XLSX_READ_H

#include <stddef.h>

/* Results: XLSX_OK or one of the negative codes; each failing call also writes a one-line
 * message (English, naming the part, sheet, row or cell) into its `err` buffer. */
enum xlsx_status {
    XLSX_OK = 0,
    XLSX_NOT_XLSX = -1,       /* not a zip, a zip without a workbook, a legacy .xls */
    XLSX_ENCRYPTED = -2,      /* password-protected workbook, or an encrypted zip member */
    XLSX_TOO_LARGE = -3,      /* file, member, total or ratio limit; a member inflating further */
    XLSX_BAD_XML = -4,        /* malformed or refused XML (DOCTYPE), bad cell or row references */
    XLSX_TOO_MANY_ROWS = -5,  /* a value in a row past max_rows (the message names the row) */
    XLSX_TOO_MANY_CELLS = -6, /* more than max_cells_per_row values in one row */
    XLSX_TOO_LONG = -7,       /* one cell's text past max_cell_bytes */
    XLSX_NO_SHEET = -8,       /* no sheet of that name, or it is not a worksheet */
    XLSX_IO = -9,             /* the file could not be read */
    XLSX_NOMEM = -10,
};

/* Bounds on what one workbook may make the reader do. A zero field takes the default in
 * brackets. max_rows counts rows as the spreadsheet numbers them (header included), so an import
 * of at most 100 000 data rows under one header row passes max_rows = 100001. */
struct xlsx_limits {
    size_t max_file_bytes;         /* the .xlsx itself [20 MiB] */
    size_t max_uncompressed_bytes; /* all members together, and so each one [256 MiB] */
    size_t max_ratio;              /* uncompressed / compressed, for members over 1 MiB [200] */
    size_t max_rows;               /* highest row number holding a value [1 048 576] */
    size_t max_cells_per_row;      /* values in one row [16 384] */
    size_t max_cell_bytes;         /* UTF-8 bytes of one cell's text [131 072] */
    size_t max_row_bytes;          /* the text of one row's cells together [16 MiB] */
    size_t max_shared_strings;     /* entries of the shared-string table [1 000 000] */
    size_t max_shared_bytes;       /* their text together [64 MiB] */
};

/* Fills `lim` with the defaults above. */
void xlsx_limits_default(struct xlsx_limits *lim);

enum xlsx_cell_type {
    XLSX_EMPTY = 0, /* never delivered (cells without a value are left out); 0 for callers that
                     * keep a dense array of cells indexed by column */
    XLSX_STRING,    /* shared, inline or formula string; rich-text runs joined, spaces kept */
    XLSX_NUMBER,    /* text exactly as stored: "60", "113.123456", "1E-3" */
    XLSX_BOOL,      /* "TRUE" or "FALSE" */
    XLSX_DATE,      /* a number shown with a date or time format, or an ISO date cell (t="d") */
    XLSX_ERROR,     /* "#N/A", "#DIV/0!", ... */
};

/* One cell with a value. `text` is NUL-terminated UTF-8 of `len` bytes (never 0); strings are
 * exactly as typed (leading, trailing and repeated spaces kept; _xHHHH_ escapes decoded). For
 * XLSX_DATE it reads "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" (a time of day is shown or present) or
 * "HH:MM:SS" (a time format, serial below 1), from the 1900 (with Excel's 1900-02-29) or 1904
 * date system of the workbook; `raw` is then the stored serial. For other types raw == text. */
struct xlsx_cell {
    unsigned col; /* 0-based column: A = 0, from the cell reference (or its position) */
    enum xlsx_cell_type type;
    const char *text;
    size_t len;
    const char *raw;
    size_t raw_len;
};

/* Called once per row holding at least one value, in sheet order. `row` is the 1-based number
 * the spreadsheet shows (gaps are rows without values); `cells` holds ncells >= 1 cells by
 * increasing column, missing columns simply absent. Everything is borrowed and valid only
 * during the call. Return 0 to go on; anything else stops the reading and is returned by
 * xlsx_read_sheet as is (use positive values to tell them from xlsx_status codes). */
typedef int (*xlsx_row_cb)(void *arg, unsigned row, const struct xlsx_cell *cells, size_t ncells);

struct xlsx_book; /* an open workbook: its zip, sheet list, shared strings and date styles */

/* Opens the workbook at `path` under `lim` (NULL: defaults; copied). Checks the file and every
 * member's declared sizes before inflating anything, then reads the workbook, its relationships,
 * styles and shared strings (which stay in memory, within max_shared_*). Sheets are read later,
 * one pass each, by xlsx_read_sheet. Returns XLSX_OK with *out set (free with xlsx_close), or a
 * negative xlsx_status with *out NULL and a message in err (errlen bytes; may be NULL/0). */
int xlsx_open(const char *path, const struct xlsx_limits *lim, struct xlsx_book **out, char *err,
              size_t errlen);

/* The same for a workbook held in memory: `data` (len bytes) is borrowed and must outlive the
 * book. */
int xlsx_open_mem(const void *data, size_t len, const struct xlsx_limits *lim,
                  struct xlsx_book **out, char *err, size_t errlen);

/* Sheets in workbook (tab) order, hidden ones included. Names are borrowed from the book. */
enum xlsx_sheet_state { XLSX_VISIBLE = 0, XLSX_HIDDEN, XLSX_VERY_HIDDEN };
size_t xlsx_sheet_count(const struct xlsx_book *book);
const char *xlsx_sheet_name(const struct xlsx_book *book, size_t i); /* NULL past the end */
enum xlsx_sheet_state xlsx_sheet_state(const struct xlsx_book *book, size_t i);

/* Reads the sheet named `sheet_name` (exact match first, then ASCII case-insensitive, as Excel
 * compares names), streaming its XML and calling cb for each row. Cells without a value (styled
 * blanks, <v/>, "" results, formulas saved without a cached value) are left out. Returns XLSX_OK
 * after the last row, the callback's non-zero value if it stopped the reading, or a negative
 * xlsx_status with a message in err; rows before the problem have been delivered:
 *   XLSX_NO_SHEET        no such sheet, or a chart sheet
 *   XLSX_TOO_MANY_ROWS   a value in a row past max_rows ("row 100002 holds values; ...")
 *   XLSX_TOO_MANY_CELLS, XLSX_TOO_LONG   a row or cell past its limit (the message names it)
 *   XLSX_TOO_LARGE       a row past max_row_bytes, or the part inflating past its declared size
 *   XLSX_BAD_XML         malformed XML, DOCTYPE, rows or cells out of order, bad references
 *   XLSX_NOT_XLSX        a damaged zip entry (CRC), XLSX_NOMEM
 * Not reentrant: do not call it from the callback. Books are independent, so threads may each
 * use their own. */
int xlsx_read_sheet(struct xlsx_book *book, const char *sheet_name, xlsx_row_cb cb, void *arg,
                    char *err, size_t errlen);

/* Frees the book (NULL is fine). */
void xlsx_close(struct xlsx_book *book);

/* Writes column letters of 0-based `col` ("A", "AB", "XFD") into out (at least 4 bytes; columns
 * past XFD print as "?"). */
void xlsx_col_name(unsigned col, char out[4]);

/* A static English name of an xlsx_status ("not an xlsx file", ...). */
const char *xlsx_strerror(int status);

#endif
