/*
 * Unit tests for Slice, Pad, Concat and Split: the clamping rules of Slice
 * (negative steps, out-of-range starts/ends, INT64 extremes), the four Pad
 * modes with negative (cropping) pads, and uneven Split.  Expected values
 * are worked out by hand from the ONNX specs.
 */
#include "test_ops_movement.h"

static const float iota12[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

/* Slices a 1-D float tensor of `len` iota values along axis 0. */
static MCase *slice1(int64_t len, int64_t start, int64_t end, int64_t step) {
  MCase *c = mc_new(OP_SLICE, 5, 1);
  int64_t axis = 0;
  mc_input(c, 0, DT_FLOAT32, 1, &len, iota12);
  mc_ints(c, 1, 1, &start);
  mc_ints(c, 2, 1, &end);
  mc_ints(c, 3, 1, &axis);
  mc_ints(c, 4, 1, &step);
  return c;
}

static void slice_clamping_and_negative_steps(void **state) {
  (void)state;
  const struct {
    int64_t start, end, step;
    int count;
    float want[5];
  } cases[] = {
      {1, 3, 1, 2, {1, 2}},
      {-1, -6, -1, 5, {4, 3, 2, 1, 0}},           /* end -6+5 = -1: runs through index 0 */
      {INT64_MAX, INT64_MIN, -2, 3, {4, 2, 0}},   /* start clamps to 4, end to -1 */
      {10, 20, 1, 0, {0}},                        /* start beyond the end: empty */
      {-100, 2, 1, 2, {0, 1}},                    /* start clamps to 0 */
      {0, INT64_MAX, 3, 2, {0, 3}},
      {3, 0, 1, 0, {0}},                          /* backwards with a positive step */
      {4, 100, -1, 0, {0}},                       /* end clamps to 4 with step < 0 */
      {2, INT64_MIN, INT64_MIN, 1, {2}},          /* huge negative step: one element */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    MCase *c = slice1(5, cases[i].start, cases[i].end, cases[i].step);
    if (mc_run(c) != ST_OK) fail_msg("case %zu: %s", i, c->err.msg);
    int64_t d = cases[i].count;
    mc_assert_dims(c, 0, 1, &d);
    mc_assert_f32(c, 0, cases[i].want, cases[i].count);
    mc_free(c);
  }
}

static void slice_2d_negative_axes_and_defaults(void **state) {
  (void)state;
  int64_t xd[2] = {3, 4};
  /* No axes and no steps: starts/ends apply to axes 0, 1. */
  MCase *c = mc_new(OP_SLICE, 3, 1);
  int64_t s[2] = {1, 0}, e[2] = {3, 3};
  mc_input(c, 0, DT_FLOAT32, 2, xd, iota12);
  mc_ints(c, 1, 2, s);
  mc_ints(c, 2, 2, e);
  assert_int_equal(mc_run(c), ST_OK);
  const float want[6] = {4, 5, 6, 8, 9, 10};
  mc_assert_f32(c, 0, want, 6);
  mc_free(c);

  /* axes [-1], steps [-2]: columns 3 and 1 of every row. */
  c = mc_new(OP_SLICE, 5, 1);
  int64_t s2 = -1, e2 = INT64_MIN, ax = -1, st = -2;
  mc_input(c, 0, DT_FLOAT32, 2, xd, iota12);
  mc_ints(c, 1, 1, &s2);
  mc_ints(c, 2, 1, &e2);
  mc_ints(c, 3, 1, &ax);
  mc_ints(c, 4, 1, &st);
  assert_int_equal(mc_run(c), ST_OK);
  int64_t wd[2] = {3, 2};
  mc_assert_dims(c, 0, 2, wd);
  const float want2[6] = {3, 1, 7, 5, 11, 9};
  mc_assert_f32(c, 0, want2, 6);
  mc_free(c);
}

static void slice_zero_sized_and_errors(void **state) {
  (void)state;
  int64_t xd[2] = {0, 3};
  MCase *c = mc_new(OP_SLICE, 5, 1);
  int64_t s = 0, e = 1, ax = 0, st = -1;
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 1, &s);
  mc_ints(c, 2, 1, &e);
  mc_ints(c, 3, 1, &ax);
  mc_ints(c, 4, 1, &st);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, xd);
  mc_free(c);

  c = slice1(5, 0, 3, 0);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "steps[0] is 0");
  mc_free(c);

  c = mc_new(OP_SLICE, 3, 1);
  int64_t len = 5, one = 1;
  mc_input(c, 0, DT_FLOAT32, 1, &len, iota12);
  mc_input(c, 1, DT_INT64, 1, &one, NULL);
  mc_ints(c, 2, 1, &one);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "input 1 ('starts') must be a constant");
  mc_free(c);
}

/* A dim after a 0 may be as large as INT64_MAX (the tensor is still empty):
 * shape rules must do their arithmetic without overflowing (UBSan checks). */
