/* What every background thread of the daemons needs: condition variables timed on the monotonic
 * clock (a wall-clock step neither cuts a wait short nor stretches it), deadlines on that clock,
 * and threads started with every signal blocked (signals belong to the main thread). */
#ifndef EVGATE_THREAD_H
#define EVGATE_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* pthread_cond_init() with CLOCK_MONOTONIC for pthread_cond_timedwait(); its result. */
int thread_cond_init_monotonic(pthread_cond_t *cond);

/* Now on CLOCK_MONOTONIC. */
struct timespec thread_now(void);

/* Now on CLOCK_MONOTONIC in whole milliseconds, for deadlines and ages kept as integers. */
int64_t thread_now_ms(void);

/* Seconds from `t0` (a thread_now()) to now. */
double thread_seconds_since(struct timespec t0);

/* `t` plus `ms` milliseconds (ms >= 0). */
struct timespec thread_after_ms(struct timespec t, long long ms);

/* thread_after_ms(thread_now(), ms): a deadline for pthread_cond_timedwait(). */
struct timespec thread_deadline_ms(long long ms);

/* Whether `a` is earlier than `b`. */
bool thread_before(struct timespec a, struct timespec b);

/* pthread_create() of fn(arg) with every signal blocked in the new thread (the caller's mask is
 * left as it was); pthread_create's result. */
int thread_start_quiet(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
