/* Private to the detection form (pdf_form_rows.c: the application as table rows; pdf_form.c:
 * measuring, paginating and drawing them). The API is pdf_form.h; the page, the faces and the
 * render thread are pdf_render.h's. */
#ifndef EVGATE_MGMT_PDF_FORM_INTERNAL_H
#define EVGATE_MGMT_PDF_FORM_INTERNAL_H

#include "mgmt/pdf_form.h"
#include "mgmt/pdf_render.h"

#include <jansson.h>
#include <pango/pangocairo.h>

/* The form's own geometry, in PDF points on pdf_render.h's page. */
#define LABEL_W   104.0
#define VALUE_W   ((PDF_TABLE_W - 2 * LABEL_W) / 2)
#define SECTION_H 21.0
#define NOTES_GAP 6.0
/* A form up to 1/MIN_SCALE of a page is shrunk onto one page rather than split over two. */
#define MIN_SCALE 0.85

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
