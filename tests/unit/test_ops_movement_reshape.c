/*
 * Unit tests for the shape-only movement ops: Reshape, Flatten, Squeeze,
 * Unsqueeze, Shape, Size, ConstantOfShape and Range.  Expected shapes and
 * values are worked out by hand from the ONNX specs; the error cases check
 * both the Status and the key phrase of the message.
 */
#include "test_ops_movement.h"

static const float iota24[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static void reshape_zero_copies_and_minus_one_infers(void **state) {
  (void)state;
  MCase *c = mc_new(OP_RESHAPE, 2, 1);
  int64_t xd[3] = {2, 3, 4}, shape[2] = {0, -1}, want[2] = {2, 12};
  mc_input(c, 0, DT_FLOAT32, 3, xd, iota24);
  mc_ints(c, 1, 2, shape);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, want);
  mc_assert_f32(c, 0, iota24, 24);
  mc_free(c);

  c = mc_new(OP_RESHAPE, 2, 1);
  int64_t shape2[3] = {4, 0, -1}, want2[3] = {4, 3, 2};
  mc_input(c, 0, DT_FLOAT32, 3, xd, iota24);
  mc_ints(c, 1, 3, shape2);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 3, want2);
  mc_free(c);
}

static void reshape_allowzero_keeps_zero(void **state) {
  (void)state;
  MCase *c = mc_new(OP_RESHAPE, 2, 1);
  int64_t xd[2] = {0, 3}, shape[2] = {3, 0};
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 2, shape);
  mc_attr_int(c, "allowzero", 1);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, shape);
  mc_free(c);

  /* Without allowzero the 0 copies input dim 1 (3): 3*3 != 0 elements. */
  c = mc_new(OP_RESHAPE, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 2, shape);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "cannot reshape");
  mc_free(c);
}

static void reshape_errors(void **state) {
  (void)state;
  int64_t xd[2] = {2, 3};
  MCase *c = mc_new(OP_RESHAPE, 2, 1);
  int64_t bad[2] = {4, 2};
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 2, bad);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "cannot reshape 6 elements");
  mc_free(c);

  c = mc_new(OP_RESHAPE, 2, 1);
  int64_t two[2] = {-1, -1};
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 2, two);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "more than one -1");
  mc_free(c);

  c = mc_new(OP_RESHAPE, 2, 1);
  int64_t sd = 2;
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_input(c, 1, DT_INT64, 1, &sd, NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "input 1 ('shape') must be a constant");
  /* The message is wrapped with node context by ops_infer_node. */
  assert_non_null(strstr(c->err.msg, "Reshape"));
  mc_free(c);
}

static void flatten_axes(void **state) {
  (void)state;
  int64_t xd[3] = {2, 3, 4};
  const struct {
    int64_t axis, d0, d1;
  } cases[] = {{-1, 6, 4}, {0, 1, 24}, {1, 2, 12}, {3, 24, 1}, {-3, 1, 24}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    MCase *c = mc_new(OP_FLATTEN, 1, 1);
    mc_input(c, 0, DT_FLOAT32, 3, xd, iota24);
    mc_attr_int(c, "axis", cases[i].axis);
    assert_int_equal(mc_run(c), ST_OK);
    int64_t want[2] = {cases[i].d0, cases[i].d1};
    mc_assert_dims(c, 0, 2, want);
    mc_assert_f32(c, 0, iota24, 24);
    mc_free(c);
  }
  MCase *c = mc_new(OP_FLATTEN, 1, 1);
  mc_input(c, 0, DT_FLOAT32, 3, xd, iota24);
  mc_attr_int(c, "axis", 4);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "out of range");
  mc_free(c);
}

