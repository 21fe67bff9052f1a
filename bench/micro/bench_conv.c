/*
 * Micro-benchmark of the conv lowerings (codegen/conv/lower_conv.c): compiles
 * single-Conv graphs with cg_compile (-O3, host cpu), links each .o into a
 * shared object, and times <prefix>_run (median of 25 runs after warm-up).
 * The reference-kernel path is the same graph with the weights passed as
 * a runtime input, which the lowering does not cover, so the node runs the
 * reference kernel specialized through its constant descriptor.  Peak is
 * measured with an FMA loop (12 independent vector accumulators).
 *
 * Built with micro_util.c by bench/micro/CMakeLists.txt; run
 * <build>/bench/micro/bench_conv.
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

int main(void) {
  static const Case cases[] = {
      {"ViT-B/16 patch embed 3->768 16x16/16 224x224", 3, 768, 224, 224, 16, 16, 0, 1},
      {"3x3 64->64 pad 1 on 56x56", 64, 64, 56, 56, 3, 1, 1, 1},
      {"3x3 64->64 pad 0 on 58x58 (no border)", 64, 64, 58, 58, 3, 1, 0, 1},
      {"1x1 256->64 on 56x56", 256, 64, 56, 56, 1, 1, 0, 1},
      {"depthwise 3x3 pad 1 on 128x56x56", 128, 128, 56, 56, 3, 1, 1, 128},
  };
  double peak = micro_fma_peak_v16();
  printf("measured FMA peak: %.1f GFLOP/s (1 core)\n", peak);
  printf("%-46s %10s %9s %7s %11s %10s %9s %8s\n", "case", "lowered", "GFLOP/s", "%peak",
         "best %peak", "reference", "GFLOP/s", "speedup");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const Case *c = &cases[i];
    Graph *g = build(c, true);
    const Value *y = g->outputs[0];
    double flops = 2.0 * (double)ir_value_numel(y) * (double)(c->cin / c->group * c->k * c->k);
    double bl, tl = micro_time_so(g, c->name, false, &bl);
    ir_graph_free(g);
    g = build(c, false);
    double tr = micro_time_so(g, c->name, false, NULL);
    ir_graph_free(g);
    printf("%-46s %8.3fms %9.1f %6.1f%% %10.1f%% %8.3fms %9.1f %7.1fx\n", c->name, tl * 1e3,
           flops / tl * 1e-9, 100.0 * flops / tl * 1e-9 / peak, 100.0 * flops / bl * 1e-9 / peak,
           tr * 1e3, flops / tr * 1e-9, tr / tl);
  }
  return 0;
}
