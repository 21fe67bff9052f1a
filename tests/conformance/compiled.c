/*
 * Compiled mode of one conformance test (--mode=compiled): the graph that
 * went through the pipeline is compiled by the real backend (cg_compile) to
 * model.o + model.h in a fresh temp folder, a small C harness is generated
 * for it (reads raw input files, calls model_run with a 64-byte aligned
 * workspace of MODEL_WORKSPACE_SIZE bytes, writes raw output files), linked
 * with `cc harness.c model.o -lm`, and run as a child process.  The outputs
 * it wrote come back to run_test.c, which compares them as in eval mode.
 * The memory plan (--print-memory-plan text) is checked on the way: the
 * workspace may exceed the peak of live bytes by at most 10%.
 */
#include "conformance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codegen/codegen.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = n == 0 || fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static bool read_file(const char *path, void *data, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  bool ok = n == 0 || fread(data, 1, n, f) == n;
  ok = ok && fgetc(f) == EOF; /* exactly n bytes */
  fclose(f);
  return ok;
}

/* The harness knows every byte count from the runner and checks them
 * against the header's element counts at compile time, so a wrong
 * PREFIX_*_SIZE macro fails the test too. */
/* In the sanitizer build the generated code is instrumented with
 * AddressSanitizer too (CgOptions.sanitize_address) and the harness is
 * built with the sanitizers, so an out-of-bounds access by a kernel fails
 * the test.  The harness does not free its buffers: no leak check. */
#ifndef CONF_SANITIZE
#define CONF_SANITIZE 0
#endif
#define SANITIZE_FLAGS (CONF_SANITIZE ? "-g -fsanitize=address,undefined -fno-sanitize-recover=all" : "")
#define SANITIZE_ENV (CONF_SANITIZE ? "ASAN_OPTIONS=detect_leaks=0 " : "")

static bool use_weights_file;

void conf_compiled_use_weights_file(bool on) { use_weights_file = on; }

/* The weights-file harness: model.bin, 64-byte aligned, checked, passed. */
static void put_weights_loader(FILE *f) {
  fprintf(f, "static const void *load_weights(const char *dir) {\n"
             "  char path[4096];\n"
             "  snprintf(path, sizeof path, \"%%s/model.bin\", dir);\n"
             "  FILE *f = fopen(path, \"rb\");\n"
             "  size_t n = (size_t)MODEL_WEIGHTS_SIZE;\n"
             "  char *w = aligned_alloc(64, (n + 63) / 64 * 64);\n"
             "  if (!f || !w || fread(w, 1, n, f) != n || fgetc(f) != EOF) return NULL;\n"
             "  fclose(f);\n"
             "  return model_weights_check(w, n) == 0 ? w : NULL;\n"
             "}\n\n");
}

/* The parallel entry point through a runner that runs the tasks in reverse
 * order with 3 workers: every output must keep the serial run's bits (NaN
 * matching any NaN). */
static void put_parallel_check(FILE *f) {
  fprintf(f, "static void reversed(void *r, int n, void (*task)(void *, int, int), void *ctx) {\n"
             "  (void)r;\n"
             "  for (int i = n - 1; i >= 0; i--) task(ctx, i, i %% 3);\n"
             "}\n"
             "static int same_bits(const void *a, const void *b, size_t n, int f32) {\n"
             "  if (!f32) return memcmp(a, b, n) == 0;\n"
             "  const unsigned *x = a, *y = b;\n"
             "  for (size_t i = 0; i < n / 4; i++)\n"
             "    if (x[i] != y[i] && !((x[i] & 0x7fffffffu) > 0x7f800000u &&\n"
             "                          (y[i] & 0x7fffffffu) > 0x7f800000u)) return 0;\n"
             "  return 1;\n"
             "}\n\n");
}

