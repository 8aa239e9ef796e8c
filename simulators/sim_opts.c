/* The simulators' option tables; see sim_opts.h. */
#include "simulators/sim_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { LEFT = 28, HELP_COLS = 100 };

void sim_opts_usage(FILE *out, const struct sim_opt *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct sim_opt *d = &table[i];
        char left[64], text[1024];
        snprintf(left, sizeof left, "--%s%s%s", d->name, d->value ? " " : "",
                 d->value ? d->value : "");
        snprintf(text, sizeof text, "%s%s%s%s", d->help, d->def ? " (default " : "",
                 d->def ? d->def : "", d->def ? ")" : "");
        if (strlen(left) + 4 > LEFT)
            fprintf(out, "  %s\n%*s", left, LEFT, "");
        else
            fprintf(out, "  %-*s", LEFT - 2, left);
        /* the help text wrapped at HELP_COLS, indented under its option */
        int col = LEFT;
        for (const char *w = text; *w;) {
            size_t len = strcspn(w, " ");
            if (col > LEFT && col + 1 + (int)len > HELP_COLS) {
                fprintf(out, "\n%*s", LEFT, "");
                col = LEFT;
            }
            if (col > LEFT) {
                fputc(' ', out);
                col++;
            }
            fprintf(out, "%.*s", (int)len, w);
            col += (int)len;
            w += len;
            while (*w == ' ')
                w++;
        }
        fputc('\n', out);
    }
}

void sim_opts_long(const struct sim_opt *table, size_t n, struct option *lo)
{
    for (size_t i = 0; i < n; i++)
        lo[i] = (struct option){table[i].name, table[i].has_arg, NULL, table[i].id};
    memset(&lo[n], 0, sizeof lo[n]);
}

const char *sim_opts_name(const struct sim_opt *table, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].id == id)
            return table[i].name;
    return "";
}

int sim_opts_int(const char *name, const char *s, long lo, long hi, long *out, char *err,
                 size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        snprintf(err, errlen, "--%s must be an integer in %ld..%ld, got \"%s\"", name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int sim_opts_seconds(const char *name, const char *s, double max, double *out, char *err,
                     size_t errlen)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > max) {
        snprintf(err, errlen, "--%s must be seconds >= 0, got \"%s\"", name, s);
        return -1;
    }
    *out = v;
    return 0;
}
