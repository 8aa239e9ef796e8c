/* Stations, piles and connectors: the xlsx columns and every value rule of docs/api-records.md,
 * one implementation for JSON forms and xlsx imports. Pure code, no I/O. */
#include "protocol/records.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- UTF-8 and spaces ---- */

/* The longest input looked at; anything longer is refused before any copy. Normalising only
 * shrinks a text, so work buffers of this size always suffice. */
#define WORK_MAX 4096

/* Decodes one strict UTF-8 sequence (no overlongs, surrogates or code points past U+10FFFF).
 * Returns its length, or 0 when `s` does not start with a valid sequence. */
static size_t utf8_next(const char *str, unsigned *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Cuts `s` at its first invalid or incomplete sequence (after a truncating snprintf). */
static void utf8_trim(char *s)
{
    unsigned cp;
    for (size_t i = 0, k; s[i]; i += k) {
        if (!(k = utf8_next(s + i, &cp))) {
            s[i] = 0;
            return;
        }
    }
}

static size_t utf8_count(const char *s)
{
    size_t n = 0;
    unsigned cp;
    for (size_t k; *s; s += k, n++)
        if (!(k = utf8_next(s, &cp)))
            k = 1;
    return n;
}

static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* 1: a space-like character (collapsed to one ' ' between words, dropped at the ends);
 * 2: an invisible one (dropped); 0: neither. */
static int space_kind(unsigned cp)
{
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000)
        return 1;
    if (cp == 0x200B || cp == 0x2060 || cp == 0xFEFF)
        return 2;
    return 0;
}

static int is_control(unsigned cp)
{
    return (cp < 0x20 && !space_kind(cp)) || (cp >= 0x7F && cp <= 0x9F);
}

static void space_name(unsigned cp, char *buf, size_t len)
{
    if (cp == ' ')
        snprintf(buf, len, "space");
    else if (cp == '\t')
        snprintf(buf, len, "tab");
    else if (cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029)
        snprintf(buf, len, "line break");
    else if (cp == 0x3000)
        snprintf(buf, len, "full-width space (U+3000)");
    else if (cp == 0xA0 || cp == 0x202F)
        snprintf(buf, len, "non-breaking space (U+%04X)", cp);
    else if (space_kind(cp) == 2)
        snprintf(buf, len, "zero-width character (U+%04X)", cp);
    else
        snprintf(buf, len, "special space (U+%04X)", cp);
}

/* Copies valid UTF-8 `in` to `out` (at least strlen(in) + 1 bytes) trimmed, with inner runs of
 * spaces collapsed to one ' ' and invisible characters dropped. Returns 1 when that changed
 * anything, with what in `why`. */
static int normalise_spaces(const char *in, char *out, char *why, size_t whylen)
{
    size_t o = 0, k;
    unsigned cp, lead = 0, trail = 0, odd = 0, invisible = 0;
    int doubled = 0, seen_text = 0;
    size_t run = 0;
    unsigned run_first = 0;
    for (size_t i = 0; in[i]; i += k) {
        if (!(k = utf8_next(in + i, &cp))) /* callers validate first; never loop forever */
            k = 1, cp = 0xFFFD;
        int sk = space_kind(cp);
        if (sk == 2) {
            if (!invisible)
                invisible = cp;
            continue;
        }
        if (sk == 1) {
            if (!seen_text) {
                if (!lead)
                    lead = cp;
                continue;
            }
            if (!run)
                run_first = cp;
            run++;
            continue;
        }
        if (run) {
            if (run > 1)
                doubled = 1;
            else if (run_first != ' ' && !odd)
                odd = run_first;
            out[o++] = ' ';
        }
        run = 0;
        seen_text = 1;
        memcpy(out + o, in + i, k);
        o += k;
    }
    if (run)
        trail = run_first;
    out[o] = 0;
    char name[48], name2[48];
    if (!seen_text && (lead || invisible)) {
        snprintf(why, whylen, "holds only spaces");
    } else if (lead && trail) {
        space_name(lead, name, sizeof name);
        space_name(trail, name2, sizeof name2);
        snprintf(why, whylen, "has a leading %s and a trailing %s", name, name2);
    } else if (lead) {
        space_name(lead, name, sizeof name);
        snprintf(why, whylen, "has a leading %s", name);
    } else if (trail) {
        space_name(trail, name, sizeof name);
        snprintf(why, whylen, "has a trailing %s", name);
    } else if (doubled) {
        snprintf(why, whylen, "has doubled spaces");
    } else if (odd) {
        space_name(odd, name, sizeof name);
        snprintf(why, whylen, "has a %s between words", name);
    } else if (invisible) {
        space_name(invisible, name, sizeof name);
        snprintf(why, whylen, "has an invisible %s", name);
    } else {
        return 0;
    }
    return 1;
}

