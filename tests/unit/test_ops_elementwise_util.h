/*
 * Helpers shared by the elementwise op tests (test_ops_elementwise_*.c):
 * build one node by hand with the ir/graph.h API, run its shape rule
 * (ops_infer_node) and its kernel (ops_eval_node), and hand back the output
 * buffers.  Header-only so each test stays one executable.
 */
#ifndef ONNXC_TEST_OPS_ELEMENTWISE_UTIL_H
#define ONNXC_TEST_OPS_ELEMENTWISE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ops/ops.h"

/* A constant input tensor (so its type is static). */
static inline Value *t_in(Graph *g, DType dt, int rank, const int64_t *dims, const void *data) {
  Value *v = ir_const_new(g, "x", dt, rank, dims, data);
  assert_non_null(v);
  return v;
}

/* A node with the given inputs (NULL = absent) and num_out fresh outputs. */
static inline Node *t_node(Graph *g, OpKind op, int num_in, Value *const *ins, int num_out) {
  Node *n = ir_node_new(g, op, "n", num_in, num_out);
  assert_non_null(n);
  n->opset = 22;
  for (int i = 0; i < num_in; i++) n->inputs[i] = ins[i];
  for (int i = 0; i < num_out; i++) {
    Value *v = ir_value_new(g, "y");
    assert_non_null(v);
    ir_node_set_output(n, i, v);
  }
  return n;
}

/* Infers and evaluates n; on success out[i] holds calloc'ed output i
 * (caller frees with t_free_outs). */
static inline Status t_run(Graph *g, Node *n, void **out, Error *err) {
  for (int i = 0; i < n->num_outputs; i++) out[i] = NULL;
  Status st = ops_infer_node(g, n, err);
  if (st != ST_OK) return st;
  const void *in[8] = {0};
  for (int i = 0; i < n->num_inputs && i < 8; i++) in[i] = n->inputs[i] ? n->inputs[i]->data : NULL;
  for (int i = 0; i < n->num_outputs; i++) {
    size_t nb = n->outputs[i] ? ir_value_nbytes(n->outputs[i]) : 0;
    out[i] = calloc(1, nb ? nb : 1);
    assert_non_null(out[i]);
  }
  return ops_eval_node(g, n, in, out, err);
}

static inline void t_free_outs(Node *n, void **out) {
  for (int i = 0; i < n->num_outputs; i++) free(out[i]);
}

/* Runs n, which must succeed, and returns output 0 (caller frees). */
static inline void *t_run_ok(Graph *g, Node *n) {
  Error err = {0};
  void *out[4];
  Status st = t_run(g, n, out, &err);
  if (st != ST_OK) fail_msg("node failed: %s", err.msg);
  for (int i = 1; i < n->num_outputs; i++) free(out[i]);
  return out[0];
}

static inline void t_assert_f32(const float *got, const float *want, int count, double tol) {
  for (int i = 0; i < count; i++) {
    if (isnan(want[i])) {
      if (!isnan(got[i])) fail_msg("element %d: got %.9g, want NaN", i, got[i]);
      continue;
    }
    if (fabs((double)got[i] - (double)want[i]) > tol)
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
  }
}

static inline void t_assert_shape(const Value *v, DType dt, int rank, const int64_t *dims) {
  assert_int_equal(v->dtype, dt);
  assert_int_equal(v->rank, rank);
  for (int i = 0; i < rank; i++) assert_int_equal(v->dims[i], dims[i]);
}

#endif
