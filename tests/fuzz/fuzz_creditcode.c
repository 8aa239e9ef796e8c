/* libFuzzer target: the credit-code checker never crashes and agrees with its check char. */
#include "protocol/creditcode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char code[64];
    if (size >= sizeof code)
        return 0;
    memcpy(code, data, size);
    code[size] = 0;
    size_t pos = 0;
    enum cc_result r = cc_validate(code, &pos);
    if (r == CC_OK) {
        char id[10];
        if (strlen(code) != 18 || cc_check_char(code) != code[17])
            abort();
        cc_operator_id(code, id);
        if (strlen(id) != 9)
            abort();
    }
    if ((r == CC_BAD_CHARACTER || r == CC_LOWERCASE) && pos >= strlen(code))
        abort();
    return 0;
}
