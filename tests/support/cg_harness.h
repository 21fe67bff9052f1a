/*
 * Test support for compiled code: compiles a Graph with the real backend
 * (cg_compile -> .o), links the object into a shared library with the
 * system C compiler, dlopens it and runs <prefix>_run in-process, then
 * compares every output with the reference evaluator (eval_graph) on the
 * same inputs.  Used by the differential tests and the compiled-mode
 * conformance runner.
 */
#ifndef ONNXC_TESTS_CG_HARNESS_H
#define ONNXC_TESTS_CG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "../../ir/graph.h"

struct onnxc_parallel;

typedef struct CgModule {
  void *dl;                 /* dlopen handle */
  int (*run)(const void *const *, void *const *, void *);
  int (*run_parallel)(const void *const *, void *const *, void *, const struct onnxc_parallel *);
  size_t workspace_size;    /* parsed from the generated header */
  char dir[256];            /* temp dir with model.o/model.h/model.so */
} CgModule;

/* Compiles g (already through the pass pipeline) at opt_level (0..3) for
 * the host.  g is modified (compacted). */
Status cgh_compile(Graph *g, int opt_level, CgModule *m, Error *err);
/* The same with CgOptions.reference_kernels_only (benchmarks time the
 * reference path with it). */
Status cgh_compile_ex(Graph *g, int opt_level, bool reference_only, CgModule *m, Error *err);
void cgh_unload(CgModule *m);
/* The CPU that cgh_compile targets from now on (NULL: $ONNXC_TEST_CPU,
 * else the host).  A test reaches the code paths of an older CPU the host
 * can still run. */
void cgh_set_cpu(const char *cpu);

/* Runs m on inputs (g->inputs order) into freshly malloc'ed outputs
 * (caller frees each and the array).  Then runs it again through
 * model_run_parallel with one thread, with test runners that run the tasks
 * in reverse and shuffled order (3 and 8 workers), and with a 2-thread
 * onnxc_pool, and fails unless every output is bit-identical to the serial
 * run.  (cgh_compile splits every partitioned kernel, whatever its size.) */
Status cgh_run(const CgModule *m, const Graph *g, const void *const inputs[], void ***outputs,
               Error *err);

/* Whether two buffers of v's type hold the same bits, NaN matching any NaN
 * (LLVM may commute an operation, and x86 then propagates the other NaN's
 * sign: NaN payloads are not part of what onnxc keeps identical); *at gets
 * the first differing element. */
bool cgh_same_bits(const Value *v, const void *a, const void *b, size_t *at);

typedef struct CgCompare {
  double max_abs, max_rel;  /* over all outputs */
  int worst_output;
  bool ok;
} CgCompare;

/* Compiles g, runs it and the reference evaluator on inputs, compares with
 * |a-b| <= atol + rtol*|b| (NaN == NaN; integers and bool exact). */
Status cgh_differential(Graph *g, int opt_level, const void *const inputs[], double rtol,
                        double atol, CgCompare *cmp, Error *err);

/* Fills seeded random inputs for g's inputs (floats uniform in [-1,1)). */
Status cgh_random_inputs(const Graph *g, unsigned seed, void ***inputs, Error *err);
void cgh_free_buffers(void **bufs, int n);

#endif
