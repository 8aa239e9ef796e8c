/* Stations, piles and connectors: the columns of the xlsx templates and their enumerations
 * (T/CEC 102 codes), with the lookups in them and in the area table. See records_private.h. */
#include "protocol/records_private.h"

#include <string.h>

/* ---- Enumerations (T/CEC 102 codes and names) ---- */

static const struct rec_enum station_types[] = {
    {"1", "公共"},         {"50", "个人"},          {"100", "公交(专用)"}, {"101", "环卫(专用)"},
    {"102", "物流(专用)"}, {"103", "出租车(专用)"}, {"255", "其他"},       {NULL, NULL},
};
static const struct rec_enum station_statuses[] = {
    {"0", "未知"},   {"1", "建设中"},    {"5", "关闭下线"},
    {"6", "维护中"}, {"50", "正常使用"}, {NULL, NULL},
};
static const struct rec_enum constructions[] = {
    {"1", "居民区"},       {"2", "公共机构"},        {"3", "企事业单位"},
    {"4", "写字楼"},       {"5", "工业园区"},        {"6", "交通枢纽"},
    {"7", "大型文体设施"}, {"8", "城市绿地"},        {"9", "大型建筑配建停车场"},
    {"10", "路边停车位"},  {"11", "城际高速服务区"}, {"255", "其他"},
    {NULL, NULL},
};
static const struct rec_enum yes_no[] = {{"0", "否"}, {"1", "是"}, {NULL, NULL}};
static const struct rec_enum equipment_types[] = {
    {"1", "直流设备"}, {"2", "交流设备"}, {"3", "交直流一体设备"},
    {"4", "无线设备"}, {"5", "其他"},     {NULL, NULL},
};
static const struct rec_enum protocols[] = {
    {"ocpp1.6", "OCPP 1.6J"},
    {"ocpp2.0.1", "OCPP 2.0.1"},
    {"platform", "经运营商平台上报"},
    {NULL, NULL},
};
static const struct rec_enum connector_types[] = {
    {"1", "家用插座(模式2)"},
    {"2", "交流接口插座(模式3，连接方式B)"},
    {"3", "交流接口插头(带枪线，模式3，连接方式C)"},
    {"4", "直流接口枪头(带枪线，模式4)"},
    {"5", "无线充电座"},
    {"6", "其他"},
    {NULL, NULL},
};
static const struct rec_enum national_standards[] = {{"1", "2011"}, {"2", "2015"}, {NULL, NULL}};

/* ---- Columns, in template order ---- */

#define TEXT(f, l, req, len, cs, h)                                                                \
    {                                                                                              \
        .field = f, .label = l, .kind = REC_TEXT, .required = req, .max_len = len, .charset = cs,  \
        .help = h                                                                                  \
    }
#define INT(f, l, req, lo, hi, h)                                                                  \
    {                                                                                              \
        .field = f, .label = l, .kind = REC_INT, .required = req, .min = lo, .max = hi, .help = h  \
    }
#define DEC(f, l, req, lo, hi, d, h)                                                               \
    {                                                                                              \
        .field = f, .label = l, .kind = REC_DECIMAL, .required = req, .min = lo, .max = hi,        \
        .decimals = d, .help = h                                                                   \
    }
#define ENUM(f, l, req, e, h)                                                                      \
    {                                                                                              \
        .field = f, .label = l, .kind = REC_ENUM, .required = req, .enums = e, .help = h           \
    }
#define DATE(f, l, req, h)                                                                         \
    {                                                                                              \
        .field = f, .label = l, .kind = REC_DATE, .required = req, .help = h                       \
    }

