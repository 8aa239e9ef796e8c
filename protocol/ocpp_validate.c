/* OCPP payload validation: walks a payload along the rule tree of its action (the generated
 * ocpp_schemas_*.c) and reports the first failure with its JSON path. */
#include "protocol/ocpp_schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 48 /* deeper than any schema; the walk follows the schema, not the payload */

struct seg {
    const char *name; /* NULL: an array index */
    size_t len, index;
};

struct walk {
    enum ocpp_version version;
    struct ocpp_error *err;
    struct seg segs[MAX_DEPTH];
    int depth;
};

static const struct ocpp_message *find(enum ocpp_version version, const char *action)
{
    const struct ocpp_message *m = version == OCPP_V201 ? ocpp_messages_201 : ocpp_messages_16;
    size_t lo = 0, hi = version == OCPP_V201 ? ocpp_messages_201_count : ocpp_messages_16_count;
    while (action && lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(action, m[mid].action);
        if (c == 0)
            return &m[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int ocpp_action_known(enum ocpp_version version, const char *action)
{
    return find(version, action) != NULL;
}

size_t ocpp_action_count(enum ocpp_version version)
{
    return version == OCPP_V201 ? ocpp_messages_201_count : ocpp_messages_16_count;
}

const char *ocpp_action_name(enum ocpp_version version, size_t i)
{
    if (i >= ocpp_action_count(version))
        return NULL;
    return (version == OCPP_V201 ? ocpp_messages_201 : ocpp_messages_16)[i].action;
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static int is_ident(const char *s, size_t len)
{
    if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Appends n bytes to out (cap OCPP_PATH_MAX with room kept for "..."); 0 when they did not fit
 * (then a cut on a UTF-8 boundary and "..." end the path). */
static int put(char *out, size_t *pos, const char *s, size_t n)
{
    const size_t room = OCPP_PATH_MAX - 4;
    if (*pos + n <= room) {
        memcpy(out + *pos, s, n);
        *pos += n;
        return 1;
    }
    size_t fit = room - *pos;
    while (fit > 0 && ((unsigned char)s[fit] & 0xC0) == 0x80)
        fit--;
    memcpy(out + *pos, s, fit);
    memcpy(out + *pos + fit, "...", 3);
    *pos += fit + 3;
    return 0;
}

/* "$", then ".name", "['odd name']" (' and \ escaped) or "[index]" per segment. */
static void render_path(const struct walk *w, char *out)
{
    size_t pos = 0;
    char num[32];
    put(out, &pos, "$", 1);
    for (int i = 0; i < w->depth; i++) {
        const struct seg *s = &w->segs[i];
        int ok = 1;
        if (!s->name) {
            int n = snprintf(num, sizeof num, "[%zu]", s->index);
            ok = put(out, &pos, num, (size_t)n);
        } else if (is_ident(s->name, s->len)) {
            ok = put(out, &pos, ".", 1) && put(out, &pos, s->name, s->len);
        } else {
            ok = put(out, &pos, "['", 2);
            for (size_t j = 0; ok && j < s->len; j++) {
                if (s->name[j] == '\'' || s->name[j] == '\\')
                    ok = put(out, &pos, "\\", 1);
                if (ok)
                    ok = put(out, &pos, s->name + j, 1);
            }
            if (ok)
                ok = put(out, &pos, "']", 2);
        }
        if (!ok)
            break;
    }
    out[pos] = 0;
}

/* Records a failure at the current path, plus one more segment when extra is not NULL. */
static int failed(struct walk *w, const char *extra, enum ocpp_fail fail, const char *reason)
{
    if (!w->err)
        return -1;
    if (extra && w->depth < MAX_DEPTH)
        w->segs[w->depth++] = (struct seg){extra, strlen(extra), 0};
    render_path(w, w->err->path);
    ocpp_fail_set(w->version, w->err, fail, "%s", reason);
    return -1;
}

static int is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return 1;
    return json_is_real(v) && floor(json_real_value(v)) == json_real_value(v);
}

static const char *type_name[] = {"any",     "string", "integer", "number",
                                  "boolean", "object", "array"};

static int check(struct walk *w, const struct ocpp_rule *r, const json_t *v);

static int check_object(struct walk *w, const struct ocpp_rule *r, const json_t *v)
{
    for (unsigned i = 0; i < r->nprops; i++)
        if (r->props[i].required && !json_object_get(v, r->props[i].name))
            return failed(w, r->props[i].name, OCPP_F_REQUIRED, "required property missing");
    const char *key;
    json_t *child;
    json_object_foreach((json_t *)v, key, child)
    {
        const struct ocpp_prop *p = NULL;
        for (unsigned i = 0; i < r->nprops && !p; i++)
            if (!strcmp(r->props[i].name, key))
                p = &r->props[i];
        if (!p && !r->closed)
            continue;
        if (w->depth >= MAX_DEPTH)
            return failed(w, NULL, OCPP_F_TYPE, "nested too deep");
        w->segs[w->depth++] = (struct seg){key, strlen(key), 0};
        int rc = p ? check(w, p->rule, child)
                   : failed(w, NULL, OCPP_F_ADDITIONAL, "property not defined by the schema");
        if (rc < 0)
            return rc;
        w->depth--;
    }
    return 0;
}

static int check_array(struct walk *w, const struct ocpp_rule *r, const json_t *v)
{
    char reason[64];
    size_t n = json_array_size(v);
    if (r->min_items && n < (size_t)r->min_items) {
        snprintf(reason, sizeof reason, "fewer than %d items", r->min_items);
        return failed(w, NULL, OCPP_F_MIN_ITEMS, reason);
    }
    if (r->max_items && n > (size_t)r->max_items) {
        snprintf(reason, sizeof reason, "more than %d items", r->max_items);
        return failed(w, NULL, OCPP_F_MAX_ITEMS, reason);
    }
    for (size_t i = 0; r->items && i < n; i++) {
        if (w->depth >= MAX_DEPTH)
            return failed(w, NULL, OCPP_F_TYPE, "nested too deep");
        w->segs[w->depth++] = (struct seg){NULL, 0, i};
        if (check(w, r->items, json_array_get(v, i)) < 0)
            return -1;
        w->depth--;
    }
    return 0;
}

static int check_string(struct walk *w, const struct ocpp_rule *r, const json_t *v)
{
    char reason[64];
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (r->max_length && utf8_chars(s, len) > (size_t)r->max_length) {
        snprintf(reason, sizeof reason, "longer than %d characters", r->max_length);
        return failed(w, NULL, OCPP_F_MAX_LENGTH, reason);
    }
    if (r->nenum) {
        unsigned i = 0;
        while (i < r->nenum && !(strlen(r->enums[i]) == len && !memcmp(r->enums[i], s, len)))
            i++;
        if (i == r->nenum)
            return failed(w, NULL, OCPP_F_ENUM, "not one of the allowed values");
    }
    if (r->format == OCPP_FMT_DATE_TIME && !ocpp_is_date_time(s, len))
        return failed(w, NULL, OCPP_F_FORMAT, "not an RFC 3339 date-time with an offset");
    if (r->format == OCPP_FMT_URI && !ocpp_is_uri(s, len))
        return failed(w, NULL, OCPP_F_FORMAT, "not an RFC 3986 URI");
    return 0;
}

static int check_number(struct walk *w, const struct ocpp_rule *r, const json_t *v)
{
    char reason[64];
    double d = json_number_value(v);
    if (r->has_min && d < r->minimum) {
        snprintf(reason, sizeof reason, "less than %g", r->minimum);
        return failed(w, NULL, OCPP_F_MINIMUM, reason);
    }
    if (r->has_max && d > r->maximum) {
        snprintf(reason, sizeof reason, "greater than %g", r->maximum);
        return failed(w, NULL, OCPP_F_MAXIMUM, reason);
    }
    if (r->multiple_of > 0) {
        /* as ocpp-rpc's multipleOf: |round(d / m) - d / m| < 1e-6, JavaScript's Math.round
         * (halves up), so that 0.3 is a multiple of 0.1 despite binary floating point */
        double q = d / r->multiple_of, f = floor(q), rounded = q - f >= 0.5 ? f + 1 : f;
        if (!(fabs(rounded - q) < 1e-6)) {
            snprintf(reason, sizeof reason, "not a multiple of %g", r->multiple_of);
            return failed(w, NULL, OCPP_F_MULTIPLE_OF, reason);
        }
    }
    return 0;
}

static int check(struct walk *w, const struct ocpp_rule *r, const json_t *v)
{
    int ok;
    switch (r->type) {
    case OCPP_JT_ANY:
        return 0;
    case OCPP_JT_STRING:
        ok = json_is_string(v);
        break;
    case OCPP_JT_INTEGER:
        ok = is_integral(v);
        break;
    case OCPP_JT_NUMBER:
        ok = json_is_number(v);
        break;
    case OCPP_JT_BOOLEAN:
        ok = json_is_boolean(v);
        break;
    case OCPP_JT_OBJECT:
        ok = json_is_object(v);
        break;
    case OCPP_JT_ARRAY:
        ok = json_is_array(v);
        break;
    default:
        ok = 0;
    }
    if (!ok) {
        char reason[64];
        snprintf(reason, sizeof reason, "expected %s", type_name[r->type]);
        return failed(w, NULL, OCPP_F_TYPE, reason);
    }
    switch (r->type) {
    case OCPP_JT_STRING:
        return check_string(w, r, v);
    case OCPP_JT_INTEGER:
    case OCPP_JT_NUMBER:
        return check_number(w, r, v);
    case OCPP_JT_OBJECT:
        return check_object(w, r, v);
    case OCPP_JT_ARRAY:
        return check_array(w, r, v);
    default:
        return 0;
    }
}

int ocpp_validate(enum ocpp_version version, const char *action, enum ocpp_kind kind,
                  const json_t *payload, struct ocpp_error *err)
{
    struct walk w = {.version = version, .err = err};
    if (err)
        err->path[0] = 0;
    const struct ocpp_message *m = find(version, action);
    if (!m) {
        ocpp_fail_set(version, err, OCPP_F_UNKNOWN_ACTION, "unknown action");
        return -1;
    }
    return check(&w, kind == OCPP_RESPONSE ? m->response : m->request, payload);
}
