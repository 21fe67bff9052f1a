/*
 * Unit tests for ReduceSum/Mean/Max/L2, ArgMax (ops/reduce.c), CumSum
 * (ops/cumsum.c) and TopK (ops/topk.c) on hand-computed values.
 */
#include "test_ops_linalg.h"

/* x[i][j][k] = 1 + 4i + 2j + k, shape [3,2,2]: the numbers 1..12. */
static const float X12[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static Case reduce_case(OpKind op, int naxes, const int64_t *axes, int keepdims) {
  Case c = case_new(op, naxes >= 0 ? 2 : 1, 1, 18);
  case_f32(&c, 0, 3, (int64_t[]){3, 2, 2}, X12);
  if (naxes >= 0) case_const(&c, 1, DT_INT64, 1, (int64_t[]){naxes}, axes);
  case_int(&c, "keepdims", keepdims);
  return c;
}

static void reduce_sum_keepdims(void **state) {
  (void)state;
  Case c = reduce_case(OP_REDUCE_SUM, 1, (int64_t[]){1}, 1);
  case_run(&c);
  assert_shape(&c, 0, 3, (int64_t[]){3, 1, 2});
  assert_f32_near(c.out[0], (float[]){4, 6, 12, 14, 20, 22}, 6, 0);
  case_free(&c);
  c = reduce_case(OP_REDUCE_SUM, 1, (int64_t[]){-1}, 0);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){3, 2});
  assert_f32_near(c.out[0], (float[]){3, 7, 11, 15, 19, 23}, 6, 0);
  case_free(&c);
}

static void reduce_all_and_noop(void **state) {
  (void)state;
  /* axes absent: all axes */
  Case c = reduce_case(OP_REDUCE_MEAN, -1, NULL, 1);
  case_run(&c);
  assert_shape(&c, 0, 3, (int64_t[]){1, 1, 1});
  assert_f32_near(c.out[0], (float[]){6.5f}, 1, 1e-7);
  case_free(&c);
  /* empty axes, noop_with_empty_axes=0: all axes, keepdims 0 -> scalar */
  c = reduce_case(OP_REDUCE_SUM, 0, NULL, 0);
  case_run(&c);
  assert_shape(&c, 0, 0, NULL);
  assert_f32_near(c.out[0], (float[]){78}, 1, 0);
  case_free(&c);
  /* empty axes, noop_with_empty_axes=1: identity */
  c = reduce_case(OP_REDUCE_SUM, 0, NULL, 1);
  case_int(&c, "noop_with_empty_axes", 1);
  case_run(&c);
  assert_shape(&c, 0, 3, (int64_t[]){3, 2, 2});
  assert_f32_near(c.out[0], X12, 12, 0);
  case_free(&c);
}

static void reduce_max_l2(void **state) {
  (void)state;
  Case c = reduce_case(OP_REDUCE_MAX, 2, (int64_t[]){0, -1}, 0);
  case_run(&c);
  assert_shape(&c, 0, 1, (int64_t[]){2});
  assert_f32_near(c.out[0], (float[]){10, 12}, 2, 0);
  case_free(&c);
  c = case_new(OP_REDUCE_L2, 2, 1, 18);
  case_f32(&c, 0, 2, (int64_t[]){2, 2}, (float[]){3, 4, 6, 8});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){5, 10}, 2, 1e-7);
  case_free(&c);
}

static void reduce_empty_set(void **state) {
  (void)state;
  const OpKind ops[3] = {OP_REDUCE_MAX, OP_REDUCE_SUM, OP_REDUCE_L2};
  const float want[3] = {-INFINITY, 0, 0};
  for (int k = 0; k < 3; k++) {
    Case c = case_new(ops[k], 2, 1, 20);
    case_f32(&c, 0, 3, (int64_t[]){2, 0, 4}, NULL);
    case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
    case_run(&c);
    assert_shape(&c, 0, 3, (int64_t[]){2, 1, 4});
    for (int i = 0; i < 8; i++)
      if (((float *)c.out[0])[i] != want[k]) fail_msg("op %d element %d", k, i);
    case_free(&c);
  }
  Case c = case_new(OP_REDUCE_MAX, 2, 1, 20);
  case_const(&c, 0, DT_INT32, 2, (int64_t[]){2, 0}, NULL);
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_run(&c);
  assert_int_equal(((int32_t *)c.out[0])[0], INT32_MIN);
  assert_int_equal(((int32_t *)c.out[0])[1], INT32_MIN);
  case_free(&c);
}

