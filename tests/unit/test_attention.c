/*
 * onnxc.Attention (ops/attention.c): shape rule and reference kernel.
 * The kernel's blocked online softmax is checked against a hand-computed
 * case and against a plain full-row softmax written here in double (the
 * textbook formula, independent of the kernel's blocking), across sizes
 * that span several query and key blocks, broadcast biases, -inf masks
 * covering whole key blocks, fully masked rows (NaN, like Softmax) and
 * M == 0 (zeros, like an empty MatMul).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ir/graph.h"
#include "ops/ops.h"

typedef struct Case {
  Graph *g;
  Node *n;
} Case;

/* An Attention node over inputs of the given shapes (bias rank 0 = none). */
static Case make_case(int r, const int64_t *q, const int64_t *k, const int64_t *v, int br,
                      const int64_t *b, float scale) {
  Case c;
  c.g = ir_graph_new("attn", "test.onnx");
  assert_non_null(c.g);
  c.n = ir_node_new(c.g, OP_ATTENTION, "attn", br ? 4 : 3, 1);
  assert_non_null(c.n);
  const int64_t *dims[4] = {q, k, v, b};
  for (int i = 0; i < (br ? 4 : 3); i++) {
    Value *x = ir_value_new(c.g, "");
    assert_non_null(x);
    assert_int_equal(ir_value_set_type(x, DT_FLOAT32, i == 3 ? br : r, dims[i], NULL), ST_OK);
    c.n->inputs[i] = x;
  }
  Value *o = ir_value_new(c.g, "y");
  assert_non_null(o);
  ir_node_set_output(c.n, 0, o);
  assert_int_equal(ir_node_set_attr_float(c.g, c.n, "scale", scale, NULL), ST_OK);
  return c;
}

static uint32_t rng = 12345;
static float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rand_buf(int64_t n) {
  float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
  assert_non_null(p);
  for (int64_t i = 0; i < n; i++) p[i] = frand();
  return p;
}

/* softmax(scale*q.k^T + bias) . v with the whole row in memory. */
static void naive(int64_t batches, int64_t n, int64_t m, int64_t d, int64_t dv, float scale,
                  const float *q, const float *k, const float *v,
                  double (*bias)(int64_t bt, int64_t i, int64_t j, const void *ctx),
                  const void *ctx, double *out) {
  double *row = malloc(sizeof(double) * (size_t)(m ? m : 1));
  assert_non_null(row);
  for (int64_t bt = 0; bt < batches; bt++)
    for (int64_t i = 0; i < n; i++) {
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < m; j++) {
        double s = 0;
        for (int64_t p = 0; p < d; p++) s += (double)q[(bt * n + i) * d + p] * k[(bt * m + j) * d + p];
        row[j] = scale * s + (bias ? bias(bt, i, j, ctx) : 0);
        if (row[j] > mx) mx = row[j];
      }
      for (int64_t j = 0; j < m; j++) sum += exp(row[j] - mx);
      for (int64_t c = 0; c < dv; c++) {
        double acc = 0;
        for (int64_t j = 0; j < m; j++) acc += exp(row[j] - mx) / sum * v[(bt * m + j) * dv + c];
        out[(bt * n + i) * dv + c] = acc;
      }
    }
  free(row);
}

static void run(Case *c, const void *const in[], float *out) {
  Error err = {0};
  if (ops_infer_node(c->g, c->n, &err) != ST_OK) fail_msg("%s", err.msg);
  void *outs[1] = {out};
  if (ops_eval_node(c->g, c->n, in, outs, &err) != ST_OK) fail_msg("%s", err.msg);
}

/* scores [0, ln 3] -> probabilities [1/4, 3/4] -> 1/4*4 + 3/4*8 = 7. */
static void attention_hand_computed(void **state) {
  (void)state;
  int64_t q[2] = {1, 1}, k[2] = {2, 1}, v[2] = {2, 1};
  Case c = make_case(2, q, k, v, 0, NULL, 2.0f);
  float qd[1] = {0.5f}, kd[2] = {0.0f, (float)log(3.0)}, vd[2] = {4.0f, 8.0f}, y[1];
  const void *in[3] = {qd, kd, vd};
  run(&c, in, y);
  assert_float_equal(y[0], 7.0f, 1e-5);
  assert_int_equal(c.n->outputs[0]->rank, 2);
  assert_int_equal(c.n->outputs[0]->dims[0], 1);
  assert_int_equal(c.n->outputs[0]->dims[1], 1);
  ir_graph_free(c.g);
}

typedef struct BiasCtx {
  const float *b;
  int64_t heads, m;
} BiasCtx;

/* Bias [H, 1, M] over scores [B, H, N, M]. */
static double bias_h1m(int64_t bt, int64_t i, int64_t j, const void *ctx) {
  const BiasCtx *b = ctx;
  (void)i;
  return b->b[(bt % b->heads) * b->m + j];
}

