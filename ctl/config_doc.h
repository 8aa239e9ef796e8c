/* The configuration document of `evgatectl config export/import`, and the sample config file.
 *
 * "The configuration" of an evgate platform is what an administrator sets, as opposed to what
 * operators and piles create: every setting of the settings table (common/config.c) but the
 * secret admin_password and `db` (where the database is, not how the platform is set: an
 * import goes into the --db it is given), and the per-pile OCPP settings admins set (boot_status,
 * security_profile; docs/api-commands.md). Registrations, records, T/CEC credentials and
 * history are data, carried by backups. The document:
 *   {"format": "evgate-config", "version": 1, "schema_version": N,
 *    "settings": {"<key>": "<text>" or <integer>, ...},
 *    "piles": [{"equipment_id": "...", "boot_status": "Accepted", "security_profile": 1}, ...]}
 * Pure: no database, no files but the FILE* given. */
#ifndef EVGATE_CTL_CONFIG_DOC_H
#define EVGATE_CTL_CONFIG_DOC_H

#include "common/config.h"

#include <jansson.h>
#include <stdio.h>

#define CONFIG_DOC_FORMAT  "evgate-config"
#define CONFIG_DOC_VERSION 1
/* Bounds on what an import reads. */
#define CONFIG_DOC_MAX_BYTES (256L * 1024 * 1024)
#define CONFIG_DOC_MAX_PILES 2000000
/* The most problems an import lists; one more line says there are more. */
#define CONFIG_DOC_MAX_PROBLEMS 100

/* A new document of `cfg`'s settings (all but `config` and secrets, in table order) and
 * `piles` (stolen; an array as db_pile_settings_all gives), at `schema_version`. Caller owns;
 * NULL when out of memory. */
json_t *config_doc_build(const struct evg_config *cfg, json_t *piles, int schema_version);

/* Appends "<path>: <reason>" to `problems` (up to CONFIG_DOC_MAX_PROBLEMS, then "...") for
 * whatever is wrong in `doc`: its format and version, each setting (a known, non-secret key,
 * the right type, within its bounds) and each pile (fields, values, duplicates). Whether the
 * piles exist is the caller's check. Returns 0 when there is no problem, else -1. */
int config_doc_validate(json_t *doc, json_t *problems);

/* Appends one problem line as config_doc_validate does (for the caller's own checks). */
void config_doc_problem(json_t *problems, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the settings of a valid document as a config file of `key = "value"` lines in table
 * order, after a comment saying where it came from, with `db = db_path` first (the database
 * the import went into). 0, or -1 on a write error. */
int config_doc_write_settings(json_t *doc, const char *db_path, FILE *out);

/* Writes the commented sample config file: every setting of the table as a comment with its
 * help, programs, environment variable, flag and default, commented out at its default; the
 * settings named in `set` (an object of key -> text, may be NULL) as active lines with that
 * value. 0, or -1 when `set` names an unknown key or a bad value (message in err). */
int config_sample(FILE *out, json_t *set, char *err, size_t errlen);

#endif
