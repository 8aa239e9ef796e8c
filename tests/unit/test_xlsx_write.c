/* Unit tests of mgmt/xlsx_write.c: templates and exports are unzipped with libzip and parsed with
 * expat, so what is checked is what a spreadsheet sees: sheet names and order, header texts,
 * cell types and number formats, drop-down lists resolved to their entries; then openpyxl (when
 * installed) loads the same files; and 100 000 stations export in bounded time and memory. */
#include "mgmt/xlsx_read.h"
#include "mgmt/xlsx_write.h"
#include "protocol/records.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <expat.h>
#include <zip.h>

/* --- reading an xlsx back ------------------------------------------------------------------ */

struct xcell {
    char ref[16];
    char type[16]; /* "s", "inlineStr", "str", "" (number) */
    int style;
    char *value; /* <v> or the inline string */
};

struct xvalidation {
    char sqref[64];
    char type[16];
    char *formula1;
};

struct xsheet {
    char *name;
    int hidden;
    struct xcell *cells;
    size_t ncells, cap;
    struct xvalidation dv[64];
    size_t ndv;
    unsigned col_style[64]; /* style of column i (0-based), 0 when none */
    unsigned max_row;
};

struct xbook {
    struct xsheet sheets[8];
    size_t nsheets;
    char **sst;
    size_t nsst;
    unsigned xf_numfmt[64], xf_font[64];
    size_t nxf;
    int font_italic[32];
    size_t nfont;
    char *numfmt_code[300]; /* custom formats by id */
};

/* The parse in progress: which element's text is captured and where it goes. */
struct xparse {
    struct xbook *book;
    struct xsheet *sheet;
    int in_xfs, in_fonts, capture, in_is;
    char *text;
    size_t textlen;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    assert_non_null(q);
    return q;
}

