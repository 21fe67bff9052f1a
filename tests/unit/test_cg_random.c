/*
 * Randomized differential tests of the whole backend: for every seed of a
 * fixed list, a small graph is generated (MatMul, Gemm, Conv, Softmax,
 * LayerNormalization, an Add->Relu->Mul->Sigmoid chain, and a Conv->Relu->
 * MatMul->Softmax mix) with random shapes that are mostly NOT multiples of
 * the vector width, compiled by cg_compile, run (tests/support/cg_harness)
 * and compared with the reference evaluator on random inputs.  A failure
 * prints the seed and the generated shapes, so it reproduces by itself:
 * the seed alone determines the graph, its constants and its inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "tests/support/cg_harness.h"

/* Seeds are fixed: every run builds the same graphs. */
static const unsigned seeds[] = {1, 2, 3, 5, 8, 13, 21, 34};
#define NUM_SEEDS (sizeof seeds / sizeof *seeds)

typedef struct Gen {
  uint64_t s;
  char desc[512]; /* the generated graph, for failure messages */
  size_t len;
  int64_t max_k;  /* longest reduction, for the absolute tolerance */
  bool exact;     /* copies only: every output bit must match */
} Gen;

static uint32_t rnd(Gen *r) {
  r->s ^= r->s << 13, r->s ^= r->s >> 7, r->s ^= r->s << 17;
  return (uint32_t)(r->s >> 11);
}

static int64_t range(Gen *r, int64_t lo, int64_t hi) { return lo + (int64_t)(rnd(r) % (uint32_t)(hi - lo + 1)); }

/* Sizes around vector widths 4, 8 and 16 (and 1), biased to odd ones. */
static int64_t odd_size(Gen *r, int64_t max) {
  static const int64_t pool[] = {1, 2, 3, 5, 7, 9, 13, 15, 17, 23, 31, 33, 47, 63, 65};
  int64_t v;
  do v = pool[rnd(r) % (sizeof pool / sizeof *pool)];
  while (v > max);
  return v;
}

