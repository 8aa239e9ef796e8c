/* Detection application forms: the application is turned into a list of table rows, pango
 * measures every cell, the rows are paginated, then cairo draws them onto a PDF surface that
 * writes into memory. Two passes over the same layouts, so the page count is known up front. */
#include "mgmt/pdf_form_internal.h"

#include <cairo.h>
#include <pango/pangocairo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Printed under the table on the last page. */
static const char notes_text[] =
    "注：本表由系统按在线填报的信息生成，请核对后打印，盖章签字后扫描或拍照上传；"
    "信息如需变更，请在线修改后重新下载本表，手工涂改无效。";

/* ---- layout and drawing ---- */

/* Creates the layouts of every cell and sets each row's height. */
static void measure_rows(struct form *f, PangoContext *ctx)
{
    for (int i = 0; i < f->n; i++) {
        struct row *r = &f->row[i];
        r->h = r->min_h;
        for (int j = 0; j < r->n; j++) {
            struct cell *c = &r->cell[j];
            double inner = c->w - 2 * PDF_PAD_X;
            double h;
            switch (c->kind) {
            case CELL_LABEL:
                c->layout = pdf_layout(ctx, f->font[F_BODY], c->text, inner, PANGO_ALIGN_CENTER,
                                       PDF_FORM_MAX_CELL_LINES);
                break;
            case CELL_SECTION:
                c->layout = pdf_layout(ctx, f->font[F_SECTION], c->text, inner, PANGO_ALIGN_LEFT,
                                       PDF_FORM_MAX_CELL_LINES);
                break;
            case CELL_TEXT:
                c->layout = pdf_layout(ctx, f->font[F_BODY], c->text, inner - 2 * PDF_PAD_X,
                                       PANGO_ALIGN_LEFT, PDF_FORM_MAX_CELL_LINES);
                pango_layout_set_indent(c->layout, 21 * PANGO_SCALE); /* two characters */
                pango_layout_set_spacing(c->layout, 2 * PANGO_SCALE);
                break;
            default:
                c->layout = pdf_layout(ctx, f->font[F_BODY], c->text, inner, PANGO_ALIGN_LEFT,
                                       PDF_FORM_MAX_CELL_LINES);
                break;
            }
            h = pdf_layout_h(c->layout) + 2 * PDF_PAD_Y;
            if (c->kind == CELL_TEXT)
                h += 2 * PDF_PAD_Y;
            if (c->foot) {
                c->foot_layout = pdf_layout(ctx, f->font[F_BODY], c->foot, inner, PANGO_ALIGN_RIGHT,
                                            PDF_FORM_MAX_CELL_LINES);
                h += pdf_layout_h(c->foot_layout) + 2 * PDF_PAD_Y;
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

static void draw_row(cairo_t *cr, const struct row *r)
{
    for (int j = 0; j < r->n; j++) {
        const struct cell *c = &r->cell[j];
        double x = PDF_MARGIN_X + c->x, y = r->y, w = c->w, h = r->h;
        pdf_cell_begin(cr, x, y, w, h, c->kind == CELL_SECTION ? 0.9 : -1, 1);
        double th = pdf_layout_h(c->layout);
        switch (c->kind) {
        case CELL_TEXT:
            pdf_show(cr, c->layout, x + 2 * PDF_PAD_X, y + 2 * PDF_PAD_Y);
            break;
        case CELL_BOX:
            pdf_show(cr, c->layout, x + PDF_PAD_X, y + PDF_PAD_Y + 2);
            break;
        default:
            pdf_show(cr, c->layout, x + PDF_PAD_X, y + (h - th) / 2);
            break;
        }
        if (c->foot_layout)
            pdf_show(cr, c->foot_layout, x + PDF_PAD_X,
                     y + h - PDF_PAD_Y - 4 - pdf_layout_h(c->foot_layout));
        cairo_restore(cr);
    }
}

/* ---- the PDF ---- */

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

/* One call of pdf_form_detection(), handed to the render thread. */
struct form_call {
    const json_t *app;
    struct pdf_dest dest;
};

/* What pdf_form_detection() does, on the render thread (same contract): `arg` is a form_call. */
static int render(void *arg)
{
    const struct form_call *call = arg;
    const json_t *app = call->app;
    char *err = call->dest.err;
    size_t errlen = call->dest.errlen;
    int rc = -1;
    struct form *f = NULL;
    struct pdf_doc *doc = NULL;
    PangoLayout *title = NULL, *meta_l = NULL, *meta_r = NULL, *cont = NULL, *notes = NULL;
    char *company = NULL, *id = NULL, *text = NULL;

    if (!json_is_object(app)) {
        pdf_set_err(err, errlen, "application must be a JSON object");
        return -1;
    }
    const char *mode = json_string_value(json_object_get(app, "mode"));
    int delegated;
    if (mode && strcmp(mode, "self") == 0) {
        delegated = 0;
    } else if (mode && strcmp(mode, "delegated") == 0) {
        delegated = 1;
    } else {
        pdf_set_err(err, errlen, "application mode must be \"self\" or \"delegated\"");
        return -1;
    }
    const char *title_text = delegated ? "充电设施委托接入申请表" : "充电设施平台符合性检测申请表";

    f = g_new0(struct form, 1);
    f->font[F_TITLE] = pango_font_description_from_string(PDF_FONT_TITLE);
    f->font[F_BODY] = pango_font_description_from_string(PDF_FONT_BODY);
    f->font[F_SECTION] = pango_font_description_from_string(PDF_FONT_SECTION);
    f->font[F_SMALL] = pango_font_description_from_string(PDF_FONT_SMALL);
    pf_build_rows(f, app, delegated);
    if (f->full) {
        pdf_set_err(err, errlen, "form has more than %d rows", MAX_ROWS);
        goto fail;
    }

    doc = pdf_doc_new(title_text, PDF_FORM_MAX_BYTES, f->font[F_BODY], "申表", err, errlen);
    if (!doc)
        goto fail;
    cairo_t *cr = pdf_doc_cairo(doc);
    PangoContext *ctx = pdf_doc_pango(doc);

    /* Page 1 heading: the title, then one line with 申请单位 on the left and the number and date
     * on the right (either wraps when long). */
    time_t now = time(NULL);
    struct tm tm = {0};
    localtime_r(&now, &tm);
    company = pf_field(app, "operator", "company_name");
    id = pf_value_text(json_object_get(app, "id"));
    title = pdf_layout(ctx, f->font[F_TITLE], title_text, PDF_TABLE_W, PANGO_ALIGN_CENTER, 2);
    pango_layout_set_spacing(title, 0);
    text = g_strdup_printf("申请编号：%s　　申请日期：%04d年%02d月%02d日", id, tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday);
    meta_r = pdf_layout(ctx, f->font[F_BODY], text, PDF_TABLE_W / 2, PANGO_ALIGN_LEFT, 4);
    g_free(text);
    text = g_strdup_printf("申请单位：%s", company);
    meta_l = pdf_layout(ctx, f->font[F_BODY], text, PDF_TABLE_W - pdf_layout_w(meta_r) - 16,
                        PANGO_ALIGN_LEFT, 4);
    g_free(text);
    text = g_strdup_printf("%s（续）", title_text);
    cont = pdf_layout(ctx, f->font[F_SMALL], text, PDF_TABLE_W, PANGO_ALIGN_LEFT, 1);
    g_free(text);
    text = NULL;
    notes = pdf_layout(ctx, f->font[F_SMALL], notes_text, PDF_TABLE_W - 18, PANGO_ALIGN_LEFT, 8);
    pango_layout_set_indent(notes, -18 * PANGO_SCALE); /* later lines hang after "注：" */

    double title_y = PDF_MARGIN_TOP;
    double meta_y = title_y + pdf_layout_h(title) + 12;
    double meta_h = MAX(pdf_layout_h(meta_l), pdf_layout_h(meta_r));
    double first_top = meta_y + meta_h + 6;
    double next_top = PDF_MARGIN_TOP + pdf_layout_h(cont) + 6;

    measure_rows(f, ctx);
    double avail = PDF_PAGE_H - PDF_MARGIN_BOTTOM - PDF_MARGIN_TOP;
    double need = first_top - PDF_MARGIN_TOP + NOTES_GAP + pdf_layout_h(notes);
    for (int i = 0; i < f->n; i++)
        need += f->row[i].h;
    double scale = need > avail && need * MIN_SCALE <= avail ? avail / need : 1.0;
    int notes_page;
    double notes_y;
    int pages = paginate(f, first_top, next_top, PDF_MARGIN_TOP + avail / scale,
                         pdf_layout_h(notes), &notes_page, &notes_y);

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    int row = 0;
    for (int page = 0; page < pages; page++) {
        cairo_save(cr);
        if (scale < 1.0) { /* shrink about the top centre: margins grow, nothing moves off */
            cairo_translate(cr, PDF_PAGE_W / 2, PDF_MARGIN_TOP);
            cairo_scale(cr, scale, scale);
            cairo_translate(cr, -PDF_PAGE_W / 2, -PDF_MARGIN_TOP);
        }
        if (page == 0) {
            pdf_show(cr, title, PDF_MARGIN_X, title_y);
            pdf_show(cr, meta_l, PDF_MARGIN_X, meta_y);
            pdf_show(cr, meta_r, PDF_PAGE_W - PDF_MARGIN_X - pdf_layout_w(meta_r), meta_y);
        } else {
            pdf_show(cr, cont, PDF_MARGIN_X, PDF_MARGIN_TOP);
            text = g_strdup_printf("申请编号：%s", id);
            PangoLayout *num =
                pdf_layout(ctx, f->font[F_SMALL], text, PDF_TABLE_W - pdf_layout_w(cont) - 24,
                           PANGO_ALIGN_RIGHT, 1);
            g_free(text);
            text = NULL;
            pdf_show(cr, num, PDF_PAGE_W - PDF_MARGIN_X - (PDF_TABLE_W - pdf_layout_w(cont) - 24),
                     PDF_MARGIN_TOP);
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
            cairo_set_line_width(cr, PDF_LINE_THICK);
            cairo_rectangle(cr, PDF_MARGIN_X, top, PDF_TABLE_W, bottom - top);
            cairo_stroke(cr);
        }
        if (page == notes_page)
            pdf_show(cr, notes, PDF_MARGIN_X + 18, notes_y);
        cairo_restore(cr);

        pdf_page_number(doc, f->font[F_SMALL], page, pages);
        cairo_show_page(cr);
    }

    rc = pdf_doc_finish(doc, "form", &call->dest);

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
    pdf_doc_free(doc);
    return rc;
}

int pdf_form_detection(const json_t *app, unsigned char **out, size_t *out_len, char *err,
                       size_t errlen)
{
    struct form_call call = {app, {out, out_len, err, errlen}};
    int rc = pdf_render_call(render, &call, &call.dest, PDF_FORM_MAX_WAITING, "forms");
    return rc == PDF_RENDER_BUSY ? -1 : rc;
}