static const char *attr(const XML_Char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

static void text_reset(struct xparse *p)
{
    free(p->text);
    p->text = calloc(1, 1);
    p->textlen = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct xparse *p = ud;

    if (!p->capture)
        return;
    p->text = xrealloc(p->text, p->textlen + (size_t)len + 1);
    memcpy(p->text + p->textlen, s, (size_t)len);
    p->textlen += (size_t)len;
    p->text[p->textlen] = '\0';
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **atts)
{
    struct xparse *p = ud;
    struct xbook *b = p->book;
    struct xsheet *sh = p->sheet;
    const char *a;

    if (strcmp(el, "sheet") == 0 && b->nsheets < 8) {
        b->sheets[b->nsheets].name = strdup(attr(atts, "name"));
        a = attr(atts, "state");
        b->sheets[b->nsheets++].hidden = a && strcmp(a, "hidden") == 0;
    } else if (strcmp(el, "si") == 0) {
        text_reset(p);
        p->capture = 0;
    } else if (strcmp(el, "t") == 0 && (!sh || p->in_is)) {
        p->capture = 1;
    } else if (strcmp(el, "cellXfs") == 0) {
        p->in_xfs = 1;
    } else if (strcmp(el, "xf") == 0 && p->in_xfs && b->nxf < 64) {
        a = attr(atts, "numFmtId");
        b->xf_numfmt[b->nxf] = a ? (unsigned)atoi(a) : 0;
        a = attr(atts, "fontId");
        b->xf_font[b->nxf++] = a ? (unsigned)atoi(a) : 0;
    } else if (strcmp(el, "numFmt") == 0) {
        int id = atoi(attr(atts, "numFmtId"));

        if (id >= 0 && id < 300)
            b->numfmt_code[id] = strdup(attr(atts, "formatCode"));
    } else if (strcmp(el, "fonts") == 0) {
        p->in_fonts = 1;
    } else if (strcmp(el, "font") == 0 && p->in_fonts && b->nfont < 32) {
        b->nfont++;
    } else if (strcmp(el, "i") == 0 && p->in_fonts && b->nfont) {
        b->font_italic[b->nfont - 1] = 1;
    } else if (sh && strcmp(el, "row") == 0) {
        unsigned r = (unsigned)atoi(attr(atts, "r"));

        if (r > sh->max_row)
            sh->max_row = r;
    } else if (sh && strcmp(el, "c") == 0) {
        struct xcell *c;

        if (sh->ncells == sh->cap) {
            sh->cap = sh->cap ? sh->cap * 2 : 64;
            sh->cells = xrealloc(sh->cells, sh->cap * sizeof *sh->cells);
        }
        c = &sh->cells[sh->ncells++];
        memset(c, 0, sizeof *c);
        snprintf(c->ref, sizeof c->ref, "%s", attr(atts, "r"));
        a = attr(atts, "t");
        snprintf(c->type, sizeof c->type, "%s", a ? a : "");
        a = attr(atts, "s");
        c->style = a ? atoi(a) : 0;
        text_reset(p);
    } else if (sh && strcmp(el, "v") == 0) {
        p->capture = 1;
    } else if (sh && strcmp(el, "is") == 0) {
        p->in_is = 1;
    } else if (sh && strcmp(el, "col") == 0) {
        unsigned lo = (unsigned)atoi(attr(atts, "min")), hi = (unsigned)atoi(attr(atts, "max"));

        a = attr(atts, "style");
        for (unsigned i = lo; i <= hi && i <= 64; i++)
            sh->col_style[i - 1] = a ? (unsigned)atoi(a) : 0;
    } else if (sh && strcmp(el, "dataValidation") == 0 && sh->ndv < 64) {
        struct xvalidation *v = &sh->dv[sh->ndv++];

        snprintf(v->sqref, sizeof v->sqref, "%s", attr(atts, "sqref"));
        a = attr(atts, "type");
        snprintf(v->type, sizeof v->type, "%s", a ? a : "");
    } else if (sh && strcmp(el, "formula1") == 0) {
        text_reset(p);
        p->capture = 1;
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
    struct xparse *p = ud;
    struct xbook *b = p->book;
    struct xsheet *sh = p->sheet;

    if (strcmp(el, "si") == 0) {
        b->sst = xrealloc(b->sst, (b->nsst + 1) * sizeof *b->sst);
        b->sst[b->nsst++] = strdup(p->text ? p->text : "");
    } else if (strcmp(el, "t") == 0 || strcmp(el, "v") == 0) {
        p->capture = 0;
    } else if (strcmp(el, "cellXfs") == 0) {
        p->in_xfs = 0;
    } else if (strcmp(el, "fonts") == 0) {
        p->in_fonts = 0;
    } else if (sh && strcmp(el, "is") == 0) {
        p->in_is = 0;
    } else if (sh && strcmp(el, "c") == 0) {
        sh->cells[sh->ncells - 1].value = strdup(p->text ? p->text : "");
    } else if (sh && strcmp(el, "formula1") == 0) {
        sh->dv[sh->ndv - 1].formula1 = strdup(p->text);
        p->capture = 0;
    }
}

static char *zip_text(zip_t *z, const char *name)
{
    zip_stat_t st;
    zip_file_t *f;
    char *buf;

    if (zip_stat(z, name, 0, &st) != 0)
        return NULL;
    buf = malloc(st.size + 1);
    assert_non_null(buf);
    f = zip_fopen(z, name, 0);
    assert_non_null(f);
    assert_int_equal(zip_fread(f, buf, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    buf[st.size] = '\0';
    return buf;
}

static void parse_entry(zip_t *z, const char *name, struct xbook *b, struct xsheet *sh)
{
    char *xml = zip_text(z, name);
    struct xparse p = {.book = b, .sheet = sh};
    XML_Parser x;

    assert_non_null(xml);
    x = XML_ParserCreate("UTF-8");
    XML_SetUserData(x, &p);
    XML_SetElementHandler(x, on_start, on_end);
    XML_SetCharacterDataHandler(x, on_text);
    if (XML_Parse(x, xml, (int)strlen(xml), 1) != XML_STATUS_OK)
        fail_msg("%s: %s", name, XML_ErrorString(XML_GetErrorCode(x)));
    XML_ParserFree(x);
    free(p.text);
    free(xml);
}

static void book_read(const unsigned char *data, size_t len, struct xbook *b)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *z;
    char name[64];

    memset(b, 0, sizeof *b);
    zip_error_init(&ze);
    src = zip_source_buffer_create(data, len, 0, &ze);
    assert_non_null(src);
    z = zip_open_from_source(src, ZIP_RDONLY, &ze);
    assert_non_null(z);
    parse_entry(z, "xl/workbook.xml", b, NULL);
    parse_entry(z, "xl/styles.xml", b, NULL);
    if (zip_name_locate(z, "xl/sharedStrings.xml", 0) >= 0)
        parse_entry(z, "xl/sharedStrings.xml", b, NULL);
    /* libxlsxwriter names worksheets sheet1.xml... in workbook order */
    for (size_t i = 0; i < b->nsheets; i++) {
        snprintf(name, sizeof name, "xl/worksheets/sheet%zu.xml", i + 1);
        parse_entry(z, name, b, &b->sheets[i]);
    }
    zip_close(z);
}

static void book_free(struct xbook *b)
{
    for (size_t i = 0; i < b->nsheets; i++) {
        struct xsheet *sh = &b->sheets[i];

        for (size_t c = 0; c < sh->ncells; c++)
            free(sh->cells[c].value);
        for (size_t v = 0; v < sh->ndv; v++)
            free(sh->dv[v].formula1);
        free(sh->cells);
        free(sh->name);
    }
    for (size_t i = 0; i < b->nsst; i++)
        free(b->sst[i]);
    free(b->sst);
    for (size_t i = 0; i < 300; i++)
        free(b->numfmt_code[i]);
}

static struct xsheet *sheet_named(struct xbook *b, const char *name)
{
    for (size_t i = 0; i < b->nsheets; i++)
        if (strcmp(b->sheets[i].name, name) == 0)
            return &b->sheets[i];
    fail_msg("no sheet %s", name);
    return NULL;
}

static void col_letters(unsigned col, char *buf)
{
    char tmp[4];
    int n = 0;

    for (unsigned c = col + 1; c; c = (c - 1) / 26)
        tmp[n++] = (char)('A' + (c - 1) % 26);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

static struct xcell *cell_at(struct xsheet *sh, unsigned row, unsigned col)
{
    char ref[16], letters[4];

    col_letters(col, letters);
    snprintf(ref, sizeof ref, "%s%u", letters, row);
    for (size_t i = 0; i < sh->ncells; i++)
        if (strcmp(sh->cells[i].ref, ref) == 0)
            return &sh->cells[i];
    return NULL;
}

/* The text a cell shows when it is a string cell; NULL for a number or no cell. */
static const char *cell_string(struct xbook *b, struct xsheet *sh, unsigned row, unsigned col)
{
    struct xcell *c = cell_at(sh, row, col);

    if (!c)
        return NULL;
    if (strcmp(c->type, "s") == 0) {
        size_t i = (size_t)atoi(c->value);

        assert_true(i < b->nsst);
        return b->sst[i];
    }
    if (strcmp(c->type, "inlineStr") == 0 || strcmp(c->type, "str") == 0)
        return c->value;
    return NULL;
}

static const char *style_numfmt(struct xbook *b, unsigned style)
{
    unsigned id;

    assert_true(style < b->nxf);
    id = b->xf_numfmt[style];
    if (id == 49)
        return "@";
    if (id == 0)
        return "General";
    if (id < 300 && b->numfmt_code[id])
        return b->numfmt_code[id];
    return "?";
}

static int sst_has(struct xbook *b, const char *s)
{
    for (size_t i = 0; i < b->nsst; i++)
        if (strcmp(b->sst[i], s) == 0)
            return 1;
    return 0;
}

static int sst_contains(struct xbook *b, const char *s)
{
    for (size_t i = 0; i < b->nsst; i++)
        if (strstr(b->sst[i], s))
            return 1;
    return 0;
}

/* The entries of a list validation: an inline "a,b" list, or a range of a sheet of the book. */
static size_t validation_entries(struct xbook *b, const struct xvalidation *v, char out[][256],
                                 size_t max)
{
    const char *f = v->formula1;
    size_t n = 0;

    if (f[0] == '"') {
        char *copy = strdup(f + 1), *save = NULL;

        copy[strlen(copy) - 1] = '\0';
        for (char *tok = strtok_r(copy, ",", &save); tok && n < max;
             tok = strtok_r(NULL, ",", &save))
            snprintf(out[n++], 256, "%s", tok);
        free(copy);
    } else {
        char sheet[64], c1[4], c2[4];
        unsigned r1, r2, col = 0;
        struct xsheet *sh;

        assert_int_equal(sscanf(f, "'%63[^']'!$%3[A-Z]$%u:$%3[A-Z]$%u", sheet, c1, &r1, c2, &r2),
                         5);
        assert_string_equal(c1, c2);
        for (const char *p = c1; *p; p++)
            col = col * 26 + (unsigned)(*p - 'A' + 1);
        sh = sheet_named(b, sheet);
        for (unsigned r = r1; r <= r2 && n < max; r++) {
            const char *s = cell_string(b, sh, r, col - 1);

            assert_non_null(s);
            snprintf(out[n++], 256, "%s", s);
        }
    }
    return n;
}

static const struct xvalidation *validation_of(struct xsheet *sh, unsigned col, unsigned last)
{
    char sqref[64], letters[4];

    col_letters(col, letters);
    snprintf(sqref, sizeof sqref, "%s2:%s%u", letters, letters, last);
    for (size_t i = 0; i < sh->ndv; i++)
        if (strcmp(sh->dv[i].sqref, sqref) == 0)
            return &sh->dv[i];
    return NULL;
}

/* Row 1 of a data sheet: every column's label (+ "*" when required), text formats, drop-downs
 * listing every "code-名称" of the column, nothing else for columns without enums. */
static void check_data_sheet(struct xbook *b, struct xsheet *sh, enum rec_sheet which,
                             unsigned last_row)
{
    size_t ncols;
    const struct rec_column *cols = rec_columns(which, &ncols);
    size_t ndropdowns = 0;

    assert_non_null(cols);
    assert_string_equal(sh->name, rec_sheet_name(which));
    for (size_t c = 0; c < ncols; c++) {
        char head[128], entry[256], got[64][256];
        const char *h = cell_string(b, sh, 1, (unsigned)c);
        const char *fmt = style_numfmt(b, sh->col_style[c]);
        const struct xvalidation *v = validation_of(sh, (unsigned)c, last_row);
        size_t n = 0;

        snprintf(head, sizeof head, "%s%s", cols[c].label, cols[c].required ? "*" : "");
        assert_non_null(h);
        assert_string_equal(h, head);
        assert_ptr_equal(rec_column_by_label(which, h), &cols[c]);
        if (cols[c].kind == REC_TEXT || cols[c].kind == REC_ENUM)
            assert_string_equal(fmt, "@");
        else if (cols[c].kind == REC_DATE)
            assert_string_equal(fmt, "yyyy-mm-dd");
        else
            assert_string_equal(fmt, "General");
        if (cols[c].kind != REC_ENUM) {
            assert_null(v);
            continue;
        }
        assert_non_null(v);
        assert_string_equal(v->type, "list");
        n = validation_entries(b, v, got, 64);
        for (const struct rec_enum *e = cols[c].enums; e->code; e++) {
            assert_true((size_t)(e - cols[c].enums) < n);
            snprintf(entry, sizeof entry, "%s-%s", e->code, e->name);
            assert_string_equal(got[e - cols[c].enums], entry);
        }
        ndropdowns++;
    }
    assert_int_equal(sh->ndv, ndropdowns);
}

/* --- templates ----------------------------------------------------------------------------- */

#define MAX_EXAMPLE_COLS 32

static unsigned col_of(enum rec_sheet sheet, const char *field);

static void check_instructions(struct xbook *b, enum rec_sheet which)
{
    size_t ncols;
    const struct rec_column *cols = rec_columns(which, &ncols);
    char entry[256];

    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].help)
            assert_true(sst_has(b, cols[c].help));
        for (const struct rec_enum *e = cols[c].enums; e && e->code; e++) {
            snprintf(entry, sizeof entry, "%s-%s", e->code, e->name);
            assert_true(sst_contains(b, entry));
        }
    }
}

static void test_template_stations(void **state)
{
    unsigned char *out;
    size_t len;
    char err[256] = "";
    struct xbook b;
    struct xsheet *help, *data;

    (void)state;
    assert_int_equal(xlsxw_template(XLSXW_STATIONS, &out, &len, err, sizeof err), 0);
    assert_true(len > 1000);
    assert_memory_equal(out, "PK", 2);
    book_read(out, len, &b);
    assert_int_equal(b.nsheets, 3);
    assert_string_equal(b.sheets[0].name, "填写说明");
    assert_string_equal(b.sheets[1].name, "充电站");
    assert_string_equal(b.sheets[2].name, "选项");
    assert_false(b.sheets[0].hidden);
    assert_false(b.sheets[1].hidden);
    assert_true(b.sheets[2].hidden);
    data = sheet_named(&b, "充电站");
    check_data_sheet(&b, data, REC_STATIONS, 100001);
    assert_int_equal(data->max_row, 1); /* the example is not on the data sheet */
    assert_true(sst_has(&b, "充电站编号*"));
    assert_true(sst_has(&b, "站点电话"));
    help = sheet_named(&b, "填写说明");
    assert_true(help->max_row > 20);
    check_instructions(&b, REC_STATIONS);
    assert_true(sst_contains(&b, "空格"));
    assert_true(sst_contains(&b, "全角"));
    assert_true(sst_contains(&b, "文本格式"));
    assert_true(sst_contains(&b, "“*”"));
    /* the example station: Zhongshan, in grey italics */
    assert_true(sst_has(&b, "442000"));
    assert_true(sst_has(&b, "ZS2024001"));
    for (size_t i = 0; i < help->ncells; i++)
        if (strcmp(help->cells[i].type, "") == 0 && strcmp(help->cells[i].value, "113.392782") == 0)
            assert_true(b.font_italic[b.xf_font[help->cells[i].style]]);
    book_free(&b);
    free(out);
}

static void test_template_piles(void **state)
{
    unsigned char *out;
    size_t len;
    char err[256] = "";
    struct xbook b;

    (void)state;
    assert_int_equal(xlsxw_template(XLSXW_PILES, &out, &len, err, sizeof err), 0);
    book_read(out, len, &b);
    assert_int_equal(b.nsheets, 4);
    assert_string_equal(b.sheets[0].name, "填写说明");
    assert_string_equal(b.sheets[1].name, "充电桩");
    assert_string_equal(b.sheets[2].name, "充电枪");
    assert_string_equal(b.sheets[3].name, "选项");
    assert_true(b.sheets[3].hidden);
    check_data_sheet(&b, &b.sheets[1], REC_PILES, 100001);
    check_data_sheet(&b, &b.sheets[2], REC_CONNECTORS, 100001);
    assert_int_equal(b.sheets[1].max_row, 1);
    assert_int_equal(b.sheets[2].max_row, 1);
    check_instructions(&b, REC_PILES);
    check_instructions(&b, REC_CONNECTORS);
    assert_true(sst_has(&b, "充电桩编码*"));
    assert_true(sst_contains(&b, "YYYY-MM-DD"));
    assert_true(sst_contains(&b, "接口序号"));
    assert_true(sst_has(&b, "ZS2024001P00101"));
    assert_true(sst_has(&b, "ZS2024001P00102"));
    book_free(&b);
    free(out);
}

/* The example record of the instructions sheet passes every rule of records.c: its values sit
 * in column F (and G for the second connector) of each sheet's rule table, one row per column. */
static void check_examples(struct xbook *b, enum rec_sheet which, char canon[][2][REC_OUT_MAX])
{
    struct xsheet *help = sheet_named(b, "填写说明");
    size_t ncols;
    const struct rec_column *cols = rec_columns(which, &ncols);
    char title[64], today[11], date[11];
    unsigned top = 0;
    time_t t = time(NULL);
    struct tm tm;

    strftime(today, sizeof today, "%Y-%m-%d", gmtime_r(&t, &tm));
    snprintf(title, sizeof title, "“%s”工作表", rec_sheet_name(which));
    for (unsigned r = 1; r <= help->max_row && !top; r++) {
        const char *a = cell_string(b, help, r, 0);

        if (a && strcmp(a, title) == 0)
            top = r;
    }
    assert_true(top > 0);
    for (size_t c = 0; c < ncols; c++) {
        unsigned row = top + 2 + (unsigned)c;
        char head[128];

        snprintf(head, sizeof head, "%s%s", cols[c].label, cols[c].required ? "*" : "");
        assert_string_equal(cell_string(b, help, row, 0), head);
        for (unsigned i = 0; i < (which == REC_CONNECTORS ? 2u : 1u); i++) {
            struct xcell *cell = cell_at(help, row, 5 + i);
            enum rec_cell kind = REC_CELL_EMPTY;
            const char *text = NULL;
            struct rec_problem p;

            if (cell && strcmp(cell->type, "") == 0 && cell->value[0]) {
                kind = REC_CELL_NUMBER;
                text = cell->value;
                if (strcmp(style_numfmt(b, (unsigned)cell->style), "yyyy-mm-dd") == 0) {
                    time_t day = (time_t)(atol(cell->value) - 25569) * 86400;

                    strftime(date, sizeof date, "%Y-%m-%d", gmtime_r(&day, &tm));
                    kind = REC_CELL_DATE;
                    text = date;
                }
            } else if (cell && (text = cell_string(b, help, row, 5 + i)) && *text) {
                kind = REC_CELL_STRING;
                assert_true(b->font_italic[b->xf_font[cell->style]]);
            }
            if (cols[c].required)
                assert_int_not_equal(kind, REC_CELL_EMPTY);
            if (rec_check_value(&cols[c], kind, text, today, canon[c][i], REC_OUT_MAX, &p) != 0)
                fail_msg("example %s of %s: %s (%s)", text ? text : "(empty)", cols[c].label,
                         p.reason, p.code);
        }
    }
}

static void test_template_examples_valid(void **state)
{
    static char canon[3][MAX_EXAMPLE_COLS][2][REC_OUT_MAX];
    unsigned char *out;
    size_t len, n;
    char err[256];
    struct xbook b;
    const char *values[2][MAX_EXAMPLE_COLS];
    const struct rec_column *cols;
    size_t bad;
    struct rec_problem p;

    (void)state;
    assert_int_equal(xlsxw_template(XLSXW_STATIONS, &out, &len, err, sizeof err), 0);
    book_read(out, len, &b);
    check_examples(&b, REC_STATIONS, canon[0]);
    book_free(&b);
    free(out);
    assert_int_equal(xlsxw_template(XLSXW_PILES, &out, &len, err, sizeof err), 0);
    book_read(out, len, &b);
    check_examples(&b, REC_PILES, canon[1]);
    check_examples(&b, REC_CONNECTORS, canon[2]);
    book_free(&b);
    free(out);
    /* the connectors agree with each other and with their pile */
    cols = rec_columns(REC_CONNECTORS, &n);
    assert_true(n <= MAX_EXAMPLE_COLS);
    for (size_t c = 0; c < n; c++)
        for (int i = 0; i < 2; i++)
            values[i][c] = canon[2][c][i];
    for (int i = 0; i < 2; i++) {
        if (rec_check_connector(values[i], canon[1][col_of(REC_PILES, "power")][0], &bad, &p))
            fail_msg("example connector %d: %s: %s", i + 1, cols[bad].label, p.reason);
        assert_string_equal(values[i][col_of(REC_CONNECTORS, "equipment_id")],
                            canon[1][col_of(REC_PILES, "equipment_id")][0]);
        assert_int_equal(atoi(values[i][col_of(REC_CONNECTORS, "ocpp_connector_id")]), i + 1);
    }
    assert_string_equal(canon[1][col_of(REC_PILES, "station_id")][0],
                        canon[0][col_of(REC_STATIONS, "station_id")][0]);
    assert_string_equal(canon[0][col_of(REC_STATIONS, "area_code")][0], "442000");
}

static void test_template_bad_book(void **state)
{
    unsigned char *out = (unsigned char *)"x";
    size_t len = 1;
    char err[256] = "";

    (void)state;
    assert_int_equal(xlsxw_template((enum xlsxw_book)7, &out, &len, err, sizeof err), -1);
    assert_null(out);
    assert_true(strlen(err) > 0);
}

/* --- exports ------------------------------------------------------------------------------- */

static const char stations_json[] =
    "[{\"station_id\": \"001ABC\", \"name\": \"中山<东区>&\\\"兴中\\\"'𠮷'充电站\","
    "  \"area_code\": \"442000\", \"address\": \"兴中道6号  B1\", \"station_tel\": 76088886666,"
    "  \"service_tel\": \"400-800-8888\", \"station_type\": 1, \"station_status\": \"50\","
    "  \"park_nums\": 20, \"lng\": 113.392782, \"lat\": \"22.517645\", \"construction\": 9,"
    "  \"site_guide\": null, \"business_hours\": \"\", \"support_order\": 77,"
    "  \"status\": \"accessed\", \"company_name\": \"中山绿能\", \"application_id\": 12,"
    "  \"updated_at\": \"2026-11-25T20:40:00Z\", \"pile_count\": 3},"
    " {\"station_id\": \"ZS2\", \"name\": \"第二站\", \"area_code\": \"442000\","
    "  \"address\": \"x\", \"service_tel\": \"0760-1\", \"station_type\": 255,"
    "  \"station_status\": 0, \"park_nums\": 0, \"lng\": 113.1, \"lat\": 22.1,"
    "  \"construction\": 255, \"status\": \"draft\"}]";

static const char piles_json[] =
    "[{\"equipment_id\": \"P001\", \"station_id\": \"001ABC\", \"production_date\": "
    "\"2023-06-15\", \"equipment_type\": 1, \"power\": 120, \"protocol\": \"ocpp1.6\","
    "  \"status\": \"submitted\", \"station_name\": \"中山站\", \"lng\": null,"
    "  \"connectors\": [{\"connector_id\": \"P00101\", \"ocpp_connector_id\": 1,"
    "    \"connector_type\": 4, \"voltage_upper_limits\": 750, \"voltage_lower_limits\": 200,"
    "    \"current\": 100, \"power\": 60.5, \"national_standard\": 2, \"park_no\": \"B1-018\"},"
    "   {\"connector_id\": \"P00102\", \"ocpp_connector_id\": 2, \"connector_type\": \"4\","
    "    \"voltage_upper_limits\": 750, \"voltage_lower_limits\": 200, \"current\": 100,"
    "    \"power\": 60, \"national_standard\": 2}]},"
    " {\"equipment_id\": \"P002\", \"station_id\": \"ZS2\", \"equipment_type\": 2,"
    "  \"power\": 7, \"protocol\": \"platform\", \"status\": \"rejected\","
    "  \"production_date\": \"not a date\","
    "  \"connectors\": [{\"connector_id\": \"P00201\", \"ocpp_connector_id\": 1,"
    "    \"connector_type\": 2, \"voltage_upper_limits\": 220, \"voltage_lower_limits\": 220,"
    "    \"current\": 32, \"power\": 7, \"national_standard\": 2}]}]";

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);

    if (!j)
        fail_msg("json: %s", je.text);
    return j;
}

