/* libFuzzer target: jsonfast_loadb is json_loadb, only faster. The first byte picks the flags,
 * the rest is the text: either both refuse it, or both build the same tree, keys in the same
 * order (compared as jansson dumps them). */
#include "protocol/jsonfast.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t flag_sets[] = {0, JSON_DECODE_ANY, JSON_REJECT_DUPLICATES,
                                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, JSON_ALLOW_NUL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t flags = flag_sets[data[0] % (sizeof flag_sets / sizeof flag_sets[0])];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    json_error_t e1, e2;
    json_t *fast = jsonfast_loadb(text, len, flags, &e1);
    json_t *slow = json_loadb(text, len, flags, &e2);
    if (!fast != !slow)
        abort();
    if (!fast) {
        if (strcmp(e1.text, e2.text) || e1.position != e2.position)
            abort();
        return 0;
    }
    char *a = json_dumps(fast, JSON_ENCODE_ANY | JSON_COMPACT);
    char *b = json_dumps(slow, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!a || !b || strcmp(a, b) || !json_equal(fast, slow))
        abort();
    free(a);
    free(b);
    json_decref(fast);
    json_decref(slow);
    return 0;
}
