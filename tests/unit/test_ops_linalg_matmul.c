/*
 * Unit tests for MatMul, Gemm and Einsum (ops/matmul.c, ops/einsum.c,
 * ops/sgemm.c): hand-computed small products, and larger float32 products
 * checked against a naive double-precision triple loop written here.
 */
#include "test_ops_linalg.h"

static const float A23[6] = {1, 2, 3, 4, 5, 6};       /* [[1,2,3],[4,5,6]] */
static const float B32[6] = {7, 8, 9, 10, 11, 12};    /* [[7,8],[9,10],[11,12]] */
static const float AB[4] = {58, 64, 139, 154};        /* A23 @ B32 */

static void matmul_2d(void **state) {
  (void)state;
  Case c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, A23);
  case_f32(&c, 1, 2, (int64_t[]){3, 2}, B32);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){2, 2});
  assert_f32_near(c.out[0], AB, 4, 0);
  case_free(&c);
}

static void matmul_1d_promotion(void **state) {
  (void)state;
  /* vector @ matrix: [3] x [3,2] -> [2] */
  Case c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 1, (int64_t[]){3}, (float[]){1, 2, 3});
  case_f32(&c, 1, 2, (int64_t[]){3, 2}, B32);
  case_run(&c);
  assert_shape(&c, 0, 1, (int64_t[]){2});
  assert_f32_near(c.out[0], (float[]){58, 64}, 2, 0);
  case_free(&c);
  /* matrix @ vector: [2,3] x [3] -> [2] */
  c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, A23);
  case_f32(&c, 1, 1, (int64_t[]){3}, (float[]){1, 1, 1});
  case_run(&c);
  assert_shape(&c, 0, 1, (int64_t[]){2});
  assert_f32_near(c.out[0], (float[]){6, 15}, 2, 0);
  case_free(&c);
  /* vector @ vector: scalar */
  c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 1, (int64_t[]){3}, (float[]){1, 2, 3});
  case_f32(&c, 1, 1, (int64_t[]){3}, (float[]){4, 5, 6});
  case_run(&c);
  assert_shape(&c, 0, 0, NULL);
  assert_f32_near(c.out[0], (float[]){32}, 1, 0);
  case_free(&c);
}

static void matmul_batch_broadcast(void **state) {
  (void)state;
  /* A [2,1,2,2] (identity, row swap) x B [3,2,2] (B_j = [[j,1],[2,j]]) -> [2,3,2,2] */
  Case c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 4, (int64_t[]){2, 1, 2, 2}, (float[]){1, 0, 0, 1, 0, 1, 1, 0});
  case_f32(&c, 1, 3, (int64_t[]){3, 2, 2}, (float[]){0, 1, 2, 0, 1, 1, 2, 1, 2, 1, 2, 2});
  case_run(&c);
  assert_shape(&c, 0, 4, (int64_t[]){2, 3, 2, 2});
  const float want[24] = {0, 1, 2, 0, 1, 1, 2, 1, 2, 1, 2, 2,   /* I @ B_j */
                          2, 0, 0, 1, 2, 1, 1, 1, 2, 2, 2, 1};  /* swap @ B_j */
  assert_f32_near(c.out[0], want, 24, 0);
  case_free(&c);
}

/* Deterministic pseudo-random values in [-1, 1). */
static float prand(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void matmul_large_vs_naive(void **state) {
  (void)state;
  /* Sizes straddle the kernel's 256 blocks and its 4-row unrolling; the
   * batch of 2 with a shared B exercises the folded-batch path. */
  enum { BT = 2, M = 37, K = 301, N = 270 };
  float *a = malloc(sizeof(float) * BT * M * K), *b = malloc(sizeof(float) * K * N);
  assert_non_null(a);
  assert_non_null(b);
  uint32_t s = 7;
  for (int i = 0; i < BT * M * K; i++) a[i] = prand(&s);
  for (int i = 0; i < K * N; i++) b[i] = prand(&s);
  Case c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 3, (int64_t[]){BT, M, K}, a);
  case_f32(&c, 1, 2, (int64_t[]){K, N}, b);
  case_run(&c);
  assert_shape(&c, 0, 3, (int64_t[]){BT, M, N});
  const float *y = c.out[0];
  for (int bt = 0; bt < BT; bt++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        double ref = 0;
        for (int p = 0; p < K; p++) ref += (double)a[(bt * M + i) * K + p] * b[p * N + j];
        if (fabs(y[(bt * M + i) * N + j] - ref) > 1e-4)
          fail_msg("[%d,%d,%d]: got %g, expected %g", bt, i, j, y[(bt * M + i) * N + j], ref);
      }
  case_free(&c);
  free(a);
  free(b);
}

