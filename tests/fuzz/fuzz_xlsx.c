/* libFuzzer target: mgmt/xlsx_read.c on hostile workbooks. The first input byte picks the mode:
 * even - the rest is a whole .xlsx, written to a file and opened as an upload would be; odd - the
 * rest is the XML of one worksheet, zipped (libzip, in memory) with a fixed workbook, shared
 * strings and date styles, so the fuzzer spends its time in the sheet parser. */
#include "mgmt/xlsx_read.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#define REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

static const char workbook[] =
    "<workbook xmlns:r=\"" REL "\"><workbookPr/><sheets><sheet name=\"S\" sheetId=\"1\" "
    "r:id=\"rId1\"/><sheet name=\"H\" sheetId=\"2\" state=\"hidden\" r:id=\"rId1\"/></sheets>"
    "</workbook>";
static const char rels[] =
    "<Relationships><Relationship Id=\"rId1\" Type=\"" REL "worksheet\" "
    "Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"" REL "sharedStrings\" "
    "Target=\"/xl/sharedStrings.xml\"/><Relationship Id=\"rId3\" Type=\"" REL "styles\" "
    "Target=\"styles.xml\"/></Relationships>";
static const char strings[] =
    "<sst><si><t>P001</t></si><si><t xml:space=\"preserve\"> 60 </t></si><si><r><t>a</t></r>"
    "<r><t>b</t></r><rPh><t>x</t></rPh></si><si><t>_x000D__xD83D__xDE00_</t></si></sst>";
static const char styles[] =
    "<styleSheet><numFmts><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd hh:mm\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"[h]:mm;@\"/></numFmts><cellXfs><xf/>"
    "<xf numFmtId=\"14\"/><xf numFmtId=\"164\"/><xf numFmtId=\"165\"/><xf numFmtId=\"47\"/>"
    "</cellXfs></styleSheet>";

static int on_row(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    size_t *sum = arg;
    for (size_t i = 0; i < n; i++) /* touch every byte, so ASan sees bad pointers */
        for (size_t k = 0; k <= cells[i].len; k++)
            *sum += (unsigned char)cells[i].text[k] + (unsigned char)cells[i].raw[0];
    return 0;
}

static void read_all(struct xlsx_book *book)
{
    char err[256];
    size_t sum = 0;
    for (size_t i = 0; i < xlsx_sheet_count(book); i++)
        xlsx_read_sheet(book, xlsx_sheet_name(book, i), on_row, &sum, err, sizeof err);
}

/* Small limits: the fuzzer looks for crashes and leaks, not for slow large inputs. */
static const struct xlsx_limits lim = {
    .max_file_bytes = 4u << 20,
    .max_uncompressed_bytes = 16u << 20,
    .max_rows = 100000,
    .max_cells_per_row = 1000,
    .max_cell_bytes = 4096,
    .max_row_bytes = 1u << 20,
    .max_shared_strings = 10000,
    .max_shared_bytes = 1u << 20,
};

static void whole_file(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/evgate-fuzz-xlsx-%d.xlsx", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, size, f);
    fclose(f);
    struct xlsx_book *book;
    char err[256];
    if (xlsx_open(path, &lim, &book, err, sizeof err) == XLSX_OK) {
        read_all(book);
        xlsx_close(book);
    }
}

static void add(zip_t *za, const char *name, const void *data, size_t len)
{
    zip_source_t *s = zip_source_buffer(za, data, len, 0);
    if (s && zip_file_add(za, name, s, 0) < 0)
        zip_source_free(s);
}

static void sheet_only(const uint8_t *data, size_t size)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
    zip_error_fini(&ze);
    if (!za) {
        zip_source_free(src);
        return;
    }
    zip_source_keep(src);
    add(za, "xl/workbook.xml", workbook, sizeof workbook - 1);
    add(za, "xl/_rels/workbook.xml.rels", rels, sizeof rels - 1);
    add(za, "xl/sharedStrings.xml", strings, sizeof strings - 1);
    add(za, "xl/styles.xml", styles, sizeof styles - 1);
    add(za, "xl/worksheets/sheet1.xml", data, size);
    if (zip_close(za) != 0) {
        zip_discard(za);
        zip_source_free(src);
        return;
    }
    zip_stat_t st;
    unsigned char *buf = NULL;
    if (zip_source_stat(src, &st) == 0 && (buf = malloc(st.size + 1)) &&
        zip_source_open(src) == 0) {
        zip_int64_t n = zip_source_read(src, buf, st.size);
        zip_source_close(src);
        struct xlsx_book *book;
        char err[256];
        if (n == (zip_int64_t)st.size &&
            xlsx_open_mem(buf, st.size, &lim, &book, err, sizeof err) == XLSX_OK) {
            read_all(book);
            xlsx_close(book);
        }
    }
    free(buf);
    zip_source_free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        sheet_only(data + 1, size - 1);
    else
        whole_file(data + 1, size - 1);
    return 0;
}
