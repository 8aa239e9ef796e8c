/* The rows of the detection application form: the application's fields as cleaned text in
 * label/value cells, sections and paragraphs; see pdf_form_internal.h. */
#include "mgmt/pdf_form_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double col_w[MAX_CELLS] = {LABEL_W, VALUE_W, LABEL_W, VALUE_W};

/* ---- text from the application ---- */

/* Bidi embedding/override/isolate controls would let a value reorder how it prints. */
static int is_bidi_control(gunichar c)
{
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
           c == 0x200F;
}

/* A copy of `len` bytes of `s` safe to lay out: invalid UTF-8 becomes U+FFFD, tabs and line
 * breaks become spaces (every field is one paragraph, so the line cap holds), other control
 * characters go, and at most `max_chars` code points are kept, then "…". g_malloc'd. */
static char *clean_text(const char *s, size_t len, long max_chars)
{
    GString *out = g_string_sized_new(len < 64 ? 64 : (len > 4096 ? 4096 : len));
    const char *p = s, *end = s + len;
    long n = 0;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            c = 0xFFFD;
            p++;
        } else {
            p = g_utf8_next_char(p);
        }
        if (c == '\t' || c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029)
            c = ' ';
        else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || is_bidi_control(c))
            continue;
        if (n == max_chars) {
            g_string_append(out, "…");
            break;
        }
        g_string_append_unichar(out, c);
        n++;
    }
    return g_strstrip(g_string_free(out, FALSE));
}

static const json_t *member(const json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

/* The printable text of a scalar; "" for null, absent, booleans and containers. */
char *pf_value_text(const json_t *v)
{
    if (json_is_string(v))
        return clean_text(json_string_value(v), json_string_length(v), PDF_FORM_MAX_FIELD_CHARS);
    if (json_is_integer(v))
        return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v))
        return g_strdup_printf("%g", json_real_value(v));
    return g_strdup("");
}

char *pf_field(const json_t *app, const char *obj, const char *key)
{
    return pf_value_text(member(member(app, obj), key));
}

/* A count with its unit, or "" when absent. */
static char *count_text(const json_t *app, const char *key)
{
    char *v = pf_field(app, "pile_summary", key);
    if (!*v)
        return v;
    char *s = g_strdup_printf("%s 台", v);
    g_free(v);
    return s;
}

static char *protocol_name(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s && strcmp(s, "ocpp1.6") == 0)
        return g_strdup("OCPP 1.6");
    if (s && strcmp(s, "ocpp2.0.1") == 0)
        return g_strdup("OCPP 2.0.1");
    if (s && strcmp(s, "platform") == 0)
        return g_strdup("平台互联互通（T/CEC 102）");
    return pf_value_text(v);
}

/* The entries of array `arr` joined by `sep`; "" when it is not an array. */
static char *list_text(const json_t *arr, const char *sep, char *(*item)(const json_t *))
{
    if (!json_is_array(arr))
        return g_strdup("");
    GString *s = g_string_new("");
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n && i < PDF_FORM_MAX_LIST_ITEMS; i++) {
        char *t = item(json_array_get(arr, i));
        if (*t) {
            if (s->len)
                g_string_append(s, sep);
            g_string_append(s, t);
        }
        g_free(t);
    }
    if (n > PDF_FORM_MAX_LIST_ITEMS)
        g_string_append(s, sep), g_string_append(s, "…");
    char *joined = clean_text(s->str, s->len, PDF_FORM_MAX_LIST_CHARS);
    g_string_free(s, TRUE);
    return joined;
}

/* ---- the rows of the form ---- */

static struct row *add_row(struct form *f, double min_h, int keep_with_next)
{
    if (f->n == MAX_ROWS) {
        f->full = 1;
        return NULL;
    }
    struct row *r = &f->row[f->n++];
    r->min_h = min_h;
    r->keep_with_next = keep_with_next;
    return r;
}

/* Adds a cell taking ownership of `text` and `foot` (g_malloc'd). */
static void add_cell(struct row *r, enum cell_kind kind, int span, char *text, char *foot)
{
    if (!r || r->n == MAX_CELLS) {
        g_free(text);
        g_free(foot);
        return;
    }
    int col = 0;
    double x = 0;
    for (int i = 0; i < r->n; i++)
        col += r->cell[i].span;
    for (int i = 0; i < col && i < MAX_CELLS; i++)
        x += col_w[i];
    double w = 0;
    for (int i = col; i < col + span && i < MAX_CELLS; i++)
        w += col_w[i];
    r->cell[r->n++] =
        (struct cell){.kind = kind, .span = span, .text = text, .foot = foot, .x = x, .w = w};
}

static void section(struct form *f, const char *title)
{
    add_cell(add_row(f, SECTION_H, 1), CELL_SECTION, 4, g_strdup(title), NULL);
}

