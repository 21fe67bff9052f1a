/*
 * End to end on every exported model in tests/models/ (PyTorch 1.13 and
 * current-torch exports of the seed families, torchvision ViT/Swin and a
 * CNN): the real user path, checked against PyTorch's own output.
 *
 *   onnxc compile model.onnx -> m.o + m.h -> cc harness.c m.o -> run on
 *   input_0.npy -> compare with output_0.npy (max abs error <= 1e-4 * max
 *   |ref| and the same argmax per row)
 *   onnxc run (reference evaluator) -> the same comparison
 *   onnxc verify --each (every pass keeps the outputs)
 *   onnxc compile --print-kernels: no node runs a reference kernel
 *
 * Each fixture's meta.json gives the input name and the shape it was
 * exported with (passed as --input-shape, which also fixes dynamic batch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/npy.h"

#define MODELS_DIR ONNXC_SOURCE_DIR "/tests/models"

static char work[256];

static int sh(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 16);
  if (buf) buf[fread(buf, 1, (1 << 16) - 1, f)] = 0;
  fclose(f);
  return buf;
}

/* From meta.json: "input_name": "x" and "input_shape": [1, 3, 224, 224]
 * become "x=1,3,224,224". */
static bool input_shape_spec(const char *meta, char *spec, size_t size) {
  const char *n = strstr(meta, "\"input_name\"");
  const char *s = strstr(meta, "\"input_shape\"");
  if (!n || !s) return false;
  n = strchr(n + 12, '"');
  if (!n) return false;
  const char *e = strchr(n + 1, '"');
  s = strchr(s, '[');
  if (!e || !s) return false;
  size_t at = (size_t)snprintf(spec, size, "%.*s=", (int)(e - n - 1), n + 1);
  for (s++; *s && *s != ']' && at + 24 < size; s++)
    if ((*s >= '0' && *s <= '9') || *s == ',') spec[at++] = *s;
  spec[at] = 0;
  return true;
}

typedef struct Check {
  double max_abs, max_ref;
  bool argmax_equal;
} Check;

/* got/want: [rows, classes] row-major (leading dims folded into rows). */
static Check compare(const float *got, const float *want, int64_t numel, int64_t classes) {
  Check c = {0, 0, true};
  for (int64_t i = 0; i < numel; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= c.max_abs)) c.max_abs = d; /* NaN sticks */
    if (fabs(want[i]) > c.max_ref) c.max_ref = fabs(want[i]);
  }
  for (int64_t r = 0; r * classes < numel; r++) {
    int64_t ag = 0, aw = 0;
    for (int64_t k = 1; k < classes; k++) {
      if (got[r * classes + k] > got[r * classes + ag]) ag = k;
      if (want[r * classes + k] > want[r * classes + aw]) aw = k;
    }
    if (ag != aw) c.argmax_equal = false;
  }
  return c;
}

static bool acceptable(const char *what, const char *model, Check c) {
  bool ok = c.max_abs <= 1e-4 * c.max_ref && c.argmax_equal;
  printf("  %-34s %-9s max_abs=%.3g (%.2g x max|ref|) argmax %s %s\n", model, what, c.max_abs,
         c.max_ref > 0 ? c.max_abs / c.max_ref : 0.0, c.argmax_equal ? "equal" : "DIFFERENT",
         ok ? "ok" : "FAIL");
  return ok;
}

/* Runs m_run, then m_run_parallel through onnxc_pool at 1, 2, 3 and 8
 * threads and through a runner that runs the tasks in reverse order, and
 * exits 7 unless every run gives the same bits (NaN matching any NaN). */
