/* Unified social credit code (统一社会信用代码, GB 32100-2015): shape and check character.
 * Pure code, no I/O. */
#ifndef EVGATE_CREDITCODE_H
#define EVGATE_CREDITCODE_H

#include <stddef.h>

enum cc_result {
    CC_OK = 0,
    CC_BAD_LENGTH,    /* not exactly 18 characters */
    CC_BAD_CHARACTER, /* a character outside 0-9 and A-Z without I, O, S, V, Z */
    CC_LOWERCASE,     /* lower-case letters: valid only once upper-cased */
    CC_BAD_CHECK,     /* the 18th character is not the GB 32100 check character */
};

/* Checks a NUL-terminated code. On CC_BAD_CHARACTER and CC_LOWERCASE, *pos (if not NULL) is
 * the 0-based index of the first offending character. */
enum cc_result cc_validate(const char *code, size_t *pos);

/* The check character for the first 17 characters of `code17` (which must be valid
 * characters), or 0 when they are not. */
char cc_check_char(const char *code17);

/* A short English reason for `r`, for error details. */
const char *cc_reason(enum cc_result r);

/* Copies the 9-character organisation code (characters 9-17, the T/CEC OperatorID) of a valid
 * code into out[10]. */
void cc_operator_id(const char *code, char out[10]);

#endif
