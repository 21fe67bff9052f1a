/*
 * Tests of the fuse-elementwise pass, the onnxc.FusedElementwise reference
 * kernel and its vector lowering: golden IR for fused chains / trees and for
 * the cases that must not fuse, the evaluator's results before and after the
 * pass (the unfused ops are the independent reference), and differential
 * runs of the compiled fused node against the evaluator with odd shapes.
 */
#include "golden_util.h"

#include <math.h>

#include "ir/verify.h"
#include "ops/elementwise_fused.h"
#include "ops/eval.h"
#include "passes/pass.h"
#include "test_cg_vec_util.h"
#include "tests/support/cg_harness.h"

static unsigned rng_state = 12345u;
static float rnd(float lo, float hi) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return lo + (hi - lo) * (float)((rng_state >> 8) & 0xFFFFFF) / (float)0x1000000;
}

static int live_count(const Graph *g, OpKind op) {
  int c = 0;
  for (int i = 0; i < g->num_nodes; i++) c += !g->nodes[i]->dead && g->nodes[i]->op == op;
  return c;
}

static const Node *first_node(const Graph *g, OpKind op) {
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == op) return g->nodes[i];
  return NULL;
}

/* Random inputs in [lo, hi) for every graph input. */
static void **make_inputs(const Graph *g, float lo, float hi) {
  void **ins = calloc((size_t)g->num_inputs + 1, sizeof *ins);
  assert_non_null(ins);
  for (int i = 0; i < g->num_inputs; i++) {
    int64_t n = ir_value_numel(g->inputs[i]);
    float *p = malloc((size_t)n * sizeof(float) + 4);
    assert_non_null(p);
    for (int64_t k = 0; k < n; k++) p[k] = rnd(lo, hi);
    ins[i] = p;
  }
  return ins;
}

static void **eval_outputs(const Graph *g, void **ins) {
  void **outs = calloc((size_t)g->num_outputs + 1, sizeof *outs);
  assert_non_null(outs);
  for (int i = 0; i < g->num_outputs; i++) {
    outs[i] = malloc(ir_value_nbytes(g->outputs[i]) + 4);
    assert_non_null(outs[i]);
  }
  Error err = {0};
  if (eval_graph(g, (const void *const *)ins, outs, &err) != ST_OK) fail_msg("%s", err.msg);
  return outs;
}

static void free_bufs(void **b, int n) {
  for (int i = 0; i < n; i++) free(b[i]);
  free(b);
}

/* Evaluates g, runs fuse-elementwise (golden-checked), evaluates again and
 * requires the results to agree within 1e-6 relative. */
static void run_case(Graph *g, const char *golden, float lo, float hi) {
  g_type_all(g);
  void **ins = make_inputs(g, lo, hi);
  void **before = eval_outputs(g, ins);
  const PassInfo *p = pass_find("fuse-elementwise");
  assert_non_null(p);
  char *text_before = print_to_string(g, ir_print);
  Error err = {0};
  if (p->fn(g, &err) != ST_OK) fail_msg("fuse-elementwise: %s", err.msg);
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("verify: %s", err.msg);
  char *text_after = print_to_string(g, ir_print);
  size_t n = strlen(text_before) + strlen(text_after) + 64;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "; input\n%s; after fuse-elementwise\n%s", text_before, text_after);
  char rel[256];
  snprintf(rel, sizeof rel, "fuse-elementwise/%s.txt", golden);
  check_golden(rel, text);
  free(text_before);
  free(text_after);
  free(text);
  void **after = eval_outputs(g, ins);
  for (int o = 0; o < g->num_outputs; o++) {
    const float *a = before[o], *b = after[o];
    int64_t cnt = ir_value_numel(g->outputs[o]);
    for (int64_t k = 0; k < cnt; k++)
      if (!(fabsf(a[k] - b[k]) <= 1e-6f * fabsf(a[k]) || (isnan(a[k]) && isnan(b[k]))))
        fail_msg("output %d element %lld: %.9g before, %.9g after", o, (long long)k, a[k], b[k]);
  }
  free_bufs(ins, g->num_inputs);
  free_bufs(before, g->num_outputs);
  free_bufs(after, g->num_outputs);
}

static void expect_program(const Node *f, const int64_t *want, int n) {
  const int64_t *prog;
  int np = ir_attr_ints(f, "program", &prog);
  assert_int_equal(np, n);
  for (int i = 0; i < n; i++) assert_int_equal(prog[i], want[i]);
}

