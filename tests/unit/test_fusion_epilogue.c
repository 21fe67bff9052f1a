/*
 * fuse-epilogues and the fused kernels: Conv/MatMul/Gemm followed by bias,
 * activation and residual Adds become one onnxc.FusedConv/FusedMatMul;
 * every activation is checked numerically against the unfused graph, the
 * kernels against hand-computed values, and the negative cases (extra
 * reader, graph output, bias that is not per channel) stay unfused.
 */
#include "test_fusion_util.h"

static const int64_t XD[4] = {2, 3, 5, 5};

static Node *conv3(Graph *g, Value *x, bool bias) {
  int64_t wd[4] = {4, 3, 3, 3}, pads[4] = {1, 1, 1, 1}, c = 4;
  Value *w = fz_rand_const(g, "W", 4, wd, -0.5f, 0.5f, 41);
  Value *b = bias ? fz_rand_const(g, "b", 1, &c, -0.5f, 0.5f, 42) : NULL;
  Node *n = g_node(g, OP_CONV, "Conv", "c", bias ? 3 : 2, x, w, b);
  assert_int_equal(ir_node_set_attr_ints(g, n, "pads", pads, 4, NULL), ST_OK);
  return n;
}

/* Conv + Add(bias [1,4,1,1]) + Relu + Add(residual): residual_first = 0. */
static void conv_bias_relu_residual(void **state) {
  (void)state;
  Graph *g = fz_graph("conv_epi");
  Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
  int64_t od[4] = {2, 4, 5, 5}, bd[4] = {1, 4, 1, 1};
  Value *r = g_input(g, "r", DT_FLOAT32, 4, od);
  Value *c = g_out(conv3(g, x, false));
  Value *b = g_out(g_node(g, OP_ADD, "Add_b", "cb", 2, fz_rand_const(g, "bias", 4, bd, -1, 1, 43), c));
  Value *a = g_out(g_node(g, OP_RELU, "Relu", "a", 1, b));
  g_output(g, g_out(g_node(g, OP_ADD, "Add_r", "y", 2, r, a)));
  fz_check_pass(g, "fuse-epilogues", "conv_bias_relu_residual");
  assert_int_equal(g->num_nodes, 1);
  const Node *f = g->nodes[0];
  assert_int_equal(f->op, OP_FUSED_CONV);
  assert_string_equal(ir_attr_string(f, "activation", ""), "Relu");
  assert_int_equal(ir_attr_int(f, "residual_first", -1), 0);
  assert_ptr_equal(f->inputs[3], r);
  ir_graph_free(g);
}

/* Conv(B) + Add(residual) + Clip(0, 6): residual_first = 1. */
static void conv_residual_then_clip(void **state) {
  (void)state;
  Graph *g = fz_graph("conv_res_clip");
  Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
  int64_t od[4] = {2, 4, 5, 5};
  Value *r = g_input(g, "r", DT_FLOAT32, 4, od);
  Value *c = g_out(conv3(g, x, true));
  Value *s = g_out(g_node(g, OP_ADD, "Add_r", "s", 2, c, r));
  g_output(g, g_out(g_node(g, OP_CLIP, "Clip", "y", 3, s, fz_scalar(g, "lo", 0.0f),
                           fz_scalar(g, "hi", 0.5f))));
  fz_check_pass(g, "fuse-epilogues", NULL);
  assert_int_equal(g->num_nodes, 1);
  const Node *f = g->nodes[0];
  assert_int_equal(ir_attr_int(f, "residual_first", -1), 1);
  assert_float_equal(ir_attr_float(f, "activation_beta", 0), 0.5f, 0);
  ir_graph_free(g);
}