static void squeeze_and_unsqueeze(void **state) {
  (void)state;
  int64_t xd[4] = {1, 3, 1, 2};
  MCase *c = mc_new(OP_SQUEEZE, 1, 1);
  mc_input(c, 0, DT_FLOAT32, 4, xd, iota24);
  assert_int_equal(mc_run(c), ST_OK);
  int64_t all[2] = {3, 2};
  mc_assert_dims(c, 0, 2, all);
  mc_assert_f32(c, 0, iota24, 6);
  mc_free(c);

  c = mc_new(OP_SQUEEZE, 2, 1);
  int64_t axes[1] = {-2}, want[3] = {1, 3, 2};
  mc_input(c, 0, DT_FLOAT32, 4, xd, iota24);
  mc_ints(c, 1, 1, axes);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 3, want);
  mc_free(c);

  c = mc_new(OP_SQUEEZE, 2, 1);
  int64_t bad[1] = {1};
  mc_input(c, 0, DT_FLOAT32, 4, xd, iota24);
  mc_ints(c, 1, 1, bad);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "size is 3, not 1");
  mc_free(c);

  c = mc_new(OP_UNSQUEEZE, 2, 1);
  int64_t ud[2] = {3, 2}, uaxes[2] = {-1, 0}, uwant[4] = {1, 3, 2, 1};
  mc_input(c, 0, DT_FLOAT32, 2, ud, iota24);
  mc_ints(c, 1, 2, uaxes);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 4, uwant);
  mc_assert_f32(c, 0, iota24, 6);
  mc_free(c);

  c = mc_new(OP_UNSQUEEZE, 2, 1);
  int64_t ad = 1;
  mc_input(c, 0, DT_FLOAT32, 2, ud, iota24);
  mc_input(c, 1, DT_INT64, 1, &ad, NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "must be a constant");
  mc_free(c);

  c = mc_new(OP_UNSQUEEZE, 2, 1);
  int64_t dup[2] = {0, -4};
  mc_input(c, 0, DT_FLOAT32, 2, ud, iota24);
  mc_ints(c, 1, 2, dup);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "repeated");
  mc_free(c);
}

/* Shape and Size must work with in[0] == NULL: they read only the type. */
static void shape_and_size_ignore_data(void **state) {
  (void)state;
  int64_t xd[4] = {2, 3, 4, 5};
  const struct {
    int64_t start, end;
    int len;
    int64_t want[4];
  } cases[] = {{0, 4, 4, {2, 3, 4, 5}}, {1, -1, 2, {3, 4}}, {-10, 2, 2, {2, 3}},
               {-1, 100, 1, {5}},       {3, 1, 0, {0}}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    MCase *c = mc_new(OP_SHAPE, 1, 1);
    mc_input(c, 0, DT_FLOAT32, 4, xd, NULL);
    mc_attr_int(c, "start", cases[i].start);
    mc_attr_int(c, "end", cases[i].end);
    assert_int_equal(mc_run(c), ST_OK);
    assert_int_equal(c->n->outputs[0]->dtype, DT_INT64);
    int64_t len = cases[i].len;
    mc_assert_dims(c, 0, 1, &len);
    mc_assert_i64(c, 0, cases[i].want, cases[i].len);
    mc_free(c);
  }
  MCase *c = mc_new(OP_SIZE, 1, 1);
  mc_input(c, 0, DT_UINT8, 4, xd, NULL);
  assert_int_equal(mc_run(c), ST_OK);
  assert_int_equal(c->n->outputs[0]->rank, 0);
  assert_int_equal(*(int64_t *)c->out[0], 120);
  mc_free(c);

  c = mc_new(OP_SIZE, 1, 1);
  int64_t zd[3] = {2, 0, 3};
  mc_input(c, 0, DT_FLOAT32, 3, zd, NULL);
  assert_int_equal(mc_run(c), ST_OK);
  assert_int_equal(*(int64_t *)c->out[0], 0);
  mc_free(c);
}

