/*
 * Unit tests for BatchNormalization, InstanceNormalization,
 * GroupNormalization, LayerNormalization (ops/norm.c) and Softmax /
 * LogSoftmax (ops/softmax.c) on hand-computed values.
 */
#include "test_ops_linalg.h"

static void batchnorm_inference(void **state) {
  (void)state;
  /* c0: (x-1)/2*2+0, c1: (x-2)/1*1+1 */
  Case c = case_new(OP_BATCH_NORMALIZATION, 5, 1, 15);
  case_f32(&c, 0, 4, (int64_t[]){1, 2, 1, 2}, (float[]){1, 3, 2, 4});
  case_f32(&c, 1, 1, (int64_t[]){2}, (float[]){2, 1});
  case_f32(&c, 2, 1, (int64_t[]){2}, (float[]){0, 1});
  case_f32(&c, 3, 1, (int64_t[]){2}, (float[]){1, 2});
  case_f32(&c, 4, 1, (int64_t[]){2}, (float[]){4, 1});
  case_float(&c, "epsilon", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){0, 2, 1, 3}, 4, 1e-7);
  case_free(&c);
  Error err = {0};
  c = case_new(OP_BATCH_NORMALIZATION, 5, 1, 15);
  case_f32(&c, 0, 4, (int64_t[]){1, 2, 1, 2}, (float[]){1, 3, 2, 4});
  for (int i = 1; i < 5; i++) case_f32(&c, i, 1, (int64_t[]){2}, (float[]){1, 1});
  case_int(&c, "training_mode", 1);
  assert_int_equal(case_infer(&c, &err), ST_UNSUPPORTED);
  case_free(&c);
}

static void instancenorm(void **state) {
  (void)state;
  /* c0 [1,3] -> [-1,1]*2+0; c1 [0,4] -> [-1,1]*3+1 */
  Case c = case_new(OP_INSTANCE_NORMALIZATION, 3, 1, 22);
  case_f32(&c, 0, 3, (int64_t[]){1, 2, 2}, (float[]){1, 3, 0, 4});
  case_f32(&c, 1, 1, (int64_t[]){2}, (float[]){2, 3});
  case_f32(&c, 2, 1, (int64_t[]){2}, (float[]){0, 1});
  case_float(&c, "epsilon", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){-2, 2, -2, 4}, 4, 1e-7);
  case_free(&c);
}

/* X [1,4,1,2]: group 0 = channels {[1,3],[1,3]} (mean 2, var 1),
 * group 1 = channels {[0,0],[4,4]} (mean 2, var 4): normalized
 * [-1,1, -1,1, -1,-1, 1,1]. */
static const float GX[8] = {1, 3, 1, 3, 0, 0, 4, 4};

static void groupnorm_both_layouts(void **state) {
  (void)state;
  /* opset 21: per-channel scale [1,2,3,4], bias [0,0,0,1] */
  Case c = case_new(OP_GROUP_NORMALIZATION, 3, 1, 21);
  case_f32(&c, 0, 4, (int64_t[]){1, 4, 1, 2}, GX);
  case_f32(&c, 1, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
  case_f32(&c, 2, 1, (int64_t[]){4}, (float[]){0, 0, 0, 1});
  case_int(&c, "num_groups", 2);
  case_float(&c, "epsilon", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){-1, 1, -2, 2, -3, -3, 5, 5}, 8, 1e-7);
  case_free(&c);
  /* opset 18: per-group scale [2,3], bias [1,0] */
  c = case_new(OP_GROUP_NORMALIZATION, 3, 1, 18);
  case_f32(&c, 0, 4, (int64_t[]){1, 4, 1, 2}, GX);
  case_f32(&c, 1, 1, (int64_t[]){2}, (float[]){2, 3});
  case_f32(&c, 2, 1, (int64_t[]){2}, (float[]){1, 0});
  case_int(&c, "num_groups", 2);
  case_float(&c, "epsilon", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){-1, 3, -1, 3, -3, -3, 3, 3}, 8, 1e-7);
  case_free(&c);
  Error err = {0};
  c = case_new(OP_GROUP_NORMALIZATION, 3, 1, 21);
  case_f32(&c, 0, 4, (int64_t[]){1, 4, 1, 2}, GX);
  case_f32(&c, 1, 1, (int64_t[]){3}, (float[]){1, 1, 1});
  case_f32(&c, 2, 1, (int64_t[]){3}, (float[]){1, 1, 1});
  case_int(&c, "num_groups", 2);
  assert_int_equal(case_infer(&c, &err), ST_SHAPE);
  case_free(&c);
}