static void note(Gen *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(Gen *r, const char *fmt, ...) {
  if (r->len >= sizeof r->desc) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(r->desc + r->len, sizeof r->desc - r->len, fmt, ap);
  va_end(ap);
  if (k > 0) r->len += (size_t)k;
}

static void note_dims(Gen *r, const char *what, int rank, const int64_t *d) {
  note(r, "%s[", what);
  for (int i = 0; i < rank; i++) note(r, "%s%lld", i ? "," : "", (long long)d[i]);
  note(r, "] ");
}

static Graph *new_graph(void) {
  Graph *g = ir_graph_new("random", "test_cg_random");
  assert_non_null(g);
  g->opset = 17;
  return g;
}

static Value *input(Graph *g, Gen *r, int rank, const int64_t *dims) {
  Error err;
  Value *v = ir_value_new(g, "x");
  assert_non_null(v);
  assert_int_equal(ir_value_set_type(v, DT_FLOAT32, rank, dims, &err), ST_OK);
  assert_int_equal(ir_graph_add_input(g, v, &err), ST_OK);
  note_dims(r, "in", rank, dims);
  return v;
}

static Value *constant(Graph *g, Gen *r, int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
  assert_non_null(d);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(rnd(r) % 20001) / 10000.0f - 1.0f;
  Value *v = ir_const_new(g, "w", DT_FLOAT32, rank, dims, d);
  free(d);
  assert_non_null(v);
  note_dims(r, "const", rank, dims);
  return v;
}

/* Appends op over ins (NULL entries stay omitted) and infers its output. */
static Node *node(Graph *g, OpKind op, int num_in, Value *const *ins) {
  Node *n = ir_node_new(g, op, op_info[op].name, num_in, 1);
  assert_non_null(n);
  n->opset = g->opset;
  for (int i = 0; i < num_in; i++) n->inputs[i] = ins[i];
  Value *y = ir_value_new(g, "y");
  assert_non_null(y);
  ir_node_set_output(n, 0, y);
  return n;
}

static Value *infer(Graph *g, Node *n) {
  Error err;
  Status st = ops_infer_node(g, n, &err);
  if (st != ST_OK) fail_msg("shape inference: %s", err.msg);
  return n->outputs[0];
}

static void set_int(Graph *g, Node *n, const char *name, int64_t v) {
  Error err;
  assert_int_equal(ir_node_set_attr_int(g, n, name, v, &err), ST_OK);
}

static void set_ints(Graph *g, Node *n, const char *name, const int64_t *v, int count) {
  Error err;
  assert_int_equal(ir_node_set_attr_ints(g, n, name, v, count, &err), ST_OK);
}

static void finish(Graph *g, Value *y) {
  Error err;
  assert_int_equal(ir_graph_add_output(g, y, &err), ST_OK);
}

/* Compiles g at -O2, runs it on inputs from the seed, compares. */
static void check(Graph *g, Gen *r, unsigned seed, const char *kind) {
  Error err = {0};
  void **ins = NULL;
  assert_int_equal(cgh_random_inputs(g, seed, &ins, &err), ST_OK);
  CgCompare cmp;
  double atol = r->exact ? 0 : 1e-5 + 1e-6 * (double)r->max_k;
  Status st = cgh_differential(g, 2, (const void *const *)ins, r->exact ? 0 : 1e-4, atol, &cmp, &err);
  cgh_free_buffers(ins, g->num_inputs);
  if (st != ST_OK) fail_msg("%s seed %u: %s: %s", kind, seed, r->desc, err.msg);
  if (!cmp.ok)
    fail_msg("%s seed %u: %s: output %d max_abs %g max_rel %g (atol %g)", kind, seed, r->desc,
             cmp.worst_output, cmp.max_abs, cmp.max_rel, atol);
  print_message("  %-10s seed %-3u ok  max_abs %-9.3g %s\n", kind, seed, cmp.max_abs, r->desc);
  ir_graph_free(g);
}

static Gen gen_for(unsigned seed, unsigned kind) {
  Gen r = {.s = (uint64_t)seed * 0x9E3779B97F4A7C15ull + kind * 0x51ED27ull + 1};
  for (int i = 0; i < 4; i++) rnd(&r);
  return r;
}

/* [B..]MxK x KxN, B a runtime input or a constant, sometimes batched. */
static void build_matmul(Graph *g, Gen *r) {
  int64_t m = odd_size(r, 65), k = odd_size(r, 65), n = odd_size(r, 65);
  bool batched = rnd(r) % 2, b_const = rnd(r) % 2;
  int64_t da[3] = {range(r, 1, 3), m, k}, db[2] = {k, n};
  Value *a = batched ? input(g, r, 3, da) : input(g, r, 2, da + 1);
  Value *b = b_const ? constant(g, r, 2, db) : input(g, r, 2, db);
  r->max_k = k;
  Value *ins[] = {a, b};
  finish(g, infer(g, node(g, OP_MATMUL, 2, ins)));
}

/* Gemm with random transA/transB/alpha/beta and a C of shape [N], [M,N] or [1,N]. */
static void build_gemm(Graph *g, Gen *r) {
  int64_t m = odd_size(r, 65), k = odd_size(r, 65), n = odd_size(r, 65);
  int64_t ta = rnd(r) % 2, tb = rnd(r) % 2;
  int64_t da[2] = {ta ? k : m, ta ? m : k}, db[2] = {tb ? n : k, tb ? k : n};
  Value *a = input(g, r, 2, da), *b = constant(g, r, 2, db), *c = NULL;
  int cshape = (int)(rnd(r) % 4);
  int64_t dc[2] = {cshape == 2 ? m : 1, n};
  if (cshape == 1) c = constant(g, r, 1, dc + 1);
  else if (cshape >= 2) c = constant(g, r, 2, dc);
  Value *ins[] = {a, b, c};
  Node *nd = node(g, OP_GEMM, c ? 3 : 2, ins);
  set_int(g, nd, "transA", ta);
  set_int(g, nd, "transB", tb);
  float alpha = (float)range(r, 1, 4) * 0.5f, beta = (float)range(r, 0, 4) * 0.5f;
  Error err;
  assert_int_equal(ir_node_set_attr_float(g, nd, "alpha", alpha, &err), ST_OK);
  assert_int_equal(ir_node_set_attr_float(g, nd, "beta", beta, &err), ST_OK);
  note(r, "transA=%lld transB=%lld alpha=%g beta=%g ", (long long)ta, (long long)tb, alpha, beta);
  r->max_k = k * 2;
  finish(g, infer(g, nd));
}

/* 2-D Conv: random channels, groups, kernel, stride, dilation, pads, bias. */
static Value *add_conv(Graph *g, Gen *r, Value *x, int64_t c) {
  int64_t group = (c % 2 == 0 && rnd(r) % 3 == 0) ? 2 : 1;
  if (rnd(r) % 4 == 0) group = c; /* depthwise */
  int64_t m = group * range(r, 1, 5);
  int64_t kh = range(r, 1, 5), kw = range(r, 1, 5);
  int64_t strides[2] = {range(r, 1, 2), range(r, 1, 2)};
  int64_t dil[2] = {range(r, 1, 2), 1};
  int64_t pads[4] = {range(r, 0, 2), range(r, 0, 2), range(r, 0, 2), range(r, 0, 2)};
  if (pads[0] >= kh) pads[0] = kh - 1;
  if (pads[2] >= kh) pads[2] = kh - 1;
  if (pads[1] >= kw) pads[1] = kw - 1;
  if (pads[3] >= kw) pads[3] = kw - 1;
  int64_t dw[4] = {m, c / group, kh, kw};
  Value *w = constant(g, r, 4, dw);
  Value *b = rnd(r) % 2 ? constant(g, r, 1, dw) : NULL;
  Value *ins[] = {x, w, b};
  Node *n = node(g, OP_CONV, b ? 3 : 2, ins);
  int64_t ks[2] = {kh, kw};
  set_ints(g, n, "kernel_shape", ks, 2);
  set_ints(g, n, "strides", strides, 2);
  set_ints(g, n, "dilations", dil, 2);
  set_ints(g, n, "pads", pads, 4);
  set_int(g, n, "group", group);
  note(r, "group=%lld strides=%lld,%lld dil=%lld pads=%lld,%lld,%lld,%lld ", (long long)group,
       (long long)strides[0], (long long)strides[1], (long long)dil[0], (long long)pads[0],
       (long long)pads[1], (long long)pads[2], (long long)pads[3]);
  r->max_k += (c / group) * kh * kw;
  return infer(g, n);
}

static void build_conv(Graph *g, Gen *r) {
  int64_t dx[4] = {range(r, 1, 2), odd_size(r, 17), range(r, 11, 23), range(r, 9, 21)};
  Value *x = input(g, r, 4, dx);
  finish(g, add_conv(g, r, x, dx[1]));
}

static void build_softmax(Graph *g, Gen *r) {
  int rank = (int)range(r, 1, 4);
  int64_t d[4];
  for (int i = 0; i < rank; i++) d[i] = odd_size(r, i == rank - 1 ? 65 : 9);
  Value *x = input(g, r, rank, d);
  Value *ins[] = {x};
  Node *n = node(g, OP_SOFTMAX, 1, ins);
  int64_t axis = range(r, -rank, rank - 1);
  set_int(g, n, "axis", axis);
  note(r, "axis=%lld ", (long long)axis);
  finish(g, infer(g, n));
}

static void build_layernorm(Graph *g, Gen *r) {
  int rank = (int)range(r, 2, 4);
  int64_t d[4];
  for (int i = 0; i < rank; i++) d[i] = odd_size(r, i == rank - 1 ? 65 : 9);
  Value *x = input(g, r, rank, d);
  int64_t axis = rnd(r) % 3 == 0 ? rank - 2 : -1;
  int64_t first = axis < 0 ? rank + axis : axis;
  Value *scale = constant(g, r, rank - (int)first, d + first);
  Value *bias = rnd(r) % 2 ? constant(g, r, rank - (int)first, d + first) : NULL;
  Value *ins[] = {x, scale, bias};
  Node *n = node(g, OP_LAYER_NORMALIZATION, bias ? 3 : 2, ins);
  set_int(g, n, "axis", axis);
  Error err;
  assert_int_equal(ir_node_set_attr_float(g, n, "epsilon", 1e-5f, &err), ST_OK);
  note(r, "axis=%lld ", (long long)axis);
  r->max_k = 64;
  finish(g, infer(g, n));
}

/* Add -> Relu -> Mul -> Sigmoid with broadcasting operands of random shapes. */
static void build_chain(Graph *g, Gen *r) {
  int rank = (int)range(r, 1, 4);
  int64_t d[4], db[4];
  for (int i = 0; i < rank; i++) {
    d[i] = odd_size(r, i == rank - 1 ? 65 : 9);
    db[i] = rnd(r) % 3 == 0 ? 1 : d[i]; /* broadcast some dims */
  }
  Value *x = input(g, r, rank, d);
  Value *b = rnd(r) % 2 ? constant(g, r, rank, db) : input(g, r, rank, db);
  Value *ins[] = {x, b};
  Value *t = infer(g, node(g, OP_ADD, 2, ins));
  Value *relu_in[] = {t};
  t = infer(g, node(g, OP_RELU, 1, relu_in));
  int last = rank - 1;
  Value *s = constant(g, r, 1, d + last); /* trailing-dim broadcast */
  Value *mul_in[] = {t, s};
  t = infer(g, node(g, OP_MUL, 2, mul_in));
  Value *sig_in[] = {t};
  finish(g, infer(g, node(g, OP_SIGMOID, 1, sig_in)));
}

/* Conv -> Relu -> Reshape-free MatMul over the last axis -> Softmax. */
static void build_mix(Graph *g, Gen *r) {
  int64_t dx[4] = {1, odd_size(r, 9), range(r, 7, 15), range(r, 7, 15)};
  Value *x = input(g, r, 4, dx);
  Value *t = add_conv(g, r, x, dx[1]);
  Value *relu_in[] = {t};
  t = infer(g, node(g, OP_RELU, 1, relu_in));
  int64_t dw[2] = {t->dims[3], odd_size(r, 33)};
  Value *w = constant(g, r, 2, dw);
  Value *mm_in[] = {t, w};
  t = infer(g, node(g, OP_MATMUL, 2, mm_in));
  r->max_k *= dw[0];
  Value *sm_in[] = {t};
  Node *n = node(g, OP_SOFTMAX, 1, sm_in);
  set_int(g, n, "axis", -1);
  finish(g, infer(g, n));
}

static Value *int_const(Graph *g, int rank, const int64_t *dims, const int64_t *data) {
  Value *v = ir_const_new(g, "i", DT_INT64, rank, dims, data);
  assert_non_null(v);
  return v;
}

static void set_string(Graph *g, Node *n, const char *name, const char *v) {
  Error err;
  assert_int_equal(ir_node_set_attr_string(g, n, name, v, &err), ST_OK);
}

/* A chain of movement ops lowered as index maps (codegen/vec/lower_remap.c):
 * Transpose with a random permutation, Slice with random (also negative)
 * starts, ends and steps, Pad in a random mode with pads that may crop,
 * Gather with constant (negative, multi-dimensional) indices and nearest
 * Resize; each present or not. */
static void build_movement(Graph *g, Gen *r) {
  r->exact = true;
  int rank = (int)range(r, 1, 5);
  int64_t d[5];
  for (int i = 0; i < rank; i++) d[i] = range(r, 1, i == rank - 1 ? 19 : 7);
  Value *t = input(g, r, rank, d);
  if (rank > 1 && rnd(r) % 4) {
    int64_t perm[5];
    for (int i = 0; i < rank; i++) perm[i] = i;
    for (int i = rank - 1; i > 0; i--) {
      int j = (int)(rnd(r) % (uint32_t)(i + 1));
      int64_t x = perm[i];
      perm[i] = perm[j];
      perm[j] = x;
    }
    Value *ins[] = {t};
    Node *n = node(g, OP_TRANSPOSE, 1, ins);
    set_ints(g, n, "perm", perm, rank);
    note_dims(r, "perm", rank, perm);
    t = infer(g, n);
  }
  if (rnd(r) % 3) {
    int a = (int)(rnd(r) % (uint32_t)t->rank);
    int64_t len = t->dims[a], step = rnd(r) % 3 ? range(r, 1, 3) : -range(r, 1, 3);
    /* Never empty: the end lies past the start in the step's direction
     * (-len-1 stands for "before element 0"); starts also negative. */
    int64_t s0 = range(r, 0, len - 1), e0 = step > 0 ? range(r, s0 + 1, len + 2) : range(r, -1, s0 - 1);
    int64_t st = rnd(r) % 2 ? s0 - len : s0, en = step < 0 && e0 == -1 ? -len - 1 : e0;
    int64_t one = 1, sv[] = {st}, ev[] = {en}, av[] = {a}, pv[] = {step};
    Value *ins[] = {t, int_const(g, 1, &one, sv), int_const(g, 1, &one, ev), int_const(g, 1, &one, av),
                    int_const(g, 1, &one, pv)};
    note(r, "slice axis %d %lld:%lld:%lld ", a, (long long)st, (long long)en, (long long)step);
    t = infer(g, node(g, OP_SLICE, 5, ins));
  }
  if (rnd(r) % 3) {
    static const char *const modes[] = {"constant", "reflect", "edge"};
    const char *mode = modes[rnd(r) % 3];
    int64_t pads[2 * IR_MAX_RANK], np = 2 * t->rank;
    for (int i = 0; i < t->rank; i++) {
      int64_t len = t->dims[i], lim = strcmp(mode, "reflect") == 0 ? len - 1 : 3;
      pads[i] = lim > 0 ? range(r, 0, lim < 3 ? lim : 3) : 0;
      pads[i + t->rank] = lim > 0 ? range(r, 0, lim < 3 ? lim : 3) : 0;
      if (strcmp(mode, "constant") == 0 && len > 2 && rnd(r) % 4 == 0) pads[i] = -1; /* crop */
    }
    float cv = 0.25f;
    int64_t none = 0;
    Value *ins[] = {t, int_const(g, 1, &np, pads), ir_const_new(g, "cv", DT_FLOAT32, 0, &none, &cv)};
    Node *n = node(g, OP_PAD, 3, ins);
    set_string(g, n, "mode", mode);
    note(r, "pad %s ", mode);
    note_dims(r, "pads", (int)np, pads);
    t = infer(g, n);
  }
  if (rnd(r) % 3) {
    int a = (int)(rnd(r) % (uint32_t)t->rank);
    int64_t len = t->dims[a], idims[2] = {range(r, 1, 3), range(r, 1, 4)}, idx[12];
    int irank = (int)(rnd(r) % 3);
    if (t->rank == 1 && irank == 0) irank = 1; /* keep a tensor to resize */
    int64_t cnt = irank == 0 ? 1 : irank == 1 ? idims[1] : idims[0] * idims[1];
    for (int64_t i = 0; i < cnt; i++) idx[i] = range(r, -len, len - 1);
    Value *ins[] = {t, int_const(g, irank, irank == 1 ? idims + 1 : idims, idx)};
    Node *n = node(g, OP_GATHER, 2, ins);
    set_int(g, n, "axis", a);
    note(r, "gather axis %d rank %d ", a, irank);
    t = infer(g, n);
  }
  if (rnd(r) % 3 == 0) {
    /* Split into 2 or 3 parts of random sizes; the first goes on, the
     * others are graph outputs of their own. */
    int a = (int)(rnd(r) % (uint32_t)t->rank), k = (int)range(r, 2, 3);
    int64_t len = t->dims[a];
    if (len >= k) {
      int64_t sizes[3], left = len, nk = k;
      for (int i = 0; i < k - 1; i++) {
        sizes[i] = range(r, 1, left - (k - 1 - i));
        left -= sizes[i];
      }
      sizes[k - 1] = left;
      Node *n = ir_node_new(g, OP_SPLIT, "Split", 2, k);
      assert_non_null(n);
      n->opset = g->opset;
      n->inputs[0] = t;
      n->inputs[1] = int_const(g, 1, &nk, sizes);
      for (int i = 0; i < k; i++) {
        Value *y = ir_value_new(g, "s");
        assert_non_null(y);
        ir_node_set_output(n, i, y);
      }
      set_int(g, n, "axis", a);
      Error err;
      if (ops_infer_node(g, n, &err) != ST_OK) fail_msg("shape inference: %s", err.msg);
      note(r, "split axis %d ", a);
      note_dims(r, "sizes", k, sizes);
      for (int i = 1; i < k; i++) finish(g, n->outputs[i]);
      t = n->outputs[0];
    }
  }
  if (t->rank >= 1 && rnd(r) % 2) {
    static const char *const coords[] = {"asymmetric", "half_pixel", "align_corners",
                                         "pytorch_half_pixel"};
    static const char *const nearest[] = {"floor", "round_prefer_floor", "round_prefer_ceil", "ceil"};
    static const float factors[] = {2.0f, 0.5f, 1.5f, 3.0f, 0.75f};
    float sc[IR_MAX_RANK];
    for (int i = 0; i < t->rank; i++) {
      sc[i] = i < t->rank - 2 ? 1.0f : factors[rnd(r) % 5];
      if ((float)t->dims[i] * sc[i] < 1.0f) sc[i] = 2.0f; /* never an empty axis */
    }
    int64_t nr = t->rank, none = 0;
    Value *ins[] = {t, ir_const_new(g, "roi", DT_FLOAT32, 1, &none, NULL),
                    ir_const_new(g, "scales", DT_FLOAT32, 1, &nr, sc)};
    Node *n = node(g, OP_RESIZE, 3, ins);
    const char *cm = coords[rnd(r) % 4], *nm = nearest[rnd(r) % 4];
    set_string(g, n, "mode", "nearest");
    set_string(g, n, "coordinate_transformation_mode", cm);
    set_string(g, n, "nearest_mode", nm);
    note(r, "resize %s %s ", cm, nm);
    t = infer(g, n);
  }
  /* A compute op last, so the graph is never an empty copy chain. */
  Value *relu_in[] = {t};
  finish(g, infer(g, node(g, OP_RELU, 1, relu_in)));
}

typedef void (*Builder)(Graph *, Gen *);

static void run_kind(const char *kind, unsigned id, Builder build) {
  for (size_t i = 0; i < NUM_SEEDS; i++) {
    Gen r = gen_for(seeds[i], id);
    Graph *g = new_graph();
    build(g, &r);
    check(g, &r, seeds[i], kind);
  }
}

static void test_matmul(void **state) { (void)state; run_kind("MatMul", 1, build_matmul); }
static void test_gemm(void **state) { (void)state; run_kind("Gemm", 2, build_gemm); }
static void test_conv(void **state) { (void)state; run_kind("Conv", 3, build_conv); }
static void test_softmax(void **state) { (void)state; run_kind("Softmax", 4, build_softmax); }
static void test_layernorm(void **state) { (void)state; run_kind("LayerNorm", 5, build_layernorm); }
static void test_chain(void **state) { (void)state; run_kind("Chain", 6, build_chain); }
static void test_mix(void **state) { (void)state; run_kind("Mix", 7, build_mix); }
static void test_movement(void **state) { (void)state; run_kind("Movement", 8, build_movement); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matmul),  cmocka_unit_test(test_gemm),
      cmocka_unit_test(test_conv),    cmocka_unit_test(test_softmax),
      cmocka_unit_test(test_layernorm), cmocka_unit_test(test_chain),
      cmocka_unit_test(test_mix),     cmocka_unit_test(test_movement),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
