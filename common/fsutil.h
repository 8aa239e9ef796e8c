/* Small file-system helpers shared by the daemons. */
#ifndef EVGATE_FSUTIL_H
#define EVGATE_FSUTIL_H

#include <sys/types.h>

/* Creates directory `dir` and its missing parents (like mkdir -p). Returns 0, or -1 with
 * errno set. */
int fs_mkdir_p(const char *dir, mode_t mode);

/* Creates the directory that holds file `path` (and its parents). Returns 0 or -1. */
int fs_mkdir_parent(const char *path, mode_t mode);

#endif
