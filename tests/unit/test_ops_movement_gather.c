/*
 * Unit tests for the data-permuting movement ops: Gather, ScatterND,
 * Transpose, DepthToSpace, SpaceToDepth, Tile, Expand and Trilu, including
 * negative indices, out-of-range index errors, 0-sized dims and non-float
 * dtypes.  Expected values are worked out by hand from the ONNX specs.
 */
#include "test_ops_movement.h"

static void gather_negative_indices_any_rank(void **state) {
  (void)state;
  const float x[6] = {1, 2, 3, 4, 5, 6};
  int64_t xd[2] = {3, 2}, id[2] = {2, 2}, wd[3] = {2, 2, 2};
  const int64_t idx[4] = {0, -1, 1, 0};
  MCase *c = mc_new(OP_GATHER, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, xd, x);
  mc_input(c, 1, DT_INT64, 2, id, idx);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 3, wd);
  const float want[8] = {1, 2, 5, 6, 3, 4, 1, 2};
  mc_assert_f32(c, 0, want, 8);
  mc_free(c);

  /* Scalar int32 index -1 along axis 1 of [[1,2,3],[4,5,6]]: the last column. */
  int64_t x2d[2] = {2, 3};
  const int32_t last = -1;
  c = mc_new(OP_GATHER, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, x2d, x);
  mc_input(c, 1, DT_INT32, 0, NULL, &last);
  mc_attr_int(c, "axis", -1);
  assert_int_equal(mc_run(c), ST_OK);
  int64_t two = 2;
  mc_assert_dims(c, 0, 1, &two);
  const float want2[2] = {3, 6};
  mc_assert_f32(c, 0, want2, 2);
  mc_free(c);
}

static void gather_index_out_of_range_is_an_error(void **state) {
  (void)state;
  const float x[6] = {1, 2, 3, 4, 5, 6};
  int64_t xd[2] = {3, 2}, n = 2;
  const int64_t bad[2][2] = {{0, 3}, {-4, 0}};
  for (int i = 0; i < 2; i++) {
    MCase *c = mc_new(OP_GATHER, 2, 1);
    mc_input(c, 0, DT_FLOAT32, 2, xd, x);
    mc_input(c, 1, DT_INT64, 1, &n, bad[i]);
    mc_assert_error(c, mc_run(c), ST_INVALID, "out of range");
    mc_free(c);
  }
  /* Float indices are refused by the shape rule. */
  MCase *c = mc_new(OP_GATHER, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, xd, x);
  mc_input(c, 1, DT_FLOAT32, 1, &n, x);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "int32 or int64");
  mc_free(c);
}

static MCase *scatter_case(const char *red, const float *data, int64_t n, const int64_t *idx,
                           int64_t nidx, const float *upd) {
  MCase *c = mc_new(OP_SCATTER_ND, 3, 1);
  int64_t id[2] = {nidx, 1};
  mc_input(c, 0, DT_FLOAT32, 1, &n, data);
  mc_input(c, 1, DT_INT64, 2, id, idx);
  mc_input(c, 2, DT_FLOAT32, 1, &nidx, upd);
  mc_attr_string(c, "reduction", red);
  return c;
}

static void scatter_nd_reductions(void **state) {
  (void)state;
  /* The ONNX spec's 1-D example. */
  const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int64_t idx[4] = {4, 3, 1, 7};
  const float upd[4] = {9, 10, 11, 12};
  MCase *c = scatter_case("none", data, 8, idx, 4, upd);
  assert_int_equal(mc_run(c), ST_OK);
  const float want[8] = {1, 11, 3, 10, 9, 6, 7, 12};
  mc_assert_f32(c, 0, want, 8);
  mc_free(c);

  /* Repeated index 0 accumulates; -2 counts from the end. */
  const float ones[4] = {2, 2, 2, 2};
  const int64_t ridx[3] = {0, 0, -2};
  const float rupd[3] = {1, 3, 5};
  const struct {
    const char *red;
    float want[4];
  } cases[] = {{"add", {6, 2, 7, 2}}, {"mul", {6, 2, 10, 2}}, {"max", {3, 2, 5, 2}},
               {"min", {1, 2, 2, 2}}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    c = scatter_case(cases[i].red, ones, 4, ridx, 3, rupd);
    assert_int_equal(mc_run(c), ST_OK);
    mc_assert_f32(c, 0, cases[i].want, 4);
    mc_free(c);
  }

  const int64_t bad[1] = {8};
  c = scatter_case("none", data, 8, bad, 1, upd);
  mc_assert_error(c, mc_run(c), ST_INVALID, "out of range");
  mc_free(c);
}

