/* Streaming .xlsx reader (see xlsx_read.h): libzip inflates one member at a time into expat in
 * 64 KiB chunks; the handlers below are small state machines, so nothing recurses on input depth
 * and a sheet is never held in memory whole. */
#include "mgmt/xlsx_internal.h"
#include "mgmt/xlsx_dates.h"

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
#include <sys/stat.h>

/* ---- messages ---- */

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
    if (xr_enter(&c->x) || strcmp(xr_local(name), "Relationship"))
        return;
    const char *id = xr_attr(atts, "Id"), *type = xr_attr(atts, "Type"),
               *target = xr_attr(atts, "Target");
    const char *mode = xr_attr(atts, "TargetMode");
    if (!id || !type || !target || (mode && !strcmp(mode, "External")))
        return;
    if (c->n >= MAX_RELS) {
        xr_xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d relationships", c->x.part, MAX_RELS);
        return;
    }
    if (strlen(id) >= MAX_NAME || strlen(type) >= MAX_NAME || strlen(target) >= MAX_NAME)
        return; /* no part we read has such a name */
    if (xr_grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v)) {
        xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
        return;
    }
    struct rel *r = &c->v[c->n];
    r->id = strdup(id);
    r->type = strdup(type);
    r->target = strdup(target);
    c->n++;
    if (!r->id || !r->type || !r->target)
        xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
}

