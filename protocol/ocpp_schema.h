/* The rule tables behind ocpp_validate(): one tree of rules per action and direction, generated
 * from the official OCA JSON schemas by scripts/gen-ocpp-schemas.mjs into ocpp_schemas_16.c and
 * ocpp_schemas_201.c. Private to protocol/ocpp*.c; the API is protocol/ocpp.h. */
#ifndef EVGATE_OCPP_SCHEMA_H
#define EVGATE_OCPP_SCHEMA_H

#include "protocol/ocpp.h"

#include <stddef.h>

enum ocpp_jtype {
    OCPP_JT_ANY = 0, /* no "type": any JSON value (2.0.1 DataTransfer.data) */
    OCPP_JT_STRING,
    OCPP_JT_INTEGER, /* a JSON number with an integral value (1.0 included, as JSON Schema says) */
    OCPP_JT_NUMBER,
    OCPP_JT_BOOLEAN,
    OCPP_JT_OBJECT,
    OCPP_JT_ARRAY,
};

enum ocpp_format {
    OCPP_FMT_NONE = 0,
    OCPP_FMT_DATE_TIME, /* RFC 3339 date-time */
    OCPP_FMT_URI,       /* RFC 3986 URI (1.6 GetDiagnostics / UpdateFirmware location) */
};

struct ocpp_prop;

/* One schema node. Zero means "no such keyword" for every field but minimum/maximum, which
 * have has_min/has_max (0 is a real bound). */
struct ocpp_rule {
    unsigned char type;   /* enum ocpp_jtype */
    unsigned char format; /* enum ocpp_format */
    unsigned char closed; /* additionalProperties: false */
    unsigned char has_min, has_max;
    unsigned short nprops, nenum;
    int max_length; /* in characters (code points), 0: none */
    int min_items;  /* 0: none */
    int max_items;  /* 0: none */
    double minimum, maximum;
    double multiple_of;            /* 0: none */
    const char *const *enums;      /* nenum strings */
    const struct ocpp_prop *props; /* nprops, in schema order */
    const struct ocpp_rule *items; /* arrays: the rule of every item */
};

struct ocpp_prop {
    const char *name;
    const struct ocpp_rule *rule;
    int required;
};

/* An action's request (.req) and response (.conf) payload rules. */
struct ocpp_message {
    const char *action;
    const struct ocpp_rule *request;
    const struct ocpp_rule *response;
};

/* Sorted by action (strcmp order). */
extern const struct ocpp_message ocpp_messages_16[];
extern const size_t ocpp_messages_16_count;
extern const struct ocpp_message ocpp_messages_201[];
extern const size_t ocpp_messages_201_count;
/* "ocpp-rpc@2.2.1": the package the tables came from */
extern const char ocpp_schemas_16_source[];
extern const char ocpp_schemas_201_source[];

/* Fills *err (when not NULL) with fail, its code and keyword for `version`, and a reason. */
void ocpp_fail_set(enum ocpp_version version, struct ocpp_error *err, enum ocpp_fail fail,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
