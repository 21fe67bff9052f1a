/*
 * Conv, ConvTranspose and Col2Im: shape rules and kernels against values
 * computed by hand (small inputs whose sums can be checked on paper), the
 * float32 im2col path against a naive loop written here, and malformed
 * attributes that must be refused with a clear reason.
 */
#include "test_ops_spatial_util.h"

/* Conv of x [1, 1, h, w] with one weight [1, 1, kh, kw]; attributes are set
 * by the caller through `setup` before inference. */
typedef void (*SetupFn)(Graph *g, Node *n);

static void conv2d_case(int64_t h, int64_t w, const float *x, int64_t kh, int64_t kw,
                        const float *wt, SetupFn setup, int64_t oh, int64_t ow,
                        const float *want) {
  Graph *g = ir_graph_new("t", "t.onnx");
  int64_t xd[4] = {1, 1, h, w}, wd[4] = {1, 1, kh, kw};
  Value *ins[2] = {sp_value(g, "x", DT_FLOAT32, 4, xd), sp_const(g, "w", DT_FLOAT32, 4, wd, wt)};
  Node *n = sp_node(g, OP_CONV, 2, ins, 1);
  if (setup) setup(g, n);
  float *y = calloc((size_t)(oh * ow), sizeof *y);
  const void *data[2] = {x, NULL};
  void *out[1] = {y};
  sp_run(g, n, 2, data, out);
  int64_t yd[4] = {1, 1, oh, ow};
  sp_assert_shape(n->outputs[0], 4, yd);
  sp_assert_floats(y, want, oh * ow, 1e-5);
  free(y);
  ir_graph_free(g);
}

static void iota(float *p, int n) {
  for (int i = 0; i < n; i++) p[i] = (float)i;
}

static const float ones9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};

static void set_pads1(Graph *g, Node *n) {
  int64_t pads[4] = {1, 1, 1, 1};
  sp_ints(g, n, "pads", 4, pads);
}

/* 3x3 box sums of 0..24 laid out 5x5: e.g. the corner is 0 + 1 + 5 + 6. */
static void conv_box_sums_with_and_without_padding(void **state) {
  (void)state;
  float x[25];
  iota(x, 25);
  const float want_pad[25] = {12, 21, 27,  33,  24,  33, 54,  63,  72,  51,  63,  99, 108,
                              117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
  conv2d_case(5, 5, x, 3, 3, ones9, set_pads1, 5, 5, want_pad);
  const float want_nopad[9] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
  conv2d_case(5, 5, x, 3, 3, ones9, NULL, 3, 3, want_nopad);
}

static void set_strides_asym(Graph *g, Node *n) {
  int64_t pads[4] = {1, 0, 1, 0}, strides[2] = {2, 2};
  sp_ints(g, n, "pads", 4, pads);
  sp_ints(g, n, "strides", 2, strides);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){3, 3});
}

/* x = 0..34 as 7x5, stride 2, one padded row above and below: the first
 * window covers rows 0-1, cols 0-2 (0+1+2+5+6+7 = 21). */
static void conv_strides_asymmetric_pads(void **state) {
  (void)state;
  float x[35];
  iota(x, 35);
  const float want[8] = {21, 33, 99, 117, 189, 207, 171, 183};
  conv2d_case(7, 5, x, 3, 3, ones9, set_strides_asym, 4, 2, want);
}

/* 1-D helper: x [1, c, len], w [m, c/group, k]. */
static Node *conv1d(Graph *g, int64_t c, int64_t len, int64_t m, int64_t cg, int64_t k,
                    const float *w, const float *b) {
  int64_t xd[3] = {1, c, len}, wd[3] = {m, cg, k}, bd[1] = {m};
  Value *ins[3] = {sp_value(g, "x", DT_FLOAT32, 3, xd), sp_const(g, "w", DT_FLOAT32, 3, wd, w),
                   b ? sp_const(g, "b", DT_FLOAT32, 1, bd, b) : NULL};
  return sp_node(g, OP_CONV, b ? 3 : 2, ins, 1);
}

/* w = [1, 0, -1] with dilation 2 computes x[i] - x[i+4] = -4 on 1..7;
 * the bias adds 10. */