static unsigned col_of(enum rec_sheet sheet, const char *field)
{
    size_t n;
    const struct rec_column *cols = rec_columns(sheet, &n);

    for (size_t c = 0; c < n; c++)
        if (strcmp(cols[c].field, field) == 0)
            return (unsigned)c;
    fail_msg("no field %s", field);
    return 0;
}

static const char *enum_text(enum rec_sheet sheet, const char *field, const char *code)
{
    static char buf[256];
    size_t n;
    const struct rec_column *cols = rec_columns(sheet, &n);
    const struct rec_column *col = &cols[col_of(sheet, field)];

    for (const struct rec_enum *e = col->enums; e && e->code; e++)
        if (strcmp(e->code, code) == 0) {
            snprintf(buf, sizeof buf, "%s-%s", e->code, e->name);
            return buf;
        }
    fail_msg("no code %s in %s", code, field);
    return NULL;
}

static void assert_text(struct xbook *b, struct xsheet *sh, unsigned row, unsigned col,
                        const char *want)
{
    struct xcell *c = cell_at(sh, row, col);
    const char *got = cell_string(b, sh, row, col);

    if (!got)
        fail_msg("%s row %u col %u: no text (want %s)", sh->name, row, col, want);
    assert_string_equal(got, want);
    assert_string_equal(style_numfmt(b, (unsigned)c->style), "@");
}

