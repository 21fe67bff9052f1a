/*
 * fold-transposes: golden "input IR -> IR after the pass" files under
 * tests/golden/fold-transposes/ for each rewrite (transpose pairs, view
 * chains, transposes of size-1 axes, Transpose-Reshape-Transpose
 * sandwiches, transposes sunk through unary ops) and for the cases that
 * must stay.  The pass only moves data, so every graph is evaluated with
 * eval_graph before and after on the same seeded inputs and the outputs
 * must be bit-identical; a randomized sweep of movement chains checks the
 * stride reasoning against the reference kernels the same way.
 */
#include "test_fusion_util.h"

/* Runs the pass on g (typed here), checks the golden file unless golden is
 * NULL, and requires bit-identical outputs before and after. */
static void ft_check(Graph *g, const char *golden) {
  g_type_all(g);
  const PassInfo *p = pass_find("fold-transposes");
  assert_non_null(p);
  float *want[8], *got[8];
  fz_eval(g, 11, want);
  char *before = print_to_string(g, ir_print);
  Error err = {0};
  if (p->fn(g, &err) != ST_OK) fail_msg("fold-transposes: %s", err.msg);
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("verify after fold-transposes: %s\n%s", err.msg,
                                                  before);
  char *after = print_to_string(g, ir_print);
  if (golden) {
    size_t n = strlen(before) + strlen(after) + 128;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "; input\n%s; after fold-transposes\n%s", before, after);
    char rel[256];
    snprintf(rel, sizeof rel, "fold-transposes/%s.txt", golden);
    check_golden(rel, text);
    free(text);
  }
  fz_eval(g, 11, got);
  for (int i = 0; i < g->num_outputs; i++) {
    if (memcmp(want[i], got[i], ir_value_nbytes(g->outputs[i])) != 0)
      fail_msg("%s: output %d changed\n--- before\n%s--- after\n%s", golden ? golden : "-", i,
               before, after);
    free(want[i]);
    free(got[i]);
  }
  free(before);
  free(after);
}

static Value *transpose(Graph *g, const char *name, Value *x, int rank, const int64_t *perm) {
  Node *n = g_node(g, OP_TRANSPOSE, name, name, 1, x);
  assert_int_equal(ir_node_set_attr_ints(g, n, "perm", perm, rank, NULL), ST_OK);
  return g_out(n);
}

static Value *reshape(Graph *g, const char *name, Value *x, int rank, const int64_t *dims) {
  int64_t len = rank;
  return g_out(g_node(g, OP_RESHAPE, name, name, 2, x, g_const_i64(g, "shape", 1, &len, dims)));
}

static Value *squeeze_op(Graph *g, OpKind op, const char *name, Value *x, int64_t axis) {
  int64_t one = 1;
  return g_out(g_node(g, op, name, name, 2, x, g_const_i64(g, "axes", 1, &one, &axis)));
}

static Value *unary(Graph *g, OpKind op, const char *name, Value *x) {
  return g_out(g_node(g, op, name, name, 1, x));
}

static void expect_dims(const Value *v, int rank, const int64_t *dims) {
  assert_int_equal(v->rank, rank);
  for (int i = 0; i < rank; i++) assert_int_equal(v->dims[i], dims[i]);
}

static void expect_perm(const Node *n, int rank, const int64_t *perm) {
  const int64_t *p;
  assert_int_equal(ir_attr_ints(n, "perm", &p), rank);
  for (int i = 0; i < rank; i++) assert_int_equal(p[i], perm[i]);
}

/* Relu -> T(0,2,1) -> T(0,2,1) = output "y": both go, Relu's result is "y". */
static void pair_cancels(void **state) {
  (void)state;
  Graph *g = fz_graph("pair_cancels");
  int64_t xd[3] = {2, 3, 4}, p[3] = {0, 2, 1};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *r = unary(g, OP_RELU, "relu", x);
  g_output(g, transpose(g, "y", transpose(g, "t1", r, 3, p), 3, p));
  ft_check(g, "pair_cancels");
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_RELU);
  assert_ptr_equal(g->outputs[0], g->nodes[0]->outputs[0]);
  assert_string_equal(g->outputs[0]->name, "y");
  ir_graph_free(g);
}