static void conv_dilation_and_bias(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  const float x[7] = {1, 2, 3, 4, 5, 6, 7}, w[3] = {1, 0, -1}, b[1] = {10};
  Node *n = conv1d(g, 1, 7, 1, 1, 3, w, b);
  sp_ints(g, n, "dilations", 1, (int64_t[]){2});
  float y[3];
  sp_run(g, n, 3, (const void *[]){x, NULL, NULL}, (void *[]){y});
  sp_assert_shape(n->outputs[0], 3, (int64_t[]){1, 1, 3});
  sp_assert_floats(y, (const float[]){6, 6, 6}, 3, 0);
  ir_graph_free(g);
}

/* Depthwise with multiplier 2: channel 0 = [1,2,3] feeds outputs 0-1,
 * channel 1 = [10,20,30] feeds outputs 2-3. */
static void conv_depthwise_multiplier(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  const float x[6] = {1, 2, 3, 10, 20, 30};
  const float w[8] = {1, 1, 1, -1, 2, 0, 0, 1};
  Node *n = conv1d(g, 2, 3, 4, 1, 2, w, NULL);
  sp_int(g, n, "group", 2);
  float y[8];
  sp_run(g, n, 2, (const void *[]){x, NULL}, (void *[]){y});
  sp_assert_shape(n->outputs[0], 3, (int64_t[]){1, 4, 2});
  sp_assert_floats(y, (const float[]){3, 5, -1, -1, 20, 40, 20, 30}, 8, 0);
  ir_graph_free(g);
}

/* Two groups of two input channels: out0 = x0 + x1, out1 = x2 - x3. */
static void conv_groups(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, -1};
  Node *n = conv1d(g, 4, 1, 2, 2, 1, w, NULL);
  sp_int(g, n, "group", 2);
  float y[2];
  sp_run(g, n, 2, (const void *[]){x, NULL}, (void *[]){y});
  sp_assert_floats(y, (const float[]){3, -1}, 2, 0);
  ir_graph_free(g);
}

/* Kernel [1, 1] over [1,2,3,4] with SAME: the one padded zero goes at the
 * end for SAME_UPPER and at the start for SAME_LOWER. */
static void conv_same_upper_vs_lower(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4}, w[2] = {1, 1};
  const char *modes[2] = {"SAME_UPPER", "SAME_LOWER"};
  const float want[2][4] = {{3, 5, 7, 4}, {1, 3, 5, 7}};
  for (int m = 0; m < 2; m++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    Node *n = conv1d(g, 1, 4, 1, 1, 2, w, NULL);
    sp_str(g, n, "auto_pad", modes[m]);
    float y[4];
    sp_run(g, n, 2, (const void *[]){x, NULL}, (void *[]){y});
    sp_assert_shape(n->outputs[0], 3, (int64_t[]){1, 1, 4});
    sp_assert_floats(y, want[m], 4, 0);
    ir_graph_free(g);
  }
}

/* Output sizes: SAME gives ceil(in / stride); VALID floor((in - k) / s) + 1. */
static void conv_auto_pad_shapes(void **state) {
  (void)state;
  const char *modes[3] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
  const int64_t want[3] = {3, 3, 2};
  for (int m = 0; m < 3; m++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    int64_t xd[4] = {1, 1, 5, 6}, wd[4] = {1, 1, 3, 3};
    Value *ins[2] = {sp_value(g, "x", DT_FLOAT32, 4, xd),
                     sp_const(g, "w", DT_FLOAT32, 4, wd, NULL)};
    Node *n = sp_node(g, OP_CONV, 2, ins, 1);
    sp_str(g, n, "auto_pad", modes[m]);
    sp_ints(g, n, "strides", 2, (int64_t[]){2, 2});
    Error err = {0};
    assert_int_equal(sp_infer(g, n, &err), ST_OK);
    sp_assert_shape(n->outputs[0], 4, (int64_t[]){1, 1, want[m], m < 2 ? 3 : 2});
    ir_graph_free(g);
  }
}