static void matmul_int32_and_f16(void **state) {
  (void)state;
  Case c = case_new(OP_MATMUL, 2, 1, 13);
  case_const(&c, 0, DT_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){1, 2, 3, 4});
  case_const(&c, 1, DT_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){5, 6, 7, 8});
  case_run(&c);
  const int32_t *y = c.out[0];
  assert_int_equal(y[0], 19);
  assert_int_equal(y[1], 22);
  assert_int_equal(y[2], 43);
  assert_int_equal(y[3], 50);
  case_free(&c);

  c = case_new(OP_MATMUL, 2, 1, 13);
  uint16_t ha[2] = {dtype_float_to_half(1), dtype_float_to_half(2)};
  uint16_t hb[2] = {dtype_float_to_half(3), dtype_float_to_half(4)};
  case_const(&c, 0, DT_FLOAT16, 2, (int64_t[]){1, 2}, ha);
  case_const(&c, 1, DT_FLOAT16, 2, (int64_t[]){2, 1}, hb);
  case_run(&c);
  assert_true(dtype_half_to_float(((uint16_t *)c.out[0])[0]) == 11.0f);
  case_free(&c);
}

static void matmul_shape_errors(void **state) {
  (void)state;
  Error err = {0};
  Case c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, A23);
  case_f32(&c, 1, 2, (int64_t[]){2, 3}, A23);
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  assert_non_null(strstr(err.msg, "inner dimensions"));
  case_free(&c);
  c = case_new(OP_MATMUL, 2, 1, 13);
  case_f32(&c, 0, 3, (int64_t[]){2, 1, 1}, A23);
  case_f32(&c, 1, 3, (int64_t[]){3, 1, 1}, A23);
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  case_free(&c);
}

/* ---- Gemm ---- */

static void gemm_transposes_alpha_beta(void **state) {
  (void)state;
  Case c = case_new(OP_GEMM, 3, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){3, 2}, (float[]){1, 4, 2, 5, 3, 6});     /* A23^T */
  case_f32(&c, 1, 2, (int64_t[]){2, 3}, (float[]){7, 9, 11, 8, 10, 12});  /* B32^T */
  case_f32(&c, 2, 2, (int64_t[]){2, 1}, (float[]){1, 2});                 /* column C */
  case_int(&c, "transA", 1);
  case_int(&c, "transB", 1);
  case_float(&c, "alpha", 0.5f);
  case_float(&c, "beta", 2.0f);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){2, 2});
  assert_f32_near(c.out[0], (float[]){31, 34, 73.5f, 81}, 4, 0);
  case_free(&c);
}

static void gemm_bias_forms(void **state) {
  (void)state;
  /* scalar C */
  Case c = case_new(OP_GEMM, 3, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, A23);
  case_f32(&c, 1, 2, (int64_t[]){3, 2}, B32);
  case_f32(&c, 2, 0, NULL, (float[]){10});
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){68, 74, 149, 164}, 4, 0);
  case_free(&c);
  /* row vector C [2] */
  c = case_new(OP_GEMM, 3, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, A23);
  case_f32(&c, 1, 2, (int64_t[]){3, 2}, B32);
  case_f32(&c, 2, 1, (int64_t[]){2}, (float[]){1, 2});
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){59, 66, 140, 156}, 4, 0);
  case_free(&c);
  /* no C, float64 */
  c = case_new(OP_GEMM, 2, 1, 13);
  case_const(&c, 0, DT_FLOAT64, 2, (int64_t[]){2, 3}, (double[]){1, 2, 3, 4, 5, 6});
  case_const(&c, 1, DT_FLOAT64, 2, (int64_t[]){3, 2}, (double[]){7, 8, 9, 10, 11, 12});
  case_run(&c);
  assert_f64_near(c.out[0], (double[]){58, 64, 139, 154}, 4, 0);
  case_free(&c);
  /* C that does not broadcast to [2,2] */
  Error err = {0};
  c = case_new(OP_GEMM, 3, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3}, A23);
  case_f32(&c, 1, 2, (int64_t[]){3, 2}, B32);
  case_f32(&c, 2, 1, (int64_t[]){3}, (float[]){1, 2, 3});
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  case_free(&c);
}