static void fuses_add_relu(void **state) {
  (void)state;
  Graph *g = ir_graph_new("add_relu", "test.onnx");
  g->opset = 17;
  int64_t d[2] = {3, 5};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, d), *y = g_input(g, "y", DT_FLOAT32, 2, d);
  Value *s = g_out(g_node(g, OP_ADD, "add", "s", 2, x, y));
  g_output(g, g_out(g_node(g, OP_RELU, "relu", "r", 1, s)));
  run_case(g, "add_relu", -1, 1);
  assert_int_equal(g->num_nodes, 1);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  assert_int_equal(f->num_inputs, 2);
  assert_ptr_equal(f->inputs[0], x);
  assert_ptr_equal(f->inputs[1], y);
  int64_t want[8] = {FE_LOAD, 0, FE_LOAD, 1, FE_ADD, 0, FE_RELU, 0};
  expect_program(f, want, 8);
  ir_graph_free(g);
}

/* x * sigmoid(1.702 * x + b): the SiLU-like GELU approximation with a
 * per-column bias constant. */
static void fuses_mul_add_sigmoid_mul(void **state) {
  (void)state;
  Graph *g = ir_graph_new("sigmoid_gate", "test.onnx");
  g->opset = 17;
  int64_t d[2] = {4, 5}, one = 5;
  float k = 1.702f, bias[5] = {0.5f, -0.25f, 0.0f, 1.0f, -2.0f};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, d);
  Value *ck = g_const_f32(g, "k", 0, NULL, &k), *cb = g_const_f32(g, "b", 1, &one, bias);
  Value *m = g_out(g_node(g, OP_MUL, "mul", "m", 2, x, ck));
  Value *a = g_out(g_node(g, OP_ADD, "add", "a", 2, m, cb));
  Value *s = g_out(g_node(g, OP_SIGMOID, "sig", "s", 1, a));
  g_output(g, g_out(g_node(g, OP_MUL, "gate", "y", 2, s, x)));
  run_case(g, "sigmoid_gate", -4, 4);
  assert_int_equal(g->num_nodes, 1);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  /* The scalar k is an immediate (params[0]); b stays an input. */
  assert_int_equal(f->num_inputs, 2);
  assert_ptr_equal(f->inputs[0], x);
  assert_ptr_equal(f->inputs[1], cb);
  const float *prm;
  assert_int_equal(ir_attr_floats(f, "params", &prm), 1);
  assert_true(prm[0] == k);
  (void)ck;
  int64_t want[14] = {FE_LOAD, 0, FE_CONST, 0, FE_MUL, 0, FE_LOAD, 1, FE_ADD, 0,
                      FE_SIGMOID, 0, FE_LOAD, 0};
  const int64_t *prog;
  assert_int_equal(ir_attr_ints(f, "program", &prog), 16);
  for (int i = 0; i < 14; i++) assert_int_equal(prog[i], want[i]);
  assert_int_equal(prog[14], FE_MUL);
  /* y = x * sigmoid(1.702x + b) at x = 1, column 0: 1/(1+e^-2.202). */
  ir_graph_free(g);
}

/* abs(tanh(a) - a * b) + clip(leaky(a)) with b [3,1] broadcast onto a [2,3,4]; exp(b) has
 * b's small shape and stays a separate node. */
static void fuses_tree_with_broadcast(void **state) {
  (void)state;
  Graph *g = ir_graph_new("tree", "test.onnx");
  g->opset = 17;
  int64_t da[3] = {2, 3, 4}, db[2] = {3, 1};
  float lo = -0.05f, hi = 0.5f;
  Value *a = g_input(g, "a", DT_FLOAT32, 3, da), *b = g_input(g, "b", DT_FLOAT32, 2, db);
  Value *eb = g_out(g_node(g, OP_EXP, "expb", "eb", 1, b));
  Value *t = g_out(g_node(g, OP_TANH, "tanh", "t", 1, a));
  Value *q = g_out(g_node(g, OP_MUL, "mul", "q", 2, a, eb));
  Value *r = g_out(g_node(g, OP_SUB, "sub", "r", 2, t, q));
  Value *ab = g_out(g_node(g, OP_ABS, "abs", "ab", 1, r));
  Node *lk = g_node(g, OP_LEAKY_RELU, "leaky", "l", 1, a);
  assert_int_equal(ir_node_set_attr_float(g, lk, "alpha", 0.1f, NULL), ST_OK);
  Value *cl = g_out(g_node(g, OP_CLIP, "clip", "c", 3, g_out(lk), g_const_f32(g, "lo", 0, NULL, &lo),
                           g_const_f32(g, "hi", 0, NULL, &hi)));
  g_output(g, g_out(g_node(g, OP_ADD, "sum", "y", 2, ab, cl)));
  run_case(g, "tree", -2, 2);
  assert_int_equal(g->num_nodes, 2);
  assert_int_equal(live_count(g, OP_EXP), 1);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  assert_int_equal(f->num_inputs, 2);
  assert_ptr_equal(f->inputs[0], a);
  assert_ptr_equal(f->inputs[1], eb);
  const float *prm;
  assert_int_equal(ir_attr_floats(f, "params", &prm), 3);
  assert_true(prm[0] == 0.1f && prm[1] == lo && prm[2] == hi);
  ir_graph_free(g);
}

