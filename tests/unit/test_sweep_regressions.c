/*
 * Regression tests for patterns found by the real-export sweep
 * (examples/export/sweep_torchvision.py: torchvision and timm models,
 * TorchScript and dynamo exporters).  Each test hand-builds the smallest
 * graph with the pattern, loads it through the frontend, runs the default
 * pass pipeline and checks the reference evaluator's output against values
 * computed by hand from the ONNX operator spec.  Covers the frontend
 * rewrites of frontend/normalize.c (GatherND) and frontend/decompose.c
 * (PRelu, Elu, Selu, Softplus, Mish, training-mode BatchNormalization).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/eval.h"
#include "passes/pass.h"
#include "test_frontend_util.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define I64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64

/* y = GatherND(x, idx) with x a [3, 2] float input and idx an int64
 * initializer of the given shape (batch_dims as given, < 0: attribute absent). */
static Onnx__ModelProto *gathernd_model(int idx_rank, const int64_t *idx_dims,
                                        const int64_t *idx, size_t idx_n, int64_t batch_dims) {
  Onnx__ModelProto *m = mb_model(8, 20);
  mb_input(m, mb_vi("x", F32, 2, (int64_t[]){3, 2}, NULL));
  Onnx__TensorProto *t = mb_tensor("idx", I64, idx_rank, idx_dims);
  mb_raw(t, idx, idx_n * sizeof *idx);
  mb_init(m, t);
  Onnx__NodeProto *n = mb_node(m, "GatherND", "gnd", 2, (const char *[]){"x", "idx"}, 1,
                               (const char *[]){"y"});
  if (batch_dims >= 0) mb_attr_int(n, "batch_dims", batch_dims);
  mb_output(m, "y");
  return m;
}

/* The dynamo exporter's x[idx] (aten.index.Tensor, e.g. LeViT's attention
 * bias table): GatherND with index depth 1 and a negative index. */
static void gathernd_depth1_is_gather_rows(void **state) {
  (void)state;
  const int64_t idx[] = {2, 0, -1, 1};
  Onnx__ModelProto *m = gathernd_model(3, (int64_t[]){2, 2, 1}, idx, 4, 0);
  Graph *g = NULL;
  Error err = {0};
  if (mb_load(m, NULL, &g, &err) != ST_OK) fail_msg("load: %s", err.msg);
  PipelineOptions po = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("pipeline: %s", err.msg);
  const Value *y = g->outputs[0];
  assert_int_equal(y->rank, 3); /* indices.shape[:-1] + data.shape[1:] */
  assert_int_equal(y->dims[0], 2);
  assert_int_equal(y->dims[1], 2);
  assert_int_equal(y->dims[2], 2);
  const float x[6] = {1, 2, 3, 4, 5, 6};
  float out[8] = {0};
  const void *ins[1] = {x};
  void *outs[1] = {out};
  if (eval_graph(g, ins, outs, &err) != ST_OK) fail_msg("eval: %s", err.msg);
  const float want[8] = {5, 6, 1, 2, 5, 6, 3, 4}; /* rows 2, 0, -1 (= 2), 1 */
  for (int i = 0; i < 8; i++) assert_true(out[i] == want[i]);
  ir_graph_free(g);
  tb_free_all();
}

/* Depth 2 (idx [..., 2]) is not the Gather form: it must fail at shape
 * inference, naming the node, never give rows of the wrong rank. */
static void gathernd_deeper_index_is_an_error(void **state) {
  (void)state;
  const int64_t idx[] = {0, 1, 2, 0};
  Onnx__ModelProto *m = gathernd_model(2, (int64_t[]){2, 2}, idx, 4, -1);
  Graph *g = NULL;
  Error err = {0};
  if (mb_load(m, NULL, &g, &err) != ST_OK) fail_msg("load: %s", err.msg);
  PipelineOptions po = {0};
  assert_int_not_equal(pass_run_pipeline(g, &po, &err), ST_OK);
  assert_non_null(strstr(err.msg, "gnd"));
  ir_graph_free(g);
  tb_free_all();
}

/* batch_dims != 0 is reported as an unsupported GatherND node. */
static void gathernd_batch_dims_unsupported(void **state) {
  (void)state;
  const int64_t idx[] = {0, 1, 2};
  Onnx__ModelProto *m = gathernd_model(2, (int64_t[]){3, 1}, idx, 3, 1);
  Graph *g = NULL;
  Error err = {0};
  assert_int_equal(mb_load(m, NULL, &g, &err), ST_UNSUPPORTED);
  assert_null(g);
  assert_non_null(strstr(err.msg, "GatherND"));
  tb_free_all();
}

static void f32_init(Onnx__ModelProto *m, const char *name, int64_t n, const float *v) {
  Onnx__TensorProto *t = mb_tensor(name, F32, 1, &n);
  mb_raw(t, v, (size_t)n * sizeof *v);
  mb_init(m, t);
}

/* Loads m, runs the pipeline and evaluates it on one float input. */
static Graph *load_run(const Onnx__ModelProto *m, const float *x, void *const outs[]) {
  Graph *g = NULL;
  Error err = {0};
  if (mb_load(m, NULL, &g, &err) != ST_OK) fail_msg("load: %s", err.msg);
  PipelineOptions po = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("pipeline: %s", err.msg);
  const void *ins[1] = {x};
  if (eval_graph(g, ins, outs, &err) != ST_OK) fail_msg("eval: %s", err.msg);
  return g;
}

