/* libFuzzer target: the config-file parser on arbitrary file contents. */
#include "common/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/evgate-fuzz-config-%d", (int)getpid());
        setenv("EVGATE_CONFIG", path, 1);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct evg_config cfg;
    char err[512];
    char *argv[] = {"fuzz", NULL};
    if (cfg_load(&cfg, CFG_ALL, "fuzz", 1, argv, err, sizeof err) == 0)
        cfg_free(&cfg);
    return 0;
}
