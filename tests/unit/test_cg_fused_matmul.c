/*
 * Differential tests of the onnxc.FusedMatMul lowering
 * (codegen/gemm/lower_fused_matmul.c on the GEMM kernels of codegen/gemm/gemm_emit.c):
 * graphs of MatMul -> Add(constant bias) -> activation [-> Add(residual)]
 * chains (and Gemm with bias) go through the FULL pass pipeline, so the
 * real fuse-epilogues pass creates the fused nodes; the test asserts they
 * exist, that the LLVM IR holds one generated gemm kernel per fused node
 * (no silent fallback to the reference kernel), and compares the compiled
 * graph with the reference evaluator for every activation, both residual
 * orders, residuals broadcast along leading dims, odd M/N/K (1 .. 768,
 * more than one K block) and constant and runtime B.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "ops/fused.h"
#include "ops/ops.h"
#include "passes/pass.h"
#include "tests/support/cg_harness.h"
#include "tests/unit/test_cg_util.h"

static uint64_t rng_state = 0x9e3779b9u;

static uint32_t rnd(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static const int64_t sizes[] = {1, 7, 17, 65, 197};
static int64_t pick(void) { return sizes[rnd() % (sizeof sizes / sizeof sizes[0])]; }

static Value *scalar(Graph *g, float f) {
  Value *v = ir_const_new(g, "s", DT_FLOAT32, 0, NULL, &f);
  assert_non_null(v);
  return v;
}

/* Appends op(ins...) and returns its (untyped) output. */
static Value *node(Graph *g, OpKind op, int nin, Value *a, Value *b, Value *c, Node **out) {
  Node *n = ir_node_new(g, op, "n", nin, 1);
  assert_non_null(n);
  n->opset = g->opset;
  Value *ins[3] = {a, b, c};
  for (int i = 0; i < nin; i++) n->inputs[i] = ins[i];
  Value *y = ir_value_new(g, "y");
  assert_non_null(y);
  ir_node_set_output(n, 0, y);
  if (out) *out = n;
  return y;
}

/* cur -> the ONNX op(s) the fusion pass maps to activation a. */
static Value *activation(Graph *g, FusedAct a, Value *cur) {
  Error err;
  Node *n;
  Value *y;
  switch (a) {
  case FACT_NONE: return cur;
  case FACT_RELU: return node(g, OP_RELU, 1, cur, NULL, NULL, NULL);
  case FACT_CLIP: return node(g, OP_CLIP, 3, cur, scalar(g, -0.3f), scalar(g, 0.5f), NULL);
  case FACT_LEAKY_RELU:
    y = node(g, OP_LEAKY_RELU, 1, cur, NULL, NULL, &n);
    assert_int_equal(ir_node_set_attr_float(g, n, "alpha", 0.15f, &err), ST_OK);
    return y;
  case FACT_HARD_SIGMOID:
    y = node(g, OP_HARD_SIGMOID, 1, cur, NULL, NULL, &n);
    assert_int_equal(ir_node_set_attr_float(g, n, "alpha", 0.3f, &err), ST_OK);
    assert_int_equal(ir_node_set_attr_float(g, n, "beta", 0.4f, &err), ST_OK);
    return y;
  case FACT_HARD_SWISH: return node(g, OP_HARD_SWISH, 1, cur, NULL, NULL, NULL);
  case FACT_SIGMOID: return node(g, OP_SIGMOID, 1, cur, NULL, NULL, NULL);
  case FACT_SILU: return node(g, OP_SILU, 1, cur, NULL, NULL, NULL);
  case FACT_GELU: return node(g, OP_GELU, 1, cur, NULL, NULL, NULL);
  case FACT_GELU_TANH:
    y = node(g, OP_GELU, 1, cur, NULL, NULL, &n);
    assert_int_equal(ir_node_set_attr_string(g, n, "approximate", "tanh", &err), ST_OK);
    return y;
  case FACT_TANH: return node(g, OP_TANH, 1, cur, NULL, NULL, NULL);
  case FACT_COUNT: break;
  }
  fail_msg("bad activation");
  return NULL;
}

/* One chain: A[batch.., m, k] @ B[k, n] (+ bias[n]) -> act, with residual r
 * added before (res_first) or after the activation; the result is a graph
 * output. */
typedef struct Chain {
  int nbatch;
  int64_t batch[2];
  int64_t m, k, n;
  bool b_const, bias;
  FusedAct act;
  Value *(*residual)(Graph *g, const struct Chain *ch); /* NULL: none */
  bool res_first;
} Chain;

static void out_dims(const Chain *ch, int *rank, int64_t *d) {
  *rank = ch->nbatch + 2;
  for (int i = 0; i < ch->nbatch; i++) d[i] = ch->batch[i];
  d[ch->nbatch] = ch->m;
  d[ch->nbatch + 1] = ch->n;
}

