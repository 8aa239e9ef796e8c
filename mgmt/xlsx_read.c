/* Streaming .xlsx reader (see xlsx_read.h): libzip inflates one member at a time into expat in
 * 64 KiB chunks; the handlers below are small state machines, so nothing recurses on input depth
 * and a sheet is never held in memory whole. */
#include "mgmt/xlsx_read.h"
#include "mgmt/xlsx_dates.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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

/* ---- messages ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *xlsx_strerror(int status)
{
    switch (status) {
    case XLSX_OK:
        return "ok";
    case XLSX_NOT_XLSX:
        return "not an xlsx file";
    case XLSX_ENCRYPTED:
        return "encrypted workbook";
    case XLSX_TOO_LARGE:
        return "workbook too large";
    case XLSX_BAD_XML:
        return "malformed workbook";
    case XLSX_TOO_MANY_ROWS:
        return "too many rows";
    case XLSX_TOO_MANY_CELLS:
        return "too many cells in a row";
    case XLSX_TOO_LONG:
        return "cell text too long";
    case XLSX_NO_SHEET:
        return "no such sheet";
    case XLSX_IO:
        return "read error";
    case XLSX_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}

void xlsx_col_name(unsigned col, char out[4])
{
    if (col >= MAX_COLUMNS) {
        strcpy(out, "?");
        return;
    }
    char tmp[4];
    int n = 0;
    unsigned c = col + 1;
    while (c) {
        tmp[n++] = (char)('A' + (c - 1) % 26);
        c = (c - 1) / 26;
    }
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

void xlsx_limits_default(struct xlsx_limits *lim)
{
    lim->max_file_bytes = 20u << 20;
    lim->max_uncompressed_bytes = 256u << 20;
    lim->max_ratio = 200;
    lim->max_rows = MAX_ROW_NUMBER;
    lim->max_cells_per_row = MAX_COLUMNS;
    lim->max_cell_bytes = 128u << 10;
    lim->max_row_bytes = 16u << 20;
    lim->max_shared_strings = 1000000;
    lim->max_shared_bytes = 64u << 20;
}

/* ---- the generic part parser: one zip member through expat, in chunks ---- */

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

static void xfail(struct xml_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void xfail(struct xml_ctx *x, int code, const char *fmt, ...)
{
    if (x->stopped)
        return;
    x->status = code;
    x->stopped = 1;
    if (x->err && x->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->err, x->errlen, fmt, ap);
        va_end(ap);
    }
    XML_StopParser(x->p, XML_FALSE);
}

/* Ends the parse early without error (the rest of the part is not needed). */
static void xdone(struct xml_ctx *x)
{
    if (!x->stopped) {
        x->stopped = 1;
        XML_StopParser(x->p, XML_FALSE);
    }
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    struct xml_ctx *x = ud;
    xfail(x, XLSX_BAD_XML, "%s: DOCTYPE declarations are not allowed", x->part);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    struct xml_ctx *x = ud;
    xfail(x, XLSX_BAD_XML, "%s: entity declarations are not allowed", x->part);
}

/* The local part of a possibly prefixed name ("x:row" -> "row"). */
static const char *local(const char *n)
{
    const char *c = strrchr(n, ':');
    return c ? c + 1 : n;
}

static const char *attr(const XML_Char **atts, const char *name)
{
    for (; *atts; atts += 2)
        if (!strcmp(local(atts[0]), name))
            return atts[1];
    return NULL;
}

/* Depth bookkeeping shared by every start handler; returns 0 if the handler may go on. */
static int enter(struct xml_ctx *x)
{
    x->event = 1;
    if (x->stopped)
        return -1;
    if (++x->depth > MAX_DEPTH) {
        xfail(x, XLSX_BAD_XML, "%s: elements nested deeper than %d", x->part, MAX_DEPTH);
        return -1;
    }
    return 0;
}

static int leave(struct xml_ctx *x)
{
    x->event = 1;
    if (x->depth)
        x->depth--;
    return x->stopped ? -1 : 0;
}

/* expat keeps every distinct element and attribute name it meets (about 12 bytes of memory per
 * byte of input made of new names), so each parser gets a memory budget. Its allocations carry a
 * header naming their budget; new ones are charged to the budget of the parse running on this
 * thread (parses nest only if a row callback opens another book). */
struct budget {
    size_t used;
    int exceeded;
};

union mm_head {
    struct {
        size_t size;
        struct budget *budget;
    } h;
    max_align_t align;
};

static _Thread_local struct budget *current_budget;

static void *mm_malloc(size_t n)
{
    struct budget *b = current_budget;
    if (n > MAX_PARSER_BYTES || (b && b->used + n > MAX_PARSER_BYTES)) {
        if (b)
            b->exceeded = 1;
        return NULL;
    }
    union mm_head *p = malloc(sizeof *p + n);
    if (!p)
        return NULL;
    p->h.size = n;
    p->h.budget = b;
    if (b)
        b->used += n;
    return p + 1;
}

static void mm_free(void *q)
{
    if (!q)
        return;
    union mm_head *p = (union mm_head *)q - 1;
    if (p->h.budget)
        p->h.budget->used -= p->h.size;
    free(p);
}

static void *mm_realloc(void *q, size_t n)
{
    if (!q)
        return mm_malloc(n);
    union mm_head *p = (union mm_head *)q - 1;
    struct budget *b = p->h.budget;
    size_t old = p->h.size;
    if (n > MAX_PARSER_BYTES || (b && n > old && b->used + (n - old) > MAX_PARSER_BYTES)) {
        if (b)
            b->exceeded = 1;
        return NULL;
    }
    union mm_head *np = realloc(p, sizeof *np + n);
    if (!np)
        return NULL;
    np->h.size = n;
    if (b)
        b->used = b->used - old + n;
    return np + 1;
}

static const XML_Memory_Handling_Suite mm = {mm_malloc, mm_realloc, mm_free};

/* Parses member `name` with the handlers; returns XLSX_OK, 1 when the member does not exist, or
 * a negative status with the message in x->err. Counts the bytes actually inflated: a member
 * producing more than its declared size (which open checked) is refused at once. */