static void reduce_int_and_bool(void **state) {
  (void)state;
  Case c = case_new(OP_REDUCE_SUM, 2, 1, 13);
  case_const(&c, 0, DT_INT64, 2, (int64_t[]){2, 2}, (int64_t[]){1, 2, 3, 4});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_i64_eq(c.out[0], (int64_t[]){4, 6}, 2);
  case_free(&c);
  c = case_new(OP_REDUCE_MEAN, 2, 1, 18);
  case_const(&c, 0, DT_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){1, 2, -3, -6});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_int_equal(((int32_t *)c.out[0])[0], 1);  /* 3/2 truncated */
  assert_int_equal(((int32_t *)c.out[0])[1], -4); /* -9/2 truncated */
  case_free(&c);
  c = case_new(OP_REDUCE_MAX, 2, 1, 20);
  case_const(&c, 0, DT_BOOL, 2, (int64_t[]){3, 2}, (uint8_t[]){0, 1, 0, 0, 1, 1});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_run(&c);
  assert_memory_equal(c.out[0], ((uint8_t[]){1, 0, 1}), 3);
  case_free(&c);
}

static void reduce_bad_axes(void **state) {
  (void)state;
  Error err = {0};
  Case c = reduce_case(OP_REDUCE_SUM, 2, (int64_t[]){1, -2}, 1);
  assert_int_equal(case_infer(&c, &err), ST_INVALID);
  assert_non_null(strstr(err.msg, "repeated"));
  case_free(&c);
  c = reduce_case(OP_REDUCE_SUM, 1, (int64_t[]){3}, 1);
  assert_int_equal(case_infer(&c, &err), ST_INVALID);
  case_free(&c);
  /* axes computed at run time: the output shape is not static */
  c = case_new(OP_REDUCE_SUM, 2, 1, 13);
  case_f32(&c, 0, 3, (int64_t[]){3, 2, 2}, X12);
  case_runtime(&c, 1, DT_INT64, 1, (int64_t[]){1});
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  case_free(&c);
}

/* ---- ArgMax ---- */

static void argmax_cases(void **state) {
  (void)state;
  const float x[6] = {1, 5, 5, 7, 2, 7};
  Case c = case_new(OP_ARG_MAX, 1, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, x);
  case_int(&c, "axis", 1);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){2, 1});
  assert_i64_eq(c.out[0], (int64_t[]){1, 0}, 2);
  case_free(&c);
  c = case_new(OP_ARG_MAX, 1, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, x);
  case_int(&c, "axis", -1);
  case_int(&c, "select_last_index", 1);
  case_run(&c);
  assert_i64_eq(c.out[0], (int64_t[]){2, 2}, 2);
  case_free(&c);
  c = case_new(OP_ARG_MAX, 1, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, x);
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_shape(&c, 0, 1, (int64_t[]){3});
  assert_i64_eq(c.out[0], (int64_t[]){1, 0, 1}, 3);
  case_free(&c);
}

/* ---- CumSum ---- */

static void cumsum_1d_flags(void **state) {
  (void)state;
  const double x[5] = {1, 2, 3, 4, 5};
  const double want[4][5] = {{1, 3, 6, 10, 15},
                             {0, 1, 3, 6, 10},
                             {15, 14, 12, 9, 5},
                             {14, 12, 9, 5, 0}};
  for (int f = 0; f < 4; f++) {
    Case c = case_new(OP_CUM_SUM, 2, 1, 14);
    case_const(&c, 0, DT_FLOAT64, 1, (int64_t[]){5}, x);
    case_const(&c, 1, DT_INT32, 0, NULL, (int32_t[]){0});
    case_int(&c, "exclusive", f & 1);
    case_int(&c, "reverse", f >> 1);
    case_run(&c);
    assert_f64_near(c.out[0], want[f], 5, 0);
    case_free(&c);
  }
}

static void cumsum_2d_runtime_axis(void **state) {
  (void)state;
  const int32_t x[6] = {1, 2, 3, 4, 5, 6};
  const int32_t want0[6] = {1, 2, 3, 5, 7, 9}, want1[6] = {1, 3, 6, 4, 9, 15};
  for (int a = 0; a < 2; a++) {
    Case c = case_new(OP_CUM_SUM, 2, 1, 14);
    case_const(&c, 0, DT_INT32, 2, (int64_t[]){2, 3}, x);
    case_runtime(&c, 1, DT_INT64, 1, (int64_t[]){1});
    int64_t axis = a == 0 ? 0 : -1;
    const void *rt[2] = {NULL, &axis};
    case_run_with(&c, rt);
    assert_memory_equal(c.out[0], a == 0 ? want0 : want1, sizeof want0);
    case_free(&c);
  }
}

/* ---- TopK ---- */

static Case topk_case(DType dt, int rank, const int64_t *dims, const void *x, int64_t k) {
  Case c = case_new(OP_TOP_K, 2, 2, 24);
  case_const(&c, 0, dt, rank, dims, x);
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){k});
  return c;
}

