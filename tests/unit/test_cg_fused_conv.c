/*
 * Differential tests of the onnxc.FusedConv and onnxc.SiLU lowerings
 * (codegen/conv/lower_fused_conv.c, codegen/vec/epilogue.c).  Graphs are built the
 * way exporters write them -- Conv -> BatchNormalization -> activation,
 * with a residual Add before or after the activation -- and run through
 * the full pass pipeline, so the real fold-batchnorm / canonicalize /
 * fuse-epilogues passes create the fused node.  Each case checks the fused
 * node and its epilogue attributes, that the emitted LLVM IR uses the
 * specialized conv kernel (not the reference kernel), then compares the
 * compiled output with the reference evaluator.  Cases rotate over target
 * CPUs (host; haswell: 8 lanes + FMA; x86-64: 4 lanes, no FMA).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "ir/graph.h"
#include "ops/eval.h"
#include "ops/ops.h"
#include "passes/pass.h"
#include "tests/support/cg_harness.h"
#include "tests/unit/test_cg_util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (unsigned)(rng % n);
}
static float rndf(float lo, float hi) { return lo + (hi - lo) * (float)rnd(1000001) / 1e6f; }

static const char *const cpus[] = {NULL, "haswell", "x86-64"};
static int case_no;

/* Checks that the IR does (want_tag) or does not contain tag, then runs g
 * compiled for the case's cpu against the reference evaluator. */
static void check(Graph *g, const char *tag, bool want_tag, double atol, const char *what) {
  const char *cpu = cpus[case_no++ % 3];
  if (tcg_ir_has(g, cpu, tag) != want_tag)
    fail_msg("%s: kernel %s %s (cpu %s)", what, tag, want_tag ? "not used" : "used",
             cpu ? cpu : "host");
  tcg_compare_on_cpu(g, cpu, (unsigned)case_no, 1e-4, atol, what);
}

/* ---- graph building ---------------------------------------------------- */

static Value *input(Graph *g, const char *name, int rank, const int64_t *dims) {
  Value *x = ir_value_new(g, name);
  assert_int_equal(ir_value_set_type(x, DT_FLOAT32, rank, dims, NULL), ST_OK);
  assert_int_equal(ir_graph_add_input(g, x, NULL), ST_OK);
  return x;
}

static Value *rand_const(Graph *g, const char *name, int rank, const int64_t *dims, float lo,
                         float hi) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
  assert_non_null(v);
  for (int64_t i = 0; i < n; i++) v[i] = rndf(lo, hi);
  Value *c = ir_const_new(g, name, DT_FLOAT32, rank, dims, v);
  free(v);
  assert_non_null(c);
  return c;
}

static Value *scalar_const(Graph *g, const char *name, float v) {
  Value *c = ir_const_new(g, name, DT_FLOAT32, 0, NULL, &v);
  assert_non_null(c);
  return c;
}

static int node_count;

/* A new node with inputs ins and one fresh output value; returns it. */
static Node *add_node(Graph *g, OpKind op, int nin, Value *const *ins) {
  char name[32];
  snprintf(name, sizeof name, "n%d", node_count++);
  Node *n = ir_node_new(g, op, name, nin, 1);
  assert_non_null(n);
  n->opset = 22;
  for (int i = 0; i < nin; i++) n->inputs[i] = ins[i];
  ir_node_set_output(n, 0, ir_value_new(g, name));
  return n;
}

static Value *unary(Graph *g, OpKind op, Value *x) { return add_node(g, op, 1, &x)->outputs[0]; }

static Value *binary(Graph *g, OpKind op, Value *a, Value *b) {
  Value *ins[2] = {a, b};
  return add_node(g, op, 2, ins)->outputs[0];
}

/* The activations of ops/fused.h, written as exporters write them. */
enum { ACT_NONE, ACT_RELU, ACT_CLIP, ACT_RELU6, ACT_LEAKY, ACT_HSIG, ACT_HSWISH, ACT_SIGMOID,
       ACT_SILU, ACT_GELU, ACT_GELU_TANH, ACT_TANH, ACT_COUNT };
