/*
 * Differential tests of the conv-family lowerings (codegen/conv/lower_conv.c):
 * single-node graphs built by hand with random shapes and attributes are
 * compiled through the real backend, run, and compared with the reference
 * evaluator.  Each case first checks, in the emitted LLVM IR, that the
 * specialized kernel (not the reference fallback) was used.  Cases rotate
 * over target CPUs (host, haswell: 8 lanes with FMA, plain x86-64: 4
 * lanes without FMA) so every vector width's tiling and tails run.
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
#include "tests/support/cg_harness.h"
#include "tests/unit/test_cg_util.h"

static uint64_t rng = 0x1234567ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (unsigned)(rng % n);
}
static int64_t pick(const int64_t *v, int n) { return v[rnd((unsigned)n)]; }
static float rndf(void) { return (float)rnd(2000001) / 1000000.0f - 1.0f; }

static const char *const cpus[] = {NULL, "haswell", "x86-64"};
static int case_no;

/* Compiles g for the case's cpu, checks the kernel tag, runs it on random
 * inputs and compares with the reference evaluator. */
/* Set by run_conv: the output plane has fewer than 256 pixels, where a
 * 16-lane target may run 1x1 convs with the direct kernel (lower_conv.c). */
static bool small_plane;

static void check(Graph *g, const char *tag, double atol, const char *what) {
  const char *cpu = cpus[case_no++ % 3];
  bool either = small_plane && strcmp(tag, "onnxc.conv.pointwise") == 0 && !cpu;
  if (!tcg_ir_has(g, cpu, tag) && !(either && tcg_ir_has(g, cpu, "onnxc.conv.direct")))
    fail_msg("%s: kernel %s not used (cpu %s)", what, tag, cpu ? cpu : "host");
  tcg_compare_on_cpu(g, cpu, (unsigned)case_no, 1e-4, atol, what);
}

static Value *input(Graph *g, int64_t n, int64_t c, int64_t h, int64_t w) {
  Value *x = ir_value_new(g, "x");
  int64_t d[4] = {n, c, h, w};
  assert_int_equal(ir_value_set_type(x, DT_FLOAT32, 4, d, NULL), ST_OK);
  assert_int_equal(ir_graph_add_input(g, x, NULL), ST_OK);
  return x;
}

static Value *rand_const(Graph *g, const char *name, int rank, const int64_t *dims, float lo,
                         float hi) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *v = malloc((size_t)n * sizeof *v);
  assert_non_null(v);
  for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * (rndf() + 1.0f) / 2.0f;
  Value *c = ir_const_new(g, name, DT_FLOAT32, rank, dims, v);
  free(v);
  assert_non_null(c);
  return c;
}

/* Infers shapes; false (graph freed) when the attributes give no output. */
static bool finish(Graph *g, Node *n) {
  Error err = {0};
  if (ops_infer_node(g, n, &err) != ST_OK) {
    ir_graph_free(g);
    return false;
  }
  assert_int_equal(ir_graph_add_output(g, n->outputs[0], NULL), ST_OK);
  return true;
}

static Node *node(Graph *g, OpKind op, int nin, Value **ins) {
  Node *n = ir_node_new(g, op, "n0", nin, 1);
  assert_non_null(n);
  n->opset = 22;
  for (int i = 0; i < nin; i++) n->inputs[i] = ins[i];
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  return n;
}

typedef struct ConvCase {
  int64_t n, cin, cout, h, w, kh, kw, sh, sw, dh, dw, pads[4], group;
  bool bias;
  const char *auto_pad;
} ConvCase;

