/* Streaming .xlsx reader (see xlsx_read.h): libzip inflates one member at a time into expat in
 * 64 KiB chunks; the handlers below are small state machines, so nothing recurses on input depth
 * and a sheet is never held in memory whole. */
#include "mgmt/xlsx_read.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#define CHUNK           65536
#define MAX_MEMBERS     10000     /* zip entries; Excel writes a few dozen */
#define MAX_DEPTH       64        /* XML nesting; SpreadsheetML needs about 8 */
#define MAX_STALL       (1u << 20) /* bytes fed to expat without any event: one huge token */
#define RATIO_FLOOR     (1u << 20) /* members smaller than this skip the ratio check */
#define MAX_SHEETS      4096
#define MAX_RELS        20000
#define MAX_XFS         65536 /* Excel allows ~64 000 cell formats */
#define MAX_NUMFMTS     4096
#define MAX_NAME        1024 /* sheet names, part paths, relationship ids */
#define MAX_ROW_NUMBER  1048576u
#define MAX_COLUMNS     16384u
#define MAX_SERIAL      2958465.0 /* 9999-12-31 */
#define DEFAULT_WORKBOOK "xl/workbook.xml"

enum { FMT_DATE = 1, FMT_TIME = 2 };

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
    zip_source_t *src;
    struct xlsx_limits lim;
    int date1904;
    struct sheet *sheets;
    size_t nsheets;
    char *wb_path;                 /* the workbook part */
    char *sst_path, *styles_path; /* from the workbook's relationships, NULL if absent */
    char *sst;                     /* shared strings, each NUL-terminated */
    size_t sst_len, sst_cap;
    struct sst_entry *sst_idx;
    size_t nsst, sst_idx_cap;
    unsigned char *xf_fmt; /* per cellXfs index: FMT_DATE | FMT_TIME */
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
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p) {
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
            rc = fail(x->err, x->errlen, XLSX_NOMEM, "%s: out of memory", name);
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
    zip_fclose(zf);
    x->p = NULL;
    return rc;
}

/* ---- small helpers ---- */

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

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

/* ---- number formats: which show a date or a time ---- */

static unsigned builtin_fmt(long id)
{
    if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 54) ||
        id == 57 || id == 58)
        return FMT_DATE;
    if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47) || (id >= 32 && id <= 35) || id == 55 ||
        id == 56)
        return FMT_TIME;
    if (id == 22)
        return FMT_DATE | FMT_TIME;
    return 0;
}

/* Classifies a format code: y, d, e (era year), b (Buddhist year) and a month m are date
 * tokens; h, s, AM/PM and a minute m (after h, or before s) time tokens. Quoted text, escaped
 * and padding characters and [bracketed] parts other than elapsed [h] [m] [s] are skipped. */
