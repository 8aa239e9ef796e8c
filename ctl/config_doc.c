/* The configuration document and the sample config file (ctl/config_doc.h). */
#include "ctl/config_doc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void config_doc_problem(json_t *problems, const char *fmt, ...)
{
    size_t n = json_array_size(problems);
    if (n > CONFIG_DOC_MAX_PROBLEMS)
        return;
    char line[600];
    if (n == CONFIG_DOC_MAX_PROBLEMS) {
        snprintf(line, sizeof line, "... (more problems not shown)");
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
    }
    json_array_append_new(problems, json_string(line));
}

json_t *config_doc_build(const struct evg_config *cfg, json_t *piles, int schema_version)
{
    json_t *settings = json_object();
    char buf[4096];
    for (size_t i = 1; settings && i < cfg_count(); i++) {
        if (cfg_key_is_secret(i) || strcmp(cfg_key(i), "db") == 0 ||
            cfg_value_text(cfg, i, buf, sizeof buf) < 0)
            continue;
        json_t *v = cfg_key_is_int(i) ? json_integer(strtoll(buf, NULL, 10)) : json_string(buf);
        if (!v || json_object_set_new(settings, cfg_key(i), v) < 0) {
            json_decref(settings);
            settings = NULL;
        }
    }
    if (!settings || !piles) {
        json_decref(settings);
        json_decref(piles);
        return NULL;
    }
    return json_pack("{s:s, s:i, s:i, s:o, s:o}", "format", CONFIG_DOC_FORMAT, "version",
                     CONFIG_DOC_VERSION, "schema_version", schema_version, "settings", settings,
                     "piles", piles);
}

/* An EquipmentID as SPEC §5 has it: 1..23 letters and digits. */
static int equipment_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 23)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) || (unsigned char)s[i] > 0x7f)
            return 0;
    return 1;
}

static void validate_settings(json_t *settings, json_t *problems)
{
    const char *key;
    json_t *v;
    char text[64], err[512];
    json_object_foreach(settings, key, v)
    {
        long i = cfg_find(key);
        if (i <= 0) {
            config_doc_problem(problems, "settings.%s: unknown setting", key);
            continue;
        }
        if (strcmp(key, "db") == 0) {
            config_doc_problem(problems, "settings.db: the database's path is not part of the "
                                         "configuration (it is the --db imported into)");
            continue;
        }
        if (cfg_key_is_secret((size_t)i)) {
            config_doc_problem(
                problems, "settings.%s: a secret is not part of an export; set it by hand", key);
            continue;
        }
        const char *value;
        if (cfg_key_is_int((size_t)i)) {
            if (!json_is_integer(v)) {
                config_doc_problem(problems, "settings.%s: must be an integer", key);
                continue;
            }
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            value = text;
        } else {
            if (!json_is_string(v)) {
                config_doc_problem(problems, "settings.%s: must be a string", key);
                continue;
            }
            value = json_string_value(v);
            if (strlen(value) != json_string_length(v)) {
                config_doc_problem(problems, "settings.%s: holds a NUL character", key);
                continue;
            }
        }
        if (cfg_check_value(key, value, err, sizeof err) < 0)
            config_doc_problem(problems, "settings.%s: %s", key, err);
    }
}

static void validate_piles(json_t *piles, json_t *problems)
{
    if (json_array_size(piles) > CONFIG_DOC_MAX_PILES) {
        config_doc_problem(problems, "piles: more than %d entries", CONFIG_DOC_MAX_PILES);
        return;
    }
    json_t *seen = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(piles, i, p)
    {
        if (!json_is_object(p)) {
            config_doc_problem(problems, "piles[%zu]: must be an object", i);
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach(p, key, v)
        {
            if (strcmp(key, "equipment_id") != 0 && strcmp(key, "boot_status") != 0 &&
                strcmp(key, "security_profile") != 0)
                config_doc_problem(problems, "piles[%zu].%s: unknown field", i, key);
        }
        const char *id = json_string_value(json_object_get(p, "equipment_id"));
        if (!id || !equipment_id_ok(id)) {
            config_doc_problem(problems, "piles[%zu].equipment_id: must be 1-23 letters and digits",
                               i);
        } else if (json_object_get(seen, id)) {
            config_doc_problem(problems, "piles[%zu].equipment_id: \"%s\" listed twice", i, id);
        } else {
            json_object_set_new(seen, id, json_true());
        }
        const char *boot = json_string_value(json_object_get(p, "boot_status"));
        if (!boot || (strcmp(boot, "Accepted") != 0 && strcmp(boot, "Pending") != 0 &&
                      strcmp(boot, "Rejected") != 0))
            config_doc_problem(problems,
                               "piles[%zu].boot_status: must be Accepted, Pending or Rejected", i);
        json_t *sp = json_object_get(p, "security_profile");
        if (!json_is_integer(sp) || json_integer_value(sp) < 1 || json_integer_value(sp) > 3)
            config_doc_problem(problems, "piles[%zu].security_profile: must be 1, 2 or 3", i);
    }
    json_decref(seen);
}

int config_doc_validate(json_t *doc, json_t *problems)
{
    size_t before = json_array_size(problems);
    if (!json_is_object(doc)) {
        config_doc_problem(problems, "(top): must be a JSON object");
        return -1;
    }
    const char *format = json_string_value(json_object_get(doc, "format"));
    if (!format || strcmp(format, CONFIG_DOC_FORMAT) != 0)
        config_doc_problem(problems, "format: must be \"%s\"", CONFIG_DOC_FORMAT);
    json_t *version = json_object_get(doc, "version");
    if (!json_is_integer(version) || json_integer_value(version) != CONFIG_DOC_VERSION)
        config_doc_problem(problems, "version: must be %d (this evgatectl's format)",
                           CONFIG_DOC_VERSION);
    json_t *schema = json_object_get(doc, "schema_version");
    if (schema && !json_is_integer(schema))
        config_doc_problem(problems, "schema_version: must be an integer");
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "format") != 0 && strcmp(key, "version") != 0 &&
            strcmp(key, "schema_version") != 0 && strcmp(key, "settings") != 0 &&
            strcmp(key, "piles") != 0)
            config_doc_problem(problems, "%s: unknown field", key);
    }
    json_t *settings = json_object_get(doc, "settings");
    if (settings && !json_is_object(settings))
        config_doc_problem(problems, "settings: must be an object");
    else if (settings)
        validate_settings(settings, problems);
    json_t *piles = json_object_get(doc, "piles");
    if (piles && !json_is_array(piles))
        config_doc_problem(problems, "piles: must be an array");
    else if (piles)
        validate_piles(piles, problems);
    return json_array_size(problems) > before ? -1 : 0;
}

