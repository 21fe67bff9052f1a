/*
 * Micro-benchmark of the conv lowerings (codegen/lower_conv.c): compiles
 * single-Conv graphs with cg_compile (-O3, host cpu), links each .o into a
 * shared object, and times <prefix>_run (median of 25 runs after warm-up).
 * The reference-kernel path is the same graph with the weights passed as
 * a runtime input, which the lowering does not cover, so the node runs the
 * reference kernel specialized through its constant descriptor.  Peak is
 * measured with an FMA loop (12 independent vector accumulators).
 *
 * Build (from /work/main, after building build-convgen):
 *   cc -O2 -march=native -ffp-contract=fast -I. -o /tmp/bench_conv bench/micro/bench_conv.c \
 *     build-convgen/libonnxc_codegen.a build-convgen/libonnxc_passes.a \
 *     build-convgen/libonnxc_ops.a build-convgen/libonnxc_ir.a \
 *     $(llvm-config-19 --ldflags --libs all) -lstdc++ -ldl -lm
 *   /tmp/bench_conv
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "ir/graph.h"
#include "ops/ops.h"

typedef int (*RunFn)(const void *const *, void *const *, void *);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef float v16 __attribute__((vector_size(64)));

/* GFLOP/s of a dependency-free stream of vector FMAs. */
static double fma_peak(void) {
  v16 m, a;
  for (int i = 0; i < 16; i++) {
    m[i] = 0.999999f;
    a[i] = 1e-7f;
  }
  /* Twelve named accumulators so they stay in registers. */
  v16 a0 = m, a1 = a0 + a, a2 = a1 + a, a3 = a2 + a, a4 = a3 + a, a5 = a4 + a;
  v16 a6 = a5 + a, a7 = a6 + a, a8 = a7 + a, a9 = a8 + a, a10 = a9 + a, a11 = a10 + a;
  /* Best of short bursts: the machine is shared, a burst that got
   * descheduled says nothing about the core. */
  long iters = 500000;
  double t = 1e30;
  for (int rep = 0; rep < 40; rep++) {
    double t0 = now();
    for (long i = 0; i < iters; i++) {
      a0 = a0 * m + a, a1 = a1 * m + a, a2 = a2 * m + a, a3 = a3 * m + a;
      a4 = a4 * m + a, a5 = a5 * m + a, a6 = a6 * m + a, a7 = a7 * m + a;
      a8 = a8 * m + a, a9 = a9 * m + a, a10 = a10 * m + a, a11 = a11 * m + a;
    }
    double dt = now() - t0;
    if (dt < t) t = dt;
  }
  v16 r = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  if (r[0] == 12345.0f) printf("%f\n", r[0]);
  return 2.0 * 16 * 12 * (double)iters / t * 1e-9;
}

typedef struct Case {
  const char *name;
  int64_t cin, cout, h, w, k, stride, pad, group;
} Case;

