/*
 * onnxc profile: where the time of a compiled model goes, node by node.
 *
 * Compiles the model with --profile (codegen/profile.h) into a temporary
 * folder, links the object into a shared library with the system C
 * compiler (`cc`, as a user's build would), loads it, and runs it on seeded
 * random inputs: warm-up runs, then --runs rounds of one timed run and one
 * untimed run (times == NULL) in alternation, so that the overhead of the
 * timers shows.  Prints the nodes sorted by their median time with op,
 * kernel path, output shape, share of the total, GFLOP/s (Conv, MatMul,
 * Gemm, attention) and % of the core's FMA peak (measured on the spot with
 * the object's own FMA loop), then the same per op type; --trace writes the
 * median run as a Chrome / Perfetto trace (one complete event per node in
 * schedule order).  --threads N runs through onnxc_pool (the peak is then
 * N cores').
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../codegen/codegen.h"
#include "../runtime/onnxc_pool.h"
#include "driver.h"

typedef int (*RunProfiled)(const void *const *, void *const *, void *, const onnxc_parallel *,
                           long long *);
typedef const char *(*NodeInfo)(int, const char **, const char **);
typedef long long (*FmaLoop)(long long);

typedef struct Lib {
  char dir[64];
  void *dl;
  RunProfiled run;
  NodeInfo node;
  FmaLoop fma;
  size_t workspace;
} Lib;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Floating-point operations of the nodes whose cost is arithmetic: 2 per
 * multiply-accumulate of Conv, MatMul, Gemm and attention (as bench/flops.py
 * counts); 0 for everything else. */
static double node_flops(const Node *n) {
  const Value *y = n->num_outputs > 0 ? n->outputs[0] : NULL;
  if (!y || !ir_value_is_static(y)) return 0;
  double out = (double)ir_value_numel(y);
  switch (n->op) {
  case OP_CONV:
  case OP_FUSED_CONV: {
    const Value *w = n->num_inputs > 1 ? n->inputs[1] : NULL;
    if (!w || w->rank < 3) return 0;
    double k = 1;
    for (int i = 1; i < w->rank; i++) k *= (double)w->dims[i];
    return 2 * out * k;
  }
  case OP_MATMUL:
  case OP_FUSED_MATMUL:
  case OP_GEMM: {
    const Value *a = n->inputs[0];
    if (!a || a->rank < 1) return 0;
    bool ta = n->op == OP_GEMM && ir_attr_int(n, "transA", 0);
    double k = (double)(ta && a->rank == 2 ? a->dims[0] : a->dims[a->rank - 1]);
    return 2 * out * k;
  }
  case OP_ATTENTION: {
    const Value *q = n->inputs[0], *k = n->num_inputs > 1 ? n->inputs[1] : NULL;
    if (!q || !k || q->rank < 2 || k->rank < 2) return 0;
    double d = (double)q->dims[q->rank - 1], m = (double)k->dims[k->rank - 2];
    double dv = (double)y->dims[y->rank - 1];
    return 2 * (out / dv) * m * (d + dv);
  }
  default: return 0;
  }
}

static void shape_text(const Value *v, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  if (!v) return;
  at += (size_t)snprintf(buf + at, size - at, "[");
  for (int i = 0; i < v->rank && at < size; i++)
    at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "," : "", (long long)v->dims[i]);
  if (at < size) snprintf(buf + at, size - at, "]");
}

static int shell(const char *cmd) {
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void lib_free(Lib *l) {
  if (l->dl) dlclose(l->dl);
  if (l->dir[0]) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", l->dir);
    shell(cmd);
  }
}