static void keeps_shared_intermediate(void **state) {
  (void)state;
  Graph *g = ir_graph_new("shared", "test.onnx");
  g->opset = 17;
  int64_t d[1] = {7};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d), *y = g_input(g, "y", DT_FLOAT32, 1, d);
  Value *s = g_out(g_node(g, OP_ADD, "add", "s", 2, x, y));
  g_output(g, g_out(g_node(g, OP_RELU, "relu", "r", 1, s)));
  g_output(g, g_out(g_node(g, OP_SIGMOID, "sig", "q", 1, s)));
  run_case(g, "shared", -1, 1);
  assert_int_equal(g->num_nodes, 3);
  assert_int_equal(live_count(g, OP_FUSED_ELEMENTWISE), 0);
  ir_graph_free(g);
}

static void keeps_output_intermediate(void **state) {
  (void)state;
  Graph *g = ir_graph_new("output", "test.onnx");
  g->opset = 17;
  int64_t d[1] = {7};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d), *y = g_input(g, "y", DT_FLOAT32, 1, d);
  Value *s = g_out(g_node(g, OP_ADD, "add", "s", 2, x, y));
  g_output(g, s);
  g_output(g, g_out(g_node(g, OP_RELU, "relu", "r", 1, s)));
  run_case(g, "output", -1, 1);
  assert_int_equal(g->num_nodes, 2);
  assert_int_equal(live_count(g, OP_FUSED_ELEMENTWISE), 0);
  ir_graph_free(g);
}

/* Hand-computed reference values through the fused kernel:
 * relu(x + y) and clip(x * x, 0, 2) on a few points. */
static void kernel_hand_values(void **state) {
  (void)state;
  Graph *g = ir_graph_new("hand", "test.onnx");
  g->opset = 17;
  int64_t d[1] = {4};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d), *y = g_input(g, "y", DT_FLOAT32, 1, d);
  Node *f = g_node(g, OP_FUSED_ELEMENTWISE, "f", "z", 2, x, y);
  int64_t prog[16] = {FE_LOAD, 0, FE_LOAD, 1, FE_ADD, 0, FE_RELU, 0,
                      FE_LOAD, 0, FE_POW, 2, FE_CLIP, 0, FE_MAX, 0};
  assert_int_equal(ir_node_set_attr_ints(g, f, "program", prog, 16, NULL), ST_OK);
  float prm[3] = {0.0f, 2.0f, 2.0f};
  Attr a = {.name = "params", .kind = ATTR_FLOATS, .n = 3, .floats = prm};
  assert_int_equal(ir_node_set_attr(g, f, &a, NULL), ST_OK);
  g_type_all(g);
  g_output(g, g_out(f));
  float xv[4] = {1.0f, -3.0f, 0.5f, 2.0f}, yv[4] = {2.0f, 1.0f, -1.0f, -0.5f};
  /* max(relu(x+y), clip(x^2, 0, 2)): max(3,1)=3, max(0,2)=2, max(0,0.25)=.25, max(1.5,2)=2 */
  float want[4] = {3.0f, 2.0f, 0.25f, 2.0f}, got[4];
  const void *ins[2] = {xv, yv};
  void *outs[1] = {got};
  Error err = {0};
  if (eval_graph(g, ins, outs, &err) != ST_OK) fail_msg("%s", err.msg);
  for (int i = 0; i < 4; i++) assert_true(got[i] == want[i]);
  /* A malformed program is rejected by the shape rule, not crashed on. */
  int64_t bad[4] = {FE_LOAD, 5, FE_RELU, 0};
  assert_int_equal(ir_node_set_attr_ints(g, f, "program", bad, 4, NULL), ST_OK);
  assert_int_not_equal(ops_infer_node(g, f, &err), ST_OK);
  int64_t under[2] = {FE_ADD, 0};
  assert_int_equal(ir_node_set_attr_ints(g, f, "program", under, 2, NULL), ST_OK);
  assert_int_not_equal(ops_infer_node(g, f, &err), ST_OK);
  ir_graph_free(g);
}