/* Updates of whole rows: indices [[1],[0]] into a [2,2] int32 tensor. */
static void scatter_nd_slices_int32(void **state) {
  (void)state;
  const int32_t data[4] = {1, 2, 3, 4}, upd[4] = {10, 20, 30, 40};
  const int64_t idx[2] = {1, 0};
  int64_t xd[2] = {2, 2}, id[2] = {2, 1};
  MCase *c = mc_new(OP_SCATTER_ND, 3, 1);
  mc_input(c, 0, DT_INT32, 2, xd, data);
  mc_input(c, 1, DT_INT64, 2, id, idx);
  mc_input(c, 2, DT_INT32, 2, xd, upd);
  mc_attr_string(c, "reduction", "add");
  assert_int_equal(mc_run(c), ST_OK);
  const int32_t want[4] = {31, 42, 13, 24};
  assert_memory_equal(c->out[0], want, sizeof want);
  mc_free(c);

  int64_t wrong[2] = {2, 3};
  c = mc_new(OP_SCATTER_ND, 3, 1);
  mc_input(c, 0, DT_INT32, 2, xd, data);
  mc_input(c, 1, DT_INT64, 2, id, idx);
  mc_input(c, 2, DT_INT32, 2, wrong, NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "updates shape");
  mc_free(c);
}

static void transpose_default_perm_and_dtypes(void **state) {
  (void)state;
  const int16_t x[6] = {1, 2, 3, 4, 5, 6};
  int64_t xd[2] = {2, 3}, wd[2] = {3, 2};
  MCase *c = mc_new(OP_TRANSPOSE, 1, 1);
  mc_input(c, 0, DT_INT16, 2, xd, x);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, wd);
  const int16_t want[6] = {1, 4, 2, 5, 3, 6};
  assert_memory_equal(c->out[0], want, sizeof want);
  mc_free(c);

  /* perm [2,0,1] of [2,1,3]: out[k][i][0] = x[i][0][k] = 3i + k. */
  const double y[6] = {0, 1, 2, 3, 4, 5};
  int64_t yd[3] = {2, 1, 3}, perm[3] = {2, 0, 1}, ywd[3] = {3, 2, 1};
  c = mc_new(OP_TRANSPOSE, 1, 1);
  mc_input(c, 0, DT_FLOAT64, 3, yd, y);
  assert_int_equal(ir_node_set_attr_ints(c->g, c->n, "perm", perm, 3, NULL), ST_OK);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 3, ywd);
  const double ywant[6] = {0, 3, 1, 4, 2, 5};
  assert_memory_equal(c->out[0], ywant, sizeof ywant);
  mc_free(c);

  /* 0-sized dims must not crash. */
  int64_t zd[2] = {0, 3}, zw[2] = {3, 0};
  c = mc_new(OP_TRANSPOSE, 1, 1);
  mc_input(c, 0, DT_BOOL, 2, zd, NULL);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, zw);
  mc_free(c);

  int64_t badperm[2] = {0, 0};
  c = mc_new(OP_TRANSPOSE, 1, 1);
  mc_input(c, 0, DT_INT16, 2, xd, x);
  assert_int_equal(ir_node_set_attr_ints(c->g, c->n, "perm", badperm, 2, NULL), ST_OK);
  mc_assert_error(c, mc_infer(c), ST_INVALID, "repeats");
  mc_free(c);
}

static void depth_to_space_and_back(void **state) {
  (void)state;
  /* [1,8,1,1] -> [1,2,2,2]: DCR takes channel (i*2+j)*2 + c, CRD c*4 + i*2 + j. */
  const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t xd[4] = {1, 8, 1, 1}, wd[4] = {1, 2, 2, 2};
  const struct {
    const char *mode;
    float want[8];
  } cases[] = {{"DCR", {0, 2, 4, 6, 1, 3, 5, 7}}, {"CRD", {0, 1, 2, 3, 4, 5, 6, 7}}};
  for (int i = 0; i < 2; i++) {
    MCase *c = mc_new(OP_DEPTH_TO_SPACE, 1, 1);
    mc_input(c, 0, DT_FLOAT32, 4, xd, x);
    mc_attr_int(c, "blocksize", 2);
    mc_attr_string(c, "mode", cases[i].mode);
    assert_int_equal(mc_run(c), ST_OK);
    mc_assert_dims(c, 0, 4, wd);
    mc_assert_f32(c, 0, cases[i].want, 8);
    mc_free(c);
  }

  /* SpaceToDepth of [1,2,2,2]: out channel (i*2+j)*2 + c holds x[c, i, j]. */
  int64_t sd[4] = {1, 2, 2, 2}, swd[4] = {1, 8, 1, 1};
  MCase *c = mc_new(OP_SPACE_TO_DEPTH, 1, 1);
  mc_input(c, 0, DT_FLOAT32, 4, sd, x);
  mc_attr_int(c, "blocksize", 2);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 4, swd);
  const float swant[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  mc_assert_f32(c, 0, swant, 8);
  mc_free(c);

  int64_t bad[4] = {1, 6, 1, 1};
  c = mc_new(OP_DEPTH_TO_SPACE, 1, 1);
  mc_input(c, 0, DT_FLOAT32, 4, bad, x);
  mc_attr_int(c, "blocksize", 2);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "multiple of blocksize");
  mc_free(c);
}