/* Folds full-width forms U+FF01-U+FF5E to ASCII in place. Returns 1 when there were any. */
static int fold_full_width(char *s)
{
    size_t o = 0, k;
    unsigned cp;
    int any = 0;
    for (size_t i = 0; s[i]; i += k) {
        if (!(k = utf8_next(s + i, &cp)))
            k = 1, cp = 0xFFFD;
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            s[o++] = (char)(cp - 0xFEE0);
            any = 1;
        } else {
            memmove(s + o, s + i, k);
            o += k;
        }
    }
    s[o] = 0;
    return any;
}

/* Copies at most `chars` characters of valid UTF-8 `src` into dst (dstlen bytes), adding "…"
 * when it had to cut: user values quoted in reasons stay short. */
static void clip(char *dst, size_t dstlen, const char *src, size_t chars)
{
    size_t o = 0, k;
    unsigned cp;
    for (size_t i = 0, n = 0; src[i]; i += k, n++) {
        k = utf8_next(src + i, &cp);
        if (!k || n == chars || o + k + 4 > dstlen) {
            if (o + 4 <= dstlen) {
                memcpy(dst + o, "…", 3);
                o += 3;
            }
            break;
        }
        memcpy(dst + o, src + i, k);
        o += k;
    }
    dst[o] = 0;
}

/* ---- Problems ---- */

__attribute__((format(printf, 3, 4))) static int problem(struct rec_problem *p, const char *code,
                                                         const char *fmt, ...)
{
    va_list ap;
    p->code = code;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    utf8_trim(p->reason);
    p->suggestion[0] = 0;
    return -1;
}

static void suggest(struct rec_problem *p, const char *value)
{
    if (strlen(value) < sizeof p->suggestion)
        strcpy(p->suggestion, value);
    else
        p->suggestion[0] = 0;
}

/* The first fixable problem of a value (spaces, full_width, a cell of the wrong kind): reported
 * in place of the value's own problems, with the corrected value as suggestion. */
struct flag {
    const char *code;
    char reason[160];
};

__attribute__((format(printf, 3, 4))) static void flag_set(struct flag *f, const char *code,
                                                           const char *fmt, ...)
{
    if (f->code)
        return;
    va_list ap;
    f->code = code;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
    utf8_trim(f->reason);
}

/* A check_* result meaning "report this problem even before the flags". */
#define FATAL (-2)

/* ---- Numbers: exact decimal text, no doubles until the range check ---- */

#define NUM_DIGITS   40
#define EXCEL_DIGITS 15 /* Excel keeps 15 significant digits */

struct num {
    int neg;
    char d[NUM_DIGITS + 1]; /* significant digits, no leading or trailing zeros; "" for 0 */
    int nd;
    long e; /* value = d × 10^e */
};

