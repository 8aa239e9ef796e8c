/* Import templates and exports of stations and piles as xlsx (SPEC §6), written with
 * libxlsxwriter from protocol/records.h's column tables so templates, exports and imports agree. */
#include "mgmt/xlsx_write.h"

#include "protocol/records.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const struct extra_column station_extras[] = {
    {"status", "状态", 10, 1},
    {"company_name", "运营商", 30, 0},
    {"application_id", "申请单号", 10, 0},
    {"updated_at", "更新时间", 22, 0},
};

static const struct extra_column pile_extras[] = {
    {"status", "状态", 10, 1},
    {"station_name", "所属充电站", 30, 0},
    {"application_id", "申请单号", 10, 0},
    {"updated_at", "更新时间", 22, 0},
};

static const struct {
    const char *code, *label;
} status_labels[] = {
    {"draft", "草稿"},
    {"submitted", "已提交"},
    {"accessed", "已接入"},
    {"rejected", "已驳回"},
};

/* The example record of the instructions sheet: Zhongshan (area 442000), one DC pile with two
 * connectors. Values are as a user types them; enum codes are shown as "code-名称". */
struct example_value {
    enum rec_sheet sheet;
    const char *field;
    const char *value[2]; /* connectors: first and second */
};

static const struct example_value examples[] = {
    {REC_STATIONS, "station_id", {"ZS2024001"}},
    {REC_STATIONS, "name", {"中山市东区兴中广场充电站"}},
    {REC_STATIONS, "area_code", {"442000"}},
    {REC_STATIONS, "address", {"广东省中山市东区兴中道6号地下停车场B1层"}},
    {REC_STATIONS, "station_tel", {"0760-88886666"}},
    {REC_STATIONS, "service_tel", {"400-800-8888"}},
    {REC_STATIONS, "station_type", {"1"}},
    {REC_STATIONS, "station_status", {"50"}},
    {REC_STATIONS, "park_nums", {"20"}},
    {REC_STATIONS, "lng", {"113.392782"}},
    {REC_STATIONS, "lat", {"22.517645"}},
    {REC_STATIONS, "construction", {"9"}},
    {REC_STATIONS, "site_guide", {"从兴中道入口进入地下停车场，按充电指示牌行驶至B1层"}},
    {REC_STATIONS, "business_hours", {"00:00-24:00"}},
    {REC_STATIONS, "electricity_fee", {"0.80元/度"}},
    {REC_STATIONS, "service_fee", {"0.60元/度"}},
    {REC_STATIONS, "park_fee", {"充电期间免费停车2小时"}},
    {REC_STATIONS, "payment", {"线上、刷卡"}},
    {REC_STATIONS, "support_order", {"0"}},
    {REC_STATIONS, "remark", {"24小时营业"}},
    {REC_PILES, "equipment_id", {"ZS2024001P001"}},
    {REC_PILES, "station_id", {"ZS2024001"}},
    {REC_PILES, "manufacturer_id", {"MA4UJ9XY0"}},
    {REC_PILES, "manufacturer_name", {"中山市示例充电设备有限公司"}},
    {REC_PILES, "equipment_model", {"EVDC-120"}},
    {REC_PILES, "production_date", {"2023-06-15"}},
    {REC_PILES, "equipment_type", {"1"}},
    {REC_PILES, "power", {"120"}},
    {REC_PILES, "lng", {"113.392782"}},
    {REC_PILES, "lat", {"22.517645"}},
    {REC_PILES, "protocol", {"ocpp1.6"}},
    {REC_CONNECTORS, "connector_id", {"ZS2024001P00101", "ZS2024001P00102"}},
    {REC_CONNECTORS, "equipment_id", {"ZS2024001P001", "ZS2024001P001"}},
    {REC_CONNECTORS, "ocpp_connector_id", {"1", "2"}},
    {REC_CONNECTORS, "connector_name", {"1号枪", "2号枪"}},
    {REC_CONNECTORS, "connector_type", {"4", "4"}},
    {REC_CONNECTORS, "voltage_upper_limits", {"750", "750"}},
    {REC_CONNECTORS, "voltage_lower_limits", {"200", "200"}},
    {REC_CONNECTORS, "current", {"100", "100"}},
    {REC_CONNECTORS, "power", {"60", "60"}},
    {REC_CONNECTORS, "park_no", {"B1-018", "B1-019"}},
    {REC_CONNECTORS, "national_standard", {"2", "2"}},
};