static void constant_of_shape_value_and_default(void **state) {
  (void)state;
  MCase *c = mc_new(OP_CONSTANT_OF_SHAPE, 1, 1);
  int64_t shape[2] = {2, 3};
  int32_t seven = 7;
  Tensor t = {.dtype = DT_INT32, .rank = 1, .dims = {1}, .data = &seven};
  Attr a = {.name = "value", .kind = ATTR_TENSOR, .t = &t};
  assert_int_equal(ir_node_set_attr(c->g, c->n, &a, NULL), ST_OK);
  mc_ints(c, 0, 2, shape);
  assert_int_equal(mc_run(c), ST_OK);
  assert_int_equal(c->n->outputs[0]->dtype, DT_INT32);
  mc_assert_dims(c, 0, 2, shape);
  for (int i = 0; i < 6; i++) assert_int_equal(((int32_t *)c->out[0])[i], 7);
  mc_free(c);

  /* Default: float32 zeros; an empty shape gives a scalar. */
  c = mc_new(OP_CONSTANT_OF_SHAPE, 1, 1);
  mc_ints(c, 0, 0, NULL);
  assert_int_equal(mc_run(c), ST_OK);
  assert_int_equal(c->n->outputs[0]->dtype, DT_FLOAT32);
  assert_int_equal(c->n->outputs[0]->rank, 0);
  assert_true(((float *)c->out[0])[0] == 0.0f);
  mc_free(c);

  c = mc_new(OP_CONSTANT_OF_SHAPE, 1, 1);
  int64_t neg[1] = {-2};
  mc_ints(c, 0, 1, neg);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "negative");
  mc_free(c);

  c = mc_new(OP_CONSTANT_OF_SHAPE, 1, 1);
  int64_t one = 1;
  mc_input(c, 0, DT_INT64, 1, &one, NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "must be a constant");
  mc_free(c);
}

static MCase *range_case(DType dt, const void *s, const void *l, const void *d) {
  MCase *c = mc_new(OP_RANGE, 3, 1);
  mc_const(c, 0, dt, 0, NULL, s);
  mc_const(c, 1, dt, 0, NULL, l);
  mc_const(c, 2, dt, 0, NULL, d);
  return c;
}

static void range_all_kinds(void **state) {
  (void)state;
  int32_t s = 10, l = 4, d = -3;
  MCase *c = range_case(DT_INT32, &s, &l, &d);
  assert_int_equal(mc_run(c), ST_OK);
  int64_t two = 2;
  mc_assert_dims(c, 0, 1, &two);
  assert_int_equal(((int32_t *)c->out[0])[0], 10);
  assert_int_equal(((int32_t *)c->out[0])[1], 7);
  mc_free(c);

  /* ceil((2 - 1) / 0.25) = 4 elements. */
  float fs = 1.0f, fl = 2.0f, fd = 0.25f;
  c = range_case(DT_FLOAT32, &fs, &fl, &fd);
  assert_int_equal(mc_run(c), ST_OK);
  const float fwant[4] = {1.0f, 1.25f, 1.5f, 1.75f};
  mc_assert_f32(c, 0, fwant, 4);
  mc_free(c);

  uint8_t us = 250, ul = 255, ud = 2;
  c = range_case(DT_UINT8, &us, &ul, &ud);
  assert_int_equal(mc_run(c), ST_OK);
  const uint8_t uwant[3] = {250, 252, 254};
  assert_int_equal(ir_value_numel(c->n->outputs[0]), 3);
  assert_memory_equal(c->out[0], uwant, 3);
  mc_free(c);

  /* Empty when the direction is wrong. */
  int64_t a = 5, b = 1, one = 1;
  c = range_case(DT_INT64, &a, &b, &one);
  assert_int_equal(mc_run(c), ST_OK);
  assert_int_equal(ir_value_numel(c->n->outputs[0]), 0);
  mc_free(c);
}

static void range_errors(void **state) {
  (void)state;
  int64_t lo = INT64_MIN, hi = INT64_MAX, one = 1, zero = 0;
  MCase *c = range_case(DT_INT64, &lo, &hi, &one);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "2^40");
  mc_free(c);

  c = range_case(DT_INT64, &one, &hi, &zero);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "delta is 0");
  mc_free(c);

  c = mc_new(OP_RANGE, 3, 1);
  mc_input(c, 0, DT_INT64, 0, NULL, NULL);
  mc_const(c, 1, DT_INT64, 0, NULL, &hi);
  mc_const(c, 2, DT_INT64, 0, NULL, &one);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "input 0 ('start') must be a constant");
  mc_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reshape_zero_copies_and_minus_one_infers),
      cmocka_unit_test(reshape_allowzero_keeps_zero),
      cmocka_unit_test(reshape_errors),
      cmocka_unit_test(flatten_axes),
      cmocka_unit_test(squeeze_and_unsqueeze),
      cmocka_unit_test(shape_and_size_ignore_data),
      cmocka_unit_test(constant_of_shape_value_and_default),
      cmocka_unit_test(range_all_kinds),
      cmocka_unit_test(range_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
