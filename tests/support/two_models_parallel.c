/*
 * Two generated models (a.o/a.h and b.o/b.h, --name a and --name b) run
 * from two threads at once, both through ONE onnxc_pool of 2 threads, many
 * times: every result must equal the model's own serial run bit for bit.
 * (A caller that finds the pool busy runs its tasks itself; see
 * onnxc_pool.h.)  Exits non-zero with a message on failure.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a.h"
#include "b.h"
#include "onnxc_pool.h"

typedef int (*RunFn)(const void *const[], void *const[], void *);
typedef int (*RunParFn)(const void *const[], void *const[], void *, const onnxc_parallel *);

typedef struct Job {
  const char *name;
  RunFn run;
  RunParFn run_par;
  size_t in_size, out_size, ws_size;
  const onnxc_parallel *par;
  int failures;
} Job;

static void *job_main(void *arg) {
  Job *j = arg;
  float *x = malloc(j->in_size * sizeof *x), *ref = malloc(j->out_size * sizeof *ref);
  float *got = malloc(j->out_size * sizeof *got);
  char *ws = aligned_alloc(64, (j->ws_size + 63) / 64 * 64 + 64);
  if (!x || !ref || !got || !ws) {
    j->failures++;
    return NULL;
  }
  for (size_t k = 0; k < j->in_size; k++) x[k] = (float)sin((double)k * 0.37);
  const void *ins[1] = {x};
  void *refs[1] = {ref}, *gots[1] = {got};
  if (j->run(ins, refs, ws)) j->failures++;
  for (int rep = 0; rep < 40; rep++) {
    memset(got, 0xa5, j->out_size * sizeof *got);
    if (j->run_par(ins, gots, ws, j->par)) j->failures++;
    for (size_t k = 0; k < j->out_size; k++)
      if (memcmp(got + k, ref + k, 4) && !(isnan(got[k]) && isnan(ref[k]))) {
        fprintf(stderr, "FAIL: %s run %d: element %zu differs\n", j->name, rep, k);
        j->failures++;
        break;
      }
  }
  free(x);
  free(ref);
  free(got);
  free(ws);
  return NULL;
}

int main(void) {
  onnxc_pool *pool = onnxc_pool_create(2);
  if (!pool) return 2;
  Job jobs[2] = {
      {"a", a_run, a_run_parallel, A_INPUT_0_SIZE, A_OUTPUT_0_SIZE,
       A_WORKSPACE_SIZE_FOR_THREADS(2), onnxc_pool_parallel(pool), 0},
      {"b", b_run, b_run_parallel, B_INPUT_0_SIZE, B_OUTPUT_0_SIZE,
       B_WORKSPACE_SIZE_FOR_THREADS(2), onnxc_pool_parallel(pool), 0},
  };
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&th[i], NULL, job_main, &jobs[i])) return 3;
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  onnxc_pool_destroy(pool);
  if (jobs[0].failures || jobs[1].failures) return 1;
  printf("ok: two models, two threads, one pool: 40 runs each, bit-identical to serial\n");
  return 0;
}
