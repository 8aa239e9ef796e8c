/* Prometheus text exposition helpers; see promtext.h. */
#include "common/promtext.h"

void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_single(FILE *f, const char *name, const char *type, const char *help,
                 unsigned long long value)
{
    prom_head(f, name, type, help);
    fprintf(f, "%s %llu\n", name, value);
}

const char *prom_label(char *buf, const char *s)
{
    size_t n = 0;
    for (; s && *s && n < PROM_LABEL_MAX - 8; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            buf[n++] = '\\';
            buf[n++] = *s == '\n' ? 'n' : *s;
        } else {
            buf[n++] = *s;
        }
    }
    buf[n] = '\0';
    return buf;
}
