/*
 * hoist-gathers: golden "input IR -> IR after the pass" files under
 * tests/golden/hoist-gathers/ for a ViT tail (two class tokens through
 * LayerNorm, an MLP with a residual and the head merge of an attention),
 * the union of a fork's rows, a Slice of the class row, and the cases
 * that must stay.  Every op keeps its per-row formula,
 * so the reference evaluator must give bit-identical outputs before and
 * after the pass; the shapes asserted show that the work really shrank.
 */
#include "test_fusion_util.h"

static void hg_check(Graph *g, const char *golden) {
  g_type_all(g);
  const PassInfo *p = pass_find("hoist-gathers");
  assert_non_null(p);
  float *want[8], *got[8];
  fz_eval(g, 5, want);
  char *before = print_to_string(g, ir_print);
  Error err = {0};
  if (p->fn(g, &err) != ST_OK) fail_msg("hoist-gathers: %s", err.msg);
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("verify after hoist-gathers: %s\n%s", err.msg,
                                                  before);
  char *after = print_to_string(g, ir_print);
  size_t n = strlen(before) + strlen(after) + 128;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "; input\n%s; after hoist-gathers\n%s", before, after);
  char rel[256];
  snprintf(rel, sizeof rel, "hoist-gathers/%s.txt", golden);
  check_golden(rel, text);
  free(text);
  fz_eval(g, 5, got);
  for (int i = 0; i < g->num_outputs; i++) {
    if (memcmp(want[i], got[i], ir_value_nbytes(g->outputs[i])) != 0)
      fail_msg("%s: output %d changed\n--- before\n%s--- after\n%s", golden, i, before, after);
    free(want[i]);
    free(got[i]);
  }
  free(before);
  free(after);
}

static Value *gather(Graph *g, const char *name, Value *x, int64_t axis, int nidx,
                     const int64_t *idx) {
  int64_t len = nidx;
  Value *ind = g_const_i64(g, "idx", nidx < 0 ? 0 : 1, &len, idx);
  Node *n = g_node(g, OP_GATHER, name, name, 2, x, ind);
  assert_int_equal(ir_node_set_attr_int(g, n, "axis", axis, NULL), ST_OK);
  return g_out(n);
}

/* A scalar index: nidx < 0 above makes a rank-0 index. */
static Value *gather1(Graph *g, const char *name, Value *x, int64_t axis, int64_t i) {
  return gather(g, name, x, axis, -1, &i);
}

static Value *layer_norm(Graph *g, const char *name, Value *x, int64_t c) {
  Value *s = fz_rand_const(g, "scale", 1, &c, 0.5f, 1.5f, 3);
  Value *b = fz_rand_const(g, "bias", 1, &c, -0.5f, 0.5f, 4);
  Node *n = g_node(g, OP_LAYER_NORMALIZATION, name, name, 3, x, s, b);
  assert_int_equal(ir_node_set_attr_int(g, n, "axis", -1, NULL), ST_OK);
  return g_out(n);
}

/* FusedMatMul(x, W [k, n], bias [n], residual?) with an optional GELU. */
static Value *linear(Graph *g, const char *name, Value *x, int64_t k, int64_t nout, Value *res,
                     bool gelu) {
  int64_t wd[2] = {k, nout};
  Value *w = fz_rand_const(g, "w", 2, wd, -0.5f, 0.5f, (unsigned)(k * 7 + nout));
  Value *b = fz_rand_const(g, "b", 1, &nout, -0.5f, 0.5f, (unsigned)(k + nout * 3));
  Node *n = res ? g_node(g, OP_FUSED_MATMUL, name, name, 4, x, w, b, res)
                : g_node(g, OP_FUSED_MATMUL, name, name, 3, x, w, b);
  if (gelu) assert_int_equal(ir_node_set_attr_string(g, n, "activation", "Gelu", NULL), ST_OK);
  if (res) assert_int_equal(ir_node_set_attr_int(g, n, "residual_first", 1, NULL), ST_OK);
  return g_out(n);
}

