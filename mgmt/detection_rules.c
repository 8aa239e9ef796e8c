/* Detection application rules. A draft keeps what it is given within types and sizes; the
 * submission check is where required fields and formats are enforced, all at once. */
#include "mgmt/detection_rules.h"
#include "mgmt/http.h"
#include "mgmt/validate.h"
#include "protocol/ipnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOURCE_IPS 32
#define MAX_COUNT      1000000

/* One text field of a sub-object: its key and maximum length in characters. */
struct text_rule {
    const char *key;
    long max;
};

static const struct text_rule unit_rules[] = {
    {"name", 100}, {"credit_code", 64}, {"address", 200}, {NULL, 0}};
static const struct text_rule contact_rules[] = {
    {"name", 50}, {"mobile", 64}, {"email", 100}, {NULL, 0}};
static const struct text_rule platform_rules[] = {
    {"name", 100}, {"base_url", 200}, {"protocol_version", 32}, {NULL, 0}};
static const struct text_rule summary_rules[] = {{"brands", 200}, {"models", 200}, {NULL, 0}};
static const char *const protocols[] = {"ocpp1.6", "ocpp2.0.1", "platform"};

static void path_of(char *buf, size_t len, const char *obj, const char *key)
{
    snprintf(buf, len, "%s.%s", obj, key);
}

/* Copies the known text fields of `src` (an object) into a new object, checking types and
 * sizes (empty strings allowed in a draft). */
static json_t *clean_texts(const char *obj, const json_t *src, const struct text_rule *rules,
                           json_t *out, json_t *details)
{
    char path[96];
    for (const struct text_rule *r = rules; r->key; r++) {
        json_t *v = json_object_get(src, r->key);
        path_of(path, sizeof path, obj, r->key);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v)) {
            mgmt_detail(details, path, "bad_type", "must be a string");
            continue;
        }
        if (val_text(details, path, json_string_value(v), json_string_length(v), 0, r->max) == 0)
            json_object_set(out, r->key, v);
    }
    return out;
}

static void clean_count(const json_t *src, const char *key, json_t *out, json_t *details)
{
    json_t *v = json_object_get(src, key);
    char path[64];
    path_of(path, sizeof path, "pile_summary", key);
    if (!v || json_is_null(v))
        return;
    if (!json_is_integer(v))
        mgmt_detail(details, path, "bad_type", "must be an integer from 0 to 1000000");
    else if (json_integer_value(v) < 0)
        mgmt_detail(details, path, "too_small", "must not be negative");
    else if (json_integer_value(v) > MAX_COUNT)
        mgmt_detail(details, path, "too_long", "must be at most 1000000");
    else
        json_object_set(out, key, v);
}

/* A list of short strings (source IPs, protocols) of at most `max` entries. */
static void clean_list(const char *path, const json_t *src, size_t max, size_t item_max,
                       json_t *out, const char *key, json_t *details)
{
    json_t *v = json_object_get(src, key);
    if (!v || json_is_null(v))
        return;
    char msg[96];
    snprintf(msg, sizeof msg, "must be a list of at most %zu strings", max);
    if (!json_is_array(v)) {
        mgmt_detail(details, path, "bad_type", msg);
        return;
    }
    if (json_array_size(v) > max) {
        mgmt_detail(details, path, "too_long", msg);
        return;
    }
    size_t i;
    json_t *e;
    int ok = 1;
    json_array_foreach(v, i, e)
    {
        char ipath[96];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        if (!json_is_string(e)) {
            mgmt_detail(details, ipath, "bad_type", "must be a string");
            ok = 0;
        } else if (val_text(details, ipath, json_string_value(e), json_string_length(e), 0,
                            (long)item_max) < 0) {
            ok = 0;
        }
    }
    if (ok)
        json_object_set(out, key, v);
}

/* Cleans one sub-object of the body; returns the new value (null or object). */
static json_t *clean_object(const char *name, const json_t *v, json_t *details)
{
    if (json_is_null(v))
        return json_null();
    if (!json_is_object(v)) {
        mgmt_detail(details, name, "bad_type", "must be an object or null");
        return json_null();
    }
    json_t *out = json_object();
    if (strcmp(name, "commissioning_unit") == 0)
        clean_texts(name, v, unit_rules, out, details);
    else if (strcmp(name, "contact") == 0)
        clean_texts(name, v, contact_rules, out, details);
    else if (strcmp(name, "platform") == 0) {
        clean_texts(name, v, platform_rules, out, details);
        clean_list("platform.source_ips", v, MAX_SOURCE_IPS, 64, out, "source_ips", details);
    } else {
        clean_texts(name, v, summary_rules, out, details);
        clean_count(v, "ac_count", out, details);
        clean_count(v, "dc_count", out, details);
        clean_list("pile_summary.protocols", v, 3, 16, out, "protocols", details);
    }
    return out;
}

