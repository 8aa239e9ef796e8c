/* JSON records through the shared column rules. */
#include "mgmt/record_form.h"
#include "mgmt/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void record_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void record_detail(json_t *details, const char *field, const struct rec_problem *p)
{
    json_array_append_new(details, json_pack("{s:s, s:s, s:s, s:s?}", "field", field, "code",
                                             p->code, "message", p->reason, "suggestion",
                                             p->suggestion[0] ? p->suggestion : NULL));
}

/* How a JSON value reaches the rules: its cell kind and text. */
static enum rec_cell cell_of(const json_t *v, char *buf, size_t len, const char **text)
{
    *text = "";
    if (!v || json_is_null(v))
        return REC_CELL_EMPTY;
    if (json_is_string(v)) {
        *text = json_string_value(v);
        return json_string_length(v) ? REC_CELL_STRING : REC_CELL_EMPTY;
    }
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        *text = buf;
        return REC_CELL_NUMBER;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%.15g", json_real_value(v));
        *text = buf;
        return REC_CELL_NUMBER;
    }
    /* booleans, arrays and objects are never a field's value */
    *text = json_is_true(v) ? "true" : json_is_false(v) ? "false" : "[object]";
    return REC_CELL_STRING;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

json_t *record_typed(const struct rec_column *col, const char *canon)
{
    switch (col->kind) {
    case REC_INT:
        return json_integer(strtoll(canon, NULL, 10));
    case REC_DECIMAL:
        return json_real(strtod(canon, NULL));
    case REC_ENUM:
        return all_digits(canon) ? json_integer(strtoll(canon, NULL, 10)) : json_string(canon);
    default:
        return json_string(canon);
    }
}

json_t *record_from_json(enum rec_sheet sheet, const json_t *in, const char *prefix,
                         const char *skip_field, json_t *details, json_t **texts)
{
    size_t n = 0;
    const struct rec_column *cols = rec_columns(sheet, &n);
    char today[11], path[128], buf[64], canon[REC_OUT_MAX];
    record_today(today);
    json_t *out = json_object();
    if (texts)
        *texts = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct rec_column *col = &cols[i];
        int skip = skip_field && strcmp(col->field, skip_field) == 0;
        json_t *v = skip ? NULL : json_object_get(in, col->field);
        const char *text;
        enum rec_cell cell = cell_of(v, buf, sizeof buf, &text);
        struct rec_problem p;
        snprintf(path, sizeof path, "%s%s", prefix ? prefix : "", col->field);
        json_t *t = json_null();
        if (!skip && (cell != REC_CELL_EMPTY || col->required)) {
            memset(&p, 0, sizeof p);
            if (rec_check_value(col, cell, text, today, canon, sizeof canon, &p) == 0) {
                if (cell != REC_CELL_EMPTY) {
                    json_object_set_new(out, col->field, record_typed(col, canon));
                    t = json_string(canon);
                }
            } else {
                record_detail(details, path, &p);
            }
        }
        if (texts)
            json_array_append_new(*texts, t);
        else
            json_decref(t);
    }
    return out;
}
