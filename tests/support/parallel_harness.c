/*
 * Links one generated model (m.o + m.h, --name m) and checks the generated
 * side of the parallel hook's contract (docs/ABI.md), exiting non-zero
 * with a message on the first failure:
 *
 *   - m_run_parallel with par == NULL, and with threads == 1 and no
 *     parallel_for, equals m_run;
 *   - bad hooks (threads < 1, threads > 1 without parallel_for) return 4,
 *     a NULL workspace returns 1;
 *   - through onnxc_pool at 1, 2, 3 and 8 threads, a runner that runs the
 *     tasks in reverse order and one that shuffles them (with worker ids
 *     spread over the threads), and, built with -fopenmp, the OpenMP
 *     adapter of docs/ABI.md, every output is bit-identical to m_run's
 *     (NaN matching any NaN);
 *   - the hook was called at all (the model must be compiled with a small
 *     --min-task-us so that every partitioned kernel splits).
 *
 * With --weights=FILE (M_WEIGHTS_EXTERNAL) the same through
 * m_run_parallel_with_weights, the file given as argv[1].
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m.h"
#include "onnxc_pool.h"

#ifdef _OPENMP
#include <omp.h>
/* The OpenMP adapter, as docs/ABI.md shows it. */
static void omp_parallel_for(void *runner, int n, void (*task)(void *, int, int), void *ctx) {
  (void)runner;
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < n; i++) task(ctx, i, omp_get_thread_num());
}
#endif

#define FAIL(...)                     \
  do {                                \
    fprintf(stderr, "FAIL: ");        \
    fprintf(stderr, __VA_ARGS__);     \
    fprintf(stderr, "\n");            \
    exit(1);                          \
  } while (0)

typedef struct Runner {
  int calls, tasks, threads;
  unsigned seed;
} Runner;

static void reversed(void *r, int n, void (*task)(void *, int, int), void *ctx) {
  Runner *ru = r;
  ru->calls++;
  for (int i = n - 1; i >= 0; i--, ru->tasks++) task(ctx, i, i % ru->threads);
}

static void shuffled(void *r, int n, void (*task)(void *, int, int), void *ctx) {
  Runner *ru = r;
  ru->calls++;
  int *ord = malloc(sizeof(int) * (size_t)n);
  if (!ord) FAIL("out of memory");
  for (int i = 0; i < n; i++) ord[i] = i;
  for (int i = n - 1; i > 0; i--) {
    ru->seed = ru->seed * 1103515245u + 12345u;
    int j = (int)((ru->seed >> 8) % (unsigned)(i + 1)), t = ord[i];
    ord[i] = ord[j];
    ord[j] = t;
  }
  for (int i = 0; i < n; i++, ru->tasks++) task(ctx, ord[i], (ord[i] * 5 + 1) % ru->threads);
  free(ord);
}

static const void *weights;
static const void *ins[M_NUM_INPUTS];
static void *outs[M_NUM_OUTPUTS], *ref[M_NUM_OUTPUTS];
static const size_t out_bytes[M_NUM_OUTPUTS] = {
#define OUT(i) M_OUTPUT_##i##_SIZE * 8
    OUT(0),
#if M_NUM_OUTPUTS > 1
    OUT(1),
#endif
#if M_NUM_OUTPUTS > 2
    OUT(2),
#endif
};

static int run_serial(void *ws) {
#ifdef M_WEIGHTS_EXTERNAL
  return m_run_with_weights(weights, ins, ref, ws);
#else
  return m_run(ins, ref, ws);
#endif
}

static int run_par(void *ws, const onnxc_parallel *par) {
  for (int i = 0; i < M_NUM_OUTPUTS; i++) memset(outs[i], 0xa5, out_bytes[i]);
#ifdef M_WEIGHTS_EXTERNAL
  return m_run_parallel_with_weights(weights, ins, outs, ws, par);
#else
  return m_run_parallel(ins, outs, ws, par);
#endif
}

/* Outputs are float32 in every model this harness is used with; the
 * sizes above are in elements * 8 so that wider types would still fit. */
static void expect_same(const char *what) {
  for (int o = 0; o < M_NUM_OUTPUTS; o++) {
    const float *a = outs[o], *b = ref[o];
    size_t n = out_bytes[o] / 8;
    for (size_t k = 0; k < n; k++)
      if (memcmp(a + k, b + k, 4) && !(isnan(a[k]) && isnan(b[k])))
        FAIL("%s: output %d element %zu is %a, serial %a", what, o, k, a[k], b[k]);
  }
}