/* How to fill the file, one rule per line; %s-free so they can be translated as whole lines. */
static const char *const rules_common[] = {
    "第 1 行为表头，请勿修改、删除或移动表头，也不要修改工作表名称；从第 2 行开始每行填写一条记录，"
    "中间不要留空行，不要合并单元格，不要使用公式。",
    "表头带“*”（红色）的列为必填项，不能为空；其他列可以留空。",
    "数据表中只放要导入的数据：表头以下的每一行都会作为数据导入，请不要填写示例、说明或合计行。"
    "示例见下文各列规则表的“示例”列（灰色斜体），仅供参考。",
    "单元格内容前后不能有空格，中间不能有连续空格，也不能有换行。多一个空格都可能导致申请失败！",
    "请使用半角（英文输入法）数字、字母和符号，不要使用全角字符（如“１２３”“ＡＢＣ”“－”）。",
    "编号、代码、电话等列已设为文本格式，请按文本填写，以免 Excel 改掉以 0 开头的编号"
    "（如 001 变成 1）或把长编号变成科学计数法。",
    "数值列（如车位数量、经度、纬度、功率、电压、电流）请填写数字，不要加单位，"
    "也不要把数字存成文本。",
    "带下拉箭头的列请从下拉列表中选择“代码-名称”（如“1-公共”），也可以只填代码（如“1”），"
    "导入时按代码识别。",
    "经纬度使用 GCJ-02 坐标系（高德、腾讯地图坐标），最多 6 位小数，"
    "如 经度 113.392782、纬度 22.517645。",
    "上传后整个文件一起校验：只要有一处错误，整个文件都不会导入；系统会列出每个问题所在的工作表、"
    "行号和列名，修改后重新上传即可。",
};

static const char *const rules_stations[] = {
    "本文件用于导入充电站信息，请在“充电站”工作表中填写。请先导入充电站，再用《2.后导入-充电桩信息"
    ".xlsx》导入充电桩；已有的充电站不必重复导入。",
    "“充电站编号”由运营商自行编制（字母或数字），同一运营商内不能重复，导入充电桩时用它关联充电站"
    "。",
    "“行政区划代码”填写 6 位国家标准行政区划代码（GB/T 2260），如中山市 442000。",
};

