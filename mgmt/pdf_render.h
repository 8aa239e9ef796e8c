/* What evgate's PDFs share: the detection form (pdf_form.h) and the run report (run_report.h)
 * are drawn one at a time on one render thread, into memory, on the same A4 page with the same
 * faces, with pango set up for Chinese text. A pure library: no HTTP, no database. */
#ifndef EVGATE_MGMT_PDF_RENDER_H
#define EVGATE_MGMT_PDF_RENDER_H

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stddef.h>

/* The page, in PDF points (1/72 inch): A4 portrait, one table width across it. */
#define PDF_PAGE_W        595.28
#define PDF_PAGE_H        841.89
#define PDF_MARGIN_X      51.0
#define PDF_MARGIN_TOP    42.0
#define PDF_MARGIN_BOTTOM 50.0 /* the page number sits inside it */
#define PDF_TABLE_W       (PDF_PAGE_W - 2 * PDF_MARGIN_X)
#define PDF_PAD_X         6.0 /* text inside a table cell */
#define PDF_PAD_Y         4.0
#define PDF_ROW_MIN_H     23.0
#define PDF_LINE_THIN     0.6
#define PDF_LINE_THICK    1.2

/* Official documents: a bold serif title (小标宋-like) and serif text (宋体-like). Two faces
 * only: each embedded face costs a read of its whole CFF table (~24 MB) when the PDF is finished;
 * another size of a face costs nothing more. */
#define PDF_FONT_TITLE   "Noto Serif CJK SC Bold 18"
#define PDF_FONT_BODY    "Noto Serif CJK SC 10.5"
#define PDF_FONT_SECTION "Noto Serif CJK SC Bold 10.5"
#define PDF_FONT_SMALL   "Noto Serif CJK SC 9"

#define PDF_RENDER_BUSY (-2) /* pdf_render_call(): too many calls waiting */

/* Where a finished PDF goes: the out-parameters of the documents' entry points. *out receives a
 * malloc'd PDF of *out_len bytes (the caller frees it), or NULL and 0; `err` (errlen bytes; may
 * be NULL/0) receives why not. */
struct pdf_dest {
    unsigned char **out;
    size_t *out_len;
    char *err;
    size_t errlen;
};

/* Sets *dest->out to NULL and *dest->out_len to 0, then runs draw(arg) on the render thread and
 * returns what it returns; the caller blocks until then, so call it off any event loop, and
 * `arg` must stay valid and unchanged until it returns.
 * Every PDF is drawn on this one thread, one at a time: finishing a PDF makes cairo copy each
 * embedded font's whole CFF table into memory (~24 MB per Noto Serif CJK face), and glibc keeps
 * that much free memory in the malloc arena of the thread that drew, for good; one thread holds
 * it once. The thread is started on first use (detached, every signal blocked); when it cannot
 * be started, draw runs on the caller's thread instead.
 *
 * Returns PDF_RENDER_BUSY at once, without calling draw, when `max_waiting` calls of the same
 * `draw` are already queued or being drawn (each caller bounds its own kind of document), with
 * "too many <what> being rendered (N), try again" in dest->err. Thread-safe. */
int pdf_render_call(int (*draw)(void *arg), void *arg, const struct pdf_dest *dest, int max_waiting,
                    const char *what);

/* A PDF being drawn into memory. Opaque. */
struct pdf_doc;

/* Starts a PDF of PDF_PAGE_W x PDF_PAGE_H pages titled `title` (metadata; creator "evgate") that
 * pdf_doc_finish() fails if it grows past `max_bytes`. Its pango context has a font map of its
 * own (no font state shared with another thread, all released by pdf_doc_free), 72 dpi (font
 * sizes in points are PDF units) and the language zh-cn. `font` as fontconfig resolves it must
 * have a glyph for every character of `glyphs` (UTF-8), or every Chinese character would print
 * as a box.
 *
 * Returns the document (free with pdf_doc_free), or NULL with a message in `err` (errlen bytes,
 * may be NULL/0): no memory, no PDF surface, no font with those glyphs. */
struct pdf_doc *pdf_doc_new(const char *title, size_t max_bytes, const PangoFontDescription *font,
                            const char *glyphs, char *err, size_t errlen);

/* Where to draw (the current page; cairo_show_page() ends it) and where to make layouts.
 * Borrowed from `d`. */
cairo_t *pdf_doc_cairo(struct pdf_doc *d);
PangoContext *pdf_doc_pango(struct pdf_doc *d);

/* Ends the drawing and finishes the PDF. Returns 0 with the PDF in `dest`, or -1 with a message
 * in it: "<what> larger than N bytes" (`what` names the document), or why cairo could not write
 * it. Draw nothing on `d` after. */
int pdf_doc_finish(struct pdf_doc *d, const char *what, const struct pdf_dest *dest);

/* Frees `d` (NULL is fine), with whatever it drew if not finished. */
void pdf_doc_free(struct pdf_doc *d);

/* A layout of `text` as plain text (never markup: the text is user data) in `font`, wrapped
 * at word or character boundaries to `width` points, aligned `align`; at most `max_lines`
 * lines (0 = no limit), the last one ending in "…" when cut. Caller unrefs. */
PangoLayout *pdf_layout(PangoContext *ctx, const PangoFontDescription *font, const char *text,
                        double width, PangoAlignment align, int max_lines);

/* A layout's height and width in points. */
double pdf_layout_h(PangoLayout *l);
double pdf_layout_w(PangoLayout *l);

/* Draws layout `l` with its top left corner at (x, y). */
void pdf_show(cairo_t *cr, PangoLayout *l, double x, double y);

/* Starts a table cell at (x, y), w x h points: fills it grey (`grey` 0..1 the level; < 0 for no
 * background), strokes its border in a thin line when `border`, then saves the cairo state and
 * clips to the cell. Draw its content, then cairo_restore(cr). */
void pdf_cell_begin(cairo_t *cr, double x, double y, double w, double h, double grey, int border);

/* The page number centred in the bottom margin of the current page: 第 n 页  共 m 页 (n is
 * page + 1) in `font`. */
void pdf_page_number(struct pdf_doc *d, const PangoFontDescription *font, int page, int pages);

/* printf into `err` (errlen bytes) unless err is NULL or errlen 0: how this module and the
 * documents drawn with it report why they failed. */
void pdf_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