/* Builds a random chain over inputs of the given shapes, fuses it, checks the
 * node is really lowered, and compares compiled code with the evaluator. */
static void differential(int variant, int rank, const int64_t *od, int nb, const int64_t *bd) {
  Graph *g = ir_graph_new("cg", "test.onnx");
  g->opset = 17;
  Value *x = g_input(g, "x", DT_FLOAT32, rank, od);
  Value *bb = g_input(g, "b", DT_FLOAT32, nb, bd);
  Value *v;
  float two = 2.0f, half = 0.5f, lo = -0.3f, hi = 0.8f;
  switch (variant) {
  case 0: { /* relu(x + b) * sigmoid(x) - tanh(x) */
    Value *s = g_out(g_node(g, OP_ADD, "a", "s", 2, x, bb));
    Value *r = g_out(g_node(g, OP_RELU, "r", "r", 1, s));
    Value *sg = g_out(g_node(g, OP_SIGMOID, "sg", "sg", 1, x));
    Value *m = g_out(g_node(g, OP_MUL, "m", "m", 2, r, sg));
    Value *t = g_out(g_node(g, OP_TANH, "t", "t", 1, x));
    v = g_out(g_node(g, OP_SUB, "o", "o", 2, m, t));
    break;
  }
  case 1: { /* min(max(gelu(x) / (exp(x*b) + 2), hardswish(x)), x) */
    Node *ge = g_node(g, OP_GELU, "ge", "ge", 1, x);
    Value *p = g_out(g_node(g, OP_MUL, "p", "p", 2, x, bb));
    Value *e = g_out(g_node(g, OP_EXP, "e", "e", 1, p));
    Value *one = g_const_f32(g, "one", 0, NULL, &two);
    Value *e1 = g_out(g_node(g, OP_ADD, "e1", "e1", 2, e, one));
    Value *dv = g_out(g_node(g, OP_DIV, "dv", "dv", 2, g_out(ge), e1));
    Value *hs = g_out(g_node(g, OP_HARD_SWISH, "hs", "hs", 1, x));
    Value *mx = g_out(g_node(g, OP_MAX, "mx", "mx", 2, dv, hs));
    v = g_out(g_node(g, OP_MIN, "mn", "mn", 2, mx, x));
    break;
  }
  case 3: { /* paddle2onnx's LearnableAffineBlock around HardSwish: [1]-shaped scalars */
    int64_t one = 1;
    float s1 = 1.3f, b1 = -0.2f, s2 = 0.7f, b2 = 0.05f;
    Value *m1 = g_out(g_node(g, OP_MUL, "m1", "m1", 2, x, g_const_f32(g, "s1", 1, &one, &s1)));
    Value *a1 = g_out(g_node(g, OP_ADD, "a1", "a1", 2, m1, g_const_f32(g, "b1", 1, &one, &b1)));
    Value *hs = g_out(g_node(g, OP_HARD_SWISH, "hs", "hs", 1, a1));
    Value *m2 = g_out(g_node(g, OP_MUL, "m2", "m2", 2, hs, g_const_f32(g, "s2", 1, &one, &s2)));
    Value *a2 = g_out(g_node(g, OP_ADD, "a2", "a2", 2, m2, g_const_f32(g, "b2", 1, &one, &b2)));
    v = g_out(g_node(g, OP_MUL, "o", "o", 2, a2, bb));
    break;
  }
  default: { /* (abs(x)^0.5)^2 + clip(hardsigmoid(-x)) * sigmoid(erf(log(1/exp(x*b)))) */
    Value *ab = g_out(g_node(g, OP_ABS, "ab", "ab", 1, x));
    Value *sq = g_out(g_node(g, OP_POW, "sq", "sq", 2, ab, g_const_f32(g, "h", 0, NULL, &half)));
    Value *p2 = g_out(g_node(g, OP_POW, "p2", "p2", 2, sq, g_const_f32(g, "t", 0, NULL, &two)));
    Value *ng = g_out(g_node(g, OP_NEG, "ng", "ng", 1, x));
    Node *hsn = g_node(g, OP_HARD_SIGMOID, "hsg", "hsg", 1, ng);
    assert_int_equal(ir_node_set_attr_float(g, hsn, "alpha", 0.3f, NULL), ST_OK);
    Value *cl = g_out(g_node(g, OP_CLIP, "cl", "cl", 3, g_out(hsn),
                             g_const_f32(g, "lo", 0, NULL, &lo), g_const_f32(g, "hi", 0, NULL, &hi)));
    Value *bsq = g_out(g_node(g, OP_MUL, "bsq", "bsq", 2, x, bb));
    Value *ex = g_out(g_node(g, OP_EXP, "ex", "ex", 1, bsq));
    Value *rc = g_out(g_node(g, OP_RECIPROCAL, "rc", "rc", 1, ex));
    Value *lg = g_out(g_node(g, OP_LOG, "lg", "lg", 1, rc));
    Value *er = g_out(g_node(g, OP_ERF, "er", "er", 1, lg));
    Value *sl = g_out(g_node(g, OP_SIGMOID, "sl", "sl", 1, er));
    Value *ml = g_out(g_node(g, OP_MUL, "ml", "ml", 2, cl, sl));
    v = g_out(g_node(g, OP_ADD, "o", "o", 2, p2, ml));
    break;
  }
  }
  g_type_all(g);
  g_output(g, v);
  Error err = {0};
  if (pass_find("fuse-elementwise")->fn(g, &err) != ST_OK) fail_msg("%s", err.msg);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  assert_true(vu_lowered(g, f));
  void **ins = make_inputs(g, -2, 2);
  CgCompare cmp;
  Status st = cgh_differential(g, 3, (const void *const *)ins, 1e-4, 1e-5, &cmp, &err);
  free_bufs(ins, g->num_inputs);
  if (st != ST_OK) fail_msg("variant %d: %s", variant, err.msg);
  if (!cmp.ok) fail_msg("variant %d: max abs %.3g, max rel %.3g", variant, cmp.max_abs, cmp.max_rel);
  ir_graph_free(g);
}

