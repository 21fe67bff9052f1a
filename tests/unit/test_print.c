/*
 * Tests of the IR printers (ir/print.c): the text form's details
 * (renumbering, sorted attributes, %.9g floats, inline vs summarized
 * constants, quoting, input-name sanitizing) and the DOT form, both against
 * hand-reviewed files in tests/golden/print/.
 */
#include "golden_util.h"

/* Inputs with awkward names, a big and a small constant, unsorted attributes. */
static Graph *print_graph(void) {
  Graph *g = ir_graph_new("conv net", "p.onnx");
  assert_non_null(g);
  g->opset = 13;
  int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {4, 2, 3, 3}, bd[1] = {4};
  Value *x = g_input(g, "input:0", DT_FLOAT32, 4, xd);
  Value *w = g_const_f32(g, "conv.weight", 4, wd, NULL);
  float bias[4] = {0.1f, -2.5f, 1e-8f, 3};
  Value *b = g_const_f32(g, "conv.bias", 1, bd, bias);
  Node *c = g_node(g, OP_CONV, "/conv/Conv \"main\"", "c", 3, x, w, b);
  /* Added out of order on purpose: the printer sorts. */
  c->attrs = arena_calloc(g->arena, 3, sizeof(Attr));
  assert_non_null(c->attrs);
  static int64_t pads[4] = {1, 1, 1, 1}, strides[2] = {1, 1};
  c->attrs[0] = (Attr){.name = "strides", .kind = ATTR_INTS, .n = 2, .ints = strides};
  c->attrs[1] = (Attr){.name = "pads", .kind = ATTR_INTS, .n = 4, .ints = pads};
  c->attrs[2] = (Attr){.name = "auto_pad", .kind = ATTR_STRING, .s = "NOTSET"};
  c->num_attrs = 3;
  Node *lr = g_node(g, OP_LEAKY_RELU, "", "lr", 1, g_out(c));
  assert_int_equal(ir_node_set_attr_float(g, lr, "alpha", 0.1f, NULL), ST_OK);
  /* Dropout with an absent mask output printed as '_'. */
  Node *d = ir_node_new(g, OP_DROPOUT, "drop", 1, 2);
  d->inputs[0] = g_out(lr);
  ir_node_set_output(d, 0, ir_value_new(g, "out"));
  g_output(g, d->outputs[0]);
  g_type_all(g);
  return g;
}

static void text_form(void **state) {
  (void)state;
  Graph *g = print_graph();
  char *text = print_to_string(g, ir_print);
  check_golden("print/conv.txt", text);
  /* Spot checks independent of the golden file. */
  assert_non_null(strstr(text, "graph @conv_net(%input_0: f32[1,2,5,5])"));
  assert_non_null(strstr(text, "{auto_pad=\"NOTSET\", pads=[1,1,1,1], strides=[1,1]}"));
  assert_non_null(strstr(text, "[0.100000001, -2.5, 9.99999994e-09, 3]"));
  assert_non_null(strstr(text, "%c0 = const f32[4,2,3,3]  # 288 B \"conv.weight\"\n"));
  assert_non_null(strstr(text, "# \"/conv/Conv \\\"main\\\"\""));
  free(text);
  /* Printing twice gives the same bytes. */
  char *a = print_to_string(g, ir_print), *b = print_to_string(g, ir_print);
  assert_string_equal(a, b);
  free(a);
  free(b);
  ir_graph_free(g);
}

static void dot_form(void **state) {
  (void)state;
  Graph *g = print_graph();
  char *text = print_to_string(g, ir_print_dot);
  check_golden("print/conv.dot", text);
  assert_non_null(strstr(text, "digraph \"conv net\" {"));
  free(text);
  ir_graph_free(g);
}

/* Names that collide with printed numbers or each other get a suffix. */
static void input_names_stay_unique(void **state) {
  (void)state;
  Graph *g = ir_graph_new("names", "n.onnx");
  int64_t d[1] = {1};
  g_input(g, "a-b", DT_FLOAT32, 1, d);
  g_input(g, "a_b", DT_FLOAT32, 1, d);
  g_input(g, "0", DT_FLOAT32, 1, d);
  g_input(g, "c1", DT_FLOAT32, 1, d);
  char *text = print_to_string(g, ir_print);
  assert_string_equal(text, "graph @names(%a_b: f32[1], %a_b_1: f32[1], %0_2: f32[1], "
                            "%c1_3: f32[1]) -> () {\n}\n");
  free(text);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_form),
      cmocka_unit_test(dot_form),
      cmocka_unit_test(input_names_stay_unique),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