/* Naive 2-D reference written independently of ops/conv.c. */
static void naive_conv2d(const float *x, const float *w, const float *b, float *y, int64_t nb,
                         int64_t c, int64_t h, int64_t wd, int64_t m, int64_t group, int64_t kh,
                         int64_t kw, const int64_t *s, const int64_t *dil, const int64_t *pads,
                         int64_t oh, int64_t ow) {
  int64_t cg = c / group, mg = m / group;
  for (int64_t i = 0; i < nb; i++)
    for (int64_t o = 0; o < m; o++)
      for (int64_t r = 0; r < oh; r++)
        for (int64_t q = 0; q < ow; q++) {
          double acc = b ? b[o] : 0;
          for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t a = 0; a < kh; a++)
              for (int64_t e = 0; e < kw; e++) {
                int64_t yy = r * s[0] - pads[0] + a * dil[0], xx = q * s[1] - pads[1] + e * dil[1];
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                int64_t ch = (o / mg) * cg + ci;
                acc += (double)x[((i * c + ch) * h + yy) * wd + xx] *
                       w[((o * cg + ci) * kh + a) * kw + e];
              }
          y[((i * m + o) * oh + r) * ow + q] = (float)acc;
        }
}

/* The im2col fast path (and the 1x1 shortcut), checked on random data
 * against the naive loop, and the float64 direct path against float32. */
static void conv_fast_path_matches_naive(void **state) {
  (void)state;
  struct {
    int64_t nb, c, h, w, m, group, kh, kw, s[2], dil[2], pads[4];
  } cases[] = {
      {2, 6, 9, 8, 4, 2, 3, 2, {2, 1}, {1, 2}, {1, 0, 2, 1}},
      {1, 4, 7, 7, 4, 4, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}},  /* depthwise */
      {1, 5, 6, 4, 7, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},  /* 1x1 shortcut */
      {1, 3, 30, 31, 9, 1, 5, 5, {2, 3}, {1, 1}, {2, 2, 2, 2}}, /* several tiles */
  };
  for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    int64_t xd[4] = {cases[t].nb, cases[t].c, cases[t].h, cases[t].w};
    int64_t wd[4] = {cases[t].m, cases[t].c / cases[t].group, cases[t].kh, cases[t].kw};
    int64_t nx = xd[0] * xd[1] * xd[2] * xd[3], nw = wd[0] * wd[1] * wd[2] * wd[3];
    float *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
    float b[16];
    sp_fill_random(x, nx, 1 + (uint32_t)t);
    sp_fill_random(w, nw, 100 + (uint32_t)t);
    sp_fill_random(b, cases[t].m, 200 + (uint32_t)t);
    int64_t bd[1] = {cases[t].m};
    Value *ins[3] = {sp_value(g, "x", DT_FLOAT32, 4, xd), sp_const(g, "w", DT_FLOAT32, 4, wd, w),
                     sp_const(g, "b", DT_FLOAT32, 1, bd, b)};
    Node *n = sp_node(g, OP_CONV, 3, ins, 1);
    sp_int(g, n, "group", cases[t].group);
    sp_ints(g, n, "strides", 2, cases[t].s);
    sp_ints(g, n, "dilations", 2, cases[t].dil);
    sp_ints(g, n, "pads", 4, cases[t].pads);
    Error err = {0};
    assert_int_equal(sp_infer(g, n, &err), ST_OK);
    int64_t oh = n->outputs[0]->dims[2], ow = n->outputs[0]->dims[3];
    int64_t ny = ir_value_numel(n->outputs[0]);
    float *y = malloc((size_t)ny * sizeof *y), *ref = malloc((size_t)ny * sizeof *ref);
    sp_run(g, n, 3, (const void *[]){x, NULL, NULL}, (void *[]){y});
    int64_t pads2[2] = {cases[t].pads[0], cases[t].pads[1]};
    naive_conv2d(x, w, b, ref, xd[0], xd[1], xd[2], xd[3], cases[t].m, cases[t].group, wd[2],
                 wd[3], cases[t].s, cases[t].dil, pads2, oh, ow);
    sp_assert_floats(y, ref, ny, 1e-4);

    /* Same node in float64 goes through the direct double loop. */
    double *xd64 = malloc((size_t)nx * sizeof *xd64), *wd64 = malloc((size_t)nw * sizeof *wd64);
    double bd64[16], *y64 = malloc((size_t)ny * sizeof *y64);
    for (int64_t i = 0; i < nx; i++) xd64[i] = x[i];
    for (int64_t i = 0; i < nw; i++) wd64[i] = w[i];
    for (int64_t i = 0; i < cases[t].m; i++) bd64[i] = b[i];
    n->inputs[0] = sp_value(g, "x64", DT_FLOAT64, 4, xd);
    n->inputs[1] = sp_const(g, "w64", DT_FLOAT64, 4, wd, wd64);
    n->inputs[2] = sp_const(g, "b64", DT_FLOAT64, 1, bd, bd64);
    sp_run(g, n, 3, (const void *[]){xd64, NULL, NULL}, (void *[]){y64});
    for (int64_t i = 0; i < ny; i++)
      if (fabs(y64[i] - ref[i]) > 1e-4) fail_msg("f64 element %lld differs", (long long)i);
    free(x);
    free(w);
    free(y);
    free(ref);
    free(xd64);
    free(wd64);
    free(y64);
    ir_graph_free(g);
  }
}