static void cg_fused_odd_shapes(void **state) {
  (void)state;
  int64_t o1[3] = {3, 5, 7}, b1[2] = {5, 1};
  differential(0, 3, o1, 2, b1);
  int64_t o2[2] = {13, 37}, b2[1] = {37};
  differential(1, 2, o2, 1, b2);
  int64_t o3[4] = {2, 3, 1, 29}, b3[4] = {1, 3, 1, 1};
  differential(2, 4, o3, 4, b3);
  int64_t o4[1] = {1}, b4[1] = {1};
  differential(0, 1, o4, 1, b4);
  int64_t o5[2] = {11, 17}, b5[2] = {11, 17};
  differential(2, 2, o5, 2, b5);
  differential(1, 2, o5, 2, b5);
  differential(3, 4, o3, 4, b3);
  differential(3, 2, o2, 1, b2);
}

/* A LearnableAffineBlock chain: its four scalar constants become FE_CONST
 * immediates, so the fused node has one input. */
static void fuses_scalar_constants_as_immediates(void **state) {
  (void)state;
  Graph *g = ir_graph_new("affine_hardswish", "test.onnx");
  g->opset = 14;
  int64_t d[4] = {1, 2, 3, 4}, one = 1;
  float s1 = 1.5f, b1 = 0.25f, s2 = -0.5f, b2 = 2.0f;
  Value *x = g_input(g, "x", DT_FLOAT32, 4, d);
  Value *m1 = g_out(g_node(g, OP_MUL, "m1", "m1", 2, x, g_const_f32(g, "s1", 1, &one, &s1)));
  Value *a1 = g_out(g_node(g, OP_ADD, "a1", "a1", 2, m1, g_const_f32(g, "b1", 1, &one, &b1)));
  Value *hs = g_out(g_node(g, OP_HARD_SWISH, "hs", "hs", 1, a1));
  Value *m2 = g_out(g_node(g, OP_MUL, "m2", "m2", 2, hs, g_const_f32(g, "s2", 1, &one, &s2)));
  g_output(g, g_out(g_node(g, OP_ADD, "a2", "y", 2, m2, g_const_f32(g, "b2", 0, NULL, &b2))));
  run_case(g, "affine_hardswish", -5, 5);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  assert_int_equal(f->num_inputs, 1);
  int64_t want[18] = {FE_LOAD, 0, FE_CONST, 0, FE_MUL, 0, FE_CONST, 1, FE_ADD, 0,
                      FE_HARD_SWISH, 0, FE_CONST, 2, FE_MUL, 0, FE_CONST, 3};
  const int64_t *prog;
  assert_int_equal(ir_attr_ints(f, "program", &prog), 20);
  for (int i = 0; i < 18; i++) assert_int_equal(prog[i], want[i]);
  const float *prm;
  assert_int_equal(ir_attr_floats(f, "params", &prm), 4);
  assert_true(prm[0] == s1 && prm[1] == b1 && prm[2] == s2 && prm[3] == b2);
  ir_graph_free(g);
}

