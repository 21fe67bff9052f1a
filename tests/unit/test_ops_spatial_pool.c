/*
 * AveragePool, MaxPool (values and Indices), GlobalAveragePool and
 * GlobalMaxPool against hand-computed windows: ceil_mode (including the
 * dropped window that would start in the end padding), count_include_pad,
 * SAME_UPPER vs SAME_LOWER, dilations, int8/uint8, and malformed
 * attributes.
 */
#include "test_ops_spatial_util.h"

/* A pool node on x [1, c, len] (1-D) with kernel k and stride s. */
static Node *pool1d(Graph *g, OpKind op, DType dt, int64_t c, int64_t len, int64_t k, int64_t s) {
  int64_t xd[3] = {1, c, len};
  Value *ins[1] = {sp_value(g, "x", dt, 3, xd)};
  Node *n = sp_node(g, op, 1, ins, 1);
  sp_ints(g, n, "kernel_shape", 1, &k);
  sp_ints(g, n, "strides", 1, &s);
  return n;
}

static void run_check(Graph *g, Node *n, const float *x, int64_t out_len, const float *want) {
  float y[16];
  sp_run(g, n, 1, (const void *[]){x}, (void *[]){y});
  assert_int_equal(n->outputs[0]->dims[2], out_len);
  sp_assert_floats(y, want, ir_value_numel(n->outputs[0]), 1e-6);
}

/* 2x2 windows, stride 2, over a 4x4 plane; a second channel (+100) checks
 * that Indices count from the start of the whole tensor. */
static void maxpool_indices_row_and_column_major(void **state) {
  (void)state;
  const float plane[16] = {1, 5, 2, 0, 3, 4, 8, 7, 9, 0, 1, 1, 2, 6, 3, 10};
  float x[32];
  for (int i = 0; i < 16; i++) {
    x[i] = plane[i];
    x[16 + i] = plane[i] + 100;
  }
  for (int order = 0; order < 2; order++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    int64_t xd[4] = {1, 2, 4, 4};
    Value *ins[1] = {sp_value(g, "x", DT_FLOAT32, 4, xd)};
    Node *n = sp_node(g, OP_MAX_POOL, 1, ins, 2);
    sp_ints(g, n, "kernel_shape", 2, (int64_t[]){2, 2});
    sp_ints(g, n, "strides", 2, (int64_t[]){2, 2});
    sp_int(g, n, "storage_order", order);
    float y[8];
    int64_t idx[8];
    sp_run(g, n, 1, (const void *[]){x}, (void *[]){y, idx});
    sp_assert_shape(n->outputs[1], 4, (int64_t[]){1, 2, 2, 2});
    assert_int_equal(n->outputs[1]->dtype, DT_INT64);
    sp_assert_floats(y, (const float[]){5, 8, 9, 10, 105, 108, 109, 110}, 8, 0);
    /* Maxima at (0,1), (1,2), (2,0), (3,3): row-major h*4+w, column-major w*4+h. */
    const int64_t want[2][4] = {{1, 6, 8, 15}, {4, 9, 2, 15}};
    for (int i = 0; i < 8; i++) assert_int_equal(idx[i], want[order][i % 4] + (i / 4) * 16);
    ir_graph_free(g);
  }
}

/* [1..5], kernel 2, stride 2: floor gives 2 windows, ceil a third [5]. */
static void maxpool_ceil_mode(void **state) {
  (void)state;
  const float x[5] = {1, 2, 3, 4, 5};
  Graph *g = ir_graph_new("t", "t.onnx");
  run_check(g, pool1d(g, OP_MAX_POOL, DT_FLOAT32, 1, 5, 2, 2), x, 2, (const float[]){2, 4});
  Node *n = pool1d(g, OP_MAX_POOL, DT_FLOAT32, 1, 5, 2, 2);
  sp_int(g, n, "ceil_mode", 1);
  run_check(g, n, x, 3, (const float[]){2, 4, 5});
  ir_graph_free(g);
}

/* [1,2,3] with pads [1,1], kernel 2, stride 2: ceil would add a window
 * starting at padded position 4, inside the end padding; it is dropped,
 * so both modes give windows {pad,1} and {2,3}. */
static void maxpool_ceil_mode_drops_window_in_padding(void **state) {
  (void)state;
  const float x[3] = {1, 2, 3};
  Graph *g = ir_graph_new("t", "t.onnx");
  for (int ceil_mode = 0; ceil_mode < 2; ceil_mode++) {
    Node *n = pool1d(g, OP_MAX_POOL, DT_FLOAT32, 1, 3, 2, 2);
    sp_ints(g, n, "pads", 2, (int64_t[]){1, 1});
    sp_int(g, n, "ceil_mode", ceil_mode);
    run_check(g, n, x, 2, (const float[]){1, 3});
  }
  ir_graph_free(g);
}

