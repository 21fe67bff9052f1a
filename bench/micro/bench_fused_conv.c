/*
 * Micro-benchmark of the onnxc.FusedConv lowering (codegen/lower_fused_conv.c):
 * Conv -> BatchNormalization -> activation [-> Add residual] graphs go
 * through the full pass pipeline (so fold-batchnorm + fuse-epilogues build
 * the FusedConv), are compiled with cg_compile (-O3, host cpu), linked into
 * a shared object and timed (best of 25 runs after warm-up).  "before"
 * is the same graph with CgOptions.reference_kernels_only set, i.e. the
 * FusedConv reference kernel; "conv only" is the bare lowered Conv, the
 * cost floor the epilogue adds to.  Peak from an FMA loop.
 *
 * Build (from /work/main, after building build-fusedconv):
 *   cc -O2 -march=native -ffp-contract=fast -I. -I$(llvm-config-19 --includedir) \
 *     -o /tmp/bench_fused_conv \
 *     bench/micro/bench_fused_conv.c build-fusedconv/libonnxc_codegen.a \
 *     build-fusedconv/libonnxc_passes.a build-fusedconv/libonnxc_ops.a \
 *     build-fusedconv/libonnxc_ir.a build-fusedconv/libonnxc_ops.a \
 *     $(llvm-config-19 --ldflags --libs all) -lstdc++ -ldl -lm
 *   /tmp/bench_fused_conv
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
#include "codegen/conv_epilogue.h"
#include "passes/pass.h"

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
  OpKind act;       /* OP_RELU, OP_SIGMOID (x*sigmoid(x) = SiLU) or OP_COUNT: none */
  bool residual;
} Case;

static Value *cnst(Graph *g, const char *name, int64_t n, float base, float step) {
  float *v = malloc((size_t)n * sizeof *v);
  for (int64_t i = 0; i < n; i++) v[i] = base + step * (float)(i % 13);
  Value *c = ir_const_new(g, name, DT_FLOAT32, 1, &n, v);
  free(v);
  return c;
}

static Node *mk(Graph *g, OpKind op, const char *name, int nin, Value **ins) {
  Node *n = ir_node_new(g, op, name, nin, 1);
  n->opset = 22;
  for (int i = 0; i < nin; i++) n->inputs[i] = ins[i];
  ir_node_set_output(n, 0, ir_value_new(g, name));
  return n;
}

/* Conv [-> BN -> act -> Add R] through the pipeline; bn false: bare Conv. */
static Graph *build(const Case *c, bool bn) {
  Graph *g = ir_graph_new("bench", "<bench>");
  g->opset = 22;
  Value *x = ir_value_new(g, "x");
  int64_t xd[4] = {1, c->cin, c->h, c->w}, wd[4] = {c->cout, c->cin / c->group, c->k, c->k};
  ir_value_set_type(x, DT_FLOAT32, 4, xd, NULL);
  ir_graph_add_input(g, x, NULL);
  int64_t nw = wd[0] * wd[1] * wd[2] * wd[3];
  float *wv = malloc((size_t)nw * sizeof *wv);
  for (int64_t i = 0; i < nw; i++) wv[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  Value *ins[5] = {x, ir_const_new(g, "w", DT_FLOAT32, 4, wd, wv)};
  free(wv);
  Node *conv = mk(g, OP_CONV, "conv", 2, ins);
  int64_t s[2] = {c->stride, c->stride}, p[4] = {c->pad, c->pad, c->pad, c->pad};
  ir_node_set_attr_ints(g, conv, "strides", s, 2, NULL);
  ir_node_set_attr_ints(g, conv, "pads", p, 4, NULL);
  ir_node_set_attr_int(g, conv, "group", c->group, NULL);
  Value *y = conv->outputs[0];
  if (bn) {
    Value *b[5] = {y, cnst(g, "sc", c->cout, 0.9f, 0.02f), cnst(g, "sh", c->cout, -0.1f, 0.02f),
                   cnst(g, "mu", c->cout, -0.05f, 0.01f), cnst(g, "var", c->cout, 0.8f, 0.03f)};
    y = mk(g, OP_BATCH_NORMALIZATION, "bn", 5, b)->outputs[0];
    if (c->act == OP_RELU) {
      y = mk(g, OP_RELU, "act", 1, &y)->outputs[0];
    } else if (c->act == OP_SIGMOID) {
      Value *sg = mk(g, OP_SIGMOID, "sig", 1, &y)->outputs[0];
      Value *m[2] = {y, sg};
      y = mk(g, OP_MUL, "silu", 2, m)->outputs[0];
    }
    if (c->residual) {
      Value *r = ir_value_new(g, "r");
      int64_t rd[4] = {1, c->cout, (c->h + 2 * c->pad - c->k) / c->stride + 1,
                       (c->w + 2 * c->pad - c->k) / c->stride + 1};
      ir_value_set_type(r, DT_FLOAT32, 4, rd, NULL);
      ir_graph_add_input(g, r, NULL);
      Value *a[2] = {y, r};
      y = mk(g, OP_ADD, "add", 2, a)->outputs[0];
    }
  }
  ir_graph_add_output(g, y, NULL);
  PipelineOptions po = {0};
  Error err = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) {
    fprintf(stderr, "%s: %s\n", c->name, err.msg);
    exit(1);
  }
  int fused = 0;
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_FUSED_CONV) fused++;
  if (bn && fused != 1) {
    fprintf(stderr, "%s: the pipeline did not build one FusedConv\n", c->name);
    exit(1);
  }
  return g;
}

