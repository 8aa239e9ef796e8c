/* Parse benchmark: the frames of the throughput load (evsim-pile --scenario load: MeterValues,
 * StatusNotification, MeterValues, Heartbeat) parsed into jansson's tree by json_loadb and by
 * jsonfast_loadb (protocol/jsonfast.h, what ocpp_frame_parse uses), in CPU time per frame of the
 * mix, median of several runs, and the ratio; linked with the gateway's malloc. With --json FILE
 * writes {jansson_us, jsonfast_us, ratio, frames: {name: {jansson_us, jsonfast_us}}} for the bench
 * table. Asserts only that both build the same tree. Usage: bench_parse [RUNS] [--json FILE] */
#include "protocol/jsonfast.h"
#include "tests/bench/bench_median.h"

#ifdef EVGATE_MIMALLOC
#include <mimalloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 50000 /* parses of each frame in a run */

static const struct {
    const char *name;
    const char *text;
    int per_mix; /* times in the mix of four */
} frames[] = {
    {"MeterValues",
     "[2,\"4711\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2026-11-"
     "26T05:"
     "00:00.123Z\",\"sampledValue\":[{\"value\":\"123450\",\"context\":\"Sample.Periodic\","
     "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}]}]}]",
     2},
    {"StatusNotification",
     "[2,\"4712\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":"
     "\"Preparing\",\"timestamp\":\"2026-11-26T05:00:00.123Z\"}]",
     1},
    {"Heartbeat", "[2,\"4713\",\"Heartbeat\",{}]", 1},
};
#define NFRAMES (sizeof frames / sizeof frames[0])

typedef json_t *(*loader)(const char *, size_t, size_t, json_error_t *);

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* µs of CPU per parse (and free) of text by load. */
static double time_one(loader load, const char *text)
{
    size_t len = strlen(text);
    double t0 = cpu_s();
    for (int i = 0; i < ROUNDS; i++) {
        json_t *v = load(text, len, JSON_DECODE_ANY, NULL);
        if (!v) {
            fprintf(stderr, "bench_parse: %s refused\n", text);
            exit(1);
        }
        json_decref(v);
    }
    return (cpu_s() - t0) / ROUNDS * 1e6;
}

int main(int argc, char **argv)
{
    int runs = 5;
    const char *json_out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_out = argv[++i];
        else if ((runs = atoi(argv[i])) < 1 || runs > 100) {
            fprintf(stderr, "usage: bench_parse [RUNS 1-100] [--json FILE]\n");
            return 2;
        }
    }
    for (size_t f = 0; f < NFRAMES; f++) {
        json_t *a = json_loadb(frames[f].text, strlen(frames[f].text), JSON_DECODE_ANY, NULL);
        json_t *b = jsonfast_loadb(frames[f].text, strlen(frames[f].text), JSON_DECODE_ANY, NULL);
        if (!a || !json_equal(a, b)) {
            fprintf(stderr, "bench_parse: the two trees of %s differ\n", frames[f].name);
            return 1;
        }
        json_decref(a);
        json_decref(b);
    }
    loader loaders[2] = {json_loadb, jsonfast_loadb};
    double us[2][NFRAMES], mix[2] = {0, 0};
    for (int l = 0; l < 2; l++) {
        for (size_t f = 0; f < NFRAMES; f++) {
            double r[100];
            for (int i = 0; i < runs; i++)
                r[i] = time_one(loaders[l], frames[f].text);
            us[l][f] = bench_median(r, runs);
            mix[l] += us[l][f] * frames[f].per_mix / 4;
        }
    }
    json_t *out = json_pack("{s:f, s:f, s:f, s:i, s:{}}", "jansson_us", mix[0], "jsonfast_us",
                            mix[1], "ratio", mix[0] / mix[1], "runs", runs, "frames");
    for (size_t f = 0; f < NFRAMES; f++) {
        printf("%-20s %4zu bytes: json_loadb %.2f µs, jsonfast_loadb %.2f µs (%.1fx)\n",
               frames[f].name, strlen(frames[f].text), us[0][f], us[1][f], us[0][f] / us[1][f]);
        json_object_set_new(
            json_object_get(out, "frames"), frames[f].name,
            json_pack("{s:f, s:f}", "jansson_us", us[0][f], "jsonfast_us", us[1][f]));
    }
#ifdef EVGATE_MIMALLOC
    const char *malloc_name = "mimalloc"; /* as the gateway's */
    (void)mi_version();                   /* linked, not dropped as unused */
#else
    const char *malloc_name = "libc"; /* a sanitizer build */
#endif
    printf("a frame of the mix: json_loadb %.2f µs, jsonfast_loadb %.2f µs (%.1fx), median of %d, "
           "malloc %s\n",
           mix[0], mix[1], mix[0] / mix[1], runs, malloc_name);
    int rc = 0;
    if (json_out && json_dump_file(out, json_out, JSON_INDENT(1)) != 0) {
        fprintf(stderr, "bench_parse: cannot write %s\n", json_out);
        rc = 1;
    }
    json_decref(out);
    return rc;
}
