/* Process facts for /metrics; see procstat.h. */
#include "common/procstat.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

/* Bounded: a daemon with more descriptors than this is reported at the bound (the fd limit
 * and the gauges say the rest); counting stays cheap on every scrape. */
#define PROCSTAT_MAX_FDS_COUNTED 1000000L

void procstat_read(struct procstat *ps)
{
    ps->open_fds = -1;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < PROCSTAT_MAX_FDS_COUNTED)
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        ps->open_fds = n - 1; /* the directory's own descriptor */
    }
    struct rlimit rl;
    ps->max_fds =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : -1;
    ps->rss_bytes = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long long size, resident;
        if (fscanf(f, "%lld %lld", &size, &resident) == 2)
            ps->rss_bytes = resident * (long long)sysconf(_SC_PAGESIZE);
        fclose(f);
    }
    struct rusage ru;
    ps->cpu_seconds = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        ps->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void procstat_render(FILE *out, const struct procstat *ps, double start_time)
{
    fprintf(out,
            "# HELP process_start_time_seconds Start time of the process since the Unix epoch in "
            "seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "
            "%.3f\n",
            start_time);
    fprintf(out,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n",
            ps->cpu_seconds);
    if (ps->open_fds >= 0)
        fprintf(out,
                "# HELP process_open_fds Number of open file descriptors.\n"
                "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
                ps->open_fds);
    if (ps->max_fds >= 0)
        fprintf(out,
                "# HELP process_max_fds Maximum number of open file descriptors.\n"
                "# TYPE process_max_fds gauge\nprocess_max_fds %ld\n",
                ps->max_fds);
    if (ps->rss_bytes >= 0)
        fprintf(out,
                "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n",
                ps->rss_bytes);
}
