/*
 * Micro-benchmark of the MatMul lowering (codegen/gemm/lower_gemm.c) on the
 * ViT-B/16 product shapes, single thread: each shape is one MatMul graph
 * compiled with cg_compile (-O3, host CPU) into a shared object, timed as
 * the median of 25 runs after 3 warm-ups, once with the lowering and once
 * through the reference kernel (CgOptions.reference_kernels_only).  Prints GFLOP/s
 * and % of the FMA peak measured by a register-only FMA loop.  Times are
 * thread CPU time (robust on a shared machine).
 *
 * Built with micro_util.c by bench/micro/CMakeLists.txt; run
 * <build>/bench/micro/bench_gemm.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen/gemm/gemm_emit.h"
#include "ops/ops.h"
#include "bench/micro/micro_util.h"

typedef struct Shape {
  const char *name;
  int rank;
  int64_t batch, m, k, n;
  int b_const;
} Shape;

static Graph *build(const Shape *s) {
  Error err;
  Graph *g = ir_graph_new("bench", "bench_gemm");
  g->opset = 17;
  int64_t da[3] = {s->batch, s->m, s->k}, db[3] = {s->batch, s->k, s->n};
  int r = s->rank;
  Value *a = ir_value_new(g, "a");
  ir_value_set_type(a, DT_FLOAT32, r, r == 3 ? da : da + 1, &err);
  ir_graph_add_input(g, a, &err);
  Value *b;
  if (s->b_const) {
    size_t nb = (size_t)(s->k * s->n);
    float *w = malloc(nb * sizeof *w);
    for (size_t i = 0; i < nb; i++) w[i] = (float)((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
    b = ir_const_new(g, "w", DT_FLOAT32, 2, db + 1, w);
    free(w);
  } else {
    b = ir_value_new(g, "b");
    ir_value_set_type(b, DT_FLOAT32, r, r == 3 ? db : db + 1, &err);
    ir_graph_add_input(g, b, &err);
  }
  Node *n = ir_node_new(g, OP_MATMUL, "mm", 2, 1);
  n->opset = 17;
  n->inputs[0] = a;
  n->inputs[1] = b;
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  if (ops_infer_node(g, n, &err) != ST_OK) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  ir_graph_add_output(g, n->outputs[0], &err);
  return g;
}

/* Median and best seconds per run of s compiled with or without the
 * lowering. */
static void time_shape(const Shape *s, bool lowered, double *median, double *best) {
  Graph *g = build(s);
  *median = micro_time_cgh(g, !lowered, 3, 25, best);
  ir_graph_free(g);
}

int main(void) {
  const Shape shapes[] = {
      {"qkv  197x768 x 768x2304 (const B)", 2, 1, 197, 768, 2304, 1},
      {"fc1  197x768 x 768x3072 (const B)", 2, 1, 197, 768, 3072, 1},
      {"fc2  197x3072 x 3072x768 (const B)", 2, 1, 197, 3072, 768, 1},
      {"proj 197x768 x 768x768 (const B)", 2, 1, 197, 768, 768, 1},
      {"QK^T 12x197x64 x 12x64x197", 3, 12, 197, 64, 197, 0},
      {"PV   12x197x197 x 12x197x64", 3, 12, 197, 197, 64, 0},
  };
  double peak = micro_fma_peak_gflops(60);
  printf("measured FMA peak: %.1f GFLOP/s (single thread)\n", peak);
  printf("GFLOP/s from the median run (best run in parentheses)\n");
  printf("%-36s %15s %15s %16s %8s\n", "shape", "GFLOP/s", "%peak", "reference GF/s", "speedup");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const Shape *s = &shapes[i];
    double flop = 2.0 * (double)s->batch * (double)s->m * (double)s->k * (double)s->n;
    double tl, tlb, tr, trb;
    time_shape(s, true, &tl, &tlb);
    time_shape(s, false, &tr, &trb);
    printf("%-36s %6.1f (%6.1f) %5.1f%% (%5.1f%%) %7.1f (%6.1f) %7.1fx\n", s->name,
           flop / tl * 1e-9, flop / tlb * 1e-9, 100.0 * flop / tl * 1e-9 / peak,
           100.0 * flop / tlb * 1e-9 / peak, flop / tr * 1e-9, flop / trb * 1e-9, tr / tl);
    fflush(stdout);
  }
  return 0;
}