static void XMLCALL any_end(void *ud, const XML_Char *name)
{
    xr_leave(ud);
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
    if (xr_enter(x))
        return;
    struct xlsx_book *b = x->b;
    const char *n = xr_local(name);
    if (!strcmp(n, "workbookPr")) {
        const char *d = xr_attr(atts, "date1904");
        b->date1904 = d && (!strcmp(d, "1") || !strcmp(d, "true"));
        return;
    }
    if (strcmp(n, "sheet"))
        return;
    const char *sname = xr_attr(atts, "name"), *rid = xr_attr(atts, "id"),
               *state = xr_attr(atts, "state");
    if (!sname || !rid || strlen(sname) >= MAX_NAME || strlen(rid) >= MAX_NAME) {
        xr_xfail(x, XLSX_BAD_XML, "%s: a sheet without a usable name or id", x->part);
        return;
    }
    if (b->nsheets >= MAX_SHEETS) {
        xr_xfail(x, XLSX_TOO_LARGE, "%s: more than %d sheets", x->part, MAX_SHEETS);
        return;
    }
    size_t cap = b->nsheets; /* grown one by one: sheets are few */
    struct sheet *v = realloc(b->sheets, (cap + 1) * sizeof *v);
    if (!v) {
        xr_xfail(x, XLSX_NOMEM, "out of memory");
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
        xr_xfail(x, XLSX_NOMEM, "out of memory");
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
    if (xr_enter(&c->x))
        return;
    const char *n = xr_local(name);
    unsigned d = c->x.depth;
    if (!strcmp(n, "numFmts")) {
        c->numfmts_depth = d;
    } else if (!strcmp(n, "cellXfs")) {
        c->xfs_depth = d;
    } else if (!strcmp(n, "numFmt") && c->numfmts_depth && d == c->numfmts_depth + 1) {
        const char *id = xr_attr(atts, "numFmtId"), *code = xr_attr(atts, "formatCode");
        long long v = id ? xr_parse_uint(id, strlen(id), INT_MAX) : -1;
        if (v < 0 || !code)
            return;
        if (c->nfmt >= MAX_NUMFMTS) {
            xr_xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d number formats", c->x.part,
                     MAX_NUMFMTS);
            return;
        }
        if (xr_grow((void **)&c->fmt_id, &c->fmt_cap, c->nfmt + 1, sizeof *c->fmt_id) ||
            xr_grow((void **)&c->fmt_flags, &c->fmt_cap2, c->nfmt + 1, 1)) {
            xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        c->fmt_id[c->nfmt] = (long)v;
        c->fmt_flags[c->nfmt++] = (unsigned char)xlsx_fmt_classify(code);
    } else if (!strcmp(n, "xf") && c->xfs_depth && d == c->xfs_depth + 1) {
        const char *id = xr_attr(atts, "numFmtId");
        long long v = id ? xr_parse_uint(id, strlen(id), INT_MAX) : 0;
        if (c->nxf >= MAX_XFS) {
            xr_xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %d cell formats", c->x.part, MAX_XFS);
            return;
        }
        if (xr_grow((void **)&c->xf_id, &c->xf_cap, c->nxf + 1, sizeof *c->xf_id)) {
            xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        c->xf_id[c->nxf++] = (long)v;
    }
}

static void XMLCALL styles_end(void *ud, const XML_Char *name)
{
    struct styles_ctx *c = ud;
    unsigned d = c->x.depth;
    if (xr_leave(&c->x))
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
    if (xr_enter(&c->x))
        return;
    struct xlsx_book *b = c->x.b;
    const char *n = xr_local(name);
    if (!c->si_depth) {
        if (strcmp(n, "si"))
            return;
        if (b->nsst >= b->lim.max_shared_strings) {
            xr_xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %zu shared strings", c->x.part,
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
        xr_xfail(&c->x, XLSX_TOO_LARGE, "%s: more than %zu bytes of shared strings", c->x.part,
                 b->lim.max_shared_bytes);
        return -1;
    }
    if (xr_grow((void **)&b->sst, &b->sst_cap, b->sst_len + more, 1)) {
        xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
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
    if (xr_leave(&c->x) || !c->si_depth)
        return;
    struct xlsx_book *b = c->x.b;
    if (d == c->si_depth) {
        if (sst_reserve(c, 1))
            return;
        size_t n = xr_decode_escapes(b->sst + c->start, b->sst_len - c->start);
        b->sst_len = c->start + n;
        b->sst[b->sst_len++] = 0;
        if (xr_grow((void **)&b->sst_idx, &b->sst_idx_cap, b->nsst + 1, sizeof *b->sst_idx)) {
            xr_xfail(&c->x, XLSX_NOMEM, "out of memory");
            return;
        }
        b->sst_idx[b->nsst++] = (struct sst_entry){c->start, n};
        c->si_depth = 0;
    } else if (!strcmp(xr_local(name), "rPh")) {
        if (c->rph)
            c->rph--;
    } else if (!strcmp(xr_local(name), "t")) {
        c->in_t = 0;
    }
}

/* ---- opening ---- */

/* Checks every member's declared sizes and methods before anything is inflated. */
static int check_members(struct xlsx_book *b, char *err, size_t errlen)
{
    zip_int64_t n = zip_get_num_entries(b->za, 0);
    if (n <= 0)
        return xr_fail(err, errlen, XLSX_NOT_XLSX, "the zip archive is empty");
    if (n > MAX_MEMBERS)
        return xr_fail(err, errlen, XLSX_TOO_LARGE, "the zip archive has more than %d entries",
                       MAX_MEMBERS);
    zip_uint64_t total = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(b->za, (zip_uint64_t)i, 0, &st) < 0)
            return xr_fail(err, errlen, XLSX_NOT_XLSX, "zip entry %lld: %s", (long long)i,
                           zip_strerror(b->za));
        const char *name = (st.valid & ZIP_STAT_NAME) ? st.name : "?";
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            return xr_fail(err, errlen, XLSX_ENCRYPTED, "%.200s: the zip entry is encrypted", name);
        if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
            !(st.valid & ZIP_STAT_COMP_METHOD))
            return xr_fail(err, errlen, XLSX_NOT_XLSX, "%.200s: zip entry without sizes", name);
        if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
            return xr_fail(err, errlen, XLSX_NOT_XLSX,
                           "%.200s: compression method %d is not used by spreadsheets", name,
                           (int)st.comp_method);
        if (st.size > b->lim.max_uncompressed_bytes ||
            (total += st.size) > b->lim.max_uncompressed_bytes)
            return xr_fail(err, errlen, XLSX_TOO_LARGE,
                           "the workbook inflates to more than %zu bytes (%.200s)",
                           b->lim.max_uncompressed_bytes, name);
        if (st.size > RATIO_FLOOR && st.size / (st.comp_size ? st.comp_size : 1) > b->lim.max_ratio)
            return xr_fail(err, errlen, XLSX_TOO_LARGE,
                           "%.200s: compressed more than %zu:1 (zip bomb?)", name,
                           b->lim.max_ratio);
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
    return xr_parse_part(b, path, &rc->x, rels_start, any_end, no_text);
}

static int load_structure(struct xlsx_book *b, char *err, size_t errlen)
{
    struct rels_ctx rc;
    int rc_status = read_rels(b, "_rels/.rels", &rc, err, errlen);
    if (rc_status < 0)
        goto out;
    const struct rel *doc = rc_status == 0 ? rel_by_type(&rc, "/officeDocument") : NULL;
    b->wb_path = doc ? xr_resolve("", doc->target) : strdup(DEFAULT_WORKBOOK);
    rels_free(&rc);
    if (!b->wb_path)
        return xr_fail(err, errlen, XLSX_NOT_XLSX, "the package names no usable workbook");
    if (ends_with(b->wb_path, ".bin"))
        return xr_fail(err, errlen, XLSX_NOT_XLSX,
                       "this is a binary workbook (.xlsb); save it as .xlsx");

    memset(&rc, 0, sizeof rc);
    struct xml_ctx x = {.err = err, .errlen = errlen};
    int st = xr_parse_part(b, b->wb_path, &x, wb_start, any_end, no_text);
    if (st == 1)
        return xr_fail(err, errlen, XLSX_NOT_XLSX,
                       "no workbook in this zip (%.200s): not an xlsx file", b->wb_path);
    if (st < 0)
        return st;
    if (b->nsheets == 0)
        return xr_fail(err, errlen, XLSX_NOT_XLSX, "the workbook has no sheets");

    /* the workbook's own relationships: <dir>/_rels/<name>.rels */
    char path[MAX_NAME + 16];
    const char *slash = strrchr(b->wb_path, '/');
    int dl = slash ? (int)(slash - b->wb_path + 1) : 0;
    snprintf(path, sizeof path, "%.*s_rels/%s.rels", dl, b->wb_path, b->wb_path + dl);
    rc_status = read_rels(b, path, &rc, err, errlen);
    if (rc_status == 1)
        rc_status = xr_fail(err, errlen, XLSX_NOT_XLSX, "no workbook relationships (%.200s)", path);
    if (rc_status)
        goto out;
    for (size_t i = 0; i < b->nsheets; i++) {
        struct sheet *s = &b->sheets[i];
        for (size_t k = 0; k < rc.n; k++) {
            if (strcmp(rc.v[k].id, s->rid))
                continue;
            s->worksheet = ends_with(rc.v[k].type, "/worksheet");
            s->path = xr_resolve(b->wb_path, rc.v[k].target);
            break;
        }
    }
    const struct rel *sst = rel_by_type(&rc, "/sharedStrings");
    const struct rel *sty = rel_by_type(&rc, "/styles");
    b->sst_path = sst ? xr_resolve(b->wb_path, sst->target) : NULL;
    b->styles_path = sty ? xr_resolve(b->wb_path, sty->target) : NULL;
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
    int st = xr_parse_part(b, b->styles_path, &c.x, styles_start, styles_end, no_text);
    if (st == 0 && styles_finish(b, &c))
        st = xr_fail(err, errlen, XLSX_NOMEM, "out of memory");
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
    int st = xr_parse_part(b, b->sst_path, &c.x, sst_start, sst_end, sst_text);
    return st < 0 ? st : XLSX_OK;
}

/* Opens the archive over `src` (taken: freed here on failure) and loads the workbook. */
static int open_source(zip_source_t *src, const struct xlsx_limits *lim, struct xlsx_book **out,
                       char *err, size_t errlen)
{
    struct xlsx_book *b = calloc(1, sizeof *b);
    if (!b) {
        zip_source_free(src);
        return xr_fail(err, errlen, XLSX_NOMEM, "out of memory");
    }
    b->lim = *lim;
    zip_error_t ze;
    zip_error_init(&ze);
    b->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    int rc;
    if (!b->za) {
        int code = zip_error_code_zip(&ze);
        rc =
            code == ZIP_ER_MEMORY ? xr_fail(err, errlen, XLSX_NOMEM, "out of memory")
            : code == ZIP_ER_READ || code == ZIP_ER_SEEK || code == ZIP_ER_OPEN
                ? xr_fail(err, errlen, XLSX_IO, "cannot read the file: %s", zip_error_strerror(&ze))
            : code == ZIP_ER_NOZIP
                ? xr_fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (not a zip)")
                : xr_fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (damaged zip: %s)",
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
        return xr_fail(err, errlen, XLSX_ENCRYPTED,
                       "the workbook is password-protected; save it without a password");
    return xr_fail(err, errlen, XLSX_NOT_XLSX,
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
        return xr_fail(err, errlen, XLSX_IO, "cannot open the file: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return xr_fail(err, errlen, XLSX_IO, "not a regular file");
    }
    if ((unsigned long long)sb.st_size > lim.max_file_bytes) {
        fclose(f);
        return xr_fail(err, errlen, XLSX_TOO_LARGE, "the file is larger than %zu bytes",
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
        return xr_fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (not a zip)");
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_filep_create(f, 0, (zip_int64_t)sb.st_size, &ze);
    zip_error_fini(&ze);
    if (!src) {
        fclose(f);
        return xr_fail(err, errlen, XLSX_NOMEM, "out of memory");
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
        return xr_fail(err, errlen, XLSX_TOO_LARGE, "the file is larger than %zu bytes",
                       lim.max_file_bytes);
    if (len >= 8 && !memcmp(data, cfb_magic, 8))
        return cfb_error(data, len, err, errlen);
    if (len < 4 || memcmp(data, "PK", 2))
        return xr_fail(err, errlen, XLSX_NOT_XLSX, "not an xlsx file (not a zip)");
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_error_fini(&ze);
    if (!src)
        return xr_fail(err, errlen, XLSX_NOMEM, "out of memory");
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