static void assert_number(struct xsheet *sh, unsigned row, unsigned col, double want)
{
    struct xcell *c = cell_at(sh, row, col);

    if (!c || strcmp(c->type, "") != 0)
        fail_msg("%s row %u col %u: not a number", sh->name, row, col);
    assert_true(strtod(c->value, NULL) == want);
}

static void test_export_stations(void **state)
{
    json_t *items = load(stations_json);
    unsigned char *out;
    size_t len, ncols;
    char err[256] = "";
    struct xbook b;
    struct xsheet *sh;

    (void)state;
    rec_columns(REC_STATIONS, &ncols);
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, items, &out, &len, err, sizeof err), 0);
    book_read(out, len, &b);
    assert_int_equal(b.nsheets, 2);
    assert_true(b.sheets[1].hidden);
    sh = sheet_named(&b, "充电站");
    check_data_sheet(&b, sh, REC_STATIONS, 100001);
    assert_int_equal(sh->max_row, 3);
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "station_id"), "001ABC");
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "name"), "中山<东区>&\"兴中\"'𠮷'充电站");
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "address"), "兴中道6号  B1"); /* verbatim */
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "area_code"), "442000");
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "station_tel"), "76088886666");
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "station_type"),
                enum_text(REC_STATIONS, "station_type", "1"));
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "station_status"),
                enum_text(REC_STATIONS, "station_status", "50"));
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "construction"),
                enum_text(REC_STATIONS, "construction", "9"));
    assert_text(&b, sh, 2, col_of(REC_STATIONS, "support_order"), "77"); /* unknown code */
    assert_number(sh, 2, col_of(REC_STATIONS, "park_nums"), 20);
    assert_number(sh, 2, col_of(REC_STATIONS, "lng"), 113.392782);
    assert_number(sh, 2, col_of(REC_STATIONS, "lat"), 22.517645); /* numeric string */
    assert_null(cell_at(sh, 2, col_of(REC_STATIONS, "site_guide")));
    assert_null(cell_at(sh, 2, col_of(REC_STATIONS, "business_hours")));
    assert_null(cell_at(sh, 2, col_of(REC_STATIONS, "remark")));
    /* read-only columns after the template's */
    assert_text(&b, sh, 1, (unsigned)ncols, "状态");
    assert_text(&b, sh, 1, (unsigned)ncols + 1, "运营商");
    assert_null(rec_column_by_label(REC_STATIONS, "状态"));
    assert_text(&b, sh, 2, (unsigned)ncols, "已接入");
    assert_text(&b, sh, 3, (unsigned)ncols, "草稿");
    assert_text(&b, sh, 2, (unsigned)ncols + 1, "中山绿能");
    assert_text(&b, sh, 2, (unsigned)ncols + 2, "12");
    assert_text(&b, sh, 2, (unsigned)ncols + 3, "2026-11-25T20:40:00Z");
    assert_null(cell_at(sh, 3, (unsigned)ncols + 1));
    assert_number(sh, 3, col_of(REC_STATIONS, "park_nums"), 0);
    assert_text(&b, sh, 3, col_of(REC_STATIONS, "station_status"),
                enum_text(REC_STATIONS, "station_status", "0"));
    book_free(&b);
    free(out);
    json_decref(items);
}