/* Compiles g with --profile into l->dir and loads it. */
static Status build(const CliOptions *o, Graph *g, Lib *l, Error *err) {
  snprintf(l->dir, sizeof l->dir, "/tmp/onnxc-profile-XXXXXX");
  if (!mkdtemp(l->dir)) {
    l->dir[0] = 0;
    return err_set(err, ST_IO, "cannot make a temporary folder: %s", strerror(errno));
  }
  char obj[128], hdr[128], so[128], line[512];
  snprintf(obj, sizeof obj, "%s/p.o", l->dir);
  snprintf(hdr, sizeof hdr, "%s/p.h", l->dir);
  snprintf(so, sizeof so, "%s/p.so", l->dir);
  CgOptions co = {.prefix = "p", .cpu = o->mcpu, .features = o->mattr, .opt_level = o->opt_level,
                  .emit = CG_EMIT_OBJ, .output_path = obj, .header_path = hdr,
                  .model_path = o->model, .reference_kernels_only = o->reference_kernels,
                  .min_task_ns = o->min_task_us * 1000.0, .profile = true, .log = stderr};
  DrvProgress *progress = drv_progress_begin(o);
  co.progress = progress ? drv_progress : NULL;
  co.progress_ctx = progress;
  Status st = cg_compile(g, &co, err);
  drv_progress_end(progress);
  TRY(st);
  TRY(drv_link_shared(NULL, obj, so, true, NULL, err));
  FILE *f = fopen(hdr, "r");
  if (!f) return err_set(err, ST_IO, "%s: cannot read", hdr);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "#define P_WORKSPACE_SIZE ", 25) == 0)
      l->workspace = (size_t)strtoull(line + 25, NULL, 10);
  fclose(f);
  l->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!l->dl) return err_set(err, ST_IO, "cannot load the profiled model: %s", dlerror());
  *(void **)&l->run = dlsym(l->dl, "p_run_profiled");
  *(void **)&l->node = dlsym(l->dl, "p_profile_node");
  *(void **)&l->fma = dlsym(l->dl, "p_profile_fma_loop");
  if (!l->run || !l->node || !l->fma)
    return err_set(err, ST_INTERNAL, "the profiled model lacks its profile entry points");
  return ST_OK;
}

/* Best GFLOP/s of one core (or `threads` cores when asked: each running
 * the loop) over short chunks: a peak is a maximum, noise only lowers it. */
