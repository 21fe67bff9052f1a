/*
 * Attention reading Q, K, V inside a head split Transpose's input and
 * writing its result into a head merge Transpose's layout
 * (codegen/attention/attn_views.c): graphs as timm, torchvision and Swin
 * export multi-head attention go through the full pipeline, are compiled,
 * and are compared with the reference evaluator (which runs the
 * Transposes); --print-kernels must show the split and merge Transposes as
 * in-place views, and the cases that must keep a real Transpose (a second
 * reader, a graph output) must keep it and still be right.  Odd head dims
 * (12, 40) make rows that are not whole vectors.
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

static uint64_t rng_state = 0x2545f491u;

static uint32_t rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static Graph *new_graph(void) {
  Graph *g = ir_graph_new("attn_views", "test_cg_attention_views");
  assert_non_null(g);
  g->opset = 17;
  return g;
}

static Value *op(Graph *g, OpKind kind, Value *a, Value *b) {
  Node *nd = ir_node_new(g, kind, "n", b ? 2 : 1, 1);
  assert_non_null(nd);
  nd->opset = g->opset;
  nd->inputs[0] = a;
  if (b) nd->inputs[1] = b;
  Value *y = ir_value_new(g, "t");
  assert_non_null(y);
  ir_node_set_output(nd, 0, y);
  Error err;
  if (ops_infer_node(g, nd, &err) != ST_OK) fail_msg("%s", err.msg);
  return y;
}

/* A projection [rows, cols] scaled by 1/sqrt(rows), so that the scores
 * stay O(1) and the comparison measures layout, not a peaked softmax. */
static Value *weights(Graph *g, int64_t rows, int64_t cols) {
  int64_t wd[2] = {rows, cols};
  Value *w = tcg_constant(g, 2, wd, rnd);
  float *d = w->data;
  for (int64_t i = 0; i < rows * cols; i++) d[i] /= sqrtf((float)rows);
  return w;
}

static Value *transpose(Graph *g, Value *x, int rank, const int64_t *perm) {
  Node *nd = ir_node_new(g, OP_TRANSPOSE, "t", 1, 1);
  assert_non_null(nd);
  nd->opset = g->opset;
  nd->inputs[0] = x;
  Error err;
  assert_int_equal(ir_node_set_attr_ints(g, nd, "perm", perm, rank, &err), ST_OK);
  Value *y = ir_value_new(g, "t");
  assert_non_null(y);
  ir_node_set_output(nd, 0, y);
  if (ops_infer_node(g, nd, &err) != ST_OK) fail_msg("%s", err.msg);
  return y;
}

static Value *reshape(Graph *g, Value *x, int rank, const int64_t *dims) {
  int64_t len = rank;
  Value *s = ir_const_new(g, "shape", DT_INT64, 1, &len, dims);
  assert_non_null(s);
  return op(g, OP_RESHAPE, x, s);
}

static Value *pick(Graph *g, Value *x, int64_t i) {
  Value *c = ir_const_new(g, "idx", DT_INT64, 0, NULL, &i);
  assert_non_null(c);
  return op(g, OP_GATHER, x, c);
}

/* softmax(Q K^T * scale [+ bias]) V, unfused, on [lead..., N, D]. */
static Value *attend(Graph *g, Value *q, Value *k, Value *v, Value *bias) {
  int r = q->rank;
  int64_t perm[8];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[r - 2] = r - 1, perm[r - 1] = r - 2;
  Value *s = op(g, OP_MATMUL, q, transpose(g, k, r, perm));
  float sc = 1.0f / sqrtf((float)q->dims[r - 1]);
  Value *scv = ir_const_new(g, "scale", DT_FLOAT32, 0, NULL, &sc);
  assert_non_null(scv);
  s = op(g, OP_MUL, s, scv);
  if (bias) s = op(g, OP_ADD, s, bias);
  Node *sm = ir_node_new(g, OP_SOFTMAX, "softmax", 1, 1);
  assert_non_null(sm);
  sm->opset = g->opset;
  sm->inputs[0] = s;
  Value *p = ir_value_new(g, "p");
  ir_node_set_output(sm, 0, p);
  Error err;
  assert_int_equal(ir_node_set_attr_int(g, sm, "axis", -1, &err), ST_OK);
  if (ops_infer_node(g, sm, &err) != ST_OK) fail_msg("%s", err.msg);
  return op(g, OP_MATMUL, p, v);
}