/* Every activation after a Conv, fused and numerically unchanged. */
static void conv_every_activation(void **state) {
  (void)state;
  static const OpKind acts[] = {OP_RELU, OP_CLIP, OP_LEAKY_RELU, OP_HARD_SIGMOID, OP_HARD_SWISH,
                                OP_SIGMOID, OP_SILU, OP_GELU, OP_GELU, OP_TANH};
  static const char *const names[] = {"Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish",
                                      "Sigmoid", "SiLU", "Gelu", "GeluTanh", "Tanh"};
  for (size_t k = 0; k < sizeof acts / sizeof *acts; k++) {
    Graph *g = fz_graph("conv_act");
    Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
    Value *c = g_out(conv3(g, x, true));
    Node *a = acts[k] == OP_CLIP
                  ? g_node(g, OP_CLIP, "Clip", "y", 3, c, fz_scalar(g, "lo", -0.25f),
                           fz_scalar(g, "hi", 0.3f))
                  : g_node(g, acts[k], "Act", "y", 1, c);
    if (acts[k] == OP_LEAKY_RELU)
      assert_int_equal(ir_node_set_attr_float(g, a, "alpha", 0.2f, NULL), ST_OK);
    if (acts[k] == OP_HARD_SIGMOID)
      assert_int_equal(ir_node_set_attr_float(g, a, "beta", 0.4f, NULL), ST_OK);
    if (k == 8) assert_int_equal(ir_node_set_attr_string(g, a, "approximate", "tanh", NULL), ST_OK);
    g_output(g, g_out(a));
    fz_check_pass(g, "fuse-epilogues", NULL);
    assert_int_equal(g->num_nodes, 1);
    assert_string_equal(ir_attr_string(g->nodes[0], "activation", ""), names[k]);
    ir_graph_free(g);
  }
}

/* MatMul [2,3,5]x[5,4] + Add(bias [4]) + Gelu + Add(residual [3,4]),
 * and Gemm(transB) + bias + LeakyRelu. */
static void matmul_and_gemm(void **state) {
  (void)state;
  Graph *g = fz_graph("mm_epi");
  int64_t ad[3] = {2, 3, 5}, bd[2] = {5, 4}, n = 4, rd[2] = {3, 4};
  Value *a = g_input(g, "a", DT_FLOAT32, 3, ad);
  Value *r = g_input(g, "r", DT_FLOAT32, 2, rd);
  Value *m = g_out(g_node(g, OP_MATMUL, "MatMul", "m", 2, a, fz_rand_const(g, "B", 2, bd, -1, 1, 51)));
  Value *mb = g_out(g_node(g, OP_ADD, "Add", "mb", 2, fz_rand_const(g, "bias", 1, &n, -1, 1, 52), m));
  Value *ge = g_out(g_node(g, OP_GELU, "Gelu", "ge", 1, mb));
  g_output(g, g_out(g_node(g, OP_ADD, "Add_r", "y", 2, ge, r)));
  fz_check_pass(g, "fuse-epilogues", "matmul_bias_gelu_residual");
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_FUSED_MATMUL);
  ir_graph_free(g);

  g = fz_graph("gemm_epi");
  int64_t a2[2] = {3, 5}, bt[2] = {4, 5};
  Value *a2v = g_input(g, "a", DT_FLOAT32, 2, a2);
  Node *gm = g_node(g, OP_GEMM, "Gemm", "m", 3, a2v, fz_rand_const(g, "Bt", 2, bt, -1, 1, 53),
                    fz_rand_const(g, "C", 1, &n, -1, 1, 54));
  assert_int_equal(ir_node_set_attr_int(g, gm, "transB", 1, NULL), ST_OK);
  Node *lr = g_node(g, OP_LEAKY_RELU, "LeakyRelu", "y", 1, g_out(gm));
  g_output(g, g_out(lr));
  fz_check_pass(g, "fuse-epilogues", "gemm_transb_leaky");
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->inputs[1]->dims[0], 5); /* B transposed to [K, N] */
  ir_graph_free(g);
}

/* Not fused: the Conv result is also a graph output; the Relu result has a
 * second reader (so the residual Add stays); a bias varying along H. */
static void negatives(void **state) {
  (void)state;
  for (int k = 0; k < 3; k++) {
    Graph *g = fz_graph("neg");
    Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
    int64_t od[4] = {2, 4, 5, 5}, hd[4] = {1, 1, 5, 1};
    Value *c = g_out(conv3(g, x, true));
    if (k == 2) {
      Value *b = g_out(g_node(g, OP_ADD, "Add_b", "y", 2, c, fz_rand_const(g, "hb", 4, hd, -1, 1, 5)));
      g_output(g, b);
    } else {
      Value *a = g_out(g_node(g, OP_RELU, "Relu", "a", 1, c));
      Value *r = g_input(g, "r", DT_FLOAT32, 4, od);
      g_output(g, g_out(g_node(g, OP_ADD, "Add_r", "y", 2, a, r)));
      g_output(g, k == 0 ? c : a);
    }
    int before = g->num_nodes;
    fz_check_pass(g, "fuse-epilogues", k == 0 ? "conv_output_used" : NULL);
    if (k == 1) {
      assert_int_equal(g->num_nodes, 2); /* Conv+Relu fuse, the Add stays */
      assert_int_equal(fz_count(g, OP_ADD), 1);
    } else {
      assert_int_equal(g->num_nodes, before);
      assert_int_equal(fz_count(g, OP_FUSED_CONV), 0);
    }
    ir_graph_free(g);
  }
}

