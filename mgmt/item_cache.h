/* A memo of rendered list items. The JSON text of a list item is a pure function of its row's
 * columns, and rendering it (jansson parsing the stored `data`, adding the read-only fields and
 * ISO times, dumping it again) was ~95% of the instructions of a station-list request; so the
 * text is kept per row and reused while the row's columns are byte for byte what they were.
 * Process-wide and thread-safe; bounded by MGMT_ITEM_CACHE_SLOTS. */
#ifndef EVGATE_MGMT_ITEM_CACHE_H
#define EVGATE_MGMT_ITEM_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Slots of the memo (direct-mapped by row: a row's text replaces the one in its slot). With
 * rows of ~1 KiB of columns and text, at most ~16 MiB. */
#define MGMT_ITEM_CACHE_SLOTS 8192
/* Largest columns or text kept; a larger item is rendered every time. */
#define MGMT_ITEM_CACHE_MAX_BYTES 16384

/* A growing text buffer; `text` is NUL-terminated and caller frees it (free()). */
struct item_text {
    char *text;
    size_t len, cap;
    int failed; /* out of memory: the text is incomplete */
};

/* Appends `n` bytes to `b`. */
void item_text_add(struct item_text *b, const char *s, size_t n);

/* When the memo holds row `row` of list `kind` rendered from exactly `columns`, appends its
 * text to `out` and returns 1; else returns 0. */
int item_cache_get(char kind, int64_t row, const char *columns, size_t columns_len,
                   struct item_text *out);

/* Remembers `text` as the rendering of row `row` of `kind` from `columns`. */
void item_cache_put(char kind, int64_t row, const char *columns, size_t columns_len,
                    const char *text, size_t text_len);

#endif
