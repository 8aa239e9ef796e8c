/* The conformance run report (run_report.h): the run becomes a list of blocks (a table row of
 * cells, or a paragraph), pango measures them, they are paginated with each table's header
 * repeated on the pages the table continues on, then cairo draws them onto a PDF surface that
 * writes into memory. The page geometry and fonts are the detection form's (pdf_form_internal.h)
 * so that evgate's documents look alike. */
#include "mgmt/run_report.h"
#include "common/thread.h"
#include "mgmt/pdf_form_internal.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The frames' text: the body face, smaller (another size of a face costs nothing more). */
#define FONT_FRAME      "Noto Serif CJK SC 8"
#define CST_OFFSET      (8 * 3600) /* China Standard Time, where the operators are */
#define RR_MAX_CELLS    5
#define FRAME_ROW_MIN_H 16.0

static const char title_text[] = "桩平台检测报告";

/* ---- words ---- */

static const struct {
    const char *plan, *zh, *en;
} plan_titles[] = {
    /* as the web UI names them (mgmt/web/js/lang) */
    {"ocpp16-core", "OCPP 1.6 核心功能检测", "OCPP 1.6 core"},
    {"ocpp201-core", "OCPP 2.0.1 核心功能检测", "OCPP 2.0.1 core"},
    {"tcec102-platform", "T/CEC 102 平台互联检测", "T/CEC 102 platform interconnection"},
};

const char *run_plan_title(const char *plan, int zh)
{
    for (size_t i = 0; plan && i < sizeof plan_titles / sizeof plan_titles[0]; i++)
        if (strcmp(plan, plan_titles[i].plan) == 0)
            return zh ? plan_titles[i].zh : plan_titles[i].en;
    return NULL;
}

static const char *word_of(const char *v, const char *const pairs[][2], size_t n)
{
    if (!v)
        return "";
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, pairs[i][0]) == 0)
            return pairs[i][1];
    return v;
}

const char *run_verdict_zh(const char *verdict)
{
    static const char *const w[][2] = {{"pass", "通过"},      {"fail", "不通过"},
                                       {"skipped", "跳过"},   {"error", "错误"},
                                       {"pending", "等待中"}, {"running", "进行中"}};
    return word_of(verdict, w, sizeof w / sizeof w[0]);
}

const char *run_state_zh(const char *state)
{
    static const char *const w[][2] = {{"queued", "排队中"}, {"running", "进行中"},
                                       {"passed", "通过"},   {"failed", "不通过"},
                                       {"error", "错误"},    {"cancelled", "已取消"}};
    return word_of(state, w, sizeof w / sizeof w[0]);
}

/* ---- text ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* `s` (NULL = "") as printable text: at most `max` bytes (cut on a UTF-8 boundary; *cut = 1
 * then, when cut is not NULL), valid UTF-8, control characters but newlines as spaces.
 * g_malloc'd. */
