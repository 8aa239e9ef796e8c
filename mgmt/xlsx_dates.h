/* SpreadsheetML number formats and date serials, for the xlsx reader (xlsx_read.c): which cell
 * formats show a date or a time, and the text of a date cell. Pure functions. */
#ifndef EVGATE_MGMT_XLSX_DATES_H
#define EVGATE_MGMT_XLSX_DATES_H

#include <stddef.h>

/* Format flags. */
#define XLSX_FMT_DATE 1u
#define XLSX_FMT_TIME 2u

/* The flags of built-in number format `id` (ECMA-376 Part 1 §18.8.30). */
unsigned xlsx_fmt_builtin(long id);

/* The flags of a custom format code: y, d, e (era year), b (Buddhist year) and a month m are
 * date tokens; h, s, AM/PM and a minute m (after h, or before s) time tokens. */
unsigned xlsx_fmt_classify(const char *code);

/* Writes serial `v` (n bytes of a number's text) shown with format flags `fmt` as date text
 * into out (32 bytes): "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" or "HH:MM:SS", in the 1900 date
 * system (with Excel's 1900-02-29) or the 1904 one. Returns its length, or 0 when `v` is not a
 * number in the date range (the cell stays a number). */
size_t xlsx_serial_text(const char *v, size_t n, int date1904, unsigned fmt, char *out);

/* An ISO 8601 cell (t="d") into out (32 bytes): "2024-03-15T00:00:00Z" -> "2024-03-15"; a time
 * of day is kept ("2024-03-15 08:30:00"). Returns its length, or 0 when it is not such a text. */
size_t xlsx_iso_text(const char *v, size_t n, char *out);

#endif
