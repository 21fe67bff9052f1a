/*
 * The ABI of a compiled model, through the real `onnxc compile` binary
 * (ONNXC_BINARY) on two fixtures of tests/models (cnn_small_op17 as prefix
 * "cnn", vit_tiny_op17 as prefix "vit"):
 *   - the .o needs only libc/libm symbols from an allowlist (nm -u), and
 *     in particular no allocator;
 *   - both .o files link into ONE program, whose generated main runs the
 *     two models from two threads at once with their own workspaces, and
 *     their outputs match the fixtures' expected outputs (PyTorch's);
 *   - a NULL or misaligned workspace makes <prefix>_run return non-zero;
 *   - the header compiles as C11 and as C++ and documents itself;
 *   - compiling twice gives byte-identical .o and .h files.
 * See docs/ABI.md for the contract these tests hold the compiler to.
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
#include <unistd.h>

#include "runtime/npy.h"

#define MODELS ONNXC_SOURCE_DIR "/tests/models"

typedef struct Fixture {
  const char *dir;    /* under tests/models */
  const char *prefix;
} Fixture;

static const Fixture fixtures[2] = {{"cnn_small_op17", "cnn"}, {"vit_tiny_op17", "vit"}};

static char work[64]; /* temp dir holding cnn.o/.h, vit.o/.h, the programs */

/* Undefined symbols a compiled model may need: libc memory and string
 * functions the reference kernels use, their error formatting, and libm.
 * No allocator: kernels take scratch from the workspace (ops/ops.h). */
static const char *const allowed[] = {
    "memcpy", "memset", "memmove", "memcmp",
    "strcmp", "strlen", "strncmp", "vsnprintf", "snprintf", "__stack_chk_fail",
    "expf", "exp", "logf", "log", "powf", "pow", "sqrtf", "sqrt", "erff", "erf",
    "tanhf", "tanh", "sinf", "sin", "cosf", "cos", "tanf", "tan", "atanf", "atan",
    "asinf", "asin", "acosf", "acos", "sinhf", "sinh", "coshf", "cosh", "asinhf",
    "asinh", "acoshf", "acosh", "atanhf", "atanh", "exp2f", "exp2", "log2f", "log2",
    "log1pf", "log1p", "expm1f", "expm1", "fmodf", "fmod", "roundf", "round", "rintf",
    "rint", "nearbyintf", "nearbyint", "floorf", "floor", "ceilf", "ceil", "truncf",
    "trunc", "fabsf", "fabs", "frexp", "frexpf", "ldexp", "ldexpf", "nextafterf",
    "nextafter", "fmaf", "fma", "lrintf", "llrintf", "remainderf", "remainder",
};

static int run(const char *cmd) {
  int rc = system(cmd);
  return rc;
}

static void compile_model(const char *dir, const Fixture *f) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' compile '%s/%s/model.onnx' -o %s.o --name %s -O2 2>%s.log", dir,
           ONNXC_BINARY, MODELS, f->dir, f->prefix, f->prefix, f->prefix);
  if (run(cmd) != 0) fail_msg("failed: %s (see %s/%s.log)", cmd, dir, f->prefix);
}

static int setup(void **state) {
  (void)state;
  snprintf(work, sizeof work, "/tmp/onnxc-abi-XXXXXX");
  if (!mkdtemp(work)) return -1;
  for (int i = 0; i < 2; i++) compile_model(work, &fixtures[i]);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
  return run(cmd) == 0 ? 0 : -1;
}

static bool is_allowed(const char *sym) {
  for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
    if (strcmp(sym, allowed[i]) == 0) return true;
  return false;
}

/* nm's full listing: every undefined symbol must be allowed (no pthreads,
 * no OpenMP, no TLS: threads only come through the caller's hook), and the
 * only global definitions must be <prefix>_run and <prefix>_run_parallel
 * (so models link side by side). */
