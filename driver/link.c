/*
 * A compiled object made a shared object (--emit=shared, onnxc profile).
 *
 * onnxc has no linker of its own: it runs the C compiler driver a user's
 * build would run, with an argument vector (no shell, so any file name is
 * safe).  The object is already position-independent and defines only the
 * entry points as global symbols, so the shared object exports only those.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "driver.h"

extern char **environ;

#if defined(__x86_64__)
#define HOST_ARCH "x86_64"
#elif defined(__aarch64__)
#define HOST_ARCH "aarch64"
#else
#define HOST_ARCH ""
#endif

enum { MAX_CC_WORDS = 16 };

/* $CC (split at blanks, as make does) or, by target: cc for the host's
 * architecture, <arch>-linux-gnu-gcc for another (Debian's cross gcc). */
static int compiler_words(const char *triple, char *buf, size_t size, char **words) {
  const char *cc = getenv("CC");
  if (cc && cc[strspn(cc, " \t")]) {
    snprintf(buf, size, "%s", cc);
  } else {
    size_t arch_len = triple ? strcspn(triple, "-") : 0;
    if (!triple || (arch_len == strlen(HOST_ARCH) && strncmp(triple, HOST_ARCH, arch_len) == 0))
      snprintf(buf, size, "cc");
    else
      snprintf(buf, size, "%.*s-linux-gnu-gcc", (int)arch_len, triple);
  }
  int n = 0;
  for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w && n < MAX_CC_WORDS;
       w = strtok_r(NULL, " \t", &save))
    words[n++] = w;
  return n;
}

Status drv_link_shared(const char *triple, const char *object, const char *output,
                       bool strict, const char *log_path, Error *err) {
  char ccbuf[1024];
  char *argv[MAX_CC_WORDS + 16];
  int n = compiler_words(triple, ccbuf, sizeof ccbuf, argv);
  if (n == 0) return err_set(err, ST_USAGE, "CC is empty");
  const char *cc = argv[0];
  const char *flags[] = {"-shared", "-Wl,-z,now", "-Wl,-z,relro", "-Wl,-z,noexecstack",
                         "-o", output, object, "-lm"};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) argv[n++] = (char *)flags[i];
  /* A sanitized object leaves the sanitizer's symbols to the program. */
  if (strict) argv[n++] = "-Wl,--no-undefined";
  argv[n] = NULL;

  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) return err_set(err, ST_NOMEM, "out of memory");
  if (log_path) {
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  pid_t pid;
  int rc = posix_spawnp(&pid, cc, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return err_set(err, ST_IO,
                   "cannot run the C compiler '%s' to link the shared object: %s "
                   "(install it, or name another with CC=...)",
                   cc, strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return err_set(err, ST_IO, "waiting for '%s': %s", cc, strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return err_set(err, ST_IO, "linking the shared object with '%s -shared' failed%s%s%s", cc,
                   log_path ? " (see " : "", log_path ? log_path : "", log_path ? ")" : "");
  return ST_OK;
}
