/* Private to the run report (run_report.c: the run as a list of blocks; run_report_draw.c:
 * blocks measured, paginated and drawn). The API is run_report.h; the page, the faces and the
 * render thread are pdf_render.h's. */
#ifndef EVGATE_MGMT_RUN_REPORT_INTERNAL_H
#define EVGATE_MGMT_RUN_REPORT_INTERNAL_H

#include "mgmt/pdf_render.h"
#include "mgmt/run_report.h"

#include <pango/pangocairo.h>

/* The frames' text: the body face, smaller (another size of a face costs nothing more). */
#define FONT_FRAME   "Noto Serif CJK SC 8"
#define RR_MAX_CELLS 5

enum rr_font { R_TITLE, R_BODY, R_BOLD, R_SMALL, R_FRAME, R_COUNT };

struct rr_cell {
    double x, w;  /* from the table's left edge */
    double inset; /* text starts this far in: PDF_PAD_X in a bordered cell, 0 in a paragraph */
    PangoLayout *l;
    int shade, top; /* grey background; text at the top rather than vertically centred */
};

/* A table row of cells, or a paragraph (one cell without a border). */
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

/* The report being built: its blocks in reading order. */
struct rr_doc {
    PangoContext *ctx; /* borrowed from the pdf_doc */
    PangoFontDescription *font[R_COUNT];
    struct rr_block *b;
    int n, cap;
    int oom; /* a block could not be added: the report fails */
};

/* A layout of `text` in font `f` (pdf_layout()). Caller unrefs. */
PangoLayout *rr_layout(struct rr_doc *d, enum rr_font f, const char *text, double width,
                       PangoAlignment align, int max_lines);

/* A new empty block at the end (its index), or -1 (and d->oom) when out of memory. */
int rr_block_new(struct rr_doc *d, int bordered, double min_h);

/* Adds a cell at `x` (width `w`) to block `bi` showing `text` (taken: g_free'd here), at most
 * `max_lines` lines; `shade` greys it. Nothing but the free for bi < 0 or a full block. */
void rr_add_cell(struct rr_doc *d, int bi, double x, double w, enum rr_font f, char *text,
                 PangoAlignment align, int max_lines, int shade);

/* A paragraph across the table (`text` taken), `gap` points below what precedes it; its index
 * or -1. */
int rr_paragraph(struct rr_doc *d, enum rr_font f, char *text, PangoAlignment align, double gap,
                 int keep_with_next);

/* A table row of `n` cells of widths `w` (texts taken), `shade` for a header row, repeating
 * block `header` (-1: none) when it starts a page; its index or -1. */
int rr_table_row(struct rr_doc *d, int n, const double *w, char **texts, enum rr_font f, int shade,
                 double min_h, int header);

/* Paginates every block of `d` and draws them onto `pdf`, `cont` (a one-line continuation
 * heading, borrowed) at the top of every page but the first, each page numbered. */
void rr_draw(struct rr_doc *d, struct pdf_doc *pdf, PangoLayout *cont);

/* Frees the blocks and the fonts of `d` (not `d`). */
void rr_doc_clear(struct rr_doc *d);

#endif
