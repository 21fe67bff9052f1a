/*
 * Differential tests of the MatMul / Gemm lowering (codegen/gemm/lower_gemm.c,
 * codegen/gemm/gemm_emit.c): graphs of many independent MatMul or Gemm nodes
 * with random odd sizes (not multiples of the vector width, size 1, more
 * than one K and N cache block), constant and runtime B, batched operands
 * with broadcasting, and every Gemm attribute / bias-shape variant.  Each
 * graph is compiled through the real backend and compared with the
 * reference evaluator; the LLVM IR is also checked to contain the
 * expected number of generated gemm kernels, so a silent fallback to the
 * reference kernel cannot pass for the lowering.
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
#include "tests/support/cg_harness.h"
#include "tests/unit/test_cg_util.h"

static uint64_t rng_state = 0x12345678u;

static uint32_t rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static const int64_t sizes[] = {1, 3, 7, 17, 31, 64, 65, 197, 257};
static int64_t pick(void) { return sizes[rnd() % (sizeof sizes / sizeof sizes[0])]; }

static Value *operand(Graph *g, bool is_const, int rank, const int64_t *dims) {
  return is_const ? tcg_constant(g, rank, dims, rnd) : tcg_input(g, rank, dims);
}

/* Appends op(a, b[, c]) with its output marked as a graph output. */
static Node *add_node(Graph *g, OpKind op, Value *a, Value *b, Value *c) {
  Node *n = ir_node_new(g, op, "n", c ? 3 : 2, 1);
  assert_non_null(n);
  n->opset = g->opset;
  n->inputs[0] = a;
  n->inputs[1] = b;
  if (c) n->inputs[2] = c;
  Value *y = ir_value_new(g, "y");
  assert_non_null(y);
  ir_node_set_output(n, 0, y);
  return n;
}

static void finish_node(Graph *g, Node *n) {
  Error err;
  Status st = ops_infer_node(g, n, &err);
  if (st != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(ir_graph_add_output(g, n->outputs[0], &err), ST_OK);
}

static Graph *new_graph(void) {
  Graph *g = ir_graph_new("gemm", "test_cg_gemm");
  assert_non_null(g);
  g->opset = 17;
  return g;
}

/* Generated gemm kernels (driver functions) in g's LLVM IR. */
static int count_lowered(Graph *g) {
  static const char *const ops[] = {"MatMul", "Gemm", "onnxc.FusedMatMul"};
  return tcg_count_lowered(g, ops, 3);
}

/* Compiles and compares g; atol grows with the longest reduction. */
static void check(Graph *g, int64_t max_k, int expect_lowered, unsigned seed) {
  Error err;
  void **ins = NULL;
  assert_int_equal(cgh_random_inputs(g, seed, &ins, &err), ST_OK);
  CgCompare cmp;
  double atol = 1e-5 + 1e-6 * (double)max_k;
  Status st = cgh_differential(g, 2, (const void *const *)ins, 1e-4, atol, &cmp, &err);
  if (st != ST_OK) fail_msg("%s", err.msg);
  if (!cmp.ok) {
    const Node *n = g->outputs[cmp.worst_output]->producer;
    char ta[64], tb[64];
    fail_msg("output %d (%s %s x %s) max_abs %g max_rel %g", cmp.worst_output,
             op_info[n->op].name, ir_type_str(n->inputs[0], ta, sizeof ta),
             ir_type_str(n->inputs[1], tb, sizeof tb), cmp.max_abs, cmp.max_rel);
  }
  cgh_free_buffers(ins, g->num_inputs);
  assert_int_equal(count_lowered(g), expect_lowered);
  ir_graph_free(g);
}

static void matmul(Graph *g, bool b_const, int ra, const int64_t *da, int rb, const int64_t *db) {
  Value *a = tcg_input(g, ra, da), *b = operand(g, b_const, rb, db);
  finish_node(g, add_node(g, OP_MATMUL, a, b, NULL));
}

/* Random 2-D shapes from the size set; alternately a 3-D A folded into M. */
static void random_matmuls(bool b_const, unsigned seed) {
  Graph *g = new_graph();
  int64_t max_k = 0;
  for (int i = 0; i < 12; i++) {
    int64_t m = pick(), k = pick(), n = pick();
    if (k > max_k) max_k = k;
    int64_t da3[3] = {2, m, k}, da2[2] = {m, k}, db[2] = {k, n};
    if (i % 3 == 2) matmul(g, b_const, 3, da3, 2, db);
    else matmul(g, b_const, 2, da2, 2, db);
  }
  check(g, max_k, 12, seed);
}

static void test_matmul_const_b(void **state) {
  (void)state;
  rng_state = 11;
  random_matmuls(true, 1);
  rng_state = 12;
  random_matmuls(true, 2);
}

static void test_matmul_runtime_b(void **state) {
  (void)state;
  rng_state = 21;
  random_matmuls(false, 3);
  rng_state = 22;
  random_matmuls(false, 4);
}

/* K spans several K blocks and N several N blocks. */
static void test_large_blocks(void **state) {
  (void)state;
  rng_state = 31;
  Graph *g = new_graph();
  int64_t da[2] = {13, 1100}, db[2] = {1100, 1000}, db2[2] = {1100, 37};
  matmul(g, true, 2, da, 2, db);
  matmul(g, false, 2, da, 2, db);
  matmul(g, true, 2, da, 2, db2);
  /* the fused epilogue after several K blocks: transB, alpha, beta, bias */
  Error err;
  int64_t bt[2] = {1000, 1100}, bn[1] = {1000}, bm[2] = {13, 1};
  Node *n1 = add_node(g, OP_GEMM, tcg_input(g, 2, da), tcg_constant(g, 2, bt, rnd), tcg_input(g, 1, bn));
  assert_int_equal(ir_node_set_attr_int(g, n1, "transB", 1, &err), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, n1, "alpha", 0.75f, &err), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, n1, "beta", -2.0f, &err), ST_OK);
  finish_node(g, n1);
  Node *n2 = add_node(g, OP_GEMM, tcg_input(g, 2, da), tcg_input(g, 2, db), tcg_constant(g, 2, bm, rnd));
  assert_int_equal(ir_node_set_attr_float(g, n2, "alpha", -1.5f, &err), ST_OK);
  finish_node(g, n2);
  check(g, 1100, 5, 5);
}

