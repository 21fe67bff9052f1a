/*
 * Golden tests of fuse-attention (passes/fuse_attention.c): each case
 * builds an attention subgraph the way torch or paddle exports it, runs the
 * pass, compares "input IR -> IR after" with
 * tests/golden/fuse-attention/<case>.txt, asserts the key facts (one
 * Attention, its scale computed by hand, which inputs it reads) and checks
 * that eval_graph gives the same outputs before and after on random inputs
 * (relative error <= 1e-5).  Negative cases must come out unchanged.
 */
#include "golden_util.h"

#include <math.h>

#include "ir/verify.h"
#include "ops/eval.h"
#include "passes/pass.h"

typedef struct Outs {
  int count;
  float *data[4];
} Outs;

static uint32_t rng = 777;
static float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Evaluates g on inputs filled from a fixed seed. */
static Outs eval_fixed(const Graph *g, uint32_t seed) {
  rng = seed;
  void *ins[8] = {0};
  assert_true(g->num_inputs <= 8 && g->num_outputs <= 4);
  for (int i = 0; i < g->num_inputs; i++) {
    int64_t n = ir_value_numel(g->inputs[i]);
    float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
    assert_non_null(p);
    for (int64_t e = 0; e < n; e++) p[e] = 2 * frand();
    ins[i] = p;
  }
  Outs o = {g->num_outputs, {0}};
  for (int i = 0; i < g->num_outputs; i++) {
    o.data[i] = malloc(ir_value_nbytes(g->outputs[i]) + 4);
    assert_non_null(o.data[i]);
  }
  Error err = {0};
  if (eval_graph(g, (const void *const *)ins, (void *const *)o.data, &err) != ST_OK)
    fail_msg("eval_graph: %s", err.msg);
  for (int i = 0; i < g->num_inputs; i++) free(ins[i]);
  return o;
}

/* Relative error with a floor of 1: outputs are convex combinations of V
 * rows in [-2, 2], so entries near 0 come from cancellation and their
 * float32 rounding is relative to the terms, not to the result. */
static void expect_same(const Graph *g, Outs a, Outs b) {
  assert_int_equal(a.count, b.count);
  for (int i = 0; i < a.count; i++) {
    int64_t n = ir_value_numel(g->outputs[i]);
    for (int64_t e = 0; e < n; e++) {
      double x = a.data[i][e], y = b.data[i][e];
      if (fabs(x - y) > 1e-5 * fmax(fabs(x), 1.0))
        fail_msg("output %d element %lld: %.9g before, %.9g after", i, (long long)e, x, y);
    }
    free(a.data[i]);
    free(b.data[i]);
  }
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

/* Types g, evaluates, runs the pass, verifies, compares with the golden
 * file and re-evaluates. */
static void run_case(Graph *g, const char *golden) {
  g_type_all(g);
  Outs before = eval_fixed(g, 99);
  char *text_before = print_to_string(g, ir_print);
  Error err = {0};
  if (pass_fuse_attention(g, &err) != ST_OK) fail_msg("fuse-attention: %s", err.msg);
  if (ir_verify(g, true, &err) != ST_OK) fail_msg("verify: %s", err.msg);
  char *text_after = print_to_string(g, ir_print);
  size_t n = strlen(text_before) + strlen(text_after) + 64;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "; input\n%s; after fuse-attention\n%s", text_before, text_after);
  char rel[256];
  snprintf(rel, sizeof rel, "fuse-attention/%s.txt", golden);
  check_golden(rel, text);
  free(text_before);
  free(text_after);
  free(text);
  expect_same(g, before, eval_fixed(g, 99));
}

static Node *softmax_last(Graph *g, Value *x) {
  Node *s = g_node(g, OP_SOFTMAX, "softmax", "p", 1, x);
  assert_int_equal(ir_node_set_attr_int(g, s, "axis", -1, NULL), ST_OK);
  return s;
}

static Value *transpose(Graph *g, const char *name, Value *x, int r, const int64_t *perm) {
  Node *t = g_node(g, OP_TRANSPOSE, name, name, 1, x);
  assert_int_equal(ir_node_set_attr_ints(g, t, "perm", perm, r, NULL), ST_OK);
  return g_out(t);
}