static void huge_dims_beside_zero(void **state) {
  (void)state;
  int64_t xd[2] = {0, INT64_MAX};
  MCase *c = mc_new(OP_SLICE, 5, 1);
  int64_t s = 0, e = INT64_MAX, ax = 1, st = 2;
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 1, &s);
  mc_ints(c, 2, 1, &e);
  mc_ints(c, 3, 1, &ax);
  mc_ints(c, 4, 1, &st);
  assert_int_equal(mc_run(c), ST_OK);
  int64_t want[2] = {0, INT64_MAX / 2 + 1};
  mc_assert_dims(c, 0, 2, want);
  mc_free(c);

  c = mc_new(OP_SPLIT, 1, 2);
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_attr_int(c, "axis", 1);
  mc_attr_int(c, "num_outputs", 2);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "2^40");
  mc_free(c);

  int64_t pads[4] = {0, 1, 0, 1};
  c = mc_new(OP_PAD, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, xd, NULL);
  mc_ints(c, 1, 4, pads);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "too large");
  mc_free(c);
}

static MCase *pad_case(int rank, const int64_t *xd, const float *x, const char *mode,
                       int npads, const int64_t *pads) {
  MCase *c = mc_new(OP_PAD, 2, 1);
  mc_input(c, 0, DT_FLOAT32, rank, xd, x);
  mc_ints(c, 1, npads, pads);
  mc_attr_string(c, "mode", mode);
  return c;
}

static void pad_modes(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4};
  int64_t xd[2] = {1, 4}, pads[4] = {0, 2, 0, 1}, wd[2] = {1, 7};
  const struct {
    const char *mode;
    float want[7];
  } cases[] = {
      {"constant", {0, 0, 1, 2, 3, 4, 0}},
      {"reflect", {3, 2, 1, 2, 3, 4, 3}},
      {"edge", {1, 1, 1, 2, 3, 4, 4}},
      {"wrap", {3, 4, 1, 2, 3, 4, 1}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    MCase *c = pad_case(2, xd, x, cases[i].mode, 4, pads);
    if (mc_run(c) != ST_OK) fail_msg("%s: %s", cases[i].mode, c->err.msg);
    mc_assert_dims(c, 0, 2, wd);
    mc_assert_f32(c, 0, cases[i].want, 7);
    mc_free(c);
  }
}

static void pad_constant_value_and_axes(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4};
  int64_t xd[2] = {2, 2}, pads[4] = {1, 0, 0, 1};
  MCase *c = mc_new(OP_PAD, 3, 1);
  float nine = 9;
  mc_input(c, 0, DT_FLOAT32, 2, xd, x);
  mc_ints(c, 1, 4, pads);
  mc_input(c, 2, DT_FLOAT32, 0, NULL, &nine); /* the value need not be constant */
  assert_int_equal(mc_run(c), ST_OK);
  const float want[9] = {9, 9, 9, 1, 2, 9, 3, 4, 9};
  mc_assert_f32(c, 0, want, 9);
  mc_free(c);

  /* axes [-1] pads only the last axis: [[0,1,2,0],[0,3,4,0]]. */
  c = mc_new(OP_PAD, 4, 1);
  int64_t p2[2] = {1, 1}, ax = -1, wd[2] = {2, 4};
  mc_input(c, 0, DT_FLOAT32, 2, xd, x);
  mc_ints(c, 1, 2, p2);
  mc_ints(c, 3, 1, &ax);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, wd);
  const float want2[8] = {0, 1, 2, 0, 0, 3, 4, 0};
  mc_assert_f32(c, 0, want2, 8);
  mc_free(c);
}

/* Negative pads crop first; the padding then extends the cropped data. */
static void pad_negative_crops(void **state) {
  (void)state;
  const float x[5] = {1, 2, 3, 4, 5};
  int64_t len = 5, pads[2] = {-1, 2};
  MCase *c = pad_case(1, &len, x, "constant", 2, pads);
  assert_int_equal(mc_run(c), ST_OK);
  const float want[6] = {2, 3, 4, 5, 0, 0};
  mc_assert_f32(c, 0, want, 6);
  mc_free(c);

  c = pad_case(1, &len, x, "wrap", 2, pads);
  assert_int_equal(mc_run(c), ST_OK);
  const float wantw[6] = {2, 3, 4, 5, 2, 3};
  mc_assert_f32(c, 0, wantw, 6);
  mc_free(c);

  int64_t both[2] = {-2, -1};
  c = pad_case(1, &len, x, "reflect", 2, both);
  assert_int_equal(mc_run(c), ST_OK);
  const float wantc[2] = {3, 4};
  mc_assert_f32(c, 0, wantc, 2);
  mc_free(c);

  /* Constant padding of an empty input: all fill. */
  int64_t zd[2] = {0, 2}, zp[4] = {1, 0, 0, 0}, zw[2] = {1, 2};
  c = pad_case(2, zd, NULL, "constant", 4, zp);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, zw);
  const float zeros[2] = {0, 0};
  mc_assert_f32(c, 0, zeros, 2);
  mc_free(c);
}

