/* Import templates and exports of stations and piles as xlsx (SPEC §6), written with
 * libxlsxwriter from protocol/records.h's column tables so templates, exports and imports agree. */
#include "mgmt/xlsx_write_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void xw_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Display width of UTF-8 text: CJK and other wide characters count 2. */
size_t xw_text_width(const char *s)
{
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80)
            w++;
        else if (*p >= 0xE0)
            w += 2;
        else if (*p >= 0xC0)
            w++;
    }
    return w;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static void col_name(lxw_col_t col, char *buf)
{
    char tmp[4];
    int n = 0;

    for (unsigned c = col + 1u; c; c = (c - 1) / 26)
        tmp[n++] = (char)('A' + (c - 1) % 26);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

/* "code-名称", or the code when the name is missing. */
void xw_enum_entry(const struct rec_enum *e, char *buf, size_t len)
{
    if (e->name && *e->name)
        snprintf(buf, len, "%s-%s", e->code, e->name);
    else
        snprintf(buf, len, "%s", e->code);
}

const struct rec_enum *xw_enum_find(const struct rec_column *col, const char *code)
{
    for (const struct rec_enum *e = col->enums; e && e->code; e++)
        if (strcmp(e->code, code) == 0)
            return e;
    return NULL;
}

size_t xw_enum_count(const struct rec_column *col)
{
    size_t n = 0;

    for (const struct rec_enum *e = col->enums; e && e->code; e++)
        n++;
    return n;
}

static lxw_format *add_format(lxw_workbook *wb, const char *num_format)
{
    lxw_format *f = workbook_add_format(wb);

    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    if (num_format)
        format_set_num_format(f, num_format);
    return f;
}

static lxw_format *add_header_format(lxw_workbook *wb, lxw_color_t font, lxw_color_t fill)
{
    lxw_format *f = add_format(wb, "@");

    format_set_bold(f);
    format_set_font_color(f, font);
    format_set_bg_color(f, fill);
    format_set_border(f, LXW_BORDER_THIN);
    format_set_border_color(f, 0xBFBFBF);
    format_set_align(f, LXW_ALIGN_CENTER);
    return f;
}

static lxw_format *add_example_format(lxw_workbook *wb, const char *num_format)
{
    lxw_format *f = add_format(wb, num_format);

    format_set_italic(f);
    format_set_font_color(f, 0x808080);
    format_set_border(f, LXW_BORDER_THIN);
    format_set_border_color(f, 0xBFBFBF);
    format_set_text_wrap(f);
    format_set_align(f, LXW_ALIGN_LEFT);
    return f;
}

/* Creates the temporary file and the workbook with its formats. */
int xw_book_open(struct book *b, enum xlsxw_book which, int constant_memory)
{
    const char *dir = getenv("TMPDIR");
    lxw_workbook_options opt = {0};
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    if ((size_t)snprintf(b->path, sizeof b->path, "%s/evgate-xlsx-XXXXXX", dir) >= sizeof b->path) {
        snprintf(b->err, sizeof b->err, "TMPDIR too long");
        return -1;
    }
    fd = mkstemp(b->path);
    if (fd < 0) {
        snprintf(b->err, sizeof b->err, "cannot create a temporary file in %s: %s", dir,
                 strerror(errno));
        b->path[0] = '\0';
        return -1;
    }
    close(fd);
    opt.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE;
    opt.tmpdir = (char *)dir;
    b->wb = workbook_new_opt(b->path, &opt);
    if (!b->wb) {
        snprintf(b->err, sizeof b->err, "cannot start a workbook");
        return -1;
    }
    if (which == XLSXW_STATIONS) {
        b->sheets[0] = REC_STATIONS;
        b->nsheets = 1;
    } else {
        b->sheets[0] = REC_PILES;
        b->sheets[1] = REC_CONNECTORS;
        b->nsheets = 2;
    }
    b->head_req = add_header_format(b->wb, 0xC00000, 0xFCE4D6);
    b->head_opt = add_header_format(b->wb, 0x000000, 0xEDEDED);
    b->head_extra = add_header_format(b->wb, 0x595959, 0xD9E1F2);
    b->text = add_format(b->wb, "@");
    b->date = add_format(b->wb, "yyyy-mm-dd");
    b->title = add_format(b->wb, NULL);
    format_set_bold(b->title);
    format_set_font_size(b->title, 14);
    b->bold = add_format(b->wb, NULL);
    format_set_bold(b->bold);
    b->wrap = add_format(b->wb, NULL);
    format_set_text_wrap(b->wrap);
    format_set_align(b->wrap, LXW_ALIGN_LEFT);
    format_set_border(b->wrap, LXW_BORDER_THIN);
    format_set_border_color(b->wrap, 0xBFBFBF);
    b->table_head = add_header_format(b->wb, 0x000000, 0xEDEDED);
    b->ex_text = add_example_format(b->wb, "@");
    b->ex_num = add_example_format(b->wb, NULL);
    b->ex_date = add_example_format(b->wb, "yyyy-mm-dd");
    workbook_set_properties(b->wb,
                            &(lxw_doc_properties){
                                .title = which == XLSXW_STATIONS ? "充电站信息" : "充电桩信息",
                                .company = "evgate",
                            });
    return 0;
}

void xw_book_discard(struct book *b)
{
    if (b->wb)
        workbook_close(b->wb);
    b->wb = NULL;
    if (b->path[0])
        unlink(b->path);
}

/* Closes the workbook and reads the file into *out. */
int xw_book_finish(struct book *b, unsigned char **out, size_t *len)
{
    lxw_error rc = workbook_close(b->wb);
    struct stat st;
    FILE *f = NULL;
    unsigned char *buf = NULL;

    b->wb = NULL;
    if (rc != LXW_NO_ERROR) {
        snprintf(b->err, sizeof b->err, "cannot write the workbook: %s", lxw_strerror(rc));
        goto fail;
    }
    f = fopen(b->path, "rb");
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(b->err, sizeof b->err, "cannot read the workbook back: %s", strerror(errno));
        goto fail;
    }
    if (st.st_size <= 0 || (unsigned long long)st.st_size > XLSXW_MAX_BYTES) {
        snprintf(b->err, sizeof b->err, "workbook of %lld bytes (limit %u)", (long long)st.st_size,
                 XLSXW_MAX_BYTES);
        goto fail;
    }
    buf = malloc((size_t)st.st_size);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(b->err, sizeof b->err, "cannot read the workbook back");
        goto fail;
    }
    fclose(f);
    *out = buf;
    *len = (size_t)st.st_size;
    return 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return -1;
}

