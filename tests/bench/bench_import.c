/* Import benchmark: a 100 000-pile xlsx (one connector each, so 200 000 data rows over the two
 * sheets) validated and staged by the real import path, into a fresh database. Prints rows per
 * second, median of several runs (writing the file is not counted), and with --json FILE writes
 * {piles, rows, seconds_median, rows_per_s, runs: [seconds...], cpu_seconds: [...], cores} for
 * the bench table. Not a test: it asserts nothing about speed.
 * Usage: bench_import [PILES [RUNS]] [--json FILE] */
#include "common/config.h"
#include "db/access.h"
#include "db/accounts.h"
#include "db/db.h"
#include "db/records.h"
#include "mgmt/http.h"
#include "mgmt/import.h"
#include "mgmt/xlsx_write.h"
#include "tests/bench/bench_median.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process (all threads): with the machine shared, the wall clock also
 * counts other processes' time, this does not. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* The piles file, written with the export writer (same columns as the template). */
static int write_file(long piles, const char *path)
{
    json_t *items = json_array();
    for (long i = 0; i < piles; i++) {
        char eid[24], cid[32];
        snprintf(eid, sizeof eid, "P%09ld", i);
        snprintf(cid, sizeof cid, "P%09ld01", i);
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:s, s:[{s:s, s:i, s:i, s:i, s:i, s:f, "
                      "s:f, s:i}]}",
                      "equipment_id", eid, "station_id", "S1", "manufacturer_name", "测试厂商",
                      "equipment_type", 1, "power", 60.0, "protocol", "ocpp1.6", "status", "draft",
                      "connectors", "connector_id", cid, "ocpp_connector_id", 1, "connector_type",
                      4, "voltage_upper_limits", 750, "voltage_lower_limits", 200, "current", 80.0,
                      "power", 60.0, "national_standard", 2));
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    char err[256];
    int rc = xlsxw_export(XLSXW_PILES, items, &buf, &len, err, sizeof err);
    json_decref(items);
    if (rc < 0) {
        fprintf(stderr, "export: %s\n", err);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) {
        free(buf);
        return -1;
    }
    fclose(f);
    free(buf);
    return 0;
}

static int write_json(const char *file, long piles, int runs, const double *secs, const double *cpu,
                      double med, long cores)
{
    json_t *r = json_array(), *c = json_array();
    for (int i = 0; i < runs; i++) {
        json_array_append_new(r, json_real(secs[i]));
        json_array_append_new(c, json_real(cpu[i]));
    }
    json_t *o =
        json_pack("{s:I, s:I, s:f, s:f, s:o, s:o, s:f, s:I}", "piles", (json_int_t)piles, "rows",
                  (json_int_t)(2 * piles), "seconds_median", med, "rows_per_s",
                  2.0 * (double)piles / med, "runs", r, "cpu_seconds", c, "cpu_seconds_median",
                  bench_median(cpu, runs), "cores", (json_int_t)cores);
    int rc = json_dump_file(o, file, JSON_INDENT(2)) == 0 ? 0 : -1;
    json_decref(o);
    return rc;
}

int main(int argc, char **argv)
{
    long piles = 100000;
    int runs = 3, npos = 0;
    const char *json_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_file = argv[++i];
        else if (npos == 0 && (npos = 1))
            piles = atol(argv[i]);
        else if (npos == 1 && (npos = 2))
            runs = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: bench_import [PILES [RUNS]] [--json FILE]\n");
            return 2;
        }
    }
    if (piles < 1 || runs < 1) {
        fprintf(stderr, "usage: bench_import [PILES [RUNS]] [--json FILE]\n");
        return 2;
    }
    char dir[] = "/tmp/evgate-bench-XXXXXX", path[256], dbpath[256], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/piles.xlsx", dir);
    double t0 = now_s();
    if (write_file(piles, path) < 0)
        return 1;
    printf("wrote %ld piles + %ld connectors in %.2f s (not counted)\n", piles, piles,
           now_s() - t0);
    struct evg_config cfg;
    char *args[] = {"bench", NULL};
    setenv("EVGATE_MAX_IMPORT_ROWS", "1000000", 1);
    setenv("EVGATE_MAX_IMPORT_BYTES", "1073741824", 1);
    if (cfg_load(&cfg, CFG_MGMT, "bench", 1, args, err, sizeof err) != 0)
        return 1;
    double *secs = calloc((size_t)runs, sizeof *secs), *cpu = calloc((size_t)runs, sizeof *cpu);
    for (int r = 0; r < runs; r++) {
        snprintf(dbpath, sizeof dbpath, "%s/run%d.db", dir, r);
        struct db *db = db_open(dbpath, 5000, "NORMAL", err, sizeof err);
        if (!db || db_migrate(db, -1, err, sizeof err) != DB_OK)
            return 1;
        struct db_organisation_in org = {"公司", "91442000MA4UJ9XY09", "MA4UJ9XY0", "张三",
                                         "李四", "13800138000",        "a@b.cn",    "中山",
                                         0};
        int64_t account = 0, station = 0, app = 0, staged = 0;
        const char *field;
        db_operator_register(db, "bench", "x", &org, &account, &field);
        db_access_create(db, account, &app);
        db_station_insert(db, account, 0, "accessed", "S1", "站", "442000", 1, "{}", &station);
        struct mgmt_req req = {.cfg = &cfg, .db = db};
        req.caller.account_id = account;
        json_t *problems = json_array();
        int truncated = 0;
        double start = now_s(), cstart = cpu_s();
        int rc = import_file(&req, IMPORT_PILES, app, path, problems, &truncated, &staged);
        secs[r] = now_s() - start;
        cpu[r] = cpu_s() - cstart;
        if (rc != 0) {
            char *d = json_dumps(json_array_get(problems, 0), 0);
            fprintf(stderr, "import failed (%d): %zu problems, first %s\n", rc,
                    json_array_size(problems), d ? d : "?");
            return 1;
        }
        printf("run %d: %lld piles staged in %.2f s (%.2f s of CPU)\n", r + 1, (long long)staged,
               secs[r], cpu[r]);
        json_decref(problems);
        db_close(db);
        char side[300];
        unlink(dbpath);
        snprintf(side, sizeof side, "%s-wal", dbpath);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", dbpath);
        unlink(side);
    }
    double med = bench_median(secs, runs);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("import: %ld piles = %ld rows (two sheets), median of %d runs %.2f s (CPU %.2f s), "
           "%.0f rows/s, cores %ld\n",
           piles, 2 * piles, runs, med, bench_median(cpu, runs), 2.0 * (double)piles / med, cores);
    int rc = 0;
    if (json_file && write_json(json_file, piles, runs, secs, cpu, med, cores) < 0) {
        fprintf(stderr, "cannot write %s\n", json_file);
        rc = 1;
    }
    unlink(path);
    rmdir(dir);
    free(secs);
    free(cpu);
    cfg_free(&cfg);
    return rc;
}