/* 3-D: a 2x2x2 box of ones over 0..26 (3x3x3) sums 8 neighbours. */
static void conv_3d_box(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  float x[27], w[8];
  iota(x, 27);
  for (int i = 0; i < 8; i++) w[i] = 1;
  int64_t xd[5] = {1, 1, 3, 3, 3}, wd[5] = {1, 1, 2, 2, 2};
  Value *ins[2] = {sp_value(g, "x", DT_FLOAT32, 5, xd), sp_const(g, "w", DT_FLOAT32, 5, wd, w)};
  Node *n = sp_node(g, OP_CONV, 2, ins, 1);
  float y[8];
  sp_run(g, n, 2, (const void *[]){x, NULL}, (void *[]){y});
  /* Window at (0,0,0): 0+1+3+4+9+10+12+13 = 52; each step adds 1, 3 or 9 per element. */
  const float want[8] = {52, 60, 76, 84, 124, 132, 148, 156};
  sp_assert_floats(y, want, 8, 0);
  ir_graph_free(g);
}

static Node *bad_conv(Graph *g, int64_t c, int64_t wc) {
  int64_t xd[4] = {1, c, 5, 5}, wd[4] = {4, wc, 3, 3};
  Value *ins[2] = {sp_value(g, "x", DT_FLOAT32, 4, xd), sp_const(g, "w", DT_FLOAT32, 4, wd, NULL)};
  return sp_node(g, OP_CONV, 2, ins, 1);
}

static void conv_malformed_attributes(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = bad_conv(g, 8, 8);
  sp_ints(g, n, "pads", 3, (int64_t[]){1, 1, 1});
  sp_expect_error(g, n, "pads has 3 values, expected 4");
  n = bad_conv(g, 8, 8);
  sp_int(g, n, "group", 3);
  sp_expect_error(g, n, "group 3 does not divide 8 input channels");
  n = bad_conv(g, 8, 8);
  sp_ints(g, n, "kernel_shape", 1, (int64_t[]){3});
  sp_expect_error(g, n, "kernel_shape has 1 values but the input has 2 spatial dims");
  n = bad_conv(g, 8, 8);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){3, 2});
  sp_expect_error(g, n, "kernel_shape[1] is 2 but the weight has 3");
  n = bad_conv(g, 8, 8);
  sp_ints(g, n, "strides", 2, (int64_t[]){0, 1});
  sp_expect_error(g, n, "strides[0] is 0");
  n = bad_conv(g, 8, 8);
  sp_str(g, n, "auto_pad", "SAME");
  sp_expect_error(g, n, "auto_pad 'SAME' is not one of");
  n = bad_conv(g, 8, 4);
  sp_expect_error(g, n, "the weight has 4 input channels per group, expected 8");
  n = bad_conv(g, 8, 8);
  sp_ints(g, n, "dilations", 2, (int64_t[]){3, 3});
  sp_expect_error(g, n, "kernel extent 7 along spatial dim 0 is larger than the padded input (5)");
  ir_graph_free(g);
}

/* ---- ConvTranspose ------------------------------------------------------ */

static Node *deconv1d(Graph *g, int64_t c, int64_t len, int64_t mg, int64_t k, const float *w,
                      const float *b, int64_t group) {
  int64_t xd[3] = {1, c, len}, wd[3] = {c, mg, k}, bd[1] = {mg * group};
  Value *ins[3] = {sp_value(g, "x", DT_FLOAT32, 3, xd), sp_const(g, "w", DT_FLOAT32, 3, wd, w),
                   b ? sp_const(g, "b", DT_FLOAT32, 1, bd, b) : NULL};
  Node *n = sp_node(g, OP_CONV_TRANSPOSE, b ? 3 : 2, ins, 1);
  if (group != 1) sp_int(g, n, "group", group);
  return n;
}