/* Builds and checks one Conv; returns false when the shape was invalid. */
static bool run_conv(const ConvCase *cc, const char *tag) {
  Graph *g = ir_graph_new("conv", "<test>");
  assert_non_null(g);
  Value *x = input(g, cc->n, cc->cin, cc->h, cc->w);
  int64_t wd[4] = {cc->cout, cc->cin / cc->group, cc->kh, cc->kw};
  Value *ins[3] = {x, rand_const(g, "w", 4, wd, -1, 1), NULL};
  if (cc->bias) ins[2] = rand_const(g, "b", 1, &cc->cout, -1, 1);
  Node *n = node(g, OP_CONV, cc->bias ? 3 : 2, ins);
  int64_t s[2] = {cc->sh, cc->sw}, d[2] = {cc->dh, cc->dw};
  assert_int_equal(ir_node_set_attr_ints(g, n, "strides", s, 2, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_ints(g, n, "dilations", d, 2, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_int(g, n, "group", cc->group, NULL), ST_OK);
  if (cc->auto_pad)
    assert_int_equal(ir_node_set_attr_string(g, n, "auto_pad", cc->auto_pad, NULL), ST_OK);
  else
    assert_int_equal(ir_node_set_attr_ints(g, n, "pads", cc->pads, 4, NULL), ST_OK);
  if (!finish(g, n)) return false;
  char what[200];
  snprintf(what, sizeof what,
           "Conv n%lld %lldx%lldx%lld -> %lld k%lldx%lld s%lld,%lld d%lld,%lld p%lld,%lld,%lld,%lld "
           "g%lld%s %s", (long long)cc->n, (long long)cc->cin, (long long)cc->h, (long long)cc->w,
           (long long)cc->cout, (long long)cc->kh, (long long)cc->kw, (long long)cc->sh,
           (long long)cc->sw, (long long)cc->dh, (long long)cc->dw, (long long)cc->pads[0],
           (long long)cc->pads[1], (long long)cc->pads[2], (long long)cc->pads[3],
           (long long)cc->group, cc->bias ? " bias" : "", cc->auto_pad ? cc->auto_pad : "");
  double k = (double)(cc->cin / cc->group * cc->kh * cc->kw);
  small_plane = n->outputs[0]->dims[2] * n->outputs[0]->dims[3] < 256;
  check(g, tag, 2e-6 * k + 1e-6, what);
  ir_graph_free(g);
  return true;
}

static const int64_t chans[] = {1, 3, 8, 13, 16, 24, 64};
static const int64_t sizes[] = {1, 5, 7, 14, 17, 32};

static void random_conv(ConvCase *cc, int kind) {
  static const int64_t ks[] = {1, 3, 5, 7};
  memset(cc, 0, sizeof *cc);
  cc->n = rnd(4) == 0 ? 2 : 1;
  cc->cin = pick(chans, 7);
  cc->cout = pick(chans, 7);
  cc->h = pick(sizes, 6);
  cc->w = pick(sizes, 6);
  cc->kh = pick(ks, 4);
  cc->kw = rnd(3) == 0 ? pick(ks, 4) : cc->kh;
  cc->sh = 1 + rnd(2);
  cc->sw = rnd(5) == 0 ? 4 : 1 + rnd(2);
  cc->dh = 1 + rnd(2);
  cc->dw = rnd(2) ? cc->dh : 1 + rnd(2);
  for (int i = 0; i < 4; i++) cc->pads[i] = rnd((unsigned)((i % 2 ? cc->kw : cc->kh)));
  cc->group = 1;
  cc->bias = rnd(3) != 0;
  if (kind == 1) { /* depthwise, multiplier 1 or 2 */
    cc->group = cc->cin;
    cc->cout = cc->cin * (rnd(2) ? 2 : 1);
  } else if (kind == 2) { /* grouped by 4 */
    cc->group = 4;
    cc->cin = 4 * (1 + rnd(6));
    cc->cout = 4 * (1 + rnd(8));
  }
}

static void test_conv_random(void **state) {
  (void)state;
  int done = 0;
  for (int tries = 0; done < 18 && tries < 400; tries++) {
    ConvCase cc;
    random_conv(&cc, done % 3);
    bool one = cc.kh == 1 && cc.kw == 1 && cc.sh == 1 && cc.sw == 1 && !cc.pads[0] &&
               !cc.pads[1] && !cc.pads[2] && !cc.pads[3];
    const char *tag = cc.group > 1 && cc.cin == cc.group ? "onnxc.conv.depthwise"
                      : one                              ? "onnxc.conv.pointwise"
                                                         : "onnxc.conv.direct";
    if (run_conv(&cc, tag)) done++;
  }
  assert_int_equal(done, 18);
}

static void test_conv_fixed(void **state) {
  (void)state;
  /* ViT-style patch embedding (scaled down), 16x16 stride 16. */
  ConvCase pe = {1, 3, 24, 48, 64, 16, 16, 16, 16, 1, 1, {0, 0, 0, 0}, 1, true, NULL};
  assert_true(run_conv(&pe, "onnxc.conv.direct"));
  /* 1x1 GEMM with pixel and channel tails; grouped 1x1. */
  ConvCase pw = {1, 64, 13, 17, 17, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL};
  assert_true(run_conv(&pw, "onnxc.conv.pointwise"));
  ConvCase pwg = {2, 16, 24, 7, 5, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 4, false, NULL};
  assert_true(run_conv(&pwg, "onnxc.conv.pointwise"));
  /* 7x7 (a transformer stage's last maps): 49 pixels are one remainder
   * tile of as many vectors as a wide tile, the last with one lane. */
  ConvCase pw7 = {1, 40, 19, 7, 7, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL};
  assert_true(run_conv(&pw7, "onnxc.conv.pointwise"));
  /* ... which on a 16-lane target with >= 256 input channels runs the
   * direct kernel, vectorized over output channels (compiled only: the
   * test machine may lack AVX-512). */
  for (int wide = 0; wide < 2; wide++) {
    Graph *g = ir_graph_new("conv", "<test>");
    int64_t cin = wide ? 256 : 40;
    Value *x = input(g, 1, cin, 7, 7);
    int64_t wd[4] = {48, cin, 1, 1};
    Value *ins[2] = {x, rand_const(g, "w", 4, wd, -1, 1)};
    Node *n = node(g, OP_CONV, 2, ins);
    assert_true(finish(g, n));
    assert_true(tcg_ir_has(g, "skylake-avx512", wide ? "onnxc.conv.direct" : "onnxc.conv.pointwise"));
    assert_true(tcg_ir_has(g, "haswell", "onnxc.conv.pointwise"));
    ir_graph_free(g);
  }
  /* 18 output channels: on Zen 4 (512-bit FMAs in two halves) 8-lane
   * vectors waste fewer lanes at no FMA cost; Intel AVX-512 keeps 16.  A
   * depthwise conv keeps 16 lanes on both (8 measured slower).  Compiled
   * only; a Zen 4 host runs these kernels in every other test. */
  for (int dw = 0; dw < 2; dw++) {
    Graph *g = ir_graph_new("conv", "<test>");
    Value *x = input(g, 1, dw ? 24 : 40, 56, 56);
    int64_t wd[4] = {dw ? 24 : 18, dw ? 1 : 40, 3, 3}, pads[4] = {1, 1, 1, 1};
    Value *ins[2] = {x, rand_const(g, "w", 4, wd, -1, 1)};
    Node *n = node(g, OP_CONV, 2, ins);
    assert_int_equal(ir_node_set_attr_ints(g, n, "pads", pads, 4, NULL), ST_OK);
    if (dw) assert_int_equal(ir_node_set_attr_int(g, n, "group", 24, NULL), ST_OK);
    assert_true(finish(g, n));
    const char *v8 = dw ? "onnxc.conv.depthwise.v8." : "onnxc.conv.direct.v8.";
    assert_true(tcg_ir_has(g, "znver4", v8) == !dw);
    assert_false(tcg_ir_has(g, "skylake-avx512", v8));
    ir_graph_free(g);
  }
  /* 1x1 strided (downsampling shortcut) goes through the direct kernel. */
  ConvCase pws = {1, 24, 64, 14, 14, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, 1, true, NULL};
  assert_true(run_conv(&pws, "onnxc.conv.direct"));
  /* 3x3 pad 1 stride 1 and 2, auto_pad variants, asymmetric pads. */
  ConvCase c3 = {1, 16, 64, 14, 17, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, NULL};
  assert_true(run_conv(&c3, "onnxc.conv.direct"));
  ConvCase c3s = {1, 13, 24, 17, 17, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, false, NULL};
  assert_true(run_conv(&c3s, "onnxc.conv.direct"));
  ConvCase su = {1, 8, 16, 14, 7, 3, 5, 2, 1, 1, 1, {0}, 1, true, "SAME_UPPER"};
  assert_true(run_conv(&su, "onnxc.conv.direct"));
  ConvCase sl = {1, 8, 3, 7, 14, 4, 2, 3, 3, 1, 1, {0}, 1, true, "SAME_LOWER"};
  assert_true(run_conv(&sl, "onnxc.conv.direct"));
  ConvCase va = {1, 3, 8, 32, 32, 7, 7, 2, 2, 1, 1, {0}, 1, true, "VALID"};
  assert_true(run_conv(&va, "onnxc.conv.direct"));
  ConvCase as = {1, 8, 24, 14, 14, 3, 3, 1, 1, 2, 2, {2, 0, 1, 3}, 1, true, NULL};
  assert_true(run_conv(&as, "onnxc.conv.direct"));
  /* Depthwise 3x3 on rows too wide for the channel-blocked kernel's stack
   * copy (vectors along rows), multiplier 2 (the same), and stride 2 on a
   * plane that fits (vectors over channels). */
  ConvCase dw = {1, 4, 4, 3, 4200, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 4, true, NULL};
  assert_true(run_conv(&dw, "onnxc.conv.depthwise."));
  ConvCase dwm = {2, 8, 16, 14, 14, 5, 5, 1, 2, 1, 1, {2, 2, 2, 2}, 8, true, NULL};
  assert_true(run_conv(&dwm, "onnxc.conv.depthwise."));
  ConvCase dw2 = {1, 16, 16, 17, 32, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 16, false, NULL};
  assert_true(run_conv(&dw2, "onnxc.conv.depthwise_blocked"));
  /* Channel-blocked depthwise: EfficientNet's 5x5 at 7x7 with a channel
   * tail; dilation with asymmetric pads over a batch; stride 3 without
   * pads (input rows and columns no output reads); ConvNeXt's 7x7 with one
   * channel in the last block; a plane exactly filling the stack copy. */
  ConvCase b7 = {1, 40, 40, 7, 7, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 40, true, NULL};
  assert_true(run_conv(&b7, "onnxc.conv.depthwise_blocked"));
  ConvCase bd = {2, 19, 19, 9, 11, 3, 3, 1, 1, 2, 2, {2, 0, 1, 3}, 19, true, NULL};
  assert_true(run_conv(&bd, "onnxc.conv.depthwise_blocked"));
  ConvCase bs = {1, 8, 8, 10, 13, 4, 2, 3, 3, 1, 1, {0, 0, 0, 0}, 8, true, NULL};
  assert_true(run_conv(&bs, "onnxc.conv.depthwise_blocked"));
  ConvCase bc = {1, 33, 33, 14, 14, 7, 7, 1, 1, 1, 1, {3, 3, 3, 3}, 33, false, NULL};
  assert_true(run_conv(&bc, "onnxc.conv.depthwise_blocked"));
  ConvCase bf = {1, 20, 20, 28, 28, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 20, true, NULL};
  assert_true(run_conv(&bf, "onnxc.conv.depthwise_blocked"));
  /* Larger planes in bands of output rows (each band's input rows, halo
   * included, copied again): EfficientNet's stride-2 3x3 at 112x112,
   * asymmetric pads with a short last band, dilation over a batch, and
   * 62x64 (bands on every vector width). */
  ConvCase g1 = {1, 16, 16, 112, 112, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 16, true, NULL};
  assert_true(run_conv(&g1, "onnxc.conv.depthwise_blocked"));
  ConvCase g2 = {1, 20, 20, 57, 45, 5, 5, 1, 1, 1, 1, {2, 1, 2, 3}, 20, false, NULL};
  assert_true(run_conv(&g2, "onnxc.conv.depthwise_blocked"));
  ConvCase g3 = {2, 8, 8, 70, 33, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, 8, true, NULL};
  assert_true(run_conv(&g3, "onnxc.conv.depthwise_blocked"));
  ConvCase g4 = {1, 24, 24, 62, 64, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 24, true, NULL};
  assert_true(run_conv(&g4, "onnxc.conv.depthwise_blocked"));
  /* A kernel wider than the unroll limit (runtime kw loop). */
  ConvCase wide = {1, 3, 8, 5, 40, 1, 17, 1, 1, 1, 1, {0, 0, 0, 0}, 1, true, NULL};
  assert_true(run_conv(&wide, "onnxc.conv.direct"));
}

typedef struct PoolCase {
  OpKind op;
  int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, pads[4], ceil_mode, cip;
  const char *auto_pad;
} PoolCase;

static bool run_pool(const PoolCase *pc) {
  Graph *g = ir_graph_new("pool", "<test>");
  assert_non_null(g);
  Value *x = input(g, pc->n, pc->c, pc->h, pc->w);
  Node *n = node(g, pc->op, 1, &x);
  int64_t k[2] = {pc->kh, pc->kw}, s[2] = {pc->sh, pc->sw}, d[2] = {pc->dh, pc->dw};
  assert_int_equal(ir_node_set_attr_ints(g, n, "kernel_shape", k, 2, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_ints(g, n, "strides", s, 2, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_ints(g, n, "dilations", d, 2, NULL), ST_OK);
  assert_int_equal(ir_node_set_attr_int(g, n, "ceil_mode", pc->ceil_mode, NULL), ST_OK);
  if (pc->op == OP_AVERAGE_POOL)
    assert_int_equal(ir_node_set_attr_int(g, n, "count_include_pad", pc->cip, NULL), ST_OK);
  if (pc->auto_pad)
    assert_int_equal(ir_node_set_attr_string(g, n, "auto_pad", pc->auto_pad, NULL), ST_OK);
  else
    assert_int_equal(ir_node_set_attr_ints(g, n, "pads", pc->pads, 4, NULL), ST_OK);
  if (!finish(g, n)) return false;
  char what[200];
  snprintf(what, sizeof what, "%s %lldx%lldx%lld k%lldx%lld s%lld,%lld d%lld,%lld p%lld,%lld,%lld,%lld "
           "ceil%lld cip%lld %s", pc->op == OP_MAX_POOL ? "MaxPool" : "AveragePool",
           (long long)pc->c, (long long)pc->h, (long long)pc->w, (long long)pc->kh,
           (long long)pc->kw, (long long)pc->sh, (long long)pc->sw, (long long)pc->dh,
           (long long)pc->dw, (long long)pc->pads[0], (long long)pc->pads[1],
           (long long)pc->pads[2], (long long)pc->pads[3], (long long)pc->ceil_mode,
           (long long)pc->cip, pc->auto_pad ? pc->auto_pad : "");
  check(g, "onnxc.pool", 1e-6, what);
  ir_graph_free(g);
  return true;
}

static void test_pool_random(void **state) {
  (void)state;
  static const int64_t ks[] = {1, 2, 3, 5};
  static const char *const aps[] = {NULL, NULL, NULL, "SAME_UPPER", "SAME_LOWER", "VALID"};
  int done = 0;
  for (int tries = 0; done < 16 && tries < 400; tries++) {
    PoolCase pc;
    memset(&pc, 0, sizeof pc);
    pc.op = done % 2 ? OP_AVERAGE_POOL : OP_MAX_POOL;
    pc.n = 1 + rnd(2);
    pc.c = pick(chans, 5);
    pc.h = pick(sizes, 6);
    pc.w = pick(sizes, 6);
    pc.kh = pick(ks, 4);
    pc.kw = pick(ks, 4);
    pc.sh = 1 + rnd(3);
    pc.sw = 1 + rnd(3);
    pc.dh = rnd(4) == 0 ? 2 : 1;
    pc.dw = rnd(4) == 0 ? 2 : 1;
    for (int i = 0; i < 4; i++) pc.pads[i] = rnd((unsigned)(i % 2 ? pc.kw : pc.kh));
    pc.ceil_mode = rnd(2);
    pc.cip = rnd(2);
    pc.auto_pad = aps[rnd(6)];
    if (pc.auto_pad && pc.ceil_mode) pc.ceil_mode = 0;
    if (run_pool(&pc)) done++;
  }
  assert_int_equal(done, 16);
}

static void test_pool_fixed(void **state) {
  (void)state;
  /* ResNet stem max pool 3x3/2 pad 1; 2x2/2 pools; ceil_mode with
   * count_include_pad; a 7x7 average pool covering the whole input. */
  PoolCase mp = {OP_MAX_POOL, 1, 16, 32, 32, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 0, 0, NULL};
  assert_true(run_pool(&mp));
  PoolCase m2 = {OP_MAX_POOL, 1, 8, 17, 14, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 1, 0, NULL};
  assert_true(run_pool(&m2));
  PoolCase a2 = {OP_AVERAGE_POOL, 1, 8, 17, 17, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL};
  assert_true(run_pool(&a2));
  PoolCase a3 = {OP_AVERAGE_POOL, 2, 3, 32, 32, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 0, 0, NULL};
  assert_true(run_pool(&a3));
  PoolCase a7 = {OP_AVERAGE_POOL, 1, 13, 7, 7, 7, 7, 1, 1, 1, 1, {0, 0, 0, 0}, 0, 0, NULL};
  assert_true(run_pool(&a7));
}

static void run_global(OpKind op, int64_t n, int64_t c, int64_t h, int64_t w) {
  Graph *g = ir_graph_new("gpool", "<test>");
  assert_non_null(g);
  Value *x = input(g, n, c, h, w);
  Node *nd = node(g, op, 1, &x);
  assert_true(finish(g, nd));
  char what[96];
  snprintf(what, sizeof what, "%s %lldx%lldx%lldx%lld",
           op == OP_GLOBAL_MAX_POOL ? "GlobalMaxPool" : "GlobalAveragePool", (long long)n,
           (long long)c, (long long)h, (long long)w);
  check(g, op == OP_GLOBAL_MAX_POOL ? "onnxc.gmaxpool" : "onnxc.gavgpool", 1e-6, what);
  ir_graph_free(g);
}

static void test_global_pool(void **state) {
  (void)state;
  for (int i = 0; i < 8; i++)
    run_global(i % 2 ? OP_GLOBAL_MAX_POOL : OP_GLOBAL_AVERAGE_POOL, 1 + rnd(2), pick(chans, 7),
               pick(sizes, 6), pick(sizes, 6));
  run_global(OP_GLOBAL_AVERAGE_POOL, 1, 64, 56, 56);
}

static void run_bn(int rank, const int64_t *dims, float eps) {
  Graph *g = ir_graph_new("bn", "<test>");
  assert_non_null(g);
  Value *x = ir_value_new(g, "x");
  assert_int_equal(ir_value_set_type(x, DT_FLOAT32, rank, dims, NULL), ST_OK);
  assert_int_equal(ir_graph_add_input(g, x, NULL), ST_OK);
  Value *ins[5] = {x, rand_const(g, "s", 1, &dims[1], -2, 2), rand_const(g, "b", 1, &dims[1], -1, 1),
                   rand_const(g, "m", 1, &dims[1], -0.5f, 0.5f),
                   rand_const(g, "v", 1, &dims[1], 0.1f, 3)};
  Node *n = node(g, OP_BATCH_NORMALIZATION, 5, ins);
  assert_int_equal(ir_node_set_attr_float(g, n, "epsilon", eps, NULL), ST_OK);
  assert_true(finish(g, n));
  check(g, "onnxc.batchnorm", 1e-5, "BatchNormalization");
  ir_graph_free(g);
}

static void test_batchnorm(void **state) {
  (void)state;
  int64_t d4[4] = {2, 13, 7, 17}, d4b[4] = {1, 64, 14, 14}, d3[3] = {1, 24, 33}, d2[2] = {5, 3};
  run_bn(4, d4, 1e-5f);
  run_bn(4, d4b, 1e-3f);
  run_bn(3, d3, 1e-5f);
  run_bn(2, d2, 1e-5f);
}

/* Non-float32 input falls back to the reference kernel, still correct. */
static void test_fallback(void **state) {
  (void)state;
  Graph *g = ir_graph_new("conv", "<test>");
  assert_non_null(g);
  Value *x = ir_value_new(g, "x");
  int64_t d[3] = {1, 3, 9};
  assert_int_equal(ir_value_set_type(x, DT_FLOAT32, 3, d, NULL), ST_OK);
  assert_int_equal(ir_graph_add_input(g, x, NULL), ST_OK);
  int64_t wd[3] = {4, 3, 3};
  Value *ins[2] = {x, rand_const(g, "w", 3, wd, -1, 1)};
  Node *n = node(g, OP_CONV, 2, ins);
  assert_true(finish(g, n));
  assert_false(tcg_ir_has(g, NULL, "onnxc.conv."));
  void **in = NULL;
  Error err = {0};
  assert_int_equal(cgh_random_inputs(g, 7, &in, &err), ST_OK);
  CgCompare cmp;
  assert_int_equal(cgh_differential(g, 2, (const void *const *)in, 1e-5, 1e-6, &cmp, &err), ST_OK);
  assert_true(cmp.ok);
  cgh_free_buffers(in, g->num_inputs);
  ir_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_fixed),  cmocka_unit_test(test_conv_random),
      cmocka_unit_test(test_pool_fixed),  cmocka_unit_test(test_pool_random),
      cmocka_unit_test(test_global_pool), cmocka_unit_test(test_batchnorm),
      cmocka_unit_test(test_fallback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