static const struct rec_column station_columns[] = {
    TEXT("station_id", "充电站编号", 1, 20, "alnum", "必填；1–20位字母或数字，同一运营商内唯一"),
    TEXT("name", "充电站名称", 1, 50, NULL, "必填；不超过50个字"),
    TEXT("area_code", "行政区划代码", 1, 6, "area",
         "必填；6位GB/T 2260区县代码，不设区的市填市代码（如中山市442000）"),
    TEXT("address", "详细地址", 1, 50, NULL, "必填；不超过50个字"),
    TEXT("station_tel", "站点电话", 0, 30, "phone", "选填；不超过30位：数字、-、+、空格"),
    TEXT("service_tel", "服务电话", 1, 30, "phone", "必填；不超过30位：数字、-、+、空格"),
    ENUM("station_type", "站点类型", 1, station_types, "必填；填代码，或从下拉列表选“代码-名称”"),
    ENUM("station_status", "站点状态", 1, station_statuses,
         "必填；填代码，或从下拉列表选“代码-名称”"),
    INT("park_nums", "车位数量", 1, 0, 100000, "必填；整数0–100000，0表示未知"),
    DEC("lng", "经度", 1, 73, 136, 6, "必填；GCJ-02经度，73–136，最多6位小数"),
    DEC("lat", "纬度", 1, 3, 54, 6, "必填；GCJ-02纬度，3–54，最多6位小数"),
    ENUM("construction", "建设场所", 1, constructions, "必填；填代码，或从下拉列表选“代码-名称”"),
    TEXT("site_guide", "站点引导", 0, 100, NULL, "选填；不超过100个字"),
    TEXT("business_hours", "营业时间", 0, 100, NULL, "选填；不超过100个字"),
    TEXT("electricity_fee", "充电电费", 0, 256, NULL, "选填；不超过256个字"),
    TEXT("service_fee", "服务费", 0, 256, NULL, "选填；不超过256个字"),
    TEXT("park_fee", "停车费", 0, 100, NULL, "选填；不超过100个字"),
    TEXT("payment", "支付方式", 0, 20, NULL, "选填；不超过20个字，如：刷卡、线上、现金"),
    ENUM("support_order", "是否支持预约", 0, yes_no, "选填；0-否，1-是"),
    TEXT("remark", "备注", 0, 100, NULL, "选填；不超过100个字"),
};

static const struct rec_column pile_columns[] = {
    TEXT("equipment_id", "充电桩编码", 1, 23, "alnum",
         "必填；1–23位字母或数字，平台内唯一，也是桩的OCPP标识"),
    TEXT("station_id", "充电站编号", 1, 20, "alnum", "必填；所属充电站的编号"),
    TEXT("manufacturer_id", "生产商组织机构代码", 0, 9, "alnum", "选填；不超过9位字母或数字"),
    TEXT("manufacturer_name", "生产商名称", 0, 30, NULL, "选填；不超过30个字"),
    TEXT("equipment_model", "设备型号", 0, 20, NULL, "选填；不超过20个字"),
    DATE("production_date", "生产日期", 0, "选填；日期YYYY-MM-DD，不晚于今天"),
    ENUM("equipment_type", "设备类型", 1, equipment_types,
         "必填；填代码，或从下拉列表选“代码-名称”"),
    DEC("power", "额定功率(kW)", 1, 0.1, 10000, 1, "必填；单位kW，大于0且不超过10000，最多1位小数"),
    DEC("lng", "经度", 0, 73, 136, 6, "选填；GCJ-02经度，73–136，最多6位小数"),
    DEC("lat", "纬度", 0, 3, 54, 6, "选填；GCJ-02纬度，3–54，最多6位小数"),
    ENUM("protocol", "接入协议", 1, protocols,
         "必填；ocpp1.6、ocpp2.0.1或platform（经运营商平台上报）"),
};