static unsigned classify_fmt(const char *f)
{
    unsigned flags = 0;
    char last = 0;      /* the last date/time token letter seen */
    int pending_m = 0; /* an m whose meaning depends on the next token */
    for (const char *p = f; *p; p++) {
        char c = *p;
        if (c == '"') {
            while (p[1] && p[1] != '"')
                p++;
            if (p[1])
                p++;
            continue;
        }
        if (c == '\\' || c == '_' || c == '*') {
            if (p[1])
                p++;
            continue;
        }
        if (c == '[') {
            const char *q = p + 1;
            while (*q && *q != ']')
                q++;
            size_t n = (size_t)(q - p - 1);
            int elapsed = n > 0;
            for (size_t i = 1; i <= n; i++) {
                char e = (char)(p[i] | 0x20);
                if (e != 'h' && e != 'm' && e != 's')
                    elapsed = 0;
            }
            if (elapsed)
                flags |= FMT_TIME;
            p = *q ? q : q - 1;
            continue;
        }
        if (!strncasecmp(p, "General", 7)) {
            p += 6;
            continue;
        }
        if (!strncasecmp(p, "AM/PM", 5) || !strncasecmp(p, "A/P", 3)) {
            flags |= FMT_TIME;
            p += (p[1] == '/' ? 2 : 4);
            continue;
        }
        char l = (char)(c | 0x20);
        if ((c == 'e' || c == 'E') && (p[1] == '+' || p[1] == '-'))
            continue; /* scientific notation */
        if (l == 'y' || l == 'd' || l == 'e' || l == 'b') {
            if (pending_m)
                flags |= FMT_DATE;
            pending_m = 0;
            flags |= FMT_DATE;
            last = l;
        } else if (l == 'h') {
            if (pending_m)
                flags |= FMT_DATE;
            pending_m = 0;
            flags |= FMT_TIME;
            last = 'h';
        } else if (l == 's') {
            pending_m = 0; /* an m before s is a minute */
            flags |= FMT_TIME;
            last = 's';
        } else if (l == 'm') {
            while ((p[1] | 0x20) == 'm')
                p++;
            if (last == 'h')
                flags |= FMT_TIME;
            else
                pending_m = 1;
            last = 'm';
        }
    }
    if (pending_m)
        flags |= FMT_DATE;
    return flags;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(long long z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* Formats serial `v` (n bytes) shown with format flags `fmt` as a date text into out (32 bytes);
 * returns its length, or 0 when it is not a number in the date range (left a number). */
static size_t serial_text(const char *v, size_t n, int date1904, unsigned fmt, char *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (*end || errno || !isfinite(d) || d < 0 || d >= MAX_SERIAL + 1)
        return 0;
    long long secs = llround(d * 86400.0);
    long long day = secs / 86400;
    unsigned tod = (unsigned)(secs % 86400);
    int show_date = (fmt & FMT_DATE) || day > 0 || date1904;
    int show_time = (fmt & FMT_TIME) || tod != 0;
    int y;
    unsigned m, dd;
    if (date1904) {
        civil(day - 24107, &y, &m, &dd);
    } else if (day == 0) { /* Excel shows 1900-01-00 */
        y = 1900, m = 1, dd = 0;
    } else if (day == 60) { /* the 1900 leap-year bug: a day that never was */
        y = 1900, m = 2, dd = 29;
    } else {
        civil(day < 60 ? day - 25568 : day - 25569, &y, &m, &dd);
    }
    int len;
    if (show_date && show_time)
        len = snprintf(out, 32, "%04d-%02u-%02u %02u:%02u:%02u", y, m, dd, tod / 3600,
                       tod / 60 % 60, tod % 60);
    else if (show_date)
        len = snprintf(out, 32, "%04d-%02u-%02u", y, m, dd);
    else
        len = snprintf(out, 32, "%02u:%02u:%02u", tod / 3600, tod / 60 % 60, tod % 60);
    return len > 0 && len < 32 ? (size_t)len : 0;
}

/* An ISO 8601 cell (t="d"): "2024-03-15T00:00:00Z" -> "2024-03-15"; a time of day is kept. */
static size_t iso_text(const char *v, size_t n, char *out)
{
    if (n < 10 || v[4] != '-' || v[7] != '-')
        return 0;
    memcpy(out, v, 10);
    size_t len = 10;
    if (n >= 19 && (v[10] == 'T' || v[10] == ' ') && v[13] == ':' && v[16] == ':' &&
        memcmp(v + 11, "00:00:00", 8) != 0) {
        out[10] = ' ';
        memcpy(out + 11, v + 11, 8);
        len = 19;
    }
    out[len] = 0;
    return len;
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
    s->state = !state                      ? XLSX_VISIBLE
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
            xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d number formats", c->x.part,
                  MAX_NUMFMTS);
            return;
        }
        if (grow((void **)&c->fmt_id, &c->fmt_cap, c->nfmt + 1, sizeof *c->fmt_id) ||
            grow((void **)&c->fmt_flags, &c->fmt_cap2, c->nfmt + 1, 1)) {
            xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        c->fmt_id[c->nfmt] = (long)v;
        c->fmt_flags[c->nfmt++] = (unsigned char)classify_fmt(code);
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
        unsigned f = builtin_fmt(c->xf_id[i]);
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
