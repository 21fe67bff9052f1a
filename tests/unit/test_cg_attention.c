/*
 * Differential tests of the onnxc.Attention lowering (codegen/
 * lower_attention.c, codegen/attention/attn_emit.c): graphs of independent Attention
 * nodes built by hand with sizes around the vector width and the key block
 * (1, 7, 49, 64, 65, 197), head dims 8..80, 1/3/12 heads, several scales,
 * biases of every broadcast form (constant [1,H,N,M], Swin's [nW,H,N,M]
 * over a batch, runtime [N,M] and [H,1,M]), -inf masks including fully
 * masked rows (NaN, as the reference), and attention recovered by the real
 * pass pipeline from MatMul-Transpose-Softmax-MatMul.  Long sequences
 * (T2T-ViT's 3136 and 785 tokens, 49 queries x 3000 keys, Dv = 1024 with
 * tiny query blocks) cross the kernel's key chunks and query blocks, with
 * -inf masks straddling chunk boundaries.  Each graph is
 * compiled through the real backend and compared with the reference
 * evaluator (double precision); the LLVM IR is checked to contain one
 * generated attention kernel per node, so a fallback cannot pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "ops/ops.h"
#include "passes/pass.h"
#include "tests/support/cg_harness.h"
#include "tests/unit/test_cg_util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static Graph *new_graph(void) {
  Graph *g = ir_graph_new("attn", "test_cg_attention");
  assert_non_null(g);
  g->opset = 17;
  return g;
}

/* A constant with entries in [-2, 2); a fraction `masked` of them -inf
 * (masked >= 1: every entry of the first row of each [.., N, M] matrix
 * too, so the reference and the kernel both produce NaN rows). */
static Value *constant(Graph *g, int rank, const int64_t *dims, double masked) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
  assert_non_null(d);
  int64_t cols = dims[rank - 1];
  for (int64_t i = 0; i < n; i++) {
    d[i] = (float)(rnd() % 40001) / 10000.0f - 2.0f;
    if (masked > 0 && (double)(rnd() % 1000) < 1000.0 * (masked < 1 ? masked : 0.3))
      d[i] = -INFINITY;
  }
  if (masked >= 1 && rank >= 2)
    for (int64_t i = 0; i < n; i += cols * dims[rank - 2])
      for (int64_t j = 0; j < cols; j++) d[i + j] = -INFINITY;
  Value *v = ir_const_new(g, "bias", DT_FLOAT32, rank, dims, d);
  free(d);
  assert_non_null(v);
  return v;
}