static const struct rec_column connector_columns[] = {
    TEXT("connector_id", "充电接口编码", 1, 26, "alnum", "必填；1–26位字母或数字，平台内唯一"),
    TEXT("equipment_id", "充电桩编码", 1, 23, "alnum", "必填；所属充电桩的编码"),
    INT("ocpp_connector_id", "接口序号", 1, 1, 64, "必填；整数，同一充电桩的枪从1起连续编号"),
    TEXT("connector_name", "接口名称", 0, 30, NULL, "选填；不超过30个字"),
    ENUM("connector_type", "接口类型", 1, connector_types,
         "必填；填代码，或从下拉列表选“代码-名称”"),
    INT("voltage_upper_limits", "额定电压上限(V)", 1, 1, 2000, "必填；整数，单位V，1–2000"),
    INT("voltage_lower_limits", "额定电压下限(V)", 1, 1, 2000,
        "必填；整数，单位V，1–2000，不大于电压上限"),
    DEC("current", "额定电流(A)", 1, 0.1, 2000, 1, "必填；单位A，大于0且不超过2000，最多1位小数"),
    DEC("power", "额定功率(kW)", 1, 0.1, 10000, 1,
        "必填；单位kW，大于0，最多1位小数，不超过桩功率及电压上限×电流÷1000"),
    TEXT("park_no", "车位号", 0, 10, NULL, "选填；不超过10个字"),
    ENUM("national_standard", "国家标准", 1, national_standards, "必填；1-2011，2-2015"),
};

static const struct {
    const char *name;
    const struct rec_column *cols;
    size_t n;
} sheets[REC_SHEETS] = {
    {"充电站", station_columns, sizeof station_columns / sizeof station_columns[0]},
    {"充电桩", pile_columns, sizeof pile_columns / sizeof pile_columns[0]},
    {"充电枪", connector_columns, sizeof connector_columns / sizeof connector_columns[0]},
};

const char *rec_sheet_name(enum rec_sheet sheet)
{
    return (unsigned)sheet < REC_SHEETS ? sheets[sheet].name : NULL;
}

const struct rec_column *rec_columns(enum rec_sheet sheet, size_t *count)
{
    if ((unsigned)sheet >= REC_SHEETS) {
        *count = 0;
        return NULL;
    }
    *count = sheets[sheet].n;
    return sheets[sheet].cols;
}

const struct rec_column *rec_column_by_label(enum rec_sheet sheet, const char *header)
{
    char h[WORK_MAX + 1], why[160];
    size_t n, cols_n;
    const struct rec_column *cols = rec_columns(sheet, &cols_n);
    if (!cols || !header || strnlen(header, WORK_MAX + 1) > WORK_MAX)
        return NULL;
    unsigned cp;
    for (size_t i = 0, k; header[i]; i += k)
        if (!(k = rp_utf8_next(header + i, &cp)))
            return NULL;
    rp_normalise_spaces(header, h, why, sizeof why);
    n = strlen(h);
    if (n >= 1 && h[n - 1] == '*')
        h[--n] = 0;
    else if (n >= 3 && !strcmp(h + n - 3, "＊"))
        h[n -= 3] = 0;
    while (n > 0 && h[n - 1] == ' ')
        h[--n] = 0;
    for (size_t i = 0; i < cols_n; i++)
        if (!strcmp(h, cols[i].label))
            return &cols[i];
    return NULL;
}

/* ---- Areas ---- */

const char *rec_area_name(const char *code6)
{
    size_t n;
    const struct rec_area *all = rec_areas(&n), *a = rec_area_find(code6);
    if (!a)
        return NULL;
    /* The generator orders the table so that a code's children come right after it. */
    const struct rec_area *next = a + 1;
    if (next < all + n && next->parent && !strcmp(next->parent, a->code))
        return NULL;
    return a->name;
}

int rec_area_accepted(const char *code6, const char *prefixes)
{
    int any = 0;
    if (!code6)
        return 0;
    for (const char *s = prefixes ? prefixes : ""; *s;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *b = s;
        while (len > 0 && *b == ' ')
            b++, len--;
        while (len > 0 && b[len - 1] == ' ')
            len--;
        if (len > 0) {
            any = 1;
            if (!strncmp(code6, b, len))
                return 1;
        }
        s = end ? end + 1 : s + strlen(s);
    }
    return !any;
}