/* ---- Einsum ---- */

static Case einsum1(const char *eq, DType dt, int rank, const int64_t *dims, const void *x) {
  Case c = case_new(OP_EINSUM, 1, 1, 12);
  case_const(&c, 0, dt, rank, dims, x);
  case_string(&c, "equation", eq);
  return c;
}

static Case einsum2(const char *eq, int ra, const int64_t *da, const float *a, int rb,
                    const int64_t *db, const float *b) {
  Case c = case_new(OP_EINSUM, 2, 1, 12);
  case_f32(&c, 0, ra, da, a);
  case_f32(&c, 1, rb, db, b);
  case_string(&c, "equation", eq);
  return c;
}

static void einsum_unary(void **state) {
  (void)state;
  Case c = einsum1("ij->ji", DT_FLOAT32, 2, (int64_t[]){2, 3}, A23);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){3, 2});
  assert_f32_near(c.out[0], (float[]){1, 4, 2, 5, 3, 6}, 6, 0);
  case_free(&c);
  /* implicit output is alphabetical: "ba" transposes */
  c = einsum1("ba", DT_FLOAT32, 2, (int64_t[]){2, 3}, A23);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){3, 2});
  assert_f32_near(c.out[0], (float[]){1, 4, 2, 5, 3, 6}, 6, 0);
  case_free(&c);
  /* diagonal and trace */
  c = einsum1("ii->i", DT_FLOAT32, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
  case_run(&c);
  assert_shape(&c, 0, 1, (int64_t[]){2});
  assert_f32_near(c.out[0], (float[]){1, 4}, 2, 0);
  case_free(&c);
  c = einsum1("ii", DT_FLOAT32, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
  case_run(&c);
  assert_shape(&c, 0, 0, NULL);
  assert_f32_near(c.out[0], (float[]){5}, 1, 0);
  case_free(&c);
  /* batched diagonal with ellipsis, float64 */
  c = einsum1("...ii ->...i", DT_FLOAT64, 3, (int64_t[]){2, 2, 2},
              (double[]){1, 2, 3, 4, 5, 6, 7, 8});
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){2, 2});
  assert_f64_near(c.out[0], (double[]){1, 4, 5, 8}, 4, 0);
  case_free(&c);
  /* row sums */
  c = einsum1("ij->i", DT_FLOAT64, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
  case_run(&c);
  assert_f64_near(c.out[0], (double[]){3, 7}, 2, 0);
  case_free(&c);
}