static const char *harness_c =
    "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include \"m.h\"\n#include \"onnxc_pool.h\"\n"
    "static int reversed_calls;\n"
    "static void reversed(void *r, int n, void (*task)(void *, int, int), void *ctx) {\n"
    "  (void)r; reversed_calls++;\n"
    "  for (int i = n - 1; i >= 0; i--) task(ctx, i, i % 4);\n"
    "}\n"
    "static int same(const float *a, const float *b, size_t n) {\n"
    "  for (size_t i = 0; i < n; i++)\n"
    "    if (memcmp(a + i, b + i, 4) && !(isnan(a[i]) && isnan(b[i]))) return 0;\n"
    "  return 1;\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  if (argc != 3 || M_NUM_INPUTS != 1) return 3;\n"
    "  float *in = malloc(sizeof(float) * M_INPUT_0_SIZE), *out = malloc(sizeof(float) * "
    "M_OUTPUT_0_SIZE), *par = malloc(sizeof(float) * M_OUTPUT_0_SIZE);\n"
    "  void *ws = aligned_alloc(M_WORKSPACE_ALIGN, (M_WORKSPACE_SIZE_FOR_THREADS(8) + "
    "M_WORKSPACE_ALIGN) / M_WORKSPACE_ALIGN * M_WORKSPACE_ALIGN);\n"
    "  FILE *f = fopen(argv[1], \"rb\");\n"
    "  if (!in || !out || !par || !ws || !f || fread(in, sizeof(float), M_INPUT_0_SIZE, f) != "
    "M_INPUT_0_SIZE) return 4;\n"
    "  fclose(f);\n"
    "  const void *ins[1] = {in}; void *outs[1] = {out}, *pouts[1] = {par};\n"
    "  int rc = m_run(ins, outs, ws);\n"
    "  if (rc) return 5;\n"
    "  static const int threads[] = {1, 2, 3, 8};\n"
    "  for (int t = 0; t < 5; t++) {\n"
    "    onnxc_pool *pool = t < 4 ? onnxc_pool_create(threads[t]) : NULL;\n"
    "    onnxc_parallel rev = {reversed, NULL, 4};\n"
    "    const onnxc_parallel *hook = t < 4 ? onnxc_pool_parallel(pool) : &rev;\n"
    "    if (!hook) return 8;\n"
    "    memset(par, 0xa5, sizeof(float) * M_OUTPUT_0_SIZE);\n"
    "    if (m_run_parallel(ins, pouts, ws, hook)) return 5;\n"
    "    onnxc_pool_destroy(pool);\n"
    "    if (!same(par, out, M_OUTPUT_0_SIZE)) {\n"
    "      fprintf(stderr, \"run_parallel (%s %d) differs from run\\n\", t < 4 ? \"pool\" : "
    "\"reversed\", t < 4 ? threads[t] : 4);\n"
    "      return 7;\n"
    "    }\n"
    "  }\n"
    "  printf(\"parallel: bit-identical at 1, 2, 3, 8 threads and reversed (%d regions)\\n\", "
    "reversed_calls);\n"
    "  f = fopen(argv[2], \"wb\");\n"
    "  if (!f || fwrite(out, sizeof(float), M_OUTPUT_0_SIZE, f) != M_OUTPUT_0_SIZE) return 6;\n"
    "  return fclose(f) != 0;\n"
    "}\n";

