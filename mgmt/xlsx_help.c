/* The instructions sheet (填写说明) of the import templates: general rules, the rules of each
 * column from protocol/records.h, and an example record. */
#include "mgmt/xlsx_write_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const struct example_value *example_find(enum rec_sheet sheet, const char *field)
{
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        if (examples[i].sheet == sheet && strcmp(examples[i].field, field) == 0)
            return &examples[i];
    return NULL;
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
    if ((col->kind == REC_INT || col->kind == REC_DECIMAL) && xw_parse_number(v, &d)) {
        worksheet_write_number(ws, r, c, d, b->ex_num);
    } else if (col->kind == REC_DATE && xw_parse_date(v, &dt)) {
        worksheet_write_datetime(ws, r, c, &dt, b->ex_date);
    } else if (col->kind == REC_ENUM && (e = xw_enum_find(col, v))) {
        xw_enum_entry(e, entry, sizeof entry);
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
    size_t w = xw_text_width(text);

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
        size_t n = xw_enum_count(col), lines = 1, chars = 0;
        char *list = NULL;
        char entry[MAX_ENUM_TEXT];

        if (n) {
            size_t list_lines = 0;

            list = malloc(n * MAX_ENUM_TEXT + 1);
            if (!list)
                return -1;
            list[0] = '\0';
            for (const struct rec_enum *e = col->enums; e->code; e++) {
                xw_enum_entry(e, entry, sizeof entry);
                chars += (size_t)sprintf(list + chars, "%s%s", chars ? "\n" : "", entry);
                list_lines += text_lines(entry, HELP_WIDTH_LIST);
            }
            lines = list_lines;
        }
        if (col->help && text_lines(col->help, HELP_WIDTH_RULE) > lines)
            lines = text_lines(col->help, HELP_WIDTH_RULE);
        for (int i = 0; ex && i < (two ? 2 : 1); i++) {
            const struct rec_enum *e = ex->value[i] ? xw_enum_find(col, ex->value[i]) : NULL;

            if (e)
                xw_enum_entry(e, entry, sizeof entry);
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

int xw_write_help(struct book *b, lxw_worksheet *ws, enum xlsxw_book which)
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
