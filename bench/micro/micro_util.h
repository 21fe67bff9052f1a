/*
 * Shared helpers of the micro-benchmarks in bench/micro (not a library:
 * compiled into every bench_* executable).  Clocks, the FMA-peak loops the
 * benches quote "% of peak" against, and the two ways they time a compiled
 * graph: cg_compile + cc -shared + dlopen by hand (the conv benches), or
 * through the test harness's cgh_compile_ex (the matmul/attention ones).
 * Failures of the machinery print and exit: these are tools, not library.
 */
#ifndef ONNXC_BENCH_MICRO_UTIL_H
#define ONNXC_BENCH_MICRO_UTIL_H

#include <stdbool.h>

#include "ir/graph.h"

/* Wall-clock seconds (CLOCK_MONOTONIC). */
double micro_now_wall(void);
/* Thread CPU seconds: on a shared machine, time spent descheduled is not
 * the kernel's. */
double micro_now_cpu(void);
/* qsort comparator of doubles, ascending. */
int micro_cmp_double(const void *a, const void *b);

/* GFLOP/s of 12 independent 16-lane vector FMA chains, best of 40 wall-
 * clock bursts (GCC vector extension, so the compiler picks the ISA). */
double micro_fma_peak_v16(void);
/* GFLOP/s of 16 independent AVX-512 (else AVX2) FMA chains, best of
 * `reps` thread-CPU-time rounds. */
double micro_fma_peak_gflops(int reps);

/* Compiles g at -O3 for the host (reference kernels only if asked), links
 * it with cc into a shared object, runs it 3 times then 25 timed (wall
 * clock) on deterministic inputs; returns the median seconds, the fastest
 * in *best, or -1 on failure (tag names the case in the message). */
double micro_time_so(Graph *g, const char *tag, bool reference_only, double *best);

/* Through cgh_compile_ex at -O3: `warm` untimed runs, then `runs` (<= 25)
 * timed in thread CPU time on seeded random inputs.  Returns the median
 * seconds, the fastest in *best (may be NULL); exits on failure.  g is
 * compacted, not freed. */
double micro_time_cgh(Graph *g, bool reference_only, int warm, int runs, double *best);

#endif
