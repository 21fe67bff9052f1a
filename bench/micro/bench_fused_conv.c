/*
 * Micro-benchmark of the onnxc.FusedConv lowering (codegen/conv/lower_fused_conv.c):
 * Conv -> BatchNormalization -> activation [-> Add residual] graphs go
 * through the full pass pipeline (so fold-batchnorm + fuse-epilogues build
 * the FusedConv), are compiled with cg_compile (-O3, host cpu), linked into
 * a shared object and timed (best of 25 runs after warm-up).  "before"
 * is the same graph with CgOptions.reference_kernels_only set, i.e. the
 * FusedConv reference kernel; "conv only" is the bare lowered Conv, the
 * cost floor the epilogue adds to.  Peak from an FMA loop.
 *
 * Built with micro_util.c by bench/micro/CMakeLists.txt; run
 * <build>/bench/micro/bench_fused_conv.
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
#include "bench/micro/micro_util.h"
#include "codegen/conv/conv_epilogue.h"
#include "passes/pass.h"

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

int main(void) {
  static const Case cases[] = {
      {"Conv+BN+ReLU 3x3 64->64 pad 1 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1, OP_RELU, false},
      {"Conv+BN+ReLU+Add 3x3 64->64 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1, OP_RELU, true},
      {"Conv+BN+SiLU 3x3 64->64 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1, OP_SIGMOID, false},
      {"Conv+BN+ReLU 1x1 256->64 on 56x56", 256, 64, 56, 56, 1, 1, 0, 1, OP_RELU, false},
      {"dw Conv+BN+SiLU 3x3 128 on 56x56", 128, 128, 56, 56, 3, 1, 1, 128, OP_SIGMOID, false},
  };
  double peak = micro_fma_peak_v16();
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
    double ta, tb, tc;
    micro_time_so(g, c->name, false, &ta);
    micro_time_so(g, c->name, true, &tb);
    ir_graph_free(g);
    g = build(c, false);
    micro_time_so(g, c->name, false, &tc);
    ir_graph_free(g);
    printf("%-40s %9.3fms %9.3fms %7.1fx %9.3fms %9.1f %6.1f%%\n", c->name, tb * 1e3, ta * 1e3,
           tb / ta, tc * 1e3, flops / ta * 1e-9, 100.0 * flops / ta * 1e-9 / peak);
  }
  return 0;
}