/* T(0,2,3,1) then T(0,2,1,3): one Transpose with perm p1[p2[i]] = (0,3,2,1). */
static void pair_composes(void **state) {
  (void)state;
  Graph *g = fz_graph("pair_composes");
  int64_t xd[4] = {2, 3, 4, 5}, p1[4] = {0, 2, 3, 1}, p2[4] = {0, 2, 1, 3};
  Value *x = g_input(g, "x", DT_FLOAT32, 4, xd);
  g_output(g, transpose(g, "y", transpose(g, "t1", x, 4, p1), 4, p2));
  ft_check(g, "pair_composes");
  assert_int_equal(g->num_nodes, 1);
  int64_t want[4] = {0, 3, 2, 1}, yd[4] = {2, 5, 4, 3};
  expect_perm(g->nodes[0], 4, want);
  assert_ptr_equal(g->nodes[0]->inputs[0], x);
  expect_dims(g->outputs[0], 4, yd);
  ir_graph_free(g);
}

/* Flatten -> Unsqueeze -> Reshape -> Squeeze: one Reshape to [24]. */
static void view_chain(void **state) {
  (void)state;
  Graph *g = fz_graph("view_chain");
  int64_t xd[3] = {2, 3, 4}, rd[2] = {1, 24};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *a = unary(g, OP_RELU, "relu", x);
  Node *f = g_node(g, OP_FLATTEN, "flat", "flat", 1, a);
  assert_int_equal(ir_node_set_attr_int(g, f, "axis", 1, NULL), ST_OK);
  Value *u = squeeze_op(g, OP_UNSQUEEZE, "unsq", g_out(f), 0);
  Value *s = squeeze_op(g, OP_SQUEEZE, "sq", reshape(g, "rs", u, 2, rd), 0);
  g_output(g, unary(g, OP_NEG, "y", s));
  ft_check(g, "view_chain");
  assert_int_equal(g->num_nodes, 3);
  assert_int_equal(fz_count(g, OP_RESHAPE), 1);
  const Node *r = fz_first(g, OP_RESHAPE);
  assert_ptr_equal(r->inputs[0], a);
  assert_int_equal(ir_value_numel(r->inputs[1]), 1);
  assert_int_equal(((const int64_t *)r->inputs[1]->data)[0], 24);
  ir_graph_free(g);
}

/* Flatten -> Reshape back to the input shape: both vanish. */
static void view_chain_round_trip(void **state) {
  (void)state;
  Graph *g = fz_graph("view_round_trip");
  int64_t xd[3] = {2, 3, 4};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *a = unary(g, OP_RELU, "relu", x);
  Node *f = g_node(g, OP_FLATTEN, "flat", "flat", 1, a);
  assert_int_equal(ir_node_set_attr_int(g, f, "axis", 2, NULL), ST_OK);
  g_output(g, unary(g, OP_NEG, "y", reshape(g, "rs", g_out(f), 3, xd)));
  ft_check(g, "view_round_trip");
  assert_int_equal(g->num_nodes, 2);
  assert_ptr_equal(g->nodes[1]->inputs[0], a);
  ir_graph_free(g);
}

/* [3,1,1,5] perm (1,2,0,3) and [2,1,5,1] perm (1,0,3,2) keep the order of
 * their non-unit axes: both become Reshapes (free views). */
static void unit_axes_transpose(void **state) {
  (void)state;
  Graph *g = fz_graph("unit_axes");
  int64_t xd[4] = {3, 1, 1, 5}, p[4] = {1, 2, 0, 3};
  int64_t zd[4] = {2, 1, 5, 1}, q[4] = {1, 0, 3, 2};
  Value *x = g_input(g, "x", DT_FLOAT32, 4, xd);
  Value *z = g_input(g, "z", DT_FLOAT32, 4, zd);
  g_output(g, unary(g, OP_SIGMOID, "y", transpose(g, "t", x, 4, p)));
  g_output(g, transpose(g, "w", unary(g, OP_TANH, "tanh", z), 4, q));
  ft_check(g, "unit_axes");
  assert_int_equal(fz_count(g, OP_TRANSPOSE), 0);
  assert_int_equal(fz_count(g, OP_RESHAPE), 2);
  int64_t yd[4] = {1, 1, 3, 5}, wd[4] = {1, 2, 1, 5};
  expect_dims(fz_first(g, OP_RESHAPE)->outputs[0], 4, yd);
  expect_dims(g->outputs[1], 4, wd);
  assert_string_equal(g->outputs[1]->name, "w");
  ir_graph_free(g);
}

