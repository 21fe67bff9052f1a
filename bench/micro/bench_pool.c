/*
 * Dispatch overhead of onnxc_pool per parallel region: parallel_for(n =
 * threads) of tasks that each spin for 20 us, minus those 20 us (what a
 * perfectly parallel region would take), back to back (workers hot,
 * spinning: the case between two nodes of a model), and after an idle gap
 * longer than the spin window (workers asleep: the first node of a run);
 * also the cost of a region of empty tasks.
 * Prints medians over many regions.  Run by hand, on an otherwise idle
 * machine:  build/bench/micro/bench_pool [THREADS...]   (default 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/onnxc_pool.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static void empty(void *ctx, int i, int worker) {
  (void)ctx, (void)i, (void)worker;
}

enum { WORK_US = 20 };

static void busy(void *ctx, int i, int worker) {
  (void)ctx, (void)i, (void)worker;
  double t0 = now_us();
  while (now_us() - t0 < WORK_US) {
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
  enum { HOT = 20000, COLD = 40 };
  static double t[HOT];
  for (int a = 1; a < argc || a == 1; a++) {
    int threads = argc > 1 ? atoi(argv[a]) : 2;
    onnxc_pool *pool = onnxc_pool_create(threads);
    if (!pool) return 1;
    const onnxc_parallel *p = onnxc_pool_parallel(pool);
    for (int i = 0; i < 1000; i++) p->parallel_for(p->runner, threads, busy, NULL);
    for (int i = 0; i < HOT; i++) {
      double t0 = now_us();
      p->parallel_for(p->runner, threads, empty, NULL);
      t[i] = now_us() - t0;
    }
    double empty_hot = median(t, HOT);
    for (int i = 0; i < HOT / 4; i++) {
      double t0 = now_us();
      p->parallel_for(p->runner, threads, busy, NULL);
      t[i] = now_us() - t0 - WORK_US;
    }
    double hot = median(t, HOT / 4);
    for (int i = 0; i < COLD; i++) {
      struct timespec gap = {0, (ONNXC_POOL_SPIN_US + 2000) * 1000};
      nanosleep(&gap, NULL);
      double t0 = now_us();
      p->parallel_for(p->runner, threads, busy, NULL);
      t[i] = now_us() - t0 - WORK_US;
    }
    double cold = median(t, COLD);
    printf("threads %d: overhead per region of %d x %d us tasks: %.2f us with the workers spinning "
           "(back to back), %.1f us with them asleep (after %d us idle); a region of empty tasks: "
           "%.2f us\n",
           threads, threads, WORK_US, hot, cold, ONNXC_POOL_SPIN_US + 2000, empty_hot);
    onnxc_pool_destroy(pool);
    if (argc == 1) break;
  }
  return 0;
}
