/* File type decided by content (magic bytes), never by name or declared type. Pure code. */
#ifndef EVGATE_FILETYPE_H
#define EVGATE_FILETYPE_H

#include <stddef.h>

enum ft_type { FT_UNKNOWN = 0, FT_PDF, FT_PNG, FT_JPEG };

/* Classifies the first `len` bytes of a file (16 are enough). */
enum ft_type ft_sniff(const unsigned char *buf, size_t len);

/* MIME type and usual extension of `t` ("application/octet-stream" and "" for FT_UNKNOWN). */
const char *ft_mime(enum ft_type t);
const char *ft_ext(enum ft_type t);

#endif
