/*
 * Unit tests of the broadcasting ops (ops/binary.c): broadcasting with
 * rank-0 and 0-sized dims, integer wrap and truncating Div, both Mod modes
 * with negative numbers, integer and mixed-type Pow, bool comparisons,
 * variadic Max/Min/Sum, 3-way Where, and shape/type errors.
 */
#include "test_ops_elementwise_util.h"

static void add_broadcast(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d23[2] = {2, 3}, d3[1] = {3};
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, s = 0.5f;
  Value *va = t_in(g, DT_FLOAT32, 2, d23, a), *vb = t_in(g, DT_FLOAT32, 1, d3, b);
  Node *n = t_node(g, OP_ADD, 2, (Value *[]){va, vb}, 1);
  float *r = t_run_ok(g, n);
  t_assert_shape(n->outputs[0], DT_FLOAT32, 2, d23);
  t_assert_f32(r, (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
  free(r);

  /* rank-0 on the left */
  Node *m = t_node(g, OP_SUB, 2, (Value *[]){t_in(g, DT_FLOAT32, 0, NULL, &s), vb}, 1);
  r = t_run_ok(g, m);
  t_assert_shape(m->outputs[0], DT_FLOAT32, 1, d3);
  t_assert_f32(r, (float[]){-9.5f, -19.5f, -29.5f}, 3, 0);
  free(r);

  /* [3,1] * [1,2] -> [3,2] */
  int64_t d31[2] = {3, 1}, d12[2] = {1, 2}, d32[2] = {3, 2};
  float c[3] = {1, 2, 3}, e[2] = {10, 100};
  Node *p = t_node(g, OP_MUL, 2,
                   (Value *[]){t_in(g, DT_FLOAT32, 2, d31, c), t_in(g, DT_FLOAT32, 2, d12, e)}, 1);
  r = t_run_ok(g, p);
  t_assert_shape(p->outputs[0], DT_FLOAT32, 2, d32);
  t_assert_f32(r, (float[]){10, 100, 20, 200, 30, 300}, 6, 0);
  free(r);

  /* a 0-sized dim wins over 1 and gives an empty result */
  int64_t d03[2] = {0, 3}, d13[2] = {1, 3};
  Node *z = t_node(g, OP_ADD, 2,
                   (Value *[]){t_in(g, DT_FLOAT32, 2, d03, NULL), t_in(g, DT_FLOAT32, 2, d13, b)}, 1);
  free(t_run_ok(g, z));
  t_assert_shape(z->outputs[0], DT_FLOAT32, 2, d03);
  ir_graph_free(g);
}

static void shape_and_type_errors(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d2[1] = {2}, d3[1] = {3};
  Value *a = t_in(g, DT_FLOAT32, 1, d2, NULL), *b = t_in(g, DT_FLOAT32, 1, d3, NULL);
  Value *i = t_in(g, DT_INT32, 1, d2, NULL);
  Error err = {0};
  void *out[1];
  assert_int_equal(t_run(g, t_node(g, OP_ADD, 2, (Value *[]){a, b}, 1), out, &err), ST_SHAPE);
  assert_non_null(strstr(err.msg, "broadcast"));
  assert_int_equal(t_run(g, t_node(g, OP_MUL, 2, (Value *[]){a, i}, 1), out, &err), ST_SHAPE);
  assert_int_equal(t_run(g, t_node(g, OP_WHERE, 3, (Value *[]){a, a, a}, 1), out, &err), ST_SHAPE);
  ir_graph_free(g);
}

static void integer_arith(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d4[1] = {4}, d5[1] = {5};
  uint8_t ua[4] = {200, 1, 0, 255}, ub[4] = {100, 2, 1, 255};
  Value *va = t_in(g, DT_UINT8, 1, d4, ua), *vb = t_in(g, DT_UINT8, 1, d4, ub);
  uint8_t *s = t_run_ok(g, t_node(g, OP_ADD, 2, (Value *[]){va, vb}, 1));
  uint8_t *m = t_run_ok(g, t_node(g, OP_SUB, 2, (Value *[]){vb, va}, 1));
  assert_int_equal(s[0], 44); /* 300 mod 256 */
  assert_int_equal(s[3], 254);
  assert_int_equal(m[0], 156); /* 100 - 200 wraps */
  assert_int_equal(m[2], 1);
  free(s), free(m);

  /* Div truncates toward zero; by zero gives 0 rather than a trap */
  int32_t x[5] = {7, -7, 7, -7, 5}, y[5] = {2, 2, -2, -2, 0};
  int32_t *q = t_run_ok(g, t_node(g, OP_DIV, 2,
                                  (Value *[]){t_in(g, DT_INT32, 1, d5, x), t_in(g, DT_INT32, 1, d5, y)}, 1));
  int32_t want[5] = {3, -3, -3, 3, 0};
  assert_memory_equal(q, want, sizeof want);
  free(q);

  /* int64 stays exact beyond 2^53 */
  int64_t d1[1] = {1};
  int64_t big = ((int64_t)1 << 60) + 1, three = 3;
  int64_t *p = t_run_ok(g, t_node(g, OP_MUL, 2,
                                  (Value *[]){t_in(g, DT_INT64, 1, d1, &big), t_in(g, DT_INT64, 1, d1, &three)}, 1));
  assert_true(p[0] == ((int64_t)3 << 60) + 3);
  free(p);
  uint64_t u = UINT64_MAX - 1, one = 1;
  uint64_t *up = t_run_ok(g, t_node(g, OP_ADD, 2,
                                    (Value *[]){t_in(g, DT_UINT64, 1, d1, &u), t_in(g, DT_UINT64, 1, d1, &one)}, 1));
  assert_true(up[0] == UINT64_MAX);
  free(up);
  ir_graph_free(g);
}

static void mod_modes(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d6[1] = {6};
  int32_t x[6] = {-4, 7, 5, 4, -7, 8}, y[6] = {2, -3, 8, -2, 3, 5};
  Value *vx = t_in(g, DT_INT32, 1, d6, x), *vy = t_in(g, DT_INT32, 1, d6, y);
  /* fmod=0: the result takes the divisor's sign */
  int32_t *m = t_run_ok(g, t_node(g, OP_MOD, 2, (Value *[]){vx, vy}, 1));
  int32_t want0[6] = {0, -2, 5, 0, 2, 3};
  assert_memory_equal(m, want0, sizeof want0);
  free(m);
  /* fmod=1: the dividend's sign */
  Node *f = t_node(g, OP_MOD, 2, (Value *[]){vx, vy}, 1);
  assert_int_equal(ir_node_set_attr_int(g, f, "fmod", 1, NULL), ST_OK);
  m = t_run_ok(g, f);
  int32_t want1[6] = {0, 1, 5, 0, -1, 3};
  assert_memory_equal(m, want1, sizeof want1);
  free(m);

  float fx[6] = {-4.3f, 7.2f, 5.0f, 4.3f, -7.2f, 8.0f}, fy[6] = {2.1f, -3.4f, 8.0f, -2.1f, 3.4f, 5.0f};
  Node *ff = t_node(g, OP_MOD, 2,
                    (Value *[]){t_in(g, DT_FLOAT32, 1, d6, fx), t_in(g, DT_FLOAT32, 1, d6, fy)}, 1);
  assert_int_equal(ir_node_set_attr_int(g, ff, "fmod", 1, NULL), ST_OK);
  float *r = t_run_ok(g, ff);
  t_assert_f32(r, (float[]){-0.1f, 0.4f, 5.0f, 0.1f, -0.4f, 3.0f}, 6, 1e-6);
  free(r);

  /* broadcast scalar divisor, and modulo by zero is 0 */
  int64_t d1[1] = {1};
  int32_t zero = 0;
  int32_t *mz = t_run_ok(g, t_node(g, OP_MOD, 2, (Value *[]){vx, t_in(g, DT_INT32, 1, d1, &zero)}, 1));
  for (int i = 0; i < 6; i++) assert_int_equal(mz[i], 0);
  free(mz);
  ir_graph_free(g);
}

static void pow_types(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d3[1] = {3}, d2[1] = {2};
  int64_t b[3] = {2, 3, -2}, e[3] = {10, 39, 3};
  Node *n = t_node(g, OP_POW, 2,
                   (Value *[]){t_in(g, DT_INT64, 1, d3, b), t_in(g, DT_INT64, 1, d3, e)}, 1);
  int64_t *r = t_run_ok(g, n);
  assert_true(r[0] == 1024);
  assert_true(r[1] == INT64_C(4052555153018976267)); /* 3^39, not representable in double */
  assert_true(r[2] == -8);
  free(r);

  /* float base, int64 exponent: result keeps the base's type */
  float fb[2] = {2.0f, 4.0f};
  int64_t ie[2] = {3, -1};
  Node *m = t_node(g, OP_POW, 2,
                   (Value *[]){t_in(g, DT_FLOAT32, 1, d2, fb), t_in(g, DT_INT64, 1, d2, ie)}, 1);
  float *fr = t_run_ok(g, m);
  t_assert_shape(m->outputs[0], DT_FLOAT32, 1, d2);
  t_assert_f32(fr, (float[]){8.0f, 0.25f}, 2, 0);
  free(fr);

  /* int base, float exponent: real power truncated to the base's type */
  int32_t ib[2] = {2, 9};
  float fe[2] = {0.5f, 0.5f};
  Node *k = t_node(g, OP_POW, 2,
                   (Value *[]){t_in(g, DT_INT32, 1, d2, ib), t_in(g, DT_FLOAT32, 1, d2, fe)}, 1);
  int32_t *ir = t_run_ok(g, k);
  t_assert_shape(k->outputs[0], DT_INT32, 1, d2);
  assert_int_equal(ir[0], 1);
  assert_int_equal(ir[1], 3);
  free(ir);
  ir_graph_free(g);
}

static void comparisons(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d3[1] = {3}, d23[2] = {2, 3}, d1[1] = {1};
  int32_t a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {1, 5, 6};
  Node *eq = t_node(g, OP_EQUAL, 2,
                    (Value *[]){t_in(g, DT_INT32, 2, d23, a), t_in(g, DT_INT32, 1, d3, b)}, 1);
  uint8_t *r = t_run_ok(g, eq);
  t_assert_shape(eq->outputs[0], DT_BOOL, 2, d23);
  uint8_t want[6] = {1, 0, 0, 0, 1, 1};
  assert_memory_equal(r, want, 6);
  free(r);

  /* uint64 compares as unsigned: 2^63 > 1 */
  uint64_t big = (uint64_t)1 << 63, one = 1;
  r = t_run_ok(g, t_node(g, OP_GREATER, 2,
                         (Value *[]){t_in(g, DT_UINT64, 1, d1, &big), t_in(g, DT_UINT64, 1, d1, &one)}, 1));
  assert_int_equal(r[0], 1);
  free(r);

  /* NaN is neither less nor equal */
  float x[3] = {NAN, 1.0f, 2.0f}, y[3] = {1.0f, 1.0f, 3.0f};
  Value *vx = t_in(g, DT_FLOAT32, 1, d3, x), *vy = t_in(g, DT_FLOAT32, 1, d3, y);
  uint8_t *lt = t_run_ok(g, t_node(g, OP_LESS, 2, (Value *[]){vx, vy}, 1));
  uint8_t *e2 = t_run_ok(g, t_node(g, OP_EQUAL, 2, (Value *[]){vx, vy}, 1));
  uint8_t want_lt[3] = {0, 0, 1}, want_eq[3] = {0, 1, 0};
  assert_memory_equal(lt, want_lt, 3);
  assert_memory_equal(e2, want_eq, 3);
  free(lt), free(e2);

  /* Equal takes bool */
  uint8_t p[2] = {1, 0}, q[2] = {1, 1};
  int64_t d2[1] = {2};
  r = t_run_ok(g, t_node(g, OP_EQUAL, 2,
                         (Value *[]){t_in(g, DT_BOOL, 1, d2, p), t_in(g, DT_BOOL, 1, d2, q)}, 1));
  assert_int_equal(r[0], 1);
  assert_int_equal(r[1], 0);
  free(r);
  ir_graph_free(g);
}

static void variadic(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d2[1] = {2}, d21[2] = {2, 1}, d22[2] = {2, 2};
  float a[2] = {1, 4}, b[2] = {3, 0}, c = 2;
  Value *va = t_in(g, DT_FLOAT32, 1, d2, a), *vb = t_in(g, DT_FLOAT32, 2, d21, b);
  Value *vc = t_in(g, DT_FLOAT32, 0, NULL, &c);
  Node *mx = t_node(g, OP_MAX, 3, (Value *[]){va, vb, vc}, 1);
  float *r = t_run_ok(g, mx);
  t_assert_shape(mx->outputs[0], DT_FLOAT32, 2, d22);
  t_assert_f32(r, (float[]){3, 4, 2, 4}, 4, 0);
  free(r);
  r = t_run_ok(g, t_node(g, OP_MIN, 3, (Value *[]){va, vb, vc}, 1));
  t_assert_f32(r, (float[]){1, 2, 0, 0}, 4, 0);
  free(r);
  r = t_run_ok(g, t_node(g, OP_SUM, 3, (Value *[]){va, vb, vc}, 1));
  t_assert_f32(r, (float[]){6, 9, 3, 6}, 4, 0);
  free(r);
  /* one input: a copy */
  r = t_run_ok(g, t_node(g, OP_MAX, 1, &va, 1));
  t_assert_f32(r, a, 2, 0);
  free(r);
  /* NaN propagates through Max */
  float n[2] = {NAN, 1};
  r = t_run_ok(g, t_node(g, OP_MAX, 2, (Value *[]){va, t_in(g, DT_FLOAT32, 1, d2, n)}, 1));
  t_assert_f32(r, (float[]){NAN, 4}, 2, 0);
  free(r);

  int64_t i1[2] = {INT64_MAX, -5}, i2[2] = {INT64_MAX - 1, -6};
  int64_t *ir = t_run_ok(g, t_node(g, OP_MIN, 2,
                                   (Value *[]){t_in(g, DT_INT64, 1, d2, i1), t_in(g, DT_INT64, 1, d2, i2)}, 1));
  assert_true(ir[0] == INT64_MAX - 1);
  assert_true(ir[1] == -6);
  free(ir);
  ir_graph_free(g);
}

static void where_3way(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d21[2] = {2, 1}, d2[1] = {2}, d22[2] = {2, 2};
  uint8_t c[2] = {1, 0};
  int64_t x[2] = {1, 2}, y = 9;
  Node *n = t_node(g, OP_WHERE, 3,
                   (Value *[]){t_in(g, DT_BOOL, 2, d21, c), t_in(g, DT_INT64, 1, d2, x),
                               t_in(g, DT_INT64, 0, NULL, &y)}, 1);
  int64_t *r = t_run_ok(g, n);
  t_assert_shape(n->outputs[0], DT_INT64, 2, d22);
  int64_t want[4] = {1, 2, 9, 9};
  assert_memory_equal(r, want, sizeof want);
  free(r);
  ir_graph_free(g);
}

static void float16_add(void **state) {
  (void)state;
  Graph *g = ir_graph_new("g", "t");
  int64_t d1[1] = {1};
  /* 2048 + 1 in half: 2049 is a tie between 2048 and 2050 -> 2048 (even) */
  uint16_t a = 0x6800, b = 0x3C00, c = 0x4000; /* 2048, 1, 2 */
  uint16_t *r = t_run_ok(g, t_node(g, OP_ADD, 2,
                                   (Value *[]){t_in(g, DT_FLOAT16, 1, d1, &a), t_in(g, DT_FLOAT16, 1, d1, &b)}, 1));
  assert_int_equal(r[0], 0x6800);
  free(r);
  r = t_run_ok(g, t_node(g, OP_ADD, 2,
                         (Value *[]){t_in(g, DT_FLOAT16, 1, d1, &a), t_in(g, DT_FLOAT16, 1, d1, &c)}, 1));
  assert_int_equal(r[0], 0x6801); /* 2050 */
  free(r);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(add_broadcast),
      cmocka_unit_test(shape_and_type_errors),
      cmocka_unit_test(integer_arith),
      cmocka_unit_test(mod_modes),
      cmocka_unit_test(pow_types),
      cmocka_unit_test(comparisons),
      cmocka_unit_test(variadic),
      cmocka_unit_test(where_3way),
      cmocka_unit_test(float16_add),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
