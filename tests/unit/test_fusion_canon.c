/*
 * canonicalize: decomposed LayerNormalization, erf/tanh GELU and SiLU built
 * the way torch exports them (and the variants it also writes), checked
 * three ways: golden IR, op counts, and the numeric before/after check of
 * test_fusion_util.h.  Negative cases (a wrong constant, an intermediate
 * with an extra reader) must be left exactly as they are.
 */
#include "test_fusion_util.h"

static const int64_t X3[3] = {2, 5, 8};

/* mean/Sub/Pow/ReduceMean/Add(eps)/Sqrt/Div/Mul(gamma)/Add(beta), torch opset 13. */
static Value *build_ln(Graph *g, Value *x, bool pow_form, bool div_form, const int64_t *axes,
                       int num_axes, bool affine, float eps, float exponent) {
  int64_t an = num_axes;
  Value *ax = g_const_i64(g, "axes", 1, &an, axes);
  Value *mean = g_out(g_node(g, OP_REDUCE_MEAN, "ReduceMean", "mean", 2, x, ax));
  Value *d = g_out(g_node(g, OP_SUB, "Sub", "d", 2, x, mean));
  Value *sq = pow_form ? g_out(g_node(g, OP_POW, "Pow", "sq", 2, d, fz_scalar(g, "two", exponent)))
                       : g_out(g_node(g, OP_MUL, "Square", "sq", 2, d, d));
  Value *var = g_out(g_node(g, OP_REDUCE_MEAN, "ReduceMean_1", "var", 2, sq, ax));
  Value *ve = g_out(g_node(g, OP_ADD, "Add", "ve", 2, var, fz_scalar(g, "eps", eps)));
  Value *s = g_out(g_node(g, OP_SQRT, "Sqrt", "s", 1, ve));
  Value *nrm;
  if (div_form) {
    nrm = g_out(g_node(g, OP_DIV, "Div", "n", 2, d, s));
  } else {
    Value *r = g_out(g_node(g, OP_RECIPROCAL, "Reciprocal", "r", 1, s));
    nrm = g_out(g_node(g, OP_MUL, "MulR", "n", 2, r, d));
  }
  if (!affine) return nrm;
  int64_t c = x->dims[x->rank - 1];
  Value *gamma = fz_rand_const(g, "gamma", 1, &c, 0.5f, 1.5f, 1);
  Value *beta = fz_rand_const(g, "beta", 1, &c, -0.5f, 0.5f, 2);
  Value *y = g_out(g_node(g, OP_MUL, "Mul", "y", 2, nrm, gamma));
  return g_out(g_node(g, OP_ADD, "Add_1", "z", 2, y, beta));
}

static void layernorm_torch_form(void **state) {
  (void)state;
  Graph *g = fz_graph("ln");
  Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
  int64_t axes[1] = {-1};
  g_output(g, build_ln(g, x, true, true, axes, 1, true, 1e-6f, 2.0f));
  fz_check_pass(g, "canonicalize", "layernorm");
  assert_int_equal(g->num_nodes, 1);
  const Node *ln = fz_first(g, OP_LAYER_NORMALIZATION);
  assert_non_null(ln);
  assert_int_equal(ir_attr_int(ln, "axis", 0), 2);
  assert_float_equal(ir_attr_float(ln, "epsilon", 0), 1e-6f, 0);
  assert_string_equal(g->outputs[0]->name, "z");
  ir_graph_free(g);
}

/* Mul(d, d), Reciprocal + Mul, two trailing axes listed out of order, no
 * gamma/beta (constants 1 and 0 are created). */
static void layernorm_variants(void **state) {
  (void)state;
  Graph *g = fz_graph("ln2");
  Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
  int64_t axes[2] = {-1, 1};
  g_output(g, build_ln(g, x, false, false, axes, 2, false, 1e-5f, 2.0f));
  fz_check_pass(g, "canonicalize", "layernorm_variants");
  assert_int_equal(g->num_nodes, 1);
  const Node *ln = fz_first(g, OP_LAYER_NORMALIZATION);
  assert_non_null(ln);
  assert_int_equal(ir_attr_int(ln, "axis", 0), 1);
  const Value *scale = ln->inputs[1], *bias = ln->inputs[2];
  assert_int_equal(scale->rank, 2);
  assert_int_equal(scale->dims[0], 5);
  assert_int_equal(scale->dims[1], 8);
  assert_float_equal(((const float *)scale->data)[7], 1.0f, 0);
  assert_float_equal(((const float *)bias->data)[3], 0.0f, 0);
  ir_graph_free(g);
}

