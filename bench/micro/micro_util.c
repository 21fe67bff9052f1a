/*
 * Shared helpers of the micro-benchmarks (see micro_util.h): clocks, the
 * FMA-peak loops and the two graph timers.  Built into every bench_*
 * executable with -march=native, which the intrinsics path needs.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench/micro/micro_util.h"

#include <dlfcn.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "tests/support/cg_harness.h"

typedef int (*RunFn)(const void *const *, void *const *, void *);

double micro_now_wall(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double micro_now_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int micro_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef float v16 __attribute__((vector_size(64)));

double micro_fma_peak_v16(void) {
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
    double t0 = micro_now_wall();
    for (long i = 0; i < iters; i++) {
      a0 = a0 * m + a, a1 = a1 * m + a, a2 = a2 * m + a, a3 = a3 * m + a;
      a4 = a4 * m + a, a5 = a5 * m + a, a6 = a6 * m + a, a7 = a7 * m + a;
      a8 = a8 * m + a, a9 = a9 * m + a, a10 = a10 * m + a, a11 = a11 * m + a;
    }
    double dt = micro_now_wall() - t0;
    if (dt < t) t = dt;
  }
  v16 r = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  if (r[0] == 12345.0f) printf("%f\n", r[0]);
  return 2.0 * 16 * 12 * (double)iters / t * 1e-9;
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

/* 16 named accumulator chains (more than latency x ports), so they stay
 * in registers. */
double micro_fma_peak_gflops(int reps) {
  Vec a = VSET(0.999f), b = VSET(1e-7f);
  Vec c0 = VSET(0), c1 = VSET(1), c2 = VSET(2), c3 = VSET(3), c4 = VSET(4), c5 = VSET(5);
  Vec c6 = VSET(6), c7 = VSET(7), c8 = VSET(8), c9 = VSET(9), c10 = VSET(10), c11 = VSET(11);
  Vec c12 = VSET(12), c13 = VSET(13), c14 = VSET(14), c15 = VSET(15);
  /* Many short rounds, best kept: the machine may be shared. */
  long iters = 1000000;
  double best = 0;
  for (int rep = 0; rep < reps; rep++) {
    double t0 = micro_now_cpu();
    for (long it = 0; it < iters; it++) {
      FMA4(c0, c1, c2, c3);
      FMA4(c4, c5, c6, c7);
      FMA4(c8, c9, c10, c11);
      FMA4(c12, c13, c14, c15);
    }
    double dt = micro_now_cpu() - t0;
    double g = (double)iters * 16 * VLANES * 2 / dt * 1e-9;
    if (g > best) best = g;
  }
  Vec s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
  sink = ((float *)&s)[0];
  return best;
}

double micro_time_so(Graph *g, const char *tag, bool reference_only, double *best) {
  if (best) *best = -1;
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
    if (strncmp(line, "#define MODEL_WORKSPACE_SIZE ", 29) == 0) ws_size = strtoull(line + 28, 0, 10);
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
    double t0 = micro_now_wall();
    run((const void *const *)ins, outs, ws);
    ts[i] = micro_now_wall() - t0;
  }
  qsort(ts, 25, sizeof *ts, micro_cmp_double);
  for (int i = 0; i < g->num_inputs; i++) free(ins[i]);
  free(outs[0]);
  free(ws);
  dlclose(dl);
  unlink(obj);
  unlink(hdr);
  unlink(so);
  rmdir(dir);
  if (best) *best = ts[0];
  return ts[12];
}

double micro_time_cgh(Graph *g, bool reference_only, int warm, int runs, double *best) {
  Error err;
  CgModule m;
  if (cgh_compile_ex(g, 3, reference_only, &m, &err) != ST_OK) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  void **ins;
  if (cgh_random_inputs(g, 1, &ins, &err) != ST_OK) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  void *outs[1] = {malloc(ir_value_nbytes(g->outputs[0]))};
  void *ws = aligned_alloc(64, (m.workspace_size + 63) / 64 * 64 + 64);
  enum { RUNS = 25 };
  double t[RUNS];
  if (runs > RUNS) runs = RUNS;
  for (int i = 0; i < warm; i++) m.run((const void *const *)ins, outs, ws);
  for (int i = 0; i < runs; i++) {
    double t0 = micro_now_cpu();
    m.run((const void *const *)ins, outs, ws);
    t[i] = micro_now_cpu() - t0;
  }
  qsort(t, (size_t)runs, sizeof t[0], micro_cmp_double);
  free(ws);
  free(outs[0]);
  cgh_free_buffers(ins, g->num_inputs);
  cgh_unload(&m);
  if (best) *best = t[0];
  return t[runs / 2];
}