/* Writes the hidden 选项 sheet: one column per enum column, its "code-名称" entries below a
 * "sheet/label" head, row by row (an export streams every sheet). Lists too long (or with a comma
 * or quote) to be inline get a range of this sheet. */
void xw_write_lists(struct book *b, lxw_worksheet *ws)
{
    struct {
        enum rec_sheet sheet;
        const struct rec_column *col;
    } lists[REC_SHEETS * MAX_COLUMNS];
    size_t nlists = 0, longest = 0;
    char entry[MAX_ENUM_TEXT], head[128], name[4];

    worksheet_hide(ws);
    for (size_t i = 0; i < b->nsheets; i++) {
        size_t ncols;
        const struct rec_column *cols = rec_columns(b->sheets[i], &ncols);

        for (size_t c = 0; cols && c < ncols && c < MAX_COLUMNS; c++) {
            size_t chars = 0, n = xw_enum_count(&cols[c]);
            int inline_ok = 1;

            if (cols[c].kind != REC_ENUM || n == 0)
                continue;
            for (const struct rec_enum *e = cols[c].enums; e->code; e++) {
                xw_enum_entry(e, entry, sizeof entry);
                chars += utf8_chars(entry) + 1;
                if (strpbrk(entry, ",\""))
                    inline_ok = 0;
            }
            if (!inline_ok || chars - 1 > XLSXW_INLINE_LIST_MAX) {
                col_name((lxw_col_t)nlists, name);
                snprintf(b->list_ref[b->sheets[i]][c], sizeof b->list_ref[0][0],
                         "'%s'!$%s$2:$%s$%zu", SHEET_LISTS, name, name, n + 1);
            }
            lists[nlists].sheet = b->sheets[i];
            lists[nlists++].col = &cols[c];
            if (n > longest)
                longest = n;
        }
    }
    for (size_t k = 0; k < nlists; k++) {
        snprintf(head, sizeof head, "%s/%s", rec_sheet_name(lists[k].sheet), lists[k].col->label);
        worksheet_set_column(ws, (lxw_col_t)k, (lxw_col_t)k, 24, b->text);
        worksheet_write_string(ws, 0, (lxw_col_t)k, head, b->bold);
    }
    for (size_t r = 0; r < longest; r++)
        for (size_t k = 0; k < nlists; k++)
            if (r < xw_enum_count(lists[k].col)) {
                xw_enum_entry(&lists[k].col->enums[r], entry, sizeof entry);
                worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)k, entry, b->text);
            }
}