/* Parses [+-]digits[.digits][(e|E)[+-]digits]. Returns 0 or -1. */
static int parse_num(const char *s, struct num *n)
{
    memset(n, 0, sizeof *n);
    long frac = 0, dropped = 0, exp = 0;
    int digits = 0;
    if (*s == '+' || *s == '-')
        n->neg = *s++ == '-';
    for (int in_frac = 0;; s++) {
        if (*s == '.' && !in_frac) {
            in_frac = 1;
            continue;
        }
        if (*s < '0' || *s > '9')
            break;
        digits++;
        if (in_frac)
            frac++;
        if (n->nd == 0 && *s == '0')
            continue;
        if (n->nd < NUM_DIGITS)
            n->d[n->nd++] = *s;
        else
            dropped++;
    }
    if (!digits)
        return -1;
    if (*s == 'e' || *s == 'E') {
        int eneg = 0, edigits = 0;
        s++;
        if (*s == '+' || *s == '-')
            eneg = *s++ == '-';
        for (; *s >= '0' && *s <= '9'; s++, edigits++)
            if (exp < 1000000)
                exp = exp * 10 + (*s - '0');
        if (!edigits)
            return -1;
        if (eneg)
            exp = -exp;
    }
    if (*s)
        return -1;
    n->e = exp - frac + dropped;
    while (n->nd > 0 && n->d[n->nd - 1] == '0')
        n->nd--, n->e++;
    n->d[n->nd] = 0;
    if (n->nd == 0)
        n->neg = 0, n->e = 0;
    return 0;
}

static long num_int_digits(const struct num *n)
{
    return n->nd ? n->nd + n->e : 0;
}

static long num_decimals(const struct num *n)
{
    return n->e < 0 ? -n->e : 0;
}

/* Rounds to Excel's 15 significant digits: a stored 113.39123400000001 is 113.391234. */
static void num_round(struct num *n)
{
    if (n->nd <= EXCEL_DIGITS)
        return;
    int up = n->d[EXCEL_DIGITS] >= '5';
    n->e += n->nd - EXCEL_DIGITS;
    n->nd = EXCEL_DIGITS;
    if (up) {
        int i = EXCEL_DIGITS - 1;
        while (i >= 0 && n->d[i] == '9')
            n->d[i--] = '0';
        if (i < 0) {
            n->d[0] = '1';
            n->nd = 1;
            n->e += EXCEL_DIGITS;
        } else {
            n->d[i]++;
        }
    }
    while (n->nd > 0 && n->d[n->nd - 1] == '0')
        n->nd--, n->e++;
    n->d[n->nd] = 0;
}

/* Writes the plain decimal form ("-12.5", "0.001", "1000"). Returns -1 when it would not fit
 * (or be absurdly long). */
static int num_render(const struct num *n, char *out, size_t len)
{
    long ints = num_int_digits(n), decs = num_decimals(n);
    if (ints > 60 || decs > 60 || (size_t)(n->nd + 64 + 3) > len)
        return -1;
    size_t o = 0;
    if (n->nd == 0) {
        strcpy(out, "0");
        return 0;
    }
    if (n->neg)
        out[o++] = '-';
    if (n->e >= 0) {
        memcpy(out + o, n->d, (size_t)n->nd);
        o += (size_t)n->nd;
        for (long i = 0; i < n->e; i++)
            out[o++] = '0';
    } else if (ints > 0) {
        memcpy(out + o, n->d, (size_t)ints);
        o += (size_t)ints;
        out[o++] = '.';
        memcpy(out + o, n->d + ints, (size_t)(n->nd - ints));
        o += (size_t)(n->nd - ints);
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (long i = 0; i < -ints; i++)
            out[o++] = '0';
        memcpy(out + o, n->d, (size_t)n->nd);
        o += (size_t)n->nd;
    }
    out[o] = 0;
    return 0;
}

static double num_value(const struct num *n)
{
    char buf[NUM_DIGITS + 32];
    if (n->nd == 0)
        return 0;
    snprintf(buf, sizeof buf, "%s0.%se%ld", n->neg ? "-" : "", n->d, n->e + n->nd);
    return strtod(buf, NULL);
}

/* ---- Per-kind checks: each gets the value with spaces (and, except enums, full-width forms)
 * fixed; returns 0 with canon set, -1 or FATAL with *p set; may raise a flag. ---- */