static void layernorm_with_stats(void **state) {
  (void)state;
  /* rows [1,2,3,4] (mean 2.5, var 1.25) and [2,2,2,2] (mean 2, var 0) */
  Case c = case_new(OP_LAYER_NORMALIZATION, 3, 3, 17);
  case_f32(&c, 0, 2, (int64_t[]){2, 4}, (float[]){1, 2, 3, 4, 2, 2, 2, 2});
  case_f32(&c, 1, 1, (int64_t[]){4}, (float[]){1, 2, 1, 2});
  case_f32(&c, 2, 1, (int64_t[]){4}, (float[]){0, 0, 1, 1});
  case_run(&c);
  assert_shape(&c, 1, 2, (int64_t[]){2, 1});
  assert_shape(&c, 2, 2, (int64_t[]){2, 1});
  assert_int_equal(c.n->outputs[1]->dtype, DT_FLOAT32);
  double inv0 = 1 / sqrt(1.25 + 1e-5), inv1 = 1 / sqrt(1e-5);
  float want[8] = {(float)(-1.5 * inv0), (float)(-0.5 * inv0 * 2), (float)(0.5 * inv0 + 1),
                   (float)(1.5 * inv0 * 2 + 1), 0, 0, 1, 1};
  assert_f32_near(c.out[0], want, 8, 1e-6);
  assert_f32_near(c.out[1], (float[]){2.5f, 2}, 2, 1e-7);
  assert_f32_near(c.out[2], (float[]){(float)inv0, (float)inv1}, 2, 1e-6);
  case_free(&c);
  /* axis 0 normalizes everything; no bias, optional outputs absent */
  c = case_new(OP_LAYER_NORMALIZATION, 2, 1, 17);
  case_f32(&c, 0, 2, (int64_t[]){2, 2}, (float[]){1, 3, 1, 3});
  case_f32(&c, 1, 2, (int64_t[]){2, 2}, (float[]){1, 1, 2, 2});
  case_int(&c, "axis", 0);
  case_float(&c, "epsilon", 0);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){-1, 1, -2, 2}, 4, 1e-7);
  case_free(&c);
}

static void softmax_opset13_stable(void **state) {
  (void)state;
  Case c = case_new(OP_SOFTMAX, 1, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){2, 3},
           (float[]){0, (float)log(2.0), (float)log(3.0), 1000, 1000, 1000});
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){1 / 6.f, 2 / 6.f, 3 / 6.f, 1 / 3.f, 1 / 3.f, 1 / 3.f}, 6,
                  1e-6);
  case_free(&c);
  c = case_new(OP_LOG_SOFTMAX, 1, 1, 13);
  case_f32(&c, 0, 2, (int64_t[]){1, 3}, (float[]){0, (float)log(2.0), (float)log(3.0)});
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){(float)log(1 / 6.), (float)log(2 / 6.), (float)log(3 / 6.)},
                  3, 1e-6);
  case_free(&c);
}

static void softmax_opset11_vs_13(void **state) {
  (void)state;
  /* X [2,2,2], batch 0 = [[ln3,0],[0,0]], batch 1 all zero; axis=1. */
  float x[8] = {(float)log(3.0), 0, 0, 0, 0, 0, 0, 0};
  /* opset 11: rows of 4 -> exps [3,1,1,1]/6 and uniform 1/4 */
  Case c = case_new(OP_SOFTMAX, 1, 1, 11);
  case_f32(&c, 0, 3, (int64_t[]){2, 2, 2}, x);
  case_int(&c, "axis", 1);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){.5f, 1 / 6.f, 1 / 6.f, 1 / 6.f, .25f, .25f, .25f, .25f}, 8,
                  1e-6);
  case_free(&c);
  /* opset 13: along dim 1 only -> pairs (x[b][0][k], x[b][1][k]) */
  c = case_new(OP_SOFTMAX, 1, 1, 13);
  case_f32(&c, 0, 3, (int64_t[]){2, 2, 2}, x);
  case_int(&c, "axis", 1);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){.75f, .5f, .25f, .5f, .5f, .5f, .5f, .5f}, 8, 1e-6);
  case_free(&c);
  /* opset 11 default axis is 1, opset 13 default is -1 */
  c = case_new(OP_LOG_SOFTMAX, 1, 1, 11);
  case_f32(&c, 0, 3, (int64_t[]){2, 2, 2}, x);
  case_run(&c);
  assert_f32_near(c.out[0], (float[]){(float)log(.5), (float)log(1 / 6.), (float)log(1 / 6.),
                                      (float)log(1 / 6.), (float)log(.25), (float)log(.25),
                                      (float)log(.25), (float)log(.25)},
                  8, 1e-6);
  case_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(batchnorm_inference),   cmocka_unit_test(instancenorm),
      cmocka_unit_test(groupnorm_both_layouts), cmocka_unit_test(layernorm_with_stats),
      cmocka_unit_test(softmax_opset13_stable), cmocka_unit_test(softmax_opset11_vs_13),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