static Value *scalar(Graph *g, const char *name, float v) { return g_const_f32(g, name, 0, NULL, &v); }

static const int64_t SWAP4[4] = {0, 1, 3, 2};

static void expect_attention(const Graph *g, float scale, const Value *q, const Value *k,
                             const Value *v, bool bias) {
  assert_int_equal(live_count(g, OP_ATTENTION), 1);
  assert_int_equal(live_count(g, OP_SOFTMAX), 0);
  assert_int_equal(live_count(g, OP_MATMUL) + live_count(g, OP_EINSUM), 0);
  const Node *a = first_node(g, OP_ATTENTION);
  assert_float_equal(ir_attr_float(a, "scale", 0), scale, 1e-6 * scale);
  if (q) assert_ptr_equal(a->inputs[0], q);
  if (k) assert_ptr_equal(a->inputs[1], k);
  if (v) assert_ptr_equal(a->inputs[2], v);
  assert_int_equal(a->num_inputs, bias ? 4 : 3);
}

/* ViT: softmax(Q.K^T * s) . V with K^T = Transpose(K, swap). */
static void fuse_vit_global(void **state) {
  (void)state;
  Graph *g = ir_graph_new("vit", "test.onnx");
  g->opset = 17;
  int64_t d[4] = {2, 3, 10, 8};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *k = g_input(g, "k", DT_FLOAT32, 4, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d);
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, q, transpose(g, "kt", k, 4, SWAP4)));
  Value *s2 = g_out(g_node(g, OP_MUL, "scale", "s2", 2, s, scalar(g, "c", 0.35355339f)));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s2)), v)));
  run_case(g, "vit_global");
  expect_attention(g, 0.35355339f, q, k, v, false);
  assert_int_equal(live_count(g, OP_TRANSPOSE), 0);
  ir_graph_free(g);
}

/* torch MHA: Mul on Q; K^T made by the head split's Transpose (0,2,3,1)
 * of [B, M, H, D], so K = Transpose(k, (0,2,1,3)). */
static void fuse_scale_on_q(void **state) {
  (void)state;
  Graph *g = ir_graph_new("scale_q", "test.onnx");
  g->opset = 13;
  int64_t qd[4] = {1, 2, 6, 4}, kd[4] = {1, 6, 2, 4};
  const int64_t p0231[4] = {0, 2, 3, 1};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, qd), *k = g_input(g, "k", DT_FLOAT32, 4, kd);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, qd);
  Value *qs = g_out(g_node(g, OP_MUL, "qscale", "qs", 2, scalar(g, "c", 0.5f), q));
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, qs, transpose(g, "kt", k, 4, p0231)));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s)), v)));
  run_case(g, "scale_on_q");
  expect_attention(g, 0.5f, q, NULL, v, false);
  const Node *t = first_node(g, OP_TRANSPOSE);
  assert_non_null(t);
  const int64_t *perm;
  assert_int_equal(ir_attr_ints(t, "perm", &perm), 4);
  assert_int_equal(perm[1], 2);
  assert_int_equal(perm[2], 1);
  assert_ptr_equal(t->inputs[0], k);
  assert_ptr_equal(first_node(g, OP_ATTENTION)->inputs[1], t->outputs[0]);
  ir_graph_free(g);
}

/* torchvision ViT's Div by sqrt(d) after the product, and a graph whose
 * K^T is an input (no Transpose to walk back through: one is inserted). */
static void fuse_div_scaling(void **state) {
  (void)state;
  Graph *g = ir_graph_new("div", "test.onnx");
  g->opset = 13;
  int64_t qd[3] = {4, 9, 16}, ktd[3] = {4, 16, 9};
  Value *q = g_input(g, "q", DT_FLOAT32, 3, qd), *kt = g_input(g, "kt", DT_FLOAT32, 3, ktd);
  Value *v = g_input(g, "v", DT_FLOAT32, 3, qd);
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, q, kt));
  Value *s2 = g_out(g_node(g, OP_DIV, "div", "s2", 2, s, scalar(g, "c", 4.0f)));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s2)), v)));
  run_case(g, "div_scaling");
  expect_attention(g, 0.25f, q, NULL, v, false);
  assert_int_equal(live_count(g, OP_TRANSPOSE), 1);
  ir_graph_free(g);
}

