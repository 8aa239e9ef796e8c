/* evsim-platform's counters, by direction, interface and Ret, and the summary printed on exit
 * (a table on stdout, optionally JSON). The server thread and the client share them under
 * stats_lock, their own: the server counts while it holds plat_lock. */
#include "simulators/plat.h"

#include <stdio.h>
#include <string.h>

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const iface_names[I_COUNT] = {
    [I_QUERY_TOKEN] = "query_token",
    [I_STATIONS_INFO] = "query_stations_info",
    [I_STATION_STATUS] = "query_station_status",
    [I_STATION_STATS] = "query_station_stats",
    [I_N_STATION_INFO] = "notification_stationInfo",
    [I_N_STATION_STATUS] = "notification_stationStatus",
    [I_N_CHARGE_ORDER] = "notification_charge_order_info",
};

static const char *const err_names[E_COUNT] = {
    [E_TRANSPORT] = "transport", [E_HTTP_STATUS] = "http_status", [E_ENVELOPE] = "envelope",
    [E_SIGNATURE] = "signature", [E_DECRYPT] = "decrypt",         [E_PAYLOAD] = "payload",
    [E_REFUSED] = "refused",     [E_NOT_FOUND] = "not_found",     [E_TOO_LARGE] = "too_large",
};

/* The Ret codes of enum tcec_ret, then "other". */
static const int rets[] = {0, -1, 4001, 4002, 4003, 4004, 500};
#define NRETS ((int)(sizeof rets / sizeof rets[0]))

static struct {
    uint64_t by_ret[2][I_COUNT][NRETS + 1];
    uint64_t errors[2][I_COUNT][E_COUNT];
    uint64_t tokens_issued, tokens_obtained, refreshes, other_paths;
} st;

const char *plat_iface_name(enum plat_iface i)
{
    return i < I_COUNT ? iface_names[i] : "?";
}

void plat_count(enum plat_dir dir, enum plat_iface i, int ret)
{
    int r = 0;
    while (r < NRETS && rets[r] != ret)
        r++;
    pthread_mutex_lock(&stats_lock);
    st.by_ret[dir][i][r]++;
    pthread_mutex_unlock(&stats_lock);
}

void plat_count_error(enum plat_dir dir, enum plat_iface i, enum plat_err e)
{
    pthread_mutex_lock(&stats_lock);
    st.errors[dir][i][e]++;
    pthread_mutex_unlock(&stats_lock);
}

void plat_count_token(bool issued)
{
    pthread_mutex_lock(&stats_lock);
    if (issued)
        st.tokens_issued++;
    else
        st.tokens_obtained++;
    pthread_mutex_unlock(&stats_lock);
}

void plat_count_refresh(void)
{
    pthread_mutex_lock(&stats_lock);
    st.refreshes++;
    pthread_mutex_unlock(&stats_lock);
}

void plat_count_other_path(void)
{
    pthread_mutex_lock(&stats_lock);
    st.other_paths++;
    pthread_mutex_unlock(&stats_lock);
}

static uint64_t total_of(int dir, int i)
{
    uint64_t n = 0;
    for (int r = 0; r <= NRETS; r++)
        n += st.by_ret[dir][i][r];
    /* requests that got no T/CEC answer; the other errors come with a Ret counted above */
    n += st.errors[dir][i][E_TRANSPORT] + st.errors[dir][i][E_ENVELOPE] +
         st.errors[dir][i][E_NOT_FOUND];
    return n;
}

static void ret_key(int r, char *buf, size_t len)
{
    if (r < NRETS)
        snprintf(buf, len, "%d", rets[r]);
    else
        snprintf(buf, len, "other");
}

static void print_dir(int dir)
{
    printf("  %-32s %8s", dir == D_SERVED ? "served" : "sent", "total");
    for (int r = 0; r <= NRETS; r++) {
        char k[16];
        ret_key(r, k, sizeof k);
        printf(" %6s", k);
    }
    printf("  errors\n");
    for (int i = 0; i < I_COUNT; i++) {
        if (!total_of(dir, i))
            continue;
        printf("  %-32s %8llu", iface_names[i], (unsigned long long)total_of(dir, i));
        for (int r = 0; r <= NRETS; r++)
            printf(" %6llu", (unsigned long long)st.by_ret[dir][i][r]);
        printf(" ");
        bool any = false;
        for (int e = 0; e < E_COUNT; e++)
            if (st.errors[dir][i][e]) {
                printf(" %s=%llu", err_names[e], (unsigned long long)st.errors[dir][i][e]);
                any = true;
            }
        printf("%s\n", any ? "" : " -");
    }
}

static json_t *dir_json(int dir)
{
    json_t *out = json_object();
    for (int i = 0; i < I_COUNT; i++) {
        if (!total_of(dir, i))
            continue;
        json_t *by = json_object(), *errs = json_object();
        for (int r = 0; r <= NRETS; r++)
            if (st.by_ret[dir][i][r]) {
                char k[16];
                ret_key(r, k, sizeof k);
                json_object_set_new(by, k, json_integer((json_int_t)st.by_ret[dir][i][r]));
            }
        for (int e = 0; e < E_COUNT; e++)
            if (st.errors[dir][i][e])
                json_object_set_new(errs, err_names[e],
                                    json_integer((json_int_t)st.errors[dir][i][e]));
        json_object_set_new(out, iface_names[i],
                            json_pack("{s:I, s:o, s:o}", "total", (json_int_t)total_of(dir, i),
                                      "ret", by, "errors", errs));
    }
    return out;
}

int plat_stats_report(const struct plat_opts *o, const struct plat_data *d, double elapsed_s,
                      const char *path)
{
    pthread_mutex_lock(&stats_lock);
    printf("evsim-platform summary: operator %s, faulty %s, %zu stations, %zu connectors, "
           "%.1f s\n",
           o->operator_id, plat_fault_name(o->fault), plat_station_count(d), d->nconnectors,
           elapsed_s);
    printf("  tokens issued %llu  tokens obtained %llu  refreshes %llu  requests to other paths "
           "%llu\n",
           (unsigned long long)st.tokens_issued, (unsigned long long)st.tokens_obtained,
           (unsigned long long)st.refreshes, (unsigned long long)st.other_paths);
    print_dir(D_SERVED);
    print_dir(D_SENT);
    fflush(stdout);
    int rc = 0;
    if (path) {
        json_t *root = json_pack(
            "{s:s, s:s, s:i, s:i, s:f, s:I, s:I, s:I, s:I, s:o, s:o}", "operator_id",
            o->operator_id, "faulty", plat_fault_name(o->fault), "stations",
            (int)plat_station_count(d), "connectors", (int)d->nconnectors, "elapsed_s", elapsed_s,
            "tokens_issued", (json_int_t)st.tokens_issued, "tokens_obtained",
            (json_int_t)st.tokens_obtained, "refreshes", (json_int_t)st.refreshes, "other_paths",
            (json_int_t)st.other_paths, "served", dir_json(D_SERVED), "sent", dir_json(D_SENT));
        rc = root ? json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
        json_decref(root);
        if (rc != 0)
            fprintf(stderr, "evsim-platform: cannot write %s\n", path);
    }
    pthread_mutex_unlock(&stats_lock);
    return rc == 0 ? 0 : -1;
}
