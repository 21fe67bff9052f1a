/*
 * `onnxc compile --weights=FILE`: the weights leave the object file.
 * Through the real onnxc binary, on fixtures of tests/models that cover the
 * GEMM, conv (direct, 1x1, depthwise, BatchNorm-folded) and attention
 * lowerings:
 *   - the .o exports exactly <prefix>_run_with_weights and
 *     <prefix>_weights_check (no <prefix>_run), and is much smaller than the
 *     one with embedded weights while the file holds what left it;
 *   - a program that loads the file runs the model and matches the
 *     fixture's PyTorch output, and gives the same bytes as the embedded
 *     build of the same model;
 *   - NULL, misaligned, corrupted, truncated or another model's weights are
 *     refused with 3 (the header check on every call, the full hash in
 *     _weights_check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/npy.h"

#define MODELS ONNXC_SOURCE_DIR "/tests/models"

static const char *const fixtures[] = {"cnn_small_op17", "vit_tiny_op17", "nextvit_s_reduced_op17",
                                       "swin_tiny_op17"};
#define NUM_FIXTURES (sizeof fixtures / sizeof *fixtures)

static char work[64];

static int sh(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

static long file_size(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The program: argv = weights file, input, output, other model's weights.
 * Exit 0 when every check passes; a distinct code per failed check. */
