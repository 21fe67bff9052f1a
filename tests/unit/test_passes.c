/*
 * Golden tests of the individual passes: each test builds a small graph
 * with the ir/graph.h API, runs one pass, and compares "input IR -> IR
 * after the pass" with tests/golden/<pass>/<case>.txt (reviewed by hand;
 * ONNXC_UPDATE_GOLDEN=1 rewrites them).  Each test also asserts the key
 * facts directly (types, folded values, node counts), computed by hand.
 */
#include "golden_util.h"

#include "ir/verify.h"
#include "passes/pass.h"

/* Prints g, runs pass `name`, verifies, prints again, compares both with the golden file. */
static void run_golden(Graph *g, const char *name, const char *golden) {
  const PassInfo *p = pass_find(name);
  assert_non_null(p);
  char *before = print_to_string(g, ir_print);
  Error err = {0};
  if (p->fn(g, &err) != ST_OK) fail_msg("%s: %s", name, err.msg);
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("verify after %s: %s", name, err.msg);
  char *after = print_to_string(g, ir_print);
  size_t n = strlen(before) + strlen(after) + 128;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "; input\n%s; after %s\n%s", before, name, after);
  char rel[256];
  snprintf(rel, sizeof rel, "%s/%s.txt", name, golden);
  check_golden(rel, text);
  free(before);
  free(after);
  free(text);
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

/* torch's dynamic reshape: x.reshape(x.shape[0], -1) exported as
 * Shape -> Gather -> Unsqueeze -> Concat -> Reshape. */
static void infer_shapes_folds_reshape_chain(void **state) {
  (void)state;
  Graph *g = ir_graph_new("reshape_chain", "test.onnx");
  g->opset = 13;
  int64_t xd[3] = {2, 3, 4}, one[1] = {1};
  int64_t zero = 0, minus1 = -1;
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *s = g_out(g_node(g, OP_SHAPE, "/Shape", "s", 1, x));
  Node *gat = g_node(g, OP_GATHER, "/Gather", "g", 2, s, g_const_i64(g, "idx", 0, NULL, &zero));
  assert_int_equal(ir_node_set_attr_int(g, gat, "axis", 0, NULL), ST_OK);
  Value *u = g_out(g_node(g, OP_UNSQUEEZE, "/Unsqueeze", "u", 2, g_out(gat),
                          g_const_i64(g, "axes", 1, one, &zero)));
  Node *cat = g_node(g, OP_CONCAT, "/Concat", "cat", 2, u, g_const_i64(g, "m1", 1, one, &minus1));
  assert_int_equal(ir_node_set_attr_int(g, cat, "axis", 0, NULL), ST_OK);
  Value *y = g_out(g_node(g, OP_RESHAPE, "/Reshape", "y", 2, x, g_out(cat)));
  Value *r = g_out(g_node(g, OP_RELU, "/Relu", "out", 1, y));
  g_output(g, r);

  run_golden(g, "infer-shapes", "reshape_chain");

  /* Only Reshape and Relu remain; Reshape reads the folded constant [2, -1]. */
  assert_int_equal(g->num_nodes, 2);
  const Node *rs = first_node(g, OP_RESHAPE);
  assert_non_null(rs);
  const Value *shape = rs->inputs[1];
  assert_true(ir_value_is_const(shape));
  assert_int_equal(ir_value_numel(shape), 2);
  assert_int_equal(((const int64_t *)shape->data)[0], 2);
  assert_int_equal(((const int64_t *)shape->data)[1], -1);
  assert_string_equal(shape->const_origin, "/Concat");
  assert_int_equal(rs->outputs[0]->rank, 2);
  assert_int_equal(rs->outputs[0]->dims[0], 2);
  assert_int_equal(rs->outputs[0]->dims[1], 12);
  for (int i = 0; i < g->num_values; i++) assert_true(ir_value_is_static(g->values[i]));
  ir_graph_free(g);
}

/* Shape folds from the static type even though x is not constant; a
 * constant Add above the element bound (65536) is left for fold-constants. */