static Graph *build(const Case *c, bool weights_const) {
  Graph *g = ir_graph_new("bench", "<bench>");
  Value *x = ir_value_new(g, "x");
  int64_t xd[4] = {1, c->cin, c->h, c->w}, wd[4] = {c->cout, c->cin / c->group, c->k, c->k};
  ir_value_set_type(x, DT_FLOAT32, 4, xd, NULL);
  ir_graph_add_input(g, x, NULL);
  int64_t nw = wd[0] * wd[1] * wd[2] * wd[3];
  float *wv = malloc((size_t)nw * sizeof *wv), *bv = malloc((size_t)c->cout * sizeof *bv);
  for (int64_t i = 0; i < nw; i++) wv[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (int64_t i = 0; i < c->cout; i++) bv[i] = 0.01f * (float)i;
  Value *w;
  if (weights_const) {
    w = ir_const_new(g, "w", DT_FLOAT32, 4, wd, wv);
  } else {
    w = ir_value_new(g, "w");
    ir_value_set_type(w, DT_FLOAT32, 4, wd, NULL);
    ir_graph_add_input(g, w, NULL);
  }
  Value *b = ir_const_new(g, "b", DT_FLOAT32, 1, &c->cout, bv);
  free(wv);
  free(bv);
  Node *n = ir_node_new(g, OP_CONV, "conv", 3, 1);
  n->opset = 22;
  n->inputs[0] = x;
  n->inputs[1] = w;
  n->inputs[2] = b;
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  int64_t s[2] = {c->stride, c->stride}, p[4] = {c->pad, c->pad, c->pad, c->pad};
  ir_node_set_attr_ints(g, n, "strides", s, 2, NULL);
  ir_node_set_attr_ints(g, n, "pads", p, 4, NULL);
  ir_node_set_attr_int(g, n, "group", c->group, NULL);
  Error err = {0};
  if (ops_infer_node(g, n, &err) != ST_OK) {
    fprintf(stderr, "%s: %s\n", c->name, err.msg);
    exit(1);
  }
  ir_graph_add_output(g, n->outputs[0], NULL);
  return g;
}

/* The fastest run of the last time_graph (the machine may be shared). */
static double best_seconds;

/* Median seconds per run of g compiled at -O3 for the host. */
static double time_graph(Graph *g, const char *tag) {
  char dir[] = "/tmp/onnxc-bench-XXXXXX", obj[128], hdr[128], so[128], cmd[512], line[256];
  if (!mkdtemp(dir)) return -1;
  snprintf(obj, sizeof obj, "%s/m.o", dir);
  snprintf(hdr, sizeof hdr, "%s/m.h", dir);
  snprintf(so, sizeof so, "%s/m.so", dir);
  CgOptions o = {.prefix = "model", .opt_level = 3, .emit = CG_EMIT_OBJ, .output_path = obj,
                 .header_path = hdr};
  Error err = {0};
  if (cg_compile(g, &o, &err) != ST_OK) {
    fprintf(stderr, "%s: %s\n", tag, err.msg);
    return -1;
  }
  snprintf(cmd, sizeof cmd, "cc -shared -o %s %s -lm", so, obj);
  if (system(cmd) != 0) return -1;
  size_t ws_size = 0;
  FILE *f = fopen(hdr, "r");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "#define MODEL_WORKSPACE_SIZE", 28) == 0) ws_size = strtoull(line + 28, 0, 10);
  if (f) fclose(f);
  void *dl = dlopen(so, RTLD_NOW);
  RunFn run = dl ? (RunFn)(uintptr_t)dlsym(dl, "model_run") : NULL;
  if (!run) return -1;
  void *ins[4] = {0}, *outs[1];
  for (int i = 0; i < g->num_inputs; i++) {
    size_t nb = ir_value_nbytes(g->inputs[i]);
    ins[i] = malloc(nb);
    for (size_t k = 0; k < nb / 4; k++) ((float *)ins[i])[k] = (float)(k % 17) / 17.0f - 0.5f;
  }
  outs[0] = malloc(ir_value_nbytes(g->outputs[0]));
  void *ws = aligned_alloc(64, ws_size + 64);
  double ts[25];
  for (int i = 0; i < 3; i++) run((const void *const *)ins, outs, ws);
  for (int i = 0; i < 25; i++) {
    double t0 = now();
    run((const void *const *)ins, outs, ws);
    ts[i] = now() - t0;
  }
  qsort(ts, 25, sizeof *ts, cmp_double);
  for (int i = 0; i < g->num_inputs; i++) free(ins[i]);
  free(outs[0]);
  free(ws);
  dlclose(dl);
  unlink(obj);
  unlink(hdr);
  unlink(so);
  rmdir(dir);
  best_seconds = ts[0];
  return ts[12];
}

int main(void) {
  static const Case cases[] = {
      {"ViT-B/16 patch embed 3->768 16x16/16 224x224", 3, 768, 224, 224, 16, 16, 0, 1},
      {"3x3 64->64 pad 1 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1},
      {"3x3 64->64 pad 0 on 58x58 (no border)", 64, 64, 58, 58, 3, 1, 0, 1},
      {"1x1 256->64 on 56x56", 256, 64, 56, 56, 1, 1, 0, 1},
      {"depthwise 3x3 pad 1 on 128x56x56", 128, 128, 56, 56, 3, 1, 1, 128},
  };
  double peak = fma_peak();
  printf("measured FMA peak: %.1f GFLOP/s (1 core)\n", peak);
  printf("%-46s %10s %9s %7s %11s %10s %9s %8s\n", "case", "lowered", "GFLOP/s", "%peak",
         "best %peak", "reference", "GFLOP/s", "speedup");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const Case *c = &cases[i];
    Graph *g = build(c, true);
    const Value *y = g->outputs[0];
    double flops = 2.0 * (double)ir_value_numel(y) * (double)(c->cin / c->group * c->k * c->k);
    double tl = time_graph(g, c->name), bl = best_seconds;
    ir_graph_free(g);
    g = build(c, false);
    double tr = time_graph(g, c->name);
    ir_graph_free(g);
    printf("%-46s %8.3fms %9.1f %6.1f%% %10.1f%% %8.3fms %9.1f %7.1fx\n", c->name, tl * 1e3,
           flops / tl * 1e-9, 100.0 * flops / tl * 1e-9 / peak, 100.0 * flops / bl * 1e-9 / peak,
           tr * 1e3, flops / tr * 1e-9, tr / tl);
  }
  return 0;
}