static void expect_dims(const Value *v, int rank, const int64_t *dims) {
  assert_int_equal(v->rank, rank);
  for (int i = 0; i < rank; i++) assert_int_equal(v->dims[i], dims[i]);
}

/* The tail of a DeiT: attention -> head merge -> proj (+residual) ->
 * LayerNorm -> MLP (+residual) -> LayerNorm -> class and distillation
 * tokens.  Everything after the attention's query rows runs on 2 rows. */
static void vit_tail(void **state) {
  (void)state;
  Graph *g = fz_graph("vit_tail");
  int64_t qd[4] = {1, 2, 6, 4}, xd[3] = {1, 6, 8}, md[3] = {1, 6, 8};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, qd);
  Value *k = g_input(g, "k", DT_FLOAT32, 4, qd);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, qd);
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Node *an = g_node(g, OP_ATTENTION, "attn", "attn", 3, q, k, v);
  assert_int_equal(ir_node_set_attr_float(g, an, "scale", 0.5f, NULL), ST_OK);
  int64_t perm[4] = {0, 2, 1, 3}, len = 3;
  Node *t = g_node(g, OP_TRANSPOSE, "merge_t", "merge_t", 1, g_out(an));
  assert_int_equal(ir_node_set_attr_ints(g, t, "perm", perm, 4, NULL), ST_OK);
  Value *merged = g_out(g_node(g, OP_RESHAPE, "merge", "merge", 2, g_out(t),
                               g_const_i64(g, "shape", 1, &len, md)));
  Value *h = linear(g, "proj", merged, 8, 8, x, false);
  Value *m = linear(g, "fc1", layer_norm(g, "norm2", h, 8), 8, 16, NULL, true);
  Value *y = linear(g, "fc2", m, 16, 8, h, false);
  Value *z = layer_norm(g, "norm", y, 8);
  g_output(g, gather1(g, "cls", z, 1, 0));
  g_output(g, gather1(g, "dist", z, 1, -5)); /* row 1, negative */
  hg_check(g, "vit_tail");
  int64_t two[3] = {1, 2, 8}, two16[3] = {1, 2, 16}, qrows[4] = {1, 2, 2, 4};
  expect_dims(g->outputs[0]->producer->inputs[0], 3, two);
  const Node *a = fz_first(g, OP_ATTENTION);
  expect_dims(a->outputs[0], 4, qrows);
  assert_ptr_equal(a->inputs[1], k); /* keys and values stay whole */
  assert_ptr_equal(a->inputs[2], v);
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->op == OP_FUSED_MATMUL || n->op == OP_LAYER_NORMALIZATION)
      expect_dims(n->outputs[0], 3, n->outputs[0]->dims[2] == 16 ? two16 : two);
  }
  ir_graph_free(g);
}

/* A Reshape that merges the row axis into others, a LayerNorm over the
 * gathered axis, a value with another reader, a Gather of every row and a
 * column Gather of a MatMul: none moves. */
static void stays(void **state) {
  (void)state;
  Graph *g = fz_graph("stays");
  int64_t xd[3] = {1, 6, 8}, flat[2] = {6, 8}, len = 2, all[6] = {0, 1, 2, 3, 4, 5};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *r = g_out(g_node(g, OP_RESHAPE, "flat", "flat", 2, layer_norm(g, "ln", x, 8),
                          g_const_i64(g, "shape", 1, &len, flat)));
  g_output(g, gather1(g, "row_of_flat", r, 1, 2)); /* axis 1 of [6, 8]: the LN's own axis */
  Value *s = g_out(g_node(g, OP_SIGMOID, "sig", "sig", 1, x));
  g_output(g, gather1(g, "row_of_shared", s, 1, 0));
  g_output(g, g_out(g_node(g, OP_NEG, "other_reader", "other_reader", 1, s)));
  Value *e = g_out(g_node(g, OP_EXP, "exp", "exp", 1, x));
  g_output(g, gather(g, "every_row", e, 1, 6, all));
  Value *lin = linear(g, "lin", x, 8, 8, NULL, false);
  g_output(g, gather1(g, "column", lin, 2, 3));
  int before = g->num_nodes;
  hg_check(g, "stays");
  assert_int_equal(g->num_nodes, before);
  ir_graph_free(g);
}

