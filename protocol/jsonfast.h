/* JSON text into jansson's values, faster than json_loadb for the short frames of the gateway's
 * hot path. Pure code, no I/O.
 *
 * jansson's parser reads its input a byte at a time through a callback: 4 to 8 µs for a
 * 220-byte OCPP MeterValues CALL here. This module lexes the text with yajl (a C parser that
 * scans a buffer) and builds the same jansson tree from its events, in a third to a half of the
 * time (tests/bench/bench_parse.c). Its contract is to be json_loadb, only faster:
 *
 * - on success the tree equals json_loadb's, keys in the same order (tests/fuzz/fuzz_jsonfast.c
 *   checks this on arbitrary input);
 * - on any failure, and for any text the fast path does not take (anything but an array or an
 *   object at the top, escapes in strings, the form feed and vertical tab that yajl takes for
 *   white space and jansson does not, nesting deeper than 64, keys over 255 bytes, numbers over
 *   64 characters, flags other than JSON_DECODE_ANY and JSON_REJECT_DUPLICATES), the text goes
 *   to json_loadb itself, so that what is refused and the error text are jansson's. */
#ifndef EVGATE_JSONFAST_H
#define EVGATE_JSONFAST_H

#include <jansson.h>
#include <stddef.h>

/* As json_loadb(text, len, flags, error): a new reference, or NULL with *error filled in
 * (error may be NULL). *error is left alone on success. */
json_t *jsonfast_loadb(const char *text, size_t len, size_t flags, json_error_t *error);

#endif