/* x[3] * c[1,1] is [1,3]: the scalar gives the result its rank, so it must
 * stay an input (as an immediate the fused node would be [3]). */
static void keeps_rank_giving_scalar_as_input(void **state) {
  (void)state;
  Graph *g = ir_graph_new("rank_scalar", "test.onnx");
  g->opset = 17;
  int64_t d[1] = {3}, d11[2] = {1, 1};
  float k = 3.0f;
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d);
  Value *m = g_out(g_node(g, OP_MUL, "m", "m", 2, x, g_const_f32(g, "k", 2, d11, &k)));
  g_output(g, g_out(g_node(g, OP_RELU, "r", "y", 1, m)));
  run_case(g, "rank_scalar", -1, 1);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  assert_int_equal(f->num_inputs, 2);
  assert_int_equal(f->outputs[0]->rank, 2);
  ir_graph_free(g);
}

/* Eight tensor inputs (the most a fused node takes) through the vector
 * kernel, with per-channel, per-row and full-shape operands. */
static void cg_fused_eight_inputs(void **state) {
  (void)state;
  Graph *g = ir_graph_new("eight", "test.onnx");
  g->opset = 17;
  int64_t full[4] = {2, 3, 5, 7}, chan[3] = {3, 1, 1}, row[2] = {5, 1}, last[1] = {7};
  Value *in[8];
  const char *names[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (int i = 0; i < 8; i++) {
    if (i % 4 == 1) in[i] = g_input(g, names[i], DT_FLOAT32, 3, chan);
    else if (i % 4 == 2) in[i] = g_input(g, names[i], DT_FLOAT32, 2, row);
    else if (i == 7) in[i] = g_input(g, names[i], DT_FLOAT32, 1, last);
    else in[i] = g_input(g, names[i], DT_FLOAT32, 4, full);
  }
  OpKind ops[7] = {OP_ADD, OP_MUL, OP_SUB, OP_MAX, OP_MUL, OP_ADD, OP_MIN};
  Value *v = in[0];
  for (int i = 1; i < 8; i++) {
    char nm[8];
    snprintf(nm, sizeof nm, "n%d", i);
    v = g_out(g_node(g, ops[i - 1], nm, nm, 2, v, in[i]));
  }
  g_output(g, g_out(g_node(g, OP_TANH, "t", "y", 1, v)));
  g_type_all(g);
  Error err = {0};
  if (pass_find("fuse-elementwise")->fn(g, &err) != ST_OK) fail_msg("%s", err.msg);
  const Node *f = first_node(g, OP_FUSED_ELEMENTWISE);
  assert_non_null(f);
  assert_int_equal(f->num_inputs, 8);
  assert_true(vu_lowered(g, f));
  void **ins = make_inputs(g, -2, 2);
  CgCompare cmp;
  Status st = cgh_differential(g, 3, (const void *const *)ins, 1e-4, 1e-5, &cmp, &err);
  free_bufs(ins, g->num_inputs);
  if (st != ST_OK) fail_msg("%s", err.msg);
  if (!cmp.ok) fail_msg("max abs %.3g, max rel %.3g", cmp.max_abs, cmp.max_rel);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fuses_add_relu),
      cmocka_unit_test(fuses_mul_add_sigmoid_mul),
      cmocka_unit_test(fuses_tree_with_broadcast),
      cmocka_unit_test(keeps_shared_intermediate),
      cmocka_unit_test(keeps_output_intermediate),
      cmocka_unit_test(kernel_hand_values),
      cmocka_unit_test(cg_fused_odd_shapes),
      cmocka_unit_test(fuses_scalar_constants_as_immediates),
      cmocka_unit_test(keeps_rank_giving_scalar_as_input),
      cmocka_unit_test(cg_fused_eight_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