static bool write_harness(const char *path, const Graph *g) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fprintf(f, "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
             "#include \"model.h\"\n\n");
  fprintf(f, "_Static_assert(MODEL_NUM_INPUTS == %d, \"inputs\");\n", g->num_inputs);
  fprintf(f, "_Static_assert(MODEL_NUM_OUTPUTS == %d, \"outputs\");\n", g->num_outputs);
  fprintf(f, "static const size_t in_bytes[] = {0");
  for (int i = 0; i < g->num_inputs; i++) fprintf(f, ", %zu", ir_value_nbytes(g->inputs[i]));
  fprintf(f, "};\nstatic const size_t out_bytes[] = {0");
  for (int i = 0; i < g->num_outputs; i++) fprintf(f, ", %zu", ir_value_nbytes(g->outputs[i]));
  fprintf(f, "};\nstatic const int out_f32[] = {0");
  for (int i = 0; i < g->num_outputs; i++)
    fprintf(f, ", %d", g->outputs[i]->dtype == DT_FLOAT32);
  fprintf(f, "};\n");
  if (use_weights_file) put_weights_loader(f);
  put_parallel_check(f);
  for (int i = 0; i < g->num_inputs; i++)
    fprintf(f, "_Static_assert(MODEL_INPUT_%d_SIZE == %lld, \"size\");\n", i,
            (long long)ir_value_numel(g->inputs[i]));
  for (int i = 0; i < g->num_outputs; i++)
    fprintf(f, "_Static_assert(MODEL_OUTPUT_%d_SIZE == %lld, \"size\");\n", i,
            (long long)ir_value_numel(g->outputs[i]));
  fprintf(f,
          "\nint main(int argc, char **argv) {\n"
          "  enum { NI = %d, NO = %d };\n"
          "  void *in[NI + 1], *out[NO + 1];\n"
          "  char path[4096];\n"
          "  if (argc != 2) return 2;\n"
          "  for (int i = 0; i < NI; i++) {\n"
          "    size_t n = in_bytes[i + 1];\n"
          "    in[i] = malloc(n ? n : 1);\n"
          "    snprintf(path, sizeof path, \"%%s/in%%d.bin\", argv[1], i);\n"
          "    FILE *f = fopen(path, \"rb\");\n"
          "    if (!in[i] || !f || (n && fread(in[i], 1, n, f) != n)) return 3;\n"
          "    fclose(f);\n"
          "  }\n"
          "  for (int i = 0; i < NO; i++) {\n"
          "    size_t n = out_bytes[i + 1];\n"
          "    out[i] = calloc(1, n ? n : 1);\n"
          "    if (!out[i]) return 3;\n"
          "  }\n"
          "  size_t ws_bytes = ((size_t)MODEL_WORKSPACE_SIZE + 63) / 64 * 64 + 64;\n"
          "  void *ws = aligned_alloc(64, ws_bytes);\n"
          "  if (!ws) return 3;\n"
          "  %s\n"
          "  if (rc != 0) { fprintf(stderr, \"model_run returned %%d\\n\", rc); return 4; }\n"
          "  {\n"
          "    void *pout[NO + 1];\n"
          "    onnxc_parallel par = {reversed, NULL, 3};\n"
          "    for (int i = 0; i < NO; i++) {\n"
          "      size_t n = out_bytes[i + 1];\n"
          "      pout[i] = malloc(n ? n : 1);\n"
          "      if (!pout[i]) return 3;\n"
          "      memset(pout[i], 0xa5, n ? n : 1);\n"
          "    }\n"
          "    %s\n"
          "    if (prc != 0) { fprintf(stderr, \"model_run_parallel returned %%d\\n\", prc); return 4; }\n"
          "    for (int i = 0; i < NO; i++)\n"
          "      if (!same_bits(pout[i], out[i], out_bytes[i + 1], out_f32[i + 1])) {\n"
          "        fprintf(stderr, \"model_run_parallel (reversed tasks): output %%d differs from model_run\\n\", i);\n"
          "        return 7;\n"
          "      }\n"
          "  }\n"
          "  for (int i = 0; i < NO; i++) {\n"
          "    size_t n = out_bytes[i + 1];\n"
          "    snprintf(path, sizeof path, \"%%s/out%%d.bin\", argv[1], i);\n"
          "    FILE *f = fopen(path, \"wb\");\n"
          "    if (!f || (n && fwrite(out[i], 1, n, f) != n) || fclose(f) != 0) return 5;\n"
          "  }\n"
          "  return 0;\n"
          "}\n",
          g->num_inputs, g->num_outputs,
          use_weights_file
              ? "const void *w = load_weights(argv[1]);\n"
                "  if (!w) { fprintf(stderr, \"model.bin missing or not this model's\\n\"); return 6; }\n"
                "  int rc = model_run_with_weights(w, (const void *const *)in, out, ws);"
              : "int rc = model_run((const void *const *)in, out, ws);",
          use_weights_file
              ? "int prc = model_run_parallel_with_weights(w, (const void *const *)in, pout, ws, &par);"
              : "int prc = model_run_parallel((const void *const *)in, pout, ws, &par);");
  return fclose(f) == 0;
}

/* Runs a shell command; on failure puts the tail of its log into why. */
static bool run_cmd(const char *cmd, const char *log, const char *what, char *why, size_t size) {
  int rc = system(cmd);
  if (rc == 0) return true;
  char tail[400] = "";
  FILE *f = fopen(log, "r");
  if (f) {
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, n > (long)sizeof tail - 1 ? n - (long)sizeof tail + 1 : 0, SEEK_SET);
    size_t k = fread(tail, 1, sizeof tail - 1, f);
    tail[k] = 0;
    fclose(f);
  }
  if (WIFEXITED(rc))
    snprintf(why, size, "%s failed (exit status %d): %s", what, WEXITSTATUS(rc), tail);
  else
    snprintf(why, size, "%s failed (status 0x%x): %s", what, (unsigned)rc, tail);
  return false;
}