json_t *detection_merge_draft(const json_t *base, const json_t *body, int64_t *delegate_id,
                              json_t *details)
{
    static const char *const objects[] = {"commissioning_unit", "contact", "platform",
                                          "pile_summary"};
    json_t *data = base ? json_deep_copy(base) : json_object();
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        json_t *v = json_object_get(body, objects[i]);
        if (v)
            json_object_set_new(data, objects[i], clean_object(objects[i], v, details));
    }
    json_t *scope = json_object_get(body, "delegation_scope");
    if (scope && !json_is_null(scope)) {
        if (!json_is_string(scope))
            mgmt_detail(details, "delegation_scope", "bad_type", "must be a string or null");
        else if (val_text(details, "delegation_scope", json_string_value(scope),
                          json_string_length(scope), 0, 200) == 0)
            json_object_set(data, "delegation_scope", scope);
    } else if (scope) {
        json_object_del(data, "delegation_scope");
    }
    json_t *del = json_object_get(body, "delegate_detection_id");
    if (del) {
        if (json_is_null(del))
            *delegate_id = 0;
        else if (!json_is_integer(del) || json_integer_value(del) < 1)
            mgmt_detail(details, "delegate_detection_id", "bad_type",
                        "must be the id of an application, or null");
        else
            *delegate_id = json_integer_value(del);
    }
    return data;
}

/* Parses an address or CIDR block into family, bytes and prefix (a bare address is a /32 or
 * /128), so that equal blocks compare equal however they are written (protocol/ipnet.c, shared
 * with the gateway, which enforces the list). Returns 0 or -1. */
static int parse_ip_or_cidr(const char *s, int *family, unsigned char addr[16], long *prefix_out)
{
    struct ipnet n;
    if (ipnet_parse(s, &n) < 0)
        return -1;
    *family = n.family;
    memcpy(addr, n.addr, 16);
    *prefix_out = n.prefix;
    return 0;
}

int detection_valid_ip_or_cidr(const char *s)
{
    int family;
    unsigned char addr[16];
    long prefix;
    return parse_ip_or_cidr(s, &family, addr, &prefix) == 0;
}

static int same_block(const char *a, const char *b)
{
    int fa, fb;
    unsigned char xa[16], xb[16];
    long pa, pb;
    return parse_ip_or_cidr(a, &fa, xa, &pa) == 0 && parse_ip_or_cidr(b, &fb, xb, &pb) == 0 &&
           fa == fb && pa == pb && memcmp(xa, xb, 16) == 0;
}

int detection_valid_base_url(const char *s)
{
    const char *host;
    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else
        return 0;
    size_t hostlen = strcspn(host, "/?#");
    if (hostlen == 0 || memchr(host, '@', hostlen))
        return 0;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '"' || *c == '<' || *c == '>' || *c == '\\' ||
            (unsigned char)*c >= 0x7f)
            return 0;
    /* host[:port], or [v6]:port */
    const char *end = host + hostlen, *port = NULL;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', hostlen);
        if (!close || close == host + 1)
            return 0;
        char v6[64];
        size_t n = (size_t)(close - host - 1);
        unsigned char addr[16];
        if (n >= sizeof v6)
            return 0;
        memcpy(v6, host + 1, n);
        v6[n] = 0;
        if (inet_pton(AF_INET6, v6, addr) != 1)
            return 0;
        if (close + 1 < end && close[1] != ':')
            return 0;
        port = close + 1 < end ? close + 2 : NULL;
    } else {
        const char *colon = memchr(host, ':', hostlen);
        for (const char *c = host; c < (colon ? colon : end); c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
                return 0;
        if (colon == host || (colon ? colon : end)[-1] == '.')
            return 0;
        port = colon ? colon + 1 : NULL;
    }
    if (port) {
        long p = 0;
        if (port >= end)
            return 0;
        for (const char *c = port; c < end; c++) {
            if (*c < '0' || *c > '9' || p > 65535)
                return 0;
            p = p * 10 + (*c - '0');
        }
        if (p < 1 || p > 65535)
            return 0;
    }
    return 1;
}

/* Required text of `obj`.`key` with min/max characters. */
static void need_text(const json_t *data, const char *obj, const char *key, long max,
                      json_t *details, const char **out)
{
    char path[96];
    json_t *v = json_object_get(json_object_get(data, obj), key);
    path_of(path, sizeof path, obj, key);
    const char *s = json_string_value(v);
    *out = NULL;
    if (val_text(details, path, s, s ? json_string_length(v) : 0, 1, max) == 0)
        *out = s;
}