static void deconv_check(Graph *g, Node *n, const float *x, int64_t len, const float *want) {
  float y[32];
  sp_run(g, n, 3, (const void *[]){x, NULL, NULL}, (void *[]){y});
  assert_int_equal(n->outputs[0]->dims[2], len);
  sp_assert_floats(y, want, ir_value_numel(n->outputs[0]), 1e-6);
}

/* Each input spreads itself over 3 outputs: [1,1,1]*1, shifted *2, *3. */
static void deconv_basic_and_pads(void **state) {
  (void)state;
  const float x[3] = {1, 2, 3}, w[3] = {1, 1, 1};
  Graph *g = ir_graph_new("t", "t.onnx");
  deconv_check(g, deconv1d(g, 1, 3, 1, 3, w, NULL, 1), x, 5, (const float[]){1, 3, 6, 5, 3});
  Node *n = deconv1d(g, 1, 3, 1, 3, w, NULL, 1);
  sp_ints(g, n, "pads", 2, (int64_t[]){1, 1});
  deconv_check(g, n, x, 3, (const float[]){3, 6, 5});
  ir_graph_free(g);
}

/* Stride 2, kernel [1,1]: x0 lands on 0-1, x1 on 2-3; output_padding adds
 * an untouched position 4 that holds only the bias.  output_shape [5]
 * must give the same result (the extra room goes at the end). */
static void deconv_output_padding_and_shape(void **state) {
  (void)state;
  const float x[2] = {1, 2}, w[2] = {1, 1}, b[1] = {0.5f};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = deconv1d(g, 1, 2, 1, 2, w, b, 1);
  sp_ints(g, n, "strides", 1, (int64_t[]){2});
  sp_ints(g, n, "output_padding", 1, (int64_t[]){1});
  deconv_check(g, n, x, 5, (const float[]){1.5f, 1.5f, 2.5f, 2.5f, 0.5f});
  n = deconv1d(g, 1, 2, 1, 2, w, b, 1);
  sp_ints(g, n, "strides", 1, (int64_t[]){2});
  sp_ints(g, n, "output_shape", 1, (int64_t[]){5});
  deconv_check(g, n, x, 5, (const float[]){1.5f, 1.5f, 2.5f, 2.5f, 0.5f});
  ir_graph_free(g);
}

/* SAME: output = in * stride = 6 out of the full 7 = [1,1,3,2,5,3,3];
 * SAME_UPPER crops the end, SAME_LOWER the start. */
static void deconv_same_upper_lower(void **state) {
  (void)state;
  const float x[3] = {1, 2, 3}, w[3] = {1, 1, 1};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = deconv1d(g, 1, 3, 1, 3, w, NULL, 1);
  sp_ints(g, n, "strides", 1, (int64_t[]){2});
  sp_str(g, n, "auto_pad", "SAME_UPPER");
  deconv_check(g, n, x, 6, (const float[]){1, 1, 3, 2, 5, 3});
  n = deconv1d(g, 1, 3, 1, 3, w, NULL, 1);
  sp_ints(g, n, "strides", 1, (int64_t[]){2});
  sp_str(g, n, "auto_pad", "SAME_LOWER");
  deconv_check(g, n, x, 6, (const float[]){1, 3, 2, 5, 3, 3});
  ir_graph_free(g);
}

/* group 2: channel 0 scaled by 2, channel 1 by 3. */
static void deconv_groups(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4}, w[2] = {2, 3};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = deconv1d(g, 2, 2, 1, 1, w, NULL, 2);
  deconv_check(g, n, x, 2, (const float[]){2, 4, 9, 12});
  assert_int_equal(n->outputs[0]->dims[1], 2);
  ir_graph_free(g);
}

/* 2-D, dilation 2, kernel of ones: each x(i,j) lands on (i+2a, j+2b). */
static void deconv_dilation_2d(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1};
  int64_t xd[4] = {1, 1, 2, 2};
  Value *ins[2] = {sp_value(g, "x", DT_FLOAT32, 4, xd), sp_const(g, "w", DT_FLOAT32, 4, xd, w)};
  Node *n = sp_node(g, OP_CONV_TRANSPOSE, 2, ins, 1);
  sp_ints(g, n, "dilations", 2, (int64_t[]){2, 2});
  float y[16];
  sp_run(g, n, 2, (const void *[]){x, NULL}, (void *[]){y});
  sp_assert_shape(n->outputs[0], 4, (int64_t[]){1, 1, 4, 4});
  const float want[16] = {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4};
  sp_assert_floats(y, want, 16, 0);
  ir_graph_free(g);
}

