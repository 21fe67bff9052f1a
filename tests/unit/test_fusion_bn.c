/*
 * fold-batchnorm: BN after a grouped Conv, after Gemm(transB) and MatMul,
 * before an unpadded Conv, and the standalone fallback (Mul + Add), each
 * checked by golden IR and by evaluating before/after on random inputs
 * (test_fusion_util.h).  Negative: a conv output with a second reader keeps
 * its weights, and a BN before a padded conv is not folded into it.
 */
#include "test_fusion_util.h"

static Value *bn_params(Graph *g, int64_t c, Value **p) {
  p[0] = fz_rand_const(g, "scale", 1, &c, 0.5f, 1.5f, 11);
  p[1] = fz_rand_const(g, "B", 1, &c, -0.5f, 0.5f, 12);
  p[2] = fz_rand_const(g, "mean", 1, &c, -0.5f, 0.5f, 13);
  p[3] = fz_rand_const(g, "var", 1, &c, 0.5f, 2.0f, 14);
  return p[0];
}

static Node *bn_node(Graph *g, Value *x, int64_t c, const char *out) {
  Value *p[4];
  bn_params(g, c, p);
  Node *bn = g_node(g, OP_BATCH_NORMALIZATION, "BN", out, 5, x, p[0], p[1], p[2], p[3]);
  assert_int_equal(ir_node_set_attr_float(g, bn, "epsilon", 1e-5f, NULL), ST_OK);
  return bn;
}