/* Returns true when every check passed for this fixture. */
static bool run_model(const char *name) {
  char dir[512], path[1024], spec[256];
  snprintf(dir, sizeof dir, "%s/%s", MODELS_DIR, name);
  snprintf(path, sizeof path, "%s/meta.json", dir);
  char *meta = read_file(path);
  if (!meta || !input_shape_spec(meta, spec, sizeof spec)) {
    printf("  %s: meta.json without input_name/input_shape\n", name);
    free(meta);
    return false;
  }
  free(meta);
  NpyArray x, y;
  Error err;
  snprintf(path, sizeof path, "%s/input_0.npy", dir);
  if (npy_read(path, &x, &err) != ST_OK) {
    printf("  %s: %s\n", name, err.msg);
    return false;
  }
  snprintf(path, sizeof path, "%s/output_0.npy", dir);
  if (npy_read(path, &y, &err) != ST_OK) {
    printf("  %s: %s\n", name, err.msg);
    npy_free(&x);
    return false;
  }
  bool ok = x.dtype == DT_FLOAT32 && y.dtype == DT_FLOAT32 && y.rank >= 1;
  int64_t classes = y.rank ? y.dims[y.rank - 1] : 1, numel = (int64_t)(y.nbytes / 4);

  /* compiled */
  char in_bin[512], out_bin[512];
  snprintf(in_bin, sizeof in_bin, "%s/in.bin", work);
  snprintf(out_bin, sizeof out_bin, "%s/out.bin", work);
  FILE *f = fopen(in_bin, "wb");
  ok = ok && f && fwrite(x.data, 1, x.nbytes, f) == x.nbytes;
  if (f) fclose(f);
  int rc = sh("cd '%s' && '%s' compile '%s/model.onnx' -o m.o --header m.h --name m "
              "--input-shape %s --print-kernels 2>compile.err",
              work, ONNXC_BINARY, dir, spec);
  if (rc != 0) {
    printf("  %s: onnxc compile exited %d\n", name, rc);
    sh("cat '%s/compile.err'", work);
    ok = false;
  } else if (sh("grep -q '^  reference ' '%s/compile.err'", work) == 0) {
    /* Every node of these real exports has a specialized kernel; a node
     * that falls back to its reference kernel is a speed regression. */
    printf("  %-34s kernels   FAIL: nodes on reference kernels:\n", name);
    sh("grep '^  reference ' '%s/compile.err'", work);
    ok = false;
  }
  /* The pool from source: the test's own build may carry sanitizers. */
  if (ok && (rc = sh("cd '%s' && cc -O1 -I'%s/runtime' -o h harness.c m.o '%s/runtime/onnxc_pool.c' "
                     "-pthread -lm && ./h in.bin out.bin",
                     work, ONNXC_SOURCE_DIR, ONNXC_SOURCE_DIR)) != 0) {
    printf("  %s: harness build or run exited %d\n", name, rc);
    ok = false;
  }
  if (ok) {
    float *got = malloc(y.nbytes);
    f = fopen(out_bin, "rb");
    bool read_ok = got && f && fread(got, 1, y.nbytes, f) == y.nbytes;
    if (f) fclose(f);
    ok = read_ok && acceptable("compiled", name, compare(got, y.data, numel, classes));
    free(got);
  }

  /* reference evaluator through `onnxc run` */
  char xname[128];
  snprintf(xname, sizeof xname, "%.*s", (int)(strchr(spec, '=') - spec), spec);
  rc = sh("cd '%s' && rm -rf out && '%s' run '%s/model.onnx' --input '%s=%s/input_0.npy' "
          "--input-shape %s --output-dir out >run.out 2>run.err",
          work, ONNXC_BINARY, dir, xname, dir, spec);
  if (rc != 0) {
    printf("  %s: onnxc run exited %d\n", name, rc);
    sh("cat '%s/run.err'", work);
    ok = false;
  } else {
    /* The single output is the only .npy written. */
    snprintf(path, sizeof path, "%s/out", work);
    DIR *d = opendir(path);
    struct dirent *e;
    NpyArray r = {0};
    bool found = false;
    while (d && (e = readdir(d)))
      if (strstr(e->d_name, ".npy")) {
        char p2[1400];
        snprintf(p2, sizeof p2, "%s/%s", path, e->d_name);
        found = npy_read(p2, &r, &err) == ST_OK;
      }
    if (d) closedir(d);
    ok = found && r.nbytes == y.nbytes &&
         acceptable("evaluator", name, compare(r.data, y.data, numel, classes)) && ok;
    npy_free(&r);
  }

  /* every pass keeps the outputs */
  rc = sh("'%s' verify --each '%s/model.onnx' --input-shape %s >'%s/verify.out' 2>&1",
          ONNXC_BINARY, dir, spec, work);
  printf("  %-34s verify    --each exit %d %s\n", name, rc, rc == 0 ? "ok" : "FAIL");
  if (rc != 0) {
    sh("tail -5 '%s/verify.out'", work);
    ok = false;
  }
  npy_free(&x);
  npy_free(&y);
  return ok;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void every_fixture_matches_pytorch(void **state) {
  (void)state;
  snprintf(work, sizeof work, "/tmp/onnxc-e2e-XXXXXX");
  assert_non_null(mkdtemp(work));
  char hpath[320];
  snprintf(hpath, sizeof hpath, "%s/harness.c", work);
  FILE *f = fopen(hpath, "w");
  assert_non_null(f);
  fputs(harness_c, f);
  fclose(f);

  DIR *d = opendir(MODELS_DIR);
  assert_non_null(d);
  char *names[256];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 256)
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  int failed = 0;
  for (int i = 0; i < n; i++) {
    if (!run_model(names[i])) {
      failed++;
      printf("  FAILED: %s\n", names[i]);
    }
    free(names[i]);
  }
  printf("  %d models, %d failed\n", n, failed);
  sh("rm -rf '%s'", work);
  assert_true(n >= 20); /* the fixtures are there */
  assert_int_equal(failed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(every_fixture_matches_pytorch)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