static void infer_shapes_bounds_folding(void **state) {
  (void)state;
  Graph *g = ir_graph_new("bounds", "test.onnx");
  g->opset = 13;
  int64_t xd[2] = {5, 7}, big[1] = {70000};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, xd);
  Value *s = g_out(g_node(g, OP_SHAPE, "shape", "s", 1, x));
  Value *c = g_const_f32(g, "c", 1, big, NULL);
  Value *a = g_out(g_node(g, OP_ADD, "add", "a", 2, c, c));
  g_output(g, s);
  g_output(g, a);
  Error err = {0};
  if (pass_infer_shapes(g, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(live_count(g, OP_SHAPE), 0);
  assert_int_equal(live_count(g, OP_ADD), 1);
  assert_true(ir_value_is_const(g->outputs[0]));
  assert_int_equal(((const int64_t *)g->outputs[0]->data)[0], 5);
  assert_int_equal(((const int64_t *)g->outputs[0]->data)[1], 7);
  assert_int_equal(g->outputs[1]->dims[0], 70000);
  ir_graph_free(g);
}

static void infer_shapes_reports_bad_node(void **state) {
  (void)state;
  Graph *g = ir_graph_new("bad", "bad.onnx");
  g->opset = 13;
  int64_t ad[2] = {2, 3}, bd[2] = {4, 5};
  Value *a = g_input(g, "a", DT_FLOAT32, 2, ad);
  Value *b = g_input(g, "b", DT_FLOAT32, 2, bd);
  g_output(g, g_out(g_node(g, OP_ADD, "the_add", "y", 2, a, b)));
  Error err = {0};
  assert_int_not_equal(pass_infer_shapes(g, &err), ST_OK);
  assert_non_null(strstr(err.msg, "bad.onnx: node \"the_add\" (Add"));
  ir_graph_free(g);
}

/* (1,2) + (3,4) = (4,6); (4,6) * (3,4) = (12,24); x + that stays. */
static void fold_constants_evaluates_chain(void **state) {
  (void)state;
  Graph *g = ir_graph_new("fold", "test.onnx");
  g->opset = 13;
  int64_t d2[1] = {2};
  float c1v[2] = {1, 2}, c2v[2] = {3, 4};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d2);
  Value *c1 = g_const_f32(g, "c1", 1, d2, c1v);
  Value *c2 = g_const_f32(g, "c2", 1, d2, c2v);
  Value *a = g_out(g_node(g, OP_ADD, "add_c", "a", 2, c1, c2));
  Value *m = g_out(g_node(g, OP_MUL, "mul_c", "m", 2, a, c2));
  g_output(g, g_out(g_node(g, OP_ADD, "add_x", "y", 2, x, m)));
  g_type_all(g);

  run_golden(g, "fold-constants", "add_mul_chain");

  assert_int_equal(g->num_nodes, 1);
  const Value *k = g->nodes[0]->inputs[1];
  assert_true(ir_value_is_const(k));
  assert_float_equal(((const float *)k->data)[0], 12.0f, 0);
  assert_float_equal(((const float *)k->data)[1], 24.0f, 0);
  assert_string_equal(k->const_origin, "mul_c");
  ir_graph_free(g);
}

/* A 2^27-element Expand (512 MiB) must not be materialized. */
static void fold_constants_bounds_output(void **state) {
  (void)state;
  Graph *g = ir_graph_new("expand", "test.onnx");
  g->opset = 13;
  int64_t one[1] = {1}, shape = (int64_t)1 << 27;
  float v = 1.5f;
  Value *c = g_const_f32(g, "c", 1, one, &v);
  Value *e = g_out(g_node(g, OP_EXPAND, "expand", "e", 2, c, g_const_i64(g, "shape", 1, one,
                                                                            &shape)));
  g_output(g, e);
  g_type_all(g);
  Error err = {0};
  if (pass_fold_constants(g, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(live_count(g, OP_EXPAND), 1);
  assert_false(ir_value_is_const(e));
  ir_graph_free(g);
}

static void simplify_removes_noops(void **state) {
  (void)state;
  Graph *g = ir_graph_new("noops", "test.onnx");
  g->opset = 13;
  int64_t xd[2] = {2, 3}, two[1] = {2};
  int64_t same_shape[2] = {2, 3};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, xd);
  Value *i1 = g_out(g_node(g, OP_IDENTITY, "id1", "i1", 1, x));
  Value *i2 = g_out(g_node(g, OP_IDENTITY, "id2", "i2", 1, i1));
  Value *r = g_out(g_node(g, OP_RELU, "relu", "r", 1, i2));
  Node *t = g_node(g, OP_TRANSPOSE, "transpose01", "t", 1, r);
  int64_t perm[2] = {0, 1};
  assert_int_equal(ir_node_set_attr_ints(g, t, "perm", perm, 2, NULL), ST_OK);
  Value *rs = g_out(g_node(g, OP_RESHAPE, "reshape_same", "rs", 2, g_out(t),
                           g_const_i64(g, "shape", 1, two, same_shape)));
  Value *d = g_out(g_node(g, OP_DROPOUT, "dropout", "d", 1, rs));
  Node *cast = g_node(g, OP_CAST, "cast_f32", "c", 1, d);
  assert_int_equal(ir_node_set_attr_int(g, cast, "to", DT_FLOAT32, NULL), ST_OK);
  Value *cat = g_out(g_node(g, OP_CONCAT, "concat1", "cat", 1, g_out(cast)));
  assert_int_equal(ir_node_set_attr_int(g, g->nodes[g->num_nodes - 1], "axis", 1, NULL), ST_OK);
  Value *out = g_out(g_node(g, OP_IDENTITY, "id_out", "out", 1, cat));
  g_output(g, out);
  g_type_all(g);

  run_golden(g, "simplify", "noops");

  /* Only Relu survives, and its result now carries the output name. */
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_RELU);
  assert_ptr_equal(g->nodes[0]->inputs[0], x);
  assert_ptr_equal(g->outputs[0], g->nodes[0]->outputs[0]);
  assert_string_equal(g->outputs[0]->name, "out");
  ir_graph_free(g);
}