static const char *const act_attr[ACT_COUNT] = {"", "Relu", "Clip", "Clip", "LeakyRelu",
                                                "HardSigmoid", "HardSwish", "Sigmoid", "SiLU",
                                                "Gelu", "GeluTanh", "Tanh"};

static Value *activation(Graph *g, int act, Value *x) {
  Node *n;
  switch (act) {
  case ACT_RELU: return unary(g, OP_RELU, x);
  case ACT_CLIP: {
    Value *ins[3] = {x, scalar_const(g, "lo", -0.75f), scalar_const(g, "hi", 1.25f)};
    return add_node(g, OP_CLIP, 3, ins)->outputs[0];
  }
  case ACT_RELU6: {
    Value *ins[3] = {x, scalar_const(g, "lo", 0.0f), scalar_const(g, "hi", 6.0f)};
    return add_node(g, OP_CLIP, 3, ins)->outputs[0];
  }
  case ACT_LEAKY:
    n = add_node(g, OP_LEAKY_RELU, 1, &x);
    assert_int_equal(ir_node_set_attr_float(g, n, "alpha", 0.13f, NULL), ST_OK);
    return n->outputs[0];
  case ACT_HSIG:
    n = add_node(g, OP_HARD_SIGMOID, 1, &x);
    assert_int_equal(ir_node_set_attr_float(g, n, "alpha", 0.3f, NULL), ST_OK);
    assert_int_equal(ir_node_set_attr_float(g, n, "beta", 0.45f, NULL), ST_OK);
    return n->outputs[0];
  case ACT_HSWISH: return unary(g, OP_HARD_SWISH, x);
  case ACT_SIGMOID: return unary(g, OP_SIGMOID, x);
  case ACT_SILU: return binary(g, OP_MUL, x, unary(g, OP_SIGMOID, x));
  case ACT_GELU: return unary(g, OP_GELU, x);
  case ACT_GELU_TANH:
    n = add_node(g, OP_GELU, 1, &x);
    assert_int_equal(ir_node_set_attr_string(g, n, "approximate", "tanh", NULL), ST_OK);
    return n->outputs[0];
  case ACT_TANH: return unary(g, OP_TANH, x);
  default: return x;
  }
}

typedef struct FcCase {
  int64_t n, cin, cout, h, w, k, s, pad, group;
  bool bias;
} FcCase;

enum { RES_NONE, RES_FIRST, RES_LAST };

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p) {
  return (in + 2 * p - k) / s + 1;
}

/* The only FusedConv of g (after the pipeline), or NULL. */
static const Node *find_fused(const Graph *g, int *count) {
  const Node *f = NULL;
  *count = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    if (n->op == OP_FUSED_CONV) f = n;
    if (n->op == OP_FUSED_CONV || n->op == OP_CONV || n->op == OP_BATCH_NORMALIZATION)
      (*count)++;
  }
  return f;
}

static void run_pipeline(Graph *g) {
  PipelineOptions po = {0};
  Error err = {0};
  if (pass_run_pipeline(g, &po, &err) != ST_OK) fail_msg("pipeline: %s", err.msg);
}

/* Conv [+bias] -> BatchNormalization -> act with the residual `res`;
 * w_input makes W a graph input (not foldable, not lowerable). */