static void einsum_binary(void **state) {
  (void)state;
  /* implicit matmul */
  Case c = einsum2("ij,jk", 2, (int64_t[]){2, 3}, A23, 2, (int64_t[]){3, 2}, B32);
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){2, 2});
  assert_f32_near(c.out[0], AB, 4, 0);
  case_free(&c);
  /* inner product */
  c = einsum2("i,i", 1, (int64_t[]){3}, (float[]){1, 2, 3}, 1, (int64_t[]){3},
              (float[]){4, 5, 6});
  case_run(&c);
  assert_shape(&c, 0, 0, NULL);
  assert_f32_near(c.out[0], (float[]){32}, 1, 0);
  case_free(&c);
  /* bnd,md->bnm: rows of A dotted with rows of B */
  c = einsum2("bnd,md->bnm", 3, (int64_t[]){1, 2, 3}, A23, 2, (int64_t[]){2, 3},
              (float[]){1, 0, 1, 0, 1, 0});
  case_run(&c);
  assert_shape(&c, 0, 3, (int64_t[]){1, 2, 2});
  assert_f32_near(c.out[0], (float[]){4, 2, 10, 5}, 4, 0);
  case_free(&c);
  /* batch matmul through an ellipsis */
  c = einsum2("...ij,...jk->...ik", 3, (int64_t[]){2, 2, 2}, (float[]){1, 2, 3, 4, 1, 0, 0, 1}, 3,
              (int64_t[]){2, 2, 2}, (float[]){1, 0, 0, 1, 2, 3, 4, 5});
  case_run(&c);
  assert_shape(&c, 0, 3, (int64_t[]){2, 2, 2});
  assert_f32_near(c.out[0], (float[]){1, 2, 3, 4, 2, 3, 4, 5}, 8, 0);
  case_free(&c);
  /* ellipsis broadcasting: [2,1,2] x [3,2,1]... batch dims 2 and 3 broadcast */
  c = einsum2("...j,...j->...", 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4}, 3,
              (int64_t[]){3, 1, 2}, (float[]){1, 0, 0, 1, 1, 1});
  case_run(&c);
  assert_shape(&c, 0, 2, (int64_t[]){3, 2});
  assert_f32_near(c.out[0], (float[]){1, 3, 2, 4, 3, 7}, 6, 0);
  case_free(&c);
}

static void einsum_attention_vs_naive(void **state) {
  (void)state;
  enum { B = 2, H = 3, N = 4, M = 5, D = 6 };
  float q[B * H * N * D], k[B * H * M * D];
  uint32_t s = 3;
  for (int i = 0; i < B * H * N * D; i++) q[i] = prand(&s);
  for (int i = 0; i < B * H * M * D; i++) k[i] = prand(&s);
  Case c = einsum2("bhnd,bhmd->bhnm", 4, (int64_t[]){B, H, N, D}, q, 4, (int64_t[]){B, H, M, D}, k);
  case_run(&c);
  assert_shape(&c, 0, 4, (int64_t[]){B, H, N, M});
  const float *y = c.out[0];
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
          double ref = 0;
          for (int d = 0; d < D; d++)
            ref += (double)q[((b * H + h) * N + n) * D + d] * k[((b * H + h) * M + m) * D + d];
          float got = y[((b * H + h) * N + n) * M + m];
          if (fabs(got - ref) > 1e-5) fail_msg("[%d,%d,%d,%d]: %g vs %g", b, h, n, m, got, ref);
        }
  case_free(&c);
  /* A label summed inside one operand forces the generic path: ij,jk->i */
  c = einsum2("ij,jk->i", 2, (int64_t[]){2, 3}, A23, 2, (int64_t[]){3, 2}, B32);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){58 + 64, 139 + 154}, 2, 0);
  case_free(&c);
}

static void einsum_errors(void **state) {
  (void)state;
  Error err = {0};
  Case c = einsum1("ij->k", DT_FLOAT32, 2, (int64_t[]){2, 3}, A23);
  assert_int_equal(case_infer(&c, &err), ST_INVALID);
  case_free(&c);
  c = einsum1("ijk->ij", DT_FLOAT32, 2, (int64_t[]){2, 3}, A23);
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  case_free(&c);
  c = einsum1("ii->i", DT_FLOAT32, 2, (int64_t[]){2, 3}, A23);
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  case_free(&c);
  c = einsum1("i.j->ij", DT_FLOAT32, 2, (int64_t[]){2, 3}, A23);
  assert_int_equal(case_infer(&c, &err), ST_INVALID);
  case_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(matmul_2d),
      cmocka_unit_test(matmul_1d_promotion),
      cmocka_unit_test(matmul_batch_broadcast),
      cmocka_unit_test(matmul_large_vs_naive),
      cmocka_unit_test(matmul_int32_and_f16),
      cmocka_unit_test(matmul_shape_errors),
      cmocka_unit_test(gemm_transposes_alpha_beta),
      cmocka_unit_test(gemm_bias_forms),
      cmocka_unit_test(einsum_unary),
      cmocka_unit_test(einsum_binary),
      cmocka_unit_test(einsum_attention_vs_naive),
      cmocka_unit_test(einsum_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
