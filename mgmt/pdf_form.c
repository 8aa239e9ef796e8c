/* Detection application forms: the application is turned into a list of table rows, pango
 * measures every cell, the rows are paginated, then cairo draws them onto a PDF surface that
 * writes into memory. Two passes over the same layouts, so the page count is known up front. */
#include "mgmt/pdf_form_internal.h"

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

struct membuf {
    unsigned char *p;
    size_t len, cap;
    int too_big, oom;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Printed under the table on the last page. */
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
    pf_build_rows(f, app, delegated);
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
    company = pf_field(app, "operator", "company_name");
    id = pf_value_text(json_object_get(app, "id"));
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
