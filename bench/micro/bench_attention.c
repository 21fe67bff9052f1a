/*
 * Micro-benchmark of the onnxc.Attention lowering (codegen/attn_emit.c),
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
 * Build (from the repository root, after building build-attngen; any
 * build directory works, e.g. build-attnlong):
 *   cc -O2 -march=native -I. -I$(llvm-config-19 --includedir) \
 *     bench/micro/bench_attention.c -o /tmp/bench_attention \
 *     build-attngen/tests/libonnxc_test_support.a build-attngen/libonnxc_codegen.a \
 *     build-attngen/libonnxc_passes.a build-attngen/libonnxc_ops.a \
 *     build-attngen/libonnxc_ir.a \
 *     $(llvm-config-19 --ldflags --libs all --system-libs) -lstdc++ -ldl -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen/attn_emit.h"
#include "ops/ops.h"
#include "tests/support/cg_harness.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile float sink;

#if defined(__AVX512F__)
typedef __m512 Vec;
#define VSET _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VLANES 16
#else
typedef __m256 Vec;
#define VSET _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VLANES 8
#endif
#define FMA4(x, y, z, w) x = VFMA(x, a, b); y = VFMA(y, a, b); z = VFMA(z, a, b); w = VFMA(w, a, b)

/* 16 independent accumulator chains (more than latency x ports). */
static double fma_peak_gflops(void) {
  Vec a = VSET(0.999f), b = VSET(1e-7f);
  Vec c0 = VSET(0), c1 = VSET(1), c2 = VSET(2), c3 = VSET(3), c4 = VSET(4), c5 = VSET(5);
  Vec c6 = VSET(6), c7 = VSET(7), c8 = VSET(8), c9 = VSET(9), c10 = VSET(10), c11 = VSET(11);
  Vec c12 = VSET(12), c13 = VSET(13), c14 = VSET(14), c15 = VSET(15);
  long iters = 1000000;
  double best = 0;
  for (int rep = 0; rep < 40; rep++) {
    double t0 = now_s();
    for (long it = 0; it < iters; it++) {
      FMA4(c0, c1, c2, c3);
      FMA4(c4, c5, c6, c7);
      FMA4(c8, c9, c10, c11);
      FMA4(c12, c13, c14, c15);
    }
    double dt = now_s() - t0;
    double g = (double)iters * 16 * VLANES * 2 / dt * 1e-9;
    if (g > best) best = g;
  }
  Vec s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
  sink = ((float *)&s)[0];
  return best;
}

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

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double time_shape(const Shape *s, bool lowered, int runs) {
  Error err;
  Graph *g = build(s);
  CgModule m;
  if (cgh_compile_ex(g, 3, !lowered, &m, &err) != ST_OK) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  void **ins;
  cgh_random_inputs(g, 1, &ins, &err);
  void *outs[1] = {malloc(ir_value_nbytes(g->outputs[0]))};
  void *ws = aligned_alloc(64, (m.workspace_size + 63) / 64 * 64 + 64);
  enum { RUNS = 25 };
  double t[RUNS];
  if (runs > RUNS) runs = RUNS;
  for (int i = 0; i < (runs < RUNS ? 1 : 3); i++) m.run((const void *const *)ins, outs, ws);
  for (int i = 0; i < runs; i++) {
    double t0 = now_s();
    m.run((const void *const *)ins, outs, ws);
    t[i] = now_s() - t0;
  }
  qsort(t, (size_t)runs, sizeof t[0], cmp_d);
  free(ws);
  free(outs[0]);
  cgh_free_buffers(ins, g->num_inputs);
  cgh_unload(&m);
  ir_graph_free(g);
  return t[runs / 2];
}

int main(void) {
  const Shape shapes[] = {
      {"ViT-B/16 [1,12,197,64]", 2, {1, 12, 0}, 197, 64, 0},
      {"Swin-T [64,3,49,32] + bias", 2, {64, 3, 0}, 49, 32, 1},
      {"T2T-ViT s1 [1,3136,64]", 1, {1, 0, 0}, 3136, 64, 0},
      {"T2T-ViT-14 s2 [1,785,64]", 1, {1, 0, 0}, 785, 64, 0},
  };
  double peak = fma_peak_gflops();
  printf("measured FMA peak: %.1f GFLOP/s (single thread)\n", peak);
  printf("%-30s %10s %9s %7s %10s %10s %8s\n", "shape", "ms", "GFLOP/s", "%peak", "ref ms",
         "ref GF/s", "speedup");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const Shape *s = &shapes[i];
    double heads = 1;
    for (int j = 0; j < s->nlead; j++) heads *= (double)s->lead[j];
    double flop = 4.0 * heads * (double)s->n * (double)s->n * (double)s->d;
    double tl = time_shape(s, true, 25), tr = time_shape(s, false, flop > 1e9 ? 5 : 25);
    printf("%-30s %10.3f %9.1f %6.1f%% %10.3f %10.2f %7.1fx\n", s->name, tl * 1e3,
           flop / tl * 1e-9, 100.0 * flop / tl * 1e-9 / peak, tr * 1e3, flop / tr * 1e-9, tr / tl);
    fflush(stdout);
  }
  return 0;
}
