/*
 * The parallel hook through the real path: onnxc compile (with a tiny
 * --min-task-us, so that every partitioned kernel of the fixture splits)
 * -> m.o + m.h -> tests/support/parallel_harness.c linked with the pool ->
 * run.  The harness checks the hook contract (NULL, threads == 1, bad
 * hooks refused with 4) and that pools of 1, 2, 3 and 8 threads, reversed
 * and shuffled task orders and the OpenMP adapter give the serial run's
 * bits.  Also: the same with --weights=FILE, and two models sharing one
 * pool from two threads (tests/support/two_models_parallel.c).
 *
 * With ONNXC_TEST_TSAN=1 in the environment the generated code
 * (--sanitize=thread, for SSE so that every vector access is one TSan
 * can check), the pool and the harnesses are built with ThreadSanitizer
 * (clang-19), which then watches every run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODELS_DIR ONNXC_SOURCE_DIR "/tests/models"
#define SUPPORT_DIR ONNXC_SOURCE_DIR "/tests/support"

static char work[256];
static bool tsan;

static int sh(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The C compiler and flags for harnesses: TSan needs clang's runtime. */
static const char *cc(void) {
  return tsan ? "clang-19 -O1 -g -fsanitize=thread" : "cc -O1";
}

static void compile_model(const char *fixture, const char *name, const char *extra) {
  int rc = sh("cd '%s' && '%s' compile '%s/%s/model.onnx' -o %s.o --header %s.h --name %s "
              "--min-task-us=0.001 %s %s 2>compile.err",
              work, ONNXC_BINARY, MODELS_DIR, fixture, name, name, name,
              /* SSE: TSan instruments accesses of up to 16 bytes only. */
              tsan ? "--sanitize=thread -mcpu=x86-64" : "", extra);
  if (rc != 0) {
    sh("cat '%s/compile.err'", work);
    fail_msg("%s: onnxc compile exited %d", fixture, rc);
  }
}

static void run_harness(const char *fixture, bool openmp, const char *weights) {
  compile_model(fixture, "m", weights ? weights : "");
  int rc = sh("cd '%s' && %s %s -I. -I'%s/runtime' -o ph '%s/parallel_harness.c' m.o "
              "'%s/runtime/onnxc_pool.c' -pthread -lm && ./ph %s",
              work, cc(), openmp ? "-fopenmp" : "", ONNXC_SOURCE_DIR, SUPPORT_DIR,
              ONNXC_SOURCE_DIR, weights ? "w.bin" : "");
  if (rc != 0) fail_msg("%s: parallel harness exited %d", fixture, rc);
}

static const char *const fixtures[] = {
    "cnn_small_op17",          /* direct, 1x1 and depthwise conv, pooling, GEMM */
    "vit_tiny_op17",           /* attention, layernorm, fused MatMul */
    "swin_tiny_op17",          /* window attention, transposes */
    "nextvit_s_reduced_op17",  /* conv + attention hybrid */
    "hrformer_t_reduced_op17", /* parallel branches, window attention */
    "t2t_performer_reduced_op17",
    "vitae_t_reduced_op17",
};

static void test_fixtures(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
    print_message("  %s\n", fixtures[i]);
    /* OpenMP once: libgomp under TSan reports its own barriers. */
    run_harness(fixtures[i], i == 0 && !tsan, NULL);
  }
}

static void test_weights_file(void **state) {
  (void)state;
  run_harness("vit_tiny_op17", false, "--weights=w.bin");
  run_harness("cnn_small_op17", false, "--weights=w.bin");
}

static void test_two_models_one_pool(void **state) {
  (void)state;
  compile_model("cnn_small_op17", "a", "");
  compile_model("vit_tiny_op17", "b", "");
  int rc = sh("cd '%s' && %s -I. -I'%s/runtime' -o two '%s/two_models_parallel.c' a.o b.o "
              "'%s/runtime/onnxc_pool.c' -pthread -lm && ./two",
              work, cc(), ONNXC_SOURCE_DIR, SUPPORT_DIR, ONNXC_SOURCE_DIR);
  if (rc != 0) fail_msg("two models sharing a pool: exited %d", rc);
}

static int setup(void **state) {
  (void)state;
  const char *t = getenv("ONNXC_TEST_TSAN");
  tsan = t && strcmp(t, "1") == 0;
  snprintf(work, sizeof work, "/tmp/onnxc-parallel-XXXXXX");
  return mkdtemp(work) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sh("rm -rf '%s'", work);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixtures),
      cmocka_unit_test(test_weights_file),
      cmocka_unit_test(test_two_models_one_pool),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