/* The fastest run of the last time_graph (the machine may be shared). */
static double best_seconds;

/* Median seconds per run of g compiled at -O3 for the host. */
static double time_graph(Graph *g, const char *tag, bool reference_only) {
  char dir[] = "/tmp/onnxc-bench-XXXXXX", obj[128], hdr[128], so[128], cmd[512], line[256];
  if (!mkdtemp(dir)) return -1;
  snprintf(obj, sizeof obj, "%s/m.o", dir);
  snprintf(hdr, sizeof hdr, "%s/m.h", dir);
  snprintf(so, sizeof so, "%s/m.so", dir);
  CgOptions o = {.prefix = "model", .opt_level = 3, .emit = CG_EMIT_OBJ, .output_path = obj,
                 .header_path = hdr, .reference_kernels_only = reference_only};
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
      {"Conv+BN+ReLU 3x3 64->64 pad 1 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1, OP_RELU, false},
      {"Conv+BN+ReLU+Add 3x3 64->64 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1, OP_RELU, true},
      {"Conv+BN+SiLU 3x3 64->64 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1, OP_SIGMOID, false},
      {"Conv+BN+ReLU 1x1 256->64 on 56x56", 256, 64, 56, 56, 1, 1, 0, 1, OP_RELU, false},
      {"dw Conv+BN+SiLU 3x3 128 on 56x56", 128, 128, 56, 56, 3, 1, 1, 128, OP_SIGMOID, false},
  };
  double peak = fma_peak();
  printf("measured FMA peak: %.1f GFLOP/s (1 core)\n", peak);
  printf("%-40s %11s %11s %8s %11s %9s %7s\n", "case", "before(ref)", "after", "speedup",
         "conv only", "GFLOP/s", "%peak");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const Case *c = &cases[i];
    Graph *g = build(c, true);
    double flops = 2.0 * (double)ir_value_numel(g->outputs[0]) *
                   (double)(c->cin / c->group * c->k * c->k);
    /* Best of 25 runs: on a shared, loaded machine the median mostly
     * measures the other tenants. */
    time_graph(g, c->name, false);
    double ta = best_seconds;
    time_graph(g, c->name, true);
    double tb = best_seconds;
    ir_graph_free(g);
    g = build(c, false);
    time_graph(g, c->name, false);
    double tc = best_seconds;
    ir_graph_free(g);
    printf("%-40s %9.3fms %9.3fms %7.1fx %9.3fms %9.1f %6.1f%%\n", c->name, tb * 1e3, ta * 1e3,
           tb / ta, tc * 1e3, flops / ta * 1e-9, 100.0 * flops / ta * 1e-9 / peak);
  }
  return 0;
}