/* Nodes that look like no-ops but are not, or whose removal would lose an
 * output name. */
static void simplify_keeps_real_work(void **state) {
  (void)state;
  Graph *g = ir_graph_new("keeps", "test.onnx");
  g->opset = 13;
  int64_t xd[2] = {3, 3}, four[1] = {4};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, xd);
  /* Graph input straight to a graph output: the Identity must stay. */
  g_output(g, g_out(g_node(g, OP_IDENTITY, "id_in_out", "passthrough", 1, x)));
  /* [3,3] -> [3,3] by a real transpose. */
  Node *t = g_node(g, OP_TRANSPOSE, "transpose10", "t", 1, x);
  int64_t perm[2] = {1, 0};
  assert_int_equal(ir_node_set_attr_ints(g, t, "perm", perm, 2, NULL), ST_OK);
  /* Slice with step -1 keeps the shape but reverses. */
  int64_t starts[1] = {-1}, ends[1] = {INT64_MIN}, axes[1] = {0}, steps[1] = {-1};
  int64_t one[1] = {1};
  Value *sl = g_out(g_node(g, OP_SLICE, "reverse", "rev", 5, g_out(t),
                           g_const_i64(g, "starts", 1, one, starts),
                           g_const_i64(g, "ends", 1, one, ends),
                           g_const_i64(g, "axes", 1, one, axes),
                           g_const_i64(g, "steps", 1, one, steps)));
  /* Pads [1,0,-1,0] keep the shape but shift rows down. */
  int64_t pads[4] = {1, 0, -1, 0};
  Value *p = g_out(g_node(g, OP_PAD, "shift", "p", 2, sl, g_const_i64(g, "pads", 1, four, pads)));
  /* Two graph outputs: one Identity in between cannot merge them. */
  g_output(g, p);
  g_output(g, g_out(g_node(g, OP_IDENTITY, "id_out_out", "p_again", 1, p)));
  g_type_all(g);

  run_golden(g, "simplify", "keeps");

  assert_int_equal(live_count(g, OP_IDENTITY), 2);
  assert_int_equal(live_count(g, OP_TRANSPOSE), 1);
  assert_int_equal(live_count(g, OP_SLICE), 1);
  assert_int_equal(live_count(g, OP_PAD), 1);
  assert_string_equal(g->outputs[0]->name, "passthrough");
  assert_string_equal(g->outputs[2]->name, "p_again");
  ir_graph_free(g);
}