/* Pow(d, 4), axes not trailing, and an extra reader of the variance. */
static void layernorm_negatives(void **state) {
  (void)state;
  int64_t last[1] = {-1}, mid[1] = {1};
  for (int k = 0; k < 3; k++) {
    Graph *g = fz_graph("ln_neg");
    Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
    Value *y = build_ln(g, x, true, true, k == 1 ? mid : last, 1, true, 1e-5f,
                        k == 0 ? 4.0f : 2.0f);
    g_output(g, y);
    if (k == 2) {
      Value *var = NULL;
      for (int i = 0; i < g->num_nodes; i++)
        if (strcmp(g->nodes[i]->name, "ReduceMean_1") == 0) var = g->nodes[i]->outputs[0];
      g_output(g, var);
    }
    int before = g->num_nodes;
    fz_check_pass(g, "canonicalize", k == 0 ? "layernorm_wrong_exponent" : NULL);
    assert_int_equal(g->num_nodes, before);
    assert_int_equal(fz_count(g, OP_LAYER_NORMALIZATION), 0);
    ir_graph_free(g);
  }
}

/* torch's nn.GELU(): Div(x, 1.4142135) -> Erf -> Add(1) -> Mul(x, .) -> Mul(., 0.5). */
static void gelu_erf_torch_form(void **state) {
  (void)state;
  Graph *g = fz_graph("gelu");
  Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
  Value *h = g_out(g_node(g, OP_DIV, "Div", "h", 2, x, fz_scalar(g, "sqrt2", 1.41421354f)));
  Value *e = g_out(g_node(g, OP_ERF, "Erf", "e", 1, h));
  Value *a = g_out(g_node(g, OP_ADD, "Add", "a", 2, e, fz_scalar(g, "one", 1.0f)));
  Value *m = g_out(g_node(g, OP_MUL, "Mul", "m", 2, x, a));
  g_output(g, g_out(g_node(g, OP_MUL, "Mul_1", "y", 2, m, fz_scalar(g, "half", 0.5f))));
  fz_check_pass(g, "canonicalize", "gelu_erf");
  assert_int_equal(g->num_nodes, 1);
  const Node *n = fz_first(g, OP_GELU);
  assert_non_null(n);
  assert_string_equal(ir_attr_string(n, "approximate", "none"), "none");
  ir_graph_free(g);
}

/* 0.5 applied first, Mul by 1/sqrt(2), Add(1, erf) commuted. */
static void gelu_erf_other_association(void **state) {
  (void)state;
  Graph *g = fz_graph("gelu2");
  Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
  Value *h = g_out(g_node(g, OP_MUL, "Mul_s", "h", 2, fz_scalar(g, "isqrt2", 0.707106769f), x));
  Value *e = g_out(g_node(g, OP_ERF, "Erf", "e", 1, h));
  Value *a = g_out(g_node(g, OP_ADD, "Add", "a", 2, fz_scalar(g, "one", 1.0f), e));
  Value *hx = g_out(g_node(g, OP_MUL, "Mul_h", "hx", 2, fz_scalar(g, "half", 0.5f), x));
  g_output(g, g_out(g_node(g, OP_MUL, "Mul", "y", 2, a, hx)));
  fz_check_pass(g, "canonicalize", NULL);
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(fz_count(g, OP_GELU), 1);
  ir_graph_free(g);
}

/* A wrong 0.6 factor, and an Erf result that is also a graph output. */
static void gelu_negatives(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    Graph *g = fz_graph("gelu_neg");
    Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
    Value *h = g_out(g_node(g, OP_DIV, "Div", "h", 2, x, fz_scalar(g, "sqrt2", 1.41421354f)));
    Value *e = g_out(g_node(g, OP_ERF, "Erf", "e", 1, h));
    Value *a = g_out(g_node(g, OP_ADD, "Add", "a", 2, e, fz_scalar(g, "one", 1.0f)));
    Value *m = g_out(g_node(g, OP_MUL, "Mul", "m", 2, x, a));
    g_output(g, g_out(g_node(g, OP_MUL, "Mul_1", "y", 2, m,
                             fz_scalar(g, "half", k == 0 ? 0.6f : 0.5f))));
    if (k == 1) g_output(g, e);
    fz_check_pass(g, "canonicalize", k == 1 ? "gelu_extra_user" : NULL);
    assert_int_equal(g->num_nodes, 5);
    assert_int_equal(fz_count(g, OP_GELU), 0);
    ir_graph_free(g);
  }
}