static int parse_part(struct xlsx_book *b, const char *name, struct xml_ctx *x,
                      XML_StartElementHandler start, XML_EndElementHandler end,
                      XML_CharacterDataHandler text)
{
    zip_int64_t idx = zip_name_locate(b->za, name, ZIP_FL_NOCASE);
    if (idx < 0)
        return 1;
    zip_stat_t st;
    if (zip_stat_index(b->za, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
        return fail(x->err, x->errlen, XLSX_NOT_XLSX, "%s: cannot read the zip entry", name);
    zip_file_t *zf = zip_fopen_index(b->za, (zip_uint64_t)idx, 0);
    if (!zf)
        return fail(x->err, x->errlen, XLSX_NOT_XLSX, "%s: %s", name, zip_strerror(b->za));
    struct budget budget = {0}, *outer = current_budget;
    current_budget = &budget;
    XML_Parser p = XML_ParserCreate_MM(NULL, &mm, NULL);
    if (!p) {
        current_budget = outer;
        zip_fclose(zf);
        return fail(x->err, x->errlen, XLSX_NOMEM, "out of memory");
    }
    x->p = p;
    x->b = b;
    x->part = name;
    x->status = 0;
    x->stopped = 0;
    x->depth = 0;
    XML_SetUserData(p, x);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, text);
    int rc = XLSX_OK;
    zip_uint64_t produced = 0;
    size_t stall = 0;
    for (;;) {
        void *buf = XML_GetBuffer(p, CHUNK);
        if (!buf) {
            rc = fail(x->err, x->errlen, budget.exceeded ? XLSX_TOO_LARGE : XLSX_NOMEM,
                      "%s: out of memory for the XML parser", name);
            break;
        }
        zip_int64_t n = zip_fread(zf, buf, CHUNK);
        if (n < 0) {
            rc = fail(x->err, x->errlen, XLSX_NOT_XLSX, "%s: damaged zip entry (%s)", name,
                      zip_file_strerror(zf));
            break;
        }
        produced += (zip_uint64_t)n;
        if (produced > st.size || produced > b->lim.max_uncompressed_bytes) {
            rc = fail(x->err, x->errlen, XLSX_TOO_LARGE,
                      "%s: inflates past its declared %llu bytes (zip bomb?)", name,
                      (unsigned long long)st.size);
            break;
        }
        x->event = 0;
        enum XML_Status s = XML_ParseBuffer(p, (int)n, n == 0);
        if (x->status) {
            rc = x->status;
            break;
        }
        if (x->stopped) /* the handlers have all they need */
            break;
        if (s != XML_STATUS_OK && budget.exceeded) {
            rc = fail(x->err, x->errlen, XLSX_TOO_LARGE,
                      "%s: parsing needs more than %u bytes (too many distinct XML names?)", name,
                      MAX_PARSER_BYTES);
            break;
        }
        if (s != XML_STATUS_OK) {
            rc = fail(x->err, x->errlen, XLSX_BAD_XML, "%s: XML error at line %lu: %s", name,
                      (unsigned long)XML_GetCurrentLineNumber(p),
                      XML_ErrorString(XML_GetErrorCode(p)));
            break;
        }
        if (n == 0)
            break;
        stall = x->event ? 0 : stall + (size_t)n;
        if (stall > MAX_STALL) {
            rc = fail(x->err, x->errlen, XLSX_BAD_XML, "%s: an XML token longer than %u bytes",
                      name, MAX_STALL);
            break;
        }
    }
    XML_ParserFree(p);
    current_budget = outer;
    zip_fclose(zf);
    x->p = NULL;
    return rc;
}

/* ---- small helpers ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Parses a decimal number without sign or spaces; -1 if it is not one or exceeds max. */
static long long parse_uint(const char *s, size_t n, long long max)
{
    if (n == 0 || n > 18)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v > max ? -1 : v;
}

/* Resolves relationship `target` against the directory of part `base` ("xl/workbook.xml"):
 * absolute targets start at the package root; "." and ".." segments are folded; %XX decoded. */
static char *resolve(const char *base, const char *target)
{
    size_t blen = 0, tlen = strlen(target);
    if (target[0] != '/' && target[0] != '\\') {
        const char *slash = strrchr(base, '/');
        blen = slash ? (size_t)(slash - base) + 1 : 0;
    }
    if (blen + tlen >= MAX_NAME)
        return NULL;
    char joined[MAX_NAME], *out = malloc(MAX_NAME);
    if (!out)
        return NULL;
    memcpy(joined, base, blen);
    size_t j = blen;
    for (size_t i = 0; i < tlen; i++) {
        char c = target[i];
        if (c == '%' && i + 2 < tlen && isxdigit((unsigned char)target[i + 1]) &&
            isxdigit((unsigned char)target[i + 2])) {
            char hex[3] = {target[i + 1], target[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            if (!c) {
                free(out);
                return NULL;
            }
            i += 2;
        }
        joined[j++] = c == '\\' ? '/' : c;
    }
    joined[j] = 0;
    /* fold segments */
    size_t o = 0;
    char *save = NULL;
    for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (!strcmp(seg, "."))
            continue;
        if (!strcmp(seg, "..")) { /* drop the last segment; the root has no parent */
            char *sl = memrchr(out, '/', o);
            o = sl ? (size_t)(sl - out) : 0;
            continue;
        }
        if (!seg[0])
            continue;
        size_t sl = strlen(seg);
        if (o && out[o - 1] != '/')
            out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    out[o] = 0;
    if (o && out[o - 1] == '/')
        out[--o] = 0;
    return out;
}

/* Decodes the _xHHHH_ escapes of OOXML strings in place; returns the new length. */
static size_t put_utf8(char *d, unsigned long u)
{
    if (u < 0x80) {
        d[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        d[0] = (char)(0xC0 | (u >> 6));
        d[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        d[0] = (char)(0xE0 | (u >> 12));
        d[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        d[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (u >> 18));
    d[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    d[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

static long escape_at(const char *s, size_t n, size_t i)
{
    if (i + 7 > n || s[i] != '_' || (s[i + 1] != 'x' && s[i + 1] != 'X') || s[i + 6] != '_')
        return -1;
    long v = 0;
    for (size_t k = i + 2; k < i + 6; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t decode_escapes(char *s, size_t n)
{
    char *u = memchr(s, '_', n);
    if (!u)
        return n;
    size_t r = (size_t)(u - s), w = r;
    while (r < n) {
        long v = escape_at(s, n, r);
        if (v < 0) {
            s[w++] = s[r++];
            continue;
        }
        r += 7;
        unsigned long cp = (unsigned long)v;
        if (v >= 0xD800 && v <= 0xDBFF) {
            long lo = escape_at(s, n, r);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + (((unsigned long)v - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
                r += 7;
            } else {
                cp = 0xFFFD;
            }
        } else if ((v >= 0xDC00 && v <= 0xDFFF) || v == 0) {
            cp = 0xFFFD;
        }
        w += put_utf8(s + w, cp);
    }
    return w;
}

/* ---- relationships (_rels/.rels, xl/_rels/workbook.xml.rels) ---- */

struct rel {
    char *id, *type, *target;
};

struct rels_ctx {
    struct xml_ctx x;
    struct rel *v;
    size_t n, cap;
};

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct rels_ctx *c = ud;
    if (enter(&c->x) || strcmp(local(name), "Relationship"))
        return;
    const char *id = attr(atts, "Id"), *type = attr(atts, "Type"), *target = attr(atts, "Target");
    const char *mode = attr(atts, "TargetMode");
    if (!id || !type || !target || (mode && !strcmp(mode, "External")))
        return;
    if (c->n >= MAX_RELS) {
        xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d relationships", c->x.part, MAX_RELS);
        return;
    }
    if (strlen(id) >= MAX_NAME || strlen(type) >= MAX_NAME || strlen(target) >= MAX_NAME)
        return; /* no part we read has such a name */
    if (grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v)) {
        xfail(&c->x, XLSX_NOMEM, "out of memory");
        return;
    }
    struct rel *r = &c->v[c->n];
    r->id = strdup(id);
    r->type = strdup(type);
    r->target = strdup(target);
    c->n++;
    if (!r->id || !r->type || !r->target)
        xfail(&c->x, XLSX_NOMEM, "out of memory");
}

static void XMLCALL any_end(void *ud, const XML_Char *name)
{
    leave(ud);
}

static void XMLCALL no_text(void *ud, const XML_Char *s, int len)
{
    ((struct xml_ctx *)ud)->event = 1;
}

static void rels_free(struct rels_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].id);
        free(c->v[i].type);
        free(c->v[i].target);
    }
    free(c->v);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static const struct rel *rel_by_type(const struct rels_ctx *c, const char *suffix)
{
    for (size_t i = 0; i < c->n; i++)
        if (ends_with(c->v[i].type, suffix))
            return &c->v[i];
    return NULL;
}

/* ---- workbook.xml: sheet names, states, relationship ids, date system ---- */

static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xml_ctx *x = ud;
    if (enter(x))
        return;
    struct xlsx_book *b = x->b;
    const char *n = local(name);
    if (!strcmp(n, "workbookPr")) {
        const char *d = attr(atts, "date1904");
        b->date1904 = d && (!strcmp(d, "1") || !strcmp(d, "true"));
        return;
    }
    if (strcmp(n, "sheet"))
        return;
    const char *sname = attr(atts, "name"), *rid = attr(atts, "id"), *state = attr(atts, "state");
    if (!sname || !rid || strlen(sname) >= MAX_NAME || strlen(rid) >= MAX_NAME) {
        xfail(x, XLSX_BAD_XML, "%s: a sheet without a usable name or id", x->part);
        return;
    }
    if (b->nsheets >= MAX_SHEETS) {
        xfail(x, XLSX_TOO_LARGE, "%s: more than %d sheets", x->part, MAX_SHEETS);
        return;
    }
    size_t cap = b->nsheets; /* grown one by one: sheets are few */
    struct sheet *v = realloc(b->sheets, (cap + 1) * sizeof *v);
    if (!v) {
        xfail(x, XLSX_NOMEM, "out of memory");
        return;
    }
    b->sheets = v;
    struct sheet *s = &v[b->nsheets++];
    memset(s, 0, sizeof *s);
    s->name = strdup(sname);
    s->rid = strdup(rid);
    s->state = !state                         ? XLSX_VISIBLE
               : !strcmp(state, "hidden")     ? XLSX_HIDDEN
               : !strcmp(state, "veryHidden") ? XLSX_VERY_HIDDEN
                                              : XLSX_VISIBLE;
    if (!s->name || !s->rid)
        xfail(x, XLSX_NOMEM, "out of memory");
}

/* ---- styles.xml: which cell formats show dates ---- */

struct styles_ctx {
    struct xml_ctx x;
    unsigned numfmts_depth, xfs_depth; /* depth of <numFmts>, <cellXfs>; 0 outside */
    long *fmt_id;
    unsigned char *fmt_flags;
    size_t nfmt, fmt_cap, fmt_cap2;
    long *xf_id;
    size_t nxf, xf_cap;
};

static void XMLCALL styles_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct styles_ctx *c = ud;
    if (enter(&c->x))
        return;
    const char *n = local(name);
    unsigned d = c->x.depth;
    if (!strcmp(n, "numFmts")) {
        c->numfmts_depth = d;
    } else if (!strcmp(n, "cellXfs")) {
        c->xfs_depth = d;
    } else if (!strcmp(n, "numFmt") && c->numfmts_depth && d == c->numfmts_depth + 1) {
        const char *id = attr(atts, "numFmtId"), *code = attr(atts, "formatCode");
        long long v = id ? parse_uint(id, strlen(id), INT_MAX) : -1;
        if (v < 0 || !code)
            return;
        if (c->nfmt >= MAX_NUMFMTS) {
            xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d number formats", c->x.part, MAX_NUMFMTS);
            return;
        }
        if (grow((void **)&c->fmt_id, &c->fmt_cap, c->nfmt + 1, sizeof *c->fmt_id) ||
            grow((void **)&c->fmt_flags, &c->fmt_cap2, c->nfmt + 1, 1)) {
            xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        c->fmt_id[c->nfmt] = (long)v;
        c->fmt_flags[c->nfmt++] = (unsigned char)xlsx_fmt_classify(code);
    } else if (!strcmp(n, "xf") && c->xfs_depth && d == c->xfs_depth + 1) {
        const char *id = attr(atts, "numFmtId");
        long long v = id ? parse_uint(id, strlen(id), INT_MAX) : 0;
        if (c->nxf >= MAX_XFS) {
            xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d cell formats", c->x.part, MAX_XFS);
            return;
        }
        if (grow((void **)&c->xf_id, &c->xf_cap, c->nxf + 1, sizeof *c->xf_id)) {
            xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        c->xf_id[c->nxf++] = (long)v;
    }
}

static void XMLCALL styles_end(void *ud, const XML_Char *name)
{
    struct styles_ctx *c = ud;
    unsigned d = c->x.depth;
    if (leave(&c->x))
        return;
    if (d == c->numfmts_depth)
        c->numfmts_depth = 0;
    if (d == c->xfs_depth)
        c->xfs_depth = 0;
}

/* The date flags of each cell format: a custom code of the same id wins over the built-in. */
static int styles_finish(struct xlsx_book *b, struct styles_ctx *c)
{
    if (!c->nxf)
        return 0;
    b->xf_fmt = calloc(c->nxf, 1);
    if (!b->xf_fmt)
        return -1;
    b->nxf = c->nxf;
    for (size_t i = 0; i < c->nxf; i++) {
        unsigned f = xlsx_fmt_builtin(c->xf_id[i]);
        for (size_t k = 0; k < c->nfmt; k++)
            if (c->fmt_id[k] == c->xf_id[i])
                f = c->fmt_flags[k];
        b->xf_fmt[i] = (unsigned char)f;
    }
    return 0;
}

/* ---- sharedStrings.xml ---- */

struct sst_ctx {
    struct xml_ctx x;
    unsigned si_depth; /* depth of the current <si>, 0 outside */
    unsigned rph;      /* open <rPh> (phonetic runs, not part of the text) */
    int in_t;
    size_t start;
};

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct sst_ctx *c = ud;
    if (enter(&c->x))
        return;
    struct xlsx_book *b = c->x.b;
    const char *n = local(name);
    if (!c->si_depth) {
        if (strcmp(n, "si"))
            return;
        if (b->nsst >= b->lim.max_shared_strings) {
            xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %zu shared strings", c->x.part,
                  b->lim.max_shared_strings);
            return;
        }
        c->si_depth = c->x.depth;
        c->start = b->sst_len;
        c->rph = 0;
        c->in_t = 0;
    } else if (!strcmp(n, "rPh")) {
        c->rph++;
    } else if (!strcmp(n, "t") && !c->rph) {
        c->in_t = 1;
    }
}

static int sst_reserve(struct sst_ctx *c, size_t more)
{
    struct xlsx_book *b = c->x.b;
    if (b->sst_len + more > b->lim.max_shared_bytes) {
        xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %zu bytes of shared strings", c->x.part,
              b->lim.max_shared_bytes);
        return -1;
    }
    if (grow((void **)&b->sst, &b->sst_cap, b->sst_len + more, 1)) {
        xfail(&c->x, XLSX_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

static void XMLCALL sst_text(void *ud, const XML_Char *s, int len)
{
    struct sst_ctx *c = ud;
    c->x.event = 1;
    if (c->x.stopped || !c->in_t || c->rph || sst_reserve(c, (size_t)len + 1))
        return;
    struct xlsx_book *b = c->x.b;
    memcpy(b->sst + b->sst_len, s, (size_t)len);
    b->sst_len += (size_t)len;
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
    struct sst_ctx *c = ud;
    unsigned d = c->x.depth;
    if (leave(&c->x) || !c->si_depth)
        return;
    struct xlsx_book *b = c->x.b;
    if (d == c->si_depth) {
        if (sst_reserve(c, 1))
            return;
        size_t n = decode_escapes(b->sst + c->start, b->sst_len - c->start);
        b->sst_len = c->start + n;
        b->sst[b->sst_len++] = 0;
        if (grow((void **)&b->sst_idx, &b->sst_idx_cap, b->nsst + 1, sizeof *b->sst_idx)) {
            xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        b->sst_idx[b->nsst++] = (struct sst_entry){c->start, n};
        c->si_depth = 0;
    } else if (!strcmp(local(name), "rPh")) {
        if (c->rph)
            c->rph--;
    } else if (!strcmp(local(name), "t")) {
        c->in_t = 0;
    }
}

/* ---- worksheets ---- */

enum ctype { CT_N, CT_S, CT_STR, CT_INLINE, CT_B, CT_E, CT_D };

struct sheet_ctx {
    struct xml_ctx x;
    const char *sheet;
    xlsx_row_cb cb;
    void *arg;
    unsigned data_depth, row_depth, cell_depth; /* of <sheetData>, <row>, <c>; 0 outside */
    unsigned row;                               /* number of the current (or last) row */
    unsigned col, last_col;                     /* of the current and the previous cell */
    int have_col;                               /* a cell was seen in this row */
    enum ctype t;
    unsigned fmt; /* FMT_* of the cell's style */
    unsigned is_depth, rph;
    int collect;  /* character data goes into rowbuf */
    size_t start; /* rowbuf offset of the current cell's text */
};

static void cell_ref(const struct sheet_ctx *c, char *out)
{
    char col[4];
    xlsx_col_name(c->col, col);
    snprintf(out, 16, "%s%u", col, c->row);
}

static void row_start(struct sheet_ctx *c, const XML_Char **atts)
{
    struct xlsx_book *b = c->x.b;
    const char *r = attr(atts, "r");
    long long num = c->row + 1;
    if (r) {
        num = parse_uint(r, strlen(r), MAX_ROW_NUMBER);
        if (num < 1) {
            xfail(&c->x, XLSX_BAD_XML, "sheet %s: bad row number \"%.20s\"", c->sheet, r);
            return;
        }
        if (num <= c->row) {
            xfail(&c->x, XLSX_BAD_XML, "sheet %s: row %lld comes after row %u", c->sheet, num,
                  c->row);
            return;
        }
    } else if (num > MAX_ROW_NUMBER) {
        xfail(&c->x, XLSX_BAD_XML, "sheet %s: more than %u rows", c->sheet, MAX_ROW_NUMBER);
        return;
    }
    c->row = (unsigned)num;
    c->row_depth = c->x.depth;
    c->have_col = 0;
    b->npend = 0;
    b->row_len = 0;
}

static void cell_start(struct sheet_ctx *c, const XML_Char **atts)
{
    struct xlsx_book *b = c->x.b;
    const char *r = NULL, *t = NULL, *s = NULL;
    for (; *atts; atts += 2) {
        const char *a = local(atts[0]);
        if (a[0] && !a[1]) {
            if (a[0] == 'r')
                r = atts[1];
            else if (a[0] == 't')
                t = atts[1];
            else if (a[0] == 's')
                s = atts[1];
        }
    }
    unsigned col = c->have_col ? c->last_col + 1 : 0;
    if (r) {
        const char *p = r;
        unsigned v = 0;
        while (((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) && v <= MAX_COLUMNS)
            v = v * 26 + (unsigned)((*p++ | 0x20) - 'a' + 1);
        while (*p >= '0' && *p <= '9')
            p++;
        if (v == 0 || v > MAX_COLUMNS || *p) {
            xfail(&c->x, XLSX_BAD_XML, "sheet %s row %u: bad cell reference \"%.20s\"", c->sheet,
                  c->row, r);
            return;
        }
        col = v - 1;
    }
    c->col = col;
    if (col >= MAX_COLUMNS || (c->have_col && col <= c->last_col)) {
        char ref[16];
        cell_ref(c, ref);
        xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s is out of order", c->sheet, ref);
        return;
    }
    if (!t || !strcmp(t, "n"))
        c->t = CT_N;
    else if (!strcmp(t, "s"))
        c->t = CT_S;
    else if (!strcmp(t, "str"))
        c->t = CT_STR;
    else if (!strcmp(t, "inlineStr"))
        c->t = CT_INLINE;
    else if (!strcmp(t, "b"))
        c->t = CT_B;
    else if (!strcmp(t, "e"))
        c->t = CT_E;
    else if (!strcmp(t, "d"))
        c->t = CT_D;
    else {
        char ref[16];
        cell_ref(c, ref);
        xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s has an unknown type \"%.20s\"", c->sheet, ref,
              t);
        return;
    }
    c->fmt = 0;
    if (s) {
        long long xf = parse_uint(s, strlen(s), INT_MAX);
        if (xf >= 0 && (size_t)xf < b->nxf)
            c->fmt = b->xf_fmt[xf];
    }
    c->cell_depth = c->x.depth;
    c->is_depth = 0;
    c->rph = 0;
    c->collect = 0;
    c->start = b->row_len;
}

/* Room for `more` bytes of row text, within max_row_bytes. */
static int row_reserve(struct sheet_ctx *c, size_t more)
{
    struct xlsx_book *b = c->x.b;
    if (b->row_len + more > b->lim.max_row_bytes) {
        xfail(&c->x, XLSX_TOO_LARGE, "sheet %s: row %u holds more than %zu bytes of text", c->sheet,
              c->row, b->lim.max_row_bytes);
        return -1;
    }
    if (grow((void **)&b->rowbuf, &b->row_cap, b->row_len + more, 1)) {
        xfail(&c->x, XLSX_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

static void XMLCALL sheet_text(void *ud, const XML_Char *s, int len)
{
    struct sheet_ctx *c = ud;
    c->x.event = 1;
    if (!c->collect || c->x.stopped)
        return;
    struct xlsx_book *b = c->x.b;
    if (b->row_len - c->start + (size_t)len > b->lim.max_cell_bytes) {
        char ref[16];
        cell_ref(c, ref);
        xfail(&c->x, XLSX_TOO_LONG, "sheet %s: cell %s holds more than %zu bytes", c->sheet, ref,
              b->lim.max_cell_bytes);
        return;
    }
    if (row_reserve(c, (size_t)len))
        return;
    memcpy(b->rowbuf + b->row_len, s, (size_t)len);
    b->row_len += (size_t)len;
}

static void cell_end(struct sheet_ctx *c)
{
    struct xlsx_book *b = c->x.b;
    c->cell_depth = 0;
    c->collect = 0;
    c->have_col = 1;
    c->last_col = c->col;
    /* room for a NUL, a date text and its NUL after the stored value */
    if (row_reserve(c, 34))
        return;
    char *v = b->rowbuf + c->start;
    size_t n = b->row_len - c->start;
    struct pending p = {.col = c->col, .off = c->start, .len = n};
    char ref[16];
    switch (c->t) {
    case CT_S: {
        long long i = parse_uint(v, n, LLONG_MAX);
        b->row_len = c->start;
        if (n == 0)
            return;
        if (i < 0 || (size_t)i >= b->nsst) {
            cell_ref(c, ref);
            xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s refers to a missing shared string",
                  c->sheet, ref);
            return;
        }
        p.type = XLSX_STRING;
        p.ext = b->sst + b->sst_idx[i].off;
        p.len = b->sst_idx[i].len;
        if (p.len > b->lim.max_cell_bytes) {
            cell_ref(c, ref);
            xfail(&c->x, XLSX_TOO_LONG, "sheet %s: cell %s holds more than %zu bytes", c->sheet,
                  ref, b->lim.max_cell_bytes);
            return;
        }
        break;
    }
    case CT_STR:
    case CT_INLINE:
        p.len = decode_escapes(v, n);
        p.type = XLSX_STRING;
        break;
    case CT_E:
        p.type = XLSX_ERROR;
        break;
    case CT_B:
        b->row_len = c->start;
        if (n == 0)
            return;
        p.type = XLSX_BOOL;
        if ((n == 1 && v[0] == '1') || (n == 4 && !strncasecmp(v, "true", 4))) {
            p.ext = "TRUE";
        } else if ((n == 1 && v[0] == '0') || (n == 5 && !strncasecmp(v, "false", 5))) {
            p.ext = "FALSE";
        } else {
            cell_ref(c, ref);
            xfail(&c->x, XLSX_BAD_XML, "sheet %s: cell %s has a bad boolean", c->sheet, ref);
            return;
        }
        p.len = strlen(p.ext);
        break;
    case CT_N:
    case CT_D: {
        char date[32];
        size_t dl = c->t == CT_D ? xlsx_iso_text(v, n, date)
                    : c->fmt     ? xlsx_serial_text(v, n, b->date1904, c->fmt, date)
                                 : 0;
        p.type = c->t == CT_D ? XLSX_DATE : XLSX_NUMBER;
        if (dl) {
            p.type = XLSX_DATE;
            p.raw_off = c->start;
            p.raw_len = n;
            v[n] = 0;
            p.off = c->start + n + 1;
            p.len = dl;
            memcpy(b->rowbuf + p.off, date, dl);
            b->row_len = p.off;
        }
        break;
    }
    }
    if (p.len == 0) { /* no value: the cell is left out */
        b->row_len = c->start;
        return;
    }
    if (!p.ext) {
        b->row_len = p.off + p.len;
        b->rowbuf[b->row_len++] = 0;
    }
    if (!p.raw_len) {
        p.raw_off = p.off;
        p.raw_len = p.len;
    }
    if (b->npend >= b->lim.max_cells_per_row) {
        xfail(&c->x, XLSX_TOO_MANY_CELLS, "sheet %s: row %u has more than %zu cells", c->sheet,
              c->row, b->lim.max_cells_per_row);
        return;
    }
    if (b->npend == b->pend_cap) { /* pend and cells grow together */
        size_t cap = b->pend_cap;
        if (grow((void **)&b->pend, &cap, b->npend + 1, sizeof *b->pend)) {
            xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        struct xlsx_cell *cells = reallocarray(b->cells, cap, sizeof *cells);
        if (!cells) {
            xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        b->cells = cells;
        b->pend_cap = cap;
    }
    b->pend[b->npend++] = p;
}

static void row_end(struct sheet_ctx *c)
{
    struct xlsx_book *b = c->x.b;
    c->row_depth = 0;
    if (!b->npend)
        return;
    if (c->row > b->lim.max_rows) {
        xfail(&c->x, XLSX_TOO_MANY_ROWS, "sheet %s: row %u holds values; at most %zu rows",
              c->sheet, c->row, b->lim.max_rows);
        return;
    }
    for (size_t i = 0; i < b->npend; i++) {
        const struct pending *p = &b->pend[i];
        const char *text = p->ext ? p->ext : b->rowbuf + p->off;
        b->cells[i] = (struct xlsx_cell){p->col,
                                         p->type,
                                         text,
                                         p->len,
                                         p->ext ? text : b->rowbuf + p->raw_off,
                                         p->ext ? p->len : p->raw_len};
    }
    int rc = c->cb(c->arg, c->row, b->cells, b->npend);
    b->npend = 0;
    b->row_len = 0;
    if (rc) {
        c->x.status = rc;
        c->x.stopped = 1;
        XML_StopParser(c->x.p, XML_FALSE);
    }
}

static int is_name(const char *n, const char *want)
{
    return n[0] == want[0] && !strcmp(n, want);
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct sheet_ctx *c = ud;
    if (enter(&c->x))
        return;
    const char *n = local(name);
    if (c->cell_depth) {
        if (is_name(n, "v")) {
            c->collect = c->t != CT_INLINE;
        } else if (is_name(n, "is")) {
            if (!c->is_depth)
                c->is_depth = c->x.depth;
        } else if (is_name(n, "rPh")) {
            c->rph++;
        } else if (is_name(n, "t")) {
            c->collect = c->is_depth && !c->rph && c->t == CT_INLINE;
        }
    } else if (c->row_depth) {
        if (is_name(n, "c"))
            cell_start(c, atts);
    } else if (c->data_depth) {
        if (is_name(n, "row"))
            row_start(c, atts);
    } else if (is_name(n, "sheetData")) {
        c->data_depth = c->x.depth;
    }
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
    struct sheet_ctx *c = ud;
    unsigned d = c->x.depth;
    if (leave(&c->x))
        return;
    if (c->cell_depth) {
        const char *n = local(name);
        if (d == c->cell_depth)
            cell_end(c);
        else if (is_name(n, "v") || is_name(n, "t"))
            c->collect = 0;
        else if (is_name(n, "rPh") && c->rph)
            c->rph--;
        else if (d == c->is_depth)
            c->is_depth = 0;
    } else if (c->row_depth) {
        if (d == c->row_depth)
            row_end(c);
    } else if (c->data_depth && d == c->data_depth) {
        xdone(&c->x); /* what follows <sheetData> (merges, validations, ...) is not needed */
    }
}

/* ---- opening ---- */

/* Checks every member's declared sizes and methods before anything is inflated. */
static int check_members(struct xlsx_book *b, char *err, size_t errlen)
{
    zip_int64_t n = zip_get_num_entries(b->za, 0);
    if (n <= 0)
        return fail(err, errlen, XLSX_NOT_XLSX, "the zip archive is empty");
    if (n > MAX_MEMBERS)
        return fail(err, errlen, XLSX_TOO_LARGE, "the zip archive has more than %d entries",
                    MAX_MEMBERS);
    zip_uint64_t total = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(b->za, (zip_uint64_t)i, 0, &st) < 0)
            return fail(err, errlen, XLSX_NOT_XLSX, "zip entry %lld: %s", (long long)i,
                        zip_strerror(b->za));
        const char *name = (st.valid & ZIP_STAT_NAME) ? st.name : "?";
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            return fail(err, errlen, XLSX_ENCRYPTED, "%.200s: the zip entry is encrypted", name);
        if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
            !(st.valid & ZIP_STAT_COMP_METHOD))
            return fail(err, errlen, XLSX_NOT_XLSX, "%.200s: zip entry without sizes", name);
        if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
            return fail(err, errlen, XLSX_NOT_XLSX,
                        "%.200s: compression method %d is not used by spreadsheets", name,
                        (int)st.comp_method);
        if (st.size > b->lim.max_uncompressed_bytes ||
            (total += st.size) > b->lim.max_uncompressed_bytes)
            return fail(err, errlen, XLSX_TOO_LARGE,
                        "the workbook inflates to more than %zu bytes (%.200s)",
                        b->lim.max_uncompressed_bytes, name);
        if (st.size > RATIO_FLOOR && st.size / (st.comp_size ? st.comp_size : 1) > b->lim.max_ratio)
            return fail(err, errlen, XLSX_TOO_LARGE,
                        "%.200s: compressed more than %zu:1 (zip bomb?)", name, b->lim.max_ratio);
    }
    return XLSX_OK;
}

/* Reads a relationships part; 1 when it does not exist. */
static int read_rels(struct xlsx_book *b, const char *path, struct rels_ctx *rc, char *err,
                     size_t errlen)
{
    memset(rc, 0, sizeof *rc);
    rc->x.err = err;
    rc->x.errlen = errlen;
    return parse_part(b, path, &rc->x, rels_start, any_end, no_text);
}

static int load_structure(struct xlsx_book *b, char *err, size_t errlen)
{
    struct rels_ctx rc;
    int rc_status = read_rels(b, "_rels/.rels", &rc, err, errlen);
    if (rc_status < 0)
        goto out;
    const struct rel *doc = rc_status == 0 ? rel_by_type(&rc, "/officeDocument") : NULL;
    b->wb_path = doc ? resolve("", doc->target) : strdup(DEFAULT_WORKBOOK);
    rels_free(&rc);
    if (!b->wb_path)
        return fail(err, errlen, XLSX_NOT_XLSX, "the package names no usable workbook");
    if (ends_with(b->wb_path, ".bin"))
        return fail(err, errlen, XLSX_NOT_XLSX,
                    "this is a binary workbook (.xlsb); save it as .xlsx");

    memset(&rc, 0, sizeof rc);
    struct xml_ctx x = {.err = err, .errlen = errlen};
    int st = parse_part(b, b->wb_path, &x, wb_start, any_end, no_text);
    if (st == 1)
        return fail(err, errlen, XLSX_NOT_XLSX,
                    "no workbook in this zip (%.200s): not an xlsx file", b->wb_path);
    if (st < 0)
        return st;
    if (b->nsheets == 0)
        return fail(err, errlen, XLSX_NOT_XLSX, "the workbook has no sheets");

    /* the workbook's own relationships: <dir>/_rels/<name>.rels */
    char path[MAX_NAME + 16];
    const char *slash = strrchr(b->wb_path, '/');
    int dl = slash ? (int)(slash - b->wb_path + 1) : 0;
    snprintf(path, sizeof path, "%.*s_rels/%s.rels", dl, b->wb_path, b->wb_path + dl);
    rc_status = read_rels(b, path, &rc, err, errlen);
    if (rc_status == 1)
        rc_status = fail(err, errlen, XLSX_NOT_XLSX, "no workbook relationships (%.200s)", path);
    if (rc_status)
        goto out;
    for (size_t i = 0; i < b->nsheets; i++) {
        struct sheet *s = &b->sheets[i];
        for (size_t k = 0; k < rc.n; k++) {
            if (strcmp(rc.v[k].id, s->rid))
                continue;
            s->worksheet = ends_with(rc.v[k].type, "/worksheet");
            s->path = resolve(b->wb_path, rc.v[k].target);
            break;
        }
    }
    const struct rel *sst = rel_by_type(&rc, "/sharedStrings");
    const struct rel *sty = rel_by_type(&rc, "/styles");
    b->sst_path = sst ? resolve(b->wb_path, sst->target) : NULL;
    b->styles_path = sty ? resolve(b->wb_path, sty->target) : NULL;
    rc_status = XLSX_OK;
out:
    rels_free(&rc);
    return rc_status;
}

static int load_styles(struct xlsx_book *b, char *err, size_t errlen)
{
    if (!b->styles_path)
        return XLSX_OK;
    struct styles_ctx c = {.x = {.err = err, .errlen = errlen}};
    int st = parse_part(b, b->styles_path, &c.x, styles_start, styles_end, no_text);
    if (st == 0 && styles_finish(b, &c))
        st = fail(err, errlen, XLSX_NOMEM, "out of memory");
    free(c.fmt_id);
    free(c.fmt_flags);
    free(c.xf_id);
    return st < 0 ? st : XLSX_OK;
}

static int load_shared_strings(struct xlsx_book *b, char *err, size_t errlen)
{
    if (!b->sst_path)
        return XLSX_OK;
    struct sst_ctx c = {.x = {.err = err, .errlen = errlen}};
    int st = parse_part(b, b->sst_path, &c.x, sst_start, sst_end, sst_text);
    return st < 0 ? st : XLSX_OK;
}

/* Opens the archive over `src` (taken: freed here on failure) and loads the workbook. */
static int open_source(zip_source_t *src, const struct xlsx_limits *lim, struct xlsx_book **out,
                       char *err, size_t errlen)
{
    struct xlsx_book *b = calloc(1, sizeof *b);
    if (!b) {
        zip_source_free(src);
        return fail(err, errlen, XLSX_NOMEM, "out of memory");
    }
    b->lim = *lim;
    zip_error_t ze;
    zip_error_init(&ze);
    b->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    int rc;
    if (!b->za) {
        int code = zip_error_code_zip(&ze);
        rc = code == ZIP_ER_MEMORY ? fail(err, errlen, XLSX_NOMEM, "out of memory")
             : code == ZIP_ER_READ || code == ZIP_ER_SEEK || code == ZIP_ER_OPEN
                 ? fail(err, errlen, XLSX_IO, "cannot read the file: %s", zip_error_strerror(&ze))
             : code == ZIP_ER_NOZIP
                 ? fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (not a zip)")
                 : fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (damaged zip: %s)",
                        zip_error_strerror(&ze));
        zip_error_fini(&ze);
        zip_source_free(src);
        free(b);
        return rc;
    }
    zip_error_fini(&ze);
    if ((rc = check_members(b, err, errlen)) || (rc = load_structure(b, err, errlen)) ||
        (rc = load_styles(b, err, errlen)) || (rc = load_shared_strings(b, err, errlen))) {
        xlsx_close(b);
        return rc;
    }
    *out = b;
    return XLSX_OK;
}

static void fill_limits(const struct xlsx_limits *in, struct xlsx_limits *lim)
{
    xlsx_limits_default(lim);
    if (!in)
        return;
    size_t *d = &lim->max_file_bytes;
    const size_t *s = &in->max_file_bytes;
    for (size_t i = 0; i < sizeof *lim / sizeof(size_t); i++) /* all fields are size_t */
        if (s[i])
            d[i] = s[i];
}

/* An OLE compound file is a legacy .xls or a password-protected .xlsx (which Office wraps in one
 * with an "EncryptionInfo" stream). */
static const unsigned char cfb_magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};

static int cfb_error(const unsigned char *data, size_t len, char *err, size_t errlen)
{
    static const char enc[] = "E\0n\0c\0r\0y\0p\0t\0i\0o\0n\0I\0n\0f\0o\0";
    if (memmem(data, len, enc, sizeof enc - 1))
        return fail(err, errlen, XLSX_ENCRYPTED,
                    "the workbook is password-protected; save it without a password");
    return fail(err, errlen, XLSX_NOT_XLSX,
                "this is a legacy .xls (or other Office) file; save it as .xlsx");
}

int xlsx_open(const char *path, const struct xlsx_limits *lim_in, struct xlsx_book **out, char *err,
              size_t errlen)
{
    struct xlsx_limits lim;
    fill_limits(lim_in, &lim);
    *out = NULL;
    FILE *f = fopen(path, "rbe");
    if (!f)
        return fail(err, errlen, XLSX_IO, "cannot open the file: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return fail(err, errlen, XLSX_IO, "not a regular file");
    }
    if ((unsigned long long)sb.st_size > lim.max_file_bytes) {
        fclose(f);
        return fail(err, errlen, XLSX_TOO_LARGE, "the file is larger than %zu bytes",
                    lim.max_file_bytes);
    }
    unsigned char head[1 << 16];
    size_t got = fread(head, 1, sizeof head, f);
    if (got >= 8 && !memcmp(head, cfb_magic, 8)) {
        /* the directory may lie further in: look through the file in chunks */
        int rc = XLSX_NOT_XLSX;
        do {
            rc = cfb_error(head, got, err, errlen);
            if (rc == XLSX_ENCRYPTED || got < sizeof head)
                break;
            memmove(head, head + sizeof head - 32, 32); /* a name across the boundary */
            got = 32 + fread(head + 32, 1, sizeof head - 32, f);
        } while (got > 32);
        fclose(f);
        return rc;
    }
    if (got < 4 || memcmp(head, "PK", 2)) {
        fclose(f);
        return fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (not a zip)");
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_filep_create(f, 0, (zip_int64_t)sb.st_size, &ze);
    zip_error_fini(&ze);
    if (!src) {
        fclose(f);
        return fail(err, errlen, XLSX_NOMEM, "out of memory");
    }
    return open_source(src, &lim, out, err, errlen);
}

int xlsx_open_mem(const void *data, size_t len, const struct xlsx_limits *lim_in,
                  struct xlsx_book **out, char *err, size_t errlen)
{
    struct xlsx_limits lim;
    fill_limits(lim_in, &lim);
    *out = NULL;
    if (len > lim.max_file_bytes)
        return fail(err, errlen, XLSX_TOO_LARGE, "the file is larger than %zu bytes",
                    lim.max_file_bytes);
    if (len >= 8 && !memcmp(data, cfb_magic, 8))
        return cfb_error(data, len, err, errlen);
    if (len < 4 || memcmp(data, "PK", 2))
        return fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (not a zip)");
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_error_fini(&ze);
    if (!src)
        return fail(err, errlen, XLSX_NOMEM, "out of memory");
    return open_source(src, &lim, out, err, errlen);
}

size_t xlsx_sheet_count(const struct xlsx_book *b)
{
    return b->nsheets;
}

const char *xlsx_sheet_name(const struct xlsx_book *b, size_t i)
{
    return i < b->nsheets ? b->sheets[i].name : NULL;
}

enum xlsx_sheet_state xlsx_sheet_state(const struct xlsx_book *b, size_t i)
{
    return i < b->nsheets ? b->sheets[i].state : XLSX_VISIBLE;
}

int xlsx_read_sheet(struct xlsx_book *b, const char *sheet_name, xlsx_row_cb cb, void *arg,
                    char *err, size_t errlen)
{
    const struct sheet *s = NULL;
    for (size_t i = 0; i < b->nsheets && !s; i++)
        if (!strcmp(b->sheets[i].name, sheet_name))
            s = &b->sheets[i];
    for (size_t i = 0; i < b->nsheets && !s; i++)
        if (!strcasecmp(b->sheets[i].name, sheet_name))
            s = &b->sheets[i];
    if (!s)
        return fail(err, errlen, XLSX_NO_SHEET, "no sheet named \"%.200s\"", sheet_name);
    if (!s->worksheet || !s->path)
        return fail(err, errlen, XLSX_NO_SHEET, "sheet \"%.200s\" is not a worksheet", s->name);
    struct sheet_ctx c = {
        .x = {.err = err, .errlen = errlen}, .sheet = s->name, .cb = cb, .arg = arg};
    b->npend = 0;
    b->row_len = 0;
    int rc = parse_part(b, s->path, &c.x, sheet_start, sheet_end, sheet_text);
    if (rc == 1)
        return fail(err, errlen, XLSX_BAD_XML, "sheet \"%.200s\": its part %.200s is missing",
                    s->name, s->path);
    return rc;
}

void xlsx_close(struct xlsx_book *b)
{
    if (!b)
        return;
    if (b->za)
        zip_discard(b->za);
    for (size_t i = 0; i < b->nsheets; i++) {
        free(b->sheets[i].name);
        free(b->sheets[i].rid);
        free(b->sheets[i].path);
    }
    free(b->sheets);
    free(b->wb_path);
    free(b->sst_path);
    free(b->styles_path);
    free(b->sst);
    free(b->sst_idx);
    free(b->xf_fmt);
    free(b->rowbuf);
    free(b->pend);
    free(b->cells);
    free(b);
}
