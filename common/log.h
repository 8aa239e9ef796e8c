/* Structured log lines for both daemons: `ts level component event key=value ...` on stderr.
 * Callers never pass secrets or personal data beyond IDs. Thread-safe. */
#ifndef EVGATE_LOG_H
#define EVGATE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written; returns -1 (level unchanged) for an unknown name. */
int log_set_level_name(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "debug", "info", "warn" or "error" (static). */
const char *log_level_name(enum log_level level);

/* Writes one line: ISO-8601 UTC time, level, `component`, `event`, then the formatted
 * key=value pairs (may be NULL). A value that may hold text from outside (a peer, a request, a
 * file) goes through log_q() so that it cannot break the line or forge a key. As a last guard
 * every control character left in the line is written as `?`: one event is always one line.
 * The format is described in docs/logs.md. */
void log_msg(enum log_level level, const char *component, const char *event, const char *kv_fmt,
             ...) __attribute__((format(printf, 4, 5)));

/* A budget for lines a peer can cause at will (refused handshakes, protocol violations): at
 * most `per_minute` lines in each minute; the lines over it are not written but counted, and the
 * next line that passes reports how many were left out. Declare one per kind of line, zeroed but
 * for per_minute: `static struct log_budget b = {.per_minute = 120};`. Use it from one thread. */
struct log_budget {
    int per_minute;
    long long window; /* the minute (monotonic) the count is of */
    int used;
    unsigned long long suppressed;
};

/* Whether a line may be written now. When it may, *suppressed gets the number of lines left out
 * since the last one written (and the count starts again). */
int log_budget_take(struct log_budget *b, unsigned long long *suppressed);

/* `s` as a log value: as is when it is a non-empty run of printable ASCII other than space,
 * `"`, `\` and `=` (no quoting needed: route patterns, ids, addresses); else in double quotes,
 * with `"` and `\` escaped as \" and \\, \n \r \t as such and other control bytes as \xNN
 * (UTF-8 is kept). NULL is `-`. The result lives in a per-thread ring of LOG_Q_SLOTS buffers,
 * so up to that many log_q() results can be arguments of one log_msg(); a value longer than
 * LOG_Q_MAX bytes is cut and ends in `...`. Never NULL. See docs/logs.md. */
#define LOG_Q_SLOTS 8
#define LOG_Q_MAX   400
const char *log_q(const char *s);

#define log_debug(c, e, ...) log_msg(LOG_DEBUG, c, e, __VA_ARGS__)
#define log_info(c, e, ...)  log_msg(LOG_INFO, c, e, __VA_ARGS__)
#define log_warn(c, e, ...)  log_msg(LOG_WARN, c, e, __VA_ARGS__)
#define log_error(c, e, ...) log_msg(LOG_ERROR, c, e, __VA_ARGS__)

#endif
