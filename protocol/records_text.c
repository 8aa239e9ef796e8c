/* The text of a value, for the records rules: strict UTF-8, spaces, full-width forms, values
 * clipped for quoting, and the problem and flag messages. See records_private.h. */
#include "protocol/records_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- UTF-8 and spaces ---- */

/* Decodes one strict UTF-8 sequence (no overlongs, surrogates or code points past U+10FFFF).
 * Returns its length, or 0 when `s` does not start with a valid sequence. */
size_t rp_utf8_next(const char *str, unsigned *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Cuts `s` at its first invalid or incomplete sequence (after a truncating snprintf). */
static void utf8_trim(char *s)
{
    unsigned cp;
    for (size_t i = 0, k; s[i]; i += k) {
        if (!(k = rp_utf8_next(s + i, &cp))) {
            s[i] = 0;
            return;
        }
    }
}

size_t rp_utf8_count(const char *s)
{
    size_t n = 0;
    unsigned cp;
    for (size_t k; *s; s += k, n++)
        if (!(k = rp_utf8_next(s, &cp)))
            k = 1;
    return n;
}

size_t rp_utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* 1: a space-like character (collapsed to one ' ' between words, dropped at the ends);
 * 2: an invisible one (dropped); 0: neither. */
int rp_space_kind(unsigned cp)
{
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000)
        return 1;
    if (cp == 0x200B || cp == 0x2060 || cp == 0xFEFF)
        return 2;
    return 0;
}

int rp_is_control(unsigned cp)
{
    return (cp < 0x20 && !rp_space_kind(cp)) || (cp >= 0x7F && cp <= 0x9F);
}

static void space_name(unsigned cp, char *buf, size_t len)
{
    if (cp == ' ')
        snprintf(buf, len, "space");
    else if (cp == '\t')
        snprintf(buf, len, "tab");
    else if (cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029)
        snprintf(buf, len, "line break");
    else if (cp == 0x3000)
        snprintf(buf, len, "full-width space (U+3000)");
    else if (cp == 0xA0 || cp == 0x202F)
        snprintf(buf, len, "non-breaking space (U+%04X)", cp);
    else if (rp_space_kind(cp) == 2)
        snprintf(buf, len, "zero-width character (U+%04X)", cp);
    else
        snprintf(buf, len, "special space (U+%04X)", cp);
}

/* Copies valid UTF-8 `in` to `out` (at least strlen(in) + 1 bytes) trimmed, with inner runs of
 * spaces collapsed to one ' ' and invisible characters dropped. Returns 1 when that changed
 * anything, with what in `why`. */
int rp_normalise_spaces(const char *in, char *out, char *why, size_t whylen)
{
    size_t o = 0, k;
    unsigned cp, lead = 0, trail = 0, odd = 0, invisible = 0;
    int doubled = 0, seen_text = 0;
    size_t run = 0;
    unsigned run_first = 0;
    for (size_t i = 0; in[i]; i += k) {
        if (!(k = rp_utf8_next(in + i, &cp))) /* callers validate first; never loop forever */
            k = 1, cp = 0xFFFD;
        int sk = rp_space_kind(cp);
        if (sk == 2) {
            if (!invisible)
                invisible = cp;
            continue;
        }
        if (sk == 1) {
            if (!seen_text) {
                if (!lead)
                    lead = cp;
                continue;
            }
            if (!run)
                run_first = cp;
            run++;
            continue;
        }
        if (run) {
            if (run > 1)
                doubled = 1;
            else if (run_first != ' ' && !odd)
                odd = run_first;
            out[o++] = ' ';
        }
        run = 0;
        seen_text = 1;
        memcpy(out + o, in + i, k);
        o += k;
    }
    if (run)
        trail = run_first;
    out[o] = 0;
    char name[48], name2[48];
    if (!seen_text && (lead || invisible)) {
        snprintf(why, whylen, "holds only spaces");
    } else if (lead && trail) {
        space_name(lead, name, sizeof name);
        space_name(trail, name2, sizeof name2);
        snprintf(why, whylen, "has a leading %s and a trailing %s", name, name2);
    } else if (lead) {
        space_name(lead, name, sizeof name);
        snprintf(why, whylen, "has a leading %s", name);
    } else if (trail) {
        space_name(trail, name, sizeof name);
        snprintf(why, whylen, "has a trailing %s", name);
    } else if (doubled) {
        snprintf(why, whylen, "has doubled spaces");
    } else if (odd) {
        space_name(odd, name, sizeof name);
        snprintf(why, whylen, "has a %s between words", name);
    } else if (invisible) {
        space_name(invisible, name, sizeof name);
        snprintf(why, whylen, "has an invisible %s", name);
    } else {
        return 0;
    }
    return 1;
}

/* Folds full-width forms U+FF01-U+FF5E to ASCII in place. Returns 1 when there were any. */
int rp_fold_full_width(char *s)
{
    size_t o = 0, k;
    unsigned cp;
    int any = 0;
    for (size_t i = 0; s[i]; i += k) {
        if (!(k = rp_utf8_next(s + i, &cp)))
            k = 1, cp = 0xFFFD;
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            s[o++] = (char)(cp - 0xFEE0);
            any = 1;
        } else {
            memmove(s + o, s + i, k);
            o += k;
        }
    }
    s[o] = 0;
    return any;
}

/* Copies at most `chars` characters of valid UTF-8 `src` into dst (dstlen bytes), adding "…"
 * when it had to cut: user values quoted in reasons stay short. */
void rp_clip(char *dst, size_t dstlen, const char *src, size_t chars)
{
    size_t o = 0, k;
    unsigned cp;
    for (size_t i = 0, n = 0; src[i]; i += k, n++) {
        k = rp_utf8_next(src + i, &cp);
        if (!k || n == chars || o + k + 4 > dstlen) {
            if (o + 4 <= dstlen) {
                memcpy(dst + o, "…", 3);
                o += 3;
            }
            break;
        }
        memcpy(dst + o, src + i, k);
        o += k;
    }
    dst[o] = 0;
}

/* ---- Problems ---- */

int rp_problem(struct rec_problem *p, const char *code, const char *fmt, ...)
{
    va_list ap;
    p->code = code;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    utf8_trim(p->reason);
    p->suggestion[0] = 0;
    return -1;
}

void rp_suggest(struct rec_problem *p, const char *value)
{
    if (strlen(value) < sizeof p->suggestion)
        strcpy(p->suggestion, value);
    else
        p->suggestion[0] = 0;
}

void rp_flag_set(struct flag *f, const char *code, const char *fmt, ...)
{
    if (f->code)
        return;
    va_list ap;
    f->code = code;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
    utf8_trim(f->reason);
}
