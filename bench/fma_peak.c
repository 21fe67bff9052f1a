/*
 * Single-core float32 FMA peak of this machine, the denominator of the
 * "% of peak" column in bench/bench.py.  Runs a loop of independent vector
 * FMAs with more accumulators than (FMA latency x FMA ports) so the loop is
 * throughput-bound, for each vector width the compiler target supports,
 * and prints the best as "fma_peak_gflops X" (plus one line per width).
 * Takes well under a second.
 * Build: cc -O2 -march=native bench/fma_peak.c -o fma_peak
 * Convention: 1 FMA lane = 2 FLOP.
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

/* 12 named accumulators: >= FMA latency (4) x FMA ports (2) on current x86
 * cores, with margin, and few enough to stay in the 16 ymm registers.  They
 * are named, not an array, so -O2 keeps them in registers (an array ends up
 * in memory and the loop measures store forwarding instead). */
#define ACC 12
#define FMA12(F)                                                              \
  do {                                                                        \
    c0 = F(c0, a, b); c1 = F(c1, a, b); c2 = F(c2, a, b); c3 = F(c3, a, b);   \
    c4 = F(c4, a, b); c5 = F(c5, a, b); c6 = F(c6, a, b); c7 = F(c7, a, b);   \
    c8 = F(c8, a, b); c9 = F(c9, a, b); c10 = F(c10, a, b); c11 = F(c11, a, b); \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sink keeps results live so the loops cannot be removed. */
static volatile float sink;

#if defined(__AVX512F__)
static double peak_512(long iters) {
  __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f), c2 = _mm512_set1_ps(0.2f), c3 = _mm512_set1_ps(0.3f);
  __m512 c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f), c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f);
  __m512 c8 = _mm512_set1_ps(0.8f), c9 = _mm512_set1_ps(0.9f), c10 = _mm512_set1_ps(1.0f), c11 = _mm512_set1_ps(1.1f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  double t0 = now_s();
  for (long k = 0; k < iters; k++)
    FMA12(_mm512_fmadd_ps);
  double t = now_s() - t0;
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)), _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
  sink = _mm512_reduce_add_ps(s);
  return (double)iters * ACC * 16 * 2 / t * 1e-9;
}
#endif

#if defined(__FMA__) && defined(__AVX__)
static double peak_256(long iters) {
  __m256 c0 = _mm256_set1_ps(0.0f), c1 = _mm256_set1_ps(0.1f), c2 = _mm256_set1_ps(0.2f), c3 = _mm256_set1_ps(0.3f);
  __m256 c4 = _mm256_set1_ps(0.4f), c5 = _mm256_set1_ps(0.5f), c6 = _mm256_set1_ps(0.6f), c7 = _mm256_set1_ps(0.7f);
  __m256 c8 = _mm256_set1_ps(0.8f), c9 = _mm256_set1_ps(0.9f), c10 = _mm256_set1_ps(1.0f), c11 = _mm256_set1_ps(1.1f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  double t0 = now_s();
  for (long k = 0; k < iters; k++)
    FMA12(_mm256_fmadd_ps);
  double t = now_s() - t0;
  float out[8];
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)), _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  _mm256_storeu_ps(out, s);
  sink = out[0] + out[7];
  return (double)iters * ACC * 8 * 2 / t * 1e-9;
}
#endif

/* Best of many ~0.2 ms chunks: the peak is a maximum and the machine may be
 * shared, so a chunk that was preempted or ran at a lower clock only loses;
 * the fastest uninterrupted chunk is the core's throughput. */
static double best_of(double (*fn)(long)) {
  const long iters = 4000;
  double best = 0;
  for (int k = 0; k < 200; k++) fn(iters); /* warm-up: clocks ramp, AVX-512 settles */
  for (int trial = 0; trial < 3000; trial++) {
    double g = fn(iters);
    if (g > best) best = g;
  }
  return best;
}

int main(void) {
  double best = 0;
#if defined(__FMA__) && defined(__AVX__)
  double g256 = best_of(peak_256);
  printf("avx2_fma_gflops %.1f\n", g256);
  if (g256 > best) best = g256;
#endif
#if defined(__AVX512F__)
  double g512 = best_of(peak_512);
  printf("avx512_fma_gflops %.1f\n", g512);
  if (g512 > best) best = g512;
#endif
  if (best == 0) {
    fprintf(stderr, "fma_peak: built without FMA support (use -march=native)\n");
    return 1;
  }
  printf("fma_peak_gflops %.1f\n", best);
  return 0;
}
