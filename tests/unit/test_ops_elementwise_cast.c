/*
 * Unit tests of Cast and CastLike (ops/cast.c): float -> int truncation,
 * integer wrap, bool, float16 rounding straight from double, float8 with
 * and without saturation, float8e8m0 round modes, int4 wrap, CastLike's
 * target type, and bad `to` values.
 */
#include "test_ops_elementwise_util.h"

static Node *cast_node(Graph *g, Value *in, DType to) {
  Node *n = t_node(g, OP_CAST, 1, &in, 1);
  assert_int_equal(ir_node_set_attr_int(g, n, "to", to, NULL), ST_OK);
  return n;
}

static void float_to_int_and_bool(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d4[1] = {4};
  float x[4] = {-2.7f, 2.7f, 0.0f, -0.5f};
  Value *v = t_in(g, DT_FLOAT32, 1, d4, x);
  int32_t *i = t_run_ok(g, cast_node(g, v, DT_INT32));
  int32_t want[4] = {-2, 2, 0, 0};
  assert_memory_equal(i, want, sizeof want);
  uint8_t *b = t_run_ok(g, cast_node(g, v, DT_BOOL));
  uint8_t wantb[4] = {1, 1, 0, 1};
  assert_memory_equal(b, wantb, 4);
  free(i), free(b);

  int64_t big[4] = {300, -129, ((int64_t)1 << 53) + 1, 0};
  Value *bv = t_in(g, DT_INT64, 1, d4, big);
  int8_t *w = t_run_ok(g, cast_node(g, bv, DT_INT8));
  assert_int_equal(w[0], 44);
  assert_int_equal(w[1], 127);
  free(w);
  /* 2^53 + 1 -> float32 rounds once to 2^53 */
  float *f = t_run_ok(g, cast_node(g, bv, DT_FLOAT32));
  assert_true(f[2] == 9007199254740992.0f);
  free(f);
  ir_graph_free(g);
}

static void double_to_half_rounds_once(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d3[1] = {3};
  /* 1 + 2^-11 + 2^-40 is just above the midpoint of 1 and 1 + 2^-10: it must
   * round up, although through float32 it would become a tie (-> 1.0). */
  double x[3] = {1.0 + ldexp(1, -11) + ldexp(1, -40), 65520.0, 1.0 + ldexp(1, -11)};
  uint16_t *h = t_run_ok(g, cast_node(g, t_in(g, DT_FLOAT64, 1, d3, x), DT_FLOAT16));
  assert_int_equal(h[0], 0x3C01);
  assert_int_equal(h[1], 0x7C00); /* rounds to infinity */
  assert_int_equal(h[2], 0x3C00); /* exact tie: to even */
  uint16_t *bf = t_run_ok(g, cast_node(g, t_in(g, DT_FLOAT64, 1, d3, x), DT_BFLOAT16));
  assert_int_equal(bf[0], 0x3F80); /* 1 + 2^-11 is below bf16's half-ulp 2^-8 */
  free(h), free(bf);
  ir_graph_free(g);
}

static void to_float8(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d5[1] = {5};
  float x[5] = {448.0f, 1000.0f, -INFINITY, NAN, -1e-7f};
  Value *v = t_in(g, DT_FLOAT32, 1, d5, x);
  uint8_t *s = t_run_ok(g, cast_node(g, v, DT_FLOAT8E4M3FN));
  uint8_t want_sat[5] = {0x7E, 0x7E, 0xFE, 0x7F, 0x80};
  assert_memory_equal(s, want_sat, 5);
  Node *ns = cast_node(g, v, DT_FLOAT8E4M3FN);
  assert_int_equal(ir_node_set_attr_int(g, ns, "saturate", 0, NULL), ST_OK);
  uint8_t *u = t_run_ok(g, ns);
  uint8_t want_nosat[5] = {0x7E, 0x7F, 0xFF, 0x7F, 0x80};
  assert_memory_equal(u, want_nosat, 5);
  Node *e5 = cast_node(g, v, DT_FLOAT8E5M2);
  assert_int_equal(ir_node_set_attr_int(g, e5, "saturate", 0, NULL), ST_OK);
  uint8_t *e = t_run_ok(g, e5);
  uint8_t want_e5[5] = {0x5F, 0x64, 0xFC, 0x7E, 0x80}; /* 448 = 1.75*2^8; 1000 -> 1024 */
  assert_memory_equal(e, want_e5, 5);
  /* and back: float8e4m3fn -> float32 */
  float *back = t_run_ok(g, cast_node(g, t_in(g, DT_FLOAT8E4M3FN, 1, d5, s), DT_FLOAT32));
  t_assert_f32(back, (float[]){448.0f, 448.0f, -448.0f, NAN, -0.0f}, 5, 0);
  free(s), free(u), free(e), free(back);
  ir_graph_free(g);
}

