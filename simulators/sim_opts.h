/* Command-line options of the simulators (evsim-pile, evsim-platform): one table per program
 * gives getopt_long its options, --help its text and error messages the option's name. */
#ifndef EVSIM_SIM_OPTS_H
#define EVSIM_SIM_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct sim_opt {
    const char *name; /* without the leading "--" */
    int id;           /* getopt_long's return value */
    int has_arg;
    const char *value; /* the argument's placeholder in --help ("URL"), NULL without one */
    const char *def;   /* the default shown in --help, or NULL */
    const char *help;
};

/* Writes the option lines of --help: "--name VALUE" and the help text with its default,
 * wrapped at 100 columns under a 28-column left side. */
void sim_opts_usage(FILE *out, const struct sim_opt *table, size_t n);

/* Fills lo[0..n] (n + 1 entries, the last all zero) for getopt_long. */
void sim_opts_long(const struct sim_opt *table, size_t n, struct option *lo);

/* The name of the option whose id is `id`, or "". */
const char *sim_opts_name(const struct sim_opt *table, size_t n, int id);

/* `s` as a decimal integer in lo..hi into *out; -1 with "--name must be …" in err otherwise. */
int sim_opts_int(const char *name, const char *s, long lo, long hi, long *out, char *err,
                 size_t errlen);

/* `s` as a number of seconds in 0..max into *out; -1 with "--name must be seconds >= 0" in err
 * otherwise. */
int sim_opts_seconds(const char *name, const char *s, double max, double *out, char *err,
                     size_t errlen);

#endif