static void test_export_piles(void **state)
{
    json_t *items = load(piles_json);
    unsigned char *out;
    size_t len, ncols;
    char err[256] = "";
    struct xbook b;
    struct xsheet *piles, *conns;
    struct xcell *c;

    (void)state;
    rec_columns(REC_PILES, &ncols);
    assert_int_equal(xlsxw_export(XLSXW_PILES, items, &out, &len, err, sizeof err), 0);
    book_read(out, len, &b);
    assert_int_equal(b.nsheets, 3);
    piles = sheet_named(&b, "充电桩");
    conns = sheet_named(&b, "充电枪");
    check_data_sheet(&b, piles, REC_PILES, 100001);
    check_data_sheet(&b, conns, REC_CONNECTORS, 100001);
    assert_int_equal(piles->max_row, 3);
    assert_int_equal(conns->max_row, 4);
    assert_text(&b, piles, 2, col_of(REC_PILES, "equipment_id"), "P001");
    assert_text(&b, piles, 2, col_of(REC_PILES, "station_id"), "001ABC");
    /* 2023-06-15 is Excel day 45092, shown yyyy-mm-dd */
    c = cell_at(piles, 2, col_of(REC_PILES, "production_date"));
    assert_non_null(c);
    assert_string_equal(c->type, "");
    assert_string_equal(c->value, "45092");
    assert_string_equal(style_numfmt(&b, (unsigned)c->style), "yyyy-mm-dd");
    assert_text(&b, piles, 3, col_of(REC_PILES, "production_date"), "not a date");
    assert_number(piles, 2, col_of(REC_PILES, "power"), 120);
    assert_null(cell_at(piles, 2, col_of(REC_PILES, "lng")));
    assert_text(&b, piles, 2, col_of(REC_PILES, "protocol"),
                enum_text(REC_PILES, "protocol", "ocpp1.6"));
    assert_text(&b, piles, 3, col_of(REC_PILES, "protocol"),
                enum_text(REC_PILES, "protocol", "platform"));
    assert_text(&b, piles, 1, (unsigned)ncols, "状态");
    assert_text(&b, piles, 2, (unsigned)ncols, "已提交");
    assert_text(&b, piles, 3, (unsigned)ncols, "已驳回");
    assert_text(&b, piles, 2, (unsigned)ncols + 1, "中山站");
    /* connectors carry their pile's code, in order */
    assert_text(&b, conns, 2, col_of(REC_CONNECTORS, "equipment_id"), "P001");
    assert_text(&b, conns, 3, col_of(REC_CONNECTORS, "equipment_id"), "P001");
    assert_text(&b, conns, 4, col_of(REC_CONNECTORS, "equipment_id"), "P002");
    assert_text(&b, conns, 2, col_of(REC_CONNECTORS, "connector_id"), "P00101");
    assert_text(&b, conns, 4, col_of(REC_CONNECTORS, "connector_id"), "P00201");
    assert_number(conns, 3, col_of(REC_CONNECTORS, "ocpp_connector_id"), 2);
    assert_number(conns, 2, col_of(REC_CONNECTORS, "power"), 60.5);
    assert_text(&b, conns, 2, col_of(REC_CONNECTORS, "connector_type"),
                enum_text(REC_CONNECTORS, "connector_type", "4"));
    assert_text(&b, conns, 3, col_of(REC_CONNECTORS, "connector_type"),
                enum_text(REC_CONNECTORS, "connector_type", "4"));
    assert_text(&b, conns, 2, col_of(REC_CONNECTORS, "park_no"), "B1-018");
    assert_null(cell_at(conns, 3, col_of(REC_CONNECTORS, "park_no")));
    book_free(&b);
    free(out);
    json_decref(items);
}