static const char *const rules_piles[] = {
    "本文件用于导入充电桩信息：充电桩填在“充电桩”工作表，每个充电枪（充电接口）在“充电枪”工作表中"
    "各占一行。请先用《1.先导入-充电站信息.xlsx》导入充电站。",
    "“充电站编号”必须是已有的充电站，或本次申请中已导入的充电站。",
    "“充电桩编码”全平台唯一，也是充电桩通过 OCPP 接入平台时使用的身份标识（Charge Point "
    "Identity）。",
    "“充电枪”表通过“充电桩编码”关联到“充电桩”表中的充电桩；每个充电桩至少有一个充电枪。",
    "“接口序号”即 OCPP 协议中的 connectorId：同一充电桩的充电枪从 1 开始连续编号（1、2、…、n），"
    "不重复、不跳号。",
    "充电枪额定功率不能大于所属充电桩的额定功率，也不能大于 额定电压上限 × 额定电流 ÷ 1000；"
    "额定电压下限不能大于上限。",
    "生产日期按 YYYY-MM-DD 填写（如 2023-06-15），不能晚于今天。",
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

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Display width of UTF-8 text: CJK and other wide characters count 2. */
static size_t text_width(const char *s)
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
static void enum_entry(const struct rec_enum *e, char *buf, size_t len)
{
    if (e->name && *e->name)
        snprintf(buf, len, "%s-%s", e->code, e->name);
    else
        snprintf(buf, len, "%s", e->code);
}

static const struct rec_enum *enum_find(const struct rec_column *col, const char *code)
{
    for (const struct rec_enum *e = col->enums; e && e->code; e++)
        if (strcmp(e->code, code) == 0)
            return e;
    return NULL;
}

static size_t enum_count(const struct rec_column *col)
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
static int book_open(struct book *b, enum xlsxw_book which, int constant_memory)
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

static void book_discard(struct book *b)
{
    if (b->wb)
        workbook_close(b->wb);
    b->wb = NULL;
    if (b->path[0])
        unlink(b->path);
}

/* Closes the workbook and reads the file into *out. */
static int book_finish(struct book *b, unsigned char **out, size_t *len)
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
static void write_lists(struct book *b, lxw_worksheet *ws)
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
            size_t chars = 0, n = enum_count(&cols[c]);
            int inline_ok = 1;

            if (cols[c].kind != REC_ENUM || n == 0)
                continue;
            for (const struct rec_enum *e = cols[c].enums; e->code; e++) {
                enum_entry(e, entry, sizeof entry);
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
            if (r < enum_count(lists[k].col)) {
                enum_entry(&lists[k].col->enums[r], entry, sizeof entry);
                worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)k, entry, b->text);
            }
}