/* softmax(scale q.k^T + bias[H, 1, M]) . v on [B, H, N, *] against naive(). */
static void check_naive_bias(int64_t bb, int64_t hh, int64_t n, int64_t m, int64_t d, int64_t dv) {
  int64_t q[4] = {bb, hh, n, d}, k[4] = {bb, hh, m, d}, v[4] = {bb, hh, m, dv}, b[3] = {hh, 1, m};
  Case c = make_case(4, q, k, v, 3, b, 0.7f);
  int64_t bt = bb * hh;
  float *qd = rand_buf(bt * n * d), *kd = rand_buf(bt * m * d), *vd = rand_buf(bt * m * dv);
  float *bd = rand_buf(hh * m), *y = malloc(sizeof(float) * (size_t)(bt * n * dv));
  double *want = malloc(sizeof(double) * (size_t)(bt * n * dv));
  assert_non_null(y);
  assert_non_null(want);
  const void *in[4] = {qd, kd, vd, bd};
  run(&c, in, y);
  BiasCtx ctx = {bd, hh, m};
  naive(bt, n, m, d, dv, 0.7f, qd, kd, vd, bias_h1m, &ctx, want);
  for (int64_t i = 0; i < bt * n * dv; i++)
    if (fabs(y[i] - want[i]) > 1e-5 * (1 + fabs(want[i])))
      fail_msg("[%lld,%lld,%lld,%lld,%lld,%lld] element %lld: got %.9g, want %.9g", (long long)bb,
               (long long)hh, (long long)n, (long long)m, (long long)d, (long long)dv,
               (long long)i, y[i], want[i]);
  free(qd); free(kd); free(vd); free(bd); free(y); free(want);
  ir_graph_free(c.g);
}

/* Several query blocks (N = 37), key blocks (M = 70) and, in the second
 * case, output column chunks (Dv = 150 > 64). */
static void attention_matches_naive_with_bias(void **state) {
  (void)state;
  check_naive_bias(2, 3, 37, 70, 5, 3);
  check_naive_bias(1, 2, 17, 33, 3, 150);
  check_naive_bias(1, 1, 1, 1, 1, 1);
}

/* Mask [N, M]: row 0 sees only key 69 (the first two key blocks are all
 * -inf for it), row 1 sees nothing (NaN), other rows see everything. */
static double bias_mask(int64_t bt, int64_t i, int64_t j, const void *ctx) {
  (void)bt;
  return ((const float *)ctx)[i * 70 + j];
}

static void attention_masked_rows(void **state) {
  (void)state;
  enum { N = 20, M = 70, D = 4, DV = 2 };
  int64_t q[3] = {1, N, D}, k[3] = {1, M, D}, v[3] = {1, M, DV}, b[2] = {N, M};
  Case c = make_case(3, q, k, v, 2, b, 1.0f);
  float *qd = rand_buf(N * D), *kd = rand_buf(M * D), *vd = rand_buf(M * DV);
  float *bd = calloc(N * M, sizeof(float)), y[N * DV];
  double want[N * DV];
  assert_non_null(bd);
  for (int j = 0; j < M; j++) {
    bd[j] = j == M - 1 ? 0.0f : -INFINITY;
    bd[M + j] = -INFINITY;
  }
  const void *in[4] = {qd, kd, vd, bd};
  run(&c, in, y);
  naive(1, N, M, D, DV, 1.0f, qd, kd, vd, bias_mask, bd, want);
  /* Row 0 is exactly V's last row. */
  assert_float_equal(y[0], vd[(M - 1) * DV], 1e-6);
  assert_float_equal(y[1], vd[(M - 1) * DV + 1], 1e-6);
  assert_true(isnan(y[2]) && isnan(y[3]));
  for (int i = 4; i < N * DV; i++)
    if (fabs(y[i] - want[i]) > 1e-5 * (1 + fabs(want[i])))
      fail_msg("element %d: got %.9g, want %.9g", i, y[i], want[i]);
  free(qd); free(kd); free(vd); free(bd);
  ir_graph_free(c.g);
}

/* M == 0: the unfused graph multiplies [N, 0] by [0, Dv] -> zeros. */
static void attention_empty_keys(void **state) {
  (void)state;
  int64_t q[3] = {2, 3, 4}, k[3] = {2, 0, 4}, v[3] = {2, 0, 5};
  Case c = make_case(3, q, k, v, 0, NULL, 1.0f);
  float qd[24], y[30];
  for (int i = 0; i < 24; i++) qd[i] = frand();
  for (int i = 0; i < 30; i++) y[i] = 123.0f;
  const void *in[3] = {qd, NULL, NULL};
  run(&c, in, y);
  assert_int_equal(c.n->outputs[0]->dims[2], 5);
  for (int i = 0; i < 30; i++) assert_float_equal(y[i], 0.0f, 0);
  ir_graph_free(c.g);
}

static void expect_shape_error(int r, const int64_t *q, const int64_t *k, const int64_t *v, int br,
                               const int64_t *b, const char *what) {
  Case c = make_case(r, q, k, v, br, b, 1.0f);
  Error err = {0};
  assert_int_not_equal(ops_infer_node(c.g, c.n, &err), ST_OK);
  if (!strstr(err.msg, what)) fail_msg("message '%s' lacks '%s'", err.msg, what);
  ir_graph_free(c.g);
}

static void attention_shape_errors(void **state) {
  (void)state;
  int64_t q[3] = {2, 5, 4}, k[3] = {2, 6, 4}, v[3] = {2, 6, 3};
  int64_t kd[3] = {2, 6, 3}, vm[3] = {2, 7, 3}, lead[3] = {3, 6, 4}, b_bad[2] = {5, 5};
  int64_t b_big[4] = {2, 2, 5, 6};
  expect_shape_error(3, q, kd, v, 0, NULL, "last dim");
  expect_shape_error(3, q, k, vm, 0, NULL, "rows");
  expect_shape_error(3, q, lead, v, 0, NULL, "leading dim 0");
  expect_shape_error(3, q, k, v, 2, b_bad, "not broadcastable");
  expect_shape_error(3, q, k, v, 4, b_big, "bias rank");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(attention_hand_computed),
      cmocka_unit_test(attention_matches_naive_with_bias),
      cmocka_unit_test(attention_masked_rows),
      cmocka_unit_test(attention_empty_keys),
      cmocka_unit_test(attention_shape_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
