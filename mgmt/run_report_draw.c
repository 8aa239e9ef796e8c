/* The run report's blocks (run_report_internal.h): made and measured as the content is built,
 * paginated with each table's header repeated on the pages the table continues on, then drawn.
 * What the blocks say is run_report.c's. */
#include "mgmt/run_report_internal.h"

#include <stdlib.h>
#include <string.h>

PangoLayout *rr_layout(struct rr_doc *d, enum rr_font f, const char *text, double width,
                       PangoAlignment align, int max_lines)
{
    return pdf_layout(d->ctx, d->font[f], text, width, align, max_lines);
}

int rr_block_new(struct rr_doc *d, int bordered, double min_h)
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

void rr_add_cell(struct rr_doc *d, int bi, double x, double w, enum rr_font f, char *text,
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
    c->inset = b->bordered ? PDF_PAD_X : 0;
    c->shade = shade;
    c->l = rr_layout(d, f, text, w - 2 * c->inset, align, max_lines);
    g_free(text);
    double h = pdf_layout_h(c->l) + (b->bordered ? 2 * PDF_PAD_Y : 0);
    if (h > b->h)
        b->h = h;
}

int rr_paragraph(struct rr_doc *d, enum rr_font f, char *text, PangoAlignment align, double gap,
                 int keep_with_next)
{
    int bi = rr_block_new(d, 0, 0);
    rr_add_cell(d, bi, 0, PDF_TABLE_W, f, text, align, RUN_REPORT_CELL_LINES, 0);
    if (bi >= 0) {
        d->b[bi].gap = gap;
        d->b[bi].keep_with_next = keep_with_next;
    }
    return bi;
}

int rr_table_row(struct rr_doc *d, int n, const double *w, char **texts, enum rr_font f, int shade,
                 double min_h, int header)
{
    int bi = rr_block_new(d, 1, min_h);
    double x = 0;
    for (int i = 0; i < n; i++) {
        rr_add_cell(d, bi, x, w[i], f, texts[i], shade ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT,
                    RUN_REPORT_CELL_LINES, shade);
        x += w[i];
    }
    if (bi >= 0)
        d->b[bi].header = header;
    return bi;
}

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

static void draw_block(cairo_t *cr, const struct rr_block *b, double y)
{
    for (int j = 0; j < b->n; j++) {
        const struct rr_cell *c = &b->c[j];
        double x = PDF_MARGIN_X + c->x, w = c->w, h = b->h;
        pdf_cell_begin(cr, x, y, w, h, c->shade ? 0.92 : -1, b->bordered);
        double th = pdf_layout_h(c->l);
        double ty = !b->bordered ? y : c->top ? y + PDF_PAD_Y : y + (h - th) / 2;
        pdf_show(cr, c->l, x + c->inset, ty);
        cairo_restore(cr);
    }
}

void rr_draw(struct rr_doc *d, struct pdf_doc *pdf, PangoLayout *cont)
{
    cairo_t *cr = pdf_doc_cairo(pdf);
    double next_top = PDF_MARGIN_TOP + pdf_layout_h(cont) + 8;
    int pages = paginate(d, PDF_MARGIN_TOP, next_top, PDF_PAGE_H - PDF_MARGIN_BOTTOM);

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    int bi = 0;
    for (int page = 0; page < pages; page++) {
        if (page > 0)
            pdf_show(cr, cont, PDF_MARGIN_X, PDF_MARGIN_TOP);
        for (; bi < d->n && d->b[bi].page == page; bi++) {
            const struct rr_block *b = &d->b[bi];
            if (b->header_here) {
                const struct rr_block *h = &d->b[b->header];
                draw_block(cr, h, b->y - h->h);
            }
            draw_block(cr, b, b->y);
        }
        pdf_page_number(pdf, d->font[R_SMALL], page, pages);
        cairo_show_page(cr);
    }
}

void rr_doc_clear(struct rr_doc *d)
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
