/*
 * Resize against hand-computed values: nearest and linear under several
 * coordinate transformation modes, nearest rounding modes, cubic on a ramp,
 * antialiased downsampling, tf_crop_and_resize extrapolation, sizes with
 * keep_aspect_ratio_policy, axes, the opset < 11 (Resize-10 / Upsample)
 * rules, and malformed inputs.
 */
#include "test_ops_spatial_util.h"

typedef struct Rs {
  Graph *g;
  Node *n;
} Rs;

/* Resize of x (rank, dims) with constant scales (ns values) or sizes. */
static Rs resize_node(int rank, const int64_t *dims, const float *scales, int ns,
                      const int64_t *sizes, int nsz, const char *mode, const char *coord) {
  Rs r;
  r.g = ir_graph_new("t", "t.onnx");
  int64_t sd[1] = {scales ? ns : nsz};
  Value *ins[4] = {sp_value(r.g, "x", DT_FLOAT32, rank, dims), NULL,
                   scales ? sp_const(r.g, "scales", DT_FLOAT32, 1, sd, scales) : NULL,
                   sizes ? sp_const(r.g, "sizes", DT_INT64, 1, sd, sizes) : NULL};
  r.n = sp_node(r.g, OP_RESIZE, sizes ? 4 : 3, ins, 1);
  if (mode) sp_str(r.g, r.n, "mode", mode);
  if (coord) sp_str(r.g, r.n, "coordinate_transformation_mode", coord);
  return r;
}

static void rs_check(Rs r, const float *x, int64_t out_len, const float *want) {
  float y[64];
  sp_run(r.g, r.n, 4, (const void *[]){x, NULL, NULL, NULL}, (void *[]){y});
  assert_int_equal(ir_value_numel(r.n->outputs[0]), out_len);
  sp_assert_floats(y, want, out_len, 1e-5);
  ir_graph_free(r.g);
}

/* half_pixel maps outputs 0..3 to -0.25, 0.25, 0.75, 1.25; round_prefer_floor
 * picks 0, 0, 1, 1 on each axis. */
static void nearest_upsample_half_pixel(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4};
  Rs r = resize_node(4, (int64_t[]){1, 1, 2, 2}, (const float[]){1, 1, 2, 2}, 4, NULL, 0, NULL,
                     NULL);
  const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  rs_check(r, x, 16, want);
}

/* [10,20] at scale 4, asymmetric: x / 4 = 0, .25, .5, .75, 1, 1.25, 1.5,
 * 1.75 (indices past 1 clamp); each rounding mode differs somewhere. */
static void nearest_modes_asymmetric(void **state) {
  (void)state;
  const float x[2] = {10, 20};
  const char *modes[4] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const float want[4][8] = {{10, 10, 10, 20, 20, 20, 20, 20},
                            {10, 10, 20, 20, 20, 20, 20, 20},
                            {10, 10, 10, 10, 20, 20, 20, 20},
                            {10, 20, 20, 20, 20, 20, 20, 20}};
  for (int m = 0; m < 4; m++) {
    Rs r = resize_node(1, (int64_t[]){2}, (const float[]){4}, 1, NULL, 0, "nearest",
                       "asymmetric");
    sp_str(r.g, r.n, "nearest_mode", modes[m]);
    rs_check(r, x, 8, want[m]);
  }
}

/* [1,3] doubled.  half_pixel: -0.25 (clamps to 1), 0.25, 0.75, 1.25 (clamps
 * to 3); asymmetric: 0, 0.5, 1, 1.5; align_corners with 3 outputs: 0, 0.5, 1;
 * pytorch_half_pixel with a single output reads index 0. */
static void linear_coordinate_modes(void **state) {
  (void)state;
  const float x[2] = {1, 3};
  Rs r = resize_node(1, (int64_t[]){2}, (const float[]){2}, 1, NULL, 0, "linear", NULL);
  rs_check(r, x, 4, (const float[]){1, 1.5f, 2.5f, 3});
  r = resize_node(1, (int64_t[]){2}, (const float[]){2}, 1, NULL, 0, "linear", "asymmetric");
  rs_check(r, x, 4, (const float[]){1, 2, 3, 3});
  r = resize_node(1, (int64_t[]){2}, NULL, 0, (const int64_t[]){3}, 1, "linear", "align_corners");
  rs_check(r, x, 3, (const float[]){1, 2, 3});
  r = resize_node(1, (int64_t[]){2}, NULL, 0, (const int64_t[]){1}, 1, "linear",
                  "pytorch_half_pixel");
  rs_check(r, x, 1, (const float[]){1});
  r = resize_node(1, (int64_t[]){2}, NULL, 0, (const int64_t[]){1}, 1, "linear", "half_pixel");
  rs_check(r, x, 1, (const float[]){2});
}

/* Bilinear on a 2x2 plane, half_pixel, scale 2: the inner outputs sit a
 * quarter of the way between inputs. */
