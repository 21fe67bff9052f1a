/* Compile-link-dlopen-run support for tests; see cg_harness.h. */
#include "cg_harness.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../codegen/codegen.h"
#include "../../ops/eval.h"
#include "../../runtime/onnxc_pool.h"

Status cgh_compile(Graph *g, int opt_level, CgModule *m, Error *err) {
  return cgh_compile_ex(g, opt_level, false, m, err);
}

/* The sanitizer build instruments the generated code with AddressSanitizer
 * too: the test process carries the ASan runtime, so a kernel's
 * out-of-bounds access fails the test where it happens. */
#ifndef CGH_SANITIZE
#define CGH_SANITIZE 0
#endif

static const char *target_cpu;

void cgh_set_cpu(const char *cpu) { target_cpu = cpu; }

Status cgh_compile_ex(Graph *g, int opt_level, bool reference_only, CgModule *m, Error *err) {
  memset(m, 0, sizeof *m);
  snprintf(m->dir, sizeof m->dir, "/tmp/onnxc-cgh-XXXXXX");
  if (!mkdtemp(m->dir)) return err_set(err, ST_IO, "mkdtemp failed");
  char obj[320], hdr[320], so[320], cmd[1200];
  snprintf(obj, sizeof obj, "%s/model.o", m->dir);
  snprintf(hdr, sizeof hdr, "%s/model.h", m->dir);
  snprintf(so, sizeof so, "%s/model.so", m->dir);
  /* ONNXC_TEST_CPU=haswell runs a whole test binary on another CPU's code
   * paths (one the host can execute). */
  const char *cpu = target_cpu ? target_cpu : getenv("ONNXC_TEST_CPU");
#if defined(__x86_64__)
  if (cpu && !target_cpu && strcmp(cpu, "haswell") == 0 &&
      !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    fprintf(stderr, "ONNXC_TEST_CPU=haswell: this host has no AVX2; testing its own code\n");
    cpu = NULL;
  }
#endif
  CgOptions o = {.prefix = "model", .cpu = cpu, .opt_level = opt_level, .emit = CG_EMIT_OBJ,
                 .output_path = obj, .header_path = hdr, .model_path = g->source,
                 .reference_kernels_only = reference_only, .sanitize_address = CGH_SANITIZE,
                 /* Every partitioned kernel splits, however small: cgh_run
                  * checks that the split never changes a bit. */
                 .min_task_ns = 1e-6};
  TRY(cg_compile(g, &o, err));
  snprintf(cmd, sizeof cmd, "cc -shared -o %s %s -lm", so, obj);
  if (system(cmd) != 0) return err_set(err, ST_IO, "linking %s failed", obj);
  FILE *f = fopen(hdr, "r");
  if (!f) return err_set(err, ST_IO, "%s: cannot read", hdr);
  char line[512];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "#define MODEL_WORKSPACE_SIZE ", 29) == 0)
      m->workspace_size = (size_t)strtoull(line + 28, NULL, 10);
  fclose(f);
  m->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!m->dl) return err_set(err, ST_IO, "dlopen %s: %s", so, dlerror());
  *(void **)&m->run = dlsym(m->dl, "model_run");
  if (!m->run) return err_set(err, ST_INTERNAL, "model_run not found in %s", so);
  *(void **)&m->run_parallel = dlsym(m->dl, "model_run_parallel");
  if (!m->run_parallel) return err_set(err, ST_INTERNAL, "model_run_parallel not found in %s", so);
  return ST_OK;
}

void cgh_unload(CgModule *m) {
  if (m->dl) dlclose(m->dl);
  if (m->dir[0]) {
    char path[320];
    const char *files[] = {"model.o", "model.h", "model.so"};
    for (int i = 0; i < 3; i++) {
      snprintf(path, sizeof path, "%s/%s", m->dir, files[i]);
      unlink(path);
    }
    rmdir(m->dir);
  }
  memset(m, 0, sizeof *m);
}

bool cgh_same_bits(const Value *v, const void *a, const void *b, size_t *at) {
  size_t n = (size_t)ir_value_numel(v), es = dtype_size(v->dtype);
  const unsigned char *x = a, *y = b;
  for (size_t k = 0; k < n; k++) {
    if (memcmp(x + k * es, y + k * es, es) == 0) continue;
    if (dtype_is_float(v->dtype) && isnan(dtype_load_f64(v->dtype, a, k)) &&
        isnan(dtype_load_f64(v->dtype, b, k)))
      continue;
    *at = k;
    return false;
  }
  return true;
}