static void test_undefined_symbols(void **state) {
  (void)state;
  for (int m = 0; m < 2; m++) {
    char cmd[512], line[512], run_sym[64], par_sym[64];
    snprintf(cmd, sizeof cmd, "nm '%s/%s.o'", work, fixtures[m].prefix);
    snprintf(run_sym, sizeof run_sym, "%s_run", fixtures[m].prefix);
    snprintf(par_sym, sizeof par_sym, "%s_run_parallel", fixtures[m].prefix);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int count = 0;
    bool has_run = false, has_par = false;
    char list[2048] = "";
    size_t at = 0;
    while (fgets(line, sizeof line, p)) {
      char a[256], b[256], c[256];
      int k = sscanf(line, "%255s %255s %255s", a, b, c);
      const char *kind = k == 3 ? b : k == 2 ? a : "";
      const char *sym = k == 3 ? c : k == 2 ? b : "";
      char name[256];
      snprintf(name, sizeof name, "%s", sym);
      char *ver = strchr(name, '@'); /* glibc symbol versions */
      if (ver) *ver = '\0';
      if (strcmp(kind, "U") == 0) {
        if (!is_allowed(name)) {
          pclose(p);
          fail_msg("%s.o needs '%s', which is not in the libc/libm allowlist",
                   fixtures[m].prefix, name);
        }
        count++;
        if (at < sizeof list) at += (size_t)snprintf(list + at, sizeof list - at, " %s", name);
      } else if (kind[0] >= 'A' && kind[0] <= 'Z') {
        if (kind[0] == 'T' && strcmp(name, run_sym) == 0) {
          has_run = true;
        } else if (kind[0] == 'T' && strcmp(name, par_sym) == 0) {
          has_par = true;
        } else {
          pclose(p);
          fail_msg("%s.o defines the global symbol '%s' (%s); only %s and %s may be global",
                   fixtures[m].prefix, name, kind, run_sym, par_sym);
        }
      }
    }
    assert_int_equal(pclose(p), 0);
    if (!has_run) fail_msg("nm lists no 'T %s' in %s.o", run_sym, fixtures[m].prefix);
    if (!has_par) fail_msg("nm lists no 'T %s' in %s.o", par_sym, fixtures[m].prefix);
    print_message("  %s.o: defines only %s and %s; %d undefined symbol(s):%s\n",
                  fixtures[m].prefix, run_sym, par_sym, count, count ? list : " (none)");
  }
}

