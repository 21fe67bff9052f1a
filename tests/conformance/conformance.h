/*
 * onnxc_conformance: runs ONNX backend node tests (<dir>/model.onnx plus
 * test_data_set_0/input_N.pb, output_N.pb) through the frontend, the default
 * pass pipeline and the reference evaluator, and compares with ONNX's
 * expected outputs.  This header joins the runner's files:
 *   main.c            command line, test discovery, one child process per test
 *   run_test.c        one test: load, pipeline, feed inputs, evaluate, compare
 *   compiled.c        compiled mode: cg_compile, generated C harness, cc, run
 *   compare.c         ONNX's tolerance rule for one tensor
 *   known_failures.c  the tests/conformance/known_failures.txt list
 */
#ifndef ONNXC_CONFORMANCE_H
#define ONNXC_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/dtype.h"
#include "ir/graph.h"
#include "ir/status.h"
#include "runtime/compare.h"

/* ONNX's backend tests compare with numpy assert_allclose(rtol=1e-3, atol=1e-7). */
#define CONF_RTOL 1e-3
#define CONF_ATOL 1e-7

typedef enum ResultKind { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } ResultKind;

/* Plain data (no pointers): a child process sends it to the parent whole. */
typedef struct TestResult {
  ResultKind kind;
  double maxerr;       /* largest |got - expected| over all outputs (PASS) */
  double eval_seconds; /* wall time of eval_graph alone (compiled: of cg_compile) */
  size_t ws_size;      /* compiled mode: the memory plan's workspace size ... */
  size_t ws_lower;     /* ... and its lower bound (peak live bytes) */
  char reason[3072];   /* one line: why for FAIL and SKIP, a note for PASS */
} TestResult;

/* Runs the test in folder dir; never exits, whatever the model holds.
 * verbose prints per-output details to stderr.  freeze: when the pipeline
 * refuses a graph because a shape-determining input is not constant, bind the
 * integer and small 1-D inputs to their test data as constants and retry (the
 * PASS reason then says which).  compiled_opt < 0 evaluates with the
 * reference evaluator; 0..3 compiles the graph at that -O level instead. */
void conf_run_test(const char *dir, bool verbose, bool freeze, int compiled_opt, TestResult *r);

/* The memory plan may use at most this times the peak live bytes. */
#define CONF_MAX_PLAN_RATIO 1.1

/* Compiles g (after the pipeline; it gets compacted) to a .o, links it with a
 * generated C harness, runs that as a child process on inputs (g->inputs
 * order) and reads its outputs into outputs[i] (ir_value_nbytes each).
 * Sets r->eval_seconds (the cg_compile time), r->ws_size and r->ws_lower
 * (parsed from the --print-memory-plan text).  On failure returns false with
 * one line in why; a workspace above CONF_MAX_PLAN_RATIO x the lower bound
 * is a failure too. */
bool conf_compiled_run(Graph *g, int opt_level, const void *const inputs[], void *const outputs[],
                       TestResult *r, char *why, size_t size);
/* From now on compiled mode writes the weights to a file (CgOptions
 * weights_path) and the harness loads it, checks it with
 * model_weights_check and runs model_run_with_weights. */
void conf_compiled_use_weights_file(bool on);

/* The comparison rule shared with `onnxc verify` (runtime/compare.h). */
typedef RtCompareStats CompareStats;

/* Compares numel elements of type dt: floats with |a-e| <= atol + rtol*|e|
 * (NaN equals NaN, an infinity equals only itself), integers and bool exactly.
 * Returns true when every element is within tolerance. */
bool conf_compare(DType dt, const void *got, const void *want, size_t numel, double rtol,
                  double atol, CompareStats *st);

typedef struct KnownFailures {
  char **names; /* malloc'ed test names */
  int count;
} KnownFailures;

/* Reads `test_name<TAB>reason` lines; blank lines and '#' comments ignored. */
Status conf_known_load(const char *path, KnownFailures *k, Error *err);
/* Loads path and adds its names to k (for several --known-failures files). */
Status conf_known_append(const char *path, KnownFailures *k, Error *err);
bool conf_known_contains(const KnownFailures *k, const char *name);
void conf_known_free(KnownFailures *k);

#endif