static int check_area(const char *s, struct rec_problem *p)
{
    size_t n = strlen(s), digits = strspn(s, "0123456789");
    if (n != 6 || digits != 6) {
        if (digits == n)
            return problem(p, "bad_format", "must be a 6-digit GB/T 2260 code (got %zu digits)", n);
        return problem(p, "bad_format", "must be a 6-digit GB/T 2260 code");
    }
    if (rec_area_name(s))
        return 0;
    const struct rec_area *a = rec_area_find(s);
    if (!a)
        return problem(p, "bad_format", "not a GB/T 2260 code");
    if (!a->parent)
        return problem(p, "bad_format",
                       "is the province %s, not a district: enter a district's code", a->name);
    return problem(p, "bad_format", "is the city %s, which has districts: enter a district's code",
                   a->name);
}

static int check_text(const struct rec_column *col, enum rec_cell cell, const char *w, char *canon,
                      size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    char digits[96], shown[48];
    const char *s = w;
    if (cell == REC_CELL_NUMBER) {
        struct num n;
        if (parse_num(w, &n) == 0) {
            clip(shown, sizeof shown, w, 24);
            if (num_int_digits(&n) > EXCEL_DIGITS) {
                problem(p, "text_as_number",
                        "is a number cell too large to be exact (%s): Excel keeps only 15 digits; "
                        "enter the value as text",
                        shown);
                return FATAL;
            }
            num_round(&n);
            if (num_render(&n, digits, sizeof digits) == 0)
                s = digits;
        }
        flag_set(fl, "text_as_number", "is a number cell%s; enter it as text",
                 col->charset && !strcmp(col->charset, "phone") ? " (a leading 0 is lost)" : "");
    } else if (cell == REC_CELL_DATE) {
        flag_set(fl, "text_as_number", "is a date cell; enter it as text");
    }
    const char *cs = col->charset ? col->charset : "";
    if (!strcmp(cs, "area")) {
        if (check_area(s, p))
            return -1;
    } else {
        size_t chars = utf8_count(s);
        if (col->max_len > 0 && chars > (size_t)col->max_len)
            return problem(p, "too_long", "must be at most %d characters (got %zu)", col->max_len,
                           chars);
        int alnum = !strcmp(cs, "alnum"), phone = !strcmp(cs, "phone"), has_digit = 0;
        for (size_t i = 0, k; (alnum || phone) && s[i]; i += k) {
            unsigned cp;
            if (!(k = utf8_next(s + i, &cp)))
                k = 1, cp = 0xFFFD;
            int ok = (cp >= '0' && cp <= '9') ||
                     (alnum && ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))) ||
                     (phone && (cp == '-' || cp == '+' || cp == ' '));
            has_digit |= cp >= '0' && cp <= '9';
            if (!ok)
                return problem(p, "bad_format", "may hold only %s (found '%.*s')",
                               alnum ? "letters A-Z, a-z and digits"
                                     : "digits, '-', '+' and spaces",
                               (int)k, s + i);
        }
        if (phone && !has_digit)
            return problem(p, "bad_format", "must hold a phone number's digits");
    }
    if (strlen(s) >= canonlen)
        return problem(p, "too_long", "is too long");
    strcpy(canon, s);
    return 0;
}

static int check_number(const struct rec_column *col, enum rec_cell cell, const char *w,
                        char *canon, size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    int whole = col->kind == REC_INT;
    char shown[48], lo[32], hi[32];
    struct num n;
    clip(shown, sizeof shown, w, 24);
    if (cell == REC_CELL_DATE)
        return problem(p, "bad_format", "is a date cell (%s); enter a plain number", shown);
    if (parse_num(w, &n) < 0)
        return problem(p, "bad_format", "must be a %s (got '%s')",
                       whole ? "whole number" : "number", shown);
    if (cell == REC_CELL_NUMBER)
        num_round(&n);
    else
        flag_set(fl, "number_as_text", "is a number stored as text");
    long decs = num_decimals(&n);
    if (whole && decs > 0)
        return problem(p, "bad_format", "must be a whole number (got %s)", shown);
    if (!whole && decs > col->decimals)
        return problem(p, "bad_format", "must have at most %d decimal%s (got %ld)", col->decimals,
                       col->decimals == 1 ? "" : "s", decs);
    double v = num_value(&n);
    if (v < col->min || v > col->max) {
        snprintf(lo, sizeof lo, "%.15g", col->min);
        snprintf(hi, sizeof hi, "%.15g", col->max);
        return problem(p, "out_of_range", "must be between %s and %s (got %s)", lo, hi, shown);
    }
    if (num_render(&n, canon, canonlen) < 0)
        return problem(p, "too_long", "is too long");
    return 0;
}

