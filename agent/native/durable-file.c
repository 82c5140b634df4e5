// A file replaced durably in one job on libuv's thread pool: the checkpoint store's save (write a temporary file,
// fsync, close, keep the current version as the backup through a hard link, rename over, fsync the directory) is ten
// file-system calls, and each through node:fs/promises is a round trip between the pool and the main thread, about
// as much main-thread CPU as the calls themselves. Here the same calls, in the same order, make one round trip.
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* open's O_CLOEXEC, and what uv.h needs, under -std=c11 */
#include "napi-args.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

enum { TMP, TARGET, BACKUP_STAGING, BACKUP, DIR_PATH, PATHS };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *path[PATHS];
  uint8_t *body;
  size_t body_len;
  int err;             /* errno of the call that failed, 0 when all went well */
  const char *syscall; /* the failed call's name, as node:fs names it */
} replace_job;

static int fail(replace_job *job, const char *syscall) {
  job->err = errno;
  job->syscall = syscall;
  return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The current version becomes the backup: linked (no copy; the target never disappears), then renamed into place.
   No current version (the first save) is no error; a file system without hard links fails with the link's errno. */
static int keep_backup(replace_job *job) {
  if (!job->path[BACKUP][0]) return 0;
  if (link(job->path[TARGET], job->path[BACKUP_STAGING]) != 0) {
    if (errno == ENOENT) return 0;
    if (errno != EEXIST) return fail(job, "link");
    /* left by a save that failed after linking */
    if (unlink(job->path[BACKUP_STAGING]) != 0) return fail(job, "unlink");
    if (link(job->path[TARGET], job->path[BACKUP_STAGING]) != 0) return errno == ENOENT ? 0 : fail(job, "link");
  }
  return rename(job->path[BACKUP_STAGING], job->path[BACKUP]) == 0 ? 0 : fail(job, "rename");
}

/* The directory's fsync makes the rename durable; where a platform cannot fsync a directory the rename is still
   atomic, so those refusals are no error (the same set as the JavaScript path's). */
static bool cannot_sync_directories(int err) { return err == EISDIR || err == EINVAL || err == EPERM || err == EBADF; }

static int sync_directory(replace_job *job) {
  int fd = open(job->path[DIR_PATH], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_sync_directories(errno) ? 0 : fail(job, "open");
  int rc = fsync(fd);
  int sync_errno = errno;
  close(fd);
  if (rc != 0 && !cannot_sync_directories(sync_errno)) {
    errno = sync_errno;
    return fail(job, "fsync");
  }
  return 0;
}

static void execute(napi_env env, void *data) {
  (void)env;
  replace_job *job = data;
  int fd = open(job->path[TMP], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail(job, "open");
    return;
  }
  if (write_all(fd, job->body, job->body_len) != 0) fail(job, "write");
  else if (fsync(fd) != 0) fail(job, "fsync");
  if (close(fd) != 0 && !job->err) fail(job, "close");
  if (!job->err && keep_backup(job) == 0 && rename(job->path[TMP], job->path[TARGET]) != 0) fail(job, "rename");
  if (job->err) {
    int err = job->err;
    unlink(job->path[TMP]);
    job->err = err;
    return;
  }
  sync_directory(job);
}

static void free_job(replace_job *job) {
  for (int i = 0; i < PATHS; i++) free(job->path[i]);
  free(job->body);
  free(job);
}

static void complete(napi_env env, napi_status status, void *data) {
  replace_job *job = data;
  napi_value result = NULL;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "replaceFileDurably: the job did not run", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else if (job->err) {
    const char *code = uv_err_name(-job->err);
    char text[256];
    snprintf(text, sizeof text, "%s: %s, %s", code, strerror(job->err), job->syscall);
    napi_value code_value, msg, syscall;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, job->syscall, NAPI_AUTO_LENGTH, &syscall);
    napi_create_error(env, code_value, msg, &result);
    napi_set_named_property(env, result, "syscall", syscall);
    napi_reject_deferred(env, job->deferred, result);
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free_job(job);
}

static char *copy_string(napi_env env, napi_value v, const char *name) {
  size_t len;
  char msg[96];
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    snprintf(msg, sizeof msg, "replaceFileDurably: %s must be a string", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, NULL, "replaceFileDurably: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* replaceFileDurably(tmp, target, backupStaging, backup, dir, body): Promise<void>. An empty backup keeps none. The
   promise is rejected with an Error whose code (ENOENT, ENOSPC, …) and syscall name the call that failed; the
   temporary file is removed then, and the target is left as it was unless only the directory's fsync failed. */
napi_value replace_file_durably(napi_env env, napi_callback_info info) {
  static const char *names[PATHS] = {"tmp", "target", "backupStaging", "backup", "dir"};
  napi_value argv[PATHS + 1];
  if (!get_args(env, "replaceFileDurably", info, PATHS + 1, argv)) return NULL;
  uint8_t *body;
  size_t body_len;
  if (!get_bytes(env, "replaceFileDurably", argv[PATHS], "body", &body, &body_len)) return NULL;
  replace_job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, NULL, "replaceFileDurably: out of memory");
    return NULL;
  }
  for (int i = 0; i < PATHS; i++) {
    if (!(job->path[i] = copy_string(env, argv[i], names[i]))) {
      free_job(job);
      return NULL;
    }
  }
  /* A copy: the caller may reuse its buffer before the job runs. */
  job->body = malloc(body_len ? body_len : 1);
  if (!job->body) {
    free_job(job);
    napi_throw_error(env, NULL, "replaceFileDurably: out of memory");
    return NULL;
  }
  memcpy(job->body, body, body_len);
  job->body_len = body_len;
  napi_value promise, resource_name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "logseal:replaceFileDurably", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, job, &job->work) != napi_ok) {
    free_job(job);
    napi_throw_error(env, NULL, "replaceFileDurably: cannot start the job");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free_job(job);
    napi_throw_error(env, NULL, "replaceFileDurably: cannot queue the job");
    return NULL;
  }
  return promise;
}
#endif
