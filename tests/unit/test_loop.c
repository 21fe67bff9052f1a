/*
 * ONNX Loop end to end: a ModelProto built here (test_frontend_util.h) with
 * a Loop whose body reads an outer initializer `w`, carries v and emits scan
 * outputs, loaded by the frontend (body -> nested Graph, `w` captured as an
 * explicit input), then run through the pass pipeline (the shape rule runs
 * the loop when everything is constant and fold-constants replaces it) or
 * the evaluator.  Expected values are computed by hand in each test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ir/print.h"
#include "ir/subgraph.h"
#include "ir/verify.h"
#include "ops/eval.h"
#include "passes/pass.h"
#include "test_frontend_util.h"

enum { F32 = 1, I64 = 7, BOOL = 9 };

static const float W[2] = {10, 20};

/* Model: x (f32[2], runtime input unless x_const), w = [10,20] initializer,
 * M initializer, cond initializer (or absent when cond < 0).
 *   v_final, scan_vw, scan_i = Loop(M, cond, x)
 *   body(i, c, v): c_out = Identity(c); v_out = Add(v, w);
 *                  s_vw = Mul(v, w); s_i = Cast<float>(i)
 * with_scan=false drops the two scan outputs from the body and the node. */
static Onnx__ModelProto *loop_model(bool x_const, const float *x, int64_t m, int cond,
                                    bool with_scan) {
  Onnx__ModelProto *md = mb_model(8, 17);
  int64_t d2[1] = {2};
  Onnx__TensorProto *wt = mb_tensor("w", F32, 1, d2);
  mb_raw(wt, W, sizeof W);
  mb_init(md, wt);
  Onnx__TensorProto *mt = mb_tensor("M", I64, 0, NULL);
  mb_raw(mt, &m, sizeof m);
  mb_init(md, mt);
  if (cond >= 0) {
    uint8_t c = (uint8_t)cond;
    Onnx__TensorProto *ct = mb_tensor("cond", BOOL, 0, NULL);
    mb_raw(ct, &c, 1);
    mb_init(md, ct);
  }
  if (x_const) {
    Onnx__TensorProto *xt = mb_tensor("x", F32, 1, d2);
    mb_raw(xt, x, 2 * sizeof(float));
    mb_init(md, xt);
  } else {
    mb_input(md, mb_vi("x", F32, 1, d2, NULL));
  }

  Onnx__GraphProto *body = tb_alloc(sizeof *body);
  onnx__graph_proto__init(body);
  body->name = tb_str("loop_body");
  TB_PUSH(body->input, body->n_input, mb_vi("i", I64, 0, NULL, NULL));
  TB_PUSH(body->input, body->n_input, mb_vi("c", BOOL, 0, NULL, NULL));
  TB_PUSH(body->input, body->n_input, mb_vi("v", F32, -1, NULL, NULL));
  const char *id_in[] = {"c"}, *id_out[] = {"c_out"};
  mb_node_in(&body->node, &body->n_node, "Identity", "id", 1, id_in, 1, id_out);
  const char *add_in[] = {"v", "w"}, *add_out[] = {"v_out"};
  mb_node_in(&body->node, &body->n_node, "Add", "add", 2, add_in, 1, add_out);
  const char *body_outs[] = {"c_out", "v_out", "s_vw", "s_i"};
  if (with_scan) {
    const char *mul_out[] = {"s_vw"}, *cast_in[] = {"i"}, *cast_out[] = {"s_i"};
    mb_node_in(&body->node, &body->n_node, "Mul", "mul", 2, add_in, 1, mul_out);
    Onnx__NodeProto *cast = mb_node_in(&body->node, &body->n_node, "Cast", "cast", 1, cast_in, 1,
                                       cast_out);
    mb_attr_int(cast, "to", F32);
  }
  for (int i = 0; i < (with_scan ? 4 : 2); i++) {
    Onnx__ValueInfoProto *vi = tb_alloc(sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = tb_str(body_outs[i]);
    TB_PUSH(body->output, body->n_output, vi);
  }

  const char *loop_in[] = {"M", cond >= 0 ? "cond" : "", "x"};
  const char *loop_out[] = {"v_final", "scan_vw", "scan_i"};
  Onnx__NodeProto *loop = mb_node(md, "Loop", "loop", 3, loop_in, with_scan ? 3 : 1, loop_out);
  Onnx__AttributeProto *a = mb_attr(loop, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = body;
  for (int i = 0; i < (with_scan ? 3 : 1); i++) mb_output(md, loop_out[i]);
  return md;
}

static Graph *load(const Onnx__ModelProto *md) {
  Graph *g = NULL;
  Error err = {0};
  Status st = mb_load(md, NULL, &g, &err);
  if (st != ST_OK) fail_msg("load: %s", err.msg);
  return g;
}

static void run_pipeline(Graph *g) {
  PipelineOptions opt = {.verify_each = true};
  Error err = {0};
  if (pass_run_pipeline(g, &opt, &err) != ST_OK) fail_msg("pipeline: %s", err.msg);
}

static void expect_floats(const Value *v, int rank, const int64_t *dims, const float *want,
                          int count) {
  assert_non_null(v->data);
  assert_int_equal(v->dtype, DT_FLOAT32);
  assert_int_equal(v->rank, rank);
  for (int d = 0; d < rank; d++) assert_int_equal(v->dims[d], dims[d]);
  for (int i = 0; i < count; i++) assert_float_equal(((const float *)v->data)[i], want[i], 0);
}

/* The frontend's form: body inputs (i, c, v, w), w an explicit Loop input. */
static void test_loop_load_captures_outer_value(void **state) {
  (void)state;
  const float x[2] = {1, 2};
  Graph *g = load(loop_model(false, x, 3, 1, true));
  Node *n = tb_find_node(g, OP_LOOP);
  assert_non_null(n);
  Graph *body = ir_node_subgraph(n, "body");
  assert_non_null(body);
  assert_int_equal(body->num_inputs, 4);
  assert_int_equal(body->num_outputs, 4);
  assert_int_equal(n->num_inputs, 4);
  assert_int_equal(ir_attr_int(n, "num_captured", -1), 1);
  assert_string_equal(n->inputs[3]->name, "w");
  assert_non_null(n->inputs[3]->data);
  assert_int_equal(ir_use_count(g, n->inputs[3]), 1);
  Error err = {0};
  if (ir_verify(g, false, &err) != ST_OK) fail_msg("verify: %s", err.msg);
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  assert_non_null(mem);
  ir_print(g, mem);
  fclose(mem);
  assert_non_null(strstr(text, "body=graph @loop_body"));
  assert_non_null(strstr(text, "\n    graph @loop_body("));
  free(text);
  ir_graph_free(g);
  tb_free_all();
}

/* All constant: the pipeline runs the loop and folds it.
 * v: [1,2] -> [11,22] -> [21,42] -> [31,62]; s_vw = v*w before each add. */
static void test_loop_folds_with_scan_outputs(void **state) {
  (void)state;
  const float x[2] = {1, 2};
  Graph *g = load(loop_model(true, x, 3, 1, true));
  run_pipeline(g);
  assert_null(tb_find_node(g, OP_LOOP));
  const int64_t d2[1] = {2}, d32[2] = {3, 2}, d3[1] = {3};
  const float v_final[2] = {31, 62};
  const float s_vw[6] = {10, 40, 110, 440, 210, 840};
  const float s_i[3] = {0, 1, 2};
  expect_floats(g->outputs[0], 1, d2, v_final, 2);
  expect_floats(g->outputs[1], 2, d32, s_vw, 6);
  expect_floats(g->outputs[2], 1, d3, s_i, 3);
  ir_graph_free(g);
  tb_free_all();
}

/* Runtime x, no scan outputs: the Loop stays and the evaluator runs it. */
static void test_loop_evaluates_runtime_input(void **state) {
  (void)state;
  const float x[2] = {-5, 0.5f};
  Graph *g = load(loop_model(false, x, 4, -1, false));
  run_pipeline(g);
  assert_non_null(tb_find_node(g, OP_LOOP));
  float out[2] = {0};
  const void *ins[1] = {x};
  void *outs[1] = {out};
  Error err = {0};
  if (eval_graph(g, ins, outs, &err) != ST_OK) fail_msg("eval: %s", err.msg);
  assert_float_equal(out[0], -5 + 4 * 10, 0);
  assert_float_equal(out[1], 0.5f + 4 * 20, 0);
  ir_graph_free(g);
  tb_free_all();
}

/* cond false before the first iteration: v_final = x, scans are empty. */
static void test_loop_cond_false_runs_zero_times(void **state) {
  (void)state;
  const float x[2] = {7, 8};
  Graph *g = load(loop_model(true, x, 3, 0, true));
  run_pipeline(g);
  const int64_t d2[1] = {2}, d02[2] = {0, 2}, d0[1] = {0};
  expect_floats(g->outputs[0], 1, d2, x, 2);
  assert_int_equal(g->outputs[1]->rank, 2);
  assert_int_equal(g->outputs[1]->dims[0], d02[0]);
  assert_int_equal(g->outputs[1]->dims[1], d02[1]);
  assert_int_equal(g->outputs[2]->rank, 1);
  assert_int_equal(g->outputs[2]->dims[0], d0[0]);
  ir_graph_free(g);
  tb_free_all();
}

/* Scan outputs of a loop over runtime data have no static length. */
static void test_loop_runtime_scan_is_refused(void **state) {
  (void)state;
  const float x[2] = {1, 2};
  Graph *g = load(loop_model(false, x, 3, 1, true));
  PipelineOptions opt = {0};
  Error err = {0};
  assert_int_equal(pass_run_pipeline(g, &opt, &err), ST_UNSUPPORTED);
  assert_non_null(strstr(err.msg, "data-dependent trip count"));
  assert_non_null(strstr(err.msg, "must be a constant"));
  ir_graph_free(g);
  tb_free_all();
}

/* More than 2^24 iterations is refused, not run. */
static void test_loop_iteration_bound(void **state) {
  (void)state;
  const float x[2] = {1, 2};
  Graph *g = load(loop_model(true, x, ((int64_t)1 << 24) + 1, 1, true));
  PipelineOptions opt = {0};
  Error err = {0};
  assert_int_equal(pass_run_pipeline(g, &opt, &err), ST_UNSUPPORTED);
  assert_non_null(strstr(err.msg, "exceeds the bound"));
  assert_non_null(strstr(err.msg, "\"loop\" (Loop"));
  ir_graph_free(g);
  tb_free_all();
}

/* If keeps its graph attributes refused, with a clear message. */
static void test_if_stays_refused(void **state) {
  (void)state;
  Onnx__ModelProto *md = mb_model(8, 17);
  mb_input(md, mb_vi("c", BOOL, 0, NULL, NULL));
  const char *ins[] = {"c"}, *outs[] = {"y"};
  Onnx__NodeProto *n = mb_node(md, "If", "if", 1, ins, 1, outs);
  Onnx__GraphProto *br = tb_alloc(sizeof *br);
  onnx__graph_proto__init(br);
  mb_attr(n, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = br;
  mb_output(md, "y");
  Graph *g = NULL;
  Error err = {0};
  assert_int_equal(mb_load(md, NULL, &g, &err), ST_UNSUPPORTED);
  assert_null(g);
  assert_non_null(strstr(err.msg, "nested graphs are not supported"));
  tb_free_all();
}

/* A constant loop of 2^24 iterations would run at compile time (folding)
 * for a minute: refused, naming the bound, in well under a second. */
static void test_loop_work_is_bounded(void **state) {
  (void)state;
  const float x[2] = {1, 2};
  Graph *g = load(loop_model(true, x, (int64_t)1 << 24, 1, false));
  PipelineOptions opt = {.verify_each = true};
  Error err = {0};
  assert_int_not_equal(pass_run_pipeline(g, &opt, &err), ST_OK);
  assert_non_null(strstr(err.msg, "\"loop\""));
  assert_non_null(strstr(err.msg, "Loop would take more than"));
  ir_graph_free(g);
  tb_free_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loop_load_captures_outer_value),
      cmocka_unit_test(test_loop_folds_with_scan_outputs),
      cmocka_unit_test(test_loop_evaluates_runtime_input),
      cmocka_unit_test(test_loop_cond_false_runs_zero_times),
      cmocka_unit_test(test_loop_runtime_scan_is_refused),
      cmocka_unit_test(test_loop_iteration_bound),
      cmocka_unit_test(test_if_stays_refused),
      cmocka_unit_test(test_loop_work_is_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