/* Dilation 2: windows {x0,x2}, {x1,x3}, {x2,x4}. */
static void maxpool_dilations(void **state) {
  (void)state;
  const float x[5] = {1, 5, 2, 4, 3};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = pool1d(g, OP_MAX_POOL, DT_FLOAT32, 1, 5, 2, 1);
  sp_ints(g, n, "dilations", 1, (int64_t[]){2});
  run_check(g, n, x, 3, (const float[]){2, 5, 3});
  ir_graph_free(g);
}

static void maxpool_int8_uint8(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  const uint8_t xu[4] = {200, 10, 255, 0};
  uint8_t yu[2];
  sp_run(g, pool1d(g, OP_MAX_POOL, DT_UINT8, 1, 4, 2, 2), 1, (const void *[]){xu}, (void *[]){yu});
  assert_int_equal(yu[0], 200);
  assert_int_equal(yu[1], 255);
  const int8_t xs[4] = {-5, -3, -128, -100};
  int8_t ys[2];
  sp_run(g, pool1d(g, OP_MAX_POOL, DT_INT8, 1, 4, 2, 2), 1, (const void *[]){xs}, (void *[]){ys});
  assert_int_equal(ys[0], -3);
  assert_int_equal(ys[1], -100);
  ir_graph_free(g);
}

/* [1,2,3], kernel 2, stride 1, pads [1,1]: windows {pad,1} {1,2} {2,3}
 * {3,pad}.  Without count_include_pad the pad is not counted. */
static void averagepool_count_include_pad(void **state) {
  (void)state;
  const float x[3] = {1, 2, 3};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = pool1d(g, OP_AVERAGE_POOL, DT_FLOAT32, 1, 3, 2, 1);
  sp_ints(g, n, "pads", 2, (int64_t[]){1, 1});
  run_check(g, n, x, 4, (const float[]){1, 1.5f, 2.5f, 3});
  n = pool1d(g, OP_AVERAGE_POOL, DT_FLOAT32, 1, 3, 2, 1);
  sp_ints(g, n, "pads", 2, (int64_t[]){1, 1});
  sp_int(g, n, "count_include_pad", 1);
  run_check(g, n, x, 4, (const float[]){0.5f, 1.5f, 2.5f, 1.5f});
  ir_graph_free(g);
}

/* ceil_mode's extra window [5, beyond] averages only what exists, even
 * with count_include_pad: the room ceil_mode adds is not padding. */
static void averagepool_ceil_mode_with_count_include_pad(void **state) {
  (void)state;
  const float x[5] = {1, 2, 3, 4, 5};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = pool1d(g, OP_AVERAGE_POOL, DT_FLOAT32, 1, 5, 2, 2);
  sp_int(g, n, "ceil_mode", 1);
  sp_int(g, n, "count_include_pad", 1);
  run_check(g, n, x, 3, (const float[]){1.5f, 3.5f, 5});
  ir_graph_free(g);
}

/* [1,2,3,4], kernel 2, SAME: one pad at the end (UPPER) or start (LOWER). */
static void averagepool_same_upper_vs_lower(void **state) {
  (void)state;
  const float x[4] = {1, 2, 3, 4};
  Graph *g = ir_graph_new("t", "t.onnx");
  Node *n = pool1d(g, OP_AVERAGE_POOL, DT_FLOAT32, 1, 4, 2, 1);
  sp_str(g, n, "auto_pad", "SAME_UPPER");
  run_check(g, n, x, 4, (const float[]){1.5f, 2.5f, 3.5f, 4});
  n = pool1d(g, OP_AVERAGE_POOL, DT_FLOAT32, 1, 4, 2, 1);
  sp_str(g, n, "auto_pad", "SAME_LOWER");
  run_check(g, n, x, 4, (const float[]){1, 1.5f, 2.5f, 3.5f});
  /* Stride 2 over 5: ceil(5/2) = 3 outputs. */
  const float x5[5] = {1, 2, 3, 4, 5};
  n = pool1d(g, OP_MAX_POOL, DT_FLOAT32, 1, 5, 3, 2);
  sp_str(g, n, "auto_pad", "SAME_UPPER");
  run_check(g, n, x5, 3, (const float[]){2, 4, 5});
  ir_graph_free(g);
}

/* 3x3 window, stride 1, pads 1 on a 3x3 plane 1..9: the corner averages
 * {1,2,4,5} = 3 without pads, 12/9 with them. */