/* The head-split pattern: [2,6,4] T(0,2,1) -> [2,4,2,3] -> T(0,2,3,1) is
 * [2,2,3,4] in x's own element order, so one Reshape(x). */
static void sandwich(void **state) {
  (void)state;
  Graph *g = fz_graph("sandwich");
  int64_t xd[3] = {2, 6, 4}, p1[3] = {0, 2, 1}, rd[4] = {2, 4, 2, 3}, p2[4] = {0, 2, 3, 1};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *t = transpose(g, "t1", x, 3, p1);
  g_output(g, transpose(g, "y", reshape(g, "rs", t, 4, rd), 4, p2));
  ft_check(g, "sandwich");
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_RESHAPE);
  assert_ptr_equal(g->nodes[0]->inputs[0], x);
  int64_t yd[4] = {2, 2, 3, 4};
  expect_dims(g->outputs[0], 4, yd);
  ir_graph_free(g);
}

/* T(0,2,1) -> Gelu -> {T(0,2,1), T(2,0,1)}: the first Transpose sinks into
 * both readers: (0,2,1)o(0,2,1) = identity (dropped), (0,2,1)o(2,0,1) = (1,0,2). */
static void sink_through_unary(void **state) {
  (void)state;
  Graph *g = fz_graph("sink_unary");
  int64_t xd[3] = {2, 3, 4}, p[3] = {0, 2, 1}, q[3] = {2, 0, 1};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *t = transpose(g, "t1", x, 3, p);
  Value *s = unary(g, OP_SIGMOID, "sig", unary(g, OP_GELU, "gelu", t));
  g_output(g, unary(g, OP_NEG, "y1", transpose(g, "back", s, 3, p)));
  g_output(g, transpose(g, "y2", s, 3, q));
  ft_check(g, "sink_unary");
  assert_int_equal(fz_count(g, OP_TRANSPOSE), 1);
  int64_t want[3] = {1, 0, 2}, sd[3] = {2, 3, 4};
  expect_perm(fz_first(g, OP_TRANSPOSE), 3, want);
  assert_ptr_equal(fz_first(g, OP_GELU)->inputs[0], x);
  expect_dims(fz_first(g, OP_SIGMOID)->outputs[0], 3, sd);
  ir_graph_free(g);
}

/* What must stay: a real reorder (alone and before a Reshape), a Transpose
 * pair whose middle is a graph output, a view chain whose middle value has
 * a second reader, and a sink blocked by a reader that is not a Transpose. */
static void negatives(void **state) {
  (void)state;
  Graph *g = fz_graph("negatives");
  int64_t xd[3] = {2, 3, 4}, p[3] = {0, 2, 1}, flat[2] = {2, 12}, all[1] = {24};
  Value *x = g_input(g, "x", DT_FLOAT32, 3, xd);
  Value *t = transpose(g, "t_real", x, 3, p);
  g_output(g, reshape(g, "y_rs", t, 2, flat));
  Value *m = transpose(g, "mid_out", x, 3, p);
  g_output(g, m);
  g_output(g, transpose(g, "y_back", m, 3, p));
  Node *f = g_node(g, OP_FLATTEN, "flat", "flat", 1, x);
  assert_int_equal(ir_node_set_attr_int(g, f, "axis", 1, NULL), ST_OK);
  g_output(g, reshape(g, "y_all", g_out(f), 1, all));
  g_output(g, unary(g, OP_RELU, "y_flat_relu", g_out(f)));
  Value *r = unary(g, OP_RELU, "relu", transpose(g, "t_sink", x, 3, p));
  g_output(g, transpose(g, "y_sink", r, 3, p));
  g_output(g, unary(g, OP_SIGMOID, "y_other", r));
  int before = g->num_nodes;
  ft_check(g, "negatives");
  assert_int_equal(g->num_nodes, before);
  assert_int_equal(fz_count(g, OP_TRANSPOSE), 5);
  assert_string_equal(g->outputs[1]->name, "mid_out");
  ir_graph_free(g);
}