/* A drop-down of "code-名称" entries on an enum column's data rows. */
static int add_dropdown(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet, size_t c,
                        const struct rec_column *col, lxw_row_t last_row)
{
    lxw_data_validation dv = {0};
    size_t n = xw_enum_count(col);
    char **list = NULL, *buf = NULL;
    char title[64], first[MAX_ENUM_TEXT], message[2 * MAX_ENUM_TEXT + 256];
    lxw_error rc;

    dv.validate = LXW_VALIDATION_TYPE_LIST;
    /* A warning, not a stop: a bare code ("1") is valid too (records.h), but is not listed. */
    dv.error_type = LXW_VALIDATION_ERROR_TYPE_WARNING;
    snprintf(title, sizeof title, "%s", col->label);
    dv.input_title = title;
    dv.input_message = "从下拉列表选择，或只填代码";
    dv.error_title = title;
    xw_enum_entry(&col->enums[0], first, sizeof first);
    snprintf(message, sizeof message,
             "不在下拉列表中。请选择“代码-名称”（如“%s”）或只填代码（如“%s”），"
             "其他值导入时会被拒绝。",
             first, col->enums[0].code);
    if (utf8_chars(message) > EXCEL_TEXT_MAX)
        snprintf(message, sizeof message, "不在下拉列表中，导入时会被拒绝。");
    dv.error_message = message;
    if (b->list_ref[sheet][c][0]) {
        dv.validate = LXW_VALIDATION_TYPE_LIST_FORMULA;
        dv.value_formula = b->list_ref[sheet][c];
    } else {
        list = calloc(n + 1, sizeof *list);
        buf = malloc((n ? n : 1) * MAX_ENUM_TEXT);
        if (!list || !buf) {
            free(list);
            free(buf);
            snprintf(b->err, sizeof b->err, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            list[i] = buf + i * MAX_ENUM_TEXT;
            xw_enum_entry(&col->enums[i], list[i], MAX_ENUM_TEXT);
        }
        dv.value_list = list;
    }
    rc = worksheet_data_validation_range(ws, 1, (lxw_col_t)c, last_row, (lxw_col_t)c, &dv);
    free(list);
    free(buf);
    if (rc != LXW_NO_ERROR) {
        snprintf(b->err, sizeof b->err, "%s/%s: drop-down list: %s", rec_sheet_name(sheet),
                 col->label, lxw_strerror(rc));
        return -1;
    }
    return 0;
}

static double column_width(const struct rec_column *col)
{
    double w = (double)xw_text_width(col->label) + (col->required ? 3 : 2);
    double want = 12;
    char entry[MAX_ENUM_TEXT];

    switch (col->kind) {
    case REC_TEXT:
        want = col->max_len > 0 ? col->max_len + 2 : 20;
        break;
    case REC_ENUM:
        want = 8;
        for (const struct rec_enum *e = col->enums; e && e->code; e++) {
            xw_enum_entry(e, entry, sizeof entry);
            if (xw_text_width(entry) + 4.0 > want)
                want = (double)xw_text_width(entry) + 4.0;
        }
        break;
    case REC_DATE:
        want = 13;
        break;
    default:
        want = 12;
        break;
    }
    if (want > w)
        w = want;
    return w > 30 ? 30 : w;
}

/* Heading, widths, column formats, frozen header and drop-downs of one data sheet. */
int xw_setup_data_sheet(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet,
                        const struct extra_column *extras, size_t nextras, lxw_row_t last_row,
                        int comments)
{
    size_t ncols;
    const struct rec_column *cols = rec_columns(sheet, &ncols);
    char head[128];

    if (!cols || ncols == 0 || ncols + nextras > MAX_COLUMNS) {
        snprintf(b->err, sizeof b->err, "sheet %s: no column table", rec_sheet_name(sheet));
        return -1;
    }
    worksheet_set_row(ws, 0, 22, NULL);
    for (size_t c = 0; c < ncols; c++) {
        const struct rec_column *col = &cols[c];
        lxw_format *fmt = col->kind == REC_TEXT || col->kind == REC_ENUM ? b->text
                          : col->kind == REC_DATE                        ? b->date
                                                                         : NULL;

        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, column_width(col), fmt);
        snprintf(head, sizeof head, "%s%s", col->label, col->required ? "*" : "");
        worksheet_write_string(ws, 0, (lxw_col_t)c, head,
                               col->required ? b->head_req : b->head_opt);
        if (comments && col->help) {
            lxw_comment_options co = {.width = 300, .height = 90, .author = "evgate"};
            char note[512];

            snprintf(note, sizeof note, "%s", col->help);
            worksheet_write_comment_opt(ws, 0, (lxw_col_t)c, note, &co);
        }
        if (col->kind == REC_ENUM && xw_enum_count(col) &&
            add_dropdown(b, ws, sheet, c, col, last_row))
            return -1;
    }
    for (size_t i = 0; i < nextras; i++) {
        lxw_col_t c = (lxw_col_t)(ncols + i);

        worksheet_set_column(ws, c, c, extras[i].width, b->text);
        worksheet_write_string(ws, 0, c, extras[i].label, b->head_extra);
    }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9);
    worksheet_repeat_rows(ws, 0, 0);
    return 0;
}

