/* Internals shared by the tcec_*.c files: the rule tables of the data dictionary
 * (tcec_dictionary.c) walked by the validator (tcec_data.c). Not part of the API. */
#ifndef EVGATE_TCEC_PRIVATE_H
#define EVGATE_TCEC_PRIVATE_H

#include "protocol/tcec.h"

#include <string.h>

enum tcec_ftype {
    TF_STRING,
    TF_INT,
    TF_NUMBER,  /* integer or real */
    TF_OBJECT,  /* with `object` */
    TF_OBJECTS, /* an array of `object` */
    TF_STRINGS, /* an array of strings, each checked as `max_len`/`format` say */
};

enum tcec_format {
    TFMT_NONE,
    TFMT_OPERATOR_ID, /* 9 of [0-9A-Z] */
    TFMT_DATETIME,    /* yyyy-MM-dd HH:mm:ss */
    TFMT_DATE,        /* yyyy-MM-dd */
    TFMT_AREA,        /* 6 digits, a GB/T 2260 code */
    TFMT_COUNTRY,     /* 2 of [A-Z] */
    TFMT_ID,          /* printable ASCII without spaces: the IDs of stations, piles, orders */
};

struct tcec_object;

struct tcec_field {
    const char *name;
    enum tcec_ftype type;
    unsigned char required;
    enum tcec_format format;
    unsigned short min_len, max_len; /* characters; max 0 = no limit (strings) */
    const int *enums;                /* TF_INT: allowed values, `n_enums` of them */
    unsigned char n_enums;
    unsigned char has_range;
    double min, max;               /* TF_INT, TF_NUMBER when has_range */
    signed char decimals;          /* TF_NUMBER: most decimal places; -1 = any */
    unsigned min_items, max_items; /* arrays; max 0 = no limit */
    const struct tcec_object *object;
};

/* A rule across an object's fields, after each field passed: 0, or -1 with the field's name in
 * *field and the message in msg. */
typedef int (*tcec_check_fn)(const json_t *obj, const char **field, char *msg, size_t msglen);

struct tcec_object {
    const char *name;
    const struct tcec_field *fields;
    size_t count;
    tcec_check_fn check; /* may be NULL */
};

struct tcec_interface {
    const char *name;
    const struct tcec_object *request, *response;
};

extern const struct tcec_interface tcec_interfaces[];
extern const size_t tcec_interfaces_count;
extern const struct tcec_object *const tcec_objects[];
extern const size_t tcec_objects_count;

/* 1 when the secrets are usable: both AES values TCEC_KEY_LEN bytes, a non-empty SigSecret. */
static inline int tcec_keys_ok(const struct tcec_keys *keys)
{
    return keys && keys->data_secret && keys->data_secret_iv && keys->sig_secret &&
           keys->sig_secret[0] && strlen(keys->data_secret) == TCEC_KEY_LEN &&
           strlen(keys->data_secret_iv) == TCEC_KEY_LEN;
}

/* Cuts an incomplete UTF-8 sequence off the end of s (left by a truncating snprintf). */
static inline void tcec_utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < want)
        s[i - 1] = '\0';
}

#endif
