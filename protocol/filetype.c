/* Magic-byte sniffing for the document uploads evgate accepts: PDF, PNG and JPEG. */
#include "protocol/filetype.h"

#include <string.h>

enum ft_type ft_sniff(const unsigned char *buf, size_t len)
{
    if (len >= 5 && memcmp(buf, "%PDF-", 5) == 0)
        return FT_PDF;
    if (len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
        return FT_PNG;
    if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
        return FT_JPEG;
    return FT_UNKNOWN;
}

const char *ft_mime(enum ft_type t)
{
    switch (t) {
    case FT_PDF:
        return "application/pdf";
    case FT_PNG:
        return "image/png";
    case FT_JPEG:
        return "image/jpeg";
    default:
        return "application/octet-stream";
    }
}

const char *ft_ext(enum ft_type t)
{
    switch (t) {
    case FT_PDF:
        return "pdf";
    case FT_PNG:
        return "png";
    case FT_JPEG:
        return "jpg";
    default:
        return "";
    }
}
