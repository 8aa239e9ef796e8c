/* T/CEC 102 payload validation: one engine walks a payload along the field tables of
 * tcec_dictionary.c and reports the first broken rule with the field's path. */
#include "protocol/tcec_private.h"

#include "protocol/records.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define WALK_PATH_MAX 1024 /* the walk's own buffer; err->path gets it cut with "..." */

struct walk {
    char path[WALK_PATH_MAX];
    size_t len;
    struct tcec_error *err;
};

static int fail(struct walk *w, enum tcec_rule rule, const char *fmt, ...)
{
    struct tcec_error *err = w->err;
    if (!err)
        return -1;
    char what[TCEC_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    err->ret = TCEC_RET_BUSINESS;
    err->rule = rule;
    if (w->len < sizeof err->path) {
        memcpy(err->path, w->path, w->len + 1);
    } else {
        memcpy(err->path, w->path, sizeof err->path - 4);
        strcpy(err->path + sizeof err->path - 4, "...");
    }
    tcec_utf8_trim(err->path);
    /* "path: what", cut to fit (a message cut short still starts with the path) */
    size_t off = 0, cap = sizeof err->msg - 1;
    const char *pieces[] = {w->len ? err->path : "", w->len ? ": " : "", what};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(pieces[i]);
        if (n > cap - off)
            n = cap - off;
        memcpy(err->msg + off, pieces[i], n);
        off += n;
    }
    err->msg[off] = '\0';
    tcec_utf8_trim(err->msg);
    return -1;
}

/* Appends ".name" (or "name" at the root) or "[i]"; returns the length to restore. */
static size_t push_name(struct walk *w, const char *name)
{
    size_t old = w->len;
    int n = snprintf(w->path + w->len, sizeof w->path - w->len, "%s%s", w->len ? "." : "", name);
    if (n > 0)
        w->len = w->len + (size_t)n < sizeof w->path ? w->len + (size_t)n : sizeof w->path - 1;
    return old;
}

static size_t push_index(struct walk *w, size_t i)
{
    size_t old = w->len;
    int n = snprintf(w->path + w->len, sizeof w->path - w->len, "[%zu]", i);
    if (n > 0)
        w->len = w->len + (size_t)n < sizeof w->path ? w->len + (size_t)n : sizeof w->path - 1;
    return old;
}

static void pop(struct walk *w, size_t old)
{
    w->len = old;
    w->path[old] = '\0';
}

