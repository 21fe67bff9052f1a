/*
 * onnxc_pool: an optional thread pool for the parallel-for hook of
 * onnxc-generated code (PREFIX_run_parallel, docs/ABI.md).
 *
 *   onnxc_pool *pool = onnxc_pool_create(4);          // 4 threads in all
 *   net_run_parallel(in, out, ws, onnxc_pool_parallel(pool));
 *   onnxc_pool_destroy(pool);
 *
 * The calling thread is one of the workers: a pool of T threads starts
 * T - 1 of its own.  Tasks are handed out dynamically (an atomic counter),
 * so a thread that gets preempted delays only its current task.  Between
 * parallel regions the workers spin for ONNXC_POOL_SPIN_US microseconds
 * (a model's nodes follow each other closely), then sleep on a condition
 * variable: an idle pool takes no CPU time.
 *
 * One pool may serve several threads and several models at once: a
 * parallel_for that finds the pool busy (another caller, or a task calling
 * back into it) runs its tasks on the calling thread instead, as worker 0.
 * Destroy a pool only when no call is using it.
 *
 * Link with libonnxc_runtime and -pthread; the generated .o itself never
 * needs this library.
 */
#ifndef ONNXC_RUNTIME_ONNXC_POOL_H
#define ONNXC_RUNTIME_ONNXC_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

/* The same definition as in every generated header. */
#ifndef ONNXC_PARALLEL_DEFINED
#define ONNXC_PARALLEL_DEFINED
typedef struct onnxc_parallel {
  /* Runs task(ctx, i, worker) for every i in [0, n) and returns when all are done.
     worker is in [0, threads): the id of the thread running that call (for per-thread scratch). */
  void (*parallel_for)(void *runner, int n, void (*task)(void *ctx, int i, int worker), void *ctx);
  void *runner;  /* the caller's pool, passed back unchanged */
  int threads;   /* how many workers may run tasks at once (>= 1) */
} onnxc_parallel;
#endif

#define ONNXC_POOL_SPIN_US 200
#define ONNXC_POOL_MAX_THREADS 1024

typedef struct onnxc_pool onnxc_pool;

/* threads >= 1: that many threads run tasks, the caller included; 0: one
 * per online CPU.  NULL when threads is negative or above
 * ONNXC_POOL_MAX_THREADS, or when memory or threads cannot be had. */
onnxc_pool *onnxc_pool_create(int threads);
/* Stops and joins the workers; NULL is a no-op. */
void onnxc_pool_destroy(onnxc_pool *pool);
/* The hook to pass to PREFIX_run_parallel; valid until destroy. */
const onnxc_parallel *onnxc_pool_parallel(onnxc_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