/* ---- test runners for the parallel hook --------------------------------
 * Each runs every task exactly once, in an order of its own, so that any
 * dependence of the results on the partition or the order shows. */

typedef struct TestRunner {
  const char *name;
  int threads;
  int calls, tasks; /* parallel_for calls and tasks run (counted) */
  unsigned seed;
} TestRunner;

static void run_reversed(void *runner, int n, void (*task)(void *, int, int), void *ctx) {
  TestRunner *r = runner;
  r->calls++;
  for (int i = n - 1; i >= 0; i--, r->tasks++) task(ctx, i, i % r->threads);
}

static void run_shuffled(void *runner, int n, void (*task)(void *, int, int), void *ctx) {
  TestRunner *r = runner;
  r->calls++;
  int *order = malloc((size_t)n * sizeof *order);
  if (!order) {
    for (int i = 0; i < n; i++, r->tasks++) task(ctx, i, 0);
    return;
  }
  for (int i = 0; i < n; i++) order[i] = i;
  for (int i = n - 1; i > 0; i--) {
    r->seed = r->seed * 1103515245u + 12345u;
    int j = (int)((r->seed >> 8) % (unsigned)(i + 1));
    int t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (int i = 0; i < n; i++, r->tasks++) task(ctx, order[i], (order[i] * 7) % r->threads);
  free(order);
}

static void **alloc_outputs(const Graph *g) {
  void **outs = calloc((size_t)g->num_outputs + 1, sizeof *outs);
  if (!outs) return NULL;
  for (int i = 0; i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    outs[i] = malloc(nb ? nb : 1);
    if (!outs[i]) {
      cgh_free_buffers(outs, g->num_outputs);
      return NULL;
    }
    memset(outs[i], 0xa5, nb ? nb : 1); /* stale bytes must be overwritten */
  }
  return outs;
}

/* Runs m through run_parallel with par and compares every byte with the
 * serial outputs. */
static Status run_compare(const CgModule *m, const Graph *g, const void *const inputs[],
                          void **serial, const onnxc_parallel *par, const char *what, void *ws,
                          Error *err) {
  void **outs = alloc_outputs(g);
  if (!outs) return err_set(err, ST_NOMEM, "out of memory");
  int rc = m->run_parallel(inputs, outs, ws, par);
  Status st = ST_OK;
  if (rc != 0) st = err_set(err, ST_INTERNAL, "model_run_parallel (%s) returned %d", what, rc);
  for (int i = 0; st == ST_OK && i < g->num_outputs; i++) {
    size_t k;
    if (!cgh_same_bits(g->outputs[i], outs[i], serial[i], &k))
      st = err_set(err, ST_INTERNAL,
                   "model_run_parallel (%s): output %d differs from the serial run at element %zu",
                   what, i, k);
  }
  cgh_free_buffers(outs, g->num_outputs);
  return st;
}

Status cgh_run(const CgModule *m, const Graph *g, const void *const inputs[], void ***outputs,
               Error *err) {
  void **outs = alloc_outputs(g);
  if (!outs) return err_set(err, ST_NOMEM, "out of memory");
  void *ws = aligned_alloc(64, (m->workspace_size + 63) / 64 * 64 + 64);
  int rc = ws ? m->run(inputs, outs, ws) : -1;
  Status st = ST_OK;
  if (rc != 0) st = err_set(err, ST_INTERNAL, "model_run returned %d", rc);
  /* The same call through the hook: one thread, test runners with more
   * workers than tasks or fewer, and the real pool. */
  if (st == ST_OK && m->run_parallel) {
    onnxc_parallel one = {NULL, NULL, 1};
    st = run_compare(m, g, inputs, outs, &one, "threads=1, no hook", ws, err);
    TestRunner rev = {"reversed", 3, 0, 0, 1}, shuf = {"shuffled", 8, 0, 0, 12345};
    onnxc_parallel prev = {run_reversed, &rev, 3}, pshuf = {run_shuffled, &shuf, 8};
    if (st == ST_OK) st = run_compare(m, g, inputs, outs, &prev, "3 threads, reversed order", ws, err);
    if (st == ST_OK) st = run_compare(m, g, inputs, outs, &pshuf, "8 threads, shuffled order", ws, err);
    /* The hook is only worth calling with two tasks or more. */
    if (st == ST_OK && (rev.tasks < 2 * rev.calls || shuf.tasks < 2 * shuf.calls))
      st = err_set(err, ST_INTERNAL, "a parallel region was split into fewer than 2 tasks");
    onnxc_pool *pool = st == ST_OK ? onnxc_pool_create(2) : NULL;
    if (pool) {
      st = run_compare(m, g, inputs, outs, onnxc_pool_parallel(pool), "pool of 2 threads", ws, err);
      onnxc_pool_destroy(pool);
    } else if (st == ST_OK) {
      st = err_set(err, ST_INTERNAL, "onnxc_pool_create(2) failed");
    }
  }
  free(ws);
  if (st != ST_OK) {
    cgh_free_buffers(outs, g->num_outputs);
    return st;
  }
  *outputs = outs;
  return ST_OK;
}

void cgh_free_buffers(void **bufs, int n) {
  if (!bufs) return;
  for (int i = 0; i < n; i++) free(bufs[i]);
  free(bufs);
}

Status cgh_random_inputs(const Graph *g, unsigned seed, void ***inputs, Error *err) {
  void **ins = calloc((size_t)g->num_inputs + 1, sizeof *ins);
  if (!ins) return err_set(err, ST_NOMEM, "out of memory");
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    size_t n = (size_t)ir_value_numel(v);
    ins[i] = calloc(1, ir_value_nbytes(v) + 1);
    if (!ins[i]) {
      cgh_free_buffers(ins, g->num_inputs);
      return err_set(err, ST_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      double u = (double)(s >> 11) / 9007199254740992.0; /* [0,1) */
      if (dtype_is_float(v->dtype)) dtype_store_f64(v->dtype, ins[i], k, 2 * u - 1, true);
      else if (v->dtype == DT_BOOL) dtype_store_i64(v->dtype, ins[i], k, u < 0.5);
      else dtype_store_i64(v->dtype, ins[i], k, (int64_t)(u * 10));
    }
  }
  *inputs = ins;
  return ST_OK;
}

Status cgh_differential(Graph *g, int opt_level, const void *const inputs[], double rtol,
                        double atol, CgCompare *cmp, Error *err) {
  memset(cmp, 0, sizeof *cmp);
  cmp->ok = true;
  Status st = ir_compact(g, err);
  if (st != ST_OK) return st;
  void **ref = calloc((size_t)g->num_outputs + 1, sizeof *ref);
  if (!ref) return err_set(err, ST_NOMEM, "out of memory");
  for (int i = 0; i < g->num_outputs; i++)
    if (!(ref[i] = calloc(1, ir_value_nbytes(g->outputs[i]) + 1))) {
      cgh_free_buffers(ref, g->num_outputs);
      return err_set(err, ST_NOMEM, "out of memory");
    }
  st = eval_graph(g, inputs, ref, err);
  CgModule m;
  void **got = NULL;
  if (st == ST_OK) st = cgh_compile(g, opt_level, &m, err);
  if (st == ST_OK) st = cgh_run(&m, g, inputs, &got, err);
  for (int i = 0; st == ST_OK && i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    size_t n = (size_t)ir_value_numel(v);
    for (size_t k = 0; k < n; k++) {
      double a = dtype_load_f64(v->dtype, got[i], k), b = dtype_load_f64(v->dtype, ref[i], k);
      if (isnan(a) && isnan(b)) continue;
      double d = fabs(a - b);
      if (a == b) d = 0; /* same-sign infinities */
      bool exact = !dtype_is_float(v->dtype);
      bool bad = exact ? d != 0 : !(d <= atol + rtol * fabs(b));
      double rel = d / (fabs(b) > 1e-30 ? fabs(b) : 1e-30);
      if (d > cmp->max_abs) {
        cmp->max_abs = d;
        cmp->worst_output = i;
      }
      if (rel > cmp->max_rel && d > atol) cmp->max_rel = rel;
      if (bad) cmp->ok = false;
    }
  }
  if (got) cgh_free_buffers(got, g->num_outputs);
  cgh_free_buffers(ref, g->num_outputs);
  if (m.dl || m.dir[0]) cgh_unload(&m);
  return st;
}