static void averagepool_2d_pads(void **state) {
  (void)state;
  const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (int cip = 0; cip < 2; cip++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    int64_t xd[4] = {1, 1, 3, 3};
    Value *ins[1] = {sp_value(g, "x", DT_FLOAT32, 4, xd)};
    Node *n = sp_node(g, OP_AVERAGE_POOL, 1, ins, 1);
    sp_ints(g, n, "kernel_shape", 2, (int64_t[]){3, 3});
    sp_ints(g, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    sp_int(g, n, "count_include_pad", cip);
    float y[9];
    sp_run(g, n, 1, (const void *[]){x}, (void *[]){y});
    sp_assert_shape(n->outputs[0], 4, (int64_t[]){1, 1, 3, 3});
    if (cip == 0) {
      const float want[9] = {3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7};
      sp_assert_floats(y, want, 9, 1e-6);
    } else {
      const float want[9] = {12 / 9.f, 21 / 9.f, 16 / 9.f, 27 / 9.f, 5,
                             33 / 9.f, 24 / 9.f, 39 / 9.f, 28 / 9.f};
      sp_assert_floats(y, want, 9, 1e-6);
    }
    ir_graph_free(g);
  }
}

static void global_pools(void **state) {
  (void)state;
  const float x[8] = {1, 2, 3, 4, -1, -5, 0, -2};
  const OpKind ops[2] = {OP_GLOBAL_AVERAGE_POOL, OP_GLOBAL_MAX_POOL};
  const float want[2][2] = {{2.5f, -2}, {4, 0}};
  for (int i = 0; i < 2; i++) {
    Graph *g = ir_graph_new("t", "t.onnx");
    int64_t xd[4] = {1, 2, 2, 2};
    Value *ins[1] = {sp_value(g, "x", DT_FLOAT32, 4, xd)};
    Node *n = sp_node(g, ops[i], 1, ins, 1);
    float y[2];
    sp_run(g, n, 1, (const void *[]){x}, (void *[]){y});
    sp_assert_shape(n->outputs[0], 4, (int64_t[]){1, 2, 1, 1});
    sp_assert_floats(y, want[i], 2, 1e-6);
    ir_graph_free(g);
  }
}

static void pool_malformed_attributes(void **state) {
  (void)state;
  Graph *g = ir_graph_new("t", "t.onnx");
  int64_t xd[4] = {1, 1, 4, 4};
  Value *ins[1] = {sp_value(g, "x", DT_FLOAT32, 4, xd)};
  sp_expect_error(g, sp_node(g, OP_MAX_POOL, 1, ins, 1), "kernel_shape is required");
  Node *n = sp_node(g, OP_MAX_POOL, 1, ins, 1);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){2, 2});
  sp_ints(g, n, "pads", 2, (int64_t[]){1, 1});
  sp_expect_error(g, n, "pads has 2 values, expected 4");
  n = sp_node(g, OP_AVERAGE_POOL, 1, ins, 1);
  sp_ints(g, n, "kernel_shape", 3, (int64_t[]){2, 2, 2});
  sp_expect_error(g, n, "kernel_shape has 3 values but the input has 2 spatial dims");
  n = sp_node(g, OP_MAX_POOL, 1, ins, 1);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){2, 2});
  sp_int(g, n, "storage_order", 2);
  sp_expect_error(g, n, "storage_order is 2, expected 0 or 1");
  n = sp_node(g, OP_MAX_POOL, 1, ins, 1);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){5, 2});
  sp_expect_error(g, n, "kernel extent 5 along spatial dim 0 is larger than the padded input (4)");
  n = sp_node(g, OP_AVERAGE_POOL, 1, ins, 1);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){2, 2});
  sp_ints(g, n, "pads", 4, (int64_t[]){0, -1, 0, 0});
  sp_expect_error(g, n, "pads[1] is -1");
  Value *ins8[1] = {sp_value(g, "x8", DT_INT8, 4, xd)};
  n = sp_node(g, OP_AVERAGE_POOL, 1, ins8, 1);
  sp_ints(g, n, "kernel_shape", 2, (int64_t[]){2, 2});
  sp_expect_error(g, n, "input type int8 is not supported");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(maxpool_indices_row_and_column_major),
      cmocka_unit_test(maxpool_ceil_mode),
      cmocka_unit_test(maxpool_ceil_mode_drops_window_in_padding),
      cmocka_unit_test(maxpool_dilations),
      cmocka_unit_test(maxpool_int8_uint8),
      cmocka_unit_test(averagepool_count_include_pad),
      cmocka_unit_test(averagepool_ceil_mode_with_count_include_pad),
      cmocka_unit_test(averagepool_same_upper_vs_lower),
      cmocka_unit_test(averagepool_2d_pads),
      cmocka_unit_test(global_pools),
      cmocka_unit_test(pool_malformed_attributes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
