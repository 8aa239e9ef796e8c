/* The pre-filled application form of a detection application (SPEC §4) as an A4 PDF in Chinese,
 * printed, stamped and uploaded back by the operator. A pure library: no HTTP, no database. */
#ifndef EVGATE_MGMT_PDF_FORM_H
#define EVGATE_MGMT_PDF_FORM_H

#include <jansson.h>
#include <stddef.h>

/* Bounds on what one form lays out. A text longer than its limit (in code points) is cut and
 * ends in a visible "…"; so is a cell past PDF_FORM_MAX_CELL_LINES lines. The API allows at most
 * 200 characters per field, so only hand-made input reaches these. */
#define PDF_FORM_MAX_FIELD_CHARS 300  /* one field (name, address, brands, ...) */
#define PDF_FORM_MAX_LIST_ITEMS  64   /* entries of platform.source_ips or pile_summary.protocols */
#define PDF_FORM_MAX_LIST_CHARS  1600 /* a joined list */
#define PDF_FORM_MAX_CELL_LINES  30   /* lines of one table cell */
#define PDF_FORM_MAX_BYTES       (8u * 1024 * 1024) /* the finished PDF */
#define PDF_FORM_MAX_WAITING     32 /* forms queued for the render thread; more fail */

/* Renders the form of application `app` (borrowed), the object of docs/api-detections.md:
 * 《充电设施平台符合性检测申请表》 when app.mode is "self", 《充电设施委托接入申请表》 when it is
 * "delegated", dated today (local time). Missing or null fields print as blank cells, so a draft
 * can be printed; texts are drawn as plain text (never markup) and cut to the limits above.
 * Fonts (Noto Serif CJK SC, regular and bold, through fontconfig) are embedded as subsets.
 *
 * Returns 0 with *out a malloc'd PDF of *out_len bytes (caller frees), or -1 with a message in
 * `err` (errlen bytes, may be NULL/0) and *out NULL: `app` not an object, mode neither "self"
 * nor "delegated", no font with Chinese glyphs installed, or the PDF could not be produced.
 * Thread-safe and blocking: forms are rendered one at a time, with the run reports, on
 * pdf_render.h's render thread (memory: cairo copies each font's ~24 MB CFF table while finishing
 * a PDF), each with its own surface, pango font map and context. The caller waits for its turn
 * and its form (~50-150 ms each), so call it off any event loop; with PDF_FORM_MAX_WAITING forms
 * already waiting it fails at once ("too many forms being rendered"). `app` must stay unchanged
 * until the call returns. */
int pdf_form_detection(const json_t *app, unsigned char **out, size_t *out_len, char *err,
                       size_t errlen);

#endif