static void pad_errors(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4};
  int64_t len = 4, big[2] = {4, 0};
  MCase *c = pad_case(1, &len, x, "reflect", 2, big);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "reflect pads");
  mc_free(c);

  int64_t three[3] = {1, 1, 1};
  c = pad_case(1, &len, x, "constant", 3, three);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "pads has 3 values, expected 2");
  mc_free(c);

  int64_t over[2] = {-3, -2};
  c = pad_case(1, &len, x, "constant", 2, over);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "crop more than");
  mc_free(c);

  int64_t zd[1] = {0}, p[2] = {1, 0};
  c = pad_case(1, zd, NULL, "edge", 2, p);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "no data left");
  mc_free(c);

  c = mc_new(OP_PAD, 2, 1);
  int64_t two = 2;
  mc_input(c, 0, DT_FLOAT32, 1, &len, x);
  mc_input(c, 1, DT_INT64, 1, &two, NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "input 1 ('pads') must be a constant");
  mc_free(c);
}

static void concat_negative_axis_and_empty_input(void **state) {
  (void)state;
  MCase *c = mc_new(OP_CONCAT, 3, 1);
  const float a[2] = {1, 2}, b[4] = {3, 4, 5, 6};
  int64_t ad[2] = {2, 1}, bd[2] = {2, 2}, zd[2] = {2, 0}, wd[2] = {2, 3};
  mc_input(c, 0, DT_FLOAT32, 2, ad, a);
  mc_input(c, 1, DT_FLOAT32, 2, zd, NULL);
  mc_input(c, 2, DT_FLOAT32, 2, bd, b);
  mc_attr_int(c, "axis", -1);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, wd);
  const float want[6] = {1, 3, 4, 2, 5, 6};
  mc_assert_f32(c, 0, want, 6);
  mc_free(c);

  c = mc_new(OP_CONCAT, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, ad, a);
  mc_input(c, 1, DT_FLOAT32, 2, bd, b);
  mc_attr_int(c, "axis", 0);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "dimension 1");
  mc_free(c);
}

static void split_modes(void **state) {
  (void)state;
  /* num_outputs 3 on 7 elements: chunks of ceil(7/3) = 3, the last one 1. */
  int64_t len = 7;
  MCase *c = mc_new(OP_SPLIT, 1, 3);
  mc_input(c, 0, DT_FLOAT32, 1, &len, iota12);
  mc_attr_int(c, "num_outputs", 3);
  assert_int_equal(mc_run(c), ST_OK);
  const float w0[3] = {0, 1, 2}, w1[3] = {3, 4, 5}, w2[1] = {6};
  mc_assert_f32(c, 0, w0, 3);
  mc_assert_f32(c, 1, w1, 3);
  mc_assert_f32(c, 2, w2, 1);
  mc_free(c);

  /* Explicit sizes with a zero-sized part, along axis -1 of [2, 5]. */
  int64_t xd[2] = {2, 5}, sizes[3] = {2, 0, 3};
  c = mc_new(OP_SPLIT, 2, 3);
  mc_input(c, 0, DT_FLOAT32, 2, xd, iota12);
  mc_ints(c, 1, 3, sizes);
  mc_attr_int(c, "axis", -1);
  assert_int_equal(mc_run(c), ST_OK);
  int64_t d1[2] = {2, 0};
  mc_assert_dims(c, 1, 2, d1);
  const float a0[4] = {0, 1, 5, 6}, a2[6] = {2, 3, 4, 7, 8, 9};
  mc_assert_f32(c, 0, a0, 4);
  mc_assert_f32(c, 2, a2, 6);
  mc_free(c);

  /* Equal parts by output count (the pre-opset-18 form). */
  int64_t ed[2] = {2, 4};
  c = mc_new(OP_SPLIT, 1, 2);
  mc_input(c, 0, DT_FLOAT32, 2, ed, iota12);
  mc_attr_int(c, "axis", 1);
  assert_int_equal(mc_run(c), ST_OK);
  const float e0[4] = {0, 1, 4, 5}, e1[4] = {2, 3, 6, 7};
  mc_assert_f32(c, 0, e0, 4);
  mc_assert_f32(c, 1, e1, 4);
  mc_free(c);

  int64_t badsum[2] = {3, 3};
  c = mc_new(OP_SPLIT, 2, 2);
  mc_input(c, 0, DT_FLOAT32, 1, &len, iota12);
  mc_ints(c, 1, 2, badsum);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "split sums to 6");
  mc_free(c);

  c = mc_new(OP_SPLIT, 2, 2);
  int64_t two = 2;
  mc_input(c, 0, DT_FLOAT32, 1, &len, iota12);
  mc_input(c, 1, DT_INT64, 1, &two, NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "must be a constant");
  mc_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(slice_clamping_and_negative_steps),
      cmocka_unit_test(slice_2d_negative_axes_and_defaults),
      cmocka_unit_test(slice_zero_sized_and_errors),
      cmocka_unit_test(huge_dims_beside_zero),
      cmocka_unit_test(pad_modes),
      cmocka_unit_test(pad_constant_value_and_axes),
      cmocka_unit_test(pad_negative_crops),
      cmocka_unit_test(pad_errors),
      cmocka_unit_test(concat_negative_axis_and_empty_input),
      cmocka_unit_test(split_modes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
