/*
 * Shared by the test_cli*.c tests, which drive the built onnxc binary
 * (ONNXC_BINARY) through the shell: run_onnxc keeps the exit status and
 * the captured stdout/stderr; each test runs in its own work_dir prefix.
 * Header-only (static functions), like the other test utilities.
 */
#ifndef ONNXC_TEST_CLI_UTIL_H
#define ONNXC_TEST_CLI_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONV_TEST ONNXC_SHARED_DIR "/onnx-node-tests/test_conv_with_strides_padding"
#define CONV_MODEL CONV_TEST "/model.onnx"
#define CONV_X CONV_TEST "/test_data_set_0/input_0.pb"
#define CONV_W CONV_TEST "/test_data_set_0/input_1.pb"
#define CONV_Y CONV_TEST "/test_data_set_0/output_0.pb"
#define CNN_MODEL ONNXC_SOURCE_DIR "/tests/models/cnn_small_op17/model.onnx"

static char out_path[256], err_path[256], work_dir[256];
static char *out_text, *err_text; /* captured by the last run_onnxc */

static inline char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return calloc(1, 1);
  char *buf = calloc(1, 1 << 20);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static inline int vrun_onnxc(const char *cwd, const char *fmt, va_list ap) {
  char args[4096], cmd[8192];
  vsnprintf(args, sizeof args, fmt, ap);
  char here[4096];
  if (!getcwd(here, sizeof here)) here[0] = '\0';
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s/%s' 2>'%s/%s'", cwd ? cwd : ".",
           ONNXC_BINARY, args, here, out_path, here, err_path);
  int status = system(cmd);
  free(out_text);
  free(err_text);
  out_text = read_text(out_path);
  err_text = read_text(err_path);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/* Runs `onnxc ARGS` through the shell; returns the exit status and keeps
 * stdout/stderr in out_text/err_text. */
static inline int run_onnxc(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vrun_onnxc(NULL, fmt, ap);
  va_end(ap);
  return rc;
}

/* The same, with cwd as the current folder. */
static inline int run_onnxc_in(const char *cwd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vrun_onnxc(cwd, fmt, ap);
  va_end(ap);
  return rc;
}

static inline int setup(void **state) {
  (void)state;
  snprintf(work_dir, sizeof work_dir, "test_cli_%ld", (long)getpid());
  snprintf(out_path, sizeof out_path, "%s.out", work_dir);
  snprintf(err_path, sizeof err_path, "%s.err", work_dir);
  return 0;
}

static inline int teardown(void **state) {
  (void)state;
  free(out_text);
  free(err_text);
  out_text = err_text = NULL;
  remove(out_path);
  remove(err_path);
  return 0;
}

/* Runs a shell command (printf-style); returns its exit status. */
static inline int sh(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int status = system(cmd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Fails unless the last run_onnxc printed one error starting with
 * "onnxc: " that contains `want`: further lines may only continue it
 * (indented) or be the "try 'onnxc ... --help'" hint; never a raw LLVM
 * diagnostic. */
static inline void expect_error(const char *want) {
  if (strncmp(err_text, "onnxc: ", 7) != 0) fail_msg("stderr does not start with 'onnxc: ': %s", err_text);
  if (!strstr(err_text, want)) fail_msg("stderr lacks '%s': %s", want, err_text);
  if (strstr(err_text, "LLVM ERROR") || strstr(err_text, "is not a recognized"))
    fail_msg("raw LLVM diagnostic on stderr: %s", err_text);
  for (const char *line = strchr(err_text, '\n'); line && line[1]; line = strchr(line + 1, '\n'))
    if (strncmp(line + 1, "  ", 2) != 0 && strncmp(line + 1, "try 'onnxc", 10) != 0 &&
        strncmp(line + 1, "give them", 9) != 0)
      fail_msg("a second message on stderr: %s", err_text);
}

#endif