/* torch 2.x scaled_dot_product_attention: sqrt of the scale on Q and on
 * K^T (after its Transpose), scale = s1 * s2. */
static void fuse_sqrt_scaling(void **state) {
  (void)state;
  Graph *g = ir_graph_new("sqrt_scale", "test.onnx");
  g->opset = 17;
  int64_t d[4] = {1, 2, 5, 8};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *k = g_input(g, "k", DT_FLOAT32, 4, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d);
  Value *qs = g_out(g_node(g, OP_MUL, "qscale", "qs", 2, q, scalar(g, "s1", 0.5f)));
  Value *kt = transpose(g, "kt", k, 4, SWAP4);
  Value *ks = g_out(g_node(g, OP_MUL, "kscale", "ks", 2, kt, scalar(g, "s2", 0.25f)));
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, qs, ks));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s)), v)));
  run_case(g, "sqrt_scaling");
  expect_attention(g, 0.125f, q, k, v, false);
  assert_int_equal(live_count(g, OP_MUL), 0);
  ir_graph_free(g);
}

/* einsum('bhnd,bhmd->bhnm') * s -> softmax -> einsum('bhnm,bhmd->bhnd'). */
static void fuse_einsum(void **state) {
  (void)state;
  Graph *g = ir_graph_new("einsum", "test.onnx");
  g->opset = 13;
  int64_t d[4] = {2, 2, 7, 4};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *k = g_input(g, "k", DT_FLOAT32, 4, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d);
  Node *e1 = g_node(g, OP_EINSUM, "qk", "s", 2, q, k);
  assert_int_equal(ir_node_set_attr_string(g, e1, "equation", "bhnd,bhmd->bhnm", NULL), ST_OK);
  Value *s2 = g_out(g_node(g, OP_MUL, "scale", "s2", 2, g_out(e1), scalar(g, "c", 0.5f)));
  Node *e2 = g_node(g, OP_EINSUM, "pv", "y", 2, g_out(softmax_last(g, s2)), v);
  assert_int_equal(ir_node_set_attr_string(g, e2, "equation", "bhnm, bhmd -> bhnd", NULL), ST_OK);
  g_output(g, g_out(e2));
  run_case(g, "einsum");
  expect_attention(g, 0.5f, q, k, v, false);
  assert_int_equal(live_count(g, OP_TRANSPOSE), 0);
  ir_graph_free(g);
}

/* Swin shifted windows (B = 1, nW = 4, H = 2, N = 4): Mul on Q, + relative
 * position bias [1, H, N, N], view to [1, nW, H, N, N], + mask
 * [1, nW, 1, N, N], view back.  The bias must become rel + mask over
 * [nW, H, N, N]. */
static void fuse_swin_window(void **state) {
  (void)state;
  Graph *g = ir_graph_new("swin", "test.onnx");
  g->opset = 17;
  enum { W = 4, H = 2, N = 4, D = 8 };
  int64_t d[4] = {W, H, N, D}, rd[4] = {1, H, N, N}, md[5] = {1, W, 1, N, N}, one[1] = {5};
  int64_t four[1] = {4};
  float rel[H * N * N], mask[W * N * N];
  for (int i = 0; i < H * N * N; i++) rel[i] = 0.1f * (float)(i % 7) - 0.3f;
  for (int i = 0; i < W * N * N; i++) mask[i] = (i / (N * N) == 3 && (i % N) != (i / N) % N) ? -100.0f : 0.0f;
  const int64_t v5[5] = {1, W, H, N, N}, v4[4] = {W, H, N, N};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *k = g_input(g, "k", DT_FLOAT32, 4, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d);
  Value *qs = g_out(g_node(g, OP_MUL, "qscale", "qs", 2, q, scalar(g, "c", 0.35355339f)));
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, qs, transpose(g, "kt", k, 4, SWAP4)));
  Value *s1 = g_out(g_node(g, OP_ADD, "add_rel", "s1", 2, s, g_const_f32(g, "rel", 4, rd, rel)));
  Value *r5 = g_out(g_node(g, OP_RESHAPE, "view5", "r5", 2, s1, g_const_i64(g, "shape5", 1, one, v5)));
  Value *m5 = g_out(g_node(g, OP_ADD, "add_mask", "m5", 2, r5, g_const_f32(g, "mask", 5, md, mask)));
  Value *r4 = g_out(g_node(g, OP_RESHAPE, "view4", "r4", 2, m5, g_const_i64(g, "shape4", 1, four, v4)));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, r4)), v)));
  run_case(g, "swin_window");
  expect_attention(g, 0.35355339f, q, k, v, true);
  const Value *b = first_node(g, OP_ATTENTION)->inputs[3];
  assert_true(ir_value_is_const(b));
  assert_int_equal(b->rank, 4);
  int64_t want[4] = {W, H, N, N};
  for (int i = 0; i < 4; i++) assert_int_equal(b->dims[i], want[i]);
  const float *bd = b->data;
  for (int w = 0; w < W; w++)
    for (int h = 0; h < H; h++)
      for (int e = 0; e < N * N; e++)
        assert_float_equal(bd[(w * H + h) * N * N + e], rel[h * N * N + e] + mask[w * N * N + e], 1e-6);
  ir_graph_free(g);
}