/* One Attention node on fresh Q/K/V inputs [lead..., N, D] etc. */
static void attention(Graph *g, int nlead, const int64_t *lead, int64_t n, int64_t m, int64_t d,
                      int64_t dv, float scale, Value *bias) {
  int64_t dq[8], dk[8], dvv[8];
  assert_true(nlead <= 5);
  for (int i = 0; i < nlead; i++) dq[i] = dk[i] = dvv[i] = lead[i];
  dq[nlead] = n, dq[nlead + 1] = d;
  dk[nlead] = m, dk[nlead + 1] = d;
  dvv[nlead] = m, dvv[nlead + 1] = dv;
  int r = nlead + 2;
  Node *nd = ir_node_new(g, OP_ATTENTION, "attn", bias ? 4 : 3, 1);
  assert_non_null(nd);
  nd->opset = g->opset;
  nd->inputs[0] = tcg_input(g, r, dq);
  nd->inputs[1] = tcg_input(g, r, dk);
  nd->inputs[2] = tcg_input(g, r, dvv);
  if (bias) nd->inputs[3] = bias;
  Error err;
  assert_int_equal(ir_node_set_attr_float(g, nd, "scale", scale, &err), ST_OK);
  Value *y = ir_value_new(g, "y");
  assert_non_null(y);
  ir_node_set_output(nd, 0, y);
  Status st = ops_infer_node(g, nd, &err);
  if (st != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(ir_graph_add_output(g, y, &err), ST_OK);
}

/* Number of generated attention drivers in g's LLVM IR. */
static int count_lowered(Graph *g) {
  static const char *const ops[] = {"onnxc.Attention"};
  return tcg_count_lowered(g, ops, 1);
}

/* Compiles g, compares with the reference, checks every node was lowered. */
static void check(Graph *g, unsigned seed) {
  Error err;
  int nodes = tcg_count_op(g, OP_ATTENTION);
  assert_true(nodes > 0);
  void **ins = NULL;
  assert_int_equal(cgh_random_inputs(g, seed, &ins, &err), ST_OK);
  CgCompare cmp;
  Status st = cgh_differential(g, 2, (const void *const *)ins, 1e-4, 1e-5, &cmp, &err);
  if (st != ST_OK) fail_msg("%s", err.msg);
  if (!cmp.ok) {
    const Node *n = g->outputs[cmp.worst_output]->producer;
    char tq[64], tk[64], tv[64];
    fail_msg("output %d (Q %s K %s V %s, bias %s) max_abs %g max_rel %g", cmp.worst_output,
             ir_type_str(n->inputs[0], tq, sizeof tq), ir_type_str(n->inputs[1], tk, sizeof tk),
             ir_type_str(n->inputs[2], tv, sizeof tv), n->num_inputs > 3 ? "yes" : "no",
             cmp.max_abs, cmp.max_rel);
  }
  cgh_free_buffers(ins, g->num_inputs);
  assert_int_equal(count_lowered(g), nodes);
  ir_graph_free(g);
}

static const int64_t NS[] = {1, 7, 49, 64, 65, 197};
static const int64_t DS[] = {8, 32, 64, 80};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every N and M against a random head dim, no bias. */
static void sizes_no_bias(void **state) {
  (void)state;
  for (size_t in = 0; in < COUNT(NS); in++) {
    Graph *g = new_graph();
    for (size_t im = 0; im < COUNT(NS); im++) {
      int64_t d = DS[rnd() % COUNT(DS)], dv = DS[rnd() % COUNT(DS)];
      int64_t lead[1] = {(int64_t)(1 + rnd() % 3)};
      attention(g, 1, lead, NS[in], NS[im], d, dv, 1.0f / sqrtf((float)d), NULL);
    }
    check(g, 10 + (unsigned)in);
  }
}

/* Every head dim pair, ViT-like and odd shapes, batch x heads leads. */
static void head_dims(void **state) {
  (void)state;
  Graph *g = new_graph();
  for (size_t i = 0; i < COUNT(DS); i++)
    for (size_t j = 0; j < COUNT(DS); j++) {
      int64_t lead[2] = {1, (int64_t)(i == j ? 12 : 3)};
      int64_t n = NS[rnd() % COUNT(NS)], m = NS[rnd() % COUNT(NS)];
      attention(g, 2, lead, n, m, DS[i], DS[j], (float)(0.05 + (rnd() % 100) / 100.0), NULL);
    }
  check(g, 21);
  /* ViT-B/16's shape, rank 3 (no batch). */
  g = new_graph();
  int64_t lead[1] = {12};
  attention(g, 1, lead, 197, 197, 64, 64, 0.125f, NULL);
  attention(g, 0, NULL, 5, 3, 2, 1, 2.5f, NULL);
  check(g, 22);
}

/* Scores kept unscaled (AttnIR.raw) need a positive scale: a negative or
 * zero one, and a large one that moves the streamed rows' max often, go
 * the other way or rescale, whole rows and streamed keys alike. */
static void scale_signs(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead[1] = {2};
  static const float scales[] = {-0.25f, 0.0f, 3.0f};
  for (size_t i = 0; i < COUNT(scales); i++) {
    attention(g, 1, lead, 49, 49, 32, 32, scales[i], NULL);
    attention(g, 1, lead, 65, 1000, 32, 16, scales[i], NULL);
  }
  check(g, 23);
}

/* Whole rows whose last key vector holds 1 or 2 keys take them as dot
 * products (17, 18, 33, 50 keys; 49 is in the other cases), at head dims
 * that are not whole vectors, with and without a bias. */
static void short_key_tails(void **state) {
  (void)state;
  Graph *g = new_graph();
  static const int64_t ms[] = {17, 18, 33, 50};
  static const int64_t ds[] = {8, 40, 64};
  for (size_t i = 0; i < COUNT(ms); i++)
    for (size_t j = 0; j < COUNT(ds); j++) {
      int64_t lead[2] = {2, 3};
      Value *bias = NULL;
      if (j == 1) {
        int64_t bd[4] = {1, 3, 7, ms[i]};
        bias = constant(g, 4, bd, 0);
      }
      attention(g, 2, lead, 7, ms[i], ds[j], 24, 0.3f, bias);
    }
  check(g, 24);
}

/* A constant [nW, H, N, M] bias whose slices repeat (Swin's shifted
 * windows: a relative-position bias per head plus one of a few masks per
 * window) is emitted as its distinct slices with an offset table; windows
 * with equal masks must still get their own head's slice. */
static void repeated_bias_slices(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t nw = 6, h = 3, n = 49;
  int64_t bd[4] = {nw, h, n, n};
  float *w = malloc((size_t)(nw * h * n * n) * sizeof *w);
  assert_non_null(w);
  for (int64_t wi = 0; wi < nw; wi++)
    for (int64_t hi = 0; hi < h; hi++)
      for (int64_t i = 0; i < n * n; i++) {
        float rel = (float)((hi * 7919 + i * 31) % 2001) / 1000.0f - 1.0f;
        int pattern = wi < 3 ? 0 : (int)(wi % 2) + 1; /* windows 0-2 unmasked */
        float mask = pattern && (i / n + i % n * pattern) % 5 == 0 ? -100.0f : 0.0f;
        w[(wi * h + hi) * n * n + i] = rel + mask;
      }
  Value *bias = ir_const_new(g, "bias", DT_FLOAT32, 4, bd, w);
  free(w);
  assert_non_null(bias);
  int64_t lead[2] = {nw, h};
  attention(g, 2, lead, n, n, 32, 32, 0.17677669f, bias);
  check(g, 25);
}

/* Constant relative-position bias [1,H,N,M] and Swin's shifted-window
 * mask [nW,1,N,M] added over [B, nW, H] leads, plus a scalar-per-head
 * bias [H,1,1] (broadcast over N and M). */
static void const_biases(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead3[3] = {2, 4, 3};
  int64_t brel[4] = {1, 3, 49, 49}, bmask[4] = {4, 1, 49, 49}, bhead[3] = {3, 1, 1};
  attention(g, 3, lead3, 49, 49, 32, 32, 0.17677669f, constant(g, 4, brel, 0));
  attention(g, 3, lead3, 49, 49, 32, 32, 0.17677669f, constant(g, 4, bmask, 0));
  attention(g, 3, lead3, 49, 49, 8, 80, 0.5f, constant(g, 3, bhead, 0));
  int64_t lead2[2] = {1, 12}, bvit[4] = {1, 12, 197, 197};
  attention(g, 2, lead2, 197, 197, 64, 64, 0.125f, constant(g, 4, bvit, 0));
  int64_t b65[4] = {1, 3, 65, 7};
  int64_t lead2b[2] = {2, 3};
  attention(g, 2, lead2b, 65, 7, 80, 8, 1.0f, constant(g, 4, b65, 0));
  check(g, 31);
}

/* Runtime biases: [N,M] shared by all heads and [H,1,M] (a key padding
 * mask per head, broadcast over the query rows). */
static void runtime_biases(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead[2] = {2, 3};
  for (size_t i = 0; i < COUNT(NS); i++) {
    int64_t n = NS[i], m = NS[(i + 3) % COUNT(NS)];
    int64_t bnm[2] = {n, m}, bh1n[3] = {3, 1, n};
    int64_t d = DS[rnd() % COUNT(DS)], dv = DS[rnd() % COUNT(DS)];
    attention(g, 2, lead, n, m, d, dv, 0.25f, tcg_input(g, 2, bnm));
    attention(g, 2, lead, m, n, d, dv, 0.25f, tcg_input(g, 3, bh1n));
  }
  check(g, 41);
}

/* -inf masks: 30% of scores masked, whole key blocks masked, and the
 * first query row of every head fully masked (NaN in both). */
static void neg_inf_masks(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead[2] = {2, 3};
  int64_t b1[4] = {1, 3, 49, 49}, b2[4] = {2, 3, 65, 197}, b3[2] = {7, 65};
  attention(g, 2, lead, 49, 49, 32, 32, 0.17677669f, constant(g, 4, b1, 0.3));
  attention(g, 2, lead, 65, 197, 64, 80, 0.125f, constant(g, 4, b2, 1.0));
  attention(g, 2, lead, 7, 65, 8, 8, 1.0f, constant(g, 2, b3, 1.0));
  /* Only the last keys are unmasked: the running max stays -inf across
   * the first key blocks. */
  int64_t bk[4] = {1, 1, 1, 197};
  float *late = malloc(197 * sizeof *late);
  assert_non_null(late);
  for (int j = 0; j < 197; j++) late[j] = j < 190 ? -INFINITY : (float)j / 100.0f;
  Value *lb = ir_const_new(g, "late", DT_FLOAT32, 4, bk, late);
  free(late);
  assert_non_null(lb);
  attention(g, 2, lead, 64, 197, 32, 64, 0.3f, lb);
  check(g, 51);
}

/* Softmax(Q.K^T * s [+ mask]) . V in plain ONNX ops, fused by the real
 * pipeline into Attention and lowered. */
static Node *node(Graph *g, OpKind op, int nin, Value *a, Value *b) {
  Node *nd = ir_node_new(g, op, "n", nin, 1);
  assert_non_null(nd);
  nd->opset = g->opset;
  nd->inputs[0] = a;
  if (nin > 1) nd->inputs[1] = b;
  Value *y = ir_value_new(g, "t");
  assert_non_null(y);
  ir_node_set_output(nd, 0, y);
  return nd;
}

static Value *infer(Graph *g, Node *nd) {
  Error err;
  if (ops_infer_node(g, nd, &err) != ST_OK) fail_msg("%s", err.msg);
  return nd->outputs[0];
}

static void unfused(Graph *g, int64_t heads, int64_t n, int64_t d, bool masked) {
  int64_t dq[4] = {1, heads, n, d};
  Value *q = tcg_input(g, 4, dq), *k = tcg_input(g, 4, dq), *v = tcg_input(g, 4, dq);
  Node *t = node(g, OP_TRANSPOSE, 1, k, NULL);
  int64_t perm[4] = {0, 1, 3, 2};
  Error err;
  assert_int_equal(ir_node_set_attr_ints(g, t, "perm", perm, 4, &err), ST_OK);
  Value *kt = infer(g, t);
  Value *s = infer(g, node(g, OP_MATMUL, 2, q, kt));
  float sc = 1.0f / sqrtf((float)d);
  Value *scv = ir_const_new(g, "scale", DT_FLOAT32, 0, NULL, &sc);
  assert_non_null(scv);
  s = infer(g, node(g, OP_MUL, 2, s, scv));
  if (masked) {
    int64_t bd[4] = {1, heads, n, n};
    s = infer(g, node(g, OP_ADD, 2, s, constant(g, 4, bd, 0.2)));
  }
  Node *sm = node(g, OP_SOFTMAX, 1, s, NULL);
  assert_int_equal(ir_node_set_attr_int(g, sm, "axis", -1, &err), ST_OK);
  Value *p = infer(g, sm);
  Value *y = infer(g, node(g, OP_MATMUL, 2, p, v));
  assert_int_equal(ir_graph_add_output(g, y, &err), ST_OK);
}

/* Past the kernel's limit (Dv over 1024) the node keeps the reference
 * kernel: still correct, not lowered. */
static void beyond_limits(void **state) {
  (void)state;
  Graph *g = new_graph();
  attention(g, 0, NULL, 3, 5, 4, 1030, 1.0f, NULL);
  Error err;
  void **ins = NULL;
  assert_int_equal(cgh_random_inputs(g, 71, &ins, &err), ST_OK);
  CgCompare cmp;
  if (cgh_differential(g, 2, (const void *const *)ins, 1e-4, 1e-5, &cmp, &err) != ST_OK)
    fail_msg("%s", err.msg);
  assert_true(cmp.ok);
  cgh_free_buffers(ins, g->num_inputs);
  assert_int_equal(count_lowered(g), 0);
  ir_graph_free(g);
}

/* T2T-ViT-7/14's first token-transformer stage: 3136 tokens, D = 64, one
 * head (12 key chunks of 256 + a tail at 16 lanes; 21 query blocks). */
static void long_t2t_stage1(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead[1] = {1};
  attention(g, 1, lead, 3136, 3136, 64, 64, 0.125f, NULL);
  check(g, 81);
}

/* The softmax's own accuracy: V is a constant identity, so the output is
 * the probability matrix itself, each entry checked to a few float
 * roundings relative to the double-precision reference.  Scores spread
 * over about +-15 (scale 2 on 32-dim products), so the probabilities span
 * many octaves; with 1000 keys the rows stream in chunks and the running
 * max moves past its slack.  Float rounding of the 32-term scores alone
 * reaches 5e-6 of a probability; an exp coefficient off by 1e-4 shows as
 * 5e-5. */
static void softmax_accuracy(void **state) {
  (void)state;
  const struct { int64_t n, m; } sizes[] = {{197, 197}, {49, 49}, {65, 1000}};
  for (size_t t = 0; t < COUNT(sizes); t++) {
    int64_t n = sizes[t].n, m = sizes[t].m;
    Graph *g = new_graph();
    float *eye = calloc((size_t)(2 * m * m), sizeof *eye);
    assert_non_null(eye);
    for (int64_t h = 0; h < 2; h++)
      for (int64_t j = 0; j < m; j++) eye[(h * m + j) * m + j] = 1.0f;
    int64_t dq[3] = {2, n, 32}, dk[3] = {2, m, 32}, dv[3] = {2, m, m};
    Node *nd = ir_node_new(g, OP_ATTENTION, "attn", 3, 1);
    assert_non_null(nd);
    nd->opset = g->opset;
    nd->inputs[0] = tcg_input(g, 3, dq);
    nd->inputs[1] = tcg_input(g, 3, dk);
    nd->inputs[2] = ir_const_new(g, "eye", DT_FLOAT32, 3, dv, eye);
    free(eye);
    assert_non_null(nd->inputs[2]);
    Error err;
    assert_int_equal(ir_node_set_attr_float(g, nd, "scale", 2.0f, &err), ST_OK);
    Value *y = ir_value_new(g, "p");
    assert_non_null(y);
    ir_node_set_output(nd, 0, y);
    assert_int_equal(ops_infer_node(g, nd, &err), ST_OK);
    assert_int_equal(ir_graph_add_output(g, y, &err), ST_OK);
    void **ins = NULL;
    assert_int_equal(cgh_random_inputs(g, 90 + (unsigned)t, &ins, &err), ST_OK);
    CgCompare cmp;
    Status st = cgh_differential(g, 2, (const void *const *)ins, 1e-5, 1e-30, &cmp, &err);
    if (st != ST_OK) fail_msg("%s", err.msg);
    printf("  n %lld m %lld: max_rel %.3g\n", (long long)n, (long long)m, cmp.max_rel);
    if (!cmp.ok)
      fail_msg("n %lld m %lld: max_abs %g max_rel %g", (long long)n, (long long)m, cmp.max_abs,
               cmp.max_rel);
    cgh_free_buffers(ins, g->num_inputs);
    ir_graph_free(g);
  }
}

/* T2T-ViT-14's second stage (785 tokens) with a constant bias [N, M]; 49
 * queries against 3000 keys with a key padding mask [1, M]. */
static void long_stage2_and_wide(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead[1] = {1};
  attention(g, 1, lead, 785, 785, 64, 64, 0.125f, NULL);
  int64_t bnm[2] = {785, 785};
  attention(g, 1, lead, 785, 785, 64, 64, 0.125f, constant(g, 2, bnm, 0));
  int64_t b1m[2] = {1, 3000};
  attention(g, 1, lead, 49, 3000, 64, 48, 0.125f, constant(g, 2, b1m, 0.3));
  check(g, 82);
}

/* -inf patterns over chunk boundaries (at D = 64 and 16 lanes chunks are 256
 * keys; at D = 80, 192): row i masks keys [0, 300 + 37 i) so the running
 * max stays -inf over one or more whole chunks, every third row masks a
 * band straddling a boundary, row 5 is fully masked (NaN, as the
 * reference), row 6 keeps only the very last key. */
static Value *chunk_mask(Graph *g, int64_t n, int64_t m) {
  float *d = malloc((size_t)(n * m) * sizeof *d);
  assert_non_null(d);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < m; j++) {
      float x = (float)(rnd() % 40001) / 10000.0f - 2.0f;
      if (i % 2 == 0 && j < 300 + 37 * i % (m - 1)) x = -INFINITY;
      if (i % 3 == 1 && j >= 180 + 11 * i % 200 && j < 540 + 11 * i % 200) x = -INFINITY;
      if (i == 5 || (i == 6 && j < m - 1)) x = -INFINITY;
      d[i * m + j] = x;
    }
  int64_t dims[2] = {n, m};
  Value *v = ir_const_new(g, "mask", DT_FLOAT32, 2, dims, d);
  free(d);
  assert_non_null(v);
  return v;
}