/* torch.nn.PReLU(C): PRelu(X, slope[C, 1, 1]), f(x) = slope * x for x < 0. */
static void prelu_per_channel(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 17);
  mb_input(m, mb_vi("x", F32, 4, (int64_t[]){1, 2, 1, 2}, NULL));
  Onnx__TensorProto *t = mb_tensor("slope", F32, 3, (int64_t[]){2, 1, 1});
  mb_raw(t, (float[]){0.25f, -1.0f}, 2 * sizeof(float));
  mb_init(m, t);
  mb_node(m, "PRelu", "prelu", 2, (const char *[]){"x", "slope"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  const float x[4] = {-2, 3, -4, 0.5f};
  float y[4] = {0};
  void *outs[1] = {y};
  Graph *g = load_run(m, x, outs);
  assert_int_equal(g->outputs[0]->rank, 4);
  const float want[4] = {-0.5f, 3, 4, 0.5f}; /* -2 * 0.25, 3, -4 * -1, 0.5 */
  for (int i = 0; i < 4; i++) assert_true(y[i] == want[i]);
  ir_graph_free(g);
  tb_free_all();
}

/* F.batch_norm(training=True) (timm's weight standardization, exported by
 * torch with training_mode=1): batch statistics over N and the spatial axes,
 * plus the spec's running_mean / running_var outputs. */
static void batchnorm_training_mode(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 15);
  mb_input(m, mb_vi("x", F32, 3, (int64_t[]){2, 2, 2}, NULL));
  f32_init(m, "scale", 2, (float[]){2, 1});
  f32_init(m, "bias", 2, (float[]){0, 10});
  f32_init(m, "mean", 2, (float[]){1, 1});
  f32_init(m, "var", 2, (float[]){1, 1});
  Onnx__NodeProto *n = mb_node(m, "BatchNormalization", "bn", 5,
                               (const char *[]){"x", "scale", "bias", "mean", "var"}, 3,
                               (const char *[]){"y", "rm", "rv"});
  mb_attr_int(n, "training_mode", 1);
  mb_attr_float(n, "epsilon", 0.5f);
  mb_attr_float(n, "momentum", 0.5f);
  mb_output(m, "y");
  mb_output(m, "rm");
  mb_output(m, "rv");
  /* x[n][c][l]: channel 0 = {1, 1, 5, 5} (mean 3, var 4), channel 1 =
   * {0, 6, 0, 6} (mean 3, var 9). */
  const float x[8] = {1, 1, 0, 6, 5, 5, 0, 6};
  float y[8] = {0}, rm[2] = {0}, rv[2] = {0};
  void *outs[3] = {y, rm, rv};
  Graph *g = load_run(m, x, outs);
  const double s0 = sqrt(4.5), s1 = sqrt(9.5);
  const double want[8] = {2 * -2 / s0, 2 * -2 / s0, 10 - 3 / s1, 10 + 3 / s1,
                          2 * 2 / s0,  2 * 2 / s0,  10 - 3 / s1, 10 + 3 / s1};
  for (int i = 0; i < 8; i++) assert_true(fabs(y[i] - want[i]) < 1e-5);
  /* input * momentum + batch statistic * (1 - momentum) */
  assert_true(fabsf(rm[0] - 2.0f) < 1e-6f && fabsf(rm[1] - 2.0f) < 1e-6f);
  assert_true(fabsf(rv[0] - 2.5f) < 1e-6f && fabsf(rv[1] - 5.0f) < 1e-6f);
  ir_graph_free(g);
  tb_free_all();
}

/* Elu (alpha 0.5), Selu (spec defaults), Softplus and Mish, checked
 * against the spec formulas evaluated with libm; x = 50 checks that
 * Softplus does not overflow exp. */
static void elu_selu_softplus_mish(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 18);
  mb_input(m, mb_vi("x", F32, 1, (int64_t[]){5}, NULL));
  Onnx__NodeProto *e = mb_node(m, "Elu", "elu", 1, (const char *[]){"x"}, 1,
                               (const char *[]){"elu"});
  mb_attr_float(e, "alpha", 0.5f);
  mb_node(m, "Selu", "selu", 1, (const char *[]){"x"}, 1, (const char *[]){"selu"});
  mb_node(m, "Softplus", "sp", 1, (const char *[]){"x"}, 1, (const char *[]){"sp"});
  mb_node(m, "Mish", "mish", 1, (const char *[]){"x"}, 1, (const char *[]){"mish"});
  const char *names[4] = {"elu", "selu", "sp", "mish"};
  for (int i = 0; i < 4; i++) mb_output(m, names[i]);
  const float x[5] = {-2, -0.25f, 0, 1.5f, 50};
  float y[4][5] = {{0}};
  void *outs[4] = {y[0], y[1], y[2], y[3]};
  Graph *g = load_run(m, x, outs);
  const double alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875;
  for (int i = 0; i < 5; i++) {
    double v = x[i];
    double elu = v > 0 ? v : 0.5 * (exp(v) - 1);
    double selu = v > 0 ? gamma * v : gamma * (alpha * exp(v) - alpha);
    double sp = v > 30 ? v : log1p(exp(v)); /* log(1 + e^50) == 50 in float */
    double mish = v * tanh(sp);
    const double want[4] = {elu, selu, sp, mish};
    for (int k = 0; k < 4; k++)
      if (fabs(y[k][i] - want[k]) > 1e-6 * (1 + fabs(want[k])))
        fail_msg("%s(%g) = %.9g, want %.9g", names[k], v, y[k][i], want[k]);
  }
  ir_graph_free(g);
  tb_free_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gathernd_depth1_is_gather_rows),
      cmocka_unit_test(gathernd_deeper_index_is_an_error),
      cmocka_unit_test(gathernd_batch_dims_unsupported),
      cmocka_unit_test(prelu_per_channel),
      cmocka_unit_test(batchnorm_training_mode),
      cmocka_unit_test(elu_selu_softplus_mish),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
