/* Private to the xlsx reader (xlsx_read.c: the package, workbook, styles and shared strings;
 * xlsx_xml.c: one part through expat and small text helpers; xlsx_sheet.c: worksheet rows).
 * The reader's API is xlsx_read.h. */
#ifndef EVGATE_MGMT_XLSX_INTERNAL_H
#define EVGATE_MGMT_XLSX_INTERNAL_H

#include "mgmt/xlsx_read.h"

#include <expat.h>
#include <stddef.h>
#include <zip.h>

#define CHUNK            65536
#define MAX_MEMBERS      10000      /* zip entries; Excel writes a few dozen */
#define MAX_DEPTH        64         /* XML nesting; SpreadsheetML needs about 8 */
#define MAX_STALL        (1u << 20) /* bytes fed to expat without any event: one huge token */
#define RATIO_FLOOR      (1u << 20) /* members smaller than this skip the ratio check */
#define MAX_SHEETS       4096
#define MAX_RELS         20000
#define MAX_XFS          65536 /* Excel allows ~64 000 cell formats */
#define MAX_NUMFMTS      4096
#define MAX_NAME         1024 /* sheet names, part paths, relationship ids */
#define MAX_ROW_NUMBER   1048576u
#define MAX_COLUMNS      16384u
#define MAX_PARSER_BYTES (16u << 20) /* expat's own memory for one part (names, buffers) */
#define DEFAULT_WORKBOOK "xl/workbook.xml"

struct sheet {
    char *name;
    char *rid;
    char *path; /* zip member, NULL when unresolved */
    enum xlsx_sheet_state state;
    int worksheet; /* the relationship is a worksheet (not a chart or dialog sheet) */
};

struct sst_entry {
    size_t off, len;
};

struct pending { /* a cell of the current row while the row is being read */
    unsigned col;
    enum xlsx_cell_type type;
    const char *ext; /* text outside rowbuf (a shared string, TRUE/FALSE), or NULL */
    size_t off, len, raw_off, raw_len;
};

struct xlsx_book {
    zip_t *za;
    struct xlsx_limits lim;
    int date1904;
    struct sheet *sheets;
    size_t nsheets;
    char *wb_path;                /* the workbook part */
    char *sst_path, *styles_path; /* from the workbook's relationships, NULL if absent */
    char *sst;                    /* shared strings, each NUL-terminated */
    size_t sst_len, sst_cap;
    struct sst_entry *sst_idx;
    size_t nsst, sst_idx_cap;
    unsigned char *xf_fmt; /* per cellXfs index: XLSX_FMT_DATE | XLSX_FMT_TIME */
    size_t nxf;
    /* row scratch, reused across rows and sheets */
    char *rowbuf;
    size_t row_len, row_cap;
    struct pending *pend;
    struct xlsx_cell *cells;
    size_t npend, pend_cap;
};

/* One part being parsed: handlers get it as their user data. */
struct xml_ctx {
    XML_Parser p;
    struct xlsx_book *b;
    const char *part; /* for messages */
    char *err;
    size_t errlen;
    int status;  /* first failure (or a callback's stop value) */
    int stopped; /* no more handler work after a failure or when done */
    int event;   /* an event fired during the current chunk */
    unsigned depth;
};

/* Writes the message into err (errlen bytes) and returns `code`. */
int xr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Stops the parse of x with `code` and the message (the first failure wins). */
void xr_xfail(struct xml_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the parse early without error (the rest of the part is not needed). */
void xr_xdone(struct xml_ctx *x);
/* The local part of a possibly prefixed name ("x:row" -> "row"). */
const char *xr_local(const char *n);
/* The value of attribute `name` (local part) in expat's list, or NULL. */
const char *xr_attr(const XML_Char **atts, const char *name);
/* Depth bookkeeping of every start and end handler; 0 when the handler may go on. */
int xr_enter(struct xml_ctx *x);
int xr_leave(struct xml_ctx *x);
/* Parses member `name` with the handlers; returns XLSX_OK, 1 when the member does not exist, or
 * a negative status with the message in x->err. Counts the bytes actually inflated: a member
 * producing more than its declared size (which open checked) is refused at once. */
int xr_parse_part(struct xlsx_book *b, const char *name, struct xml_ctx *x,
                  XML_StartElementHandler start, XML_EndElementHandler end,
                  XML_CharacterDataHandler text);
/* Grows *p (cap elements of elem bytes) to hold `need`; 0 or -1 on overflow / out of memory. */
int xr_grow(void **p, size_t *cap, size_t need, size_t elem);
/* Parses a decimal number without sign or spaces; -1 if it is not one or exceeds max. */
long long xr_parse_uint(const char *s, size_t n, long long max);
/* Resolves relationship `target` against the directory of part `base` ("xl/workbook.xml"):
 * absolute targets start at the package root; "." and ".." segments are folded; %XX decoded.
 * Caller frees; NULL when the result is too long or out of memory. */
char *xr_resolve(const char *base, const char *target);
/* Decodes the _xHHHH_ escapes of s (n bytes) in place; returns the new length. */
size_t xr_decode_escapes(char *s, size_t n);

#endif
