/*
 * Tests of the IR verifier (ir/verify.c): a valid graph passes, and each
 * broken invariant is reported with the offending node's name.
 */
#include "golden_util.h"

#include "ir/verify.h"

/* x:f32[2,3] -> Relu "r" -> Neg "n" -> output y. */
static Graph *valid_graph(Node **relu, Node **neg) {
  Graph *g = ir_graph_new("v", "v.onnx");
  assert_non_null(g);
  g->opset = 13;
  int64_t xd[2] = {2, 3};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, xd);
  *relu = g_node(g, OP_RELU, "r", "a", 1, x);
  *neg = g_node(g, OP_NEG, "n", "y", 1, g_out(*relu));
  g_output(g, g_out(*neg));
  g_type_all(g);
  return g;
}

static void expect_error(Graph *g, bool require_static, Status want, const char *fragment) {
  Error err = {0};
  Status st = ir_verify(g, require_static, &err);
  if (st != want) fail_msg("expected status %s, got %s: %s", status_name(want), status_name(st),
                           err.msg);
  if (!strstr(err.msg, fragment)) fail_msg("message lacks '%s': %s", fragment, err.msg);
}

static void accepts_valid_graph(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  Error err = {0};
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("%s", err.msg);
  /* The re-run of the shape rules must leave the types as they were. */
  assert_int_equal(n->outputs[0]->rank, 2);
  assert_int_equal(n->outputs[0]->dims[1], 3);
  ir_graph_free(g);
}

static void detects_use_before_def(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  g->nodes[0] = n;
  g->nodes[1] = r;
  expect_error(g, false, ST_INTERNAL, "node \"n\" (Neg");
  expect_error(g, false, ST_INTERNAL, "used before node \"r\" defines it");
  ir_graph_free(g);
}

static void detects_wrong_arity(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  Node *bad = ir_node_new(g, OP_RELU, "two_in", 2, 1);
  bad->inputs[0] = bad->inputs[1] = g->inputs[0];
  ir_node_set_output(bad, 0, ir_value_new(g, "z"));
  expect_error(g, false, ST_INVALID, "node \"two_in\" (Relu, opset 13): error: has 2 inputs, "
               "expected 1 to 1");
  ir_graph_free(g);
}

static void detects_missing_required_input(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  Node *bad = ir_node_new(g, OP_ADD, "half_add", 2, 1);
  bad->inputs[0] = g->inputs[0];
  ir_node_set_output(bad, 0, ir_value_new(g, "z"));
  expect_error(g, false, ST_INVALID, "node \"half_add\" (Add");
  expect_error(g, false, ST_INVALID, "required input 1 is missing");
  ir_graph_free(g);
}

static void detects_non_static_type(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  r->outputs[0]->dims[0] = IR_DIM_UNKNOWN;
  /* Structure alone is fine... */
  Error err = {0};
  assert_int_equal(ir_verify(g, false, &err), ST_OK);
  /* ...but types are required after infer-shapes. */
  expect_error(g, true, ST_SHAPE, "node \"r\" (Relu");
  expect_error(g, true, ST_SHAPE, "output 0 ('a') has no static type (f32[?,3])");
  ir_graph_free(g);
}

static void detects_wrong_output_type(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  n->outputs[0]->dims[1] = 4;
  expect_error(g, true, ST_INTERNAL, "node \"n\" (Neg");
  expect_error(g, true, ST_INTERNAL, "output 0 ('y') is f32[2,4] but the shape rule gives "
               "f32[2,3]");
  /* The verifier restored the (wrong) type it found. */
  assert_int_equal(n->outputs[0]->dims[1], 4);
  n->outputs[0]->dims[1] = 3;
  n->outputs[0]->dtype = DT_INT64;
  expect_error(g, true, ST_INTERNAL, "is i64[2,3] but the shape rule gives f32[2,3]");
  ir_graph_free(g);
}

static void detects_dangling_and_double_definitions(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  Value *ghost = ir_value_new(g, "ghost");
  n->inputs[0] = ghost;
  expect_error(g, false, ST_INVALID, "input 0 ('ghost') is not defined by any node");
  n->inputs[0] = r->outputs[0];
  /* A second node writing r's result. */
  Node *twice = ir_node_new(g, OP_RELU, "twice", 1, 1);
  twice->inputs[0] = g->inputs[0];
  twice->outputs[0] = r->outputs[0];
  expect_error(g, false, ST_INVALID, "node \"twice\" (Relu");
  expect_error(g, false, ST_INVALID, "output 0 ('a') is already defined by node \"r\"");
  ir_graph_free(g);
}

static void detects_bad_producer_and_outputs(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  r->outputs[0]->producer = n;
  expect_error(g, false, ST_INTERNAL, "does not point back at this node");
  r->outputs[0]->producer = r;
  /* An output nobody defines. */
  Value *lost = ir_value_new(g, "lost");
  assert_int_equal(ir_graph_add_output(g, lost, NULL), ST_OK);
  expect_error(g, false, ST_INVALID, "graph output 'lost' is never defined");
  ir_graph_free(g);
}

static void detects_dead_node(void **state) {
  (void)state;
  Node *r, *n;
  Graph *g = valid_graph(&r, &n);
  n->dead = true;
  expect_error(g, false, ST_INTERNAL, "dead node left in the graph");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepts_valid_graph),
      cmocka_unit_test(detects_use_before_def),
      cmocka_unit_test(detects_wrong_arity),
      cmocka_unit_test(detects_missing_required_input),
      cmocka_unit_test(detects_non_static_type),
      cmocka_unit_test(detects_wrong_output_type),
      cmocka_unit_test(detects_dangling_and_double_definitions),
      cmocka_unit_test(detects_bad_producer_and_outputs),
      cmocka_unit_test(detects_dead_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