/* The comparison key of an enum code or name: full-width forms folded, spaces dropped, ASCII
 * lower-cased; with `cut`, only what comes before the first '(' ("公交(专用)" → "公交"). */
static void enum_key(const char *s, int cut, char *out, size_t outlen)
{
    size_t o = 0, k;
    unsigned cp;
    for (size_t i = 0; s[i]; i += k) {
        if (!(k = utf8_next(s + i, &cp)))
            break;
        if (cp >= 0xFF01 && cp <= 0xFF5E)
            cp -= 0xFEE0;
        if (space_kind(cp))
            continue;
        if (cut && cp == '(')
            break;
        if (cp >= 'A' && cp <= 'Z')
            cp += 32;
        if (o + 4 >= outlen)
            break;
        o += utf8_put(out + o, cp);
    }
    out[o] = 0;
}

static int name_matches(const struct rec_enum *e, const char *text)
{
    char a[WORK_MAX + 1], b[256];
    enum_key(text, 0, a, sizeof a);
    if (!a[0])
        return 0;
    enum_key(e->name, 0, b, sizeof b);
    if (!strcmp(a, b))
        return 1;
    enum_key(e->name, 1, b, sizeof b);
    return !strcmp(a, b);
}

/* Finds "code" or "code-名称" (the name compared by its key, so "（" and "(" both do). Returns
 * the index or -1; *code_only_of gets the index whose code matched when the name did not. */
static int enum_exact(const struct rec_enum *e, const char *s, int *code_only_of)
{
    const char *dash = strchr(s, '-');
    char code[64];
    size_t cl = dash ? (size_t)(dash - s) : 0;
    while (cl > 0 && s[cl - 1] == ' ')
        cl--;
    if (dash && cl < sizeof code) {
        memcpy(code, s, cl);
        code[cl] = 0;
    } else {
        code[0] = 0;
    }
    for (int i = 0; e[i].code; i++) {
        if (!strcmp(s, e[i].code))
            return i;
        if (code[0] && !strcmp(code, e[i].code)) {
            if (name_matches(&e[i], dash + 1))
                return i;
            if (code_only_of)
                *code_only_of = i;
        }
    }
    return -1;
}

