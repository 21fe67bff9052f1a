/*
 * Fixture shared by the test_ops_movement*.c cmocka tests: builds one Node
 * by hand with the ir/graph.h API, runs its shape rule (ops_infer_node) and
 * kernel (ops_eval_node) on caller-provided buffers, and owns the output
 * buffers.  Expected values in the tests are computed by hand from the ONNX
 * operator specs.
 */
#ifndef ONNXC_TEST_OPS_MOVEMENT_H
#define ONNXC_TEST_OPS_MOVEMENT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#define MC_MAX 8

typedef struct MCase {
  Graph *g;
  Node *n;
  const void *in[MC_MAX];
  void *out[MC_MAX];
  Error err;
} MCase;

static inline MCase *mc_new(OpKind op, int num_in, int num_out) {
  MCase *c = calloc(1, sizeof *c);
  assert_non_null(c);
  c->g = ir_graph_new("t", "test.onnx");
  assert_non_null(c->g);
  c->n = ir_node_new(c->g, op, "n0", num_in, num_out);
  assert_non_null(c->n);
  c->n->opset = 19;
  for (int i = 0; i < num_out; i++) {
    Value *v = ir_value_new(c->g, "");
    assert_non_null(v);
    ir_node_set_output(c->n, i, v);
  }
  return c;
}

/* A run-time input: typed, no constant data; the kernel reads `data`. */
static inline Value *mc_input(MCase *c, int i, DType dt, int rank, const int64_t *dims,
                              const void *data) {
  Value *v = ir_value_new(c->g, "x");
  assert_non_null(v);
  assert_int_equal(ir_value_set_type(v, dt, rank, dims, NULL), ST_OK);
  v->is_input = true;
  c->n->inputs[i] = v;
  c->in[i] = data;
  return v;
}

static inline Value *mc_const(MCase *c, int i, DType dt, int rank, const int64_t *dims,
                              const void *data) {
  Value *v = ir_const_new(c->g, "c", dt, rank, dims, data);
  assert_non_null(v);
  c->n->inputs[i] = v;
  c->in[i] = v->data;
  return v;
}

/* 1-D int64 constant. */
static inline Value *mc_ints(MCase *c, int i, int count, const int64_t *vals) {
  int64_t d = count;
  return mc_const(c, i, DT_INT64, 1, &d, vals);
}

static inline void mc_attr_int(MCase *c, const char *name, int64_t v) {
  assert_int_equal(ir_node_set_attr_int(c->g, c->n, name, v, NULL), ST_OK);
}

static inline void mc_attr_string(MCase *c, const char *name, const char *s) {
  assert_int_equal(ir_node_set_attr_string(c->g, c->n, name, s, NULL), ST_OK);
}

static inline Status mc_infer(MCase *c) {
  return ops_infer_node(c->g, c->n, &c->err);
}

/* Shape rule, output allocation, kernel. */
static inline Status mc_run(MCase *c) {
  Status st = mc_infer(c);
  if (st != ST_OK) return st;
  for (int i = 0; i < c->n->num_outputs; i++) {
    if (!c->n->outputs[i]) continue;
    size_t nb = ir_value_nbytes(c->n->outputs[i]);
    c->out[i] = calloc(1, nb ? nb : 1);
    assert_non_null(c->out[i]);
  }
  return ops_eval_node(c->g, c->n, c->in, c->out, &c->err);
}

static inline void mc_free(MCase *c) {
  for (int i = 0; i < MC_MAX; i++) free(c->out[i]);
  ir_graph_free(c->g);
  free(c);
}

static inline void mc_assert_dims(const MCase *c, int out, int rank, const int64_t *dims) {
  const Value *v = c->n->outputs[out];
  assert_int_equal(v->rank, rank);
  for (int i = 0; i < rank; i++) assert_int_equal(v->dims[i], dims[i]);
}

static inline void mc_assert_f32(const MCase *c, int out, const float *want, int count) {
  assert_int_equal(ir_value_numel(c->n->outputs[out]), count);
  const float *got = c->out[out];
  for (int i = 0; i < count; i++) {
    if (got[i] != want[i]) fail_msg("element %d: got %g, expected %g", i, got[i], want[i]);
  }
}

static inline void mc_assert_i64(const MCase *c, int out, const int64_t *want, int count) {
  assert_int_equal(ir_value_numel(c->n->outputs[out]), count);
  const int64_t *got = c->out[out];
  for (int i = 0; i < count; i++) {
    if (got[i] != want[i])
      fail_msg("element %d: got %lld, expected %lld", i, (long long)got[i], (long long)want[i]);
  }
}

static inline void mc_assert_error(MCase *c, Status got, Status want, const char *phrase) {
  assert_int_equal(got, want);
  if (!strstr(c->err.msg, phrase)) fail_msg("message '%s' lacks '%s'", c->err.msg, phrase);
}

#endif