/* torch's gelu(approximate='tanh') below opset 20:
 * 0.5 * x * (1 + tanh(0.7978846 * (x + 0.044715 * x * x * x))). */
static void gelu_tanh_torch_form(void **state) {
  (void)state;
  for (int use_pow = 0; use_pow < 2; use_pow++) {
    Graph *g = fz_graph("gelu_tanh");
    Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
    Value *cube;
    if (use_pow) {
      cube = g_out(g_node(g, OP_POW, "Pow", "x3", 2, x, fz_scalar(g, "three", 3.0f)));
    } else {
      Value *xx = g_out(g_node(g, OP_MUL, "Mul_xx", "xx", 2, x, x));
      cube = g_out(g_node(g, OP_MUL, "Mul_xxx", "x3", 2, x, xx));
    }
    Value *k3 = g_out(g_node(g, OP_MUL, "Mul_k", "k3", 2, fz_scalar(g, "kappa", 0.044715f), cube));
    Value *in = g_out(g_node(g, OP_ADD, "Add_in", "in", 2, x, k3));
    Value *sc = g_out(g_node(g, OP_MUL, "Mul_b", "sc", 2, fz_scalar(g, "beta", 0.797884583f), in));
    Value *t = g_out(g_node(g, OP_TANH, "Tanh", "t", 1, sc));
    Value *one = g_out(g_node(g, OP_ADD, "Add_1", "one_t", 2, fz_scalar(g, "one", 1.0f), t));
    Value *hx = g_out(g_node(g, OP_MUL, "Mul_h", "hx", 2, fz_scalar(g, "half", 0.5f), x));
    g_output(g, g_out(g_node(g, OP_MUL, "Mul", "y", 2, hx, one)));
    fz_check_pass(g, "canonicalize", use_pow ? NULL : "gelu_tanh");
    assert_int_equal(g->num_nodes, 1);
    const Node *n = fz_first(g, OP_GELU);
    assert_non_null(n);
    assert_string_equal(ir_attr_string(n, "approximate", "none"), "tanh");
    ir_graph_free(g);
  }
}

static void silu_and_negative(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    Graph *g = fz_graph("silu");
    Value *x = g_input(g, "x", DT_FLOAT32, 3, X3);
    Value *s = g_out(g_node(g, OP_SIGMOID, "Sigmoid", "s", 1, x));
    g_output(g, g_out(g_node(g, OP_MUL, "Mul", "y", 2, s, x)));
    if (k == 1) g_output(g, s); /* the gate is read elsewhere: keep it */
    fz_check_pass(g, "canonicalize", k == 0 ? "silu" : NULL);
    assert_int_equal(fz_count(g, OP_SILU), k == 0 ? 1 : 0);
    assert_int_equal(g->num_nodes, k == 0 ? 1 : 2);
    ir_graph_free(g);
  }
}

/* x[..., start:end, ...] along `axis`, as torch exports a roll's pieces
 * (negative starts and the INT64_MAX end included). */
static Value *slice_axis(Graph *g, Value *x, int64_t axis, int64_t start, int64_t end,
                         const char *name) {
  int64_t one = 1;
  Value *st = g_const_i64(g, "starts", 1, &one, &start);
  Value *en = g_const_i64(g, "ends", 1, &one, &end);
  Value *ax = g_const_i64(g, "axes", 1, &one, &axis);
  return g_out(g_node(g, OP_SLICE, name, name, 4, x, st, en, ax));
}

/* torch.roll(x, shift, axis): Slice(x, -shift:) and Slice(x, :-shift),
 * concatenated. */
static Value *roll(Graph *g, Value *x, int64_t axis, int64_t shift, const char *name) {
  Value *a = slice_axis(g, x, axis, -shift, INT64_MAX, "head");
  Value *b = slice_axis(g, x, axis, 0, -shift, "tail");
  Node *c = g_node(g, OP_CONCAT, name, name, 2, a, b);
  Error err;
  assert_int_equal(ir_node_set_attr_int(g, c, "axis", axis, &err), ST_OK);
  return g_out(c);
}

