// The capacity of a pipe (Linux F_SETPIPE_SZ): `logseal decrypt | …` writes MBs a page into a pipe of 64 KiB by
// default, Node's writes to a pipe block, and every 64 KiB the writer waits for the reader and wakes it.
#define _GNU_SOURCE
#include "napi-args.h"
#include <fcntl.h>
#include <sys/stat.h>

/* setPipeSize(fd, bytes): number — the pipe's capacity after asking for `bytes`; -1 when fd is not a pipe or the
 * system does not allow it (over /proc/sys/fs/pipe-max-size, or no F_SETPIPE_SZ on this system). */
napi_value set_pipe_size(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, "setPipeSize", info, 2, argv)) return NULL;
  int32_t fd, bytes;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &bytes) != napi_ok || fd < 0 || bytes <= 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setPipeSize: fd and bytes must be whole numbers (bytes > 0)");
    return NULL;
  }
  int got = -1;
#ifdef F_SETPIPE_SZ
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fcntl(fd, F_SETPIPE_SZ, bytes) >= 0) got = fcntl(fd, F_GETPIPE_SZ);
#endif
  napi_value r;
  CHECK("setPipeSize", napi_create_int32(env, got, &r));
  return r;
}