/* label | value across the rest of the table; takes ownership of `value`. */
static void wide(struct form *f, const char *label, char *value, double min_h)
{
    struct row *r = add_row(f, min_h, 0);
    add_cell(r, CELL_LABEL, 1, g_strdup(label), NULL);
    add_cell(r, CELL_VALUE, 3, value, NULL);
}

/* label | value | label | value; takes ownership of both values. */
static void pair(struct form *f, const char *l1, char *v1, const char *l2, char *v2)
{
    struct row *r = add_row(f, PDF_ROW_MIN_H, 0);
    add_cell(r, CELL_LABEL, 1, g_strdup(l1), NULL);
    add_cell(r, CELL_VALUE, 1, v1, NULL);
    add_cell(r, CELL_LABEL, 1, g_strdup(l2), NULL);
    add_cell(r, CELL_VALUE, 1, v2, NULL);
}

static const char commitment_self[] =
    "本单位郑重承诺：本表所填单位、联调负责人、平台及充电桩信息真实、准确、完整，"
    "如有虚假，愿承担由此产生的一切责任。"
    "本单位同意按照 T/CEC 102《电动汽车充换电服务信息交换》系列标准及 OCPP "
    "协议的要求配合开展平台联调和符合性检测，"
    "接入后遵守平台数据报送与信息安全的有关规定。";

static const char commitment_delegated[] =
    "本单位郑重承诺：本表所填单位、联调负责人、委托及充电桩信息真实、准确、完整，"
    "如有虚假，愿承担由此产生的一切责任。"
    "本单位自愿委托上述已通过符合性检测的平台代为接入本单位充电设施，"
    "已与其运营单位就委托事项达成一致，"
    "同意按照 T/CEC 102《电动汽车充换电服务信息交换》系列标准及 OCPP "
    "协议的要求配合开展联调和符合性检测，并遵守平台数据报送与信息安全的有关规定。";

static const char date_blank[] = "日期：________年_____月_____日";

void pf_build_rows(struct form *f, const json_t *app, int delegated)
{
    section(f, "一、委托单位信息");
    wide(f, "单位名称", pf_field(app, "commissioning_unit", "name"), PDF_ROW_MIN_H);
    wide(f, "统一社会信用代码", pf_field(app, "commissioning_unit", "credit_code"), PDF_ROW_MIN_H);
    wide(f, "单位地址", pf_field(app, "commissioning_unit", "address"), PDF_ROW_MIN_H);

    section(f, "二、联调负责人");
    pair(f, "姓名", pf_field(app, "contact", "name"), "手机号码",
         pf_field(app, "contact", "mobile"));
    wide(f, "电子邮箱", pf_field(app, "contact", "email"), PDF_ROW_MIN_H);

    if (delegated) {
        const json_t *d = member(app, "delegate");
        const json_t *id = member(d, "detection_id");
        if (!id || json_is_null(id))
            id = member(app, "delegate_detection_id");
        section(f, "三、委托信息");
        pair(f, "委托平台", pf_value_text(member(d, "platform_name")), "平台检测编号",
             pf_value_text(id));
        wide(f, "平台运营单位", pf_value_text(member(d, "company_name")), PDF_ROW_MIN_H);
        wide(f, "委托范围", pf_value_text(member(app, "delegation_scope")), 2 * PDF_ROW_MIN_H);
    } else {
        const json_t *p = member(app, "platform");
        section(f, "三、平台信息");
        wide(f, "平台名称", pf_value_text(member(p, "name")), PDF_ROW_MIN_H);
        wide(f, "接口地址", pf_value_text(member(p, "base_url")), PDF_ROW_MIN_H);
        wide(f, "协议版本", pf_value_text(member(p, "protocol_version")), PDF_ROW_MIN_H);
        wide(f, "源IP地址", list_text(member(p, "source_ips"), "；", pf_value_text), PDF_ROW_MIN_H);
    }

    const json_t *ps = member(app, "pile_summary");
    section(f, "四、充电桩信息");
    pair(f, "品牌", pf_value_text(member(ps, "brands")), "型号",
         pf_value_text(member(ps, "models")));
    pair(f, "交流桩数量", count_text(app, "ac_count"), "直流桩数量", count_text(app, "dc_count"));
    wide(f, "通信协议", list_text(member(ps, "protocols"), "、", protocol_name), PDF_ROW_MIN_H);

    section(f, "五、申请单位承诺");
    add_cell(add_row(f, 0, 1), CELL_TEXT, 4,
             g_strdup(delegated ? commitment_delegated : commitment_self), NULL);
    struct row *sign = add_row(f, 70, 0);
    add_cell(sign, CELL_BOX, 2, g_strdup("申请单位（盖章）："), g_strdup(date_blank));
    add_cell(sign, CELL_BOX, 2, g_strdup("法定代表人或授权代表（签字）："), g_strdup(date_blank));

    struct row *review = add_row(f, 70, 0);
    add_cell(review, CELL_LABEL, 1, g_strdup("平台审核意见"), NULL);
    add_cell(review, CELL_BOX, 3, g_strdup(""),
             g_strdup_printf("审核人：______________      %s", date_blank));
}