static void long_masks(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t lead[2] = {2, 2};
  attention(g, 2, lead, 131, 1100, 64, 64, 0.125f, chunk_mask(g, 131, 1100));
  attention(g, 2, lead, 70, 900, 80, 24, 0.11f, chunk_mask(g, 70, 900));
  /* Dv = 1024: query blocks of a few rows, per-head bias [H, 1, M]. */
  int64_t bh[3] = {2, 1, 600};
  attention(g, 2, lead, 20, 600, 16, 1024, 0.25f, constant(g, 3, bh, 0.2));
  attention(g, 0, NULL, 9, 2053, 32, 8, 0.2f, NULL);
  check(g, 83);
}

static void through_pipeline(void **state) {
  (void)state;
  Graph *g = new_graph();
  unfused(g, 12, 197, 64, false);
  unfused(g, 3, 49, 32, true);
  unfused(g, 1, 65, 80, false);
  Error err;
  PipelineOptions po = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("pipeline: %s", err.msg);
  assert_int_equal(tcg_count_op(g, OP_ATTENTION), 3);
  assert_int_equal(tcg_count_op(g, OP_SOFTMAX), 0);
  check(g, 61);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sizes_no_bias),  cmocka_unit_test(head_dims), cmocka_unit_test(scale_signs),
      cmocka_unit_test(short_key_tails), cmocka_unit_test(repeated_bias_slices),
      cmocka_unit_test(const_biases),   cmocka_unit_test(runtime_biases),
      cmocka_unit_test(neg_inf_masks),  cmocka_unit_test(beyond_limits),
      cmocka_unit_test(through_pipeline), cmocka_unit_test(long_t2t_stage1),
      cmocka_unit_test(long_stage2_and_wide), cmocka_unit_test(long_masks),
      cmocka_unit_test(softmax_accuracy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
