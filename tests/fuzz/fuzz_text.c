/* libFuzzer target: the UTF-8 text validator used on every API text field. It must never read
 * past the buffer, and what it accepts must be what a strict decoder (iconv) accepts. */
#include "mgmt/validate.h"

#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1); /* exact size: ASan catches over-reads */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    long n = val_text_chars(copy, size);
    if (n > (long)size)
        abort();
    if (n >= 0) {
        iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
        char *in = copy, out[4 * 4096 + 8], *o = out;
        size_t inleft = size, outleft = sizeof out;
        if (size <= 4096 && iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1)
            abort(); /* we accepted what a strict decoder refuses */
        if (size <= 4096 && (long)((sizeof out - outleft) / 4) != n)
            abort();
        iconv_close(cd);
    }
    free(copy);
    return 0;
}