static void cse_merges_duplicates(void **state) {
  (void)state;
  Graph *g = ir_graph_new("dups", "test.onnx");
  g->opset = 13;
  int64_t d2[1] = {2};
  float w[2] = {1, 2};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d2);
  Value *w1 = g_const_f32(g, "w1", 1, d2, w);
  Value *w2 = g_const_f32(g, "w2", 1, d2, w); /* same bytes: merged into w1 */
  Value *a1 = g_out(g_node(g, OP_ADD, "add1", "a1", 2, x, w1));
  Value *a2 = g_out(g_node(g, OP_ADD, "add2", "a2", 2, x, w2));
  Value *m1 = g_out(g_node(g, OP_MUL, "mul1", "m1", 2, a1, a1));
  Value *m2 = g_out(g_node(g, OP_MUL, "mul2", "m2", 2, a2, a2));
  /* Same op and input, different alpha: not merged. */
  Node *l1 = g_node(g, OP_LEAKY_RELU, "leaky1", "l1", 1, m1);
  Node *l2 = g_node(g, OP_LEAKY_RELU, "leaky2", "l2", 1, m2);
  Node *l3 = g_node(g, OP_LEAKY_RELU, "leaky3", "l3", 1, m2);
  assert_int_equal(ir_node_set_attr_float(g, l1, "alpha", 0.1f, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, l2, "alpha", 0.1f, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, l3, "alpha", 0.2f, NULL), ST_OK);
  Value *s = g_out(g_node(g, OP_SUM, "sum", "s", 3, g_out(l1), g_out(l2), g_out(l3)));
  g_output(g, s);
  /* mul2 duplicates mul1 and is a graph output while mul1 is not: the name moves. */
  g_output(g, m2);
  g_type_all(g);

  run_golden(g, "cse", "duplicates");

  assert_int_equal(live_count(g, OP_ADD), 1);
  assert_int_equal(live_count(g, OP_MUL), 1);
  assert_int_equal(live_count(g, OP_LEAKY_RELU), 2);
  const Node *sum = first_node(g, OP_SUM);
  assert_ptr_equal(sum->inputs[0], sum->inputs[1]);
  assert_ptr_not_equal(sum->inputs[0], sum->inputs[2]);
  assert_string_equal(g->outputs[1]->name, "m2");
  assert_ptr_equal(g->outputs[1], first_node(g, OP_MUL)->outputs[0]);
  (void)m1;
  ir_graph_free(g);
}

/* Two duplicate nodes both feeding graph outputs keep both names: not merged. */
static void cse_keeps_two_output_names(void **state) {
  (void)state;
  Graph *g = ir_graph_new("two_outputs", "test.onnx");
  g->opset = 13;
  int64_t d2[1] = {2};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d2);
  g_output(g, g_out(g_node(g, OP_RELU, "r1", "y1", 1, x)));
  g_output(g, g_out(g_node(g, OP_RELU, "r2", "y2", 1, x)));
  g_type_all(g);
  Error err = {0};
  if (pass_cse(g, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(live_count(g, OP_RELU), 2);
  assert_string_equal(g->outputs[0]->name, "y1");
  assert_string_equal(g->outputs[1]->name, "y2");
  ir_graph_free(g);
}

static void dce_removes_dead_branches(void **state) {
  (void)state;
  Graph *g = ir_graph_new("dead", "test.onnx");
  g->opset = 13;
  int64_t d2[1] = {2};
  float k[2] = {5, 6};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d2);
  Value *kc = g_const_f32(g, "only_dead_use", 1, d2, k);
  Value *n = g_out(g_node(g, OP_NEG, "neg", "n", 1, x));
  Value *m = g_out(g_node(g, OP_MUL, "mul", "m", 2, n, kc));
  g_out(g_node(g, OP_RELU, "relu_dead", "rd", 1, m));
  Value *live = g_out(g_node(g, OP_RELU, "relu_live", "y", 1, x));
  g_output(g, live);
  g_type_all(g);

  run_golden(g, "dce", "dead_branch");

  assert_int_equal(g->num_nodes, 1);
  assert_string_equal(g->nodes[0]->name, "relu_live");
  for (int i = 0; i < g->num_values; i++) assert_ptr_not_equal(g->values[i], kc);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(infer_shapes_folds_reshape_chain),
      cmocka_unit_test(infer_shapes_bounds_folding),
      cmocka_unit_test(infer_shapes_reports_bad_node),
      cmocka_unit_test(fold_constants_evaluates_chain),
      cmocka_unit_test(fold_constants_bounds_output),
      cmocka_unit_test(simplify_removes_noops),
      cmocka_unit_test(simplify_keeps_real_work),
      cmocka_unit_test(cse_merges_duplicates),
      cmocka_unit_test(cse_keeps_two_output_names),
      cmocka_unit_test(dce_removes_dead_branches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
