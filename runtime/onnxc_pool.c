/*
 * The thread pool behind onnxc_pool.h.
 *
 * One job at a time is published in a single 64-bit atomic word: the high
 * 32 bits are the job's epoch, the low 32 the index of the next task to
 * claim.  A thread claims task i by a compare-and-swap that also checks the
 * epoch, so a worker that wakes up late (after its job is finished and the
 * next one published) can never run a task of the new job with the old
 * job's function; and the caller closes a finished job (index CLOSED)
 * before it rewrites the job's fields, so a claim can never succeed against
 * fields that are being rewritten.  The caller waits only for the tasks to
 * be done, never for sleeping workers to wake.
 *
 * Sleep and wake: a worker announces itself in `sleepers` and re-checks
 * the word before waiting; the caller publishes, then reads `sleepers`
 * (both sequentially consistent), so one of the two always sees the other.
 */
#define _GNU_SOURCE
#include "onnxc_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CLOSED 0xffffffffu

typedef void (*TaskFn)(void *ctx, int i, int worker);

struct onnxc_pool {
  onnxc_parallel par;
  int threads;
  pthread_t *workers;
  int started;
  pthread_mutex_t submit; /* one job at a time */
  /* The job: written by the caller only while it is closed (atomics only
   * so that a late worker's discarded read is not a data race). */
  _Atomic(TaskFn) task;
  _Atomic(void *) ctx;
  _Atomic uint32_t n;
  _Alignas(64) _Atomic uint64_t word; /* epoch << 32 | next task */
  _Alignas(64) _Atomic uint32_t done; /* tasks finished in this job */
  _Alignas(64) _Atomic int sleepers;
  _Atomic int stop;
  pthread_mutex_t lock;
  pthread_cond_t wake;
};

typedef struct Worker {
  onnxc_pool *pool;
  int id;
} Worker;

/* Between polls of a shared word.  Deliberately not PAUSE (x86) or YIELD
 * (arm64): under KVM and other hypervisors a loop of them is taken for a
 * vCPU spinning on a lock ("pause-loop exiting") and the vCPU is
 * descheduled, which on the 2-vCPU machines here made the serial,
 * memory-bound nodes around parallel regions 2-5x slower (T2T-ViT-7 at two
 * threads: 17.9 ms with PAUSE, 13.3 ms without).  The spin is bounded in
 * time (ONNXC_POOL_SPIN_US) either way. */
static inline void cpu_relax(void) { __asm__ __volatile__("" ::: "memory"); }

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t epoch_of(uint64_t w) { return (uint32_t)(w >> 32); }
static uint32_t next_of(uint64_t w) { return (uint32_t)w; }

/* Claims and runs tasks of the job of epoch ep until none is left. */
static void run_tasks(onnxc_pool *p, uint32_t ep, int worker) {
  TaskFn task = atomic_load_explicit(&p->task, memory_order_relaxed);
  void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
  uint32_t n = atomic_load_explicit(&p->n, memory_order_relaxed);
  uint64_t w = atomic_load_explicit(&p->word, memory_order_acquire);
  for (;;) {
    if (epoch_of(w) != ep || next_of(w) >= n) return;
    if (atomic_compare_exchange_weak_explicit(&p->word, &w, w + 1, memory_order_acq_rel,
                                              memory_order_acquire)) {
      task(ctx, (int)next_of(w), worker);
      atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
      w = atomic_load_explicit(&p->word, memory_order_acquire);
    }
  }
}

/* Waits until the word shows an epoch other than seen, or stop. */
static uint64_t await_job(onnxc_pool *p, uint32_t seen) {
  uint64_t w, start = 0;
  for (int k = 0;; k++) {
    w = atomic_load_explicit(&p->word, memory_order_acquire);
    if (epoch_of(w) != seen || atomic_load(&p->stop)) return w;
    cpu_relax();
    if ((k & 63) != 63) continue;
    uint64_t t = now_ns();
    if (!start) start = t;
    if (t - start < (uint64_t)ONNXC_POOL_SPIN_US * 1000u) continue;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    while (epoch_of(atomic_load(&p->word)) == seen && !atomic_load(&p->stop))
      pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    start = 0;
  }
}

