/* Detection application forms: the application is turned into a list of table rows, pango
 * measures every cell, the rows are paginated, then cairo draws them onto a PDF surface that
 * writes into memory. Two passes over the same layouts, so the page count is known up front. */
#include "mgmt/pdf_form.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Geometry in PDF points (1/72 inch); A4 portrait. */
#define PAGE_W        595.28
#define PAGE_H        841.89
#define MARGIN_X      51.0
#define MARGIN_TOP    42.0
#define MARGIN_BOTTOM 50.0 /* the page number sits inside it */
#define TABLE_W       (PAGE_W - 2 * MARGIN_X)
#define LABEL_W       104.0
#define VALUE_W       ((TABLE_W - 2 * LABEL_W) / 2)
#define PAD_X         6.0
#define PAD_Y         4.0
#define ROW_MIN_H     23.0
#define SECTION_H     21.0
#define LINE_THIN     0.6
#define LINE_THICK    1.2
#define NOTES_GAP     6.0
/* A form up to 1/MIN_SCALE of a page is shrunk onto one page rather than split over two. */
#define MIN_SCALE 0.85

/* Official forms: a bold serif title (小标宋-like) and serif text (宋体-like). Two faces only:
 * each embedded face costs a read of its whole CFF table (~24 MB) when the PDF is finished. */
#define FONT_TITLE   "Noto Serif CJK SC Bold 18"
#define FONT_BODY    "Noto Serif CJK SC 10.5"
#define FONT_SECTION "Noto Serif CJK SC Bold 10.5"
#define FONT_SMALL   "Noto Serif CJK SC 9"

#define MAX_ROWS  32
#define MAX_CELLS 4

enum font_id { F_TITLE, F_BODY, F_SECTION, F_SMALL, F_COUNT };

enum cell_kind {
    CELL_LABEL,   /* field name, centred */
    CELL_VALUE,   /* user data, left, vertically centred */
    CELL_SECTION, /* "一、…" heading across the table, shaded */
    CELL_TEXT,    /* a paragraph, first line indented */
    CELL_BOX,     /* a caption at the top, a signature/date line at the bottom right */
};

struct cell {
    enum cell_kind kind;
    int span;          /* grid columns: label, value, label, value */
    char *text, *foot; /* g_malloc'd; foot may be NULL */
    double x, w;       /* from the table's left edge */
    PangoLayout *layout, *foot_layout;
};

struct row {
    struct cell cell[MAX_CELLS];
    int n;
    double min_h, h, y;
    int page;
    int keep_with_next; /* a heading never ends a page */
};

struct form {
    struct row row[MAX_ROWS];
    int n;
    int full; /* more rows than MAX_ROWS were added (a bug, reported as an error) */
    PangoFontDescription *font[F_COUNT];
};

struct membuf {
    unsigned char *p;
    size_t len, cap;
    int too_big, oom;
};

static const double col_w[MAX_CELLS] = {LABEL_W, VALUE_W, LABEL_W, VALUE_W};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

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
static char *value_text(const json_t *v)
{
    if (json_is_string(v))
        return clean_text(json_string_value(v), json_string_length(v), PDF_FORM_MAX_FIELD_CHARS);
    if (json_is_integer(v))
        return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v))
        return g_strdup_printf("%g", json_real_value(v));
    return g_strdup("");
}

static char *field(const json_t *app, const char *obj, const char *key)
{
    return value_text(member(member(app, obj), key));
}

