/*
 * Micro-benchmark of the onnxc.Attention lowering (codegen/attention/attn_emit.c),
 * single thread: ViT-B/16's attention [12 heads, 197 x 64] (12 per
 * inference) and Swin-T's windows [64 windows, 3 heads, 49 x 32] with its
 * relative-position bias, T2T-ViT's long token-transformer stages [1, 3136,
 * 64] and [1, 785, 64] (keys streamed in chunks), each one Attention graph
 * compiled with cg_compile (-O3, host CPU) into a shared object and timed
 * as the median of 25 runs (5 for the slow reference on the long shapes)
 * after 3 warm-ups (1), with the lowering and through the reference
 * kernel (CgOptions.reference_kernels_only).  Prints GFLOP/s (4*N*M*D per head) and
 * % of the FMA peak measured by a register-only FMA loop; thread CPU time.
 *
 * Arguments: --no-ref skips the reference kernel; any other argument
 * times only the shapes whose name contains it.
 *
 * Built with micro_util.c by bench/micro/CMakeLists.txt; run
 * <build>/bench/micro/bench_attention.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen/attention/attn_emit.h"
#include "ops/ops.h"
#include "bench/micro/micro_util.h"

typedef struct Shape {
  const char *name;
  int nlead;
  int64_t lead[3];
  int64_t n, d;
  int bias; /* constant [1, heads, N, N] bias */
} Shape;

static Value *in_value(Graph *g, int r, const int64_t *dims) {
  Error err;
  Value *v = ir_value_new(g, "x");
  ir_value_set_type(v, DT_FLOAT32, r, dims, &err);
  ir_graph_add_input(g, v, &err);
  return v;
}

static Graph *build(const Shape *s) {
  Error err;
  Graph *g = ir_graph_new("bench", "bench_attention");
  g->opset = 17;
  int r = s->nlead + 2;
  int64_t dims[5];
  for (int i = 0; i < s->nlead; i++) dims[i] = s->lead[i];
  dims[r - 2] = s->n;
  dims[r - 1] = s->d;
  Node *n = ir_node_new(g, OP_ATTENTION, "attn", s->bias ? 4 : 3, 1);
  n->opset = 17;
  for (int i = 0; i < 3; i++) n->inputs[i] = in_value(g, r, dims);
  if (s->bias) {
    int64_t bd[4] = {1, s->lead[s->nlead - 1], s->n, s->n};
    size_t nb = (size_t)(bd[1] * s->n * s->n);
    float *w = malloc(nb * sizeof *w);
    for (size_t i = 0; i < nb; i++) w[i] = (float)((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
    n->inputs[3] = ir_const_new(g, "bias", DT_FLOAT32, 4, bd, w);
    free(w);
  }
  ir_node_set_attr_float(g, n, "scale", 1.0f / 8.0f, &err);
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  if (ops_infer_node(g, n, &err) != ST_OK) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  ir_graph_add_output(g, n->outputs[0], &err);
  return g;
}

static double time_shape(const Shape *s, bool lowered, int runs) {
  Graph *g = build(s);
  double t = micro_time_cgh(g, !lowered, runs < 25 ? 1 : 3, runs, NULL);
  ir_graph_free(g);
  return t;
}

int main(int argc, char **argv) {
  /* Optional: --no-ref (skip the slow reference kernel) and a substring of
   * the shape names to time only those. */
  bool ref = true;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-ref") == 0)
      ref = false;
    else
      only = argv[i];
  }
  const Shape shapes[] = {
      {"ViT-B/16 [1,12,197,64]", 2, {1, 12, 0}, 197, 64, 0},
      {"Swin-T [64,3,49,32] + bias", 2, {64, 3, 0}, 49, 32, 1},
      {"T2T-ViT s1 [1,3136,64]", 1, {1, 0, 0}, 3136, 64, 0},
      {"T2T-ViT-14 s2 [1,785,64]", 1, {1, 0, 0}, 785, 64, 0},
  };
  double peak = micro_fma_peak_gflops(40);
  printf("measured FMA peak: %.1f GFLOP/s (single thread)\n", peak);
  printf("%-30s %10s %9s %7s %10s %10s %8s\n", "shape", "ms", "GFLOP/s", "%peak", "ref ms",
         "ref GF/s", "speedup");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const Shape *s = &shapes[i];
    if (only && !strstr(s->name, only)) continue;
    double heads = 1;
    for (int j = 0; j < s->nlead; j++) heads *= (double)s->lead[j];
    double flop = 4.0 * heads * (double)s->n * (double)s->n * (double)s->d;
    double tl = time_shape(s, true, 25);
    double tr = ref ? time_shape(s, false, flop > 1e9 ? 5 : 25) : 0.0;
    printf("%-30s %10.3f %9.1f %6.1f%% %10.3f %10.2f %7.1fx\n", s->name, tl * 1e3,
           flop / tl * 1e-9, 100.0 * flop / tl * 1e-9 / peak, tr * 1e3,
           ref ? flop / tr * 1e-9 : 0.0, ref ? tr / tl : 0.0);
    fflush(stdout);
  }
  return 0;
}
