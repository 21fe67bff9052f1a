/*
 * Micro-benchmark of the MatMul lowering (codegen/lower_gemm.c) on the
 * ViT-B/16 product shapes, single thread: each shape is one MatMul graph
 * compiled with cg_compile (-O3, host CPU) into a shared object, timed as
 * the median of 25 runs after 3 warm-ups, once with the lowering and once
 * through the reference kernel (CgOptions.reference_kernels_only).  Prints GFLOP/s
 * and % of the FMA peak measured by a register-only FMA loop.  Times are
 * thread CPU time (robust on a shared machine).
 *
 * Build (from the repository root, after building build-gemm):
 *   cc -O2 -march=native -I. -I$(llvm-config-19 --includedir) \
 *     bench/micro/bench_gemm.c -o /tmp/bench_gemm \
 *     build-gemm/tests/libonnxc_test_support.a build-gemm/libonnxc_codegen.a \
 *     build-gemm/libonnxc_passes.a build-gemm/libonnxc_ops.a build-gemm/libonnxc_ir.a \
 *     $(llvm-config-19 --ldflags --libs all --system-libs) -lstdc++ -ldl -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen/gemm_emit.h"
#include "ops/ops.h"
#include "tests/support/cg_harness.h"

/* Thread CPU time, not wall time: the machine is shared, and time spent
 * descheduled is not the kernel's. */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile float sink;

/* Peak of independent 512-bit (or 256-bit) FMAs: 16 named accumulator
 * chains (more than latency x ports), so they stay in registers. */
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

static double fma_peak_gflops(void) {
  Vec a = VSET(0.999f), b = VSET(1e-7f);
  Vec c0 = VSET(0), c1 = VSET(1), c2 = VSET(2), c3 = VSET(3), c4 = VSET(4), c5 = VSET(5);
  Vec c6 = VSET(6), c7 = VSET(7), c8 = VSET(8), c9 = VSET(9), c10 = VSET(10), c11 = VSET(11);
  Vec c12 = VSET(12), c13 = VSET(13), c14 = VSET(14), c15 = VSET(15);
  /* Many short rounds, best kept: the machine may be shared. */
  long iters = 1000000;
  double best = 0;
  for (int rep = 0; rep < 60; rep++) {
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

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median and best seconds per run of s compiled with or without the
 * lowering. */
static void time_shape(const Shape *s, bool lowered, double *median, double *best) {
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
  enum { WARM = 3, RUNS = 25 };
  double t[RUNS];
  for (int i = 0; i < WARM; i++) m.run((const void *const *)ins, outs, ws);
  for (int i = 0; i < RUNS; i++) {
    double t0 = now_s();
    m.run((const void *const *)ins, outs, ws);
    t[i] = now_s() - t0;
  }
  qsort(t, RUNS, sizeof t[0], cmp_d);
  free(ws);
  free(outs[0]);
  cgh_free_buffers(ins, g->num_inputs);
  cgh_unload(&m);
  ir_graph_free(g);
  *median = t[RUNS / 2];
  *best = t[0];
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
  double peak = fma_peak_gflops();
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