static void linear_2d(void **state) {
  (void)state;
  const float x[4] = {0, 4, 8, 12};
  Rs r = resize_node(4, (int64_t[]){1, 1, 2, 2}, (const float[]){1, 1, 2, 2}, 4, NULL, 0, "linear",
                     NULL);
  /* Per axis the weights are 1, .75/.25, .25/.75, 1: rows add 0, 2, 6, 8,
   * columns 0, 1, 3, 4. */
  const float want[16] = {0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12};
  rs_check(r, x, 16, want);
}

/* Output 4 of 0..7 doubled (half_pixel) maps to 4.5 / 2 - 0.5 = 1.75: taps
 * 0..3 at distances 1.75, .75, .25, 1.25.  With a = -0.75 the weights are
 * -0.03515625, 0.26171875, 0.87890625, -0.10546875, giving 1.703125; with
 * a = -0.5 cubic convolution reproduces the ramp away from the edges. */
static void cubic_on_ramp(void **state) {
  (void)state;
  const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int keys = 0; keys < 2; keys++) {
    Rs r = resize_node(1, (int64_t[]){8}, (const float[]){2}, 1, NULL, 0, "cubic", NULL);
    if (keys) sp_float(r.g, r.n, "cubic_coeff_a", -0.5f);
    float y[16];
    sp_run(r.g, r.n, 3, (const void *[]){x, NULL, NULL}, (void *[]){y});
    if (!keys) {
      sp_assert_floats(y + 4, (const float[]){1.703125f}, 1, 1e-6);
    } else {
      for (int o = 4; o < 12; o++)
        if (fabs(y[o] - ((o + 0.5) / 2 - 0.5)) > 1e-5) fail_msg("output %d is %g", o, y[o]);
    }
    ir_graph_free(r.g);
  }
}

/* Antialiased linear at scale 0.5 widens the triangle to 4 taps with
 * weights 1/8, 3/8, 3/8, 1/8 around 2o + 0.5; output 0 clamps its first tap. */
static void antialias_linear_downsample(void **state) {
  (void)state;
  const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  Rs r = resize_node(1, (int64_t[]){8}, (const float[]){0.5f}, 1, NULL, 0, "linear", NULL);
  sp_int(r.g, r.n, "antialias", 1);
  rs_check(r, x, 4, (const float[]){0.625f, 2.5f, 4.5f, 6.375f});
}

/* roi [0.5, 1] of [0..4] into 3 samples: 2, 3, 4; widening the roi to
 * [0.5, 1.5] pushes the last samples past the edge -> extrapolation_value. */
static void tf_crop_and_resize_extrapolation(void **state) {
  (void)state;
  const float x[5] = {0, 1, 2, 3, 4};
  for (int wide = 0; wide < 2; wide++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    int64_t xd[1] = {5}, rd[1] = {2}, sd[1] = {1}, size = 3;
    const float roi[2] = {0.5f, wide ? 1.5f : 1.0f};
    Value *ins[4] = {sp_value(g, "x", DT_FLOAT32, 1, xd), sp_const(g, "roi", DT_FLOAT32, 1, rd, roi),
                     NULL, sp_const(g, "sizes", DT_INT64, 1, sd, &size)};
    Node *n = sp_node(g, OP_RESIZE, 4, ins, 1);
    sp_str(g, n, "mode", "linear");
    sp_str(g, n, "coordinate_transformation_mode", "tf_crop_and_resize");
    sp_float(g, n, "extrapolation_value", -1);
    float y[3];
    sp_run(g, n, 4, (const void *[]){x, NULL, NULL, NULL}, (void *[]){y});
    const float want[2][3] = {{2, 3, 4}, {2, 4, -1}};
    sp_assert_floats(y, want[wide], 3, 1e-6);
    ir_graph_free(g);
  }
}

/* sizes [4, 4] for a 2x4 input: not_larger keeps the aspect ratio with
 * scale min(2, 1) = 1 (2x4); not_smaller uses 2 (4x8). */
static void keep_aspect_ratio_policy(void **state) {
  (void)state;
  const char *policy[2] = {"not_larger", "not_smaller"};
  const int64_t want[2][2] = {{2, 4}, {4, 8}};
  for (int p = 0; p < 2; p++) {
    Rs r = resize_node(2, (int64_t[]){2, 4}, NULL, 0, (const int64_t[]){4, 4}, 2, NULL, NULL);
    sp_str(r.g, r.n, "keep_aspect_ratio_policy", policy[p]);
    Error err = {0};
    assert_int_equal(sp_infer(r.g, r.n, &err), ST_OK);
    sp_assert_shape(r.n->outputs[0], 2, want[p]);
    ir_graph_free(r.g);
  }
}

/* axes [2] resizes only the last axis of [1, 1, 2]. */
static void axes_subset(void **state) {
  (void)state;
  const float x[2] = {5, 7};
  Rs r = resize_node(3, (int64_t[]){1, 1, 2}, (const float[]){2}, 1, NULL, 0, NULL, NULL);
  sp_ints(r.g, r.n, "axes", 1, (int64_t[]){-1});
  rs_check(r, x, 4, (const float[]){5, 5, 7, 7});
}

