/* evsim-pile's list of piles: EquipmentIDs from the command line or a passwords file, and their
 * passwords (see sim.h). */
#include "simulators/sim.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A copy of s[0..len) that the list owns (freed with it), or NULL when out of memory. */
static char *keep(struct pile_list *l, const char *s, size_t len)
{
    if (l->nstrings == l->capstrings) {
        size_t cap = l->capstrings ? l->capstrings * 2 : 256;
        char **ns = realloc(l->strings, cap * sizeof *ns);
        if (!ns)
            return NULL;
        l->strings = ns;
        l->capstrings = cap;
    }
    char *c = strndup(s, len);
    if (c)
        l->strings[l->nstrings++] = c;
    return c;
}

/* FNV-1a: the index of piles by EquipmentID */
static uint32_t id_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Puts pile i into the index (open addressing, linear probing; at most half full). */
static void index_put(struct pile_list *l, size_t i)
{
    const char *id = l->piles[i].id;
    size_t mask = l->nslots - 1, k = id_hash(id, strlen(id)) & mask;
    while (l->slots[k])
        k = (k + 1) & mask;
    l->slots[k] = (uint32_t)i + 1;
}

/* Room in the index for one more pile: 0, or -1 when out of memory. */
static int index_grow(struct pile_list *l)
{
    if (2 * (l->n + 1) <= l->nslots)
        return 0;
    size_t n = l->nslots ? l->nslots * 2 : 256;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    free(l->slots);
    l->slots = slots;
    l->nslots = n;
    for (size_t i = 0; i < l->n; i++)
        index_put(l, i);
    return 0;
}

int sim_piles_add(struct pile_list *l, const char *id, size_t len, char *err, size_t errlen)
{
    if (len == 0 || len > SIM_ID_MAX || memchr(id, ':', len) || memchr(id, '/', len)) {
        snprintf(err, errlen, "EquipmentID \"%.*s\" must be 1-%d characters without ':' or '/'",
                 (int)(len > 60 ? 60 : len), id, SIM_ID_MAX);
        return -1;
    }
    if (l->n == SIM_PILES_MAX) {
        snprintf(err, errlen, "at most %d piles", SIM_PILES_MAX);
        return -1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct pile *np = realloc(l->piles, cap * sizeof *np);
        if (!np)
            goto oom;
        l->piles = np;
        l->cap = cap;
    }
    if (index_grow(l) < 0)
        goto oom;
    struct pile *p = &l->piles[l->n];
    memset(p, 0, sizeof *p);
    p->id = keep(l, id, len);
    if (!p->id)
        goto oom;
    index_put(l, l->n++);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* The pile whose EquipmentID is id, or NULL. A hash lookup: a passwords file of 100 000 piles
 * compared each line with every pile before (5e9 strcmp). */
static struct pile *find_pile(struct pile_list *l, const char *id)
{
    if (!l->nslots)
        return NULL;
    size_t mask = l->nslots - 1, k = id_hash(id, strlen(id)) & mask;
    for (; l->slots[k]; k = (k + 1) & mask)
        if (strcmp(l->piles[l->slots[k] - 1].id, id) == 0)
            return &l->piles[l->slots[k] - 1];
    return NULL;
}

/* Gives pile `id` its password `pw`, adding the pile first when `add` and it is unknown (an
 * unknown pile is skipped otherwise). 0, or -1 (out of memory or a bad id, in `err`). */
static int set_password(struct pile_list *l, const char *id, const char *pw, bool add, char *err,
                        size_t errlen)
{
    struct pile *p = find_pile(l, id);
    if (!p && add) {
        if (sim_piles_add(l, id, strlen(id), err, errlen) < 0)
            return -1;
        p = &l->piles[l->n - 1];
    }
    if (p && !(p->password = keep(l, pw, strlen(pw))))
        return -1;
    return 0;
}

int sim_piles_read_passwords(struct pile_list *l, const char *path, bool add, char *err,
                             size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int c = fgetc(f);
    while (c == ' ' || c == '\n' || c == '\t' || c == '\r')
        c = fgetc(f);
    if (c != EOF)
        ungetc(c, f);
    int rc = 0;
    if (c == '{' || c == '[') {
        json_error_t je;
        json_t *root = json_loadf(f, 0, &je);
        json_t *items = json_is_array(root) ? root : json_object_get(root, "items");
        if (!json_is_array(items)) {
            snprintf(err, errlen, "%s: not {\"items\": [...]} (%s)", path, je.text);
            rc = -1;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *id = json_string_value(json_object_get(it, "equipment_id"));
            const char *pw = json_string_value(json_object_get(it, "password"));
            if (!id || !pw) {
                snprintf(err, errlen, "%s: item %zu lacks equipment_id or password", path, i);
                rc = -1;
                break;
            }
            if (set_password(l, id, pw, add, err, errlen) < 0) {
                rc = -1;
                break;
            }
        }
        json_decref(root);
    } else {
        char line[512];
        int lineno = 0;
        while (rc == 0 && fgets(line, sizeof line, f)) {
            lineno++;
            char *save = NULL, *id = strtok_r(line, " \t\r\n", &save);
            char *pw = id ? strtok_r(NULL, " \t\r\n", &save) : NULL;
            if (!id || id[0] == '#')
                continue;
            if (!pw || strlen(pw) > SIM_PASSWORD_MAX) {
                snprintf(err, errlen, "%s:%d: expected `equipment_id password`", path, lineno);
                rc = -1;
                break;
            }
            if (set_password(l, id, pw, add, err, errlen) < 0)
                rc = -1;
        }
    }
    fclose(f);
    return rc;
}

void sim_piles_free(struct pile_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sim_cf_free(&l->piles[i]);
    for (size_t i = 0; i < l->nstrings; i++)
        free(l->strings[i]);
    free(l->strings);
    free(l->piles);
    free(l->slots);
}