static void test_export_empty_and_errors(void **state)
{
    json_t *items = json_array();
    unsigned char *out;
    size_t len;
    char err[256] = "";
    struct xbook b;

    (void)state;
    assert_int_equal(xlsxw_export(XLSXW_PILES, items, &out, &len, err, sizeof err), 0);
    book_read(out, len, &b);
    assert_int_equal(b.sheets[0].max_row, 1);
    assert_int_equal(b.sheets[1].max_row, 1);
    book_free(&b);
    free(out);

    json_array_append_new(items, json_string("not an object"));
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, items, &out, &len, err, sizeof err), -1);
    assert_null(out);
    assert_non_null(strstr(err, "item 0"));
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, NULL, &out, &len, err, sizeof err), -1);
    json_decref(items);

    /* a value too long for a cell is refused, not cut */
    items = load("[{\"station_id\": \"A\", \"connectors\": []}]");
    {
        char *big = malloc(40000);

        memset(big, 'x', 39999);
        big[39999] = '\0';
        json_object_set_new(json_array_get(items, 0), "remark", json_string(big));
        free(big);
    }
    err[0] = '\0';
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, items, &out, &len, err, sizeof err), -1);
    assert_null(out);
    assert_true(strlen(err) > 0);
    json_decref(items);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_export_100k_stations(void **state)
{
    enum { N = 100000 };
    if (getenv("XLSXW_SKIP_BIG"))
        skip(); /* before anything is allocated: skip() does not return */
    json_t *items = json_array(), *sample = load(stations_json), *proto = json_array_get(sample, 0);
    unsigned char *out;
    size_t len;
    char err[256] = "", id[32], needle[32];
    double t0, t1;
    long rss0, rss1;
    zip_error_t ze;
    zip_t *z;
    char *xml;

    (void)state;
    for (int i = 0; i < N; i++) {
        json_t *s = json_deep_copy(proto);

        snprintf(id, sizeof id, "ZS%08d", i);
        json_object_set_new(s, "station_id", json_string(id));
        json_object_set_new(s, "park_nums", json_integer(i % 500));
        json_array_append_new(items, s);
    }
    rss0 = max_rss_kb();
    t0 = now();
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, items, &out, &len, err, sizeof err), 0);
    t1 = now();
    rss1 = max_rss_kb();
    print_message("export of %d stations: %.2f s, %zu bytes, max RSS %ld -> %ld kB\n", N, t1 - t0,
                  len, rss0, rss1);
    zip_error_init(&ze);
    z = zip_open_from_source(zip_source_buffer_create(out, len, 0, &ze), ZIP_RDONLY, &ze);
    assert_non_null(z);
    xml = zip_text(z, "xl/worksheets/sheet1.xml");
    assert_non_null(xml);
    snprintf(needle, sizeof needle, "r=\"A%d\"", N + 1);
    assert_non_null(strstr(xml, needle));
    snprintf(needle, sizeof needle, "ZS%08d<", N - 1);
    assert_non_null(strstr(xml, needle));
    free(xml);
    zip_close(z);
    free(out);
    json_decref(items);
    json_decref(sample);
}

/* --- round trip through the importer's reader ------------------------------------------------ */

/* Valid records: what the export writes, the importer's reader reads back and records.c accepts,
 * each value canonically equal to the API's. */
static const char valid_stations_json[] =
    "[{\"station_id\": \"001ABC\", \"name\": \"中山<东区>&\\\"兴中\\\"'𠮷'充电站\","
    "  \"area_code\": \"442000\", \"address\": \"兴中道6号 B1\", \"station_tel\": \"0760-8888\","
    "  \"service_tel\": \"400-800-8888\", \"station_type\": 1, \"station_status\": 50,"
    "  \"park_nums\": 20, \"lng\": 113.392782, \"lat\": 22.517645, \"construction\": 9,"
    "  \"support_order\": 1, \"payment\": \"线上、刷卡\", \"status\": \"accessed\"},"
    " {\"station_id\": \"ZS2\", \"name\": \"第二站\", \"area_code\": \"442000\","
    "  \"address\": \"x\", \"service_tel\": \"0760-1\", \"station_type\": 255,"
    "  \"station_status\": 0, \"park_nums\": 0, \"lng\": 113.1, \"lat\": 22.1,"
    "  \"construction\": 255}]";