/* A drop-down of "code-名称" entries on an enum column's data rows. */
static int add_dropdown(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet, size_t c,
                        const struct rec_column *col, lxw_row_t last_row)
{
    lxw_data_validation dv = {0};
    size_t n = enum_count(col);
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
    enum_entry(&col->enums[0], first, sizeof first);
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
            enum_entry(&col->enums[i], list[i], MAX_ENUM_TEXT);
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
    double w = (double)text_width(col->label) + (col->required ? 3 : 2);
    double want = 12;
    char entry[MAX_ENUM_TEXT];

    switch (col->kind) {
    case REC_TEXT:
        want = col->max_len > 0 ? col->max_len + 2 : 20;
        break;
    case REC_ENUM:
        want = 8;
        for (const struct rec_enum *e = col->enums; e && e->code; e++) {
            enum_entry(e, entry, sizeof entry);
            if (text_width(entry) + 4.0 > want)
                want = (double)text_width(entry) + 4.0;
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
static int setup_data_sheet(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet,
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
        if (col->kind == REC_ENUM && enum_count(col) &&
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

static const struct example_value *example_find(enum rec_sheet sheet, const char *field)
{
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        if (examples[i].sheet == sheet && strcmp(examples[i].field, field) == 0)
            return &examples[i];
    return NULL;
}

static int parse_date(const char *s, lxw_datetime *dt)
{
    int y, m, d, n = 0;

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || (s[10] && s[10] != 'T'))
        return 0;
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    *dt = (lxw_datetime){.year = y, .month = m, .day = d};
    return 1;
}

static int parse_number(const char *s, double *v)
{
    char *end;

    if (!*s || strchr(" \t\n", *s))
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    return !*end && errno == 0;
}

static void write_example_cell(struct book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
                               const struct rec_column *col, const char *v)
{
    lxw_datetime dt;
    double d;
    char entry[MAX_ENUM_TEXT];
    const struct rec_enum *e;

    if (!v || !*v) {
        worksheet_write_blank(ws, r, c, b->ex_text);
        return;
    }
    if ((col->kind == REC_INT || col->kind == REC_DECIMAL) && parse_number(v, &d)) {
        worksheet_write_number(ws, r, c, d, b->ex_num);
    } else if (col->kind == REC_DATE && parse_date(v, &dt)) {
        worksheet_write_datetime(ws, r, c, &dt, b->ex_date);
    } else if (col->kind == REC_ENUM && (e = enum_find(col, v))) {
        enum_entry(e, entry, sizeof entry);
        worksheet_write_string(ws, r, c, entry, b->ex_text);
    } else {
        worksheet_write_string(ws, r, c, v, b->ex_text);
    }
}

static const char *kind_text(const struct rec_column *col, char *buf, size_t len)
{
    switch (col->kind) {
    case REC_TEXT:
        if (col->max_len > 0)
            snprintf(buf, len, "文本，最多%d个字符", col->max_len);
        else
            snprintf(buf, len, "文本");
        return buf;
    case REC_INT:
        return "整数";
    case REC_DECIMAL:
        if (col->decimals > 0)
            snprintf(buf, len, "数字，最多%d位小数", col->decimals);
        else
            snprintf(buf, len, "数字");
        return buf;
    case REC_ENUM:
        return "代码（下拉选择）";
    case REC_DATE:
        return "日期 YYYY-MM-DD";
    }
    return "";
}

/* Lines a wrapped text takes in a column `width` characters wide (2 per CJK character). */
static size_t text_lines(const char *text, size_t width)
{
    size_t w = text_width(text);

    return w ? (w + width - 3) / (width - 2) : 1;
}

/* Writes a paragraph across the instructions' columns A..G, tall enough for its lines. */
static lxw_row_t write_paragraph(struct book *b, lxw_worksheet *ws, lxw_row_t r, const char *text,
                                 lxw_format *fmt)
{
    size_t lines = text_lines(text, HELP_WIDTH_ALL - 10);

    worksheet_merge_range(ws, r, 0, r, 6, text, fmt);
    worksheet_set_row(ws, r, 18.0 * (double)lines, NULL);
    return r + 1;
}

/* The rule table of one sheet on the instructions sheet: one row per column. */
static int write_column_rules(struct book *b, lxw_worksheet *ws, lxw_row_t *row,
                              enum rec_sheet sheet)
{
    size_t ncols;
    const struct rec_column *cols = rec_columns(sheet, &ncols);
    lxw_row_t r = *row;
    int two = sheet == REC_CONNECTORS;
    char buf[256], head[128];
    static const char *const heads[] = {"列名（表头）",        "必填", "类型",         "填写规则",
                                        "可选值（代码-名称）", "示例", "示例（第2行）"};

    if (!cols)
        return -1;
    snprintf(buf, sizeof buf, "“%s”工作表", rec_sheet_name(sheet));
    r++;
    worksheet_write_string(ws, r++, 0, buf, b->bold);
    for (lxw_col_t c = 0; c < (two ? 7 : 6); c++)
        worksheet_write_string(ws, r, c, two && c == 5 ? "示例（第1行）" : heads[c], b->table_head);
    r++;
    for (size_t c = 0; c < ncols; c++) {
        const struct rec_column *col = &cols[c];
        const struct example_value *ex = example_find(sheet, col->field);
        size_t n = enum_count(col), lines = 1, chars = 0;
        char *list = NULL;
        char entry[MAX_ENUM_TEXT];

        if (n) {
            size_t list_lines = 0;

            list = malloc(n * MAX_ENUM_TEXT + 1);
            if (!list)
                return -1;
            list[0] = '\0';
            for (const struct rec_enum *e = col->enums; e->code; e++) {
                enum_entry(e, entry, sizeof entry);
                chars += (size_t)sprintf(list + chars, "%s%s", chars ? "\n" : "", entry);
                list_lines += text_lines(entry, HELP_WIDTH_LIST);
            }
            lines = list_lines;
        }
        if (col->help && text_lines(col->help, HELP_WIDTH_RULE) > lines)
            lines = text_lines(col->help, HELP_WIDTH_RULE);
        for (int i = 0; ex && i < (two ? 2 : 1); i++) {
            const struct rec_enum *e = ex->value[i] ? enum_find(col, ex->value[i]) : NULL;

            if (e)
                enum_entry(e, entry, sizeof entry);
            else
                snprintf(entry, sizeof entry, "%s", ex->value[i] ? ex->value[i] : "");
            if (text_lines(entry, HELP_WIDTH_EXAMPLE) > lines)
                lines = text_lines(entry, HELP_WIDTH_EXAMPLE);
        }
        snprintf(head, sizeof head, "%s%s", col->label, col->required ? "*" : "");
        worksheet_write_string(ws, r, 0, head, col->required ? b->head_req : b->head_opt);
        worksheet_write_string(ws, r, 1, col->required ? "是" : "否", b->wrap);
        worksheet_write_string(ws, r, 2, kind_text(col, buf, sizeof buf), b->wrap);
        worksheet_write_string(ws, r, 3, col->help ? col->help : "", b->wrap);
        worksheet_write_string(ws, r, 4, list ? list : "", b->wrap);
        for (int i = 0; i < (two ? 2 : 1); i++)
            write_example_cell(b, ws, r, (lxw_col_t)(5 + i), col, ex ? ex->value[i] : NULL);
        worksheet_set_row(ws, r, 17.0 * (double)lines, NULL);
        free(list);
        r++;
    }
    *row = r + 1;
    return 0;
}

static int write_help(struct book *b, lxw_worksheet *ws, enum xlsxw_book which)
{
    const char *const *extra = which == XLSXW_STATIONS ? rules_stations : rules_piles;
    size_t nextra = which == XLSXW_STATIONS ? sizeof rules_stations / sizeof *rules_stations
                                            : sizeof rules_piles / sizeof *rules_piles;
    size_t nrule = 0;
    lxw_row_t r = 0;
    char line[1024];

    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_set_column(ws, 0, 0, 20, NULL);
    worksheet_set_column(ws, 1, 1, 6, NULL);
    worksheet_set_column(ws, 2, 2, 18, NULL);
    worksheet_set_column(ws, 3, 3, HELP_WIDTH_RULE, NULL);
    worksheet_set_column(ws, 4, 4, HELP_WIDTH_LIST, NULL);
    worksheet_set_column(ws, 5, 6, HELP_WIDTH_EXAMPLE, NULL);
    worksheet_set_row(ws, 0, 24, NULL);
    worksheet_write_string(ws, r++, 0,
                           which == XLSXW_STATIONS ? "《1.先导入-充电站信息》填写说明"
                                                   : "《2.后导入-充电桩信息》填写说明",
                           b->title);
    r++;
    worksheet_write_string(ws, r++, 0, "一、填写要求", b->bold);
    for (size_t i = 0; i < nextra; i++) {
        snprintf(line, sizeof line, "%zu. %s", ++nrule, extra[i]);
        r = write_paragraph(b, ws, r, line, b->wrap);
    }
    for (size_t i = 0; i < sizeof rules_common / sizeof *rules_common; i++) {
        snprintf(line, sizeof line, "%zu. %s", ++nrule, rules_common[i]);
        r = write_paragraph(b, ws, r, line, b->wrap);
    }
    r++;
    worksheet_write_string(ws, r++, 0,
                           "二、各列填写规则（表头带 * 的为必填列；“示例”列为灰色斜体的示例记录，"
                           "仅供参考，不要复制表头以外的说明文字）",
                           b->bold);
    for (size_t i = 0; i < b->nsheets; i++)
        if (write_column_rules(b, ws, &r, b->sheets[i])) {
            snprintf(b->err, sizeof b->err, "out of memory");
            return -1;
        }
    worksheet_activate(ws);
    return 0;
}

int xlsxw_template(enum xlsxw_book which, unsigned char **out, size_t *len, char *err,
                   size_t errlen)
{
    struct book b = {0};
    lxw_worksheet *help, *data[2], *lists;

    *out = NULL;
    *len = 0;
    if (which != XLSXW_STATIONS && which != XLSXW_PILES) {
        set_err(err, errlen, "unknown workbook %d", (int)which);
        return -1;
    }
    if (book_open(&b, which, 0))
        goto fail;
    help = workbook_add_worksheet(b.wb, SHEET_HELP);
    for (size_t i = 0; i < b.nsheets; i++)
        data[i] = workbook_add_worksheet(b.wb, rec_sheet_name(b.sheets[i]));
    lists = workbook_add_worksheet(b.wb, SHEET_LISTS);
    if (!help || !lists || !data[0] || (b.nsheets > 1 && !data[1])) {
        snprintf(b.err, sizeof b.err, "cannot add the worksheets");
        goto fail;
    }
    write_lists(&b, lists);
    if (write_help(&b, help, which))
        goto fail;
    for (size_t i = 0; i < b.nsheets; i++)
        if (setup_data_sheet(&b, data[i], b.sheets[i], NULL, 0, XLSXW_VALIDATION_ROWS, 1))
            goto fail;
    if (book_finish(&b, out, len))
        goto fail;
    book_discard(&b);
    return 0;
fail:
    set_err(err, errlen, "%s", b.err[0] ? b.err : "cannot write the template");
    book_discard(&b);
    return -1;
}

/* The text of a scalar: strings as they are, integers and reals in decimal, booleans as 1/0. */
static const char *scalar_text(const json_t *v, char *buf, size_t len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, len, "%.15g", json_real_value(v));
        if (strtod(buf, NULL) != json_real_value(v))
            snprintf(buf, len, "%.17g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "1";
    case JSON_FALSE:
        return "0";
    default:
        return NULL;
    }
}

/* One value of an export under column `col`, typed by the column's kind. */
static lxw_error write_value(struct book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
                             const struct rec_column *col, const json_t *v)
{
    char buf[64], entry[MAX_ENUM_TEXT];
    const char *text;
    lxw_datetime dt;
    double d;
    const struct rec_enum *e;

    if (!v || json_is_null(v))
        return LXW_NO_ERROR;
    text = scalar_text(v, buf, sizeof buf);
    if (!text || !*text)
        return LXW_NO_ERROR;
    switch (col->kind) {
    case REC_INT:
    case REC_DECIMAL:
        if (json_is_number(v))
            return worksheet_write_number(ws, r, c, json_number_value(v), NULL);
        if (parse_number(text, &d))
            return worksheet_write_number(ws, r, c, d, NULL);
        break;
    case REC_DATE:
        if (parse_date(text, &dt))
            return worksheet_write_datetime(ws, r, c, &dt, b->date);
        break;
    case REC_ENUM:
        if ((e = enum_find(col, text))) {
            enum_entry(e, entry, sizeof entry);
            return worksheet_write_string(ws, r, c, entry, b->text);
        }
        break;
    case REC_TEXT:
        break;
    }
    return worksheet_write_string(ws, r, c, text, b->text);
}

static lxw_error write_extra(struct book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
                             const struct extra_column *x, const json_t *v)
{
    char buf[64];
    const char *text;

    if (!v || !(text = scalar_text(v, buf, sizeof buf)) || !*text)
        return LXW_NO_ERROR;
    if (x->is_status)
        for (size_t i = 0; i < sizeof status_labels / sizeof *status_labels; i++)
            if (strcmp(status_labels[i].code, text) == 0)
                text = status_labels[i].label;
    return worksheet_write_string(ws, r, c, text, b->text);
}

/* One record as row r of a data sheet; `pile_id` replaces the record's equipment_id (the
 * connectors of a pile carry their pile's). */
static int write_record(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet, lxw_row_t r,
                        const json_t *item, const json_t *pile_id,
                        const struct extra_column *extras, size_t nextras)
{
    size_t ncols;
    const struct rec_column *cols = rec_columns(sheet, &ncols);
    lxw_error rc;
    size_t c;

    for (c = 0; c < ncols + nextras; c++) {
        if (c < ncols) {
            const json_t *v = pile_id && strcmp(cols[c].field, "equipment_id") == 0
                                  ? pile_id
                                  : json_object_get(item, cols[c].field);

            rc = write_value(b, ws, r, (lxw_col_t)c, &cols[c], v);
        } else {
            const struct extra_column *x = &extras[c - ncols];

            rc = write_extra(b, ws, r, (lxw_col_t)c, x, json_object_get(item, x->field));
        }
        if (rc != LXW_NO_ERROR) {
            snprintf(b->err, sizeof b->err, "sheet %s row %u column %s: %s", rec_sheet_name(sheet),
                     (unsigned)r + 1, c < ncols ? cols[c].label : extras[c - ncols].label,
                     lxw_strerror(rc));
            return -1;
        }
    }
    return 0;
}

int xlsxw_export(enum xlsxw_book which, const json_t *items, unsigned char **out, size_t *len,
                 char *err, size_t errlen)
{
    struct book b = {0};
    lxw_worksheet *data[2] = {NULL, NULL}, *lists;
    const struct extra_column *extras = which == XLSXW_STATIONS ? station_extras : pile_extras;
    size_t nextras = which == XLSXW_STATIONS ? sizeof station_extras / sizeof *station_extras
                                             : sizeof pile_extras / sizeof *pile_extras;
    size_t nrows[2] = {0, 0}, i;
    lxw_row_t row[2] = {1, 1};
    const json_t *item;

    *out = NULL;
    *len = 0;
    if (which != XLSXW_STATIONS && which != XLSXW_PILES) {
        set_err(err, errlen, "unknown workbook %d", (int)which);
        return -1;
    }
    if (!json_is_array(items)) {
        set_err(err, errlen, "items is not an array");
        return -1;
    }
    /* Count rows first: the drop-downs must be set up before a streamed row is written. */
    json_array_foreach(items, i, item)
    {
        if (!json_is_object(item)) {
            set_err(err, errlen, "item %zu is not an object", i);
            return -1;
        }
        nrows[0]++;
        if (which == XLSXW_PILES)
            nrows[1] += json_array_size(json_object_get(item, "connectors"));
    }
    if (nrows[0] > XLSXW_MAX_ROWS || nrows[1] > XLSXW_MAX_ROWS) {
        set_err(err, errlen, "%zu rows do not fit a worksheet (at most %u)",
                nrows[0] > nrows[1] ? nrows[0] : nrows[1], XLSXW_MAX_ROWS);
        return -1;
    }
    if (book_open(&b, which, 1))
        goto fail;
    for (i = 0; i < b.nsheets; i++)
        data[i] = workbook_add_worksheet(b.wb, rec_sheet_name(b.sheets[i]));
    lists = workbook_add_worksheet(b.wb, SHEET_LISTS);
    if (!lists || !data[0] || (b.nsheets > 1 && !data[1])) {
        snprintf(b.err, sizeof b.err, "cannot add the worksheets");
        goto fail;
    }
    write_lists(&b, lists);
    for (i = 0; i < b.nsheets; i++) {
        lxw_row_t last = nrows[i] > XLSXW_VALIDATION_ROWS ? (lxw_row_t)nrows[i]
                                                          : (lxw_row_t)XLSXW_VALIDATION_ROWS;

        if (setup_data_sheet(&b, data[i], b.sheets[i], i == 0 ? extras : NULL, i == 0 ? nextras : 0,
                             last, 0))
            goto fail;
    }
    json_array_foreach(items, i, item)
    {
        const json_t *conns, *conn;
        size_t j;

        if (write_record(&b, data[0], b.sheets[0], row[0]++, item, NULL, extras, nextras))
            goto fail;
        if (which != XLSXW_PILES)
            continue;
        conns = json_object_get(item, "connectors");
        json_array_foreach(conns, j, conn)
        {
            if (!json_is_object(conn)) {
                snprintf(b.err, sizeof b.err, "item %zu: connector %zu is not an object", i, j);
                goto fail;
            }
            if (write_record(&b, data[1], REC_CONNECTORS, row[1]++, conn,
                             json_object_get(item, "equipment_id"), NULL, 0))
                goto fail;
        }
    }
    if (book_finish(&b, out, len))
        goto fail;
    book_discard(&b);
    return 0;
fail:
    set_err(err, errlen, "%s", b.err[0] ? b.err : "cannot write the export");
    book_discard(&b);
    return -1;
}