static const char harness[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"m.h\"\n"
    "static char *slurp(const char *path, long *n) {\n"
    "  FILE *f = fopen(path, \"rb\"); if (!f) return NULL;\n"
    "  fseek(f, 0, SEEK_END); *n = ftell(f); fseek(f, 0, SEEK_SET);\n"
    "  char *p = aligned_alloc(64, (size_t)(*n + 64) / 64 * 64 + 64);\n"
    "  if (!p || fread(p, 1, (size_t)*n, f) != (size_t)*n) exit(10);\n"
    "  fclose(f); return p;\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  if (argc != 5) return 11;\n"
    "  long wn, in_n, other_n;\n"
    "  char *w = slurp(argv[1], &wn), *in = slurp(argv[2], &in_n), *other = slurp(argv[4], &other_n);\n"
    "  if (!w || !in || !other) return 12;\n"
    "  if (wn != (long)M_WEIGHTS_SIZE) return 13;\n"
    "  if (in_n != (long)(M_INPUT_0_SIZE * 4)) return 14;\n"
    "  float *out = calloc(M_OUTPUT_0_SIZE, 4), *again = calloc(M_OUTPUT_0_SIZE, 4);\n"
    "  char *ws = aligned_alloc(64, (M_WORKSPACE_SIZE + 63) / 64 * 64 + 64);\n"
    "  if (!out || !again || !ws) return 15;\n"
    "  const void *ins[1] = {in}; void *outs[1] = {out}, *outs2[1] = {again};\n"
    "  if (m_weights_check(w, (unsigned long long)wn) != 0) return 20;\n"
    "  if (m_run_with_weights(w, ins, outs, ws) != 0) return 21;\n"
    "  memset(ws, 0x5a, M_WORKSPACE_SIZE);\n"
    "  if (m_run_with_weights(w, ins, outs2, ws) != 0) return 22;\n"
    "  if (memcmp(out, again, M_OUTPUT_0_SIZE * 4) != 0) return 23;\n"
    "  if (m_run_with_weights(NULL, ins, outs2, ws) != 3) return 30;\n"
    "  char *shifted = aligned_alloc(64, (size_t)(wn + 64) / 64 * 64 + 64);\n"
    "  if (!shifted) return 15;\n"
    "  memcpy(shifted + 8, w, (size_t)wn);\n"
    "  if (m_run_with_weights(shifted + 8, ins, outs2, ws) != 3) return 31;\n"
    "  if (m_weights_check(w, (unsigned long long)wn - 1) != 3) return 32;\n"
    "  if (m_weights_check(NULL, (unsigned long long)wn) != 3) return 33;\n"
    "  if (m_run_with_weights(other, ins, outs2, ws) != 3) return 34;\n"
    "  if (other_n == wn && m_weights_check(other, (unsigned long long)wn) != 3) return 35;\n"
    "  w[wn - 1] ^= 0x10;  /* payload: only the full hash sees it */\n"
    "  if (m_weights_check(w, (unsigned long long)wn) != 3) return 36;\n"
    "  w[wn - 1] ^= 0x10; w[20] ^= 0x01;  /* header hash field */\n"
    "  if (m_run_with_weights(w, ins, outs2, ws) != 3) return 37;\n"
    "  if (m_weights_check(w, (unsigned long long)wn) != 3) return 38;\n"
    "  w[20] ^= 0x01;\n"
    "  if (m_run_with_weights(w, ins, outs2, ws + 32) != 1) return 39;\n"
    "  FILE *f = fopen(argv[3], \"wb\");\n"
    "  if (!f || fwrite(out, 4, M_OUTPUT_0_SIZE, f) != M_OUTPUT_0_SIZE || fclose(f)) return 40;\n"
    "  return 0;\n"
    "}\n";

static const char embedded_harness[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include \"e.h\"\n"
    "int main(int argc, char **argv) {\n"
    "  if (argc != 3) return 11;\n"
    "  FILE *f = fopen(argv[1], \"rb\");\n"
    "  float *in = malloc(E_INPUT_0_SIZE * 4), *out = calloc(E_OUTPUT_0_SIZE, 4);\n"
    "  void *ws = aligned_alloc(64, (E_WORKSPACE_SIZE + 63) / 64 * 64 + 64);\n"
    "  if (!f || !in || !out || !ws || fread(in, 4, E_INPUT_0_SIZE, f) != E_INPUT_0_SIZE) return 12;\n"
    "  fclose(f);\n"
    "  const void *ins[1] = {in}; void *outs[1] = {out};\n"
    "  if (e_run(ins, outs, ws) != 0) return 13;\n"
    "  f = fopen(argv[2], \"wb\");\n"
    "  if (!f || fwrite(out, 4, E_OUTPUT_0_SIZE, f) != E_OUTPUT_0_SIZE || fclose(f)) return 14;\n"
    "  return 0;\n"
    "}\n";

static void write_text(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
}

static void write_raw_input(const char *fixture, const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s/input_0.npy", MODELS, fixture);
  NpyArray a;
  Error err = {0};
  if (npy_read(path, &a, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(a.dtype, DT_FLOAT32);
  snprintf(path, sizeof path, "%s/in.raw", dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(a.data, 1, a.nbytes, f), a.nbytes);
  assert_int_equal(fclose(f), 0);
  npy_free(&a);
}

static float *read_raw(const char *dir, const char *name, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  float *p = malloc(n * sizeof *p + 1);
  assert_non_null(p);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fread(p, sizeof *p, n, f), n);
  assert_int_equal(fgetc(f), EOF);
  fclose(f);
  return p;
}

/* nm: the defined globals are exactly the two entry points. */
static void check_symbols(const char *dir) {
  char cmd[512], line[512];
  snprintf(cmd, sizeof cmd, "nm -g --defined-only '%s/m.o'", dir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  int run_w = 0, run_pw = 0, check = 0, other = 0;
  while (fgets(line, sizeof line, p)) {
    char addr[64], kind[8], name[256];
    if (sscanf(line, "%63s %7s %255s", addr, kind, name) != 3) continue;
    if (strcmp(name, "m_run_with_weights") == 0) run_w++;
    else if (strcmp(name, "m_run_parallel_with_weights") == 0) run_pw++;
    else if (strcmp(name, "m_weights_check") == 0) check++;
    else {
      other++;
      print_message("  unexpected global symbol %s\n", name);
    }
  }
  assert_int_equal(pclose(p), 0);
  assert_int_equal(run_w, 1);
  assert_int_equal(run_pw, 1);
  assert_int_equal(check, 1);
  assert_int_equal(other, 0);
}

static void test_fixture(const char *fixture, const char *other_dir) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/%s", work, fixture);
  assert_int_equal(mkdir(dir, 0700), 0);
  if (sh("cd '%s' && '%s' compile '%s/%s/model.onnx' -o m.o --name m -O2 --weights=m.bin 2>m.log",
         dir, ONNXC_BINARY, MODELS, fixture) != 0)
    fail_msg("%s: onnxc compile --weights failed (see %s/m.log)", fixture, dir);
  if (sh("cd '%s' && '%s' compile '%s/%s/model.onnx' -o e.o --name e -O2 2>e.log", dir,
         ONNXC_BINARY, MODELS, fixture) != 0)
    fail_msg("%s: onnxc compile failed (see %s/e.log)", fixture, dir);
  check_symbols(dir);

  long obj = file_size(dir, "m.o"), bin = file_size(dir, "m.bin"), emb = file_size(dir, "e.o");
  print_message("  %s: m.o %ld bytes + m.bin %ld bytes; embedded e.o %ld bytes\n", fixture, obj,
                bin, emb);
  /* What left the .o is in the file: the .o shrank by most of the file. */
  assert_true(bin > 64);
  assert_true(emb - obj > (bin - 64) * 9 / 10);

  write_raw_input(fixture, dir);
  write_text(dir, "h.c", harness);
  write_text(dir, "e.c", embedded_harness);
  if (sh("cd '%s' && cc -std=c11 -Wall -Wextra -Werror -o h h.c m.o -lm && "
         "cc -std=c11 -Wall -Wextra -Werror -o eh e.c e.o -lm", dir) != 0)
    fail_msg("%s: linking the harnesses failed", fixture);
  int rc = sh("cd '%s' && ./h m.bin in.raw out.raw '%s/m.bin'", dir, other_dir);
  if (rc != 0) fail_msg("%s: harness check failed, exit status %d", fixture, WEXITSTATUS(rc));
  assert_int_equal(sh("cd '%s' && ./eh in.raw emb.raw", dir), 0);

  char path[512];
  snprintf(path, sizeof path, "%s/%s/output_0.npy", MODELS, fixture);
  NpyArray want;
  Error err = {0};
  if (npy_read(path, &want, &err) != ST_OK) fail_msg("%s", err.msg);
  size_t n = want.nbytes / 4;
  float *got = read_raw(dir, "out.raw", n), *emb_out = read_raw(dir, "emb.raw", n);
  const float *w = want.data;
  double max_ref = 0, max_err = 0;
  for (size_t i = 0; i < n; i++) max_ref = fmax(max_ref, fabs((double)w[i]));
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)w[i]);
    max_err = fmax(max_err, d);
    if (!(d <= 1e-4 * max_ref + 1e-6))
      fail_msg("%s output[%zu] = %.9g, PyTorch %.9g", fixture, i, got[i], w[i]);
  }
  if (memcmp(got, emb_out, n * 4) != 0)
    fail_msg("%s: external weights give different bytes than embedded weights", fixture);
  print_message("  %s: %zu outputs, max err %.3g x max|ref|, identical to the embedded build\n",
                fixture, n, max_err / (max_ref > 0 ? max_ref : 1));
  free(got);
  free(emb_out);
  npy_free(&want);
}

