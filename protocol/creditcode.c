/* GB 32100-2015 check character: weights 3^(i) mod 31 over a 31-character alphabet. */
#include "protocol/creditcode.h"

#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

static int value_of(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

char cc_check_char(const char *code17)
{
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int v = value_of(code17[i]);
        if (v < 0)
            return 0;
        sum += v * weights[i];
    }
    int c = 31 - sum % 31;
    return alphabet[c == 31 ? 0 : c];
}

enum cc_result cc_validate(const char *code, size_t *pos)
{
    size_t n = strlen(code);
    for (size_t i = 0; i < n && i < 18; i++) {
        if (value_of(code[i]) >= 0)
            continue;
        if (pos)
            *pos = i;
        char up = (code[i] >= 'a' && code[i] <= 'z') ? (char)(code[i] - 32) : 0;
        return up && value_of(up) >= 0 ? CC_LOWERCASE : CC_BAD_CHARACTER;
    }
    if (n != 18)
        return CC_BAD_LENGTH;
    return cc_check_char(code) == code[17] ? CC_OK : CC_BAD_CHECK;
}

const char *cc_reason(enum cc_result r)
{
    switch (r) {
    case CC_OK:
        return "valid";
    case CC_BAD_LENGTH:
        return "must be exactly 18 characters";
    case CC_BAD_CHARACTER:
        return "may hold only digits and upper-case letters other than I, O, S, V and Z";
    case CC_LOWERCASE:
        return "letters must be upper-case";
    case CC_BAD_CHECK:
        return "check character (18th) does not match GB 32100-2015";
    }
    return "invalid";
}

void cc_operator_id(const char *code, char out[10])
{
    memcpy(out, code + 8, 9);
    out[9] = 0;
}