static int check_enum(const struct rec_column *col, enum rec_cell cell, const char *w, char *canon,
                      size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    const struct rec_enum *e = col->enums;
    char folded[WORK_MAX + 1], key[WORK_MAX + 1], ckey[64], shown[48], list[128];
    int mismatch = -1, i;
    struct num n;
    if (!e)
        return problem(p, "bad_enum", "has no list of values");
    if ((i = enum_exact(e, w, &mismatch)) >= 0)
        goto found;
    strcpy(folded, w);
    if (fold_full_width(folded) && (i = enum_exact(e, folded, &mismatch)) >= 0) {
        flag_set(fl, "full_width", "has full-width characters");
        goto found;
    }
    /* A number cell holds its value: 1 however it is written. Elsewhere "01", "1.0", "公共",
     * "OCPP1.6" are near misses with an obvious code. */
    int numeric =
        parse_num(folded, &n) == 0 && num_decimals(&n) == 0 && num_render(&n, key, sizeof key) == 0;
    for (i = 0; numeric && e[i].code; i++)
        if (!strcmp(key, e[i].code)) {
            if (cell == REC_CELL_NUMBER)
                goto found;
            break;
        }
    if (!numeric || !e[i].code) {
        enum_key(folded, 0, key, sizeof key);
        for (i = 0; e[i].code; i++) {
            enum_key(e[i].code, 0, ckey, sizeof ckey);
            if (!strcmp(key, ckey) || name_matches(&e[i], folded))
                break;
        }
    }
    clip(shown, sizeof shown, w, 24);
    if (e[i].code) {
        problem(p, "bad_enum", "'%s' is not a code: enter %s (%s)", shown, e[i].code, e[i].name);
        suggest(p, e[i].code);
        return -1;
    }
    if (mismatch >= 0)
        return problem(p, "bad_enum", "code %s means %s; the name does not match", e[mismatch].code,
                       e[mismatch].name);
    size_t o = 0;
    list[0] = 0;
    for (i = 0; e[i].code && o + strlen(e[i].code) + 8 < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", e[i].code);
    return problem(p, "bad_enum", "must be one of %s", list);
found:
    if (strlen(e[i].code) >= canonlen)
        return problem(p, "too_long", "is too long");
    strcpy(canon, e[i].code);
    return 0;
}

/* ---- Dates ---- */

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int real_date(long y, long m, long d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), for Excel serials. */
static void civil_from_days(long z, long *y, long *m, long *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits_at(const char *s, int n, long *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* Strict YYYY-MM-DD (shape only). */
static int iso_shape(const char *s, long *y, long *m, long *d)
{
    return digits_at(s, 4, y) && s[4] == '-' && digits_at(s + 5, 2, m) && s[7] == '-' &&
           digits_at(s + 8, 2, d);
}

/* Forms people type: 2023/1/5, 2023.1.5, 2023-1-5, 2023年1月5日, 20230105, with an optional
 * time after a space. Returns 1 with the parts. */
static int loose_date(const char *s, long *y, long *m, long *d)
{
    if (strlen(s) == 8 && digits_at(s, 4, y) && digits_at(s + 4, 2, m) && digits_at(s + 6, 2, d))
        return 1;
    if (!digits_at(s, 4, y))
        return 0;
    s += 4;
    const char *seps[2][4] = {{"-", "/", ".", "年"}, {"-", "/", ".", "月"}};
    long *parts[2] = {m, d};
    for (int part = 0; part < 2; part++) {
        size_t j;
        for (j = 0; j < 4; j++)
            if (!strncmp(s, seps[part][j], strlen(seps[part][j])))
                break;
        if (j == 4)
            return 0;
        s += strlen(seps[part][j]);
        int n = 0;
        while (n < 2 && s[n] >= '0' && s[n] <= '9')
            n++;
        if (!n || !digits_at(s, n, parts[part]))
            return 0;
        s += n;
    }
    if (!strncmp(s, "日", strlen("日")))
        s += strlen("日");
    return *s == 0 || *s == ' ';
}

static int valid_today(const char *t)
{
    long y, m, d;
    return t && strlen(t) == 10 && iso_shape(t, &y, &m, &d) && real_date(y, m, d);
}

static int check_date(enum rec_cell cell, const char *w, const char *today, char *canon,
                      size_t canonlen, struct rec_problem *p, struct flag *fl)
{
    char date[32], shown[48];
    long y, m, d;
    clip(shown, sizeof shown, w, 24);
    if (cell == REC_CELL_NUMBER) {
        struct num n;
        long serial = -1;
        if (parse_num(w, &n) == 0 && !n.neg && num_int_digits(&n) <= 7) {
            serial = 0;
            for (long i = 0; i < num_int_digits(&n); i++)
                serial = serial * 10 + (i < n.nd ? n.d[i] - '0' : 0);
        }
        if (serial < 1 || serial > 2958465)
            return problem(p, "bad_format", "must be a date YYYY-MM-DD (got the number %s)", shown);
        /* Excel's 1900 system counts 1900-02-29 (serial 60), a day that never was. */
        if (serial == 60)
            return problem(p, "bad_format",
                           "is Excel day 60, 1900-02-29, which does not exist; enter YYYY-MM-DD");
        civil_from_days(serial - (serial < 60 ? 25568 : 25569), &y, &m, &d);
        snprintf(date, sizeof date, "%04ld-%02ld-%02ld", y, m, d);
        flag_set(fl, "date_serial", "is a date serial number (%s means %s); enter it as YYYY-MM-DD",
                 shown, date);
    } else {
        size_t len = strlen(w);
        if (cell == REC_CELL_DATE && len == 8 && w[2] == ':' && w[5] == ':')
            return problem(p, "bad_format", "is a time (%s), not a date", shown);
        int iso = (len == 10 || (cell == REC_CELL_DATE && len > 10 && w[10] == ' ')) &&
                  iso_shape(w, &y, &m, &d);
        if (!iso) {
            if (loose_date(w, &y, &m, &d) && real_date(y, m, d)) {
                snprintf(date, sizeof date, "%04ld-%02ld-%02ld", y, m, d);
                problem(p, "bad_format", "must be written YYYY-MM-DD");
                if (!valid_today(today) || strcmp(date, today) <= 0)
                    suggest(p, date);
                return -1;
            }
            return problem(p, "bad_format", "must be a date YYYY-MM-DD (got '%s')", shown);
        }
        if (!real_date(y, m, d))
            return problem(p, "bad_format", "is not a real date (%s)", shown);
        snprintf(date, sizeof date, "%04ld-%02ld-%02ld", y, m, d);
    }
    if (valid_today(today) && strcmp(date, today) > 0)
        return problem(p, "out_of_range", "must not be in the future (%s is after today, %s)", date,
                       today);
    if (strlen(date) >= canonlen)
        return problem(p, "too_long", "is too long");
    strcpy(canon, date);
    return 0;
}

/* ---- rec_check_value ---- */

static int check_empty(const struct rec_column *col, char *out, size_t outlen,
                       struct rec_problem *p, const char *why)
{
    if (col->required)
        return problem(p, "required", "is required%s", why);
    if (out && outlen)
        out[0] = 0;
    return 0;
}

int rec_check_value(const struct rec_column *col, enum rec_cell cell, const char *text,
                    const char *today, char *out, size_t outlen, struct rec_problem *p)
{
    struct rec_problem spare, core;
    struct flag fl = {0};
    char w[WORK_MAX + 1], canon[REC_OUT_MAX], why[160];
    if (!p)
        p = &spare;
    memset(p, 0, sizeof *p);
    memset(&core, 0, sizeof core);
    if (out && outlen)
        out[0] = 0;
    if (!col)
        return problem(p, "bad_format", "unknown column");
    if (!text || cell == REC_CELL_EMPTY)
        text = "";
    size_t len = strnlen(text, WORK_MAX + 1);
    if (len == 0)
        return check_empty(col, out, outlen, p, "");
    if (len > WORK_MAX) {
        if (col->kind == REC_TEXT && col->max_len > 0)
            return problem(p, "too_long", "must be at most %d characters (got %zu)", col->max_len,
                           utf8_count(text));
        return problem(p, "bad_format", "is far too long");
    }
    unsigned cp;
    for (size_t i = 0, k; text[i]; i += k) {
        if (!(k = utf8_next(text + i, &cp)))
            return problem(p, "bad_format", "is not valid UTF-8 text");
        if (is_control(cp))
            return problem(p, "bad_format", "has a control character (U+%04X)", cp);
    }
    if (normalise_spaces(text, w, why, sizeof why)) {
        if (!w[0]) {
            if (col->required)
                return check_empty(col, out, outlen, p, " (the value holds only spaces)");
            return problem(p, "spaces", "holds only spaces; leave it empty");
        }
        flag_set(&fl, "spaces", "%s", why);
    }
    int rc;
    switch (col->kind) {
    case REC_ENUM:
        rc = check_enum(col, cell, w, canon, sizeof canon, &core, &fl);
        break;
    case REC_TEXT:
        if (col->charset && fold_full_width(w))
            flag_set(&fl, "full_width", "has full-width characters");
        rc = check_text(col, cell, w, canon, sizeof canon, &core, &fl);
        break;
    case REC_INT:
    case REC_DECIMAL:
        if (fold_full_width(w))
            flag_set(&fl, "full_width", "has full-width characters");
        rc = check_number(col, cell, w, canon, sizeof canon, &core, &fl);
        break;
    case REC_DATE:
        if (fold_full_width(w))
            flag_set(&fl, "full_width", "has full-width characters");
        rc = check_date(cell, w, today, canon, sizeof canon, &core, &fl);
        break;
    default:
        return problem(p, "bad_format", "unknown column kind");
    }
    if (rc == FATAL || (rc < 0 && !fl.code)) {
        *p = core;
        return -1;
    }
    if (fl.code) {
        problem(p, fl.code, "%s", fl.reason);
        if (rc == 0) {
            suggest(p, canon);
        } else {
            size_t used = strlen(p->reason);
            if (used + strlen(core.reason) + 8 < sizeof p->reason)
                snprintf(p->reason + used, sizeof p->reason - used, "; also %s", core.reason);
            if (core.suggestion[0])
                suggest(p, core.suggestion);
        }
        return -1;
    }
    if (out && outlen) {
        if (strlen(canon) >= outlen)
            return problem(p, "too_long", "does not fit in %zu bytes", outlen);
        strcpy(out, canon);
    }
    return 0;
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
        if (!(k = utf8_next(header + i, &cp)))
            return NULL;
    normalise_spaces(header, h, why, sizeof why);
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

/* ---- Record rules ---- */

/* A canonical number with at most one decimal as tenths. Returns 0 or -1. */
static int tenths(const char *s, long long *v)
{
    struct num n;
    if (!s || parse_num(s, &n) < 0 || n.neg || num_decimals(&n) > 1 || num_int_digits(&n) > 7)
        return -1;
    /* value × 10 = d × 10^(e + 1), e + 1 >= 0 with at most one decimal */
    *v = 0;
    for (int i = 0; i < n.nd; i++)
        *v = *v * 10 + (n.d[i] - '0');
    for (long e = n.e + 1; e > 0; e--)
        *v *= 10;
    return 0;
}

static size_t column_index(enum rec_sheet sheet, const char *field)
{
    size_t n;
    const struct rec_column *cols = rec_columns(sheet, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cols[i].field, field))
            return i;
    return 0;
}

int rec_check_connector(const char *const *values, const char *pile_power, size_t *col,
                        struct rec_problem *p)
{
    size_t iu = column_index(REC_CONNECTORS, "voltage_upper_limits");
    size_t il = column_index(REC_CONNECTORS, "voltage_lower_limits");
    size_t ic = column_index(REC_CONNECTORS, "current");
    size_t ip = column_index(REC_CONNECTORS, "power");
    long long up, low, cur, pw, pile;
    memset(p, 0, sizeof *p);
    if (!values)
        return 0;
    int have_up = tenths(values[iu], &up) == 0, have_pw = tenths(values[ip], &pw) == 0;
    if (have_up && tenths(values[il], &low) == 0 && low > up) {
        *col = il;
        return problem(p, "inconsistent", "must not exceed the upper voltage limit (%s V > %s V)",
                       values[il], values[iu]);
    }
    if (have_pw && pile_power && pile_power[0] && tenths(pile_power, &pile) == 0 && pw > pile) {
        *col = ip;
        return problem(p, "inconsistent", "must not exceed the pile's power (%s kW > %s kW)",
                       values[ip], pile_power);
    }
    /* power (kW) <= U (V) × I (A) / 1000, in tenths: pw × 10000 <= up × cur. */
    if (have_pw && have_up && tenths(values[ic], &cur) == 0 && pw * 10000 > up * cur) {
        *col = ip;
        return problem(p, "inconsistent",
                       "must be at most upper voltage × current / 1000 = %s V × %s A / 1000 = "
                       "%.15g kW (got %s)",
                       values[iu], values[ic], (double)(up * cur) / 1e5, values[ip]);
    }
    return 0;
}
