/* Structured log lines for both daemons: `ts level component event key=value ...` on stderr.
 * Callers never pass secrets or personal data beyond IDs. Thread-safe. */
#ifndef EVGATE_LOG_H
#define EVGATE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written; returns -1 (level unchanged) for an unknown name. */
int log_set_level_name(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Writes one line: ISO-8601 UTC time, level, `component`, `event`, then the formatted
 * key=value pairs (may be NULL). */
void log_msg(enum log_level level, const char *component, const char *event, const char *kv_fmt,
             ...) __attribute__((format(printf, 4, 5)));

#define log_debug(c, e, ...) log_msg(LOG_DEBUG, c, e, __VA_ARGS__)
#define log_info(c, e, ...)  log_msg(LOG_INFO, c, e, __VA_ARGS__)
#define log_warn(c, e, ...)  log_msg(LOG_WARN, c, e, __VA_ARGS__)
#define log_error(c, e, ...) log_msg(LOG_ERROR, c, e, __VA_ARGS__)

#endif