static void test_fixtures(void **state) {
  (void)state;
  for (size_t i = 0; i < NUM_FIXTURES; i++) {
    char other[512];
    /* "Another model's weights": the previous fixture's file; the first
     * fixture gets 4 KiB of zeros (a foreign header). */
    snprintf(other, sizeof other, "%s/%s", work, i ? fixtures[i - 1] : "");
    if (i == 0) {
      snprintf(other, sizeof other, "%s/zero", work);
      assert_int_equal(mkdir(other, 0700), 0);
      assert_int_equal(sh("head -c 4096 /dev/zero > '%s/m.bin'", other), 0);
    }
    test_fixture(fixtures[i], other);
  }
}

/* Bad --weights values are usage errors with a message, not crashes. */
static void test_cli_errors(void **state) {
  (void)state;
  int rc = sh("cd '%s' && '%s' compile '%s/cnn_small_op17/model.onnx' -o x.o --weights= 2>err1.txt",
              work, ONNXC_BINARY, MODELS);
  assert_int_not_equal(rc, 0);
  rc = sh("cd '%s' && '%s' compile '%s/cnn_small_op17/model.onnx' -o x.o "
          "--weights=/nonexistent-dir/w.bin 2>err2.txt",
          work, ONNXC_BINARY, MODELS);
  assert_int_equal(WEXITSTATUS(rc), 2);
  assert_int_equal(sh("grep -q 'the weights file (--weights): the folder of .* does not exist' "
                      "'%s/err2.txt'", work), 0);
  rc = sh("cd '%s' && '%s' compile '%s/cnn_small_op17/model.onnx' -o x.o --weights=x.o 2>err3.txt",
          work, ONNXC_BINARY, MODELS);
  assert_int_equal(WEXITSTATUS(rc), 2);
  assert_int_equal(sh("grep -q 'refusing to write the weights file (--weights) to .x.o.: that is "
                      "also the object file' '%s/err3.txt'", work), 0);
}

static int setup(void **state) {
  (void)state;
  snprintf(work, sizeof work, "/tmp/onnxc-wfile-XXXXXX");
  return mkdtemp(work) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return sh("rm -rf '%s'", work) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixtures),
      cmocka_unit_test(test_cli_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