static void output(Graph *g, Value *y) {
  Error err;
  assert_int_equal(ir_graph_add_output(g, y, &err), ST_OK);
}

/* timm / DeiT: qkv [B, N, 3C] -> [B, N, 3, H, D] -> Transpose(2,0,3,1,4)
 * -> Gather 0/1/2; result -> Transpose(0,2,1,3) -> [B, N, C].  The packed
 * qkv comes from a MatMul so that the split's input is computed. */
static void timm_block(Graph *g, int64_t b, int64_t n, int64_t h, int64_t d) {
  int64_t c = h * d, xd[3] = {b, n, c}, wd[2] = {c, 3 * c}, d5[5] = {b, n, 3, h, d};
  int64_t p5[5] = {2, 0, 3, 1, 4}, p4[4] = {0, 2, 1, 3}, back[3] = {b, n, c};
  Value *qkv = op(g, OP_MATMUL, tcg_input(g, 3, xd), weights(g, wd[0], wd[1]));
  Value *t = transpose(g, reshape(g, qkv, 5, d5), 5, p5);
  Value *o = attend(g, pick(g, t, 0), pick(g, t, 1), pick(g, t, 2), NULL);
  output(g, reshape(g, transpose(g, o, 4, p4), 3, back));
}

/* torchvision: q, k, v [N, C] each -> [N, H, D] -> Transpose(1,0,2); the
 * result -> Transpose(1,0,2) -> [N, C]. */
static void torchvision_block(Graph *g, int64_t n, int64_t h, int64_t d) {
  int64_t c = h * d, xd[2] = {n, c}, wd[2] = {c, c}, d3[3] = {n, h, d}, p3[3] = {1, 0, 2};
  Value *x = tcg_input(g, 2, xd), *qkv[3];
  for (int i = 0; i < 3; i++)
    qkv[i] = transpose(g, reshape(g, op(g, OP_MATMUL, x, weights(g, wd[0], wd[1])), 3, d3), 3,
                       p3);
  Value *o = attend(g, qkv[0], qkv[1], qkv[2], NULL);
  output(g, reshape(g, transpose(g, o, 3, p3), 2, xd));
}

/* Swin: windows x [W, N, 3, H, D] from a MatMul, a relative position bias
 * [1, H, N, N], the merge back to [W, N, C]. */
static void swin_block(Graph *g, int64_t w, int64_t n, int64_t h, int64_t d) {
  int64_t c = h * d, xd[3] = {w, n, c}, wd[2] = {c, 3 * c}, d5[5] = {w, n, 3, h, d};
  int64_t p5[5] = {2, 0, 3, 1, 4}, p4[4] = {0, 2, 1, 3}, bd[4] = {1, h, n, n};
  Value *qkv = op(g, OP_MATMUL, tcg_input(g, 3, xd), weights(g, wd[0], wd[1]));
  Value *t = transpose(g, reshape(g, qkv, 5, d5), 5, p5);
  Value *o = attend(g, pick(g, t, 0), pick(g, t, 1), pick(g, t, 2), tcg_constant(g, 4, bd, rnd));
  output(g, reshape(g, transpose(g, o, 4, p4), 3, xd));
}

/* Lines of --print-kernels for Transposes the attention reads or writes in
 * place, and for Transposes that still run. */