static char *clean(const char *s, size_t max, int *cut)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    if (cut)
        *cut = len > max;
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    char *t = g_utf8_make_valid(s, (gssize)len);
    for (unsigned char *p = (unsigned char *)t; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            *p = ' ';
    return t;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long int_of(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* An epoch-seconds member as "2026-01-02 15:04:05" (UTC+8), or "—" when absent or null. */
static void time_text(const json_t *v, char *buf, size_t len)
{
    if (!json_is_integer(v)) {
        snprintf(buf, len, "—");
        return;
    }
    time_t t = (time_t)json_integer_value(v) + CST_OFFSET;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- blocks ---- */

enum rr_font { R_TITLE, R_BODY, R_BOLD, R_SMALL, R_FRAME, R_COUNT };

struct rr_cell {
    double x, w;  /* from the table's left edge */
    double inset; /* text starts this far in: PAD_X in a bordered cell, 0 in a paragraph */
    PangoLayout *l;
    int shade, top; /* grey background; text at the top rather than vertically centred */
};

struct rr_block {
    struct rr_cell c[RR_MAX_CELLS];
    int n;
    int bordered;
    double h, gap; /* height; space above it unless it starts a page */
    double y;
    int page;
    int keep_with_next; /* never ends a page (headings, table headers) */
    int header;         /* the block repeated above it when it starts a page; -1 for none */
    int header_here;
};

struct rr_doc {
    PangoContext *ctx;
    PangoFontDescription *font[R_COUNT];
    struct rr_block *b;
    int n, cap;
    int oom;
};

static PangoLayout *make_layout(struct rr_doc *d, enum rr_font f, const char *text, double width,
                                PangoAlignment align, int max_lines)
{
    PangoLayout *l = pango_layout_new(d->ctx);
    pango_layout_set_font_description(l, d->font[f]);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    if (max_lines > 0) {
        pango_layout_set_height(l, -max_lines);
        pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    }
    pango_layout_set_text(l, text, -1); /* plain text: run data is never markup */
    return l;
}

static double layout_h(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

/* A new empty block at the end (its index), or -1 when out of memory. */
static int block_new(struct rr_doc *d, int bordered, double min_h)
{
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 64;
        struct rr_block *b = realloc(d->b, (size_t)cap * sizeof *b);
        if (!b) {
            d->oom = 1;
            return -1;
        }
        d->b = b;
        d->cap = cap;
    }
    struct rr_block *b = &d->b[d->n];
    memset(b, 0, sizeof *b);
    b->bordered = bordered;
    b->h = min_h;
    b->header = -1;
    return d->n++;
}

/* Adds a cell at `x` (width `w`) to block `bi` showing `text` (taken: g_free'd here). */
static void add_cell(struct rr_doc *d, int bi, double x, double w, enum rr_font f, char *text,
                     PangoAlignment align, int max_lines, int shade)
{
    if (bi < 0 || d->b[bi].n >= RR_MAX_CELLS) {
        g_free(text);
        return;
    }
    struct rr_block *b = &d->b[bi];
    struct rr_cell *c = &b->c[b->n++];
    c->x = x;
    c->w = w;
    c->inset = b->bordered ? PAD_X : 0;
    c->shade = shade;
    c->l = make_layout(d, f, text, w - 2 * c->inset, align, max_lines);
    g_free(text);
    double h = layout_h(c->l) + (b->bordered ? 2 * PAD_Y : 0);
    if (h > b->h)
        b->h = h;
}

/* A paragraph across the table (`text` taken), `gap` points below what precedes it. */
static int paragraph(struct rr_doc *d, enum rr_font f, char *text, PangoAlignment align, double gap,
                     int keep_with_next)
{
    int bi = block_new(d, 0, 0);
    add_cell(d, bi, 0, TABLE_W, f, text, align, RUN_REPORT_CELL_LINES, 0);
    if (bi >= 0) {
        d->b[bi].gap = gap;
        d->b[bi].keep_with_next = keep_with_next;
    }
    return bi;
}

/* A table row of `n` cells of widths `w` (texts taken); `shade` for a header row. */
static int table_row(struct rr_doc *d, int n, const double *w, char **texts, enum rr_font f,
                     int shade, double min_h, int header)
{
    int bi = block_new(d, 1, min_h);
    double x = 0;
    for (int i = 0; i < n; i++) {
        add_cell(d, bi, x, w[i], f, texts[i], shade ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT,
                 RUN_REPORT_CELL_LINES, shade);
        x += w[i];
    }
    if (bi >= 0)
        d->b[bi].header = header;
    return bi;
}

/* ---- the report's content ---- */

/* One row of the summary table: label, value[, label, value] (values taken). */
static void info_row(struct rr_doc *d, const char *l1, char *v1, const char *l2, char *v2)
{
    const double L = 78.0, V = (TABLE_W - 2 * L) / 2;
    int bi = block_new(d, 1, ROW_MIN_H);
    add_cell(d, bi, 0, L, R_BODY, g_strdup(l1), PANGO_ALIGN_CENTER, RUN_REPORT_CELL_LINES, 1);
    if (!l2) {
        add_cell(d, bi, L, TABLE_W - L, R_BODY, v1, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
        return;
    }
    add_cell(d, bi, L, V, R_BODY, v1, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
    add_cell(d, bi, L + V, L, R_BODY, g_strdup(l2), PANGO_ALIGN_CENTER, RUN_REPORT_CELL_LINES, 1);
    add_cell(d, bi, 2 * L + V, V, R_BODY, v2, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
}

static char *text_or_dash(const char *s)
{
    return s && *s ? clean(s, RUN_REPORT_TEXT_BYTES, NULL) : g_strdup("—");
}

static char *time_of(const json_t *run, const char *key)
{
    char buf[32];
    time_text(json_object_get(run, key), buf, sizeof buf);
    return g_strdup(buf);
}

static void build_head(struct rr_doc *d, const json_t *run, long long generated_at)
{
    const char *plan = str_of(run, "plan"), *kind = str_of(run, "target_kind");
    const char *state = str_of(run, "state");
    const char *ptitle = str_of(run, "plan_title_zh");
    if (!ptitle)
        ptitle = run_plan_title(plan, 1);
    char *p = clean(plan, RUN_REPORT_TEXT_BYTES, NULL);
    char *t = clean(str_of(run, "target"), RUN_REPORT_TEXT_BYTES, NULL);

    paragraph(d, R_TITLE, g_strdup(title_text), PANGO_ALIGN_CENTER, 0, 1);
    paragraph(d, R_BODY, g_strdup_printf("%s（%s）", ptitle ? ptitle : p, p), PANGO_ALIGN_CENTER, 6,
              1);

    info_row(d, "检测方案", g_strdup_printf("%s（%s）", ptitle ? ptitle : p, p), NULL, NULL);
    const char *name = str_of(run, "target_name");
    char *tn = name && *name ? clean(name, RUN_REPORT_TEXT_BYTES, NULL) : NULL;
    int pile = kind && strcmp(kind, "pile") == 0;
    char *det = json_is_integer(json_object_get(run, "detection_id"))
                    ? g_strdup_printf("，检测申请 %lld", int_of(run, "detection_id"))
                    : g_strdup("");
    info_row(d, "检测对象",
             g_strdup_printf("%s%s%s %s%s%s", tn ? tn : "", tn ? "（" : "",
                             pile ? "充电桩" : "运营商平台 OperatorID", t, det, tn ? "）" : ""),
             NULL, NULL);
    g_free(tn);
    g_free(det);
    info_row(d, "所属单位", text_or_dash(str_of(run, "target_company")), "运行编号",
             g_strdup_printf("%lld", int_of(run, "id")));
    char *st =
        g_strdup_printf("%s%s", run_state_zh(state),
                        json_is_true(json_object_get(run, "cancel_requested")) && state &&
                                (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0)
                            ? "（已请求取消）"
                            : "");
    info_row(d, "发起人", text_or_dash(str_of(run, "started_by")), "检测结果", st);
    info_row(d, "创建时间", time_of(run, "created_at"), "开始时间", time_of(run, "started_at"));
    char gen[32];
    json_t *g = json_integer(generated_at);
    time_text(g, gen, sizeof gen);
    json_decref(g);
    info_row(d, "结束时间", time_of(run, "finished_at"), "报告生成", g_strdup(gen));
    info_row(d, "结果说明", text_or_dash(str_of(run, "reason")), NULL, NULL);

    /* counted from the checks themselves, so the table below always adds up */
    long long total = 0, required = 0, n[6] = {0};
    static const char *const verdicts[] = {"pass",  "fail",    "skipped",
                                           "error", "pending", "running"};
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(run, "checks"), i, c)
    {
        total++;
        required += json_is_true(json_object_get(c, "required"));
        const char *v = str_of(c, "verdict");
        for (int k = 0; v && k < 6; k++)
            if (strcmp(v, verdicts[k]) == 0)
                n[k]++;
    }
    info_row(d, "检查汇总",
             g_strdup_printf("共 %lld 项（必检 %lld 项）：通过 %lld，不通过 %lld，跳过 %lld，"
                             "错误 %lld，等待中 %lld，进行中 %lld",
                             total, required, n[0], n[1], n[2], n[3], n[4], n[5]),
             NULL, NULL);
    if (state && (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0))
        paragraph(d, R_SMALL,
                  g_strdup_printf("注：生成本报告时检测尚未结束（%s），以下为截至 %s 的进度。",
                                  run_state_zh(state), gen),
                  PANGO_ALIGN_LEFT, 4, 0);
    paragraph(d, R_SMALL, g_strdup("时间均为北京时间（UTC+8）。"), PANGO_ALIGN_LEFT, 2, 0);
    g_free(p);
    g_free(t);
}

static const double check_w[5] = {30, 170, 32, 48, TABLE_W - 280};

static void build_checks(struct rr_doc *d, const json_t *checks)
{
    paragraph(d, R_BOLD, g_strdup("一、检查项结果"), PANGO_ALIGN_LEFT, 12, 1);
    char *h[5] = {g_strdup("序号"), g_strdup("检查项"), g_strdup("必检"), g_strdup("结果"),
                  g_strdup("原因")};
    int hdr = table_row(d, 5, check_w, h, R_SMALL, 1, 20, -1);
    if (hdr >= 0)
        d->b[hdr].keep_with_next = 1;
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        if (i >= RUN_REPORT_MAX_CHECKS) {
            paragraph(d, R_SMALL,
                      g_strdup_printf("另有 %zu 个检查项未列出。", json_array_size(checks) - i),
                      PANGO_ALIGN_LEFT, 4, 0);
            break;
        }
        const char *title = str_of(c, "title_zh");
        char *cid = clean(str_of(c, "check_id"), RUN_REPORT_TEXT_BYTES, NULL);
        char *tt = clean(title, RUN_REPORT_TEXT_BYTES, NULL);
        char *row[5] = {
            g_strdup_printf("%lld", int_of(c, "seq")),
            title ? g_strdup_printf("%s\n%s", tt, cid) : g_strdup(cid),
            g_strdup(json_is_true(json_object_get(c, "required")) ? "是" : "否"),
            g_strdup(run_verdict_zh(str_of(c, "verdict"))),
            text_or_dash(str_of(c, "reason")),
        };
        g_free(cid);
        g_free(tt);
        table_row(d, 5, check_w, row, R_SMALL, 0, 20, hdr);
    }
}

/* Whether section 二 lists check `c`: a failed or erred one always; a skipped one when it has
 * frames (most skipped checks waited for nothing or followed a failure, and the table above
 * already gives their reason). */
static int shown_in_frames(const json_t *c)
{
    const char *v = str_of(c, "verdict");
    if (!v)
        return 0;
    if (strcmp(v, "fail") == 0 || strcmp(v, "error") == 0)
        return 1;
    return strcmp(v, "skipped") == 0 && json_array_size(json_object_get(c, "frames")) > 0;
}

static const double frame_w[3] = {36, 54, TABLE_W - 90};

static void frame_row(struct rr_doc *d, const json_t *f, int hdr)
{
    const char *dir = str_of(f, "dir");
    int cut = 0;
    char *text = clean(str_of(f, "text"), RUN_REPORT_FRAME_BYTES, &cut);
    long long orig = int_of(f, "cut");
    char *row[3] = {
        g_strdup(dir && strcmp(dir, "in") == 0    ? "接收"
                 : dir && strcmp(dir, "out") == 0 ? "发送"
                                                  : "—"),
        json_is_integer(json_object_get(f, "ms")) ? g_strdup_printf("%lld ms", int_of(f, "ms"))
                                                  : g_strdup("—"),
        cut || orig > 0 ? g_strdup_printf("%s…（原长 %lld 字节，已截断）", text,
                                          orig > 0 ? orig : (long long)strlen(str_of(f, "text")))
                        : g_strdup(text),
    };
    g_free(text);
    int bi = block_new(d, 1, FRAME_ROW_MIN_H);
    double x = 0;
    for (int i = 0; i < 3; i++) {
        add_cell(d, bi, x, frame_w[i], i == 2 ? R_FRAME : R_SMALL, row[i], PANGO_ALIGN_LEFT,
                 i == 2 ? RUN_REPORT_FRAME_LINES : 1, 0);
        if (bi >= 0)
            d->b[bi].c[i].top = 1; /* direction and time beside the frame's first line */
        x += frame_w[i];
    }
    if (bi >= 0)
        d->b[bi].header = hdr;
}

static void note_row(struct rr_doc *d, char *text, int hdr)
{
    int bi = block_new(d, 1, FRAME_ROW_MIN_H);
    add_cell(d, bi, 0, TABLE_W, R_SMALL, text, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
    if (bi >= 0)
        d->b[bi].header = hdr;
}

static void build_frames(struct rr_doc *d, const json_t *checks)
{
    paragraph(d, R_BOLD, g_strdup("二、未通过检查项的报文"), PANGO_ALIGN_LEFT, 14, 1);
    paragraph(
        d, R_SMALL,
        g_strdup("列出不通过和出错的检查项，以及记录了报文的跳过项。方向以 evgate 为准："
                 "“发送”为 evgate 发出，“接收”为被测对象发来；时间为该检查项开始后的毫秒数。"),
        PANGO_ALIGN_LEFT, 2, 0);
    int any = 0;
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        if (i >= RUN_REPORT_MAX_CHECKS)
            break;
        if (!shown_in_frames(c))
            continue;
        any = 1;
        char *title = clean(str_of(c, "title_zh"), RUN_REPORT_TEXT_BYTES, NULL);
        char *cid = clean(str_of(c, "check_id"), RUN_REPORT_TEXT_BYTES, NULL);
        char *reason = text_or_dash(str_of(c, "reason"));
        int bi = block_new(d, 1, ROW_MIN_H);
        add_cell(d, bi, 0, TABLE_W, R_BODY,
                 g_strdup_printf("第 %lld 项　%s（%s）　结果：%s\n原因：%s", int_of(c, "seq"),
                                 title, cid, run_verdict_zh(str_of(c, "verdict")), reason),
                 PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 1);
        if (bi >= 0) {
            d->b[bi].gap = 8;
            d->b[bi].keep_with_next = 1;
        }
        g_free(title);
        g_free(cid);
        g_free(reason);
        char *h[3] = {g_strdup("方向"), g_strdup("时间"), g_strdup("报文")};
        int hdr = table_row(d, 3, frame_w, h, R_SMALL, 1, FRAME_ROW_MIN_H, -1);
        if (hdr >= 0)
            d->b[hdr].keep_with_next = 1;
        const json_t *frames = json_object_get(c, "frames");
        size_t n = json_array_size(frames);
        if (n == 0)
            note_row(d, g_strdup("（本项没有记录报文）"), hdr);
        for (size_t k = 0; k < n; k++) {
            if (n > RUN_REPORT_FRAMES_HEAD + RUN_REPORT_FRAMES_TAIL &&
                k == RUN_REPORT_FRAMES_HEAD) {
                size_t skip = n - RUN_REPORT_FRAMES_HEAD - RUN_REPORT_FRAMES_TAIL;
                note_row(d, g_strdup_printf("…… 中间 %zu 条报文从略，完整内容见 JSON 报告", skip),
                         hdr);
                k += skip;
            }
            frame_row(d, json_array_get(frames, k), hdr);
        }
        long long dropped = int_of(c, "frames_dropped");
        if (dropped > 0)
            note_row(d, g_strdup_printf("另有 %lld 条报文超出记录上限，未保存", dropped), hdr);
    }
    if (!any)
        paragraph(d, R_BODY, g_strdup("没有未通过的检查项。"), PANGO_ALIGN_LEFT, 6, 0);
}

/* ---- pagination and drawing ---- */

/* Places every block on a page; returns the number of pages. */
static int paginate(struct rr_doc *d, double first_top, double next_top, double bottom)
{
    int page = 0;
    double y = first_top;
    for (int i = 0; i < d->n; i++) {
        struct rr_block *b = &d->b[i];
        double top = page == 0 ? first_top : next_top;
        if (y > top)
            y += b->gap;
        /* a heading or table header moves on with what follows it */
        double need = 0;
        for (int j = i; j < d->n; j++) {
            need += d->b[j].h;
            if (!d->b[j].keep_with_next)
                break;
        }
        if (need > bottom - next_top)
            need = b->h;
        if (y + need > bottom && y > top) { /* a block taller than a page is clipped */
            page++;
            y = next_top;
            if (b->header >= 0) {
                b->header_here = 1;
                y += d->b[b->header].h;
            }
        }
        b->page = page;
        b->y = y;
        y += b->h;
    }
    return page + 1;
}

static void show_at(cairo_t *cr, PangoLayout *l, double x, double y)
{
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
}

static void draw_block(cairo_t *cr, const struct rr_block *b, double y)
{
    for (int j = 0; j < b->n; j++) {
        const struct rr_cell *c = &b->c[j];
        double x = MARGIN_X + c->x, w = c->w, h = b->h;
        if (c->shade) {
            cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
            cairo_rectangle(cr, x, y, w, h);
            cairo_fill(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
        }
        if (b->bordered) {
            cairo_set_line_width(cr, LINE_THIN);
            cairo_rectangle(cr, x, y, w, h);
            cairo_stroke(cr);
        }
        cairo_save(cr);
        cairo_rectangle(cr, x, y, w, h);
        cairo_clip(cr);
        double th = layout_h(c->l);
        double ty = !b->bordered ? y : c->top ? y + PAD_Y : y + (h - th) / 2;
        show_at(cr, c->l, x + c->inset, ty);
        cairo_restore(cr);
    }
}

/* ---- the PDF ---- */

struct membuf {
    unsigned char *p;
    size_t len, cap;
    int too_big, oom;
};

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct membuf *b = closure;
    if (len > RUN_REPORT_MAX_BYTES - b->len) {
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

static int have_cjk_font(PangoFontMap *map, PangoContext *ctx, const PangoFontDescription *fd)
{
    PangoFont *font = pango_font_map_load_font(map, ctx, fd);
    if (!font)
        return 0;
    int ok =
        pango_font_has_char(font, 0x6865 /* 桩 */) && pango_font_has_char(font, 0x68C0 /* 检 */);
    g_object_unref(font);
    return ok;
}

static void free_doc(struct rr_doc *d)
{
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->b[i].n; j++)
            if (d->b[i].c[j].l)
                g_object_unref(d->b[i].c[j].l);
    free(d->b);
    for (int i = 0; i < R_COUNT; i++)
        if (d->font[i])
            pango_font_description_free(d->font[i]);
}

/* What run_report_pdf() does, on the render thread (same contract). */
static int render(const json_t *run, long long generated_at, unsigned char **out, size_t *out_len,
                  char *err, size_t errlen)
{
    int rc = -1;
    struct rr_doc d = {0};
    struct membuf buf = {0};
    cairo_surface_t *surface = NULL;
    cairo_t *cr = NULL;
    PangoFontMap *map = NULL;
    PangoLayout *cont = NULL;
    char *text = NULL;

    *out = NULL;
    *out_len = 0;
    if (!json_is_object(run)) {
        set_err(err, errlen, "the run must be a JSON object");
        return -1;
    }
    static const char *const fonts[R_COUNT] = {FONT_TITLE, FONT_BODY, FONT_SECTION, FONT_SMALL,
                                               FONT_FRAME};
    for (int i = 0; i < R_COUNT; i++)
        d.font[i] = pango_font_description_from_string(fonts[i]);

    surface = cairo_pdf_surface_create_for_stream(membuf_write, &buf, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title_text);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "evgate");
    cr = cairo_create(surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        set_err(err, errlen, "cannot create PDF surface: %s",
                cairo_status_to_string(cairo_status(cr)));
        goto fail;
    }
    /* a font map of this call's own, as pdf_form.c does: no pango state shared across threads */
    map = pango_cairo_font_map_new();
    d.ctx = pango_font_map_create_context(map);
    pango_cairo_update_context(cr, d.ctx);
    pango_cairo_context_set_resolution(d.ctx, 72.0);
    pango_context_set_language(d.ctx, pango_language_from_string("zh-cn"));
    if (!have_cjk_font(map, d.ctx, d.font[R_BODY])) {
        set_err(err, errlen, "no font with Chinese glyphs (install fonts-noto-cjk)");
        goto fail;
    }

    const json_t *checks = json_object_get(run, "checks");
    build_head(&d, run, generated_at);
    build_checks(&d, checks);
    build_frames(&d, checks);
    if (d.oom) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }

    text = g_strdup_printf("%s（续）　运行编号 %lld", title_text, int_of(run, "id"));
    cont = make_layout(&d, R_SMALL, text, TABLE_W, PANGO_ALIGN_LEFT, 1);
    double next_top = MARGIN_TOP + layout_h(cont) + 8;
    int pages = paginate(&d, MARGIN_TOP, next_top, PAGE_H - MARGIN_BOTTOM);

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    int bi = 0;
    for (int page = 0; page < pages; page++) {
        if (page > 0)
            show_at(cr, cont, MARGIN_X, MARGIN_TOP);
        for (; bi < d.n && d.b[bi].page == page; bi++) {
            const struct rr_block *b = &d.b[bi];
            if (b->header_here) {
                const struct rr_block *h = &d.b[b->header];
                draw_block(cr, h, b->y - h->h);
            }
            draw_block(cr, b, b->y);
        }
        g_free(text);
        text = g_strdup_printf("第 %d 页  共 %d 页", page + 1, pages);
        PangoLayout *foot = make_layout(&d, R_SMALL, text, TABLE_W, PANGO_ALIGN_CENTER, 1);
        show_at(cr, foot, MARGIN_X, PAGE_H - MARGIN_BOTTOM + 18);
        g_object_unref(foot);
        cairo_show_page(cr);
    }

    cairo_destroy(cr);
    cr = NULL;
    cairo_surface_finish(surface);
    if (buf.too_big) {
        set_err(err, errlen, "report larger than %u bytes", RUN_REPORT_MAX_BYTES);
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
    if (cont)
        g_object_unref(cont);
    g_free(text);
    free_doc(&d);
    if (d.ctx)
        g_object_unref(d.ctx);
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

/* One thread renders every report, for the reason pdf_form.c renders its forms on one: cairo
 * copies each embedded font's CFF table (~24 MB) while finishing a PDF and glibc keeps that in
 * the rendering thread's arena, so rendering on every server thread would hold it per thread.
 * (The two modules' queues could be one: see the note in docs/api-runs.md.) */
struct job {
    const json_t *run;
    long long generated_at;
    unsigned char **out;
    size_t *out_len;
    char *err;
    size_t errlen;
    int rc, done;
    struct job *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t queue_done = PTHREAD_COND_INITIALIZER;
static struct job *queue_head, *queue_tail;
static int queue_len;
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

        int rc = render(j->run, j->generated_at, j->out, j->out_len, j->err, j->errlen);

        pthread_mutex_lock(&queue_lock);
        j->rc = rc;
        j->done = 1;
        queue_len--;
        pthread_cond_broadcast(&queue_done);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

static void worker_start(void)
{
    pthread_t t;
    if (thread_start_quiet(&t, worker_main, NULL) == 0) {
        pthread_detach(t);
        pthread_setname_np(t, "evg-run-report");
        worker_running = 1;
    }
}

int run_report_pdf(const json_t *run, long long generated_at, unsigned char **out, size_t *out_len,
                   char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    pthread_once(&worker_once, worker_start);
    if (!worker_running) /* no thread to be had: render here rather than fail */
        return render(run, generated_at, out, out_len, err, errlen);

    struct job j = {.run = run,
                    .generated_at = generated_at,
                    .out = out,
                    .out_len = out_len,
                    .err = err,
                    .errlen = errlen};
    pthread_mutex_lock(&queue_lock);
    if (queue_len >= RUN_REPORT_MAX_WAITING) {
        pthread_mutex_unlock(&queue_lock);
        set_err(err, errlen, "too many reports being rendered (%d), try again",
                RUN_REPORT_MAX_WAITING);
        return -2;
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
