/*
 * Micro-benchmark of the onnxc.FusedMatMul lowering
 * (codegen/gemm/lower_fused_matmul.c) on the ViT-B/16 MLP shapes, single
 * thread: the fused product (MatMul + bias + Gelu or Relu, and fc2's MatMul
 * + bias + residual, fused by the real pass pipeline) against the plain lowered
 * MatMul of the same shape and against the unfused chain (MatMul, Add,
 * Gelu as separate lowered nodes).  Median of 25 runs after 3 warm-ups,
 * thread CPU time, compiled at -O3 for the host.
 *
 * Built with micro_util.c by bench/micro/CMakeLists.txt; run
 * <build>/bench/micro/bench_fused_matmul.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/ops.h"
#include "passes/pass.h"
#include "bench/micro/micro_util.h"

static void die(const Error *err) {
  fprintf(stderr, "%s\n", err->msg);
  exit(1);
}

static Value *in(Graph *g, int rank, const int64_t *d) {
  Error err;
  Value *v = ir_value_new(g, "x");
  if (ir_value_set_type(v, DT_FLOAT32, rank, d, &err) != ST_OK) die(&err);
  if (ir_graph_add_input(g, v, &err) != ST_OK) die(&err);
  return v;
}

static Value *cst(Graph *g, int rank, const int64_t *d, size_t count) {
  float *w = malloc(count * sizeof *w);
  for (size_t i = 0; i < count; i++) w[i] = (float)((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
  Value *v = ir_const_new(g, "w", DT_FLOAT32, rank, d, w);
  free(w);
  return v;
}

static Value *op(Graph *g, OpKind k, Value *a, Value *b) {
  Error err;
  Node *n = ir_node_new(g, k, "n", b ? 2 : 1, 1);
  n->opset = g->opset;
  n->inputs[0] = a;
  if (b) n->inputs[1] = b;
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  if (ops_infer_node(g, n, &err) != ST_OK) die(&err);
  return n->outputs[0];
}

typedef enum Variant { PLAIN, FUSED_GELU, CHAIN_GELU, FUSED_RES, FUSED_RELU } Variant;

/* [m,k] x const [k,n] with the variant's epilogue. */
static Graph *build(int64_t m, int64_t k, int64_t n, Variant v) {
  Error err;
  Graph *g = ir_graph_new("bench", "bench_fused_matmul");
  g->opset = 20;
  int64_t da[2] = {m, k}, db[2] = {k, n}, dy[2] = {m, n};
  Value *y = op(g, OP_MATMUL, in(g, 2, da), cst(g, 2, db, (size_t)(k * n)));
  if (v != PLAIN) y = op(g, OP_ADD, y, cst(g, 1, &n, (size_t)n));
  if (v == FUSED_GELU || v == CHAIN_GELU) y = op(g, OP_GELU, y, NULL);
  if (v == FUSED_RELU) y = op(g, OP_RELU, y, NULL);
  if (v == FUSED_RES) y = op(g, OP_ADD, in(g, 2, dy), y);
  if (ir_graph_add_output(g, y, &err) != ST_OK) die(&err);
  if (v == FUSED_GELU || v == FUSED_RES || v == FUSED_RELU) {
    PipelineOptions po = {0};
    if (pass_run_pipeline(g, &po, &err) != ST_OK) die(&err);
    int fused = 0;
    for (int i = 0; i < g->num_nodes; i++) fused += g->nodes[i]->op == OP_FUSED_MATMUL;
    if (fused != 1) {
      fprintf(stderr, "the pipeline did not fuse the product\n");
      exit(1);
    }
  }
  return g;
}

static double time_graph(Graph *g) {
  double t = micro_time_cgh(g, false, 3, 25, NULL);
  ir_graph_free(g);
  return t;
}

static void row(const char *name, int64_t m, int64_t k, int64_t n, Variant v, double plain) {
  double t = time_graph(build(m, k, n, v));
  double flop = 2.0 * (double)m * (double)k * (double)n;
  printf("%-44s %8.3f ms %7.1f GFLOP/s %+6.1f%% vs plain\n", name, t * 1e3, flop / t * 1e-9,
         plain > 0 ? 100.0 * (t - plain) / plain : 0.0);
  fflush(stdout);
}

int main(void) {
  double p1 = time_graph(build(197, 768, 3072, PLAIN));
  row("fc1 197x768x3072 plain MatMul", 197, 768, 3072, PLAIN, p1);
  row("fc1 + bias + Gelu, fused (FusedMatMul)", 197, 768, 3072, FUSED_GELU, p1);
  row("fc1 + bias + Relu, fused (FusedMatMul)", 197, 768, 3072, FUSED_RELU, p1);
  row("fc1 + bias + Gelu, unfused chain", 197, 768, 3072, CHAIN_GELU, p1);
  double p2 = time_graph(build(197, 3072, 768, PLAIN));
  row("fc2 197x3072x768 plain MatMul", 197, 3072, 768, PLAIN, p2);
  row("fc2 + bias + residual, fused (FusedMatMul)", 197, 3072, 768, FUSED_RES, p2);
  return 0;
}