/* Window attention with only a relative-position bias: the bias stays
 * [1, H, N, N] (it does not vary over windows). */
static void fuse_relpos_only(void **state) {
  (void)state;
  Graph *g = ir_graph_new("relpos", "test.onnx");
  g->opset = 13;
  enum { W = 3, H = 2, N = 5, D = 4 };
  int64_t d[4] = {W, H, N, D}, rd[3] = {H, N, N};
  float rel[H * N * N];
  for (int i = 0; i < H * N * N; i++) rel[i] = 0.05f * (float)i;
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *k = g_input(g, "k", DT_FLOAT32, 4, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d);
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, q, transpose(g, "kt", k, 4, SWAP4)));
  Value *s1 = g_out(g_node(g, OP_MUL, "scale", "s1", 2, s, scalar(g, "c", 0.5f)));
  Value *s2 = g_out(g_node(g, OP_ADD, "add_rel", "s2", 2, g_const_f32(g, "rel", 3, rd, rel), s1));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s2)), v)));
  run_case(g, "relpos_only");
  expect_attention(g, 0.5f, q, k, v, true);
  const Value *b = first_node(g, OP_ATTENTION)->inputs[3];
  int64_t want[4] = {1, H, N, N};
  for (int i = 0; i < 4; i++) assert_int_equal(b->dims[i], want[i]);
  assert_float_equal(((const float *)b->data)[H * N * N - 1], rel[H * N * N - 1], 1e-6);
  ir_graph_free(g);
}

/* Next-ViT E-MHSA / PVT spatial reduction: K and V from a pooled sequence
 * (M = 4) while Q has N = 16 rows. */
static void fuse_spatial_reduction(void **state) {
  (void)state;
  Graph *g = ir_graph_new("sra", "test.onnx");
  g->opset = 13;
  int64_t qd[4] = {2, 2, 16, 8}, kd[4] = {2, 2, 4, 8}, vd[4] = {2, 2, 4, 6};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, qd), *k = g_input(g, "k", DT_FLOAT32, 4, kd);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, vd);
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, q, transpose(g, "kt", k, 4, SWAP4)));
  Value *s2 = g_out(g_node(g, OP_MUL, "scale", "s2", 2, s, scalar(g, "c", 0.35355339f)));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s2)), v)));
  run_case(g, "spatial_reduction");
  expect_attention(g, 0.35355339f, q, k, v, false);
  const Value *y = g->outputs[0];
  assert_int_equal(y->dims[2], 16);
  assert_int_equal(y->dims[3], 6);
  ir_graph_free(g);
}

/* A runtime attention mask [B, 1, 1, M] added after the scaling is the
 * op's bias input as it is; an Einsum written with K^T ("bhdm") gets a
 * Transpose of that operand. */