static Graph *build_conv_chain(const FcCase *fc, int act, int res, bool w_input) {
  Graph *g = ir_graph_new("fused", "<test>");
  assert_non_null(g);
  g->opset = 22;
  node_count = 0;
  int64_t xd[4] = {fc->n, fc->cin, fc->h, fc->w};
  Value *x = input(g, "x", 4, xd);
  int64_t wd[4] = {fc->cout, fc->cin / fc->group, fc->k, fc->k};
  Value *w = w_input ? input(g, "w", 4, wd) : rand_const(g, "w", 4, wd, -1, 1);
  Value *r = NULL;
  if (res != RES_NONE) {
    int64_t rd[4] = {fc->n, fc->cout, out_size(fc->h, fc->k, fc->s, fc->pad),
                     out_size(fc->w, fc->k, fc->s, fc->pad)};
    r = input(g, "r", 4, rd);
  }
  Value *ins[3] = {x, w, fc->bias ? rand_const(g, "b", 1, &fc->cout, -1, 1) : NULL};
  Node *conv = add_node(g, OP_CONV, fc->bias ? 3 : 2, ins);
  int64_t st[2] = {fc->s, fc->s}, pads[4] = {fc->pad, fc->pad, fc->pad, fc->pad};
  assert_int_equal(ir_node_set_attr_ints(g, conv, "strides", st, 2, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_ints(g, conv, "pads", pads, 4, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_int(g, conv, "group", fc->group, NULL), ST_OK);
  Value *y = conv->outputs[0];
  if (!w_input) {
    Value *bn[5] = {y, rand_const(g, "scale", 1, &fc->cout, 0.5f, 1.5f),
                    rand_const(g, "shift", 1, &fc->cout, -0.5f, 0.5f),
                    rand_const(g, "mean", 1, &fc->cout, -0.3f, 0.3f),
                    rand_const(g, "var", 1, &fc->cout, 0.5f, 1.5f)};
    y = add_node(g, OP_BATCH_NORMALIZATION, 5, bn)->outputs[0];
  }
  if (res == RES_FIRST) y = binary(g, OP_ADD, y, r);
  y = activation(g, act, y);
  if (res == RES_LAST) y = binary(g, OP_ADD, r, y);
  assert_int_equal(ir_graph_add_output(g, y, NULL), ST_OK);
  run_pipeline(g);
  return g;
}

static const char *conv_tag(const FcCase *fc) {
  if (fc->group > 1 && fc->group == fc->cin) return "onnxc.conv.depthwise";
  if (fc->k == 1 && fc->s == 1 && fc->pad == 0) return "onnxc.conv.pointwise";
  return "onnxc.conv.direct";
}

/* run_case with the kernel the shape must get. */
static void run_case_tag(const FcCase *fc, int act, int res, const char *tag) {
  Graph *g = build_conv_chain(fc, act, res, false);
  char what[200];
  snprintf(what, sizeof what, "Conv n%lld %lldx%lldx%lld -> %lld k%lld s%lld p%lld g%lld%s "
           "+BN +%s res=%d", (long long)fc->n, (long long)fc->cin, (long long)fc->h,
           (long long)fc->w, (long long)fc->cout, (long long)fc->k, (long long)fc->s,
           (long long)fc->pad, (long long)fc->group, fc->bias ? " bias" : "",
           act == ACT_NONE ? "none" : act_attr[act], res);
  int count;
  const Node *f = find_fused(g, &count);
  if (act == ACT_NONE && res == RES_NONE) {
    /* Nothing to fuse: BN folds into a plain Conv, which must still work. */
    if (f || count != 1) fail_msg("%s: expected one plain Conv, got %d nodes", what, count);
    check(g, tag, true, 4e-6 * (double)(fc->cin / fc->group * fc->k * fc->k) + 1e-5,
          what);
    ir_graph_free(g);
    return;
  }
  if (!f || count != 1) fail_msg("%s: expected one FusedConv and no Conv/BN, got %d", what, count);
  if (strcmp(ir_attr_string(f, "activation", ""), act_attr[act]) != 0)
    fail_msg("%s: activation is \"%s\"", what, ir_attr_string(f, "activation", ""));
  bool has_r = f->num_inputs > 3 && f->inputs[3];
  if (has_r != (res != RES_NONE)) fail_msg("%s: residual input %d", what, has_r);
  /* Without an activation both orders are the same; the pass picks one. */
  if (has_r && act != ACT_NONE && ir_attr_int(f, "residual_first", 0) != (res == RES_FIRST))
    fail_msg("%s: residual_first %lld", what, (long long)ir_attr_int(f, "residual_first", 0));
  double k = (double)(fc->cin / fc->group * fc->k * fc->k);
  check(g, tag, true, 4e-6 * k + 1e-5, what);
  ir_graph_free(g);
}

static void run_case(const FcCase *fc, int act, int res) {
  run_case_tag(fc, act, res, conv_tag(fc));
}

/* Direct 3x3, strided 3x3, 1x1 GEMM path, depthwise 3x3 / strided, all
 * with channel counts and widths that are not multiples of any vector
 * width, plus batch 2. */
static const FcCase shapes[] = {
    {1, 13, 19, 9, 11, 3, 1, 1, 1, true},   {2, 5, 24, 10, 7, 3, 2, 1, 1, false},
    {1, 17, 11, 7, 9, 1, 1, 0, 1, true},    {1, 13, 13, 12, 19, 3, 1, 1, 13, true},
    {1, 9, 9, 11, 10, 3, 2, 1, 9, false},   {1, 3, 8, 17, 5, 5, 1, 2, 1, true},
};
#define NSHAPES ((int)(sizeof shapes / sizeof *shapes))

/* Every activation with no residual / residual before / after it. */
static void test_fused_conv_all_epilogues(void **state) {
  (void)state;
  int i = 0;
  for (int act = 0; act < ACT_COUNT; act++)
    for (int res = RES_NONE; res <= RES_LAST; res++) run_case(&shapes[i++ % NSHAPES], act, res);
}

/* Each conv kernel with the heaviest epilogues in both residual orders. */
static void test_fused_conv_kernels(void **state) {
  (void)state;
  static const int acts[] = {ACT_GELU, ACT_HSWISH, ACT_SILU, ACT_RELU};
  for (int s = 0; s < NSHAPES; s++) run_case(&shapes[s], acts[s % 4], s % 2 ? RES_FIRST : RES_LAST);
  /* A ResNet-like block with enough channels for full vector blocks (24
   * inputs: with 32, the 3x3 conv runs as Winograd). */
  FcCase big = {1, 24, 64, 14, 14, 3, 1, 1, 1, false};
  run_case(&big, ACT_RELU, RES_LAST);
  FcCase pw = {1, 64, 40, 13, 13, 1, 1, 0, 1, false};
  run_case(&pw, ACT_RELU6, RES_NONE);
  /* Direct-conv rows cut into tiles of two widths (HRFormer's 18-channel
   * 56-wide 3x3 conv), three-vector channel blocks, and the register
   * transpose of the stores in power-of-two pixel chunks. */
  FcCase wide = {1, 16, 18, 6, 56, 3, 1, 1, 1, true};
  run_case(&wide, ACT_GELU, RES_FIRST);
  run_case(&wide, ACT_RELU, RES_LAST);
  FcCase strided = {1, 8, 40, 5, 23, 3, 2, 1, 1, false};
  run_case(&strided, ACT_SILU, RES_NONE);
  /* A 7x7 1x1 conv with 1.2 MB of weights: the direct kernel prefetches
   * the next channel blocks (addresses past the last block included). */
  FcCase big_w = {1, 512, 600, 7, 7, 1, 1, 0, 1, true};
  run_case(&big_w, ACT_RELU, RES_LAST);
  /* (Last: each case takes the next of check()'s CPUs.)  A depthwise conv
   * on a plane the channel-blocked kernel takes in bands of rows. */
  FcCase dw_bands = {1, 24, 24, 40, 44, 3, 1, 1, 24, true};
  run_case(&dw_bands, ACT_GELU, RES_FIRST);
  /* Channel multiplier 2: the row kernel, its per-row epilogue buffer. */
  FcCase dw_mult = {1, 8, 16, 20, 30, 3, 1, 1, 8, true};
  run_case(&dw_mult, ACT_GELU, RES_LAST);
}

/* Stride-1 3x3 convs as Winograd F(4x4) (conv_winograd.c): tiles that
 * overhang the output's bottom rows and right columns, pad 0 (a valid
 * conv), batch 2, groups, tile rows wider than a vector and several
 * short ones in one vector, planes in several blocks of tile rows (the
 * last one past the plane), every epilogue shape.  The error bound is the direct kernel's. */
static void test_fused_conv_winograd(void **state) {
  (void)state;
  static const struct {
    FcCase fc;
    int act, res;
    bool winograd;
  } cases[] = {
      {{2, 48, 40, 26, 28, 3, 1, 0, 1, true}, ACT_GELU, RES_FIRST, true}, /* valid, batch 2 */
      {{1, 40, 48, 29, 27, 3, 1, 1, 1, false}, ACT_SILU, RES_LAST, true}, /* ragged */
      {{1, 32, 48, 24, 70, 3, 1, 1, 1, true}, ACT_RELU, RES_NONE, true},  /* 18 tiles a row */
      /* 2 groups; 3 blocks of 5 tile rows for 14 */
      {{1, 64, 64, 56, 56, 3, 1, 1, 2, true}, ACT_HSWISH, RES_LAST, true},
      {{2, 64, 48, 20, 22, 3, 1, 1, 1, true}, ACT_NONE, RES_FIRST, true},
      {{1, 32, 48, 32, 72, 3, 1, 1, 1, false}, ACT_NONE, RES_NONE, true}, /* plain Conv */
      /* 14 x 14: 4 tile rows of 4 tiles share a vector in the transforms
       * (2 rows on 8 lanes); twice, so that two CPUs of the rotation see it */
      {{1, 128, 128, 14, 14, 3, 1, 1, 1, true}, ACT_GELU, RES_LAST, true},
      {{1, 128, 128, 14, 14, 3, 1, 1, 1, false}, ACT_RELU, RES_FIRST, true},
      /* Few outputs, many inputs (HRFormer-T's 256 -> 18 channels) */
      {{1, 128, 18, 56, 56, 3, 1, 1, 1, true}, ACT_RELU, RES_NONE, true},
      /* Where the estimate favours the direct kernel: few channels per
       * group, and a small plane whose filters would dominate. */
      {{1, 64, 64, 14, 14, 3, 1, 1, 4, true}, ACT_RELU, RES_NONE, false},
      {{1, 48, 64, 14, 14, 3, 1, 1, 1, true}, ACT_TANH, RES_LAST, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    run_case_tag(&cases[i].fc, cases[i].act, cases[i].res,
                 cases[i].winograd ? "onnxc.conv.wino_in" : conv_tag(&cases[i].fc));
}

/* A FusedConv the conv lowering does not cover (weights are a graph
 * input) keeps its reference kernel and stays correct. */
static void test_fused_conv_fallback(void **state) {
  (void)state;
  FcCase fc = {1, 6, 10, 8, 9, 3, 1, 1, 1, true};
  Graph *g = build_conv_chain(&fc, ACT_SIGMOID, RES_FIRST, true);
  int count;
  const Node *f = find_fused(g, &count);
  assert_non_null(f);
  check(g, "onnxc.conv.", false, 1e-4, "FusedConv with non-constant weights");
  ir_graph_free(g);
}

/* x * sigmoid(x) becomes onnxc.SiLU (canonicalize) and a vector map;
 * inputs scaled by `scale` reach the sigmoid's saturated tails. */
static void run_silu(int rank, const int64_t *dims, float scale) {
  Graph *g = ir_graph_new("silu", "<test>");
  assert_non_null(g);
  g->opset = 22;
  node_count = 0;
  Value *x = input(g, "x", rank, dims);
  Value *t = binary(g, OP_MUL, x, scalar_const(g, "scale", scale));
  Value *y = binary(g, OP_MUL, unary(g, OP_SIGMOID, t), t);
  assert_int_equal(ir_graph_add_output(g, y, NULL), ST_OK);
  run_pipeline(g);
  int silu = 0;
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_SILU) silu++;
  char what[96];
  snprintf(what, sizeof what, "SiLU rank %d numel %lld scale %g", rank,
           (long long)ir_value_numel(y), (double)scale);
  if (silu != 1) fail_msg("%s: %d SiLU nodes after the pipeline", what, silu);
  check(g, "onnxc.silu", true, 1e-6, what);
  ir_graph_free(g);
}

static void test_silu(void **state) {
  (void)state;
  int64_t a[4] = {1, 3, 7, 5}, b[4] = {2, 13, 1, 1}, c[1] = {1}, d[2] = {37, 61};
  int64_t e[3] = {1, 1, 19};
  run_silu(4, a, 1.0f);
  run_silu(4, b, 30.0f);
  run_silu(1, c, 3.0f);
  run_silu(2, d, 12.0f);
  run_silu(3, e, 100.0f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fused_conv_all_epilogues),
      cmocka_unit_test(test_fused_conv_kernels),
      cmocka_unit_test(test_fused_conv_winograd),
      cmocka_unit_test(test_fused_conv_fallback),
      cmocka_unit_test(test_silu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