static void count_transposes(Graph *g, int *in_place, int *copies) {
  char dir[] = "/tmp/onnxc-cgtest-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/m.ll", dir);
  char *text = NULL;
  size_t size = 0;
  FILE *log = open_memstream(&text, &size);
  assert_non_null(log);
  CgOptions o = {.prefix = "m", .opt_level = 0, .emit = CG_EMIT_LLVM, .output_path = path,
                 .print_kernels = true, .log = log};
  Error err;
  Status st = cg_compile(g, &o, &err);
  fclose(log);
  unlink(path);
  rmdir(dir);
  if (st != ST_OK) fail_msg("%s", err.msg);
  *in_place = *copies = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (!strstr(line, " Transpose ")) continue;
    if (strstr(line, "in place")) ++*in_place;
    else if (!strstr(line, "view (no code)")) ++*copies;
  }
  free(text);
}

/* Pipeline, compile, compare; the Transposes as expected. */
static void check(Graph *g, int attentions, int want_in_place, int want_copies, unsigned seed) {
  Error err;
  PipelineOptions po = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("pipeline: %s", err.msg);
  assert_int_equal(tcg_count_op(g, OP_ATTENTION), attentions);
  int in_place, copies;
  count_transposes(g, &in_place, &copies);
  assert_int_equal(in_place, want_in_place);
  assert_int_equal(copies, want_copies);
  void **ins = NULL;
  assert_int_equal(cgh_random_inputs(g, seed, &ins, &err), ST_OK);
  CgCompare cmp;
  Status st = cgh_differential(g, 2, (const void *const *)ins, 1e-4, 1e-5, &cmp, &err);
  if (st != ST_OK) fail_msg("%s", err.msg);
  if (!cmp.ok)
    fail_msg("output %d: max_abs %g max_rel %g", cmp.worst_output, cmp.max_abs, cmp.max_rel);
  cgh_free_buffers(ins, g->num_inputs);
  ir_graph_free(g);
}

static void timm_layouts(void **state) {
  (void)state;
  Graph *g = new_graph();
  timm_block(g, 2, 13, 3, 16);  /* DeiT-like, tail query tile */
  timm_block(g, 1, 50, 2, 12);  /* rows of 12: not whole vectors */
  timm_block(g, 1, 197, 3, 64);  /* DeiT-Ti's shape */
  check(g, 3, 6, 0, 11);
}

static void torchvision_layouts(void **state) {
  (void)state;
  Graph *g = new_graph();
  torchvision_block(g, 17, 4, 8);
  torchvision_block(g, 65, 2, 40);
  check(g, 2, 8, 0, 12);
}

static void swin_layouts(void **state) {
  (void)state;
  Graph *g = new_graph();
  swin_block(g, 4, 49, 3, 32);
  swin_block(g, 2, 49, 6, 12);
  check(g, 2, 4, 0, 13);
}

/* A split whose result something else reads too, and a merge whose input
 * is a graph output: both stay real Transposes. */
static void must_copy(void **state) {
  (void)state;
  Graph *g = new_graph();
  int64_t b = 1, n = 20, h = 2, d = 16, c = h * d, xd[3] = {b, n, c}, wd[2] = {c, 3 * c};
  int64_t d5[5] = {b, n, 3, h, d}, p5[5] = {2, 0, 3, 1, 4}, p4[4] = {0, 2, 1, 3};
  Value *qkv = op(g, OP_MATMUL, tcg_input(g, 3, xd), weights(g, wd[0], wd[1]));
  Value *t = transpose(g, reshape(g, qkv, 5, d5), 5, p5);
  output(g, op(g, OP_RELU, t, NULL));
  Value *o = attend(g, pick(g, t, 0), pick(g, t, 1), pick(g, t, 2), NULL);
  output(g, o);
  output(g, reshape(g, transpose(g, o, 4, p4), 3, xd));
  check(g, 1, 0, 2, 14);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(timm_layouts),
      cmocka_unit_test(torchvision_layouts),
      cmocka_unit_test(swin_layouts),
      cmocka_unit_test(must_copy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