static void fuse_runtime_mask_einsum_kt(void **state) {
  (void)state;
  Graph *g = ir_graph_new("mask", "test.onnx");
  g->opset = 13;
  int64_t d[4] = {2, 2, 6, 4}, ktd[4] = {2, 2, 4, 6}, md[4] = {2, 1, 1, 6};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *kt = g_input(g, "kt", DT_FLOAT32, 4, ktd);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d), *mask = g_input(g, "mask", DT_FLOAT32, 4, md);
  Node *e1 = g_node(g, OP_EINSUM, "qk", "s", 2, q, kt);
  assert_int_equal(ir_node_set_attr_string(g, e1, "equation", "...nd,...dm->...nm", NULL), ST_OK);
  Value *s2 = g_out(g_node(g, OP_MUL, "scale", "s2", 2, g_out(e1), scalar(g, "c", 0.5f)));
  Value *s3 = g_out(g_node(g, OP_ADD, "add_mask", "s3", 2, mask, s2));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s3)), v)));
  run_case(g, "runtime_mask_einsum_kt");
  expect_attention(g, 0.5f, q, NULL, v, true);
  const Node *a = first_node(g, OP_ATTENTION);
  assert_ptr_equal(a->inputs[3], mask);
  assert_int_equal(live_count(g, OP_TRANSPOSE), 1);
  assert_ptr_equal(first_node(g, OP_TRANSPOSE)->inputs[0], kt);
  ir_graph_free(g);
}

/* Softmax over axis 2 of [B, H, N, M] is not attention. */
static void keep_softmax_not_last_axis(void **state) {
  (void)state;
  Graph *g = ir_graph_new("axis", "test.onnx");
  g->opset = 13;
  int64_t d[4] = {1, 2, 6, 6};
  Value *q = g_input(g, "q", DT_FLOAT32, 4, d), *k = g_input(g, "k", DT_FLOAT32, 4, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 4, d);
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, q, transpose(g, "kt", k, 4, SWAP4)));
  Node *sm = g_node(g, OP_SOFTMAX, "softmax", "p", 1, s);
  assert_int_equal(ir_node_set_attr_int(g, sm, "axis", 2, NULL), ST_OK);
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(sm), v)));
  run_case(g, "keep_axis");
  assert_int_equal(live_count(g, OP_ATTENTION), 0);
  assert_int_equal(live_count(g, OP_SOFTMAX), 1);
  assert_int_equal(g->num_nodes, 4);
  ir_graph_free(g);
}

/* The scores (and, separately, the probabilities) have a second user: the
 * rewrite would lose it, so nothing changes. */
static void keep_extra_users(void **state) {
  (void)state;
  Graph *g = ir_graph_new("users", "test.onnx");
  g->opset = 13;
  int64_t d[3] = {2, 5, 4};
  Value *q = g_input(g, "q", DT_FLOAT32, 3, d), *k = g_input(g, "k", DT_FLOAT32, 3, d);
  Value *v = g_input(g, "v", DT_FLOAT32, 3, d);
  const int64_t swap3[3] = {0, 2, 1};
  Value *s = g_out(g_node(g, OP_MATMUL, "qk", "s", 2, q, transpose(g, "kt", k, 3, swap3)));
  Value *s2 = g_out(g_node(g, OP_MUL, "scale", "s2", 2, s, scalar(g, "c", 0.5f)));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv", "y", 2, g_out(softmax_last(g, s2)), v)));
  g_output(g, g_out(g_node(g, OP_RELU, "peek", "r", 1, s)));
  /* Second block: the probabilities are a graph output too. */
  Value *t = g_out(g_node(g, OP_MATMUL, "qk2", "t", 2, q, transpose(g, "kt2", k, 3, swap3)));
  Value *pt = g_out(softmax_last(g, t));
  g_output(g, g_out(g_node(g, OP_MATMUL, "pv2", "y2", 2, pt, v)));
  g_output(g, pt);
  run_case(g, "keep_users");
  assert_int_equal(live_count(g, OP_ATTENTION), 0);
  assert_int_equal(live_count(g, OP_SOFTMAX), 2);
  assert_int_equal(live_count(g, OP_MATMUL), 4);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fuse_vit_global),
      cmocka_unit_test(fuse_scale_on_q),
      cmocka_unit_test(fuse_div_scaling),
      cmocka_unit_test(fuse_sqrt_scaling),
      cmocka_unit_test(fuse_einsum),
      cmocka_unit_test(fuse_swin_window),
      cmocka_unit_test(fuse_relpos_only),
      cmocka_unit_test(fuse_spatial_reduction),
      cmocka_unit_test(fuse_runtime_mask_einsum_kt),
      cmocka_unit_test(keep_softmax_not_last_axis),
      cmocka_unit_test(keep_extra_users),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