static void remove_dir(const char *dir, const Graph *g) {
  char path[512];
  const char *fixed[] = {"model.o", "model.h", "model.bin", "harness.c",
                         "harness", "cc.log",  "run.log",   "plan.txt"};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, fixed[i]);
    unlink(path);
  }
  for (int i = 0; i < g->num_inputs; i++) {
    snprintf(path, sizeof path, "%s/in%d.bin", dir, i);
    unlink(path);
  }
  for (int i = 0; i < g->num_outputs; i++) {
    snprintf(path, sizeof path, "%s/out%d.bin", dir, i);
    unlink(path);
  }
  rmdir(dir);
}

/* Reads the two totals memplan_print writes at the end of the plan. */
static bool parse_plan(FILE *f, size_t *ws, size_t *lower) {
  char line[512];
  bool got_ws = false, got_lower = false;
  rewind(f);
  while (fgets(line, sizeof line, f)) {
    unsigned long long v;
    if (sscanf(line, "; workspace size: %llu bytes", &v) == 1) *ws = (size_t)v, got_ws = true;
    if (sscanf(line, "; lower bound (peak live): %llu bytes", &v) == 1)
      *lower = (size_t)v, got_lower = true;
  }
  return got_ws && got_lower;
}

bool conf_compiled_run(Graph *g, int opt_level, const void *const inputs[], void *const outputs[],
                       TestResult *r, char *why, size_t size) {
  char dir[64] = "/tmp/onnxc-conf-XXXXXX";
  if (!mkdtemp(dir)) {
    snprintf(why, size, "mkdtemp: %s", strerror(errno));
    return false;
  }
  char obj[128], hdr[128], bin[128], src[128], exe[128], cclog[128], runlog[128], plan[128];
  char path[160];
  char cmd[1024];
  snprintf(obj, sizeof obj, "%s/model.o", dir);
  snprintf(hdr, sizeof hdr, "%s/model.h", dir);
  snprintf(bin, sizeof bin, "%s/model.bin", dir);
  snprintf(src, sizeof src, "%s/harness.c", dir);
  snprintf(exe, sizeof exe, "%s/harness", dir);
  snprintf(cclog, sizeof cclog, "%s/cc.log", dir);
  snprintf(runlog, sizeof runlog, "%s/run.log", dir);
  snprintf(plan, sizeof plan, "%s/plan.txt", dir);
  FILE *plan_f = fopen(plan, "w+");
  bool ok = plan_f != NULL;
  if (!ok) snprintf(why, size, "cannot write %s", plan);
  double t0 = now_seconds();
  CgOptions o = {.prefix = "model", .opt_level = opt_level, .emit = CG_EMIT_OBJ,
                 .output_path = obj, .header_path = hdr, .model_path = g->source,
                 .weights_path = use_weights_file ? bin : NULL,
                 .sanitize_address = CONF_SANITIZE,
                 /* Every partitioned kernel splits: the harness checks that
                  * the parallel entry point gives the same bits. */
                 .min_task_ns = 1e-6,
                 .print_memory_plan = true, .log = plan_f};
  Error err = {0};
  Status st = ok ? cg_compile(g, &o, &err) : ST_OK;
  if (st != ST_OK) {
    snprintf(why, size, "compile: %s (%s)", err.msg, status_name(st));
    ok = false;
  }
  r->eval_seconds = now_seconds() - t0;
  if (ok && !parse_plan(plan_f, &r->ws_size, &r->ws_lower)) {
    snprintf(why, size, "--print-memory-plan printed no workspace size / lower bound");
    ok = false;
  }
  if (plan_f) fclose(plan_f);
  if (ok && (double)r->ws_size > CONF_MAX_PLAN_RATIO * (double)r->ws_lower) {
    snprintf(why, size, "memory plan: workspace %zu bytes > %.2f x lower bound %zu bytes",
             r->ws_size, CONF_MAX_PLAN_RATIO, r->ws_lower);
    ok = false;
  }
  if (ok && !write_harness(src, g)) {
    snprintf(why, size, "cannot write %s", src);
    ok = false;
  }
  for (int i = 0; ok && i < g->num_inputs; i++) {
    snprintf(path, sizeof path, "%s/in%d.bin", dir, i);
    if (!write_file(path, inputs[i], ir_value_nbytes(g->inputs[i]))) {
      snprintf(why, size, "cannot write %s", path);
      ok = false;
    }
  }
  if (ok) {
    snprintf(cmd, sizeof cmd, "cc -std=c11 %s -o %s %s %s -lm >%s 2>&1", SANITIZE_FLAGS, exe, src,
             obj, cclog);
    ok = run_cmd(cmd, cclog, "linking the harness", why, size);
  }
  if (ok) {
    snprintf(cmd, sizeof cmd, "%s%s %s >%s 2>&1", SANITIZE_ENV, exe, dir, runlog);
    ok = run_cmd(cmd, runlog, "the compiled model", why, size);
  }
  for (int i = 0; ok && i < g->num_outputs; i++) {
    snprintf(path, sizeof path, "%s/out%d.bin", dir, i);
    if (!read_file(path, outputs[i], ir_value_nbytes(g->outputs[i]))) {
      snprintf(why, size, "%s is missing or has the wrong size", path);
      ok = false;
    }
  }
  remove_dir(dir, g);
  return ok;
}