static Value *res_full(Graph *g, const Chain *ch) {
  int r;
  int64_t d[4];
  out_dims(ch, &r, d);
  return tcg_input(g, r, d);
}
static Value *res_row(Graph *g, const Chain *ch) { return tcg_input(g, 1, &ch->n); }
static Value *res_matrix(Graph *g, const Chain *ch) {
  int64_t d[2] = {ch->m, ch->n};
  return tcg_input(g, 2, d);
}
static Value *res_column(Graph *g, const Chain *ch) {
  int64_t d[2] = {ch->m, 1};
  return tcg_input(g, 2, d);
}
/* [last batch dim, 1, n]: broadcast along the rows (and any outer batch
 * dim) but not along the inner batch dim. */
static Value *res_batch_row(Graph *g, const Chain *ch) {
  int64_t d[3] = {ch->batch[ch->nbatch - 1], 1, ch->n};
  return tcg_input(g, 3, d);
}

static void add_chain(Graph *g, const Chain *ch) {
  int64_t da[4];
  for (int i = 0; i < ch->nbatch; i++) da[i] = ch->batch[i];
  da[ch->nbatch] = ch->m;
  da[ch->nbatch + 1] = ch->k;
  int64_t db[2] = {ch->k, ch->n};
  Value *a = tcg_input(g, ch->nbatch + 2, da);
  Value *b = ch->b_const ? tcg_constant(g, 2, db, rnd) : tcg_input(g, 2, db);
  Value *cur = node(g, OP_MATMUL, 2, a, b, NULL, NULL);
  if (ch->bias) cur = node(g, OP_ADD, 2, cur, tcg_constant(g, 1, &ch->n, rnd), NULL, NULL);
  Value *r = ch->residual ? ch->residual(g, ch) : NULL;
  if (r && ch->res_first) cur = node(g, OP_ADD, 2, cur, r, NULL, NULL);
  cur = activation(g, ch->act, cur);
  if (r && !ch->res_first) cur = node(g, OP_ADD, 2, r, cur, NULL, NULL);
  Error err;
  assert_int_equal(ir_graph_add_output(g, cur, &err), ST_OK);
}

static Graph *new_graph(void) {
  Graph *g = ir_graph_new("fused_matmul", "test_cg_fused_matmul");
  assert_non_null(g);
  g->opset = 20; /* Gelu */
  return g;
}

/* Generated gemm kernels (driver functions) in g's LLVM IR. */
static int count_lowered(Graph *g) {
  static const char *const ops[] = {"MatMul", "Gemm", "onnxc.FusedMatMul"};
  return tcg_count_lowered(g, ops, 3);
}

/* Runs the pipeline, checks that it made `fused` FusedMatMul nodes and no
 * MatMul/Gemm is left, compares, and checks every one became a gemm kernel. */
static void check(Graph *g, int fused, int64_t max_k, unsigned seed) {
  Error err;
  PipelineOptions po = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("%s", err.msg);
  assert_int_equal(tcg_count_op(g, OP_FUSED_MATMUL), fused);
  assert_int_equal(tcg_count_op(g, OP_MATMUL) + tcg_count_op(g, OP_GEMM), 0);
  void **ins = NULL;
  assert_int_equal(cgh_random_inputs(g, seed, &ins, &err), ST_OK);
  CgCompare cmp;
  double atol = 1e-5 + 1e-6 * (double)max_k;
  Status st = cgh_differential(g, 2, (const void *const *)ins, 1e-4, atol, &cmp, &err);
  if (st != ST_OK) fail_msg("%s", err.msg);
  if (!cmp.ok) {
    const Node *n = g->outputs[cmp.worst_output]->producer;
    char ta[64], tb[64];
    fail_msg("output %d (%s %s x %s, activation \"%s\") max_abs %g max_rel %g", cmp.worst_output,
             op_info[n->op].name, ir_type_str(n->inputs[0], ta, sizeof ta),
             ir_type_str(n->inputs[1], tb, sizeof tb), ir_attr_string(n, "activation", ""),
             cmp.max_abs, cmp.max_rel);
  }
  cgh_free_buffers(ins, g->num_inputs);
  assert_int_equal(count_lowered(g), fused);
  ir_graph_free(g);
}

