/* Private to the xlsx writer (xlsx_write.c: workbooks, formats, drop-downs, templates;
 * xlsx_help.c: the instructions sheet; xlsx_export.c: exports). The API is xlsx_write.h. */
#ifndef EVGATE_MGMT_XLSX_WRITE_INTERNAL_H
#define EVGATE_MGMT_XLSX_WRITE_INTERNAL_H

#include "mgmt/xlsx_write.h"
#include "protocol/records.h"

#include <limits.h>
#include <stddef.h>
#include <xlsxwriter.h>

#define SHEET_HELP  "填写说明"
#define SHEET_LISTS "选项"

#define MAX_COLUMNS    64  /* per sheet; records.h has about 20 */
#define MAX_ENUM_TEXT  256 /* one "code-名称" entry */
#define EXCEL_TEXT_MAX 255 /* characters of a validation message */

/* Characters of an inline drop-down list, commas included (Excel's limit); longer lists refer to
 * the 选项 sheet instead. A test build lowers it to exercise that path. */
#ifndef XLSXW_INLINE_LIST_MAX
#define XLSXW_INLINE_LIST_MAX 255
#endif

/* Column widths of the instructions sheet (characters; a CJK character takes 2). */
#define HELP_WIDTH_RULE    46
#define HELP_WIDTH_LIST    30
#define HELP_WIDTH_EXAMPLE 26
#define HELP_WIDTH_ALL     (20 + 6 + 18 + HELP_WIDTH_RULE + HELP_WIDTH_LIST + 2 * HELP_WIDTH_EXAMPLE)

/* Read-only columns an export appends after the template's. */
struct extra_column {
    const char *field;
    const char *label;
    double width;
    int is_status;
};

/* One workbook being written, with its formats and the drop-down source of each enum column. */
struct book {
    lxw_workbook *wb;
    char path[PATH_MAX];
    enum rec_sheet sheets[2];
    size_t nsheets;
    lxw_format *head_req, *head_opt, *head_extra, *text, *date, *title, *bold, *wrap, *table_head,
        *ex_text, *ex_num, *ex_date;
    char list_ref[REC_SHEETS][MAX_COLUMNS][48]; /* 选项 range, or "" for an inline list */
    char err[256];
};

/* Writes the message into err (errlen bytes). */
void xw_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Display width of UTF-8 text: CJK and other wide characters count 2. */
size_t xw_text_width(const char *s);

/* "code-名称", or the code when the name is missing. */
void xw_enum_entry(const struct rec_enum *e, char *buf, size_t len);

/* The entry of enum column `col` with `code`, or NULL. */
const struct rec_enum *xw_enum_find(const struct rec_column *col, const char *code);

/* How many entries enum column `col` has. */
size_t xw_enum_count(const struct rec_column *col);

/* Creates the temporary file and the workbook with its formats. */
int xw_book_open(struct book *b, enum xlsxw_book which, int constant_memory);

/* Closes and deletes a workbook that will not be finished. */
void xw_book_discard(struct book *b);

/* Closes the workbook and reads the file into *out. */
int xw_book_finish(struct book *b, unsigned char **out, size_t *len);

/* Writes the hidden 选项 sheet: one column per enum column, its "code-名称" entries below a
 * "sheet/label" head, row by row (an export streams every sheet). Lists too long (or with a comma
 * or quote) to be inline get a range of this sheet. */
void xw_write_lists(struct book *b, lxw_worksheet *ws);

/* Heading, widths, column formats, frozen header and drop-downs of one data sheet. */
int xw_setup_data_sheet(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet,
                        const struct extra_column *extras, size_t nextras, lxw_row_t last_row,
                        int comments);

/* A text starting "YYYY-MM-DD" (alone or before a "T") into *dt: 1, else 0. */
int xw_parse_date(const char *s, lxw_datetime *dt);

/* A text that is wholly a number (strtod) into *v: 1, else 0. */
int xw_parse_number(const char *s, double *v);

/* Writes the instructions sheet of book `which` (xlsx_help.c); 0 or -1 with b->err set. */
int xw_write_help(struct book *b, lxw_worksheet *ws, enum xlsxw_book which);

#endif