/* ---- randomized chains ------------------------------------------------ */

static uint32_t rng_next(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* A chain of 2..6 random Transposes, reshapes (merge two neighbours,
 * split a dim, add or drop a 1) and unary ops on a small tensor. */
static Graph *random_chain(uint32_t seed, int *num_transposes) {
  uint32_t s = seed;
  Graph *g = fz_graph("random");
  int64_t d[IR_MAX_RANK] = {2, 3, 4, 1};
  int rank = 2 + (int)(rng_next(&s) % 3);
  for (int i = 0; i < rank; i++) d[i] = 1 + (int64_t)(rng_next(&s) % 4);
  Value *v = g_input(g, "x", DT_FLOAT32, rank, d);
  int steps = 2 + (int)(rng_next(&s) % 5);
  *num_transposes = 0;
  for (int k = 0; k < steps; k++) {
    uint32_t kind = rng_next(&s) % 6;
    if (kind <= 2) {
      int64_t perm[IR_MAX_RANK], nd[IR_MAX_RANK];
      for (int i = 0; i < rank; i++) perm[i] = i;
      for (int i = rank - 1; i > 0; i--) {
        int j = (int)(rng_next(&s) % (uint32_t)(i + 1));
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
      }
      for (int i = 0; i < rank; i++) nd[i] = d[perm[i]];
      v = transpose(g, "t", v, rank, perm);
      memcpy(d, nd, sizeof nd);
      ++*num_transposes;
    } else if (kind == 3) {
      v = unary(g, rng_next(&s) % 2 ? OP_NEG : OP_RELU, "u", v);
    } else {
      int64_t nd[IR_MAX_RANK];
      int nr = 0, at = (int)(rng_next(&s) % (uint32_t)rank);
      uint32_t how = rng_next(&s) % 3;
      for (int i = 0; i < rank; i++) {
        if (how == 0 && i == at && i + 1 < rank) {
          nd[nr++] = d[i] * d[i + 1];
          i++;
        } else if (how == 1 && i == at && rank < 6 && d[i] % 2 == 0) {
          nd[nr++] = 2;
          nd[nr++] = d[i] / 2;
        } else if (how == 2 && i == at && rank < 6) {
          nd[nr++] = 1;
          nd[nr++] = d[i];
        } else {
          nd[nr++] = d[i];
        }
      }
      v = reshape(g, "r", v, nr, nd);
      rank = nr;
      memcpy(d, nd, sizeof nd);
    }
  }
  g_output(g, unary(g, OP_NEG, "y", v));
  return g;
}

static void random_chains_bit_identical(void **state) {
  (void)state;
  int total_before = 0, total_after = 0;
  for (uint32_t seed = 1; seed <= 400; seed++) {
    int nt;
    Graph *g = random_chain(seed, &nt);
    ft_check(g, NULL);
    int after = fz_count(g, OP_TRANSPOSE);
    if (after > nt) fail_msg("seed %u: %d Transposes became %d", seed, nt, after);
    total_before += nt;
    total_after += after;
    ir_graph_free(g);
  }
  /* Random perms of tiny dims often only move 1s or cancel: some must go. */
  assert_true(total_after < total_before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pair_cancels),
      cmocka_unit_test(pair_composes),
      cmocka_unit_test(view_chain),
      cmocka_unit_test(view_chain_round_trip),
      cmocka_unit_test(unit_axes_transpose),
      cmocka_unit_test(sandwich),
      cmocka_unit_test(sink_through_unary),
      cmocka_unit_test(negatives),
      cmocka_unit_test(random_chains_bit_identical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