/* Swin's rolls of H then W become two Gathers along those axes, with the
 * same outputs (checked numerically by fz_check_pass). */
static void roll_to_gather(void **state) {
  (void)state;
  Graph *g = fz_graph("roll");
  int64_t dims[4] = {1, 6, 5, 3};
  Value *x = g_input(g, "x", DT_FLOAT32, 4, dims);
  g_output(g, roll(g, roll(g, x, 1, 2, "roll_h"), -2, -3, "roll_w"));
  fz_check_pass(g, "canonicalize", "roll");
  assert_int_equal(fz_count(g, OP_GATHER), 2);
  assert_int_equal(fz_count(g, OP_SLICE) + fz_count(g, OP_CONCAT), 0);
  ir_graph_free(g);
}

/* x[:, s1:e1, s2:e2] (axes 1 and 2). */
static Value *slice_two(Graph *g, Value *x, int64_t s1, int64_t e1, int64_t s2, int64_t e2,
                        const char *name) {
  int64_t two = 2, st[2] = {s1, s2}, en[2] = {e1, e2}, ax[2] = {1, 2};
  return g_out(g_node(g, OP_SLICE, name, name, 4, x, g_const_i64(g, "starts", 1, &two, st),
                      g_const_i64(g, "ends", 1, &two, en), g_const_i64(g, "axes", 1, &two, ax)));
}

/* Left alone: a piece read elsewhere too, pieces that also narrow a second
 * axis, and pieces of two different tensors. */
static void roll_negatives(void **state) {
  (void)state;
  for (int k = 0; k < 3; k++) {
    Graph *g = fz_graph("roll_neg");
    int64_t dims[3] = {4, 6, 2};
    Value *x = g_input(g, "x", DT_FLOAT32, 3, dims);
    Value *z = g_input(g, "z", DT_FLOAT32, 3, dims);
    Value *a, *b;
    if (k == 1) {
      a = slice_two(g, x, 4, 6, 0, 1, "a");
      b = slice_two(g, x, 0, 4, 0, 1, "b");
    } else {
      a = slice_axis(g, x, 1, 4, 6, "a");
      b = slice_axis(g, k == 2 ? z : x, 1, 0, 4, "b");
    }
    Node *c = g_node(g, OP_CONCAT, "cat", "y", 2, a, b);
    Error err;
    assert_int_equal(ir_node_set_attr_int(g, c, "axis", 1, &err), ST_OK);
    g_output(g, g_out(c));
    if (k == 0) g_output(g, a); /* the piece has a second reader */
    fz_check_pass(g, "canonicalize", NULL);
    assert_int_equal(fz_count(g, OP_GATHER), 0);
    assert_int_equal(fz_count(g, OP_CONCAT), 1);
    ir_graph_free(g);
  }
}

/* onnxc.SiLU's kernel against hand-computed x * sigmoid(x). */
static void silu_kernel_values(void **state) {
  (void)state;
  Graph *g = fz_graph("silu_k");
  int64_t d[1] = {3};
  Value *x = g_input(g, "x", DT_FLOAT32, 1, d);
  Node *n = g_node(g, OP_SILU, "SiLU", "y", 1, x);
  g_output(g, g_out(n));
  g_type_all(g);
  float in[3] = {0.0f, 1.0f, -2.0f}, out[3];
  const void *ins[1] = {in};
  void *outs[1] = {out};
  Error err = {0};
  assert_int_equal(eval_silu(n, ins, outs, &err), ST_OK);
  assert_float_equal(out[0], 0.0f, 1e-7);
  assert_float_equal(out[1], 0.7310585786f, 1e-6);   /* 1 / (1 + e^-1) */
  assert_float_equal(out[2], -0.2384058440f, 1e-6);  /* -2 / (1 + e^2) */
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(layernorm_torch_form),   cmocka_unit_test(layernorm_variants),
      cmocka_unit_test(layernorm_negatives),    cmocka_unit_test(gelu_erf_torch_form),
      cmocka_unit_test(gelu_erf_other_association), cmocka_unit_test(gelu_negatives),
      cmocka_unit_test(gelu_tanh_torch_form),   cmocka_unit_test(silu_and_negative),
      cmocka_unit_test(silu_kernel_values),     cmocka_unit_test(roll_to_gather),
      cmocka_unit_test(roll_negatives),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
