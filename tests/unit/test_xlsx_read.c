/* Unit tests of mgmt/xlsx_read.c: the same logical workbook written by openpyxl, LibreOffice (from
 * an .fods and from a CSV) and libxlsxwriter (two modes, written here at run time) reads the same;
 * hand-made packages cover the quirks of other writers; hostile packages built with libzip (not
 * a zip, DOCTYPEs, bombs, limits) are refused with the right code, quickly and in bounded memory.
 */
#include "mgmt/xlsx_read.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xlsxwriter.h>
#include <zip.h>

#ifndef XLSX_FIXTURES
#error "XLSX_FIXTURES (the fixtures directory) must be defined by the build"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char tmpdir[] = "/tmp/evgate-xlsx-XXXXXX";

static long max_rss_kb(void);

/* ---- reading a sheet into text ---- */

struct dump {
    char *buf;
    size_t len, cap;
    unsigned rows;
    int with_raw;
    int stop_after; /* callback returns 7 after this many rows, if non-zero */
};

static void dump_add(struct dump *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (d->len + (size_t)n + 1 > d->cap) {
        d->cap = (d->len + (size_t)n + 1) * 2;
        d->buf = realloc(d->buf, d->cap);
        assert_non_null(d->buf);
    }
    va_start(ap, fmt);
    vsnprintf(d->buf + d->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    d->len += (size_t)n;
}

static int dump_row(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    static const char types[] = "-snbde";
    struct dump *d = arg;
    d->rows++;
    dump_add(d, "%u:", row);
    for (size_t i = 0; i < n; i++) {
        char col[4];
        xlsx_col_name(cells[i].col, col);
        assert_int_equal(strlen(cells[i].text), cells[i].len); /* NUL-terminated, no NUL inside */
        assert_true(cells[i].len > 0);
        if (i)
            assert_true(cells[i].col > cells[i - 1].col);
        dump_add(d, " %s=%c[%s]", col, types[cells[i].type], cells[i].text);
        if (d->with_raw && cells[i].raw != cells[i].text)
            dump_add(d, "(%s)", cells[i].raw);
    }
    dump_add(d, "\n");
    return d->stop_after && d->rows >= (unsigned)d->stop_after ? 7 : 0;
}

/* Reads sheet `name` of `book`; returns the xlsx status, the rows in *out (caller frees). */
static int read_sheet(struct xlsx_book *book, const char *name, int with_raw, char **out, char *err,
                      size_t errlen)
{
    struct dump d = {.with_raw = with_raw};
    dump_add(&d, "%s", "");
    int rc = xlsx_read_sheet(book, name, dump_row, &d, err, errlen);
    *out = d.buf;
    return rc;
}

static char *sheet_list(struct xlsx_book *book)
{
    struct dump d = {0};
    dump_add(&d, "%s", "");
    for (size_t i = 0; i < xlsx_sheet_count(book); i++)
        dump_add(&d, "%s%s/%d", i ? " " : "", xlsx_sheet_name(book, i), xlsx_sheet_state(book, i));
    return d.buf;
}

/* ---- the logical content every producer writes (see fixtures/xlsx/make_fixtures.sh) ---- */

static const char expected_rows[] =
    "1: A=s[充电桩编码] B=s[名称] C=s[额定功率(kW)] D=s[单价] E=s[生产日期] F=s[日期序列] "
    "G=s[备注]\n"
    "2: A=s[P001] B=s[  lead  double trail  ] C=n[60] D=n[113.123456] E=d[2024-03-15] F=n[45366] "
    "G=s[Bold plain]\n"
    "4: A=s[P002] B=s[广州充电站] C=n[7] G=s[inline]\n"
    "5: A=s[P003] B=b[TRUE] C=n[-1.5] D=n[0.001] E=d[2024-03-15 08:30:00]\n";

static const char expected_sheets[] = "充电桩/0 Extra/0 Hidden/1";

static void check_logical(const char *path, int whole_book)
{
    struct xlsx_book *book = NULL;
    char err[256] = "", *rows;
    int rc = xlsx_open(path, NULL, &book, err, sizeof err);
    if (rc)
        fail_msg("%s: %d %s", path, rc, err);
    rc = read_sheet(book, xlsx_sheet_name(book, 0), 0, &rows, err, sizeof err);
    if (rc)
        fail_msg("%s: %d %s", path, rc, err);
    if (strcmp(rows, expected_rows))
        fail_msg("%s reads\n%s", path, rows);
    free(rows);
    if (whole_book) {
        char *names = sheet_list(book);
        assert_string_equal(names, expected_sheets);
        free(names);
        assert_int_equal(read_sheet(book, "Extra", 0, &rows, err, sizeof err), XLSX_OK);
        assert_string_equal(rows, "1: A=s[extra] B=n[1]\n");
        free(rows);
        assert_int_equal(read_sheet(book, "hidden", 0, &rows, err, sizeof err), XLSX_OK);
        assert_string_equal(rows, "1: A=s[secret]\n");
        free(rows);
        /* a sheet can be read again */
        assert_int_equal(read_sheet(book, "充电桩", 0, &rows, err, sizeof err), XLSX_OK);
        assert_string_equal(rows, expected_rows);
        free(rows);
    }
    xlsx_close(book);
}

static void test_openpyxl(void **state)
{
    (void)state; /* inline strings, absolute relationship targets */
    check_logical(XLSX_FIXTURES "/openpyxl.xlsx", 1);
}

static void test_libreoffice(void **state)
{
    (void)state; /* shared strings with rich-text runs, custom date formats */
    check_logical(XLSX_FIXTURES "/libreoffice.xlsx", 1);
}

static void test_libreoffice_csv(void **state)
{
    (void)state; /* one sheet, named after the file; types detected by LibreOffice */
    check_logical(XLSX_FIXTURES "/libreoffice_csv.xlsx", 0);
}

static void write_xlsxwriter(const char *path, int constant_memory)
{
    lxw_workbook_options opt = {.constant_memory = (uint8_t)constant_memory, .tmpdir = tmpdir};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "充电桩");
    lxw_format *date = workbook_add_format(wb), *datetime = workbook_add_format(wb);
    lxw_format *bold = workbook_add_format(wb);
    format_set_num_format(date, "yyyy-mm-dd");
    format_set_num_format(datetime, "yyyy-mm-dd hh:mm:ss");
    format_set_bold(bold);
    const char *head[] = {"充电桩编码", "名称",     "额定功率(kW)", "单价",
                          "生产日期",   "日期序列", "备注"};
    for (int c = 0; c < 7; c++)
        worksheet_write_string(ws, 0, (lxw_col_t)c, head[c], NULL);
    worksheet_write_string(ws, 1, 0, "P001", NULL);
    worksheet_write_string(ws, 1, 1, "  lead  double trail  ", NULL);
    worksheet_write_number(ws, 1, 2, 60, NULL);
    worksheet_write_number(ws, 1, 3, 113.123456, NULL);
    lxw_datetime d1 = {2024, 3, 15, 0, 0, 0};
    worksheet_write_datetime(ws, 1, 4, &d1, date);
    worksheet_write_number(ws, 1, 5, 45366, NULL);
    lxw_rich_string_tuple r1 = {.format = bold, .string = "Bold"};
    lxw_rich_string_tuple r2 = {.format = NULL, .string = " plain"};
    lxw_rich_string_tuple *rich[] = {&r1, &r2, NULL};
    assert_int_equal(worksheet_write_rich_string(ws, 1, 6, rich, NULL), LXW_NO_ERROR);
    worksheet_write_string(ws, 3, 0, "P002", NULL);
    worksheet_write_string(ws, 3, 1, "广州充电站", NULL);
    worksheet_write_number(ws, 3, 2, 7, NULL);
    worksheet_write_string(ws, 3, 6, "inline", NULL);
    worksheet_write_string(ws, 4, 0, "P003", NULL);
    worksheet_write_boolean(ws, 4, 1, 1, NULL);
    worksheet_write_number(ws, 4, 2, -1.5, NULL);
    worksheet_write_number(ws, 4, 3, 0.001, NULL);
    lxw_datetime d2 = {2024, 3, 15, 8, 30, 0};
    worksheet_write_datetime(ws, 4, 4, &d2, datetime);
    lxw_worksheet *extra = workbook_add_worksheet(wb, "Extra");
    worksheet_write_string(extra, 0, 0, "extra", NULL);
    worksheet_write_number(extra, 0, 1, 1, NULL);
    lxw_worksheet *hidden = workbook_add_worksheet(wb, "Hidden");
    worksheet_write_string(hidden, 0, 0, "secret", NULL);
    worksheet_hide(hidden);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static void test_libxlsxwriter(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/xlsxwriter.xlsx", tmpdir);
    write_xlsxwriter(path, 0); /* shared strings */
    check_logical(path, 1);
    snprintf(path, sizeof path, "%s/xlsxwriter_constant.xlsx", tmpdir);
    write_xlsxwriter(path, 1); /* constant_memory: inline strings, rich runs inline */
    check_logical(path, 1);
}

/* ---- packages built by hand with libzip ---- */

struct member {
    const char *name;
    const char *data; /* NUL-terminated */
};

/* Zips `m` (n members) into memory; returns the bytes (caller frees) and their length. */
static unsigned char *zip_members(const struct member *m, size_t n, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    assert_non_null(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    assert_non_null(za);
    zip_source_keep(src);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(za, m[i].data, strlen(m[i].data), 0);
        assert_non_null(s);
        assert_true(zip_file_add(za, m[i].name, s, ZIP_FL_ENC_UTF_8) >= 0);
    }
    assert_int_equal(zip_close(za), 0);
    zip_stat_t st;
    assert_int_equal(zip_source_stat(src, &st), 0);
    unsigned char *buf = malloc(st.size ? st.size : 1);
    assert_non_null(buf);
    assert_int_equal(zip_source_open(src), 0);
    assert_int_equal(zip_source_read(src, buf, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    *len = st.size;
    return buf;
}

static int open_members(const struct member *m, size_t n, const struct xlsx_limits *lim,
                        struct xlsx_book **book, char *err, size_t errlen)
{
    size_t len;
    unsigned char *zip = zip_members(m, n, &len);
    char path[256];
    snprintf(path, sizeof path, "%s/hand.xlsx", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(zip, 1, len, f), len);
    fclose(f);
    free(zip);
    return xlsx_open(path, lim, book, err, errlen);
}

#define NS       "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define RELS_NS  "http://schemas.openxmlformats.org/package/2006/relationships"
#define REL_TYPE "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

static const char root_rels[] =
    "<Relationships xmlns=\"" RELS_NS "\"><Relationship Id=\"rId1\" Type=\"" REL_TYPE
    "officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";

/* A workbook with one sheet `xl/worksheets/sheet1.xml`, no shared strings, no styles. */
static int open_sheet_xml(const char *sheet, const struct xlsx_limits *lim, struct xlsx_book **book,
                          char *err, size_t errlen)
{
    const struct member m[] = {
        {"_rels/.rels", root_rels},
        {"xl/workbook.xml", "<workbook xmlns=\"" NS "\" xmlns:r=\"" REL_TYPE "\"><sheets>"
                            "<sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" RELS_NS "\"><Relationship Id=\"rId1\" Type=\"" REL_TYPE
         "worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"},
        {"xl/worksheets/sheet1.xml", sheet},
    };
    return open_members(m, 4, lim, book, err, errlen);
}

/* Opens a one-sheet workbook and reads it; the status of whichever step failed. */
static int read_sheet_xml(const char *sheet, const struct xlsx_limits *lim, char **rows, char *err,
                          size_t errlen)
{
    struct xlsx_book *book = NULL;
    *rows = NULL;
    int rc = open_sheet_xml(sheet, lim, &book, err, errlen);
    if (rc == XLSX_OK) {
        rc = read_sheet(book, "S", 1, rows, err, errlen);
        xlsx_close(book);
    }
    return rc;
}

/* What Excel, WPS, the .NET SDK and others do differently: x: prefixes, missing r attributes,
 * empty <v/>, phonetic runs, _xHHHH_ escapes, formula strings, errors, ISO date cells, built-in
 * and custom date formats, the 1900 leap-year bug, relative and absolute targets with "..", a
 * chart sheet and a very hidden sheet. */
static const char quirks_wb[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<x:workbook xmlns:x=\"" NS "\" xmlns:rel=\"" REL_TYPE "\"><x:workbookPr/><x:sheets>"
    "<x:sheet name=\"Data\" sheetId=\"1\" rel:id=\"rId1\"/>"
    "<x:sheet name=\"Second\" sheetId=\"2\" state=\"veryHidden\" rel:id=\"rId2\"/>"
    "<x:sheet name=\"Chart\" sheetId=\"3\" rel:id=\"rId3\"/>"
    "<x:sheet name=\"Lost\" sheetId=\"4\" rel:id=\"rId9\"/>"
    "</x:sheets></x:workbook>";

static const char quirks_wb_rels[] =
    "<Relationships xmlns=\"" RELS_NS "\">"
    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "worksheet\" Target=\"worksheets/data.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"" REL_TYPE "worksheet\" "
    "Target=\"/xl/charts/../worksheets/./second%20sheet.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"" REL_TYPE "chartsheet\" Target=\"chartsheets/c1.xml\"/>"
    "<Relationship Id=\"rId4\" Type=\"" REL_TYPE "sharedStrings\" Target=\"strings.xml\"/>"
    "<Relationship Id=\"rId5\" Type=\"" REL_TYPE "styles\" Target=\"../xl/styles.xml\"/>"
    "<Relationship Id=\"rId6\" Type=\"" REL_TYPE "hyperlink\" Target=\"http://example.com/\" "
    "TargetMode=\"External\"/>"
    "</Relationships>";

static const char quirks_sst[] =
    "<sst xmlns=\"" NS "\" count=\"3\" uniqueCount=\"3\">"
    "<si><r><t>東</t></r><r><rPr><b/></rPr><t xml:space=\"preserve\">京 </t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>トウ</t></rPh><phoneticPr fontId=\"1\"/></si>"
    "<si><t>a_x000D_b_x005F_x0041_ _xD83D__xDE00_</t></si>"
    "<si>\n  <t> pretty </t>\n</si>"
    "</sst>";

/* cellStyleXfs come first and must not be taken for cell formats. */
static const char quirks_styles[] =
    "<styleSheet xmlns=\"" NS "\"><numFmts count=\"4\">"
    "<numFmt numFmtId=\"164\" "
    "formatCode=\"[$-804]yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"0.00E+00\"/>"
    "<numFmt numFmtId=\"166\" formatCode=\"[h]:mm\"/>"
    "<numFmt numFmtId=\"167\" formatCode=\"&quot;day&quot;\\ 0;[Red]General\"/>"
    "</numFmts>"
    "<cellStyleXfs count=\"2\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellStyleXfs>"
    "<cellXfs count=\"7\"><xf numFmtId=\"0\"/><xf numFmtId=\"164\"/><xf numFmtId=\"165\"/>"
    "<xf numFmtId=\"166\"/><xf numFmtId=\"14\"/><xf numFmtId=\"167\"/><xf numFmtId=\"22\"/>"
    "</cellXfs>"
    "<dxfs count=\"1\"><dxf><numFmt numFmtId=\"0\" formatCode=\"yyyy\"/></dxf></dxfs>"
    "</styleSheet>";

static const char quirks_data[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment --><?pi here?>"
    "<x:worksheet xmlns:x=\"" NS "\"><x:dimension ref=\"A1:AB8\"/><x:sheetData>"
    /* row 1: shared strings by position (B1 without r), an inline rich string */
    "<x:row r=\"1\" spans=\"1:4\"><x:c r=\"A1\" t=\"s\"><x:v>0</x:v></x:c><x:c t=\"s\"><x:v>1</x:v>"
    "</x:c><x:c r=\"D1\" t=\"inlineStr\"><x:is><x:r><x:t>in</x:t></x:r><x:r><x:t "
    "xml:space=\"preserve\"> line</x:t></x:r><x:rPh><x:t>no</x:t></x:rPh></x:is></x:c>"
    "<x:c r=\"E1\" t=\"s\"><x:v>2</x:v></x:c></x:row>"
    /* row 2 (no r): numbers under built-in and custom formats, cells by position */
    "<x:row><x:c><x:v>42</x:v></x:c><x:c s=\"1\"><x:v>45366</x:v></x:c><x:c s=\"2\"><x:v>1E-3</x:v>"
    "</x:c><x:c s=\"3\"><x:v>0.75</x:v></x:c><x:c s=\"4\"><x:v>60</x:v></x:c><x:c "
    "s=\"5\"><x:v>7</x:v>"
    "</x:c><x:c s=\"6\"><x:v>45366.5</x:v></x:c><x:c s=\"99\"><x:v>3</x:v></x:c></x:row>"
    /* row 5: empty cells, formula string, error, booleans, ISO dates, around 1900-02-29 */
    "<x:row r=\"5\"><x:c r=\"A5\"/><x:c r=\"B5\"><x:v/></x:c><x:c r=\"C5\" t=\"str\">"
    "<x:f>A1&amp;\"x\"</x:f><x:v>calc</x:v></x:c><x:c r=\"D5\" t=\"e\"><x:f>1/0</x:f>"
    "<x:v>#DIV/0!</x:v></x:c><x:c r=\"E5\" t=\"b\"><x:v>0</x:v></x:c>"
    "<x:c r=\"F5\" t=\"d\"><x:v>2024-03-15T00:00:00Z</x:v></x:c>"
    "<x:c r=\"G5\" t=\"d\"><x:v>2024-03-15T08:30:00</x:v></x:c><x:c r=\"H5\" s=\"4\"><x:v>59</x:v>"
    "</x:c><x:c r=\"I5\" s=\"4\"><x:v>61</x:v></x:c><x:c r=\"J5\" s=\"4\"><x:v>1</x:v></x:c>"
    "<x:c r=\"K5\" s=\"4\"><x:v>-1</x:v></x:c><x:c r=\"L5\" s=\"4\"><x:v>2958465.99999</x:v></x:c>"
    "<x:c r=\"M5\" t=\"str\"><x:v></x:v></x:c></x:row>"
    /* row 7: styled cells without values, not delivered */
    "<x:row r=\"7\" customHeight=\"1\"><x:c r=\"A7\" s=\"1\"/></x:row>"
    /* row 8: two-letter columns, the second by position */
    "<x:row r=\"8\"><x:c r=\"AA8\"><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>"
    "</x:sheetData><x:mergeCells count=\"1\"><x:mergeCell ref=\"A1:B1\"/></x:mergeCells>"
    "</x:worksheet>";

static const char quirks_expected[] =
    "1: A=s[東京 ] B=s[a\rb_x0041_ \xF0\x9F\x98\x80] D=s[in line] E=s[ pretty ]\n"
    "2: A=n[42] B=d[2024-03-15](45366) C=n[1E-3] D=d[18:00:00](0.75) E=d[1900-02-29](60) F=n[7] "
    "G=d[2024-03-15 12:00:00](45366.5) H=n[3]\n"
    "5: C=s[calc] D=e[#DIV/0!] E=b[FALSE] F=d[2024-03-15](2024-03-15T00:00:00Z) "
    "G=d[2024-03-15 08:30:00](2024-03-15T08:30:00) H=d[1900-02-28](59) I=d[1900-03-01](61) "
    "J=d[1900-01-01](1) K=n[-1] L=d[9999-12-31 23:59:59](2958465.99999)\n"
    "8: AA=n[1] AB=n[2]\n";

static const struct member quirks[] = {
    {"[Content_Types].xml", "<Types/>"},
    {"_rels/.rels", root_rels},
    {"xl/workbook.xml", quirks_wb},
    {"xl/_rels/workbook.xml.rels", quirks_wb_rels},
    {"xl/strings.xml", quirks_sst},
    {"xl/styles.xml", quirks_styles},
    {"xl/worksheets/data.xml", quirks_data},
    {"xl/worksheets/second sheet.xml",
     "<worksheet xmlns=\"" NS "\"><sheetData><row r=\"3\"><c r=\"C3\" t=\"inlineStr\"><is>"
     "<t>deep</t></is></c></row></sheetData></worksheet>"},
    {"xl/chartsheets/c1.xml", "<chartsheet/>"},
};

static void test_quirks(void **state)
{
    (void)state;
    struct xlsx_book *book = NULL;
    char err[256] = "", *rows;
    int rc = open_members(quirks, sizeof quirks / sizeof *quirks, NULL, &book, err, sizeof err);
    if (rc)
        fail_msg("%d %s", rc, err);
    char *names = sheet_list(book);
    assert_string_equal(names, "Data/0 Second/2 Chart/0 Lost/0");
    free(names);
    assert_null(xlsx_sheet_name(book, 4));
    rc = read_sheet(book, "Data", 1, &rows, err, sizeof err);
    if (rc)
        fail_msg("%d %s", rc, err);
    assert_string_equal(rows, quirks_expected);
    free(rows);
    assert_int_equal(read_sheet(book, "SECOND", 0, &rows, err, sizeof err), XLSX_OK);
    assert_string_equal(rows, "3: C=s[deep]\n");
    free(rows);
    assert_int_equal(read_sheet(book, "Chart", 0, &rows, err, sizeof err), XLSX_NO_SHEET);
    free(rows);
    assert_non_null(strstr(err, "not a worksheet"));
    assert_int_equal(read_sheet(book, "Lost", 0, &rows, err, sizeof err), XLSX_NO_SHEET);
    free(rows);
    assert_int_equal(read_sheet(book, "充电桩", 0, &rows, err, sizeof err), XLSX_NO_SHEET);
    free(rows);
    assert_non_null(strstr(err, "充电桩"));
    xlsx_close(book);
}

static void test_date1904(void **state)
{
    (void)state;
    const struct member m[] = {
        {"xl/workbook.xml", /* no _rels/.rels: the usual workbook path is assumed */
         "<workbook xmlns=\"" NS "\" xmlns:r=\"" REL_TYPE "\"><workbookPr date1904=\"true\"/>"
         "<sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" RELS_NS "\"><Relationship Id=\"rId1\" Type=\"" REL_TYPE
         "worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"" REL_TYPE
         "styles\" Target=\"styles.xml\"/></Relationships>"},
        {"xl/styles.xml", "<styleSheet xmlns=\"" NS "\"><cellXfs><xf/><xf numFmtId=\"14\"/>"
                          "<xf numFmtId=\"20\"/></cellXfs></styleSheet>"},
        {"xl/worksheets/sheet1.xml",
         "<worksheet xmlns=\"" NS "\"><sheetData><row r=\"1\"><c r=\"A1\" s=\"1\"><v>0</v></c>"
         "<c r=\"B1\" s=\"1\"><v>43904</v></c><c r=\"C1\" s=\"2\"><v>0.5</v></c>"
         "<c r=\"D1\" s=\"1\"><v>1462.25</v></c></row></sheetData></worksheet>"},
    };
    struct xlsx_book *book = NULL;
    char err[256] = "", *rows;
    int rc = open_members(m, 4, NULL, &book, err, sizeof err);
    if (rc)
        fail_msg("%d %s", rc, err);
    assert_int_equal(read_sheet(book, "S", 0, &rows, err, sizeof err), XLSX_OK);
    assert_string_equal(rows, "1: A=d[1904-01-01] B=d[2024-03-15] C=d[1904-01-01 12:00:00] "
                              "D=d[1908-01-02 06:00:00]\n");
    free(rows);
    xlsx_close(book);
}

static void test_callback_stops(void **state)
{
    (void)state;
    struct xlsx_book *book = NULL;
    char err[64];
    assert_int_equal(xlsx_open(XLSX_FIXTURES "/openpyxl.xlsx", NULL, &book, err, sizeof err), 0);
    struct dump d = {.stop_after = 2};
    dump_add(&d, "%s", "");
    assert_int_equal(xlsx_read_sheet(book, "充电桩", dump_row, &d, err, sizeof err), 7);
    assert_int_equal(d.rows, 2);
    free(d.buf);
    xlsx_close(book);
}

/* ---- hostile input ---- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_not_xlsx(void **state)
{
    (void)state;
    char path[256], err[256];
    struct xlsx_book *book = (struct xlsx_book *)&book; /* must come back NULL */
    snprintf(path, sizeof path, "%s/plain.xlsx", tmpdir);
    write_file(path, "充电桩编码,名称\nP001,x\n", 24);
    assert_int_equal(xlsx_open(path, NULL, &book, err, sizeof err), XLSX_NOT_XLSX);
    assert_null(book);
    assert_non_null(strstr(err, "not a zip"));
    write_file(path, "", 0);
    assert_int_equal(xlsx_open(path, NULL, &book, err, sizeof err), XLSX_NOT_XLSX);
    write_file(path, "PK\3\4 truncated", 15);
    assert_int_equal(xlsx_open(path, NULL, &book, err, sizeof err), XLSX_NOT_XLSX);
    snprintf(path, sizeof path, "%s/no-such-file.xlsx", tmpdir);
    assert_int_equal(xlsx_open(path, NULL, &book, err, sizeof err), XLSX_IO);
    assert_int_equal(xlsx_open(tmpdir, NULL, &book, err, sizeof err), XLSX_IO);

    /* OLE compound files: a legacy .xls, and what Office makes of a password-protected .xlsx */
    unsigned char cfb[4096] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    assert_int_equal(xlsx_open_mem(cfb, sizeof cfb, NULL, &book, err, sizeof err), XLSX_NOT_XLSX);
    assert_non_null(strstr(err, ".xls"));
    memcpy(cfb + 3000, "E\0n\0c\0r\0y\0p\0t\0i\0o\0n\0I\0n\0f\0o\0", 28);
    snprintf(path, sizeof path, "%s/protected.xlsx", tmpdir);
    write_file(path, cfb, sizeof cfb);
    assert_int_equal(xlsx_open(path, NULL, &book, err, sizeof err), XLSX_ENCRYPTED);
    assert_non_null(strstr(err, "password"));

    /* a zip, but not a workbook */
    const struct member docx[] = {{"word/document.xml", "<document/>"}};
    assert_int_equal(open_members(docx, 1, NULL, &book, err, sizeof err), XLSX_NOT_XLSX);
    assert_non_null(strstr(err, "no workbook"));
    const struct member xlsb[] = {{"_rels/.rels",
                                   "<Relationships xmlns=\"" RELS_NS
                                   "\"><Relationship Id=\"rId1\" Type=\"" REL_TYPE
                                   "officeDocument\" Target=\"xl/workbook.bin\"/></Relationships>"},
                                  {"xl/workbook.bin", "binary"}};
    assert_int_equal(open_members(xlsb, 2, NULL, &book, err, sizeof err), XLSX_NOT_XLSX);
    assert_non_null(strstr(err, "xlsb"));

    /* the file size limit, checked before anything is read */
    struct xlsx_limits lim = {.max_file_bytes = 1000};
    assert_int_equal(xlsx_open(XLSX_FIXTURES "/openpyxl.xlsx", &lim, &book, err, sizeof err),
                     XLSX_TOO_LARGE);
    assert_null(book);
}

static void test_encrypted_member(void **state)
{
    (void)state;
    if (!zip_encryption_method_supported(ZIP_EM_AES_256, 1))
        skip();
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    assert_non_null(za);
    zip_source_keep(src);
    static const char wb[] = "<workbook/>";
    zip_int64_t i =
        zip_file_add(za, "xl/workbook.xml", zip_source_buffer(za, wb, sizeof wb - 1, 0), 0);
    assert_true(i >= 0);
    assert_int_equal(zip_file_set_encryption(za, (zip_uint64_t)i, ZIP_EM_AES_256, "secret"), 0);
    assert_int_equal(zip_close(za), 0);
    zip_stat_t st;
    zip_source_stat(src, &st);
    unsigned char *buf = malloc(st.size);
    zip_source_open(src);
    zip_source_read(src, buf, st.size);
    zip_source_close(src);
    zip_source_free(src);
    struct xlsx_book *book;
    char err[256];
    assert_int_equal(xlsx_open_mem(buf, st.size, NULL, &book, err, sizeof err), XLSX_ENCRYPTED);
    free(buf);
}

static void test_doctype_refused(void **state)
{
    (void)state;
    char *rows, err[256];
    /* billion laughs */
    static const char laughs[] =
        "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c "
        "\"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e "
        "\"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
        "]><worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&e;&e;&e;</t></is>"
        "</c></row></sheetData></worksheet>";
    assert_int_equal(read_sheet_xml(laughs, NULL, &rows, err, sizeof err), XLSX_BAD_XML);
    assert_non_null(strstr(err, "DOCTYPE"));
    free(rows);
    /* an external entity */
    static const char ext[] =
        "<!DOCTYPE worksheet [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><worksheet><sheetData>"
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&x;</t></is></c></row></sheetData>"
        "</worksheet>";
    assert_int_equal(read_sheet_xml(ext, NULL, &rows, err, sizeof err), XLSX_BAD_XML);
    free(rows);
    /* an undeclared entity (no DTD) is an XML error too */
    assert_int_equal(read_sheet_xml("<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>&x;</t>"
                                    "</is></c></row></sheetData></worksheet>",
                                    NULL, &rows, err, sizeof err),
                     XLSX_BAD_XML);
    free(rows);
    /* in the shared strings, refused at open */
    const struct member m[] = {
        {"xl/workbook.xml", "<workbook xmlns:r=\"" REL_TYPE "\"><sheets><sheet name=\"S\" "
                            "r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships><Relationship Id=\"rId2\" Type=\"" REL_TYPE "sharedStrings\" "
         "Target=\"sharedStrings.xml\"/></Relationships>"},
        {"xl/sharedStrings.xml",
         "<!DOCTYPE sst [<!ENTITY a \"b\">]><sst><si><t>&a;</t></si></sst>"},
    };
    struct xlsx_book *book;
    assert_int_equal(open_members(m, 3, NULL, &book, err, sizeof err), XLSX_BAD_XML);
    assert_non_null(strstr(err, "sharedStrings.xml"));
}

static void test_bad_structure(void **state)
{
    (void)state;
    char *rows, err[256];
    /* deep nesting stops at a fixed depth */
    size_t depth = 100000;
    char *deep = malloc(depth * 7 + 64);
    char *p = deep + sprintf(deep, "<worksheet><sheetData>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<a>");
    strcpy(p, "</sheetData></worksheet>");
    assert_int_equal(read_sheet_xml(deep, NULL, &rows, err, sizeof err), XLSX_BAD_XML);
    assert_non_null(strstr(err, "nested"));
    free(rows);
    free(deep);
    /* one huge start tag (expat would buffer all of it) */
    size_t big = 3u << 20;
    char *tag = malloc(big + 128);
    p = tag + sprintf(tag, "<worksheet><sheetData><row r=\"1\" x=\"");
    memset(p, 'x', big);
    strcpy(p + big, "\"/></sheetData></worksheet>");
    struct xlsx_limits lax = {.max_ratio = 100000}; /* it compresses very well */
    assert_int_equal(read_sheet_xml(tag, &lax, &rows, err, sizeof err), XLSX_BAD_XML);
    assert_non_null(strstr(err, "token"));
    free(rows);
    free(tag);
    /* a million distinct element names: expat would keep them all (~12 bytes per input byte) */
    size_t names = 1000000;
    char *many = malloc(names * 12 + 64);
    p = many + sprintf(many, "<worksheet><sheetData>");
    for (size_t i = 0; i < names; i++)
        p += sprintf(p, "<n%zx/>", i);
    strcpy(p, "</sheetData></worksheet>");
    long rss0 = max_rss_kb();
    assert_int_equal(read_sheet_xml(many, NULL, &rows, err, sizeof err), XLSX_TOO_LARGE);
    assert_non_null(strstr(err, "distinct"));
    assert_true(max_rss_kb() - rss0 < 64 * 1024);
    free(rows);
    free(many);
    /* rows and cells out of order, bad references, unknown types, missing strings */
    static const char *bad[] = {
        "<worksheet><sheetData><row r=\"2\"/><row r=\"2\"/></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"3\"/><row r=\"1\"/></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"0\"/></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1048577\"/></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"B1\"/><c "
        "r=\"A1\"/></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"B1\"/><c "
        "r=\"B1\"/></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"XFE1\"/></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"1A\"/></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"zz\"/></row></sheetData></worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row></sheetData>"
        "</worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"b\"><v>2</v></c></row></sheetData>"
        "</worksheet>",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row>", /* truncated */
        "<worksheet><sheetData></worksheet>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = read_sheet_xml(bad[i], NULL, &rows, err, sizeof err);
        if (rc != XLSX_BAD_XML)
            fail_msg("case %zu: %d %s", i, rc, err);
        free(rows);
    }
    /* a cell at XFD is fine */
    assert_int_equal(read_sheet_xml("<worksheet><sheetData><row r=\"1048576\"><c r=\"XFD1048576\">"
                                    "<v>1</v></c></row></sheetData></worksheet>",
                                    NULL, &rows, err, sizeof err),
                     XLSX_OK);
    assert_string_equal(rows, "1048576: XFD=n[1]\n");
    free(rows);
    /* the sheet part named by the relationships is missing */
    const struct member m[] = {
        {"xl/workbook.xml", "<workbook xmlns:r=\"" REL_TYPE "\"><sheets><sheet name=\"S\" "
                            "r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships><Relationship Id=\"rId1\" Type=\"" REL_TYPE
         "worksheet\" Target=\"worksheets/gone.xml\"/></Relationships>"},
    };
    struct xlsx_book *book;
    assert_int_equal(open_members(m, 2, NULL, &book, err, sizeof err), XLSX_OK);
    assert_int_equal(read_sheet(book, "S", 0, &rows, err, sizeof err), XLSX_BAD_XML);
    assert_non_null(strstr(err, "missing"));
    free(rows);
    xlsx_close(book);
}

static char *rows_xml(unsigned nrows, unsigned ncols)
{
    size_t cap = (size_t)nrows * (40 + ncols * 40) + 128, len = 0;
    char *x = malloc(cap);
    assert_non_null(x);
    len += (size_t)snprintf(x, cap, "<worksheet xmlns=\"" NS "\"><sheetData>");
    for (unsigned r = 1; r <= nrows; r++) {
        len += (size_t)snprintf(x + len, cap - len, "<row r=\"%u\">", r);
        for (unsigned c = 0; c < ncols; c++)
            len += (size_t)snprintf(x + len, cap - len, "<c><v>%u</v></c>", r * 100 + c);
        len += (size_t)snprintf(x + len, cap - len, "</row>");
    }
    strcpy(x + len, "</sheetData></worksheet>");
    return x;
}

static int count_rows(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    unsigned *count = arg;
    (*count)++;
    return 0;
}

static void test_limits(void **state)
{
    (void)state;
    char *rows, err[256];
    struct xlsx_book *book;
    /* 100 001 rows where 100 000 are allowed: the first 100 000 are delivered, then the stop */
    char *x = rows_xml(100001, 2);
    struct xlsx_limits lim = {.max_rows = 100000};
    assert_int_equal(open_sheet_xml(x, &lim, &book, err, sizeof err), XLSX_OK);
    unsigned count = 0;
    assert_int_equal(xlsx_read_sheet(book, "S", count_rows, &count, err, sizeof err),
                     XLSX_TOO_MANY_ROWS);
    assert_int_equal(count, 100000);
    assert_non_null(strstr(err, "row 100001"));
    xlsx_close(book);
    free(x);
    /* row numbers count, not rows: one value far down is too far */
    assert_int_equal(read_sheet_xml("<worksheet><sheetData><row r=\"200000\"><c r=\"A200000\"><v>1"
                                    "</v></c></row></sheetData></worksheet>",
                                    &lim, &rows, err, sizeof err),
                     XLSX_TOO_MANY_ROWS);
    free(rows);
    /* ...but formatted rows without values are not */
    assert_int_equal(read_sheet_xml("<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c>"
                                    "</row><row r=\"200000\" ht=\"30\"/></sheetData></worksheet>",
                                    &lim, &rows, err, sizeof err),
                     XLSX_OK);
    free(rows);

    /* cells per row */
    lim = (struct xlsx_limits){.max_cells_per_row = 5};
    x = rows_xml(2, 6);
    assert_int_equal(read_sheet_xml(x, &lim, &rows, err, sizeof err), XLSX_TOO_MANY_CELLS);
    assert_non_null(strstr(err, "row 1"));
    free(rows);
    free(x);

    /* cell bytes: inline, formula and shared strings, numbers */
    lim = (struct xlsx_limits){.max_cell_bytes = 100};
    char sheet[1024], text[102];
    memset(text, 'y', 101);
    text[101] = 0;
    snprintf(sheet, sizeof sheet,
             "<worksheet><sheetData><row r=\"7\"><c r=\"C7\" t=\"inlineStr\"><is><t>%.100s</t>"
             "</is></c></row><row r=\"8\"><c r=\"B8\" t=\"inlineStr\"><is><r><t>%.50s</t></r><r>"
             "<t>%s</t></r></is></c></row></sheetData></worksheet>",
             text, text, text + 50);
    assert_int_equal(read_sheet_xml(sheet, &lim, &rows, err, sizeof err), XLSX_TOO_LONG);
    assert_non_null(strstr(rows, "7: C=s[yyyy")); /* exactly 100 bytes pass */
    assert_non_null(strstr(err, "B8"));
    free(rows);
    snprintf(sheet, sizeof sheet,
             "<worksheet><sheetData><row r=\"2\"><c r=\"D2\"><v>%s</v></c></row></sheetData>"
             "</worksheet>",
             text);
    assert_int_equal(read_sheet_xml(sheet, &lim, &rows, err, sizeof err), XLSX_TOO_LONG);
    assert_non_null(strstr(err, "D2"));
    free(rows);
    char sst[512];
    snprintf(sst, sizeof sst, "<sst><si><t>ok</t></si><si><t>%s</t></si></sst>", text);
    const struct member m[] = {
        {"xl/workbook.xml", "<workbook xmlns:r=\"" REL_TYPE "\"><sheets><sheet name=\"S\" "
                            "r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships><Relationship Id=\"rId1\" Type=\"" REL_TYPE "worksheet\" "
         "Target=\"sheet.xml\"/><Relationship Id=\"rId2\" Type=\"" REL_TYPE "sharedStrings\" "
         "Target=\"sharedStrings.xml\"/></Relationships>"},
        {"xl/sharedStrings.xml", sst},
        {"xl/sheet.xml",
         "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>"
         "<row r=\"2\"><c r=\"E2\" t=\"s\"><v>1</v></c></row></sheetData></worksheet>"},
    };
    assert_int_equal(open_members(m, 4, &lim, &book, err, sizeof err), XLSX_OK);
    assert_int_equal(read_sheet(book, "S", 0, &rows, err, sizeof err), XLSX_TOO_LONG);
    assert_string_equal(rows, "1: A=s[ok]\n");
    assert_non_null(strstr(err, "E2"));
    free(rows);
    xlsx_close(book);

    /* the shared-string table: count and bytes */
    lim = (struct xlsx_limits){.max_shared_strings = 1};
    assert_int_equal(open_members(m, 4, &lim, &book, err, sizeof err), XLSX_TOO_LARGE);
    assert_non_null(strstr(err, "shared strings"));
    lim = (struct xlsx_limits){.max_shared_bytes = 64};
    assert_int_equal(open_members(m, 4, &lim, &book, err, sizeof err), XLSX_TOO_LARGE);

    /* row bytes */
    lim = (struct xlsx_limits){.max_row_bytes = 150};
    snprintf(sheet, sizeof sheet,
             "<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>%s</t></is></c>"
             "<c t=\"inlineStr\"><is><t>%s</t></is></c></row></sheetData></worksheet>",
             text, text);
    assert_int_equal(read_sheet_xml(sheet, &lim, &rows, err, sizeof err), XLSX_TOO_LARGE);
    free(rows);
}

/* A zip source that produces head, `body` filler bytes and tail without holding them. */
struct filler {
    const char *head, *tail;
    zip_uint64_t body, pos, total;
    zip_error_t error;
};

static zip_int64_t filler_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct filler *f = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        f->pos = 0;
        return 0;
    case ZIP_SOURCE_READ: {
        zip_uint64_t hl = strlen(f->head), n = 0;
        unsigned char *out = data;
        while (n < len && f->pos < f->total) {
            zip_uint64_t p = f->pos;
            if (p < hl) {
                out[n++] = (unsigned char)f->head[p];
                f->pos++;
            } else if (p < hl + f->body) {
                zip_uint64_t k = hl + f->body - p;
                if (k > len - n)
                    k = len - n;
                memset(out + n, ' ', k);
                n += k;
                f->pos += k;
            } else {
                out[n++] = (unsigned char)f->tail[p - hl - f->body];
                f->pos++;
            }
        }
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE:
    case ZIP_SOURCE_FREE:
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = f->total;
        st->valid |= ZIP_STAT_SIZE;
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&f->error, data, len);
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default:
        zip_error_set(&f->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* A workbook whose sheet is `<worksheet><sheetData>` + `body` spaces + its end, deflated. */
static unsigned char *bomb(zip_uint64_t body, size_t *len)
{
    static struct filler f = {.head = "<worksheet><sheetData>", .tail = "</sheetData></worksheet>"};
    f.body = body;
    f.total = strlen(f.head) + body + strlen(f.tail);
    zip_error_init(&f.error);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    assert_non_null(za);
    zip_source_keep(src);
    static const char wb[] = "<workbook xmlns:r=\"" REL_TYPE "\"><sheets><sheet name=\"S\" "
                             "r:id=\"rId1\"/></sheets></workbook>";
    static const char rels[] = "<Relationships><Relationship Id=\"rId1\" Type=\"" REL_TYPE
                               "worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>";
    zip_int64_t i =
        zip_file_add(za, "xl/worksheets/sheet1.xml", zip_source_function(za, filler_cb, &f), 0);
    assert_int_equal(i, 0); /* first: its local header is at offset 0 */
    zip_set_file_compression(za, 0, ZIP_CM_DEFLATE, 1);
    zip_file_add(za, "xl/workbook.xml", zip_source_buffer(za, wb, sizeof wb - 1, 0), 0);
    zip_file_add(za, "xl/_rels/workbook.xml.rels", zip_source_buffer(za, rels, sizeof rels - 1, 0),
                 0);
    assert_int_equal(zip_close(za), 0);
    zip_stat_t st;
    zip_source_stat(src, &st);
    unsigned char *buf = malloc(st.size);
    assert_non_null(buf);
    zip_source_open(src);
    assert_int_equal(zip_source_read(src, buf, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    *len = st.size;
    return buf;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static void test_zip_bombs(void **state)
{
    (void)state;
    char err[256];
    struct xlsx_book *book;
    size_t len;
    /* 1 GiB of filler deflated to ~1 MB: refused from the declared size, nothing inflated */
    unsigned char *zip = bomb(1ull << 30, &len);
    print_message("1 GiB bomb: %zu bytes zipped\n", len);
    assert_true(len < 8u << 20); /* deflate level 1: ~4.6 MB, 229:1 */
    double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    assert_int_equal(xlsx_open_mem(zip, len, NULL, &book, err, sizeof err), XLSX_TOO_LARGE);
    assert_non_null(strstr(err, "inflates to more than"));
    /* with a generous total, the ratio check refuses it */
    struct xlsx_limits lim = {.max_uncompressed_bytes = 2ull << 30};
    assert_int_equal(xlsx_open_mem(zip, len, &lim, &book, err, sizeof err), XLSX_TOO_LARGE);
    assert_non_null(strstr(err, "compressed more than"));
    assert_true(clock_s(CLOCK_THREAD_CPUTIME_ID) - t0 < 0.5);

    /* the same member declaring 4096 bytes in both headers: open passes, reading stops at the
     * first chunk past 4096 bytes, long before 1 GiB */
    assert_int_equal(get32(zip), 0x04034b50);
    assert_int_not_equal(get32(zip + 22), 0xFFFFFFFF); /* no zip64 sizes to patch */
    put32(zip + 22, 4096);
    /* the central directory's first entry (end record: last 22 bytes, no comment) */
    const unsigned char *end = zip + len - 22;
    assert_int_equal(get32(end), 0x06054b50);
    unsigned char *cd = zip + get32(end + 16);
    assert_int_equal(get32(cd), 0x02014b50);
    assert_int_equal(get32(cd + 42), 0); /* its local header is at offset 0 */
    put32(cd + 24, 4096);
    long rss0 = max_rss_kb();
    t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    int rc = xlsx_open_mem(zip, len, NULL, &book, err, sizeof err);
    if (rc)
        fail_msg("%d %s", rc, err);
    unsigned count = 0;
    assert_int_equal(xlsx_read_sheet(book, "S", count_rows, &count, err, sizeof err),
                     XLSX_TOO_LARGE);
    assert_non_null(strstr(err, "declared 4096"));
    xlsx_close(book);
    double secs = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    long grown = max_rss_kb() - rss0;
    print_message("lying member refused after %.3f s CPU, max RSS grew %ld KiB\n", secs, grown);
    assert_true(secs < 0.5);
    assert_true(grown < 16 * 1024);
    free(zip);

    /* a smaller bomb within the total but past the ratio */
    zip = bomb(8u << 20, &len);
    assert_int_equal(xlsx_open_mem(zip, len, NULL, &book, err, sizeof err), XLSX_TOO_LARGE);
    assert_non_null(strstr(err, "compressed more than"));
    /* allowed by a lax ratio, it streams: the whole 8 MiB go through in 64 KiB chunks */
    lim = (struct xlsx_limits){.max_ratio = 100000};
    assert_int_equal(xlsx_open_mem(zip, len, &lim, &book, err, sizeof err), XLSX_OK);
    count = 0;
    assert_int_equal(xlsx_read_sheet(book, "S", count_rows, &count, err, sizeof err), XLSX_OK);
    assert_int_equal(count, 0);
    xlsx_close(book);
    free(zip);
}

/* ---- speed: 100 000 rows x 11 columns, as an import template would hold them ---- */

static int check_big_row(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    unsigned *count = arg;
    (*count)++;
    if (row > 1 && (n != 11 || cells[10].col != 10 || cells[5].type != XLSX_DATE ||
                    strcmp(cells[5].text, "2023-06-01")))
        return 99;
    return 0;
}

static void test_speed(void **state)
{
    (void)state;
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/big.xlsx", tmpdir);
    lxw_workbook *wb = workbook_new_opt(path, &(lxw_workbook_options){.tmpdir = tmpdir});
    lxw_worksheet *ws = workbook_add_worksheet(wb, "充电桩");
    lxw_format *date = workbook_add_format(wb);
    format_set_num_format(date, "yyyy-mm-dd");
    const char *head[] = {"充电桩编码", "充电站编号",   "生产商组织机构代码",
                          "生产商名称", "设备型号",     "生产日期",
                          "设备类型",   "额定功率(kW)", "经度",
                          "纬度",       "接入协议"};
    for (int c = 0; c < 11; c++)
        worksheet_write_string(ws, 0, (lxw_col_t)c, head[c], NULL);
    lxw_datetime made = {2023, 6, 1, 0, 0, 0};
    for (unsigned r = 1; r <= 100000; r++) {
        char id[32], st[32];
        snprintf(id, sizeof id, "P%08u", r);
        snprintf(st, sizeof st, "S%05u", r / 20);
        worksheet_write_string(ws, r, 0, id, NULL);
        worksheet_write_string(ws, r, 1, st, NULL);
        worksheet_write_string(ws, r, 2, "MA5ABCDE1", NULL);
        worksheet_write_string(ws, r, 3, "中山充电设备有限公司", NULL);
        worksheet_write_string(ws, r, 4, "EVC-120", NULL);
        worksheet_write_datetime(ws, r, 5, &made, date);
        worksheet_write_number(ws, r, 6, 1 + r % 2, NULL);
        worksheet_write_number(ws, r, 7, 120, NULL);
        worksheet_write_number(ws, r, 8, 113.392 + r * 1e-6, NULL);
        worksheet_write_number(ws, r, 9, 22.517 + r * 1e-6, NULL);
        worksheet_write_string(ws, r, 10, "ocpp1.6", NULL);
    }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);

    /* CPU time, not wall time: the machine may be busy with other builds */
    double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    struct xlsx_book *book;
    assert_int_equal(xlsx_open(path, NULL, &book, err, sizeof err), XLSX_OK);
    unsigned count = 0;
    int rc = xlsx_read_sheet(book, "充电桩", check_big_row, &count, err, sizeof err);
    xlsx_close(book);
    double cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0, wall = now() - t0;
    assert_int_equal(rc, 0);
    assert_int_equal(count, 100001);
    print_message("100 001 rows x 11 columns read in %.3f s CPU, %.3f s wall (%.0f rows/s CPU)\n",
                  cpu, wall, count / cpu);
    assert_true(cpu < (SANITIZED ? 10.0 : 2.0));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openpyxl),         cmocka_unit_test(test_libreoffice),
        cmocka_unit_test(test_libreoffice_csv),  cmocka_unit_test(test_libxlsxwriter),
        cmocka_unit_test(test_quirks),           cmocka_unit_test(test_date1904),
        cmocka_unit_test(test_callback_stops),   cmocka_unit_test(test_not_xlsx),
        cmocka_unit_test(test_encrypted_member), cmocka_unit_test(test_doctype_refused),
        cmocka_unit_test(test_bad_structure),    cmocka_unit_test(test_limits),
        cmocka_unit_test(test_zip_bombs),        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
