/*
 * Unit tests of the unary elementwise ops (ops/unary.c): hand-computed
 * values for float32, float16 and integer inputs, Clip with absent bounds,
 * Gelu's two modes, Dropout's mask, and type errors.
 */
#include "test_ops_elementwise_util.h"

static const int64_t d3[1] = {3};

static void abs_neg_relu_float(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  float x[3] = {-1.5f, 0.0f, 2.0f};
  Value *in = t_in(g, DT_FLOAT32, 1, d3, x);
  float *a = t_run_ok(g, t_node(g, OP_ABS, 1, &in, 1));
  float *ng = t_run_ok(g, t_node(g, OP_NEG, 1, &in, 1));
  float *r = t_run_ok(g, t_node(g, OP_RELU, 1, &in, 1));
  t_assert_f32(a, (float[]){1.5f, 0.0f, 2.0f}, 3, 0);
  t_assert_f32(ng, (float[]){1.5f, 0.0f, -2.0f}, 3, 0);
  t_assert_f32(r, (float[]){0.0f, 0.0f, 2.0f}, 3, 0);
  free(a), free(ng), free(r);
  ir_graph_free(g);
}

static void abs_neg_relu_int(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int8_t x8[3] = {-128, -3, 5};
  Value *i8 = t_in(g, DT_INT8, 1, d3, x8);
  int8_t *a = t_run_ok(g, t_node(g, OP_ABS, 1, &i8, 1));
  int8_t *r = t_run_ok(g, t_node(g, OP_RELU, 1, &i8, 1));
  assert_int_equal(a[0], -128); /* wraps like numpy */
  assert_int_equal(a[1], 3);
  assert_int_equal(a[2], 5);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], 0);
  assert_int_equal(r[2], 5);
  int64_t x64[3] = {INT64_MIN, -((int64_t)1 << 60) - 1, 7};
  Value *i64 = t_in(g, DT_INT64, 1, d3, x64);
  int64_t *ng = t_run_ok(g, t_node(g, OP_NEG, 1, &i64, 1));
  assert_true(ng[0] == INT64_MIN);
  assert_true(ng[1] == ((int64_t)1 << 60) + 1); /* exact, not through double */
  assert_true(ng[2] == -7);
  free(a), free(r), free(ng);
  ir_graph_free(g);
}

static void clip_bounds(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  float x[3] = {-2.0f, 0.5f, 3.0f}, one = 1.0f, two = 2.0f, zero = 0.0f;
  Value *in = t_in(g, DT_FLOAT32, 1, d3, x);
  Value *vmax = t_in(g, DT_FLOAT32, 0, NULL, &one);
  Value *vmin = t_in(g, DT_FLOAT32, 0, NULL, &zero);
  Value *vtwo = t_in(g, DT_FLOAT32, 0, NULL, &two);
  /* no min: (x, "", max) */
  float *a = t_run_ok(g, t_node(g, OP_CLIP, 3, (Value *[]){in, NULL, vmax}, 1));
  t_assert_f32(a, (float[]){-2.0f, 0.5f, 1.0f}, 3, 0);
  /* min only, max input missing entirely */
  float *b = t_run_ok(g, t_node(g, OP_CLIP, 2, (Value *[]){in, vmin}, 1));
  t_assert_f32(b, (float[]){0.0f, 0.5f, 3.0f}, 3, 0);
  /* no bounds at all: identity */
  float *c = t_run_ok(g, t_node(g, OP_CLIP, 1, &in, 1));
  t_assert_f32(c, x, 3, 0);
  /* min > max: every value becomes max */
  float *d = t_run_ok(g, t_node(g, OP_CLIP, 3, (Value *[]){in, vtwo, vmax}, 1));
  t_assert_f32(d, (float[]){1.0f, 1.0f, 1.0f}, 3, 0);
  free(a), free(b), free(c), free(d);

  int64_t big = ((int64_t)1 << 62), xi[3] = {((int64_t)1 << 62) + 1, -5, 9}, lo = -3;
  Value *iv = t_in(g, DT_INT64, 1, d3, xi);
  int64_t *e = t_run_ok(g, t_node(g, OP_CLIP, 3,
                                  (Value *[]){iv, t_in(g, DT_INT64, 0, NULL, &lo),
                                              t_in(g, DT_INT64, 0, NULL, &big)}, 1));
  assert_true(e[0] == big);
  assert_true(e[1] == -3);
  assert_true(e[2] == 9);
  free(e);

  /* a bound of another type is rejected */
  Error err = {0};
  void *out[1];
  int32_t i1 = 1;
  Node *bad = t_node(g, OP_CLIP, 2, (Value *[]){in, t_in(g, DT_INT32, 0, NULL, &i1)}, 1);
  assert_int_equal(t_run(g, bad, out, &err), ST_SHAPE);
  ir_graph_free(g);
}

