/*
 * Helpers for the spatial op tests (test_ops_spatial_*.c): build one node
 * by hand with the ir/graph.h API, run its shape rule (ops_infer_node) and
 * its kernel (ops_eval_node) on caller-supplied buffers, and compare with
 * hand-computed values.  Every helper fails the current cmocka test on a
 * construction error, so the tests themselves stay short.
 */
#ifndef ONNXC_TEST_OPS_SPATIAL_UTIL_H
#define ONNXC_TEST_OPS_SPATIAL_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ops/ops.h"

/* A runtime (non-constant) value of the given type. */
static inline Value *sp_value(Graph *g, const char *name, DType dt, int rank, const int64_t *dims) {
  Value *v = ir_value_new(g, name);
  assert_non_null(v);
  assert_int_equal(ir_value_set_type(v, dt, rank, dims, NULL), ST_OK);
  return v;
}

static inline Value *sp_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims,
                              const void *data) {
  Value *v = ir_const_new(g, name, dt, rank, dims, data);
  assert_non_null(v);
  return v;
}

/* A node with the given inputs (NULL = absent) and nout fresh outputs. */
static inline Node *sp_node(Graph *g, OpKind op, int nin, Value *const *ins, int nout) {
  Node *n = ir_node_new(g, op, "n0", nin, nout);
  assert_non_null(n);
  n->opset = 22;
  for (int i = 0; i < nin; i++) n->inputs[i] = ins[i];
  for (int i = 0; i < nout; i++) {
    char name[16];
    snprintf(name, sizeof name, "y%d", i);
    ir_node_set_output(n, i, ir_value_new(g, name));
  }
  return n;
}

static inline void sp_ints(Graph *g, Node *n, const char *name, int count, const int64_t *v) {
  assert_int_equal(ir_node_set_attr_ints(g, n, name, v, count, NULL), ST_OK);
}
static inline void sp_int(Graph *g, Node *n, const char *name, int64_t v) {
  assert_int_equal(ir_node_set_attr_int(g, n, name, v, NULL), ST_OK);
}
static inline void sp_str(Graph *g, Node *n, const char *name, const char *s) {
  assert_int_equal(ir_node_set_attr_string(g, n, name, s, NULL), ST_OK);
}
static inline void sp_float(Graph *g, Node *n, const char *name, float v) {
  assert_int_equal(ir_node_set_attr_float(g, n, name, v, NULL), ST_OK);
}

/* Runs the shape rule; on failure returns the status with the message in err. */
static inline Status sp_infer(Graph *g, Node *n, Error *err) { return ops_infer_node(g, n, err); }

/* Infers, then evaluates with data[i] for each non-constant input i, into
 * out[i] (each must have room for the inferred output).  Fails the test on
 * any error.  ndata is the length of data: it bounds the reads, since a node
 * may have more inputs than the caller passed buffers for. */
static inline void sp_run(Graph *g, Node *n, int ndata, const void *const *data, void **out) {
  Error err = {0};
  if (ops_infer_node(g, n, &err) != ST_OK) fail_msg("infer: %s", err.msg);
  const void *in[8] = {0};
  for (int i = 0; i < n->num_inputs && i < 8; i++)
    if (n->inputs[i])
      in[i] = n->inputs[i]->data ? n->inputs[i]->data : i < ndata ? data[i] : NULL;
  if (ops_eval_node(g, n, in, out, &err) != ST_OK) fail_msg("eval: %s", err.msg);
}

/* Asserts an inferred output shape. */
static inline void sp_assert_shape(const Value *v, int rank, const int64_t *dims) {
  assert_int_equal(v->rank, rank);
  for (int i = 0; i < rank; i++)
    if (v->dims[i] != dims[i]) fail_msg("dim %d is %lld, expected %lld", i, (long long)v->dims[i],
                                        (long long)dims[i]);
}

static inline void sp_assert_floats(const float *got, const float *want, int64_t n, double tol) {
  for (int64_t i = 0; i < n; i++)
    if (!(fabs((double)got[i] - (double)want[i]) <= tol))
      fail_msg("element %lld is %.9g, expected %.9g", (long long)i, got[i], want[i]);
}

/* Expects the shape rule to fail with a message containing `needle`. */
static inline void sp_expect_error(Graph *g, Node *n, const char *needle) {
  Error err = {0};
  Status st = ops_infer_node(g, n, &err);
  if (st == ST_OK) fail_msg("expected an error containing '%s'", needle);
  if (!strstr(err.msg, needle)) fail_msg("error '%s' does not contain '%s'", err.msg, needle);
}

/* Deterministic pseudo-random floats in [-1, 1). */
static inline void sp_fill_random(float *p, int64_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

#endif