int main(int argc, char **argv) {
#ifdef M_WEIGHTS_EXTERNAL
  if (argc != 2) FAIL("usage: harness WEIGHTS");
  FILE *wf = fopen(argv[1], "rb");
  void *w = aligned_alloc(64, (M_WEIGHTS_SIZE + 63) / 64 * 64);
  if (!wf || !w || fread(w, 1, M_WEIGHTS_SIZE, wf) != M_WEIGHTS_SIZE) FAIL("cannot read %s", argv[1]);
  fclose(wf);
  weights = w;
#else
  (void)argc, (void)argv;
#endif
  static const size_t in_size[] = {
      M_INPUT_0_SIZE,
#if M_NUM_INPUTS > 1
      M_INPUT_1_SIZE,
#endif
  };
  uint32_t s = 12345;
  for (int i = 0; i < M_NUM_INPUTS; i++) {
    float *x = malloc(in_size[i] * sizeof *x);
    if (!x) FAIL("out of memory");
    for (size_t k = 0; k < in_size[i]; k++) {
      s = s * 1664525u + 1013904223u;
      x[k] = (float)((s >> 8) / 16777216.0 * 2.0 - 1.0);
    }
    ins[i] = x;
  }
  for (int i = 0; i < M_NUM_OUTPUTS; i++) {
    outs[i] = malloc(out_bytes[i]);
    ref[i] = malloc(out_bytes[i]);
    if (!outs[i] || !ref[i]) FAIL("out of memory");
  }
  size_t wsz = ((size_t)M_WORKSPACE_SIZE_FOR_THREADS(8) + 63) / 64 * 64 + 64;
  char *ws = aligned_alloc(M_WORKSPACE_ALIGN, wsz);
  if (!ws) FAIL("out of memory");
  if (run_serial(ws)) FAIL("serial run failed");

  if (run_par(ws, NULL)) FAIL("par == NULL failed");
  expect_same("par == NULL");
  onnxc_parallel one = {NULL, NULL, 1};
  if (run_par(ws, &one)) FAIL("threads == 1 without parallel_for failed");
  expect_same("threads == 1 without parallel_for");
  onnxc_parallel zero = {NULL, NULL, 0}, neg = {NULL, NULL, -3}, nohook = {NULL, NULL, 2};
  if (run_par(ws, &zero) != 4) FAIL("threads == 0 was not refused with 4");
  if (run_par(ws, &neg) != 4) FAIL("threads == -3 was not refused with 4");
  if (run_par(ws, &nohook) != 4) FAIL("threads == 2 without parallel_for was not refused with 4");
#if M_WORKSPACE_SIZE > 0
#ifdef M_WEIGHTS_EXTERNAL
  if (m_run_parallel_with_weights(weights, ins, outs, NULL, NULL) != 1) FAIL("NULL workspace accepted");
  if (m_run_parallel_with_weights(NULL, ins, outs, ws, NULL) != 3) FAIL("NULL weights accepted");
#else
  if (m_run_parallel(ins, outs, NULL, NULL) != 1) FAIL("NULL workspace accepted");
  if (m_run_parallel(ins, outs, ws + 8, NULL) != 1) FAIL("misaligned workspace accepted");
#endif
#endif

  static const int threads[] = {1, 2, 3, 8};
  char what[64];
  for (int t = 0; t < 4; t++) {
    onnxc_pool *pool = onnxc_pool_create(threads[t]);
    if (!pool) FAIL("onnxc_pool_create(%d)", threads[t]);
    for (int rep = 0; rep < 3; rep++) {
      if (run_par(ws, onnxc_pool_parallel(pool))) FAIL("pool run failed");
      snprintf(what, sizeof what, "pool of %d threads, run %d", threads[t], rep);
      expect_same(what);
    }
    onnxc_pool_destroy(pool);
  }
  Runner rev = {0, 0, 4, 0}, shuf = {0, 0, 8, 99};
  onnxc_parallel prev = {reversed, &rev, 4}, pshuf = {shuffled, &shuf, 8};
  if (run_par(ws, &prev)) FAIL("reversed run failed");
  expect_same("4 threads, tasks in reverse order");
  if (run_par(ws, &pshuf)) FAIL("shuffled run failed");
  expect_same("8 threads, tasks shuffled");
  if (rev.calls == 0) FAIL("the hook was never called (compile with a small --min-task-us)");
  if (rev.tasks < 2 * rev.calls) FAIL("a region had fewer than 2 tasks");
#ifdef _OPENMP
  onnxc_parallel omp = {omp_parallel_for, NULL, omp_get_max_threads() > 1 ? omp_get_max_threads() : 2};
  if (run_par(ws, &omp)) FAIL("OpenMP run failed");
  expect_same("OpenMP adapter");
#endif
  printf("ok: %d parallel regions, %d tasks (reversed runner); bit-identical for pools of 1, 2, 3, 8 "
         "threads, reversed and shuffled task orders%s\n",
         rev.calls, rev.tasks,
#ifdef _OPENMP
         " and OpenMP"
#else
         ""
#endif
  );
  return 0;
}
