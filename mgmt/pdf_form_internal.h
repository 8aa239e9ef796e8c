/* Private to the detection form (pdf_form_rows.c: the application as table rows; pdf_form.c:
 * measuring, paginating and drawing them). The API is pdf_form.h. */
#ifndef EVGATE_MGMT_PDF_FORM_INTERNAL_H
#define EVGATE_MGMT_PDF_FORM_INTERNAL_H

#include "mgmt/pdf_form.h"

#include <jansson.h>
#include <pango/pangocairo.h>

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

/* The printable text of a scalar (g_malloc'd); "" for null, absent, booleans and containers. */
char *pf_value_text(const json_t *v);
/* app[obj][key] as cleaned text (g_malloc'd). */
char *pf_field(const json_t *app, const char *obj, const char *key);
/* Fills f->row with the form of `app`: the self-test form, or the delegation form when
 * `delegated`. */
void pf_build_rows(struct form *f, const json_t *app, int delegated);

#endif