/* Writes input_0.npy of a fixture as raw bytes; returns the element count. */
static size_t write_raw_input(const Fixture *f) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s/input_0.npy", MODELS, f->dir);
  NpyArray a;
  Error err = {0};
  if (npy_read(path, &a, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(a.dtype, DT_FLOAT32);
  snprintf(path, sizeof path, "%s/%s.in", work, f->prefix);
  FILE *out = fopen(path, "wb");
  assert_non_null(out);
  assert_int_equal(fwrite(a.data, 1, a.nbytes, out), a.nbytes);
  assert_int_equal(fclose(out), 0);
  size_t n = a.nbytes / 4;
  npy_free(&a);
  return n;
}

/* The program: each model's thread runs it ITERS times with its own
 * workspace while the other model's thread does the same, checks every run
 * gives the same bytes, and writes the output; main first checks that a
 * NULL and a misaligned workspace are refused. */
static const char two_model_main[] =
    "#include <pthread.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"cnn.h\"\n"
    "#include \"vit.h\"\n"
    "#define ITERS 8\n"
    "typedef int (*RunFn)(const void *const[], void *const[], void *);\n"
    "typedef struct Job { const char *name; RunFn run; size_t in_n, out_n, ws; int rc; } Job;\n"
    "static float *load(const char *name, size_t n) {\n"
    "  char path[256]; snprintf(path, sizeof path, \"%s.in\", name);\n"
    "  float *p = malloc(n * sizeof *p); FILE *f = fopen(path, \"rb\");\n"
    "  if (!p || !f || fread(p, sizeof *p, n, f) != n) exit(10);\n"
    "  fclose(f); return p;\n"
    "}\n"
    "static void *work(void *arg) {\n"
    "  Job *j = arg;\n"
    "  float *in = load(j->name, j->in_n);\n"
    "  float *out = calloc(j->out_n, sizeof *out), *first = calloc(j->out_n, sizeof *out);\n"
    "  void *ws = aligned_alloc(64, (j->ws + 63) / 64 * 64 + 64);\n"
    "  if (!out || !first || !ws) { j->rc = 11; return NULL; }\n"
    "  const void *ins[1] = {in}; void *outs[1] = {out};\n"
    "  for (int it = 0; it < ITERS; it++) {\n"
    "    memset(ws, 0xA5 + it, j->ws);  /* stale workspace contents must not matter */\n"
    "    if (j->run(ins, outs, ws) != 0) { j->rc = 12; return NULL; }\n"
    "    if (it == 0) memcpy(first, out, j->out_n * sizeof *out);\n"
    "    else if (memcmp(first, out, j->out_n * sizeof *out) != 0) { j->rc = 13; return NULL; }\n"
    "  }\n"
    "  char path[256]; snprintf(path, sizeof path, \"%s.out\", j->name);\n"
    "  FILE *f = fopen(path, \"wb\");\n"
    "  if (!f || fwrite(out, sizeof *out, j->out_n, f) != j->out_n || fclose(f)) j->rc = 14;\n"
    "  free(in); free(out); free(first); free(ws);\n"
    "  return NULL;\n"
    "}\n"
    "int main(void) {\n"
    "  Job jobs[2] = {{\"cnn\", cnn_run, CNN_INPUT_0_SIZE, CNN_OUTPUT_0_SIZE, CNN_WORKSPACE_SIZE, 0},\n"
    "                 {\"vit\", vit_run, VIT_INPUT_0_SIZE, VIT_OUTPUT_0_SIZE, VIT_WORKSPACE_SIZE, 0}};\n"
    "  for (int m = 0; m < 2; m++) {\n"
    "    float *in = load(jobs[m].name, jobs[m].in_n), *out = calloc(jobs[m].out_n, 4);\n"
    "    char *ws = aligned_alloc(64, (jobs[m].ws + 63) / 64 * 64 + 128);\n"
    "    const void *ins[1] = {in}; void *outs[1] = {out};\n"
    "    if (!out || !ws) return 20;\n"
    "    if (jobs[m].run(ins, outs, NULL) == 0) { fprintf(stderr, \"%s: NULL workspace accepted\\n\", jobs[m].name); return 21; }\n"
    "    if (jobs[m].run(ins, outs, ws + 1) == 0) { fprintf(stderr, \"%s: misaligned workspace accepted\\n\", jobs[m].name); return 22; }\n"
    "    if (jobs[m].run(ins, outs, ws + 32) == 0) { fprintf(stderr, \"%s: 32-byte aligned workspace accepted\\n\", jobs[m].name); return 23; }\n"
    "    free(in); free(out); free(ws);\n"
    "  }\n"
    "  pthread_t t[2];\n"
    "  for (int m = 0; m < 2; m++) if (pthread_create(&t[m], NULL, work, &jobs[m])) return 30;\n"
    "  for (int m = 0; m < 2; m++) pthread_join(t[m], NULL);\n"
    "  for (int m = 0; m < 2; m++) if (jobs[m].rc) { fprintf(stderr, \"%s: error %d\\n\", jobs[m].name, jobs[m].rc); return jobs[m].rc; }\n"
    "  return 0;\n"
    "}\n";

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

/* Compares a raw float32 output with the fixture's output_0.npy. */
static void check_output(const Fixture *f) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s/output_0.npy", MODELS, f->dir);
  NpyArray want;
  Error err = {0};
  if (npy_read(path, &want, &err) != ST_OK) fail_msg("%s", err.msg);
  size_t n = want.nbytes / 4;
  float *got = malloc(want.nbytes);
  assert_non_null(got);
  snprintf(path, sizeof path, "%s/%s.out", work, f->prefix);
  FILE *in = fopen(path, "rb");
  assert_non_null(in);
  assert_int_equal(fread(got, 4, n, in), n);
  assert_int_equal(fgetc(in), EOF); /* the header's OUTPUT_0_SIZE agrees with the fixture */
  fclose(in);
  const float *w = want.data;
  double max_abs = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)w[i]);
    if (d > max_abs) max_abs = d;
    if (!(d <= 1e-4 + 1e-3 * fabs((double)w[i])))
      fail_msg("%s output[%zu] = %.9g, expected %.9g", f->prefix, i, got[i], w[i]);
  }
  print_message("  %s: %zu outputs match the fixture, max_abs %.3g\n", f->prefix, n, max_abs);
  free(got);
  npy_free(&want);
}

