/* Pieces of the Prometheus text exposition format that both /metrics renderers write
 * (gateway/metrics.c, mgmt/metrics.c). */
#ifndef EVGATE_PROMTEXT_H
#define EVGATE_PROMTEXT_H

#include <stdio.h>

/* A family of one unlabelled sample: its HELP and TYPE lines, then `name value`. */
void prom_single(FILE *f, const char *name, const char *type, const char *help,
                 unsigned long long value);

/* The size of the buffer prom_label() writes to. */
#define PROM_LABEL_MAX 128

/* Writes a family's `# HELP` and `# TYPE` lines. */
void prom_head(FILE *f, const char *name, const char *type, const char *help);

/* `s` (NULL = "") as a label value: `\`, `"` and newline escaped, cut to fit `buf`
 * (PROM_LABEL_MAX bytes). Returns buf. Label values are static strings of closed sets, so this
 * is a guard, not a need. */
const char *prom_label(char *buf, const char *s);

#endif
