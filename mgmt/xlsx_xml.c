/* One part of an xlsx package through expat, and small text helpers; see xlsx_internal.h. */
#include "mgmt/xlsx_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int xr_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- the generic part parser: one zip member through expat, in chunks ---- */

void xr_xfail(struct xml_ctx *x, int code, const char *fmt, ...)
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
void xr_xdone(struct xml_ctx *x)
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
    xr_xfail(x, XLSX_BAD_XML, "%s: DOCTYPE declarations are not allowed", x->part);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    struct xml_ctx *x = ud;
    xr_xfail(x, XLSX_BAD_XML, "%s: entity declarations are not allowed", x->part);
}

/* The local part of a possibly prefixed name ("x:row" -> "row"). */
const char *xr_local(const char *n)
{
    const char *c = strrchr(n, ':');
    return c ? c + 1 : n;
}

const char *xr_attr(const XML_Char **atts, const char *name)
{
    for (; *atts; atts += 2)
        if (!strcmp(xr_local(atts[0]), name))
            return atts[1];
    return NULL;
}

/* Depth bookkeeping shared by every start handler; returns 0 if the handler may go on. */
int xr_enter(struct xml_ctx *x)
{
    x->event = 1;
    if (x->stopped)
        return -1;
    if (++x->depth > MAX_DEPTH) {
        xr_xfail(x, XLSX_BAD_XML, "%s: elements nested deeper than %d", x->part, MAX_DEPTH);
        return -1;
    }
    return 0;
}

int xr_leave(struct xml_ctx *x)
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
int xr_parse_part(struct xlsx_book *b, const char *name, struct xml_ctx *x,
                  XML_StartElementHandler start, XML_EndElementHandler end,
                  XML_CharacterDataHandler text)
{
    zip_int64_t idx = zip_name_locate(b->za, name, ZIP_FL_NOCASE);
    if (idx < 0)
        return 1;
    zip_stat_t st;
    if (zip_stat_index(b->za, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
        return xr_fail(x->err, x->errlen, XLSX_NOT_XLSX, "%s: cannot read the zip entry", name);
    zip_file_t *zf = zip_fopen_index(b->za, (zip_uint64_t)idx, 0);
    if (!zf)
        return xr_fail(x->err, x->errlen, XLSX_NOT_XLSX, "%s: %s", name, zip_strerror(b->za));
    struct budget budget = {0}, *outer = current_budget;
    current_budget = &budget;
    XML_Parser p = XML_ParserCreate_MM(NULL, &mm, NULL);
    if (!p) {
        current_budget = outer;
        zip_fclose(zf);
        return xr_fail(x->err, x->errlen, XLSX_NOMEM, "out of memory");
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
            rc = xr_fail(x->err, x->errlen, budget.exceeded ? XLSX_TOO_LARGE : XLSX_NOMEM,
                         "%s: out of memory for the XML parser", name);
            break;
        }
        zip_int64_t n = zip_fread(zf, buf, CHUNK);
        if (n < 0) {
            rc = xr_fail(x->err, x->errlen, XLSX_NOT_XLSX, "%s: damaged zip entry (%s)", name,
                         zip_file_strerror(zf));
            break;
        }
        produced += (zip_uint64_t)n;
        if (produced > st.size || produced > b->lim.max_uncompressed_bytes) {
            rc = xr_fail(x->err, x->errlen, XLSX_TOO_LARGE,
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
            rc = xr_fail(x->err, x->errlen, XLSX_TOO_LARGE,
                         "%s: parsing needs more than %u bytes (too many distinct XML names?)",
                         name, MAX_PARSER_BYTES);
            break;
        }
        if (s != XML_STATUS_OK) {
            rc = xr_fail(x->err, x->errlen, XLSX_BAD_XML, "%s: XML error at line %lu: %s", name,
                         (unsigned long)XML_GetCurrentLineNumber(p),
                         XML_ErrorString(XML_GetErrorCode(p)));
            break;
        }
        if (n == 0)
            break;
        stall = x->event ? 0 : stall + (size_t)n;
        if (stall > MAX_STALL) {
            rc = xr_fail(x->err, x->errlen, XLSX_BAD_XML, "%s: an XML token longer than %u bytes",
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

int xr_grow(void **p, size_t *cap, size_t need, size_t elem)
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
long long xr_parse_uint(const char *s, size_t n, long long max)
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
char *xr_resolve(const char *base, const char *target)
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

size_t xr_decode_escapes(char *s, size_t n)
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