/* FusedMatMul kernel by hand: A=[[1,2]], B=[[1,-1],[1,2]] -> [3, 3];
 * Bias [-5, 1] -> [-2, 4]; residual_first=1 with R=[1, 1] -> [-1, 5];
 * LeakyRelu(0.1) -> [-0.1, 5]. */
static void fused_matmul_kernel_values(void **state) {
  (void)state;
  Graph *g = fz_graph("fmm");
  int64_t ad[2] = {1, 2}, bd[2] = {2, 2}, n = 2;
  float bv[4] = {1, -1, 1, 2}, biasv[2] = {-5, 1};
  Value *a = g_input(g, "a", DT_FLOAT32, 2, ad);
  Value *r = g_input(g, "r", DT_FLOAT32, 1, &n);
  Node *f = g_node(g, OP_FUSED_MATMUL, "F", "y", 4, a, g_const_f32(g, "B", 2, bd, bv),
                   g_const_f32(g, "bias", 1, &n, biasv), r);
  assert_int_equal(ir_node_set_attr_string(g, f, "activation", "LeakyRelu", NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, f, "activation_alpha", 0.1f, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_int(g, f, "residual_first", 1, NULL), ST_OK);
  g_output(g, g_out(f));
  g_type_all(g);
  float av[2] = {1, 2}, rv[2] = {1, 1}, out[2];
  const void *ins[4] = {av, bv, biasv, rv};
  void *outs[1] = {out};
  Error err = {0};
  assert_int_equal(eval_fused_matmul(f, ins, outs, &err), ST_OK);
  assert_float_equal(out[0], -0.1f, 1e-6);
  assert_float_equal(out[1], 5.0f, 1e-6);
  /* Bad attribute values are refused with a message. */
  assert_int_equal(ir_node_set_attr_string(g, f, "activation", "Swish", NULL), ST_OK);
  assert_int_not_equal(shape_fused_matmul(g, f, &err), ST_OK);
  assert_non_null(strstr(err.msg, "Swish"));
  ir_graph_free(g);
}

/* FusedConv kernel by hand: 1x1 conv, X=[[-1, 2]] (1 channel, 1x2),
 * W=2, B=0.5 -> [-1.5, 4.5]; Relu -> [0, 4.5]; + R=[1, -1] -> [1, 3.5]. */
static void fused_conv_kernel_values(void **state) {
  (void)state;
  Graph *g = fz_graph("fconv");
  int64_t xd[4] = {1, 1, 1, 2}, wd[4] = {1, 1, 1, 1}, one = 1;
  float wv = 2, bv = 0.5f;
  Value *x = g_input(g, "x", DT_FLOAT32, 4, xd);
  Value *r = g_input(g, "r", DT_FLOAT32, 4, xd);
  Node *f = g_node(g, OP_FUSED_CONV, "F", "y", 4, x, g_const_f32(g, "W", 4, wd, &wv),
                   g_const_f32(g, "B", 1, &one, &bv), r);
  assert_int_equal(ir_node_set_attr_string(g, f, "activation", "Relu", NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_int(g, f, "residual_first", 0, NULL), ST_OK);
  g_output(g, g_out(f));
  g_type_all(g);
  assert_int_equal(g_out(f)->dims[3], 2);
  float xv[2] = {-1, 2}, rv[2] = {1, -1}, out[2];
  const void *ins[4] = {xv, &wv, &bv, rv};
  void *outs[1] = {out};
  Error err = {0};
  assert_int_equal(eval_fused_conv(f, ins, outs, &err), ST_OK);
  assert_float_equal(out[0], 1.0f, 1e-6);
  assert_float_equal(out[1], 3.5f, 1e-6);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conv_bias_relu_residual),
      cmocka_unit_test(conv_residual_then_clip),
      cmocka_unit_test(conv_every_activation),
      cmocka_unit_test(matmul_and_gemm),
      cmocka_unit_test(negatives),
      cmocka_unit_test(fused_matmul_kernel_values),
      cmocka_unit_test(fused_conv_kernel_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