/* A value as a config file line holds it: always in quotes for text, which load_file strips
 * once, so leading spaces and quotes inside survive. */
static void put_line(FILE *out, const char *key, json_t *v, int commented)
{
    if (json_is_integer(v))
        fprintf(out, "%s%s = %lld\n", commented ? "# " : "", key, (long long)json_integer_value(v));
    else
        fprintf(out, "%s%s = \"%s\"\n", commented ? "# " : "", key, json_string_value(v));
}

int config_doc_write_settings(json_t *doc, const char *db_path, FILE *out)
{
    json_t *settings = json_object_get(doc, "settings");
    fprintf(out, "# evgate configuration, written by `evgatectl config import`.\n"
                 "# `key = value` lines; every key is described in the sample evgate.conf and\n"
                 "# by `evgate-mgmt --help` / `evgate-gateway --help`.\n\n");
    json_t *db = json_string(db_path);
    put_line(out, "db", db, 0);
    json_decref(db);
    for (size_t i = 1; i < cfg_count(); i++) {
        json_t *v = json_object_get(settings, cfg_key(i));
        if (v)
            put_line(out, cfg_key(i), v, 0);
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

static void wrap_comment(FILE *out, const char *text)
{
    /* `# ` then the text cut at spaces into lines of at most 98 columns */
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n > 96) {
            n = 96;
            while (n > 20 && p[n] != ' ')
                n--;
        }
        fprintf(out, "# %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

int config_sample(FILE *out, json_t *set, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        char why[256] = "value must be text";
        if (!json_is_string(v) || cfg_check_value(key, json_string_value(v), why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", key, why);
            return -1;
        }
    }
    fprintf(out,
            "# evgate configuration: one file for evgate-gateway, evgate-mgmt and evgatectl.\n"
            "#\n"
            "# `key = value` lines; `#` starts a comment line; a value may be in double quotes.\n"
            "# Each program takes the settings it uses and ignores the others' (an unknown key\n"
            "# is an error). Later wins: built-in default < this file < the EVGATE_<KEY>\n"
            "# environment variable < the --<key> flag. Lines commented out show the default.\n"
            "# Generated from the settings table (common/config.c) by `evgatectl config "
            "sample`.\n");
    for (size_t i = 1; i < cfg_count(); i++) {
        unsigned scope = cfg_key_scope(i);
        char env[80], flag[80];
        snprintf(env, sizeof env, "EVGATE_");
        size_t n = strlen(env);
        for (const char *p = cfg_key(i); *p && n + 1 < sizeof env; p++)
            env[n++] = (char)toupper((unsigned char)*p);
        env[n] = 0;
        n = 0;
        for (const char *p = cfg_key(i); *p && n + 1 < sizeof flag; p++)
            flag[n++] = *p == '_' ? '-' : *p;
        flag[n] = 0;
        fprintf(out, "\n");
        wrap_comment(out, cfg_key_help(i));
        char users[64] = "";
        if (scope & CFG_GATEWAY)
            strcat(users, "evgate-gateway");
        if (scope & CFG_MGMT)
            strcat(users, *users ? ", evgate-mgmt" : "evgate-mgmt");
        if (scope & CFG_TOOL)
            strcat(users, *users ? ", evgatectl" : "evgatectl");
        fprintf(out, "# used by %s; environment %s, flag --%s\n", users, env, flag);
        if (cfg_key_is_secret(i))
            fprintf(out, "# a secret: prefer the environment (systemd LoadCredential or an\n"
                         "# EnvironmentFile readable by root only) to this file\n");
        json_t *val = json_object_get(set, cfg_key(i));
        if (val) {
            json_t *typed = cfg_key_is_int(i)
                                ? json_integer(strtoll(json_string_value(val), NULL, 10))
                                : json_incref(val);
            put_line(out, cfg_key(i), typed, 0);
            json_decref(typed);
        } else {
            json_t *def = cfg_key_is_int(i) ? json_integer(strtoll(cfg_key_default(i), NULL, 10))
                                            : json_string(cfg_key_default(i));
            put_line(out, cfg_key(i), def, 1);
            json_decref(def);
        }
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
