/*
 * Shared by the tests of the rewrite passes (test_fusion_*.c): golden
 * "input IR -> IR after the pass" files under tests/golden/<pass>/, plus
 * the numeric check every rewrite must pass: the graph is evaluated with
 * the reference evaluator before and after the pass on the same seeded
 * random inputs, and the outputs must agree to a relative error <= 1e-5
 * (relative to max(|want|, 0.1), so values near zero are judged absolutely).
 * Header-only and static: each test executable includes it once.
 */
#ifndef ONNXC_TESTS_FUSION_UTIL_H
#define ONNXC_TESTS_FUSION_UTIL_H

#include "golden_util.h"

#include <math.h>

#include "ir/verify.h"
#include "ops/eval.h"
#include "passes/pass.h"

/* Outputs of g on seeded uniform [-2, 2) inputs; *bufs[i] malloc'ed. */
static inline void fz_eval(const Graph *g, unsigned seed, float **outs) {
  const void *ins[8];
  void *outp[8];
  assert_true(g->num_inputs <= 8 && g->num_outputs <= 8);
  uint32_t s = seed * 2654435761u + 12345u;
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    assert_int_equal(v->dtype, DT_FLOAT32);
    int64_t n = ir_value_numel(v);
    float *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    assert_non_null(d);
    for (int64_t j = 0; j < n; j++) {
      s = s * 1664525u + 1013904223u;
      d[j] = (float)((s >> 8) * (4.0 / 16777216.0) - 2.0);
    }
    ins[i] = d;
  }
  for (int i = 0; i < g->num_outputs; i++) {
    size_t nb = ir_value_nbytes(g->outputs[i]);
    outs[i] = malloc(nb ? nb : 1);
    assert_non_null(outs[i]);
    outp[i] = outs[i];
  }
  Error err = {0};
  if (eval_graph(g, ins, outp, &err) != ST_OK) fail_msg("eval_graph: %s", err.msg);
  for (int i = 0; i < g->num_inputs; i++) free((void *)ins[i]);
}

/* Max relative error of got against want over n floats. */
static inline double fz_max_rel(const float *want, const float *got, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double w = want[i], d = fabs((double)got[i] - w);
    if (w != w && got[i] != got[i]) continue; /* NaN in both */
    double den = fabs(w) > 0.1 ? fabs(w) : 0.1;
    if (d != d || d / den > worst) worst = d != d ? INFINITY : d / den;
  }
  return worst;
}

/* Types g, evaluates it, runs pass `name` (printing before/after into
 * tests/golden/<name>/<golden>.txt unless golden is NULL), verifies the
 * result and checks the outputs did not change. */
static inline void fz_check_pass(Graph *g, const char *name, const char *golden) {
  g_type_all(g);
  const PassInfo *p = pass_find(name);
  assert_non_null(p);
  float *want[8], *got[8];
  fz_eval(g, 7, want);
  char *before = print_to_string(g, ir_print);
  Error err = {0};
  if (p->fn(g, &err) != ST_OK) fail_msg("%s: %s", name, err.msg);
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("verify after %s: %s", name, err.msg);
  char *after = print_to_string(g, ir_print);
  if (golden) {
    size_t n = strlen(before) + strlen(after) + 128;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "; input\n%s; after %s\n%s", before, name, after);
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s.txt", name, golden);
    check_golden(rel, text);
    free(text);
  }
  fz_eval(g, 7, got);
  for (int i = 0; i < g->num_outputs; i++) {
    double e = fz_max_rel(want[i], got[i], ir_value_numel(g->outputs[i]));
    if (!(e <= 1e-5)) fail_msg("%s (%s): output %d max rel error %g > 1e-5\n%s", name,
                               golden ? golden : "-", i, e, after);
    free(want[i]);
    free(got[i]);
  }
  free(before);
  free(after);
}

static inline int fz_count(const Graph *g, OpKind op) {
  int c = 0;
  for (int i = 0; i < g->num_nodes; i++) c += !g->nodes[i]->dead && g->nodes[i]->op == op;
  return c;
}

static inline const Node *fz_first(const Graph *g, OpKind op) {
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == op) return g->nodes[i];
  return NULL;
}

static inline Value *fz_scalar(Graph *g, const char *name, float v) {
  return g_const_f32(g, name, 0, NULL, &v);
}

/* A float constant of the given shape filled with a deterministic
 * pseudo-random pattern in [lo, hi). */
static inline Value *fz_rand_const(Graph *g, const char *name, int rank, const int64_t *dims,
                                   float lo, float hi, unsigned seed) {
  int64_t n = ops_numel(rank, dims);
  float *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
  assert_non_null(d);
  uint32_t s = seed * 747796405u + 1u;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    d[i] = lo + (float)((s >> 8) / 16777216.0) * (hi - lo);
  }
  Value *v = g_const_f32(g, name, rank, dims, d);
  free(d);
  return v;
}

static inline Graph *fz_graph(const char *name) {
  Graph *g = ir_graph_new(name, "test.onnx");
  assert_non_null(g);
  g->opset = 13;
  return g;
}

#endif