static void tile_and_expand(void **state) {
  (void)state;
  const uint8_t x[4] = {1, 2, 3, 4};
  int64_t xd[2] = {2, 2}, reps[2] = {2, 2}, wd[2] = {4, 4};
  MCase *c = mc_new(OP_TILE, 2, 1);
  mc_input(c, 0, DT_UINT8, 2, xd, x);
  mc_ints(c, 1, 2, reps);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 2, wd);
  const uint8_t want[16] = {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4};
  assert_memory_equal(c->out[0], want, sizeof want);
  mc_free(c);

  int64_t big = (int64_t)1 << 21, bigreps = (int64_t)1 << 30;
  c = mc_new(OP_TILE, 2, 1);
  mc_input(c, 0, DT_UINT8, 1, &big, NULL);
  mc_ints(c, 1, 1, &bigreps);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "2^40");
  mc_free(c);

  c = mc_new(OP_TILE, 2, 1);
  mc_input(c, 0, DT_UINT8, 2, xd, x);
  mc_input(c, 1, DT_INT64, 1, &xd[0], NULL);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "input 1 ('repeats') must be a constant");
  mc_free(c);

  /* Expand [3,1] to [2,1,2]: result [2,3,2], each value repeated along the last axis. */
  const float e[3] = {1, 2, 3};
  int64_t ed[2] = {3, 1}, shape[3] = {2, 1, 2}, ewd[3] = {2, 3, 2};
  c = mc_new(OP_EXPAND, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, ed, e);
  mc_ints(c, 1, 3, shape);
  assert_int_equal(mc_run(c), ST_OK);
  mc_assert_dims(c, 0, 3, ewd);
  const float ewant[12] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
  mc_assert_f32(c, 0, ewant, 12);
  mc_free(c);

  int64_t clash[1] = {2};
  c = mc_new(OP_EXPAND, 2, 1);
  mc_input(c, 0, DT_FLOAT32, 2, (int64_t[2]){3, 3}, NULL);
  mc_ints(c, 1, 1, clash);
  mc_assert_error(c, mc_infer(c), ST_SHAPE, "broadcast");
  mc_free(c);
}

static void trilu_upper_lower_k(void **state) {
  (void)state;
  const int64_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t xd[2] = {3, 3};
  const struct {
    int upper;
    int64_t k;
    int64_t want[9];
  } cases[] = {{1, 0, {1, 2, 3, 0, 5, 6, 0, 0, 9}},
               {0, -1, {0, 0, 0, 4, 0, 0, 7, 8, 0}},
               {1, 1, {0, 2, 3, 0, 0, 6, 0, 0, 0}},
               {0, 5, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
               {1, INT64_MIN, {1, 2, 3, 4, 5, 6, 7, 8, 9}}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    MCase *c = mc_new(OP_TRILU, 2, 1);
    mc_input(c, 0, DT_INT64, 2, xd, x);
    mc_input(c, 1, DT_INT64, 0, NULL, &cases[i].k); /* k need not be constant */
    mc_attr_int(c, "upper", cases[i].upper);
    assert_int_equal(mc_run(c), ST_OK);
    mc_assert_i64(c, 0, cases[i].want, 9);
    mc_free(c);
  }
  /* Batched 2x(2x3), lower, no k. */
  int64_t bd[3] = {2, 2, 3};
  const int64_t b[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  MCase *c = mc_new(OP_TRILU, 1, 1);
  mc_input(c, 0, DT_INT64, 3, bd, b);
  mc_attr_int(c, "upper", 0);
  assert_int_equal(mc_run(c), ST_OK);
  const int64_t bwant[12] = {1, 0, 0, 4, 5, 0, 7, 0, 0, 10, 11, 0};
  mc_assert_i64(c, 0, bwant, 12);
  mc_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gather_negative_indices_any_rank),
      cmocka_unit_test(gather_index_out_of_range_is_an_error),
      cmocka_unit_test(scatter_nd_reductions),
      cmocka_unit_test(scatter_nd_slices_int32),
      cmocka_unit_test(transpose_default_perm_and_dtypes),
      cmocka_unit_test(depth_to_space_and_back),
      cmocka_unit_test(tile_and_expand),
      cmocka_unit_test(trilu_upper_lower_k),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