static double fma_peak(const Lib *l) {
  double best = 0;
  for (int r = 0; r < 200; r++) {
    double t0 = now_ns();
    long long flops = l->fma(20000);
    double t = now_ns() - t0;
    if (t > 0 && flops / t > best) best = (double)flops / t;
  }
  return best;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 32) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static Status write_trace(const char *path, const Graph *g, const Lib *l, const long long *t,
                          Error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return err_set(err, ST_IO, "%s: cannot write: %s", path, strerror(errno));
  fprintf(f, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n");
  long long t0 = t[0];
  for (int i = 0; i < g->num_nodes; i++) {
    const char *op = NULL, *kernel = NULL;
    const char *name = l->node(i, &op, &kernel);
    char shape[128];
    shape_text(g->nodes[i]->num_outputs ? g->nodes[i]->outputs[0] : NULL, shape, sizeof shape);
    fprintf(f, "%s{\"name\": ", i ? ",\n" : "");
    json_string(f, name && *name ? name : op);
    fprintf(f, ", \"cat\": ");
    json_string(f, op);
    fprintf(f, ", \"ph\": \"X\", \"pid\": 1, \"tid\": 1, \"ts\": %.3f, \"dur\": %.3f, "
               "\"args\": {\"index\": %d, \"kernel\": ",
            (double)(t[2 * i] - t0) / 1e3, (double)(t[2 * i + 1] - t[2 * i]) / 1e3, i);
    json_string(f, kernel);
    fprintf(f, ", \"shape\": ");
    json_string(f, shape);
    fprintf(f, "}}");
  }
  fprintf(f, "\n]}\n");
  if (fclose(f) != 0) return err_set(err, ST_IO, "%s: write failed", path);
  return ST_OK;
}

typedef struct Row {
  int index;
  double ms, flops;
} Row;

static int cmp_row(const void *a, const void *b) {
  double x = ((const Row *)a)->ms, y = ((const Row *)b)->ms;
  return (x < y) - (x > y);
}

static void print_table(const Graph *g, const Lib *l, Row *rows, double total_ms, double plain_ms,
                        double plain_min_ms,
                        double peak, int threads, int runs) {
  int n = g->num_nodes;
  qsort(rows, (size_t)n, sizeof *rows, cmp_row);
  printf("%-4s %-42s %-22s %-44s %-18s %10s %7s %9s %7s\n", "#", "node", "op", "kernel", "shape",
         "ms", "%", "GFLOP/s", "% peak");
  for (int r = 0; r < n; r++) {
    int i = rows[r].index;
    const char *op = NULL, *kernel = NULL;
    const char *name = l->node(i, &op, &kernel);
    char shape[64], gf[16] = "-", pk[16] = "-";
    shape_text(g->nodes[i]->num_outputs ? g->nodes[i]->outputs[0] : NULL, shape, sizeof shape);
    if (rows[r].flops > 0 && rows[r].ms > 0) {
      double gflops = rows[r].flops / (rows[r].ms * 1e6);
      snprintf(gf, sizeof gf, "%.1f", gflops);
      if (peak > 0) snprintf(pk, sizeof pk, "%.1f%%", 100 * gflops / peak);
    }
    printf("%-4d %-42.42s %-22.22s %-44.44s %-18.18s %10.4f %6.2f%% %9s %7s\n", r + 1,
           name && *name ? name : "-", op, kernel, shape, rows[r].ms,
           total_ms > 0 ? 100 * rows[r].ms / total_ms : 0, gf, pk);
  }
  /* Per op type. */
  printf("\nby op type:\n%-22s %6s %10s %7s\n", "op", "nodes", "ms", "%");
  bool *done = calloc((size_t)n + 1, sizeof *done);
  for (int r = 0; done && r < n; r++) {
    if (done[r]) continue;
    const char *op = NULL;
    l->node(rows[r].index, &op, NULL);
    int count = 0;
    double ms = 0;
    for (int s = r; s < n; s++) {
      const char *op2 = NULL;
      l->node(rows[s].index, &op2, NULL);
      if (!done[s] && strcmp(op, op2) == 0) {
        done[s] = true;
        count++;
        ms += rows[s].ms;
      }
    }
    printf("%-22s %6d %10.4f %6.2f%%\n", op, count, ms, total_ms > 0 ? 100 * ms / total_ms : 0);
  }
  free(done);
  double flops = 0;
  for (int r = 0; r < n; r++) flops += rows[r].flops;
  /* The fastest untimed run too: on a busy machine most runs of a few ms
   * can include one preemption, which the per-node medians leave out. */
  printf("\ntotal of the nodes (medians of %d runs): %.4f ms; one run without the timers: %.4f ms "
         "(timers %+.1f%%); fastest run without the timers: %.4f ms\n",
         runs, total_ms, plain_ms, plain_ms > 0 ? 100 * (total_ms - plain_ms) / plain_ms : 0,
         plain_min_ms);
  printf("threads %d; FMA peak of %d core(s) measured now: %.1f GFLOP/s; the model: %.3f GFLOP, "
         "%.1f GFLOP/s (%.1f%% of peak)\n",
         threads, threads, peak, flops / 1e9, plain_ms > 0 ? flops / (plain_ms * 1e6) : 0,
         plain_ms > 0 && peak > 0 ? 100 * flops / (plain_ms * 1e6) / peak : 0);
}

Status cmd_profile(const CliOptions *o, Error *err) {
  Outputs outs;
  outputs_init(&outs);
  const char *trace = NULL;
  Graph *g = NULL;
  Lib l = {0};
  HostTensor in[CLI_MAX_LIST] = {0};
  void **outbuf = NULL;
  long long *times = NULL;
  double *dur = NULL, *total = NULL, *plain = NULL;
  Row *rows = NULL;
  void *ws = NULL;
  onnxc_pool *pool = NULL;
  int runs = o->runs > 0 ? o->runs : 10, threads = o->threads > 0 ? o->threads : 1;
  Status st = drv_guard_inputs(o, &outs, err);
  if (st == ST_OK && o->trace) st = outputs_add(&outs, o->trace, "the trace (--trace)", &trace, err);
  if (st == ST_OK) st = drv_load(o, &outs, &g, err);
  PipelineOptions po;
  drv_pipeline_options(o, &po);
  if (st == ST_OK) st = pass_run_pipeline(g, &po, err);
  if (st == ST_OK) st = drv_check_static(g, err);
  if (st == ST_OK && g->num_inputs > CLI_MAX_LIST)
    st = err_set(err, ST_UNSUPPORTED, "the model has more than %d inputs", CLI_MAX_LIST);
  if (st == ST_OK) st = build(o, g, &l, err);
  int n = g ? g->num_nodes : 0;
  uint64_t rng = o->seed ? o->seed : 1;
  for (int i = 0; st == ST_OK && i < g->num_inputs; i++)
    st = drv_random_input(g->inputs[i], &rng, &in[i], err);
  if (st == ST_OK) {
    outbuf = calloc((size_t)g->num_outputs + 1, sizeof *outbuf);
    times = calloc((size_t)2 * (size_t)n + 2, sizeof *times);
    dur = calloc((size_t)n * (size_t)runs + 1, sizeof *dur);
    total = calloc((size_t)runs, sizeof *total);
    plain = calloc((size_t)runs, sizeof *plain);
    rows = calloc((size_t)n + 1, sizeof *rows);
    ws = aligned_alloc(64, (l.workspace + 63) / 64 * 64 + 64);
    if (!outbuf || !times || !dur || !total || !plain || !rows || !ws)
      st = err_set(err, ST_NOMEM, "out of memory");
    for (int i = 0; st == ST_OK && i < g->num_outputs; i++)
      if (!(outbuf[i] = malloc(ir_value_nbytes(g->outputs[i]) + 1)))
        st = err_set(err, ST_NOMEM, "out of memory");
  }
  if (st == ST_OK && threads > 1 && !(pool = onnxc_pool_create(threads)))
    st = err_set(err, ST_IO, "cannot start a pool of %d threads", threads);
  const onnxc_parallel *par = onnxc_pool_parallel(pool);
  const void *ins[CLI_MAX_LIST];
  for (int i = 0; g && i < g->num_inputs && i < CLI_MAX_LIST; i++) ins[i] = in[i].data;
  /* Warm-up, then rounds of (timed run, untimed run); the trace keeps the
   * timed run whose total is the median. */
  for (int r = 0; st == ST_OK && r < 3; r++)
    if (l.run(ins, outbuf, ws, par, times) != 0) st = err_set(err, ST_INTERNAL, "the model's run failed");
  long long *all = calloc((size_t)2 * (size_t)n * (size_t)runs + 2, sizeof *all);
  double *sorted = calloc((size_t)runs + 1, sizeof *sorted);
  if (st == ST_OK && (!all || !sorted)) st = err_set(err, ST_NOMEM, "out of memory");
  for (int r = 0; st == ST_OK && r < runs; r++) {
    long long *t = all + (size_t)2 * (size_t)n * (size_t)r;
    double t0 = now_ns();
    int rc = l.run(ins, outbuf, ws, par, t);
    total[r] = (now_ns() - t0) / 1e6;
    t0 = now_ns();
    rc |= l.run(ins, outbuf, ws, par, NULL);
    plain[r] = (now_ns() - t0) / 1e6;
    if (rc) st = err_set(err, ST_INTERNAL, "the model's run failed");
    for (int i = 0; i < n; i++)
      dur[(size_t)i * (size_t)runs + (size_t)r] = (double)(t[2 * i + 1] - t[2 * i]) / 1e6;
  }
  /* The trace shows the timed run whose total is the median. */
  int mid = 0;
  if (st == ST_OK) {
    memcpy(sorted, total, (size_t)runs * sizeof *sorted);
    double m = median(sorted, runs);
    for (int r = 1; r < runs; r++)
      if (fabs(total[r] - m) < fabs(total[mid] - m)) mid = r;
  }
  long long *median_times = all ? all + (size_t)2 * (size_t)n * (size_t)mid : NULL;
  if (st == ST_OK) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      rows[i].index = i;
      rows[i].ms = median(dur + (size_t)i * (size_t)runs, runs);
      rows[i].flops = node_flops(g->nodes[i]);
      sum += rows[i].ms;
    }
    double peak = fma_peak(&l) * threads;
    double fastest = plain[0];
    for (int r = 1; r < runs; r++) fastest = plain[r] < fastest ? plain[r] : fastest;
    print_table(g, &l, rows, sum, median(plain, runs), fastest, peak, threads, runs);
    if (trace) st = write_trace(trace, g, &l, median_times, err);
  }
  if (st == ST_OK) st = outputs_commit(&outs, err);
  if (st == ST_OK && o->trace) printf("trace: %s (load it in chrome://tracing or ui.perfetto.dev)\n", o->trace);
  onnxc_pool_destroy(pool);
  for (int i = 0; g && outbuf && i < g->num_outputs; i++) free(outbuf[i]);
  for (int i = 0; i < CLI_MAX_LIST; i++) host_tensor_free(&in[i]);
  free(outbuf);
  free(times);
  free(all);
  free(sorted);
  free(dur);
  free(total);
  free(plain);
  free(rows);
  free(ws);
  lib_free(&l);
  outputs_free(&outs);
  ir_graph_free(g);
  return st;
}
