/* The shared side of evgate's PDFs (pdf_render.h): the render thread and its queue, the cairo
 * PDF surface that writes into a bounded memory buffer with its own pango font map, and the
 * layout helpers the detection form and the run report both draw with. */
#include "mgmt/pdf_render.h"

#include <cairo-pdf.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pdf_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- the render thread ---- */

struct job {
    int (*draw)(void *arg);
    void *arg;
    int rc, done;
    struct job *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_work = PTHREAD_COND_INITIALIZER; /* a job was queued */
static pthread_cond_t queue_done = PTHREAD_COND_INITIALIZER; /* a job was finished */
static struct job *queue_head, *queue_tail;                  /* queued, not yet started */
static struct job *drawing;                                  /* the job on the thread now */
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
        drawing = j;
        pthread_mutex_unlock(&queue_lock);

        int rc = j->draw(j->arg);

        pthread_mutex_lock(&queue_lock);
        j->rc = rc;
        j->done = 1;
        drawing = NULL;
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
        pthread_setname_np(t, "evg-pdf");
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Calls of `draw` queued or being drawn; queue_lock held. */
static int waiting_of(int (*draw)(void *arg))
{
    int n = drawing && drawing->draw == draw;
    for (const struct job *j = queue_head; j; j = j->next)
        n += j->draw == draw;
    return n;
}

int pdf_render_call(int (*draw)(void *arg), void *arg, const struct pdf_dest *dest, int max_waiting,
                    const char *what)
{
    *dest->out = NULL;
    *dest->out_len = 0;
    pthread_once(&worker_once, worker_start);
    if (!worker_running) /* no thread to be had: draw here rather than fail */
        return draw(arg);

    struct job j = {.draw = draw, .arg = arg};
    pthread_mutex_lock(&queue_lock);
    if (waiting_of(draw) >= max_waiting) {
        pthread_mutex_unlock(&queue_lock);
        pdf_set_err(dest->err, dest->errlen, "too many %s being rendered (%d), try again", what,
                    max_waiting);
        return PDF_RENDER_BUSY;
    }
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

/* ---- the document ---- */

struct pdf_doc {
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoFontMap *map;
    PangoContext *ctx;
    unsigned char *p; /* the PDF written so far */
    size_t len, cap, max;
    int too_big, oom;
};

static cairo_status_t doc_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct pdf_doc *b = closure;
    if (len > b->max - b->len) {
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

/* Whether `fd` as `map` resolves it has a glyph for every character of `glyphs`. */
static int has_glyphs(PangoFontMap *map, PangoContext *ctx, const PangoFontDescription *fd,
                      const char *glyphs)
{
    PangoFont *font = pango_font_map_load_font(map, ctx, fd);
    if (!font)
        return 0;
    int ok = g_utf8_validate(glyphs, -1, NULL);
    for (const char *p = glyphs; ok && *p; p = g_utf8_next_char(p))
        ok = pango_font_has_char(font, g_utf8_get_char(p));
    g_object_unref(font);
    return ok;
}

struct pdf_doc *pdf_doc_new(const char *title, size_t max_bytes, const PangoFontDescription *font,
                            const char *glyphs, char *err, size_t errlen)
{
    struct pdf_doc *d = calloc(1, sizeof *d);
    if (!d) {
        pdf_set_err(err, errlen, "out of memory");
        return NULL;
    }
    d->max = max_bytes;
    d->surface = cairo_pdf_surface_create_for_stream(doc_write, d, PDF_PAGE_W, PDF_PAGE_H);
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATOR, "evgate");
    d->cr = cairo_create(d->surface);
    if (cairo_status(d->cr) != CAIRO_STATUS_SUCCESS) {
        pdf_set_err(err, errlen, "cannot create PDF surface: %s",
                    cairo_status_to_string(cairo_status(d->cr)));
        goto fail;
    }
    /* A font map of our own rather than the shared default: nothing of pango's font state is
     * shared with another thread, and everything is released with the document. */
    d->map = pango_cairo_font_map_new();
    d->ctx = pango_font_map_create_context(d->map);
    pango_cairo_update_context(d->cr, d->ctx);
    pango_cairo_context_set_resolution(d->ctx, 72.0); /* font sizes in points = PDF units */
    pango_context_set_language(d->ctx, pango_language_from_string("zh-cn"));
    if (!has_glyphs(d->map, d->ctx, font, glyphs)) {
        pdf_set_err(err, errlen, "no font with Chinese glyphs (install fonts-noto-cjk)");
        goto fail;
    }
    return d;

fail:
    pdf_doc_free(d);
    return NULL;
}

cairo_t *pdf_doc_cairo(struct pdf_doc *d)
{
    return d->cr;
}

PangoContext *pdf_doc_pango(struct pdf_doc *d)
{
    return d->ctx;
}

int pdf_doc_finish(struct pdf_doc *d, const char *what, const struct pdf_dest *dest)
{
    char *err = dest->err;
    size_t errlen = dest->errlen;
    *dest->out = NULL;
    *dest->out_len = 0;
    cairo_destroy(d->cr);
    d->cr = NULL;
    cairo_surface_finish(d->surface);
    if (d->too_big) {
        pdf_set_err(err, errlen, "%s larger than %zu bytes", what, d->max);
        return -1;
    }
    if (d->oom || cairo_surface_status(d->surface) != CAIRO_STATUS_SUCCESS) {
        pdf_set_err(err, errlen, "cannot write PDF: %s",
                    d->oom ? "out of memory"
                           : cairo_status_to_string(cairo_surface_status(d->surface)));
        return -1;
    }
    *dest->out = d->p;
    *dest->out_len = d->len;
    d->p = NULL;
    return 0;
}

void pdf_doc_free(struct pdf_doc *d)
{
    if (!d)
        return;
    if (d->ctx)
        g_object_unref(d->ctx);
    if (d->map)
        g_object_unref(d->map);
    if (d->cr)
        cairo_destroy(d->cr);
    if (d->surface)
        cairo_surface_destroy(d->surface);
    free(d->p);
    free(d);
}

/* ---- layouts ---- */

PangoLayout *pdf_layout(PangoContext *ctx, const PangoFontDescription *font, const char *text,
                        double width, PangoAlignment align, int max_lines)
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

double pdf_layout_h(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

double pdf_layout_w(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)w / PANGO_SCALE;
}

void pdf_show(cairo_t *cr, PangoLayout *l, double x, double y)
{
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
}

void pdf_cell_begin(cairo_t *cr, double x, double y, double w, double h, double grey, int border)
{
    if (grey >= 0) {
        cairo_set_source_rgb(cr, grey, grey, grey);
        cairo_rectangle(cr, x, y, w, h);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    if (border) {
        cairo_set_line_width(cr, PDF_LINE_THIN);
        cairo_rectangle(cr, x, y, w, h);
        cairo_stroke(cr);
    }
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
}

void pdf_page_number(struct pdf_doc *d, const PangoFontDescription *font, int page, int pages)
{
    char text[64];
    snprintf(text, sizeof text, "第 %d 页  共 %d 页", page + 1, pages);
    PangoLayout *foot = pdf_layout(d->ctx, font, text, PDF_TABLE_W, PANGO_ALIGN_CENTER, 1);
    pdf_show(d->cr, foot, PDF_MARGIN_X, PDF_PAGE_H - PDF_MARGIN_BOTTOM + 18);
    g_object_unref(foot);
}