static void deconv_malformed(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  const float w[3] = {1, 1, 1};
  Node *n = deconv1d(g, 1, 3, 1, 3, w, NULL, 1);
  sp_ints(g, n, "output_padding", 2, (int64_t[]){1, 1});
  sp_expect_error(g, n, "output_padding has 2 values, expected 1");
  n = deconv1d(g, 1, 3, 1, 3, w, NULL, 1);
  sp_ints(g, n, "pads", 2, (int64_t[]){3, 3});
  sp_expect_error(g, n, "pads along spatial dim 0 exceed the output size 5");
  int64_t xd[3] = {1, 2, 3}, wd[3] = {1, 1, 3};
  Value *ins[2] = {sp_value(g, "x", DT_FLOAT32, 3, xd), sp_const(g, "w", DT_FLOAT32, 3, wd, w)};
  sp_expect_error(g, sp_node(g, OP_CONV_TRANSPOSE, 2, ins, 1),
                  "the weight's first dim is 1, expected the 2 input channels");
  ir_graph_free(g);
}

/* ---- Col2Im --------------------------------------------------------------- */

static Node *col2im(Graph *g, int64_t rows, int64_t blocks, int nsp, const int64_t *image,
                    const int64_t *block) {
  int64_t xd[3] = {1, rows, blocks}, sd[1] = {nsp};
  Value *ins[3] = {sp_value(g, "x", DT_FLOAT32, 3, xd),
                   sp_const(g, "image", DT_INT64, 1, sd, image),
                   sp_const(g, "block", DT_INT64, 1, sd, block)};
  return sp_node(g, OP_COL2IM, 3, ins, 1);
}

/* Image 1x3, block 1x2: block 0 covers columns 0-1, block 1 columns 1-2,
 * so column 1 sums two entries: [1, 10 + 2, 20]. */
static void col2im_overlap_and_strides(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = col2im(g, 2, 2, 2, (const int64_t[]){1, 3}, (const int64_t[]){1, 2});
  float y[4];
  const float x[4] = {1, 2, 10, 20};
  sp_run(g, n, 3, (const void *[]){x, NULL, NULL}, (void *[]){y});
  sp_assert_shape(n->outputs[0], 4, (int64_t[]){1, 1, 1, 3});
  sp_assert_floats(y, (const float[]){1, 12, 20}, 3, 0);
  /* 1-D image of 4 with block 2, stride 2: no overlap, entries interleave. */
  n = col2im(g, 2, 2, 1, (const int64_t[]){4}, (const int64_t[]){2});
  sp_ints(g, n, "strides", 1, (int64_t[]){2});
  const float x2[4] = {1, 2, 3, 4};
  sp_run(g, n, 3, (const void *[]){x2, NULL, NULL}, (void *[]){y});
  sp_assert_floats(y, (const float[]){1, 3, 2, 4}, 4, 0);
  /* 3 blocks do not fit an image of 4 with block 2 and stride 2. */
  n = col2im(g, 2, 3, 1, (const int64_t[]){4}, (const int64_t[]){2});
  sp_ints(g, n, "strides", 1, (int64_t[]){2});
  sp_expect_error(g, n, "input dim 2 is 3 but the image holds 2 blocks");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conv_box_sums_with_and_without_padding),
      cmocka_unit_test(conv_strides_asymmetric_pads),
      cmocka_unit_test(conv_dilation_and_bias),
      cmocka_unit_test(conv_depthwise_multiplier),
      cmocka_unit_test(conv_groups),
      cmocka_unit_test(conv_same_upper_vs_lower),
      cmocka_unit_test(conv_auto_pad_shapes),
      cmocka_unit_test(conv_fast_path_matches_naive),
      cmocka_unit_test(conv_3d_box),
      cmocka_unit_test(conv_malformed_attributes),
      cmocka_unit_test(deconv_basic_and_pads),
      cmocka_unit_test(deconv_output_padding_and_shape),
      cmocka_unit_test(deconv_same_upper_lower),
      cmocka_unit_test(deconv_groups),
      cmocka_unit_test(deconv_dilation_2d),
      cmocka_unit_test(deconv_malformed),
      cmocka_unit_test(col2im_overlap_and_strides),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