/* m = 49 and 98 (7x7 windows, Swin's and Next-ViT's last stages) take
 * the 7-row tile; with a ragged N the tail panel too. */
static void test_seven_row_tiles(void **state) {
  (void)state;
  rng_state = 37;
  Graph *g = new_graph();
  int64_t da[2] = {49, 96}, db[2] = {96, 100}, da2[2] = {98, 64}, db2[2] = {64, 50};
  matmul(g, true, 2, da, 2, db);
  matmul(g, false, 2, da2, 2, db2);
  check(g, 96, 2, 7);
}

/* Batched products with numpy broadcasting of the batch dims. */
static void test_matmul_batched(void **state) {
  (void)state;
  rng_state = 41;
  Graph *g = new_graph();
  /* attention-like, equal batch dims */
  int64_t q[3] = {4, 31, 16}, kt[3] = {4, 16, 31}, p[3] = {4, 31, 31}, v[3] = {4, 31, 16};
  matmul(g, false, 3, q, 3, kt);
  matmul(g, false, 3, p, 3, v);
  /* 4-D equal batch */
  int64_t a4[4] = {2, 3, 17, 7}, b4[4] = {2, 3, 7, 65};
  matmul(g, false, 4, a4, 4, b4);
  /* rank-2 B broadcast over a batched A, runtime and constant */
  int64_t a3[3] = {3, 7, 65}, b2[2] = {65, 17};
  matmul(g, false, 3, a3, 2, b2);
  matmul(g, true, 3, a3, 2, b2);
  /* both broadcast: [2,1,M,K] x [3,K,N] -> [2,3,M,N] */
  int64_t ab[4] = {2, 1, 5, 9}, bb[3] = {3, 9, 33};
  matmul(g, false, 4, ab, 3, bb);
  /* rank-2 A broadcast over batched B, constant batched B read in place */
  int64_t a2[2] = {7, 31}, b3[3] = {3, 31, 1};
  matmul(g, false, 2, a2, 3, b3);
  matmul(g, true, 2, a2, 3, b3);
  /* size-1 batch dims that broadcast against each other */
  int64_t a1[4] = {1, 2, 3, 4}, b1[4] = {5, 1, 4, 3};
  matmul(g, false, 4, a1, 4, b1);
  check(g, 65, 9, 6);
}

