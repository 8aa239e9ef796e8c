/* Structured logging: one line per event, written with a single write() so lines never mix. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int min_level = LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    atomic_store(&min_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&min_level);
}

const char *log_level_name(enum log_level level)
{
    return (int)level >= 0 && (int)level < 4 ? names[level] : "info";
}

int log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            log_set_level((enum log_level)i);
            return 0;
        }
    return -1;
}

void log_msg(enum log_level level, const char *component, const char *event, const char *kv_fmt,
             ...)
{
    if ((int)level < atomic_load(&min_level))
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), names[level], component, event);
    if (kv_fmt && *kv_fmt && n > 0 && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, kv_fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, kv_fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    for (int i = 0; i < n; i++) /* one event, one line: a value never breaks the line */
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

/* Printable ASCII but for the space, the quote, the backslash and `=` (logfmt quotes it). */
static int plain(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

const char *log_q(const char *s)
{
    static _Thread_local char ring[LOG_Q_SLOTS][LOG_Q_MAX + 16];
    static _Thread_local unsigned next;
    char *out = ring[next++ % LOG_Q_SLOTS];
    if (!s)
        return "-";
    size_t i = 0;
    int quote = !*s;
    for (const unsigned char *p = (const unsigned char *)s; *p && !quote; p++)
        quote = !plain(*p);
    if (!quote) {
        size_t len = strlen(s);
        if (len <= LOG_Q_MAX)
            return memcpy(out, s, len + 1);
        memcpy(out, s, LOG_Q_MAX);
        memcpy(out + LOG_Q_MAX, "...", 4);
        return out;
    }
    out[i++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (i > LOG_Q_MAX) {
            memcpy(out + i, "...", 3);
            i += 3;
            break;
        }
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            out[i++] = '\\';
            out[i++] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out[i++] = '\\';
            out[i++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            i += (size_t)snprintf(out + i, 5, "\\x%02x", c);
        } else {
            out[i++] = (char)c; /* UTF-8 bytes pass: names in Chinese stay readable */
        }
    }
    out[i++] = '"';
    out[i] = '\0';
    return out;
}

int log_budget_take(struct log_budget *b, unsigned long long *suppressed)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long minute = (long long)now.tv_sec / 60;
    if (minute != b->window) {
        b->window = minute;
        b->used = 0;
    }
    if (b->used >= b->per_minute) {
        b->suppressed++;
        return 0;
    }
    b->used++;
    *suppressed = b->suppressed;
    b->suppressed = 0;
    return 1;
}