static void check_platform(const json_t *data, json_t *details)
{
    const char *s;
    need_text(data, "platform", "name", 100, details, &s);
    need_text(data, "platform", "base_url", 200, details, &s);
    if (s && !detection_valid_base_url(s))
        mgmt_detail(details, "platform.base_url", "bad_format",
                    "must be an http:// or https:// URL with a host, without spaces");
    need_text(data, "platform", "protocol_version", 32, details, &s);
    json_t *ips = json_object_get(json_object_get(data, "platform"), "source_ips");
    if (!json_is_array(ips) || json_array_size(ips) == 0) {
        mgmt_detail(details, "platform.source_ips", "required",
                    "list at least one source IP address or CIDR block");
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(ips, i, e)
    {
        char path[64];
        snprintf(path, sizeof path, "platform.source_ips[%zu]", i);
        const char *ip = json_string_value(e);
        if (!ip || !detection_valid_ip_or_cidr(ip)) {
            mgmt_detail(details, path, "bad_format",
                        "must be an IPv4 or IPv6 address or CIDR block (e.g. 203.0.113.0/24)");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (same_block(ip, json_string_value(json_array_get(ips, j)))) {
                mgmt_detail(details, path, "duplicate", "listed twice");
                break;
            }
    }
}

static void check_summary(const json_t *data, json_t *details)
{
    const char *s;
    json_t *ps = json_object_get(data, "pile_summary");
    need_text(data, "pile_summary", "brands", 200, details, &s);
    need_text(data, "pile_summary", "models", 200, details, &s);
    json_t *ac = json_object_get(ps, "ac_count"), *dc = json_object_get(ps, "dc_count");
    if (!json_is_integer(ac))
        mgmt_detail(details, "pile_summary.ac_count", "required",
                    "the number of AC piles is required (0 if none)");
    if (!json_is_integer(dc))
        mgmt_detail(details, "pile_summary.dc_count", "required",
                    "the number of DC piles is required (0 if none)");
    if (json_is_integer(ac) && json_is_integer(dc) &&
        json_integer_value(ac) + json_integer_value(dc) < 1)
        mgmt_detail(details, "pile_summary.ac_count", "too_small",
                    "there must be at least one AC or DC pile");
    json_t *pr = json_object_get(ps, "protocols");
    if (!json_is_array(pr) || json_array_size(pr) == 0) {
        mgmt_detail(details, "pile_summary.protocols", "required",
                    "choose at least one of ocpp1.6, ocpp2.0.1, platform");
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(pr, i, e)
    {
        char path[64];
        snprintf(path, sizeof path, "pile_summary.protocols[%zu]", i);
        const char *p = json_string_value(e);
        int known = 0;
        for (size_t k = 0; p && k < sizeof protocols / sizeof protocols[0]; k++)
            known |= strcmp(p, protocols[k]) == 0;
        if (!known) {
            mgmt_detail(details, path, "bad_format", "must be ocpp1.6, ocpp2.0.1 or platform");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(p, json_string_value(json_array_get(pr, j))) == 0) {
                mgmt_detail(details, path, "duplicate", "listed twice");
                break;
            }
    }
}

void detection_check_submit(const char *mode, const json_t *data, int64_t delegate_id,
                            int delegate_ok, int64_t materials, json_t *details)
{
    const char *s;
    json_t *cu = json_object_get(data, "commissioning_unit");
    need_text(data, "commissioning_unit", "name", 100, details, &s);
    json_t *cc = json_object_get(cu, "credit_code");
    if (!json_is_string(cc) || json_string_length(cc) == 0)
        mgmt_detail(details, "commissioning_unit.credit_code", "required", "is required");
    else {
        /* Registration's rule, reported under this field's path. */
        json_t *tmp = json_array();
        val_credit_code(tmp, json_string_value(cc), json_string_length(cc));
        size_t i;
        json_t *d;
        json_array_foreach(tmp, i, d) mgmt_detail(details, "commissioning_unit.credit_code",
                                                  json_string_value(json_object_get(d, "code")),
                                                  json_string_value(json_object_get(d, "message")));
        json_decref(tmp);
    }
    need_text(data, "commissioning_unit", "address", 200, details, &s);
    need_text(data, "contact", "name", 50, details, &s);
    json_t *contact = json_object_get(data, "contact");
    json_t *mobile = json_object_get(contact, "mobile"), *email = json_object_get(contact, "email");
    val_mobile(details, "contact.mobile", json_string_value(mobile),
               json_is_string(mobile) ? json_string_length(mobile) : 0);
    val_email(details, "contact.email", json_string_value(email),
              json_is_string(email) ? json_string_length(email) : 0);
    json_t *platform = json_object_get(data, "platform");
    if (strcmp(mode, "self") == 0) {
        check_platform(data, details);
        if (delegate_id)
            mgmt_detail(details, "delegate_detection_id", "bad_format",
                        "a self application names no delegated platform");
    } else {
        if (platform && !json_is_null(platform))
            mgmt_detail(details, "platform", "bad_format",
                        "a delegated application has no platform of its own: remove it");
        if (!delegate_id)
            mgmt_detail(details, "delegate_detection_id", "required",
                        "choose the delegated platform");
        else if (!delegate_ok)
            mgmt_detail(details, "delegate_detection_id", "bad_format",
                        "must name a platform that has passed its detection");
    }
    check_summary(data, details);
    if (materials < 1)
        mgmt_detail(details, "materials", "required",
                    "upload the stamped application form (pdf/jpg/png)");
}