/* MatMul forms the lowering leaves to the reference kernel. */
static void test_matmul_fallbacks(void **state) {
  (void)state;
  rng_state = 51;
  Graph *g = new_graph();
  int64_t a1[1] = {9}, b2[2] = {9, 5}, a2[2] = {4, 9}, b1[1] = {9};
  matmul(g, false, 1, a1, 2, b2);
  matmul(g, true, 2, a2, 1, b1);
  int64_t a0[2] = {0, 9}, b0[2] = {9, 3};
  matmul(g, false, 2, a0, 2, b0);
  /* one lowered node among them so the graph has something to compare */
  matmul(g, false, 2, a2, 2, b2);
  check(g, 9, 1, 7);
}

static Value *bias_value(Graph *g, int kind, bool is_const, int64_t m, int64_t n) {
  int64_t d[2] = {1, 1};
  switch (kind) {
  case 0: return NULL;
  case 1: return operand(g, is_const, 0, d);
  case 2: d[0] = n; return operand(g, is_const, 1, d);
  case 3: d[0] = 1, d[1] = n; return operand(g, is_const, 2, d);
  case 4: d[0] = m, d[1] = 1; return operand(g, is_const, 2, d);
  case 5: d[0] = m, d[1] = n; return operand(g, is_const, 2, d);
  case 6: d[0] = 1, d[1] = 1; return operand(g, is_const, 2, d);
  default: d[0] = 1; return operand(g, is_const, 1, d);
  }
}

/* Every transA x transB x alpha/beta x bias shape, with constant and runtime
 * operands.  Runtime transposed operands fall back; constant ones lower. */
static void gemm_combos(bool b_const, bool a_const, unsigned seed) {
  Graph *g = new_graph();
  int lowered = 0;
  int64_t max_k = 0;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int bk = 0; bk < 8; bk++) {
        int64_t m = pick(), k = pick(), n = pick();
        if (k > max_k) max_k = k;
        int64_t da[2] = {ta ? k : m, ta ? m : k}, db[2] = {tb ? n : k, tb ? k : n};
        Value *a = operand(g, a_const, 2, da), *b = operand(g, b_const, 2, db);
        Value *c = bias_value(g, bk, (bk & 1) != 0, m, n);
        Node *nd = add_node(g, OP_GEMM, a, b, c);
        Error err;
        int combo = ta * 16 + tb * 8 + bk;
        float alpha = combo % 3 == 0 ? 1.0f : combo % 3 == 1 ? 0.5f : -1.75f;
        float beta = combo % 4 == 0 ? 1.0f : combo % 4 == 1 ? 0.0f : combo % 4 == 2 ? 2.5f : -0.25f;
        if (alpha != 1.0f)
          assert_int_equal(ir_node_set_attr_float(g, nd, "alpha", alpha, &err), ST_OK);
        if (beta != 1.0f)
          assert_int_equal(ir_node_set_attr_float(g, nd, "beta", beta, &err), ST_OK);
        if (ta) assert_int_equal(ir_node_set_attr_int(g, nd, "transA", 1, &err), ST_OK);
        if (tb) assert_int_equal(ir_node_set_attr_int(g, nd, "transB", 1, &err), ST_OK);
        finish_node(g, nd);
        if ((!ta || a_const) && (!tb || b_const)) lowered++;
      }
  check(g, max_k, lowered, seed);
}

static void test_gemm_const_b(void **state) {
  (void)state;
  rng_state = 61;
  gemm_combos(true, false, 8);
}

static void test_gemm_runtime_b(void **state) {
  (void)state;
  rng_state = 71;
  gemm_combos(false, false, 9);
}

static void test_gemm_const_a(void **state) {
  (void)state;
  rng_state = 81;
  gemm_combos(true, true, 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matmul_const_b),     cmocka_unit_test(test_matmul_runtime_b),
      cmocka_unit_test(test_large_blocks),
      cmocka_unit_test(test_seven_row_tiles), cmocka_unit_test(test_matmul_batched),
      cmocka_unit_test(test_matmul_fallbacks),   cmocka_unit_test(test_gemm_const_b),
      cmocka_unit_test(test_gemm_runtime_b),     cmocka_unit_test(test_gemm_const_a),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