/* Characters (code points) of valid UTF-8 (jansson guarantees validity). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static const char *type_name(enum tcec_ftype t)
{
    switch (t) {
    case TF_STRING:
        return "a string";
    case TF_INT:
        return "an integer";
    case TF_NUMBER:
        return "a number";
    case TF_OBJECT:
        return "an object";
    case TF_OBJECTS:
        return "an array of objects";
    case TF_STRINGS:
        return "an array of strings";
    }
    return "?";
}

static int check_format(struct walk *w, enum tcec_format f, const char *s, size_t len)
{
    switch (f) {
    case TFMT_NONE:
        return 0;
    case TFMT_OPERATOR_ID:
        if (!tcec_is_operator_id(s))
            return fail(w, TCEC_R_FORMAT, "is not 9 characters of 0-9 and A-Z (organisation code)");
        return 0;
    case TFMT_DATETIME:
        if (!tcec_is_datetime(s))
            return fail(w, TCEC_R_FORMAT, "is not a real date-time \"yyyy-MM-dd HH:mm:ss\"");
        return 0;
    case TFMT_DATE:
        if (!tcec_is_date(s))
            return fail(w, TCEC_R_FORMAT, "is not a real date \"yyyy-MM-dd\"");
        return 0;
    case TFMT_AREA:
        if (len != 6 || strspn(s, "0123456789") != 6)
            return fail(w, TCEC_R_FORMAT, "is not 6 digits (GB/T 2260 area code)");
        if (!rec_area_find(s))
            return fail(w, TCEC_R_FORMAT, "%s is not a GB/T 2260 area code", s);
        return 0;
    case TFMT_COUNTRY:
        if (len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
            return fail(w, TCEC_R_FORMAT, "is not a 2-letter country code such as CN");
        return 0;
    case TFMT_ID:
        for (size_t i = 0; i < len; i++)
            if (s[i] <= ' ' || s[i] > '~')
                return fail(w, TCEC_R_FORMAT,
                            "has a character other than printable ASCII without spaces");
        return 0;
    }
    return 0;
}

static int check_string(struct walk *w, const struct tcec_field *f, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len)
        return fail(w, TCEC_R_FORMAT, "contains a NUL character");
    size_t chars = utf8_chars(s, len);
    if (chars < f->min_len)
        return fail(w, TCEC_R_LENGTH, "%s (%zu characters, at least %u)",
                    chars ? "is too short" : "is empty", chars, f->min_len);
    if (f->max_len && chars > f->max_len)
        return fail(w, TCEC_R_LENGTH, "is %zu characters, more than %u", chars, f->max_len);
    return check_format(w, f->format, s, len);
}

static int decimals_ok(double v, int decimals)
{
    double scaled = v * pow(10, decimals);
    if (!isfinite(scaled))
        return 0;
    return fabs(scaled - nearbyint(scaled)) <= 1e-6 * fmax(1.0, fabs(scaled) * 1e-9);
}

static int check_number(struct walk *w, const struct tcec_field *f, const json_t *v)
{
    if (f->type == TF_INT) {
        json_int_t i = json_integer_value(v);
        if (f->n_enums) {
            for (size_t k = 0; k < f->n_enums; k++)
                if (i == f->enums[k])
                    return 0;
            char list[128];
            size_t off = 0;
            for (size_t k = 0; k < f->n_enums && off < sizeof list; k++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%d", k ? ", " : "",
                                        f->enums[k]);
            return fail(w, TCEC_R_ENUM, "%" JSON_INTEGER_FORMAT " is not one of %s", i, list);
        }
        if (f->has_range && ((double)i < f->min || (double)i > f->max))
            return fail(w, TCEC_R_RANGE, "%" JSON_INTEGER_FORMAT " is outside %.0f..%.0f", i,
                        f->min, f->max);
        return 0;
    }
    double d = json_number_value(v);
    if (f->has_range && (d < f->min || d > f->max))
        return fail(w, TCEC_R_RANGE, "%g is outside %g..%g", d, f->min, f->max);
    if (f->decimals >= 0 && !decimals_ok(d, f->decimals))
        return fail(w, TCEC_R_PRECISION, "%.10g has more than %d decimal place%s", d, f->decimals,
                    f->decimals == 1 ? "" : "s");
    return 0;
}

static int walk_object(struct walk *w, const struct tcec_object *o, const json_t *v);

static int check_items(struct walk *w, const struct tcec_field *f, const json_t *v)
{
    size_t n = json_array_size(v);
    if (n < f->min_items)
        return fail(w, TCEC_R_ITEMS, "has %zu item%s, at least %u", n, n == 1 ? "" : "s",
                    f->min_items);
    if (f->max_items && n > f->max_items)
        return fail(w, TCEC_R_ITEMS, "has %zu items, more than %u", n, f->max_items);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);
        size_t old = push_index(w, i);
        int rc;
        if (f->type == TF_OBJECTS) {
            rc = walk_object(w, f->object, item);
        } else if (!json_is_string(item)) {
            rc = fail(w, TCEC_R_TYPE, "is not a string");
        } else {
            rc = check_string(w, f, item);
        }
        if (rc)
            return rc;
        pop(w, old);
    }
    return 0;
}

static int check_field(struct walk *w, const struct tcec_field *f, const json_t *v)
{
    int type_ok;
    switch (f->type) {
    case TF_STRING:
        type_ok = json_is_string(v);
        break;
    case TF_INT:
        type_ok = json_is_integer(v);
        break;
    case TF_NUMBER:
        type_ok = json_is_number(v);
        break;
    case TF_OBJECT:
        type_ok = json_is_object(v);
        break;
    default:
        type_ok = json_is_array(v);
        break;
    }
    if (!type_ok)
        return fail(w, TCEC_R_TYPE, "is not %s", type_name(f->type));
    switch (f->type) {
    case TF_STRING:
        return check_string(w, f, v);
    case TF_INT:
    case TF_NUMBER:
        return check_number(w, f, v);
    case TF_OBJECT:
        return walk_object(w, f->object, v);
    default:
        return check_items(w, f, v);
    }
}

static int walk_object(struct walk *w, const struct tcec_object *o, const json_t *v)
{
    if (!json_is_object(v))
        return fail(w, TCEC_R_TYPE, "is not an object (%s)", o->name);
    for (size_t i = 0; i < o->count; i++) {
        const struct tcec_field *f = &o->fields[i];
        const json_t *fv = json_object_get(v, f->name);
        size_t old = push_name(w, f->name);
        if (!fv || json_is_null(fv)) {
            if (f->required)
                return fail(w, TCEC_R_MISSING, "is missing (required in %s)", o->name);
        } else if (check_field(w, f, fv)) {
            return -1;
        }
        pop(w, old);
    }
    if (o->check) {
        const char *field = NULL;
        char msg[160] = "";
        if (o->check(v, &field, msg, sizeof msg)) {
            size_t old = field ? push_name(w, field) : w->len;
            int rc = fail(w, TCEC_R_CONSISTENCY, "%s", msg);
            pop(w, old);
            return rc;
        }
    }
    return 0;
}

static int start(const struct tcec_object *o, const json_t *v, struct tcec_error *err)
{
    struct walk w = {.len = 0, .err = err};
    w.path[0] = '\0';
    if (err)
        memset(err, 0, sizeof *err);
    if (!json_is_object(v))
        return fail(&w, TCEC_R_TYPE, "the payload is not a JSON object (%s)", o->name);
    return walk_object(&w, o, v);
}

static int unknown(struct tcec_error *err, const char *what, const char *name)
{
    if (!err)
        return -1;
    memset(err, 0, sizeof *err);
    err->ret = TCEC_RET_BUSINESS;
    err->rule = TCEC_R_UNKNOWN;
    snprintf(err->msg, sizeof err->msg, "no rules for %s %.64s", what, name ? name : "(null)");
    tcec_utf8_trim(err->msg);
    return -1;
}

int tcec_validate(const char *interface, enum tcec_kind kind, const json_t *payload,
                  struct tcec_error *err)
{
    for (size_t i = 0; interface && i < tcec_interfaces_count; i++)
        if (!strcmp(interface, tcec_interfaces[i].name))
            return start(kind == TCEC_RESPONSE ? tcec_interfaces[i].response
                                               : tcec_interfaces[i].request,
                         payload, err);
    return unknown(err, "interface", interface);
}

int tcec_validate_object(const char *object, const json_t *value, struct tcec_error *err)
{
    for (size_t i = 0; object && i < tcec_objects_count; i++)
        if (!strcmp(object, tcec_objects[i]->name))
            return start(tcec_objects[i], value, err);
    return unknown(err, "object", object);
}

size_t tcec_interface_count(void)
{
    return tcec_interfaces_count;
}

const char *tcec_interface_name(size_t i)
{
    return i < tcec_interfaces_count ? tcec_interfaces[i].name : NULL;
}

size_t tcec_object_count(void)
{
    return tcec_objects_count;
}

const char *tcec_object_name(size_t i)
{
    return i < tcec_objects_count ? tcec_objects[i]->name : NULL;
}
