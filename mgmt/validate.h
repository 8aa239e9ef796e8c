/* Field rules for request bodies; each failure appends a {field, code, message} detail. */
#ifndef EVGATE_MGMT_VALIDATE_H
#define EVGATE_MGMT_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

/* Number of code points of valid UTF-8 text without control characters, or -1 when `s`
 * (len bytes) is not valid UTF-8 or holds a control character (including NUL). */
long val_text_chars(const char *s, size_t len);

/* Checks a required text of `min`..`max` characters. `s` NULL means absent. Returns 0 when
 * valid, else appends a detail (`required`, `too_short`, `too_long`, `bad_format`) and
 * returns -1. */
int val_text(json_t *details, const char *field, const char *s, size_t len, long min, long max);

/* Specific rules (same contract as val_text). */
int val_username(json_t *details, const char *s, size_t len);
int val_password(json_t *details, const char *s, size_t len);
int val_credit_code(json_t *details, const char *s, size_t len);
int val_mobile(json_t *details, const char *field, const char *s, size_t len);
int val_email(json_t *details, const char *field, const char *s, size_t len);

#endif