/* Rows picked by several readers through a residual fork: one Gather of
 * the union climbs, each reader keeps its own rows (in its own order). */
static void union_of_readers(void **state) {
  (void)state;
  Graph *g = fz_graph("union_of_readers");
  int64_t xd[3] = {2, 10, 4}, pick[3] = {7, 2, 7};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *a = g_out(g_node(g, OP_TANH, "tanh", "tanh", 1, x));
  Value *b = g_out(g_node(g, OP_ADD, "add", "add", 2, a, fz_rand_const(g, "c", 1, &xd[2], -1, 1, 9)));
  g_output(g, gather(g, "picked", b, 1, 3, pick));
  g_output(g, gather1(g, "first", b, -2, 0));
  hg_check(g, "union_of_readers");
  int64_t three[3] = {2, 3, 4};
  expect_dims(fz_first(g, OP_TANH)->outputs[0], 3, three);
  ir_graph_free(g);
}

static Value *slice(Graph *g, const char *name, Value *x, int64_t axis, int64_t start,
                    int64_t end) {
  int64_t one = 1;
  return g_out(g_node(g, OP_SLICE, name, name, 4, x, g_const_i64(g, "starts", 1, &one, &start),
                      g_const_i64(g, "ends", 1, &one, &end),
                      g_const_i64(g, "axes", 1, &one, &axis)));
}

/* `x[:, 0:1]` as exporters also write it, a Slice: it becomes the Gather
 * of row 0 and climbs.  A roll (two Slices that together read every row,
 * Swin's shifted windows) and a Slice of most rows stay. */
static void slices(void **state) {
  (void)state;
  Graph *g = fz_graph("slices");
  int64_t xd[3] = {1, 8, 4}, ax = 1;
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *n = layer_norm(g, "ln", g_out(g_node(g, OP_RELU, "relu", "relu", 1, x)), 4);
  Value *first = slice(g, "first", n, 1, 0, 1);
  g_output(g, g_out(g_node(g, OP_SQUEEZE, "cls", "cls", 2, first,
                           g_const_i64(g, "axes", 1, &(int64_t){1}, &ax))));
  Value *e = g_out(g_node(g, OP_EXP, "exp", "exp", 1, x));
  Value *tail = slice(g, "roll_tail", e, 1, 3, INT64_MAX), *head = slice(g, "roll_head", e, 1, 0, 3);
  Node *cat = g_node(g, OP_CONCAT, "roll", "roll", 2, tail, head);
  assert_int_equal(ir_node_set_attr_int(g, cat, "axis", 1, NULL), ST_OK);
  g_output(g, g_out(cat));
  Value *t = g_out(g_node(g, OP_TANH, "tanh", "tanh", 1, x));
  g_output(g, slice(g, "most", t, 1, 1, 8));
  hg_check(g, "slices");
  int64_t one_row[3] = {1, 1, 4};
  expect_dims(fz_first(g, OP_RELU)->outputs[0], 3, one_row);
  expect_dims(fz_first(g, OP_LAYER_NORMALIZATION)->outputs[0], 3, one_row);
  expect_dims(fz_first(g, OP_EXP)->outputs[0], 3, xd);
  expect_dims(fz_first(g, OP_TANH)->outputs[0], 3, xd);
  assert_int_equal(fz_count(g, OP_SLICE), 3);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vit_tail),
      cmocka_unit_test(stays),
      cmocka_unit_test(union_of_readers),
      cmocka_unit_test(slices),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