static void test_two_models_two_threads(void **state) {
  (void)state;
  for (int m = 0; m < 2; m++) write_raw_input(&fixtures[m]);
  char path[256], cmd[1024];
  snprintf(path, sizeof path, "%s/two.c", work);
  write_text(path, two_model_main);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o two two.c "
           "cnn.o vit.o -lm -lpthread",
           work);
  assert_int_equal(run(cmd), 0);
  snprintf(cmd, sizeof cmd, "cd '%s' && ./two", work);
  int rc = run(cmd);
  if (rc != 0) fail_msg("the two-model program failed (status 0x%x, see stderr)", (unsigned)rc);
  for (int m = 0; m < 2; m++) check_output(&fixtures[m]);
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  if (len) *len = (size_t)n;
  return buf;
}

static void test_header_c_and_cxx(void **state) {
  (void)state;
  char path[256], cmd[1024];
  snprintf(path, sizeof path, "%s/both.c", work);
  write_text(path, "#include \"cnn.h\"\n#include \"vit.h\"\n"
                   "static const long shape[] = CNN_INPUT_0_SHAPE;\n"
                   "typedef int (*RunFn)(const void *const[], void *const[], void *);\n"
                   "RunFn pick(int i);\n"
                   "RunFn pick(int i) {\n"
                   "  int ok = (int)(sizeof shape / sizeof *shape) == CNN_INPUT_0_RANK &&\n"
                   "           VIT_WORKSPACE_ALIGN == 64 && CNN_NUM_INPUTS == 1;\n"
                   "  return ok && i ? cnn_run : vit_run;\n"
                   "}\n");
  snprintf(cmd, sizeof cmd,
           "cd '%s' && cc -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only both.c", work);
  assert_int_equal(run(cmd), 0);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c++ "
           "both.c",
           work);
  assert_int_equal(run(cmd), 0);
  /* Self-documenting: banner, model, command line, the contract of _run. */
  snprintf(path, sizeof path, "%s/cnn.h", work);
  char *h = read_all(path, NULL);
  assert_non_null(h);
  const char *must[] = {"Generated by onnxc",     "Model:",          "cnn_small_op17/model.onnx",
                        "Command: onnxc compile", "int cnn_run(",    "CNN_WORKSPACE_SIZE",
                        "CNN_WORKSPACE_ALIGN",    "Returns 0",       "misaligned",
                        "CNN_INPUT_0_NAME",       "CNN_OUTPUT_0_DTYPE", "extern \"C\""};
  for (size_t i = 0; i < sizeof must / sizeof *must; i++)
    if (!strstr(h, must[i])) fail_msg("cnn.h does not mention '%s'", must[i]);
  free(h);
}

static void test_deterministic(void **state) {
  (void)state;
  char dirs[2][64];
  for (int k = 0; k < 2; k++) {
    snprintf(dirs[k], sizeof dirs[k], "/tmp/onnxc-det-XXXXXX");
    assert_non_null(mkdtemp(dirs[k]));
    compile_model(dirs[k], &fixtures[0]);
  }
  const char *files[] = {"cnn.o", "cnn.h"};
  for (int i = 0; i < 2; i++) {
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/%s", dirs[0], files[i]);
    snprintf(b, sizeof b, "%s/%s", dirs[1], files[i]);
    size_t la = 0, lb = 0;
    char *da = read_all(a, &la), *db = read_all(b, &lb);
    assert_non_null(da);
    assert_non_null(db);
    if (la != lb || memcmp(da, db, la) != 0)
      fail_msg("%s and %s differ (%zu vs %zu bytes)", a, b, la, lb);
    print_message("  %s: %zu bytes, identical in two compilations\n", files[i], la);
    free(da);
    free(db);
  }
  for (int k = 0; k < 2; k++) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dirs[k]);
    assert_int_equal(run(cmd), 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_undefined_symbols),
      cmocka_unit_test(test_two_models_two_threads),
      cmocka_unit_test(test_header_c_and_cxx),
      cmocka_unit_test(test_deterministic),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
