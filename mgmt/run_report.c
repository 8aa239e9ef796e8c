/* The conformance run report (run_report.h): the run, as GET /conformance-runs/{id} answers it, becomes the
 * report's content (a summary table, a table of the checks, the frames of the checks that did not
 * pass) as a list of blocks that run_report_draw.c paginates and draws on pdf_render.h's page,
 * with its faces, so that evgate's documents look alike. Also the words of states and verdicts. */
#include "mgmt/run_report.h"
#include "mgmt/run_report_internal.h"
#include "protocol/plans.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CST_OFFSET      (8 * 3600) /* China Standard Time, where the operators are */
#define FRAME_ROW_MIN_H 16.0

static const char title_text[] = "桩平台检测报告";

/* ---- words ---- */

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

/* ---- the report's content ---- */

/* One row of the summary table: label, value[, label, value] (values taken). */
static void info_row(struct rr_doc *d, const char *l1, char *v1, const char *l2, char *v2)
{
    const double L = 78.0, V = (PDF_TABLE_W - 2 * L) / 2;
    int bi = rr_block_new(d, 1, PDF_ROW_MIN_H);
    rr_add_cell(d, bi, 0, L, R_BODY, g_strdup(l1), PANGO_ALIGN_CENTER, RUN_REPORT_CELL_LINES, 1);
    if (!l2) {
        rr_add_cell(d, bi, L, PDF_TABLE_W - L, R_BODY, v1, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES,
                    0);
        return;
    }
    rr_add_cell(d, bi, L, V, R_BODY, v1, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
    rr_add_cell(d, bi, L + V, L, R_BODY, g_strdup(l2), PANGO_ALIGN_CENTER, RUN_REPORT_CELL_LINES,
                1);
    rr_add_cell(d, bi, 2 * L + V, V, R_BODY, v2, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
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
        ptitle = plan_title_zh(plan);
    char *p = clean(plan, RUN_REPORT_TEXT_BYTES, NULL);
    char *t = clean(str_of(run, "target"), RUN_REPORT_TEXT_BYTES, NULL);

    rr_paragraph(d, R_TITLE, g_strdup(title_text), PANGO_ALIGN_CENTER, 0, 1);
    rr_paragraph(d, R_BODY, g_strdup_printf("%s（%s）", ptitle ? ptitle : p, p), PANGO_ALIGN_CENTER,
                 6, 1);

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
        rr_paragraph(d, R_SMALL,
                     g_strdup_printf("注：生成本报告时检测尚未结束（%s），以下为截至 %s 的进度。",
                                     run_state_zh(state), gen),
                     PANGO_ALIGN_LEFT, 4, 0);
    rr_paragraph(d, R_SMALL, g_strdup("时间均为北京时间（UTC+8）。"), PANGO_ALIGN_LEFT, 2, 0);
    g_free(p);
    g_free(t);
}

static const double check_w[5] = {30, 170, 32, 48, PDF_TABLE_W - 280};

static void build_checks(struct rr_doc *d, const json_t *checks)
{
    rr_paragraph(d, R_BOLD, g_strdup("一、检查项结果"), PANGO_ALIGN_LEFT, 12, 1);
    char *h[5] = {g_strdup("序号"), g_strdup("检查项"), g_strdup("必检"), g_strdup("结果"),
                  g_strdup("原因")};
    int hdr = rr_table_row(d, 5, check_w, h, R_SMALL, 1, 20, -1);
    if (hdr >= 0)
        d->b[hdr].keep_with_next = 1;
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        if (i >= RUN_REPORT_MAX_CHECKS) {
            rr_paragraph(d, R_SMALL,
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
        rr_table_row(d, 5, check_w, row, R_SMALL, 0, 20, hdr);
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

static const double frame_w[3] = {36, 54, PDF_TABLE_W - 90};

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
    int bi = rr_block_new(d, 1, FRAME_ROW_MIN_H);
    double x = 0;
    for (int i = 0; i < 3; i++) {
        rr_add_cell(d, bi, x, frame_w[i], i == 2 ? R_FRAME : R_SMALL, row[i], PANGO_ALIGN_LEFT,
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
    int bi = rr_block_new(d, 1, FRAME_ROW_MIN_H);
    rr_add_cell(d, bi, 0, PDF_TABLE_W, R_SMALL, text, PANGO_ALIGN_LEFT, RUN_REPORT_CELL_LINES, 0);
    if (bi >= 0)
        d->b[bi].header = hdr;
}

static void build_frames(struct rr_doc *d, const json_t *checks)
{
    rr_paragraph(d, R_BOLD, g_strdup("二、未通过检查项的报文"), PANGO_ALIGN_LEFT, 14, 1);
    rr_paragraph(
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
        int bi = rr_block_new(d, 1, PDF_ROW_MIN_H);
        rr_add_cell(d, bi, 0, PDF_TABLE_W, R_BODY,
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
        int hdr = rr_table_row(d, 3, frame_w, h, R_SMALL, 1, FRAME_ROW_MIN_H, -1);
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
        rr_paragraph(d, R_BODY, g_strdup("没有未通过的检查项。"), PANGO_ALIGN_LEFT, 6, 0);
}

/* ---- the PDF ---- */

/* One call of run_report_pdf(), handed to the render thread. */
struct report_call {
    const json_t *run;
    long long generated_at;
    struct pdf_dest dest;
};

/* What run_report_pdf() does, on the render thread (same contract but for the busy answer):
 * `arg` is a report_call. */
static int render(void *arg)
{
    const struct report_call *call = arg;
    const struct pdf_dest *dest = &call->dest;
    struct rr_doc d = {0};
    struct pdf_doc *pdf = NULL;
    PangoLayout *cont = NULL;
    char *text = NULL;
    int rc = -1;

    if (!json_is_object(call->run)) {
        pdf_set_err(dest->err, dest->errlen, "the run must be a JSON object");
        return -1;
    }
    static const char *const fonts[R_COUNT] = {PDF_FONT_TITLE, PDF_FONT_BODY, PDF_FONT_SECTION,
                                               PDF_FONT_SMALL, FONT_FRAME};
    for (int i = 0; i < R_COUNT; i++)
        d.font[i] = pango_font_description_from_string(fonts[i]);
    pdf = pdf_doc_new(title_text, RUN_REPORT_MAX_BYTES, d.font[R_BODY], "桩检", dest->err,
                      dest->errlen);
    if (!pdf)
        goto fail;
    d.ctx = pdf_doc_pango(pdf);

    const json_t *checks = json_object_get(call->run, "checks");
    build_head(&d, call->run, call->generated_at);
    build_checks(&d, checks);
    build_frames(&d, checks);
    if (d.oom) {
        pdf_set_err(dest->err, dest->errlen, "out of memory");
        goto fail;
    }
    text = g_strdup_printf("%s（续）　运行编号 %lld", title_text, int_of(call->run, "id"));
    cont = rr_layout(&d, R_SMALL, text, PDF_TABLE_W, PANGO_ALIGN_LEFT, 1);
    rr_draw(&d, pdf, cont);
    rc = pdf_doc_finish(pdf, "report", dest);

fail:
    if (cont)
        g_object_unref(cont);
    g_free(text);
    rr_doc_clear(&d);
    pdf_doc_free(pdf);
    return rc;
}

int run_report_pdf(const json_t *run, long long generated_at, unsigned char **out, size_t *out_len,
                   char *err, size_t errlen)
{
    struct report_call call = {run, generated_at, {out, out_len, err, errlen}};
    return pdf_render_call(render, &call, &call.dest, RUN_REPORT_MAX_WAITING, "reports");
}