static Node *conv_node(Graph *g, Value *x, int64_t cout, int64_t cin_per_group, int group,
                       int pad, bool bias, const char *out) {
  int64_t wd[4] = {cout, cin_per_group, 3, 3}, pads[4] = {pad, pad, pad, pad};
  int64_t ks[2] = {3, 3};
  Value *w = fz_rand_const(g, "W", 4, wd, -0.5f, 0.5f, 21);
  Value *b = bias ? fz_rand_const(g, "b", 1, &cout, -0.5f, 0.5f, 22) : NULL;
  Node *c = g_node(g, OP_CONV, "Conv", out, bias ? 3 : 2, x, w, b);
  assert_int_equal(ir_node_set_attr_int(g, c, "group", group, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_ints(g, c, "pads", pads, 4, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_ints(g, c, "kernel_shape", ks, 2, NULL), ST_OK);
  return c;
}

static const int64_t XD[4] = {2, 4, 6, 6};

static void conv_then_bn_grouped(void **state) {
  (void)state;
  Graph *g = fz_graph("conv_bn");
  Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
  Value *y = g_out(conv_node(g, x, 6, 2, 2, 1, true, "c"));
  g_output(g, g_out(bn_node(g, y, 6, "y")));
  fz_check_pass(g, "fold-batchnorm", "conv_bn");
  assert_int_equal(fz_count(g, OP_BATCH_NORMALIZATION), 0);
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_CONV);
  ir_graph_free(g);
}

static void gemm_and_matmul_then_bn(void **state) {
  (void)state;
  int64_t ad[2] = {3, 5}, bt[2] = {4, 5}, bn_[2] = {5, 4}, n = 4;
  for (int k = 0; k < 2; k++) {
    Graph *g = fz_graph("gemm_bn");
    Value *a = g_input(g, "a", DT_FLOAT32, 2, ad);
    Node *mm;
    if (k == 0) {
      mm = g_node(g, OP_GEMM, "Gemm", "m", 3, a, fz_rand_const(g, "Bt", 2, bt, -1, 1, 31),
                  fz_rand_const(g, "C", 1, &n, -1, 1, 32));
      assert_int_equal(ir_node_set_attr_int(g, mm, "transB", 1, NULL), ST_OK);
      assert_int_equal(ir_node_set_attr_float(g, mm, "beta", 0.5f, NULL), ST_OK);
    } else {
      mm = g_node(g, OP_MATMUL, "MatMul", "m", 2, a, fz_rand_const(g, "B", 2, bn_, -1, 1, 33));
    }
    g_output(g, g_out(bn_node(g, g_out(mm), 4, "y")));
    fz_check_pass(g, "fold-batchnorm", k == 0 ? "gemm_bn" : "matmul_bn");
    assert_int_equal(fz_count(g, OP_BATCH_NORMALIZATION), 0);
    assert_int_equal(fz_count(g, OP_MUL), 0);
    ir_graph_free(g);
  }
}

/* BN -> Conv: folded into the conv when pads are 0; with padding it must
 * stay outside the conv (here as Mul + Add). */
static void bn_then_conv(void **state) {
  (void)state;
  for (int pad = 0; pad < 2; pad++) {
    Graph *g = fz_graph("bn_conv");
    Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
    Value *t = g_out(bn_node(g, x, 4, "t"));
    g_output(g, g_out(conv_node(g, t, 6, 2, 2, pad, pad == 0, "y")));
    fz_check_pass(g, "fold-batchnorm", pad ? "bn_padded_conv" : "bn_conv");
    assert_int_equal(fz_count(g, OP_BATCH_NORMALIZATION), 0);
    assert_int_equal(g->num_nodes, pad ? 3 : 1);
    assert_int_equal(fz_count(g, OP_MUL), pad ? 1 : 0);
    ir_graph_free(g);
  }
}

/* The conv result is also a graph output: its weights must not change. */
static void conv_with_extra_user_not_folded(void **state) {
  (void)state;
  Graph *g = fz_graph("conv_bn_neg");
  Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
  Node *c = conv_node(g, x, 6, 2, 2, 1, true, "c");
  Value *w = c->inputs[1];
  g_output(g, g_out(bn_node(g, g_out(c), 6, "y")));
  g_output(g, g_out(c));
  fz_check_pass(g, "fold-batchnorm", NULL);
  assert_ptr_equal(fz_first(g, OP_CONV)->inputs[1], w);
  assert_int_equal(fz_count(g, OP_BATCH_NORMALIZATION), 0);
  assert_int_equal(fz_count(g, OP_MUL), 1);
  assert_int_equal(fz_count(g, OP_ADD), 1);
  ir_graph_free(g);
}

/* Conv -> Mul by a [1] scalar -> Add of a [1,6,1,1] per-channel constant
 * (paddle2onnx's LearnableAffineBlock after a conv) fold into the conv's
 * weights; a Mul by a constant varying along W ([6] onto the last axis)
 * is not per channel and stays. */
static void conv_then_channel_affine(void **state) {
  (void)state;
  Graph *g = fz_graph("conv_affine");
  Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
  Value *y = g_out(conv_node(g, x, 6, 2, 2, 1, true, "c"));
  int64_t one = 1, ch[4] = {1, 6, 1, 1}, w6 = 6;
  Value *m = g_out(g_node(g, OP_MUL, "Mul", "m", 2, fz_rand_const(g, "s", 1, &one, 0.5, 2, 41), y));
  Value *a = g_out(g_node(g, OP_ADD, "Add", "a", 2, m, fz_rand_const(g, "b", 4, ch, -1, 1, 42)));
  g_output(g, g_out(g_node(g, OP_MUL, "MulW", "y", 2, a, fz_rand_const(g, "v", 1, &w6, -1, 1, 43))));
  fz_check_pass(g, "fold-batchnorm", "conv_affine");
  assert_int_equal(fz_count(g, OP_ADD), 0);
  assert_int_equal(fz_count(g, OP_MUL), 1);
  assert_int_equal(fz_count(g, OP_CONV), 1);
  ir_graph_free(g);
}

/* Hand-computed: x=[1,2] on two channels, scale=[2,1], B=[0,1], mean=[1,0],
 * var=[3,0] (eps 1): channel 0 (1-1)*2/2+0 = 0; channel 1 2*1/1+1 = 3. */
static void standalone_values(void **state) {
  (void)state;
  Graph *g = fz_graph("bn_alone");
  int64_t xd[2] = {1, 2}, c = 2;
  float s[2] = {2, 1}, b[2] = {0, 1}, m[2] = {1, 0}, v[2] = {3, 0};
  Value *x = g_input(g, "x", DT_FLOAT32, 2, xd);
  Node *bn = g_node(g, OP_BATCH_NORMALIZATION, "BN", "y", 5, x, g_const_f32(g, "s", 1, &c, s),
                    g_const_f32(g, "b", 1, &c, b), g_const_f32(g, "m", 1, &c, m),
                    g_const_f32(g, "v", 1, &c, v));
  assert_int_equal(ir_node_set_attr_float(g, bn, "epsilon", 1.0f, NULL), ST_OK);
  g_output(g, g_out(bn));
  fz_check_pass(g, "fold-batchnorm", NULL);
  assert_int_equal(fz_count(g, OP_BATCH_NORMALIZATION), 0);
  float in[2] = {1, 2}, out[2];
  const void *ins[1] = {in};
  void *outs[1] = {out};
  Error err = {0};
  assert_int_equal(eval_graph(g, ins, outs, &err), ST_OK);
  assert_float_equal(out[0], 0.0f, 1e-6);
  assert_float_equal(out[1], 3.0f, 1e-6);
  ir_graph_free(g);
}

/* The whole pipeline on Conv -> BN -> Relu: no BN, no Relu, one FusedConv. */
static void pipeline_conv_bn_relu(void **state) {
  (void)state;
  Graph *g = fz_graph("pipeline");
  Value *x = g_input(g, "x", DT_FLOAT32, 4, XD);
  Value *y = g_out(conv_node(g, x, 6, 4, 1, 1, false, "c"));
  Value *t = g_out(bn_node(g, y, 6, "t"));
  g_output(g, g_out(g_node(g, OP_RELU, "Relu", "r", 1, t)));
  PipelineOptions o = {0};
  Error err = {0};
  if (pass_run_pipeline(g, &o, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(g->num_nodes, 1);
  assert_int_equal(g->nodes[0]->op, OP_FUSED_CONV);
  assert_string_equal(ir_attr_string(g->nodes[0], "activation", ""), "Relu");
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conv_then_bn_grouped),
      cmocka_unit_test(gemm_and_matmul_then_bn),
      cmocka_unit_test(bn_then_conv),
      cmocka_unit_test(conv_with_extra_user_not_folded),
      cmocka_unit_test(standalone_values),
      cmocka_unit_test(conv_then_channel_affine),
      cmocka_unit_test(pipeline_conv_bn_relu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