/* Every activation x both residual orders, random odd sizes. */
static void all_activations(bool b_const, unsigned seed) {
  Graph *g = new_graph();
  int chains = 0;
  int64_t max_k = 0;
  for (int a = 0; a < FACT_COUNT; a++)
    for (int rf = 0; rf < 2; rf++) {
      Chain ch = {.m = pick(), .k = pick(), .n = pick(), .b_const = b_const, .bias = true,
                  .act = (FusedAct)a, .residual = res_full, .res_first = rf == 1};
      if (ch.k > max_k) max_k = ch.k;
      add_chain(g, &ch);
      chains++;
    }
  /* activation only, no bias or residual */
  for (int a = 1; a < FACT_COUNT; a += 3) {
    Chain ch = {.m = pick(), .k = pick(), .n = pick(), .b_const = b_const, .act = (FusedAct)a};
    if (ch.k > max_k) max_k = ch.k;
    add_chain(g, &ch);
    chains++;
  }
  check(g, chains, max_k, seed);
}

static void test_activations_const_b(void **state) {
  (void)state;
  rng_state = 101;
  all_activations(true, 1);
}

static void test_activations_runtime_b(void **state) {
  (void)state;
  rng_state = 202;
  all_activations(false, 2);
}

/* Residuals broadcast along leading dims onto batched outputs. */
static void test_residual_broadcast(void **state) {
  (void)state;
  rng_state = 303;
  Graph *g = new_graph();
  Value *(*kinds[])(Graph *, const Chain *) = {res_full, res_row, res_matrix, res_column,
                                                res_batch_row};
  int chains = 0;
  for (int kd = 0; kd < 5; kd++)
    for (int bc = 0; bc < 2; bc++) {
      Chain ch = {.nbatch = 1 + (kd + bc) % 2, .batch = {3, 2}, .m = pick(), .k = pick(),
                  .n = pick(), .b_const = bc == 1, .bias = kd != 2,
                  .act = kd % 2 ? FACT_GELU : FACT_RELU, .residual = kinds[kd],
                  .res_first = (kd + bc) % 2 == 0};
      add_chain(g, &ch);
      chains++;
    }
  check(g, chains, 197, 3);
}

/* The ViT shapes: K over several K blocks, N over several N blocks, and
 * degenerate 1-sized dims. */
static void test_large_and_degenerate(void **state) {
  (void)state;
  rng_state = 404;
  Graph *g = new_graph();
  Chain chs[] = {
      {.m = 197, .k = 768, .n = 768, .b_const = true, .bias = true, .act = FACT_GELU},
      {.m = 65, .k = 768, .n = 197, .b_const = false, .bias = true, .act = FACT_GELU_TANH,
       .residual = res_full},
      {.m = 17, .k = 1, .n = 768, .b_const = true, .bias = true, .act = FACT_SILU,
       .residual = res_row, .res_first = true},
      {.m = 1, .k = 65, .n = 1, .b_const = true, .bias = true, .act = FACT_TANH,
       .residual = res_full},
      {.m = 7, .k = 7, .n = 1, .b_const = false, .bias = true, .act = FACT_SIGMOID},
  };
  for (size_t i = 0; i < sizeof chs / sizeof chs[0]; i++) add_chain(g, &chs[i]);
  check(g, 5, 768, 4);
}

/* Gemm with bias (constant transposed B, constant C per column) and a
 * runtime [M, N] C that becomes the residual. */
static void test_gemm_bias(void **state) {
  (void)state;
  rng_state = 505;
  Graph *g = new_graph();
  Error err;
  int64_t m = 65, k = 17, n = 197;
  int64_t da[2] = {m, k}, dbt[2] = {n, k}, db[2] = {k, n}, dc[2] = {m, n};
  Node *g1;
  Value *y1 = node(g, OP_GEMM, 3, tcg_input(g, 2, da), tcg_constant(g, 2, dbt, rnd), tcg_constant(g, 1, &n, rnd), &g1);
  assert_int_equal(ir_node_set_attr_int(g, g1, "transB", 1, &err), ST_OK);
  assert_int_equal(ir_graph_add_output(g, y1, &err), ST_OK);
  Value *y2 = node(g, OP_GEMM, 3, tcg_input(g, 2, da), tcg_constant(g, 2, db, rnd), tcg_constant(g, 1, &n, rnd), NULL);
  y2 = node(g, OP_GELU, 1, y2, NULL, NULL, NULL);
  assert_int_equal(ir_graph_add_output(g, y2, &err), ST_OK);
  Value *y3 = node(g, OP_GEMM, 3, tcg_input(g, 2, da), tcg_constant(g, 2, db, rnd), tcg_input(g, 2, dc), NULL);
  y3 = node(g, OP_RELU, 1, y3, NULL, NULL, NULL);
  assert_int_equal(ir_graph_add_output(g, y3, &err), ST_OK);
  check(g, 3, k, 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_activations_const_b), cmocka_unit_test(test_activations_runtime_b),
      cmocka_unit_test(test_residual_broadcast),  cmocka_unit_test(test_large_and_degenerate),
      cmocka_unit_test(test_gemm_bias),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