static void topk_ties_and_smallest(void **state) {
  (void)state;
  const float x[4] = {3, 1, 3, 2};
  Case c = topk_case(DT_FLOAT32, 2, (int64_t[]){1, 4}, x, 2);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){1, 2});
  assert_shape(&c, 1, 2, (int64_t[]){1, 2});
  assert_f32_near(c.out[0], (float[]){3, 3}, 2, 0);
  assert_i64_eq(c.out[1], (int64_t[]){0, 2}, 2);
  case_free(&c);
  c = topk_case(DT_FLOAT32, 2, (int64_t[]){1, 4}, x, 3);
  case_int(&c, "largest", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){1, 2, 3}, 3, 0);
  assert_i64_eq(c.out[1], (int64_t[]){1, 3, 0}, 3);
  case_free(&c);
  /* along axis 0 of [[1,6],[5,5],[5,2]] */
  c = topk_case(DT_FLOAT32, 2, (int64_t[]){3, 2}, (float[]){1, 6, 5, 5, 5, 2}, 2);
  case_int(&c, "axis", 0);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){2, 2});
  assert_f32_near(c.out[0], (float[]){5, 6, 5, 5}, 4, 0);
  assert_i64_eq(c.out[1], (int64_t[]){1, 0, 2, 1}, 4);
  case_free(&c);
}

static void topk_uint64_and_errors(void **state) {
  (void)state;
  const uint64_t x[3] = {UINT64_MAX, 1, UINT64_C(1) << 63};
  Case c = topk_case(DT_UINT64, 1, (int64_t[]){3}, x, 2);
  case_run(&c);
  const uint64_t *v = c.out[0];
  assert_true(v[0] == UINT64_MAX && v[1] == UINT64_C(1) << 63);
  assert_i64_eq(c.out[1], (int64_t[]){0, 2}, 2);
  case_free(&c);
  Error err = {0};
  c = topk_case(DT_UINT64, 1, (int64_t[]){3}, x, 4);
  assert_int_equal(case_infer(&c, &err), ST_INVALID);
  case_free(&c);
}

/* ReduceMin and ReduceProd, hand-computed: floats, a NaN that must
 * propagate, wrapping int32 products, unsigned and bool minima, and the
 * empty reduction (identity 1 / +inf). */
static void reduce_min_prod(void **state) {
  (void)state;
  Case c = case_new(OP_REDUCE_MIN, 2, 1, 18);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, (float[]){3, -1, 2, 5, NAN, -7});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_true(((float *)c.out[0])[0] == -1.0f);
  assert_true(isnan(((float *)c.out[0])[1]));
  case_free(&c);
  c = case_new(OP_REDUCE_PROD, 2, 1, 18);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, -0.5f, 4, 2});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){1, 3});
  assert_f32_near(c.out[0], (float[]){-0.5f, 8, 6}, 3, 0);
  case_free(&c);
  c = case_new(OP_REDUCE_PROD, 1, 1, 13); /* no axes: all of them */
  case_const(&c, 0, DT_INT32, 1, (int64_t[]){3}, (int32_t[]){65536, 65536, -3});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_int_equal(((int32_t *)c.out[0])[0], 0); /* 2^32 wraps to 0 in int32 */
  case_free(&c);
  c = case_new(OP_REDUCE_MIN, 2, 1, 18);
  case_const(&c, 0, DT_UINT8, 2, (int64_t[]){2, 2}, (uint8_t[]){200, 255, 7, 9});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_memory_equal(c.out[0], ((uint8_t[]){200, 7}), 2);
  case_free(&c);
  c = case_new(OP_REDUCE_MIN, 2, 1, 20);
  case_const(&c, 0, DT_BOOL, 2, (int64_t[]){3, 2}, (uint8_t[]){0, 1, 1, 1, 1, 0});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_run(&c);
  assert_memory_equal(c.out[0], ((uint8_t[]){0, 1, 0}), 3);
  case_free(&c);
  c = case_new(OP_REDUCE_PROD, 2, 1, 18); /* reducing an empty axis: the identity */
  case_f32(&c, 0, 2, (int64_t[]){2, 0}, (float[]){0});
  case_const(&c, 1, DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  case_int(&c, "keepdims", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){1, 1}, 2, 0);
  case_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reduce_sum_keepdims),   cmocka_unit_test(reduce_all_and_noop),
      cmocka_unit_test(reduce_max_l2),         cmocka_unit_test(reduce_empty_set),
      cmocka_unit_test(reduce_min_prod),
      cmocka_unit_test(reduce_int_and_bool),   cmocka_unit_test(reduce_bad_axes),
      cmocka_unit_test(argmax_cases),          cmocka_unit_test(cumsum_1d_flags),
      cmocka_unit_test(cumsum_2d_runtime_axis), cmocka_unit_test(topk_ties_and_smallest),
      cmocka_unit_test(topk_uint64_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