/* opset 9 (Upsample turned Resize): asymmetric; nearest floors when
 * upsampling (scale 3: 0, .33, .67, 1, ...) and ceils when downsampling
 * (scale 0.6 over 4: x = 0, 1.67 -> 0, 2). */
static void legacy_opset_nearest(void **state) {
  (void)state;
  const float x2[2] = {1, 2};
  Rs r = resize_node(1, (int64_t[]){2}, (const float[]){3}, 1, NULL, 0, "nearest", NULL);
  r.n->opset = 9;
  rs_check(r, x2, 6, (const float[]){1, 1, 1, 2, 2, 2});
  const float x4[4] = {1, 2, 3, 4};
  r = resize_node(1, (int64_t[]){4}, (const float[]){0.6f}, 1, NULL, 0, "nearest", NULL);
  r.n->opset = 10;
  rs_check(r, x4, 2, (const float[]){1, 3});
  /* Linear ("bilinear" from Upsample) is asymmetric too: 0, .5, 1, 1.5. */
  const float x13[2] = {1, 3};
  r = resize_node(1, (int64_t[]){2}, (const float[]){2}, 1, NULL, 0, "bilinear", NULL);
  r.n->opset = 9;
  rs_check(r, x13, 4, (const float[]){1, 2, 3, 3});
}

/* Nearest copies bytes, so int64 values beyond 2^53 survive exactly. */
static void nearest_int64_exact(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  int64_t xd[1] = {2}, sd[1] = {1};
  const float scale = 2;
  Value *ins[3] = {sp_value(g, "x", DT_INT64, 1, xd), NULL,
                   sp_const(g, "scales", DT_FLOAT32, 1, sd, &scale)};
  Node *n = sp_node(g, OP_RESIZE, 3, ins, 1);
  const int64_t x[2] = {((int64_t)1 << 60) + 1, -3};
  int64_t y[4];
  sp_run(g, n, 3, (const void *[]){x, NULL, NULL}, (void *[]){y});
  assert_true(y[0] == x[0] && y[1] == x[0] && y[2] == x[1] && y[3] == x[1]);
  ir_graph_free(g);
}

static void resize_malformed(void **state) {
  (void)state;
  Rs r = resize_node(1, (int64_t[]){2}, (const float[]){2}, 1, NULL, 0, "area", NULL);
  sp_expect_error(r.g, r.n, "mode 'area' is not supported");
  ir_graph_free(r.g);
  r = resize_node(2, (int64_t[]){2, 2}, (const float[]){2}, 1, NULL, 0, NULL, NULL);
  sp_expect_error(r.g, r.n, "scales has 1 values, expected 2");
  ir_graph_free(r.g);
  r = resize_node(1, (int64_t[]){2}, (const float[]){-1}, 1, NULL, 0, NULL, NULL);
  sp_expect_error(r.g, r.n, "scales[0] is -1, expected a positive number");
  ir_graph_free(r.g);
  r = resize_node(1, (int64_t[]){2}, NULL, 0, (const int64_t[]){4}, 1, NULL, "tf_crop_and_resize");
  sp_expect_error(r.g, r.n, "tf_crop_and_resize needs the roi input");
  ir_graph_free(r.g);
  r = resize_node(2, (int64_t[]){2, 2}, (const float[]){2}, 1, NULL, 0, NULL, NULL);
  sp_ints(r.g, r.n, "axes", 2, (int64_t[]){1, -1});
  sp_expect_error(r.g, r.n, "axis 1 is repeated in axes");
  ir_graph_free(r.g);
  /* scales computed at run time cannot give a static shape. */
  Graph *g = ir_graph_new("t", "t.onnx");
  int64_t xd[1] = {2}, sd[1] = {1};
  Value *ins[3] = {sp_value(g, "x", DT_FLOAT32, 1, xd), NULL,
                   sp_value(g, "scales", DT_FLOAT32, 1, sd)};
  sp_expect_error(g, sp_node(g, OP_RESIZE, 3, ins, 1), "scales must be a constant");
  /* Neither scales nor sizes. */
  Value *only[1] = {ins[0]};
  sp_expect_error(g, sp_node(g, OP_RESIZE, 1, only, 1), "exactly one of scales and sizes");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(nearest_upsample_half_pixel),
      cmocka_unit_test(nearest_modes_asymmetric),
      cmocka_unit_test(linear_coordinate_modes),
      cmocka_unit_test(linear_2d),
      cmocka_unit_test(cubic_on_ramp),
      cmocka_unit_test(antialias_linear_downsample),
      cmocka_unit_test(tf_crop_and_resize_extrapolation),
      cmocka_unit_test(keep_aspect_ratio_policy),
      cmocka_unit_test(axes_subset),
      cmocka_unit_test(legacy_opset_nearest),
      cmocka_unit_test(nearest_int64_exact),
      cmocka_unit_test(resize_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
