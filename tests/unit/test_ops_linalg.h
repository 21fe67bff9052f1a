/*
 * Helpers shared by the test_ops_linalg_*.c cmocka tests: build a one-node
 * graph by hand with ir/graph.h, run its shape rule (ops_infer_node) and its
 * kernel (ops_eval_node), and compare outputs with hand-computed values.
 * Header-only (static functions) because each test file is its own program.
 */
#ifndef ONNXC_TEST_OPS_LINALG_H
#define ONNXC_TEST_OPS_LINALG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#define MAX_OUT 4

typedef struct Case {
  Graph *g;
  Node *n;
  void *out[MAX_OUT]; /* malloc'ed by case_run, freed by case_free */
} Case;

static inline Case case_new(OpKind op, int nin, int nout, int opset) {
  Case c;
  memset(&c, 0, sizeof c);
  c.g = ir_graph_new("t", "test.onnx");
  assert_non_null(c.g);
  c.g->opset = opset;
  c.n = ir_node_new(c.g, op, "node", nin, nout);
  assert_non_null(c.n);
  c.n->opset = opset;
  for (int i = 0; i < nout; i++) {
    Value *v = ir_value_new(c.g, "");
    assert_non_null(v);
    ir_node_set_output(c.n, i, v);
  }
  return c;
}

/* A constant input i. */
static inline Value *case_const(Case *c, int i, DType dt, int rank, const int64_t *dims,
                                const void *data) {
  Value *v = ir_const_new(c->g, "", dt, rank, dims, data);
  assert_non_null(v);
  c->n->inputs[i] = v;
  return v;
}

static inline Value *case_f32(Case *c, int i, int rank, const int64_t *dims, const float *data) {
  return case_const(c, i, DT_FLOAT32, rank, dims, data);
}

/* A computed (non-constant) input i; its data is passed only to the kernel. */
static inline Value *case_runtime(Case *c, int i, DType dt, int rank, const int64_t *dims) {
  Value *v = ir_value_new(c->g, "rt");
  assert_non_null(v);
  Error err;
  assert_int_equal(ir_value_set_type(v, dt, rank, dims, &err), ST_OK);
  c->n->inputs[i] = v;
  return v;
}

static inline void case_int(Case *c, const char *name, int64_t v) {
  Error err;
  assert_int_equal(ir_node_set_attr_int(c->g, c->n, name, v, &err), ST_OK);
}
static inline void case_float(Case *c, const char *name, float v) {
  Error err;
  assert_int_equal(ir_node_set_attr_float(c->g, c->n, name, v, &err), ST_OK);
}
static inline void case_string(Case *c, const char *name, const char *s) {
  Error err;
  assert_int_equal(ir_node_set_attr_string(c->g, c->n, name, s, &err), ST_OK);
}

static inline Status case_infer(Case *c, Error *err) { return ops_infer_node(c->g, c->n, err); }

/* Infers and evaluates; runtime[i] supplies data for non-constant inputs. */
static inline void case_run_with(Case *c, const void *const runtime[]) {
  Error err = {0};
  Status st = ops_infer_node(c->g, c->n, &err);
  if (st != ST_OK) fail_msg("shape rule failed: %s", err.msg);
  const void *in[16] = {0};
  for (int i = 0; i < c->n->num_inputs; i++) {
    Value *v = c->n->inputs[i];
    in[i] = v ? (v->data ? v->data : (runtime ? runtime[i] : NULL)) : NULL;
  }
  for (int i = 0; i < c->n->num_outputs; i++) {
    Value *v = c->n->outputs[i];
    c->out[i] = v ? calloc(1, ir_value_nbytes(v) + 1) : NULL;
  }
  st = ops_eval_node(c->g, c->n, in, c->out, &err);
  if (st != ST_OK) fail_msg("kernel failed: %s", err.msg);
}

static inline void case_run(Case *c) { case_run_with(c, NULL); }

static inline void case_free(Case *c) {
  for (int i = 0; i < MAX_OUT; i++) free(c->out[i]);
  ir_graph_free(c->g);
}

/* Output i has exactly this shape. */
static inline void assert_shape(const Case *c, int i, int rank, const int64_t *dims) {
  const Value *v = c->n->outputs[i];
  assert_int_equal(v->rank, rank);
  for (int d = 0; d < rank; d++) assert_int_equal(v->dims[d], dims[d]);
}

static inline void assert_f32_near(const float *got, const float *want, int n, double tol) {
  for (int i = 0; i < n; i++) {
    double g = got[i], w = want[i];
    if (isinf(w) && g == w) continue;
    if (!(fabs(g - w) <= tol * (1 + fabs(w))))
      fail_msg("element %d: got %.9g, expected %.9g", i, g, w);
  }
}

static inline void assert_f64_near(const double *got, const double *want, int n, double tol) {
  for (int i = 0; i < n; i++)
    if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i]))))
      fail_msg("element %d: got %.17g, expected %.17g", i, got[i], want[i]);
}

static inline void assert_i64_eq(const int64_t *got, const int64_t *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("element %d: got %lld, expected %lld", i, (long long)got[i], (long long)want[i]);
}

#endif