/* A count with its unit, or "" when absent. */
static char *count_text(const json_t *app, const char *key)
{
    char *v = field(app, "pile_summary", key);
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
    return value_text(v);
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
    struct row *r = add_row(f, ROW_MIN_H, 0);
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

static void build_rows(struct form *f, const json_t *app, int delegated)
{
    section(f, "一、委托单位信息");
    wide(f, "单位名称", field(app, "commissioning_unit", "name"), ROW_MIN_H);
    wide(f, "统一社会信用代码", field(app, "commissioning_unit", "credit_code"), ROW_MIN_H);
    wide(f, "单位地址", field(app, "commissioning_unit", "address"), ROW_MIN_H);

    section(f, "二、联调负责人");
    pair(f, "姓名", field(app, "contact", "name"), "手机号码", field(app, "contact", "mobile"));
    wide(f, "电子邮箱", field(app, "contact", "email"), ROW_MIN_H);

    if (delegated) {
        const json_t *d = member(app, "delegate");
        const json_t *id = member(d, "detection_id");
        if (!id || json_is_null(id))
            id = member(app, "delegate_detection_id");
        section(f, "三、委托信息");
        pair(f, "委托平台", value_text(member(d, "platform_name")), "平台检测编号", value_text(id));
        wide(f, "平台运营单位", value_text(member(d, "company_name")), ROW_MIN_H);
        wide(f, "委托范围", value_text(member(app, "delegation_scope")), 2 * ROW_MIN_H);
    } else {
        const json_t *p = member(app, "platform");
        section(f, "三、平台信息");
        wide(f, "平台名称", value_text(member(p, "name")), ROW_MIN_H);
        wide(f, "接口地址", value_text(member(p, "base_url")), ROW_MIN_H);
        wide(f, "协议版本", value_text(member(p, "protocol_version")), ROW_MIN_H);
        wide(f, "源IP地址", list_text(member(p, "source_ips"), "；", value_text), ROW_MIN_H);
    }

    const json_t *ps = member(app, "pile_summary");
    section(f, "四、充电桩信息");
    pair(f, "品牌", value_text(member(ps, "brands")), "型号", value_text(member(ps, "models")));
    pair(f, "交流桩数量", count_text(app, "ac_count"), "直流桩数量", count_text(app, "dc_count"));
    wide(f, "通信协议", list_text(member(ps, "protocols"), "、", protocol_name), ROW_MIN_H);

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

static const char notes_text[] =
    "注：本表由系统按在线填报的信息生成，请核对后打印，盖章签字后扫描或拍照上传；"
    "信息如需变更，请在线修改后重新下载本表，手工涂改无效。";

/* ---- layout and drawing ---- */

static PangoLayout *make_layout(PangoContext *ctx, const PangoFontDescription *font,
                                const char *text, double width, PangoAlignment align, int max_lines)
{
    PangoLayout *l = pango_layout_new(ctx);
    pango_layout_set_font_description(l, font);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    if (max_lines > 0) {
        pango_layout_set_height(l, -max_lines);
        pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    }
    pango_layout_set_text(l, text, -1); /* plain text: user data is never markup */
    return l;
}

static double layout_h(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

static double layout_w(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)w / PANGO_SCALE;
}

/* Creates the layouts of every cell and sets each row's height. */
static void measure_rows(struct form *f, PangoContext *ctx)
{
    for (int i = 0; i < f->n; i++) {
        struct row *r = &f->row[i];
        r->h = r->min_h;
        for (int j = 0; j < r->n; j++) {
            struct cell *c = &r->cell[j];
            double inner = c->w - 2 * PAD_X;
            double h;
            switch (c->kind) {
            case CELL_LABEL:
                c->layout = make_layout(ctx, f->font[F_BODY], c->text, inner, PANGO_ALIGN_CENTER,
                                        PDF_FORM_MAX_CELL_LINES);
                break;
            case CELL_SECTION:
                c->layout = make_layout(ctx, f->font[F_SECTION], c->text, inner, PANGO_ALIGN_LEFT,
                                        PDF_FORM_MAX_CELL_LINES);
                break;
            case CELL_TEXT:
                c->layout = make_layout(ctx, f->font[F_BODY], c->text, inner - 2 * PAD_X,
                                        PANGO_ALIGN_LEFT, PDF_FORM_MAX_CELL_LINES);
                pango_layout_set_indent(c->layout, 21 * PANGO_SCALE); /* two characters */
                pango_layout_set_spacing(c->layout, 2 * PANGO_SCALE);
                break;
            default:
                c->layout = make_layout(ctx, f->font[F_BODY], c->text, inner, PANGO_ALIGN_LEFT,
                                        PDF_FORM_MAX_CELL_LINES);
                break;
            }
            h = layout_h(c->layout) + 2 * PAD_Y;
            if (c->kind == CELL_TEXT)
                h += 2 * PAD_Y;
            if (c->foot) {
                c->foot_layout = make_layout(ctx, f->font[F_BODY], c->foot, inner,
                                             PANGO_ALIGN_RIGHT, PDF_FORM_MAX_CELL_LINES);
                h += layout_h(c->foot_layout) + 2 * PAD_Y;
            }
            if (h > r->h)
                r->h = h;
        }
    }
}

/* Places rows on pages ending at `bottom`; returns the number of pages. `first_top` is where
 * the table starts on page 1, `next_top` on the following pages. The notes (notes_h high) follow
 * the table; when they do not fit, the last row moves with them so they never stand alone. */
static int paginate(struct form *f, double first_top, double next_top, double bottom,
                    double notes_h, int *notes_page, double *notes_y)
{
    int page = 0;
    double y = first_top;
    for (int i = 0; i < f->n; i++) {
        struct row *r = &f->row[i];
        double need = r->h;
        if (r->keep_with_next && i + 1 < f->n)
            need += f->row[i + 1].h;
        double top = page == 0 ? first_top : next_top;
        if (y + need > bottom && y > top) { /* a row taller than a page is clipped */
            page++;
            y = next_top;
        }
        r->page = page;
        r->y = y;
        y += r->h;
    }
    if (y + NOTES_GAP + notes_h > bottom) {
        int k = f->n - 1;
        while (k > 0 && f->row[k - 1].keep_with_next && f->row[k - 1].page == page)
            k--;
        page++;
        y = next_top;
        if (k >= 0 && f->row[k].y > (f->row[k].page == 0 ? first_top : next_top)) {
            for (int i = k; i < f->n; i++) {
                f->row[i].page = page;
                f->row[i].y = y;
                y += f->row[i].h;
            }
        }
    }
    *notes_page = page;
    *notes_y = y + NOTES_GAP;
    return page + 1;
}

static void show_at(cairo_t *cr, PangoLayout *l, double x, double y)
{
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
}

static void draw_row(cairo_t *cr, const struct row *r)
{
    for (int j = 0; j < r->n; j++) {
        const struct cell *c = &r->cell[j];
        double x = MARGIN_X + c->x, y = r->y, w = c->w, h = r->h;
        if (c->kind == CELL_SECTION) {
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
            cairo_rectangle(cr, x, y, w, h);
            cairo_fill(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
        }
        cairo_set_line_width(cr, LINE_THIN);
        cairo_rectangle(cr, x, y, w, h);
        cairo_stroke(cr);

        cairo_save(cr);
        cairo_rectangle(cr, x, y, w, h);
        cairo_clip(cr);
        double th = layout_h(c->layout);
        switch (c->kind) {
        case CELL_TEXT:
            show_at(cr, c->layout, x + 2 * PAD_X, y + 2 * PAD_Y);
            break;
        case CELL_BOX:
            show_at(cr, c->layout, x + PAD_X, y + PAD_Y + 2);
            break;
        default:
            show_at(cr, c->layout, x + PAD_X, y + (h - th) / 2);
            break;
        }
        if (c->foot_layout)
            show_at(cr, c->foot_layout, x + PAD_X, y + h - PAD_Y - 4 - layout_h(c->foot_layout));
        cairo_restore(cr);
    }
}

/* ---- the PDF ---- */

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct membuf *b = closure;
    if (len > PDF_FORM_MAX_BYTES - b->len) {
        b->too_big = 1;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return CAIRO_STATUS_SUCCESS;
}

static void free_form(struct form *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++) {
        for (int j = 0; j < f->row[i].n; j++) {
            struct cell *c = &f->row[i].cell[j];
            g_free(c->text);
            g_free(c->foot);
            if (c->layout)
                g_object_unref(c->layout);
            if (c->foot_layout)
                g_object_unref(c->foot_layout);
        }
    }
    for (int i = 0; i < F_COUNT; i++)
        if (f->font[i])
            pango_font_description_free(f->font[i]);
    g_free(f);
}

/* True when the body font the form asks for, as fontconfig resolves it, has Chinese glyphs:
 * without one every character would print as a box. */
static int have_cjk_font(PangoFontMap *map, PangoContext *ctx, const PangoFontDescription *fd)
{
    PangoFont *font = pango_font_map_load_font(map, ctx, fd);
    if (!font)
        return 0;
    int ok =
        pango_font_has_char(font, 0x7533 /* 申 */) && pango_font_has_char(font, 0x8868 /* 表 */);
    g_object_unref(font);
    return ok;
}

/* What pdf_form_detection() does, run on the render thread (same contract). */
static int render(const json_t *app, unsigned char **out, size_t *out_len, char *err, size_t errlen)
{
    int rc = -1;
    struct form *f = NULL;
    struct membuf buf = {0};
    cairo_surface_t *surface = NULL;
    cairo_t *cr = NULL;
    PangoFontMap *map = NULL;
    PangoContext *ctx = NULL;
    PangoLayout *title = NULL, *meta_l = NULL, *meta_r = NULL, *cont = NULL, *notes = NULL;
    char *company = NULL, *id = NULL, *text = NULL;

    *out = NULL;
    *out_len = 0;
    if (!json_is_object(app)) {
        set_err(err, errlen, "application must be a JSON object");
        return -1;
    }
    const char *mode = json_string_value(json_object_get(app, "mode"));
    int delegated;
    if (mode && strcmp(mode, "self") == 0) {
        delegated = 0;
    } else if (mode && strcmp(mode, "delegated") == 0) {
        delegated = 1;
    } else {
        set_err(err, errlen, "application mode must be \"self\" or \"delegated\"");
        return -1;
    }
    const char *title_text = delegated ? "充电设施委托接入申请表" : "充电设施平台符合性检测申请表";

    f = g_new0(struct form, 1);
    f->font[F_TITLE] = pango_font_description_from_string(FONT_TITLE);
    f->font[F_BODY] = pango_font_description_from_string(FONT_BODY);
    f->font[F_SECTION] = pango_font_description_from_string(FONT_SECTION);
    f->font[F_SMALL] = pango_font_description_from_string(FONT_SMALL);
    build_rows(f, app, delegated);
    if (f->full) {
        set_err(err, errlen, "form has more than %d rows", MAX_ROWS);
        goto fail;
    }

    surface = cairo_pdf_surface_create_for_stream(membuf_write, &buf, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title_text);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "evgate");
    cr = cairo_create(surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        set_err(err, errlen, "cannot create PDF surface: %s",
                cairo_status_to_string(cairo_status(cr)));
        goto fail;
    }
    /* A font map of our own rather than the shared default: nothing of pango's font state is
     * shared with another thread, and everything is released when the call returns. */
    map = pango_cairo_font_map_new();
    ctx = pango_font_map_create_context(map);
    pango_cairo_update_context(cr, ctx);
    pango_cairo_context_set_resolution(ctx, 72.0); /* font sizes in points = PDF units */
    pango_context_set_language(ctx, pango_language_from_string("zh-cn"));
    if (!have_cjk_font(map, ctx, f->font[F_BODY])) {
        set_err(err, errlen, "no font with Chinese glyphs (install fonts-noto-cjk)");
        goto fail;
    }

    /* Page 1 heading: the title, then one line with 申请单位 on the left and the number and date
     * on the right (either wraps when long). */
    time_t now = time(NULL);
    struct tm tm = {0};
    localtime_r(&now, &tm);
    company = field(app, "operator", "company_name");
    id = value_text(json_object_get(app, "id"));
    title = make_layout(ctx, f->font[F_TITLE], title_text, TABLE_W, PANGO_ALIGN_CENTER, 2);
    pango_layout_set_spacing(title, 0);
    text = g_strdup_printf("申请编号：%s　　申请日期：%04d年%02d月%02d日", id, tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday);
    meta_r = make_layout(ctx, f->font[F_BODY], text, TABLE_W / 2, PANGO_ALIGN_LEFT, 4);
    g_free(text);
    text = g_strdup_printf("申请单位：%s", company);
    meta_l = make_layout(ctx, f->font[F_BODY], text, TABLE_W - layout_w(meta_r) - 16,
                         PANGO_ALIGN_LEFT, 4);
    g_free(text);
    text = g_strdup_printf("%s（续）", title_text);
    cont = make_layout(ctx, f->font[F_SMALL], text, TABLE_W, PANGO_ALIGN_LEFT, 1);
    g_free(text);
    notes = make_layout(ctx, f->font[F_SMALL], notes_text, TABLE_W - 18, PANGO_ALIGN_LEFT, 8);
    pango_layout_set_indent(notes, -18 * PANGO_SCALE); /* later lines hang after "注：" */

    double title_y = MARGIN_TOP;
    double meta_y = title_y + layout_h(title) + 12;
    double meta_h = MAX(layout_h(meta_l), layout_h(meta_r));
    double first_top = meta_y + meta_h + 6;
    double next_top = MARGIN_TOP + layout_h(cont) + 6;

    measure_rows(f, ctx);
    double avail = PAGE_H - MARGIN_BOTTOM - MARGIN_TOP;
    double need = first_top - MARGIN_TOP + NOTES_GAP + layout_h(notes);
    for (int i = 0; i < f->n; i++)
        need += f->row[i].h;
    double scale = need > avail && need * MIN_SCALE <= avail ? avail / need : 1.0;
    int notes_page;
    double notes_y;
    int pages = paginate(f, first_top, next_top, MARGIN_TOP + avail / scale, layout_h(notes),
                         &notes_page, &notes_y);

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    int row = 0;
    for (int page = 0; page < pages; page++) {
        cairo_save(cr);
        if (scale < 1.0) { /* shrink about the top centre: margins grow, nothing moves off */
            cairo_translate(cr, PAGE_W / 2, MARGIN_TOP);
            cairo_scale(cr, scale, scale);
            cairo_translate(cr, -PAGE_W / 2, -MARGIN_TOP);
        }
        if (page == 0) {
            show_at(cr, title, MARGIN_X, title_y);
            show_at(cr, meta_l, MARGIN_X, meta_y);
            show_at(cr, meta_r, PAGE_W - MARGIN_X - layout_w(meta_r), meta_y);
        } else {
            show_at(cr, cont, MARGIN_X, MARGIN_TOP);
            text = g_strdup_printf("申请编号：%s", id);
            PangoLayout *num = make_layout(ctx, f->font[F_SMALL], text,
                                           TABLE_W - layout_w(cont) - 24, PANGO_ALIGN_RIGHT, 1);
            g_free(text);
            text = NULL;
            show_at(cr, num, PAGE_W - MARGIN_X - (TABLE_W - layout_w(cont) - 24), MARGIN_TOP);
            g_object_unref(num);
        }
        double top = -1, bottom = 0;
        for (; row < f->n && f->row[row].page == page; row++) {
            draw_row(cr, &f->row[row]);
            if (top < 0)
                top = f->row[row].y;
            bottom = f->row[row].y + f->row[row].h;
        }
        if (top >= 0) { /* the table's outer frame, heavier than its inner lines */
            cairo_set_line_width(cr, LINE_THICK);
            cairo_rectangle(cr, MARGIN_X, top, TABLE_W, bottom - top);
            cairo_stroke(cr);
        }
        if (page == notes_page)
            show_at(cr, notes, MARGIN_X + 18, notes_y);
        cairo_restore(cr);

        text = g_strdup_printf("第 %d 页  共 %d 页", page + 1, pages);
        PangoLayout *foot =
            make_layout(ctx, f->font[F_SMALL], text, TABLE_W, PANGO_ALIGN_CENTER, 1);
        g_free(text);
        text = NULL;
        show_at(cr, foot, MARGIN_X, PAGE_H - MARGIN_BOTTOM + 18);
        g_object_unref(foot);
        cairo_show_page(cr);
    }

    cairo_destroy(cr);
    cr = NULL;
    cairo_surface_finish(surface);
    if (buf.too_big) {
        set_err(err, errlen, "form larger than %u bytes", PDF_FORM_MAX_BYTES);
        goto fail;
    }
    if (buf.oom || cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        set_err(err, errlen, "cannot write PDF: %s",
                buf.oom ? "out of memory" : cairo_status_to_string(cairo_surface_status(surface)));
        goto fail;
    }
    *out = buf.p;
    *out_len = buf.len;
    buf.p = NULL;
    rc = 0;

fail:
    if (title)
        g_object_unref(title);
    if (meta_l)
        g_object_unref(meta_l);
    if (meta_r)
        g_object_unref(meta_r);
    if (cont)
        g_object_unref(cont);
    if (notes)
        g_object_unref(notes);
    g_free(company);
    g_free(id);
    g_free(text);
    free_form(f);
    if (ctx)
        g_object_unref(ctx);
    if (map)
        g_object_unref(map);
    if (cr)
        cairo_destroy(cr);
    if (surface)
        cairo_surface_destroy(surface);
    free(buf.p);
    return rc;
}

/* ---- the render thread ---- */

/* Every form is rendered on one thread of this module's own. Finishing a PDF makes cairo copy
 * each embedded font's whole CFF table into memory (~24 MB per Noto Serif CJK face); glibc then
 * keeps that much free memory in the malloc arena of the thread that rendered, for good, so
 * rendering on each of the server's worker threads would hold ~45 MB per thread. One thread holds
 * it once and reuses it; callers queue (a form takes ~50-150 ms). */
struct job {
    const json_t *app;
    unsigned char **out;
    size_t *out_len;
    char *err;
    size_t errlen;
    int rc, done;
    struct job *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_work = PTHREAD_COND_INITIALIZER; /* a job was queued */
static pthread_cond_t queue_done = PTHREAD_COND_INITIALIZER; /* a job was finished */
static struct job *queue_head, *queue_tail;
static int queue_len; /* queued, not yet finished */
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;
static int worker_running;

static void *worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        while (!queue_head)
            pthread_cond_wait(&queue_work, &queue_lock);
        struct job *j = queue_head;
        queue_head = j->next;
        if (!queue_head)
            queue_tail = NULL;
        pthread_mutex_unlock(&queue_lock);

        int rc = render(j->app, j->out, j->out_len, j->err, j->errlen);

        pthread_mutex_lock(&queue_lock);
        j->rc = rc;
        j->done = 1;
        queue_len--;
        pthread_cond_broadcast(&queue_done);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

/* Starts the render thread (detached, for the life of the process) with every signal blocked,
 * so the server's signal handling never lands on it. */
static void worker_start(void)
{
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, worker_main, NULL) == 0) {
        worker_running = 1;
        pthread_setname_np(t, "evg-pdf-form");
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int pdf_form_detection(const json_t *app, unsigned char **out, size_t *out_len, char *err,
                       size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    pthread_once(&worker_once, worker_start);
    if (!worker_running) /* no thread to be had: render here rather than fail */
        return render(app, out, out_len, err, errlen);

    struct job j = {.app = app, .out = out, .out_len = out_len, .err = err, .errlen = errlen};
    pthread_mutex_lock(&queue_lock);
    if (queue_len >= PDF_FORM_MAX_WAITING) {
        pthread_mutex_unlock(&queue_lock);
        set_err(err, errlen, "too many forms being rendered (%d), try again", PDF_FORM_MAX_WAITING);
        return -1;
    }
    queue_len++;
    if (queue_tail)
        queue_tail->next = &j;
    else
        queue_head = &j;
    queue_tail = &j;
    pthread_cond_signal(&queue_work);
    while (!j.done) /* the job lives on this stack: never leave before the worker is done */
        pthread_cond_wait(&queue_done, &queue_lock);
    pthread_mutex_unlock(&queue_lock);
    return j.rc;
}