static void e8m0_round_modes(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d3[1] = {3};
  float x[3] = {1.1f, 1.5f, 0.124f};
  Value *v = t_in(g, DT_FLOAT32, 1, d3, x);
  static const char *const modes[3] = {"up", "down", "nearest"};
  static const uint8_t want[3][3] = {{128, 128, 124}, {127, 127, 123}, {127, 128, 124}};
  for (int m = 0; m < 3; m++) {
    Node *n = cast_node(g, v, DT_FLOAT8E8M0);
    assert_int_equal(ir_node_set_attr_string(g, n, "round_mode", modes[m], NULL), ST_OK);
    uint8_t *r = t_run_ok(g, n);
    assert_memory_equal(r, want[m], 3);
    free(r);
  }
  Node *bad = cast_node(g, v, DT_FLOAT8E8M0);
  assert_int_equal(ir_node_set_attr_string(g, bad, "round_mode", "sideways", NULL), ST_OK);
  Error err = {0};
  void *out[1];
  assert_int_equal(t_run(g, bad, out, &err), ST_INVALID);
  ir_graph_free(g);
}

static void sub_byte_ints(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d4[1] = {4};
  float x[4] = {7.0f, 8.0f, -9.0f, -8.0f};
  Value *v = t_in(g, DT_FLOAT32, 1, d4, x);
  int8_t *i4 = t_run_ok(g, cast_node(g, v, DT_INT4));
  int8_t want[4] = {7, -8, 7, -8}; /* wraps, stored sign-extended */
  assert_memory_equal(i4, want, 4);
  uint8_t *u2 = t_run_ok(g, cast_node(g, v, DT_UINT2));
  uint8_t wantu[4] = {3, 0, 3, 0};
  assert_memory_equal(u2, wantu, 4);
  float *back = t_run_ok(g, cast_node(g, t_in(g, DT_INT4, 1, d4, i4), DT_FLOAT32));
  t_assert_f32(back, (float[]){7, -8, 7, -8}, 4, 0);
  free(i4), free(u2), free(back);
  ir_graph_free(g);
}

static void cast_like_and_errors(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d2[1] = {2}, d1[1] = {1};
  float x[2] = {3.9f, -3.9f};
  int64_t t = 0;
  Node *n = t_node(g, OP_CAST_LIKE, 2,
                   (Value *[]){t_in(g, DT_FLOAT32, 1, d2, x), t_in(g, DT_INT64, 1, d1, &t)}, 1);
  int64_t *r = t_run_ok(g, n);
  t_assert_shape(n->outputs[0], DT_INT64, 1, d2);
  assert_true(r[0] == 3 && r[1] == -3);
  free(r);

  Error err = {0};
  void *out[1];
  Value *v = t_in(g, DT_FLOAT32, 1, d2, x);
  assert_int_equal(t_run(g, cast_node(g, v, DT_STRING), out, &err), ST_UNSUPPORTED);
  assert_int_equal(t_run(g, cast_node(g, v, (DType)99), out, &err), ST_UNSUPPORTED);
  assert_int_equal(t_run(g, t_node(g, OP_CAST, 1, &v, 1), out, &err), ST_INVALID);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(float_to_int_and_bool),
      cmocka_unit_test(double_to_half_rounds_once),
      cmocka_unit_test(to_float8),
      cmocka_unit_test(e8m0_round_modes),
      cmocka_unit_test(sub_byte_ints),
      cmocka_unit_test(cast_like_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