static const char valid_piles_json[] =
    "[{\"equipment_id\": \"P001\", \"station_id\": \"001ABC\", \"production_date\": "
    "\"2023-06-15\", \"equipment_type\": 1, \"power\": 120, \"protocol\": \"ocpp1.6\","
    "  \"manufacturer_id\": \"007\", \"lng\": 113.39, \"lat\": 22.5,"
    "  \"connectors\": [{\"connector_id\": \"P00101\", \"ocpp_connector_id\": 1,"
    "    \"connector_type\": 4, \"voltage_upper_limits\": 750, \"voltage_lower_limits\": 200,"
    "    \"current\": 100, \"power\": 60.5, \"national_standard\": 2, \"park_no\": \"B1-018\"},"
    "   {\"connector_id\": \"P00102\", \"ocpp_connector_id\": 2, \"connector_type\": 4,"
    "    \"voltage_upper_limits\": 750, \"voltage_lower_limits\": 200, \"current\": 100,"
    "    \"power\": 60, \"national_standard\": 2}]},"
    " {\"equipment_id\": \"P002\", \"station_id\": \"ZS2\", \"equipment_type\": 2,"
    "  \"power\": 7, \"protocol\": \"platform\","
    "  \"connectors\": [{\"connector_id\": \"P00201\", \"ocpp_connector_id\": 1,"
    "    \"connector_type\": 2, \"voltage_upper_limits\": 220, \"voltage_lower_limits\": 220,"
    "    \"current\": 32, \"power\": 7, \"national_standard\": 2}]}]";

struct reread {
    enum rec_sheet sheet;
    const json_t *records; /* expected, one per data row */
    const json_t *parents; /* piles, for the connectors' equipment_id */
    int header_seen;
    size_t rows;
    const struct rec_column *by_col[64];
};

/* The expected canonical text of field `f` of record `r`: its JSON value as text. */
static void expected_text(const json_t *v, char *buf, size_t len)
{
    if (!v || json_is_null(v))
        snprintf(buf, len, "%s", "");
    else if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, len, "%.15g", json_number_value(v));
}

static int on_reread_row(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    struct reread *rr = arg;
    size_t ncols;
    const struct rec_column *cols = rec_columns(rr->sheet, &ncols);
    const json_t *rec, *owner = NULL;
    int seen[64] = {0};

    if (!rr->header_seen) {
        rr->header_seen = 1;
        for (size_t i = 0; i < n; i++) {
            char label[128];

            assert_int_equal(cells[i].type, XLSX_STRING);
            snprintf(label, sizeof label, "%.*s", (int)cells[i].len, cells[i].text);
            assert_true(cells[i].col < 64);
            rr->by_col[cells[i].col] = rec_column_by_label(rr->sheet, label);
            if (cells[i].col < ncols) /* the template's columns, then read-only ones */
                assert_ptr_equal(rr->by_col[cells[i].col], &cols[cells[i].col]);
            else
                assert_null(rr->by_col[cells[i].col]);
        }
        return 0;
    }
    if (rr->sheet == REC_CONNECTORS) { /* the records are the piles' connectors, in order */
        size_t k = 0, i, j;
        const json_t *pile, *conn;

        rec = NULL;
        json_array_foreach(rr->parents, i, pile)
        {
            json_array_foreach(json_object_get(pile, "connectors"), j, conn)
            {
                if (k++ == rr->rows) {
                    rec = conn;
                    owner = pile;
                }
            }
        }
    } else {
        rec = json_array_get(rr->records, rr->rows);
    }
    assert_non_null(rec);
    assert_int_equal(row, rr->rows + 2);
    rr->rows++;
    for (size_t i = 0; i < n; i++) {
        const struct rec_column *col = cells[i].col < 64 ? rr->by_col[cells[i].col] : NULL;
        enum rec_cell kind = cells[i].type == XLSX_NUMBER ? REC_CELL_NUMBER
                             : cells[i].type == XLSX_DATE ? REC_CELL_DATE
                                                          : REC_CELL_STRING;
        char canon[REC_OUT_MAX], want[256];
        struct rec_problem p;
        const json_t *v;

        if (!col)
            continue;
        assert_int_not_equal(cells[i].type, XLSX_BOOL);
        seen[col - cols] = 1;
        if (rec_check_value(col, kind, cells[i].text, NULL, canon, sizeof canon, &p) != 0)
            fail_msg("%s row %u %s: %s: %s", rec_sheet_name(rr->sheet), row, col->label,
                     cells[i].text, p.reason);
        v = owner && strcmp(col->field, "equipment_id") == 0
                ? json_object_get(owner, "equipment_id")
                : json_object_get(rec, col->field);
        expected_text(v, want, sizeof want);
        assert_string_equal(canon, want);
    }
    for (size_t c = 0; c < ncols; c++) /* nothing the record has is missing */
        if (!seen[c] && !(owner && strcmp(cols[c].field, "equipment_id") == 0))
            assert_null(json_object_get(rec, cols[c].field));
    return 0;
}

static void reread(const unsigned char *data, size_t len, enum rec_sheet sheet,
                   const json_t *records, const json_t *parents, size_t want_rows)
{
    struct xlsx_book *book = NULL;
    struct reread rr = {.sheet = sheet, .records = records, .parents = parents};
    char err[256];

    if (xlsx_open_mem(data, len, NULL, &book, err, sizeof err) != XLSX_OK)
        fail_msg("xlsx_open_mem: %s", err);
    if (xlsx_read_sheet(book, rec_sheet_name(sheet), on_reread_row, &rr, err, sizeof err) !=
        XLSX_OK)
        fail_msg("xlsx_read_sheet: %s", err);
    xlsx_close(book);
    assert_true(rr.header_seen);
    assert_int_equal(rr.rows, want_rows);
}

static void test_export_reimports(void **state)
{
    json_t *stations = load(valid_stations_json), *piles = load(valid_piles_json);
    unsigned char *out;
    size_t len;
    char err[256];

    (void)state;
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, stations, &out, &len, err, sizeof err), 0);
    reread(out, len, REC_STATIONS, stations, NULL, 2);
    free(out);
    assert_int_equal(xlsxw_export(XLSXW_PILES, piles, &out, &len, err, sizeof err), 0);
    reread(out, len, REC_PILES, piles, NULL, 2);
    reread(out, len, REC_CONNECTORS, NULL, piles, 3);
    free(out);
    json_decref(stations);
    json_decref(piles);
}