static void *worker_main(void *arg) {
  Worker *wk = arg;
  onnxc_pool *p = wk->pool;
  int id = wk->id;
  free(wk);
  uint32_t seen = epoch_of(atomic_load(&p->word));
  for (;;) {
    uint64_t w = await_job(p, seen);
    if (atomic_load(&p->stop)) return NULL;
    seen = epoch_of(w);
    run_tasks(p, seen, id);
  }
}

static void run_inline(int n, TaskFn task, void *ctx) {
  for (int i = 0; i < n; i++) task(ctx, i, 0);
}

static void pool_parallel_for(void *runner, int n, TaskFn task, void *ctx) {
  onnxc_pool *p = runner;
  if (n <= 0 || !task) return;
  if (n == 1 || !p || p->threads == 1 || pthread_mutex_trylock(&p->submit) != 0) {
    run_inline(n, task, ctx);
    return;
  }
  /* The previous job is closed: its fields are ours to rewrite. */
  uint32_t ep = epoch_of(atomic_load(&p->word)) + 1;
  atomic_store_explicit(&p->task, task, memory_order_relaxed);
  atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
  atomic_store_explicit(&p->n, (uint32_t)n, memory_order_relaxed);
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  atomic_store(&p->word, (uint64_t)ep << 32);
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
  }
  run_tasks(p, ep, 0);
  /* Tasks claimed by workers may still be running. */
  for (int k = 0; atomic_load_explicit(&p->done, memory_order_acquire) < (uint32_t)n; k++) {
    if (k < 4096) cpu_relax();
    else sched_yield();
  }
  atomic_store(&p->word, (uint64_t)ep << 32 | CLOSED);
  pthread_mutex_unlock(&p->submit);
}

onnxc_pool *onnxc_pool_create(int threads) {
  if (threads == 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    threads = c < 1 ? 1 : c > ONNXC_POOL_MAX_THREADS ? ONNXC_POOL_MAX_THREADS : (int)c;
  }
  if (threads < 1 || threads > ONNXC_POOL_MAX_THREADS) return NULL;
  onnxc_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads;
  p->par = (onnxc_parallel){.parallel_for = pool_parallel_for, .runner = p, .threads = threads};
  atomic_init(&p->word, (uint64_t)CLOSED);
  atomic_init(&p->done, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->stop, 0);
  if (pthread_mutex_init(&p->submit, NULL) != 0) {
    free(p);
    return NULL;
  }
  if (pthread_mutex_init(&p->lock, NULL) != 0) {
    pthread_mutex_destroy(&p->submit);
    free(p);
    return NULL;
  }
  if (pthread_cond_init(&p->wake, NULL) != 0) {
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->submit);
    free(p);
    return NULL;
  }
  if (threads > 1) {
    p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
    if (!p->workers) {
      onnxc_pool_destroy(p);
      return NULL;
    }
  }
  pthread_attr_t attr;
  int have_attr = pthread_attr_init(&attr) == 0;
  /* Tasks keep their state on the stack (attention: ~120 KiB). */
  if (have_attr) pthread_attr_setstacksize(&attr, 1u << 20);
  for (int i = 1; i < threads; i++) {
    Worker *wk = malloc(sizeof *wk);
    if (!wk) break;
    *wk = (Worker){p, i};
    if (pthread_create(&p->workers[i - 1], have_attr ? &attr : NULL, worker_main, wk) != 0) {
      free(wk);
      break;
    }
    p->started++;
  }
  if (have_attr) pthread_attr_destroy(&attr);
  if (p->started != threads - 1) {
    onnxc_pool_destroy(p);
    return NULL;
  }
  return p;
}

void onnxc_pool_destroy(onnxc_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  atomic_store(&p->stop, 1);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  pthread_mutex_destroy(&p->submit);
  free(p->workers);
  free(p);
}

const onnxc_parallel *onnxc_pool_parallel(onnxc_pool *p) { return p ? &p->par : NULL; }