int xw_parse_date(const char *s, lxw_datetime *dt)
{
    int y, m, d, n = 0;

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || (s[10] && s[10] != 'T'))
        return 0;
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    *dt = (lxw_datetime){.year = y, .month = m, .day = d};
    return 1;
}

int xw_parse_number(const char *s, double *v)
{
    char *end;

    if (!*s || strchr(" \t\n", *s))
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    return !*end && errno == 0;
}

int xlsxw_template(enum xlsxw_book which, unsigned char **out, size_t *len, char *err,
                   size_t errlen)
{
    struct book b = {0};
    lxw_worksheet *help, *data[2], *lists;

    *out = NULL;
    *len = 0;
    if (which != XLSXW_STATIONS && which != XLSXW_PILES) {
        xw_set_err(err, errlen, "unknown workbook %d", (int)which);
        return -1;
    }
    if (xw_book_open(&b, which, 0))
        goto fail;
    help = workbook_add_worksheet(b.wb, SHEET_HELP);
    for (size_t i = 0; i < b.nsheets; i++)
        data[i] = workbook_add_worksheet(b.wb, rec_sheet_name(b.sheets[i]));
    lists = workbook_add_worksheet(b.wb, SHEET_LISTS);
    if (!help || !lists || !data[0] || (b.nsheets > 1 && !data[1])) {
        snprintf(b.err, sizeof b.err, "cannot add the worksheets");
        goto fail;
    }
    xw_write_lists(&b, lists);
    if (xw_write_help(&b, help, which))
        goto fail;
    for (size_t i = 0; i < b.nsheets; i++)
        if (xw_setup_data_sheet(&b, data[i], b.sheets[i], NULL, 0, XLSXW_VALIDATION_ROWS, 1))
            goto fail;
    if (xw_book_finish(&b, out, len))
        goto fail;
    xw_book_discard(&b);
    return 0;
fail:
    xw_set_err(err, errlen, "%s", b.err[0] ? b.err : "cannot write the template");
    xw_book_discard(&b);
    return -1;
}

/* The text of a scalar: strings as they are, integers and reals in decimal, booleans as 1/0. */