static void activations(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  float x[4] = {-4.0f, 0.0f, 1.0f, 4.0f};
  int64_t d4[1] = {4};
  Value *in = t_in(g, DT_FLOAT32, 1, d4, x);

  float *hs = t_run_ok(g, t_node(g, OP_HARD_SWISH, 1, &in, 1));
  t_assert_f32(hs, (float[]){0.0f, 0.0f, 2.0f / 3.0f, 4.0f}, 4, 1e-6);

  Node *hg = t_node(g, OP_HARD_SIGMOID, 1, &in, 1);
  assert_int_equal(ir_node_set_attr_float(g, hg, "alpha", 0.5f, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, hg, "beta", 0.6f, NULL), ST_OK);
  float *hgo = t_run_ok(g, hg);
  t_assert_f32(hgo, (float[]){0.0f, 0.6f, 1.0f, 1.0f}, 4, 1e-6);

  float *lr = t_run_ok(g, t_node(g, OP_LEAKY_RELU, 1, &in, 1)); /* default alpha 0.01 */
  t_assert_f32(lr, (float[]){-0.04f, 0.0f, 1.0f, 4.0f}, 4, 1e-7);

  float *sg = t_run_ok(g, t_node(g, OP_SIGMOID, 1, &in, 1));
  /* 1/(1+e^4) = 0.01798620996... */
  t_assert_f32(sg, (float[]){0.0179862100f, 0.5f, 0.731058579f, 0.982013790f}, 4, 1e-7);

  float xg[2] = {1.0f, -0.5f};
  int64_t d2[1] = {2};
  Value *gin = t_in(g, DT_FLOAT32, 1, d2, xg);
  float *ge = t_run_ok(g, t_node(g, OP_GELU, 1, &gin, 1));
  t_assert_f32(ge, (float[]){0.841344746f, -0.154268769f}, 2, 1e-7);
  Node *gt = t_node(g, OP_GELU, 1, &gin, 1);
  assert_int_equal(ir_node_set_attr_string(g, gt, "approximate", "tanh", NULL), ST_OK);
  float *geo = t_run_ok(g, gt);
  t_assert_f32(geo, (float[]){0.841191991f, -0.154285990f}, 2, 1e-7);

  float big[2] = {-1000.0f, 1000.0f};
  float *sb = t_run_ok(g, t_node(g, OP_SIGMOID, 1, (Value *[]){t_in(g, DT_FLOAT32, 1, d2, big)}, 1));
  t_assert_f32(sb, (float[]){0.0f, 1.0f}, 2, 0);
  free(hs), free(hgo), free(lr), free(sg), free(ge), free(geo), free(sb);
  ir_graph_free(g);
}

static void math_float16(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  /* half 2.0, 0.25, 4.0; sqrt(2) rounds to 0x3DA8 = 1.4140625 */
  uint16_t x[3] = {0x4000, 0x3400, 0x4400};
  Value *in = t_in(g, DT_FLOAT16, 1, d3, x);
  uint16_t *s = t_run_ok(g, t_node(g, OP_SQRT, 1, &in, 1));
  assert_int_equal(s[0], 0x3DA8);
  assert_int_equal(s[1], 0x3800); /* 0.5 */
  assert_int_equal(s[2], 0x4000); /* 2.0 */
  uint16_t *rc = t_run_ok(g, t_node(g, OP_RECIPROCAL, 1, &in, 1));
  assert_int_equal(rc[0], 0x3800);
  assert_int_equal(rc[1], 0x4400);
  free(s), free(rc);
  ir_graph_free(g);
}

