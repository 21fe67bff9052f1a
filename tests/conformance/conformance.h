/*
 * onnxc_conformance: runs ONNX backend node tests (<dir>/model.onnx plus
 * test_data_set_0/input_N.pb, output_N.pb) through the frontend, the default
 * pass pipeline and the reference evaluator, and compares with ONNX's
 * expected outputs.  This header joins the runner's files:
 *   main.c            command line, test discovery, one child process per test
 *   run_test.c        one test: load, pipeline, feed inputs, evaluate, compare
 *   compare.c         ONNX's tolerance rule for one tensor
 *   known_failures.c  the tests/conformance/known_failures.txt list
 */
#ifndef ONNXC_CONFORMANCE_H
#define ONNXC_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/dtype.h"
#include "ir/status.h"

/* ONNX's backend tests compare with numpy assert_allclose(rtol=1e-3, atol=1e-7). */
#define CONF_RTOL 1e-3
#define CONF_ATOL 1e-7

typedef enum ResultKind { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } ResultKind;

/* Plain data (no pointers): a child process sends it to the parent whole. */
typedef struct TestResult {
  ResultKind kind;
  double maxerr;       /* largest |got - expected| over all outputs (PASS) */
  double eval_seconds; /* wall time of eval_graph alone */
  char reason[3072];   /* one line: why for FAIL and SKIP, a note for PASS */
} TestResult;

/* Runs the test in folder dir; never exits, whatever the model holds.
 * verbose prints per-output details to stderr.  freeze: when the pipeline
 * refuses a graph because a shape-determining input is not constant, bind the
 * integer and small 1-D inputs to their test data as constants and retry (the
 * PASS reason then says which). */
void conf_run_test(const char *dir, bool verbose, bool freeze, TestResult *r);

typedef struct CompareStats {
  double max_abs;      /* largest |got - want| among finite pairs */
  size_t num_bad;      /* elements outside tolerance */
  size_t first_bad;    /* index of the first one (valid when num_bad > 0) */
  double got, want;    /* their values, for the message */
} CompareStats;

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
bool conf_known_contains(const KnownFailures *k, const char *name);
void conf_known_free(KnownFailures *k);

#endif
