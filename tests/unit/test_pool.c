/*
 * runtime/onnxc_pool: the contract of the parallel-for hook (every task
 * exactly once, worker ids in range, the call returns only when all are
 * done), creation limits, one pool shared by several calling threads,
 * tasks that call back into the pool, and an idle pool that uses no CPU.
 * The generated code's side of the contract is tested in test_cg_parallel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/onnxc_pool.h"

typedef struct Counts {
  int n, threads;
  _Atomic int *hits;      /* per task */
  _Atomic int bad_worker; /* worker ids out of [0, threads) */
  _Atomic int running;    /* tasks in flight */
  const onnxc_parallel *nested;
} Counts;

static void count_task(void *ctx, int i, int worker) {
  Counts *c = ctx;
  atomic_fetch_add(&c->running, 1);
  if (worker < 0 || worker >= c->threads) atomic_fetch_add(&c->bad_worker, 1);
  if (i >= 0 && i < c->n) atomic_fetch_add(&c->hits[i], 1);
  /* A little work so that several threads take part. */
  volatile double x = 0;
  for (int k = 0; k < 2000; k++) x += k * 0.5;
  atomic_fetch_sub(&c->running, 1);
}

/* Runs n tasks through par and checks that each ran once and that none is
 * still running when parallel_for returns. */
static void check_round(const onnxc_parallel *par, int n) {
  Counts c = {.n = n, .threads = par->threads};
  c.hits = calloc((size_t)(n > 0 ? n : 1), sizeof *c.hits);
  assert_non_null(c.hits);
  par->parallel_for(par->runner, n, count_task, &c);
  assert_int_equal(atomic_load(&c.running), 0);
  assert_int_equal(atomic_load(&c.bad_worker), 0);
  for (int i = 0; i < n; i++)
    if (atomic_load(&c.hits[i]) != 1) fail_msg("task %d of %d ran %d times", i, n, c.hits[i]);
  free(c.hits);
}

static void test_create_limits(void **state) {
  (void)state;
  assert_null(onnxc_pool_create(-1));
  assert_null(onnxc_pool_create(ONNXC_POOL_MAX_THREADS + 1));
  assert_null(onnxc_pool_parallel(NULL));
  onnxc_pool_destroy(NULL);
  onnxc_pool *all = onnxc_pool_create(0);
  assert_non_null(all);
  assert_true(onnxc_pool_parallel(all)->threads >= 1);
  onnxc_pool_destroy(all);
  onnxc_pool *one = onnxc_pool_create(1);
  assert_non_null(one);
  const onnxc_parallel *p = onnxc_pool_parallel(one);
  assert_int_equal(p->threads, 1);
  assert_ptr_equal(p->runner, one);
  check_round(p, 17);
  onnxc_pool_destroy(one);
}

static void test_every_task_once(void **state) {
  (void)state;
  static const int threads[] = {2, 3, 8};
  static const int sizes[] = {0, 1, 2, 3, 7, 64, 1000};
  for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
    onnxc_pool *pool = onnxc_pool_create(threads[t]);
    assert_non_null(pool);
    const onnxc_parallel *p = onnxc_pool_parallel(pool);
    assert_int_equal(p->threads, threads[t]);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) check_round(p, sizes[s]);
    /* Many short regions back to back: the job hand-over, not the work. */
    for (int r = 0; r < 3000; r++) check_round(p, 1 + r % 5);
    onnxc_pool_destroy(pool);
  }
}

static void nested_task(void *ctx, int i, int worker) {
  Counts *c = ctx;
  (void)worker;
  check_round(c->nested, 5); /* the pool is busy: runs inline */
  atomic_fetch_add(&c->hits[i], 1);
}

static void test_nested_call(void **state) {
  (void)state;
  onnxc_pool *pool = onnxc_pool_create(2);
  assert_non_null(pool);
  Counts c = {.n = 4, .threads = 2, .nested = onnxc_pool_parallel(pool)};
  c.hits = calloc(4, sizeof *c.hits);
  assert_non_null(c.hits);
  onnxc_pool_parallel(pool)->parallel_for(pool, 4, nested_task, &c);
  for (int i = 0; i < 4; i++) assert_int_equal(atomic_load(&c.hits[i]), 1);
  free(c.hits);
  onnxc_pool_destroy(pool);
}

static void *caller(void *arg) {
  const onnxc_parallel *p = arg;
  for (int r = 0; r < 500; r++) check_round(p, 1 + r % 9);
  return NULL;
}

static void test_shared_by_callers(void **state) {
  (void)state;
  onnxc_pool *pool = onnxc_pool_create(3);
  assert_non_null(pool);
  pthread_t th[3];
  for (int i = 0; i < 3; i++)
    assert_int_equal(pthread_create(&th[i], NULL, caller, (void *)onnxc_pool_parallel(pool)), 0);
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  onnxc_pool_destroy(pool);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_idle_pool_sleeps(void **state) {
  (void)state;
  onnxc_pool *pool = onnxc_pool_create(4);
  assert_non_null(pool);
  check_round(onnxc_pool_parallel(pool), 64);
  /* Past the spin window, three idle workers must not burn CPU. */
  struct timespec nap = {0, 50 * 1000 * 1000};
  nanosleep(&nap, NULL);
  double t0 = cpu_seconds();
  struct timespec wait = {0, 300 * 1000 * 1000};
  nanosleep(&wait, NULL);
  double used = cpu_seconds() - t0;
  print_message("  idle pool of 4: %.1f ms of CPU in 300 ms\n", used * 1e3);
  assert_true(used < 0.03);
  /* And it wakes up again. */
  check_round(onnxc_pool_parallel(pool), 64);
  onnxc_pool_destroy(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_limits),   cmocka_unit_test(test_every_task_once),
      cmocka_unit_test(test_nested_call),     cmocka_unit_test(test_shared_by_callers),
      cmocka_unit_test(test_idle_pool_sleeps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