/* --- openpyxl ------------------------------------------------------------------------------ */

static const char openpyxl_check[] =
    "import sys, datetime, openpyxl\n"
    "from openpyxl.utils import column_index_from_string\n"
    "d = sys.argv[1]\n"
    "def lists(wb, ws):\n"
    "    out = {}\n"
    "    for v in ws.data_validations.dataValidation:\n"
    "        assert v.type == 'list', v.type\n"
    "        rng = str(v.sqref)\n"
    "        col = rng.split(':')[0].rstrip('0123456789')\n"
    "        assert rng == col + '2:' + col + '100001', rng\n"
    "        f = v.formula1\n"
    "        if f.startswith('\"'):\n"
    "            items = f[1:-1].split(',')\n"
    "        else:\n"
    "            sheet, cells = f.split('!')\n"
    "            items = [c[0].value for c in wb[sheet.strip(\"'\")][cells.replace('$', '')]]\n"
    "        out[ws.cell(1, column_index_from_string(col)).value] = items\n"
    "    return out\n"
    "wb = openpyxl.load_workbook(d + '/stations.xlsx')\n"
    "assert wb.sheetnames == ['填写说明', '充电站', '选项'], wb.sheetnames\n"
    "assert wb['选项'].sheet_state == 'hidden'\n"
    "ws = wb['充电站']\n"
    "assert ws['A1'].value == '充电站编号*', ws['A1'].value\n"
    "assert ws.max_row == 1, ws.max_row\n"
    "assert ws.freeze_panes == 'A2', ws.freeze_panes\n"
    "assert ws.column_dimensions['A'].number_format == '@'\n"
    "l = lists(wb, ws)\n"
    "assert l['站点类型*'][0] == '1-公共' and '255-其他' in l['站点类型*'], l\n"
    "assert len(l['建设场所*']) == 12 and '是否支持预约' in l, l\n"
    "wb = openpyxl.load_workbook(d + '/piles.xlsx')\n"
    "assert wb.sheetnames == ['填写说明', '充电桩', '充电枪', '选项'], wb.sheetnames\n"
    "assert wb['充电枪']['B1'].value == '充电桩编码*', wb['充电枪']['B1'].value\n"
    "l = lists(wb, wb['充电桩'])\n"
    "assert l['接入协议*'] == ['ocpp1.6-OCPP 1.6J', 'ocpp2.0.1-OCPP 2.0.1', "
    "'platform-经运营商平台上报'], l\n"
    "l = lists(wb, wb['充电枪'])\n"
    "assert l['国家标准*'] == ['1-2011', '2-2015'] and len(l['接口类型*']) == 6, l\n"
    "assert wb['充电桩'].column_dimensions['F'].number_format == 'yyyy-mm-dd'\n"
    "wb = openpyxl.load_workbook(d + '/export_piles.xlsx')\n"
    "ws = wb['充电桩']\n"
    "hdr = [c.value for c in ws[1]]\n"
    "row = dict(zip(hdr, [c.value for c in ws[2]]))\n"
    "assert row['充电桩编码*'] == 'P001', row\n"
    "assert row['生产日期'] == datetime.datetime(2023, 6, 15), row\n"
    "assert row['额定功率(kW)*'] == 120, row\n"
    "assert row['状态'] == '已提交', row\n"
    "ws = wb['充电枪']\n"
    "assert [r[1].value for r in ws.iter_rows(min_row=2)] == ['P001', 'P001', 'P002']\n"
    "wb = openpyxl.load_workbook(d + '/export_stations.xlsx')\n"
    "ws = wb['充电站']\n"
    "assert ws['A2'].value == '001ABC' and ws['A2'].number_format == '@'\n"
    "row = dict(zip([c.value for c in ws[1]], [c.value for c in ws[2]]))\n"
    "assert row['经度*'] == 113.392782 and row['车位数量*'] == 20, row\n"
    "assert row['站点类型*'].startswith('1-') and row['状态'] == '已接入', row\n"
    "print('openpyxl', openpyxl.__version__, 'ok')\n";

static int run(const char *cmd)
{
    int rc = system(cmd);

    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_file(const char *dir, const char *name, const unsigned char *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_openpyxl_reads(void **state)
{
    static const char *const names[4] = {"stations.xlsx", "piles.xlsx", "export_stations.xlsx",
                                         "export_piles.xlsx"};
    const char *python = getenv("PYTHON3");
    char dir[] = "/tmp/xlsxw-test-XXXXXX", cmd[1024];
    unsigned char *out[4];
    size_t len[4];
    char err[256];
    json_t *stations = load(stations_json), *piles = load(piles_json);
    int rc;

    (void)state;
    if (!python || !*python)
        python = "/usr/bin/python3";
    snprintf(cmd, sizeof cmd, "%s -c 'import openpyxl' 2>/dev/null", python);
    if (run(cmd) != 0) {
        json_decref(stations);
        json_decref(piles);
        print_message("openpyxl not installed for %s: skipped\n", python);
        skip();
    }
    /* every file is made before the directory, so a failure leaves nothing behind */
    assert_int_equal(xlsxw_template(XLSXW_STATIONS, &out[0], &len[0], err, sizeof err), 0);
    assert_int_equal(xlsxw_template(XLSXW_PILES, &out[1], &len[1], err, sizeof err), 0);
    assert_int_equal(xlsxw_export(XLSXW_STATIONS, stations, &out[2], &len[2], err, sizeof err), 0);
    assert_int_equal(xlsxw_export(XLSXW_PILES, piles, &out[3], &len[3], err, sizeof err), 0);
    json_decref(stations);
    json_decref(piles);
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 4; i++) {
        write_file(dir, names[i], out[i], len[i]);
        free(out[i]);
    }
    write_file(dir, "check.py", (const unsigned char *)openpyxl_check, strlen(openpyxl_check));
    snprintf(cmd, sizeof cmd, "%s %s/check.py %s", python, dir, dir);
    rc = run(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    run(cmd);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_stations),       cmocka_unit_test(test_template_piles),
        cmocka_unit_test(test_template_examples_valid), cmocka_unit_test(test_template_bad_book),
        cmocka_unit_test(test_export_stations),         cmocka_unit_test(test_export_piles),
        cmocka_unit_test(test_export_empty_and_errors), cmocka_unit_test(test_export_reimports),
        cmocka_unit_test(test_export_100k_stations),    cmocka_unit_test(test_openpyxl_reads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