static void rounding_and_transcendentals(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  float x[4] = {-1.5f, -0.5f, 0.5f, 2.0f};
  int64_t d4[1] = {4};
  Value *in = t_in(g, DT_FLOAT32, 1, d4, x);
  float *c = t_run_ok(g, t_node(g, OP_CEIL, 1, &in, 1));
  float *f = t_run_ok(g, t_node(g, OP_FLOOR, 1, &in, 1));
  float *e = t_run_ok(g, t_node(g, OP_EXP, 1, &in, 1));
  float *l = t_run_ok(g, t_node(g, OP_LOG, 1, &in, 1));
  float *th = t_run_ok(g, t_node(g, OP_TANH, 1, &in, 1));
  float *er = t_run_ok(g, t_node(g, OP_ERF, 1, &in, 1));
  t_assert_f32(c, (float[]){-1.0f, -0.0f, 1.0f, 2.0f}, 4, 0);
  t_assert_f32(f, (float[]){-2.0f, -1.0f, 0.0f, 2.0f}, 4, 0);
  t_assert_f32(e, (float[]){0.223130160f, 0.606530660f, 1.64872127f, 7.38905610f}, 4, 1e-6);
  t_assert_f32(l, (float[]){NAN, NAN, -0.693147181f, 0.693147181f}, 4, 1e-7);
  t_assert_f32(th, (float[]){-0.905148254f, -0.462117157f, 0.462117157f, 0.964027580f}, 4, 1e-7);
  t_assert_f32(er, (float[]){-0.966105146f, -0.520499878f, 0.520499878f, 0.995322265f}, 4, 1e-7);
  float *sn = t_run_ok(g, t_node(g, OP_SIN, 1, &in, 1));
  float *cs = t_run_ok(g, t_node(g, OP_COS, 1, &in, 1));
  t_assert_f32(sn, (float[]){-0.997494987f, -0.479425539f, 0.479425539f, 0.909297427f}, 4, 1e-7);
  t_assert_f32(cs, (float[]){0.0707372017f, 0.877582562f, 0.877582562f, -0.416146837f}, 4, 1e-7);
  free(c), free(f), free(e), free(l), free(th), free(er), free(sn), free(cs);
  ir_graph_free(g);
}

static void not_identity_dropout(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  uint8_t b[3] = {1, 0, 1};
  Value *bv = t_in(g, DT_BOOL, 1, d3, b);
  uint8_t *nt = t_run_ok(g, t_node(g, OP_NOT, 1, &bv, 1));
  assert_int_equal(nt[0], 0);
  assert_int_equal(nt[1], 1);
  assert_int_equal(nt[2], 0);
  free(nt);

  int32_t xi[3] = {7, -8, 9};
  Value *iv = t_in(g, DT_INT32, 1, d3, xi);
  int32_t *id = t_run_ok(g, t_node(g, OP_IDENTITY, 1, &iv, 1));
  assert_memory_equal(id, xi, sizeof xi);
  free(id);

  float x[3] = {1.0f, -2.0f, 3.0f}, ratio = 0.5f;
  Value *fv = t_in(g, DT_FLOAT32, 1, d3, x);
  Node *dn = t_node(g, OP_DROPOUT, 2, (Value *[]){fv, t_in(g, DT_FLOAT32, 0, NULL, &ratio)}, 2);
  Error err = {0};
  void *out[2];
  assert_int_equal(t_run(g, dn, out, &err), ST_OK);
  t_assert_shape(dn->outputs[1], DT_BOOL, 1, d3);
  t_assert_f32(out[0], x, 3, 0);
  for (int i = 0; i < 3; i++) assert_int_equal(((uint8_t *)out[1])[i], 1);
  t_free_outs(dn, out);

  uint8_t yes = 1;
  Node *tn = t_node(g, OP_DROPOUT, 3, (Value *[]){fv, NULL, t_in(g, DT_BOOL, 0, NULL, &yes)}, 1);
  assert_int_equal(t_run(g, tn, out, &err), ST_UNSUPPORTED);

  /* type errors are reported, not crashed on */
  assert_int_equal(t_run(g, t_node(g, OP_NOT, 1, &fv, 1), out, &err), ST_UNSUPPORTED);
  assert_int_equal(t_run(g, t_node(g, OP_EXP, 1, &iv, 1), out, &err), ST_UNSUPPORTED);
  assert_non_null(strstr(err.msg, "int32"));
  ir_graph_free(g);
}

static void empty_and_scalar(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d0[2] = {0, 3};
  Value *e = t_in(g, DT_FLOAT32, 2, d0, NULL);
  Node *n = t_node(g, OP_EXP, 1, &e, 1);
  free(t_run_ok(g, n));
  t_assert_shape(n->outputs[0], DT_FLOAT32, 2, d0);
  float s = -3.0f;
  Node *sn = t_node(g, OP_ABS, 1, (Value *[]){t_in(g, DT_FLOAT32, 0, NULL, &s)}, 1);
  float *r = t_run_ok(g, sn);
  assert_int_equal(sn->outputs[0]->rank, 0);
  assert_true(*r == 3.0f);
  free(r);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(abs_neg_relu_float),
      cmocka_unit_test(abs_neg_relu_int),
      cmocka_unit_test(clip_bounds),
      cmocka_unit_test(activations),
      cmocka_unit_test(math_float16),
      cmocka_unit_test(rounding_and_transcendentals),
      cmocka_unit_test(not_identity_dropout),
      cmocka_unit_test(empty_and_scalar),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
