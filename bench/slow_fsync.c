/*
 * An LD_PRELOAD shim that makes fsync(2) and fdatasync(2) take SLOW_FSYNC_MS
 * (default 10) milliseconds longer, to measure hookd on a slow disk (a cloud
 * volume, a busy RAID, an SD card) on a machine whose disk syncs in 0.3 ms.
 *
 *   gcc -shared -fPIC -O2 -o /tmp/slow_fsync.so bench/slow_fsync.c -ldl
 *   deno task bench --scenarios 1 --servers hookd \
 *     --server-env LD_PRELOAD=/tmp/slow_fsync.so --server-env SLOW_FSYNC_MS=10
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void slow_down(void) {
  const char *value = getenv("SLOW_FSYNC_MS");
  long ms = value ? atol(value) : 10;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep(&pause, NULL);
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  slow_down();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  slow_down();
  return real(fd);
}
