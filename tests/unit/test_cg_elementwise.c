/*
 * Differential tests of codegen/vec/lower_elementwise.c: graphs of float32
 * elementwise, normalization, reduction and Transpose nodes on random
 * shapes built from odd sizes (1, 3, 7, 15, 17, 197, 768, 1001) are
 * compiled through the real backend and compared with the reference
 * evaluator (cgh_differential).  Every node is also checked to take the
 * specialized lowering (vu_lowered), and shapes/patterns outside the
 * lowering's scope to fall back, still giving the right answer.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_cg_vec_util.h"
#include "tests/support/cg_harness.h"

static const int64_t sizes[] = {1, 3, 7, 15, 17, 197, 768, 1001};
static uint64_t rng = 0x243F6A8885A308D3ull;

static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}
static int64_t pick_size(void) { return sizes[next() % (sizeof sizes / sizeof *sizes)]; }
static double uniform(double lo, double hi) {
  return lo + (hi - lo) * (double)(next() >> 11) / 9007199254740992.0;
}

/* A random shape of the given rank with at most ~max_numel elements. */
static void random_shape(int rank, int64_t max_numel, int64_t *dims) {
  for (;;) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
      n *= dims[i] = pick_size();
    if (n <= max_numel) return;
  }
}

/* Inputs uniform in [-scale, scale] (bools: coin flips). */
static void **make_inputs(const Graph *g, double scale) {
  void **ins = calloc((size_t)g->num_inputs + 1, sizeof *ins);
  assert_non_null(ins);
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    int64_t n = ir_value_numel(v);
    ins[i] = malloc(ir_value_nbytes(v) + 1);
    assert_non_null(ins[i]);
    for (int64_t k = 0; k < n; k++) {
      if (v->dtype == DT_BOOL)
        ((uint8_t *)ins[i])[k] = next() & 1;
      else
        ((float *)ins[i])[k] = (float)uniform(-scale, scale);
    }
  }
  return ins;
}

/* Runs the differential check on g with ins, then frees both. */
static void check_inputs(Graph *g, void **ins, double rtol, double atol, const char *what) {
  int nin = g->num_inputs;
  CgCompare cmp;
  Error err;
  Status st = cgh_differential(g, 3, (const void *const *)ins, rtol, atol, &cmp, &err);
  cgh_free_buffers(ins, nin);
  if (st != ST_OK) fail_msg("%s: %s", what, err.msg);
  if (!cmp.ok)
    fail_msg("%s: output %d differs: max abs %.3g, max rel %.3g", what, cmp.worst_output,
             cmp.max_abs, cmp.max_rel);
  ir_graph_free(g);
}

static void check_graph(Graph *g, double scale, double rtol, double atol, const char *what) {
  check_inputs(g, make_inputs(g, scale), rtol, atol, what);
}

static Node *add_node(Graph *g, OpKind op, Value *const ins[], int nin) {
  Node *n = vu_node(g, op, ins, nin);
  assert_non_null(n);
  return n;
}

static void finish(Graph *g, Node *n, bool expect_lowered) {
  Error err;
  Status st = vu_finish(g, n, &err);
  if (st != ST_OK) fail_msg("%s: %s", op_name(n->op), err.msg);
  if (vu_lowered(g, n) != expect_lowered)
    fail_msg("%s: lowering %s", op_name(n->op),
             expect_lowered ? "not taken" : "taken unexpectedly");
}

static Value *scalar_const(Graph *g, float v, int rank) {
  int64_t one = 1;
  Value *c = ir_const_new(g, "", DT_FLOAT32, rank, &one, &v);
  assert_non_null(c);
  return c;
}

/* ---- unary ops ----------------------------------------------------------- */

static void test_unary(void **state) {
  (void)state;
  static const OpKind ops[] = {
      OP_ABS, OP_NEG,  OP_RELU,       OP_LEAKY_RELU,   OP_SIGMOID,    OP_TANH, OP_ERF, OP_EXP,
      OP_LOG, OP_SQRT, OP_RECIPROCAL, OP_HARD_SIGMOID, OP_HARD_SWISH, OP_GELU, OP_GELU};
  for (int round = 0; round < 3; round++) {
    Graph *g = ir_graph_new("unary", "<test>");
    int rank = 1 + (int)(next() % 4);
    int64_t dims[4];
    random_shape(rank, 200000, dims);
    Value *x = vu_input(g, DT_FLOAT32, rank, dims);
    Error err;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
      Node *n = add_node(g, ops[i], &x, 1);
      if (ops[i] == OP_LEAKY_RELU) ir_node_set_attr_float(g, n, "alpha", 0.13f, &err);
      if (ops[i] == OP_HARD_SIGMOID) {
        ir_node_set_attr_float(g, n, "alpha", 0.3f, &err);
        ir_node_set_attr_float(g, n, "beta", 0.45f, &err);
      }
      if (ops[i] == OP_GELU && i + 1 == sizeof ops / sizeof *ops)
        ir_node_set_attr_string(g, n, "approximate", "tanh", &err);
      finish(g, n, true);
    }
    /* Transcendentals within a few ulp; inputs wide enough to reach the
     * polynomial branch points and the saturating tails. */
    check_graph(g, round == 2 ? 12.0 : 4.0, 2e-6, 1e-7, "unary ops");
  }
}

static void test_clip_pow(void **state) {
  (void)state;
  Graph *g = ir_graph_new("clip", "<test>");
  int64_t dims[3];
  random_shape(3, 100000, dims);
  Value *x = vu_input(g, DT_FLOAT32, 3, dims);
  Value *both[3] = {x, scalar_const(g, -0.4f, 0), scalar_const(g, 0.7f, 0)};
  finish(g, add_node(g, OP_CLIP, both, 3), true);
  Value *lo_only[3] = {x, scalar_const(g, 0.1f, 1), NULL};
  finish(g, add_node(g, OP_CLIP, lo_only, 3), true);
  Value *hi_only[3] = {x, NULL, scalar_const(g, -0.2f, 0)};
  finish(g, add_node(g, OP_CLIP, hi_only, 3), true);
  Value *inverted[3] = {x, scalar_const(g, 0.5f, 0), scalar_const(g, -0.5f, 0)};
  finish(g, add_node(g, OP_CLIP, inverted, 3), true);
  Value *sq[2] = {x, scalar_const(g, 2.0f, 0)};
  finish(g, add_node(g, OP_POW, sq, 2), true);
  Value *rt[2] = {x, scalar_const(g, 0.5f, 1)};
  finish(g, add_node(g, OP_POW, rt, 2), true);
  Value *cube[2] = {x, scalar_const(g, 3.0f, 0)}; /* not specialized */
  finish(g, add_node(g, OP_POW, cube, 2), false);
  check_graph(g, 2.0, 1e-6, 1e-7, "Clip/Pow");
}

/* Infinities, NaN, signed zeros and huge values must come out as the
 * reference kernels give them (NaN where they give NaN). */
static void test_special_values(void **state) {
  (void)state;
  static const float sp[] = {INFINITY, -INFINITY, NAN,     0.0f, -0.0f, 3e38f, -3e38f, 1e-40f,
                             -1e-40f,  100.0f,    -100.0f, 0.5f, -0.5f, 20.0f, -20.0f, 1.0f};
  const int64_t ns = (int64_t)(sizeof sp / sizeof *sp);
  Graph *g = ir_graph_new("specials", "<test>");
  int64_t dims[2] = {ns, ns};
  Value *x = vu_input(g, DT_FLOAT32, 2, dims);
  Value *y = vu_input(g, DT_FLOAT32, 2, dims);
  static const OpKind un[] = {
      OP_ABS, OP_NEG, OP_RELU, OP_LEAKY_RELU, OP_SIGMOID,      OP_TANH,       OP_ERF,
      OP_EXP, OP_LOG, OP_SQRT, OP_RECIPROCAL, OP_HARD_SIGMOID, OP_HARD_SWISH, OP_GELU};
  for (size_t i = 0; i < sizeof un / sizeof *un; i++)
    finish(g, add_node(g, un[i], &x, 1), true);
  Error err;
  Node *gt = add_node(g, OP_GELU, &x, 1);
  ir_node_set_attr_string(g, gt, "approximate", "tanh", &err);
  finish(g, gt, true);
  static const OpKind bin[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN};
  Value *xy[2] = {x, y};
  for (size_t i = 0; i < sizeof bin / sizeof *bin; i++)
    finish(g, add_node(g, bin[i], xy, 2), true);
  Value *sq[2] = {x, scalar_const(g, 2.0f, 0)}, *rt[2] = {x, scalar_const(g, 0.5f, 0)};
  finish(g, add_node(g, OP_POW, sq, 2), true);
  finish(g, add_node(g, OP_POW, rt, 2), true);
  Value *cl[3] = {x, scalar_const(g, -1.0f, 0), scalar_const(g, 1.0f, 0)};
  finish(g, add_node(g, OP_CLIP, cl, 3), true);
  /* (No ReduceSum: +-3e38 cancelling in float vs double is ill-conditioned,
   * not a difference in semantics.) */
  static const OpKind rows[] = {OP_SOFTMAX, OP_LOG_SOFTMAX, OP_REDUCE_MAX};
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    Node *n = add_node(g, rows[i], &x, 1);
    n->opset = 13;
    if (rows[i] == OP_REDUCE_MAX) {
      int64_t ax = -1;
      ir_node_set_attr_ints(g, n, "axes", &ax, 1, &err);
    }
    finish(g, n, true);
  }
  /* Row r of x: the specials rotated by r, so each row has every value;
   * y holds them in another order.  Rows 0..2 of x are finite only, to
   * give Softmax rows that are not all NaN. */
  void **ins = calloc(3, sizeof *ins);
  assert_non_null(ins);
  ins[0] = malloc((size_t)(ns * ns) * sizeof(float));
  ins[1] = malloc((size_t)(ns * ns) * sizeof(float));
  assert_non_null(ins[0]);
  assert_non_null(ins[1]);
  float *px = ins[0], *py = ins[1];
  for (int64_t r = 0; r < ns; r++)
    for (int64_t k = 0; k < ns; k++) {
      float v = sp[(r + k) % ns];
      if (r < 3 && !isfinite(v)) v = (float)k - 4.0f;
      px[r * ns + k] = v;
      py[r * ns + k] = sp[(3 * r + 5 * k + 1) % ns];
    }
  check_inputs(g, ins, 2e-6, 1e-7, "special values");
}

/* ---- binary ops and broadcasting ------------------------------------------- */

typedef struct Pattern {
  const char *name;
  int ra, rb;         /* ranks */
  int64_t a[4], b[4]; /* -1: fill with a random size shared by both sides */
  bool lowered;
} Pattern;

static void test_binary(void **state) {
  (void)state;
  static const OpKind ops[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN};
  /* Dims: -1, -2, -3, -4 name random sizes (shared between a and b). */
  static const Pattern pats[] = {
      {"same shape", 3, 3, {-1, -2, -3}, {-1, -2, -3}, true},
      {"scalar rhs", 3, 0, {-1, -2, -3}, {0}, true},
      {"scalar lhs [1]", 1, 2, {1}, {-1, -2}, true},
      {"bias [N] on [M,N]", 2, 1, {-1, -2}, {-2}, true},
      {"bias [1,N] on [B,M,N]", 3, 2, {-3, -1, -2}, {1, -2}, true},
      {"per-channel [C,1,1] on [N,C,H,W]", 4, 3, {-4, -1, -2, -3}, {-1, 1, 1}, true},
      {"per-channel lhs", 3, 4, {-1, 1, 1}, {-4, -1, -2, -3}, true},
      {"per-row [M,1] on [M,N]", 2, 2, {-1, -2}, {-1, 1}, true},
      {"outer [M,1,K] with [1,N,K]", 3, 3, {-1, 1, -3}, {1, -2, -3}, true},
      {"split ranges (fallback)", 4, 4, {-1, 1, -3, -4}, {1, -2, 1, -4}, false},
  };
  for (size_t pi = 0; pi < sizeof pats / sizeof *pats; pi++) {
    const Pattern *p = &pats[pi];
    for (int round = 0; round < 2; round++) {
      int64_t sz[5];
      for (;;) {
        int64_t total = 1;
        for (int i = 1; i <= 4; i++)
          sz[i] = pick_size();
        for (int i = 0; i < p->ra; i++)
          total *= p->a[i] < 0 ? sz[-p->a[i]] : p->a[i];
        for (int i = 0; i < p->rb; i++)
          total *= p->b[i] < 0 ? sz[-p->b[i]] : p->b[i];
        if (total <= 300000) break;
      }
      int64_t da[4], db[4];
      for (int i = 0; i < p->ra; i++)
        da[i] = p->a[i] < 0 ? sz[-p->a[i]] : p->a[i];
      for (int i = 0; i < p->rb; i++)
        db[i] = p->b[i] < 0 ? sz[-p->b[i]] : p->b[i];
      Graph *g = ir_graph_new("binary", "<test>");
      Value *xs[2] = {vu_input(g, DT_FLOAT32, p->ra, da), vu_input(g, DT_FLOAT32, p->rb, db)};
      for (size_t oi = 0; oi < sizeof ops / sizeof *ops; oi++) {
        Node *n = add_node(g, ops[oi], xs, 2);
        Error err;
        Status st = vu_finish(g, n, &err);
        if (st != ST_OK) fail_msg("%s: %s", p->name, err.msg);
        /* The fallback pattern only stays out of scope while none of its
         * sizes degenerates to 1. */
        bool strict = p->lowered || (sz[1] > 1 && sz[2] > 1 && sz[3] > 1 && sz[4] > 1);
        if (strict && vu_lowered(g, n) != p->lowered)
          fail_msg("%s: %s lowering %s", p->name, op_name(ops[oi]),
                   p->lowered ? "not taken" : "taken unexpectedly");
      }
      check_graph(g, 3.0, 1e-6, 1e-7, p->name);
    }
  }
}

static void test_where(void **state) {
  (void)state;
  for (int round = 0; round < 2; round++) {
    Graph *g = ir_graph_new("where", "<test>");
    int64_t dims[3];
    random_shape(3, 200000, dims);
    Value *ins[3] = {vu_input(g, DT_BOOL, 3, dims), vu_input(g, DT_FLOAT32, 3, dims),
                     vu_input(g, DT_FLOAT32, 3, dims)};
    finish(g, add_node(g, OP_WHERE, ins, 3), true);
    Value *bc[3] = {ins[0], ins[1], scalar_const(g, -7.5f, 0)};
    finish(g, add_node(g, OP_WHERE, bc, 3), true);
    check_graph(g, 1.0, 0, 0, "Where");
  }
}

/* ---- row-wise ops ---------------------------------------------------------- */

static void test_softmax(void **state) {
  (void)state;
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    Graph *g = ir_graph_new("softmax", "<test>");
    int64_t dims[3] = {pick_size() % 40 + 1, 3, sizes[si]};
    Value *x = vu_input(g, DT_FLOAT32, 3, dims);
    Error err;
    Node *a = add_node(g, OP_SOFTMAX, &x, 1);
    a->opset = 13;
    finish(g, a, true);
    Node *b = add_node(g, OP_LOG_SOFTMAX, &x, 1);
    b->opset = 13;
    ir_node_set_attr_int(g, b, "axis", 2, &err);
    finish(g, b, true);
    Node *c = add_node(g, OP_SOFTMAX, &x, 1); /* opset 11, axis = last: same rows */
    c->opset = 11;
    ir_node_set_attr_int(g, c, "axis", -1, &err);
    finish(g, c, true);
    Node *d = add_node(g, OP_SOFTMAX, &x, 1); /* opset 11 default axis 1: flattened rows */
    d->opset = 11;
    finish(g, d, false);
    Node *e = add_node(g, OP_LOG_SOFTMAX, &x, 1); /* middle axis */
    e->opset = 13;
    ir_node_set_attr_int(g, e, "axis", 1, &err);
    finish(g, e, false);
    check_graph(g, 10.0, 1e-5, 1e-6, "Softmax/LogSoftmax");
  }
}

static void test_layer_norm(void **state) {
  (void)state;
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    Graph *g = ir_graph_new("layernorm", "<test>");
    int64_t w = sizes[si];
    int64_t dims[3] = {pick_size() % 50 + 1, 2, w};
    Value *x = vu_input(g, DT_FLOAT32, 3, dims);
    Value *scale = vu_input(g, DT_FLOAT32, 1, &w);
    Value *bias = vu_input(g, DT_FLOAT32, 1, &w);
    Error err;
    Value *three[3] = {x, scale, bias};
    Node *a = add_node(g, OP_LAYER_NORMALIZATION, three, 3);
    ir_node_set_attr_float(g, a, "epsilon", 1e-3f, &err);
    finish(g, a, true);
    Node *b = add_node(g, OP_LAYER_NORMALIZATION, three, 2); /* no bias */
    finish(g, b, true);
    int64_t d2[2] = {2, w};
    Value *s2 = vu_input(g, DT_FLOAT32, 2, d2);
    Value *two[2] = {x, s2};
    Node *c = add_node(g, OP_LAYER_NORMALIZATION, two, 2); /* axis -2: rows of 2*w */
    ir_node_set_attr_int(g, c, "axis", -2, &err);
    finish(g, c, true);
    Value *bcast[2] = {x, scale};
    Node *d = add_node(g, OP_LAYER_NORMALIZATION, bcast, 2); /* scale repeats within a row */
    ir_node_set_attr_int(g, d, "axis", -2, &err);
    finish(g, d, false);
    /* Mean and InvStdDev declared: lowered while nothing reads them, the
     * reference kernel once Mean is a graph output. */
    for (int k = 0; k < 2; k++) {
      Node *e = ir_node_new(g, OP_LAYER_NORMALIZATION, "ln3", 3, 3);
      assert_non_null(e);
      e->opset = 17;
      for (int i = 0; i < 3; i++) {
        e->inputs[i] = three[i];
        ir_node_set_output(e, i, ir_value_new(g, ""));
      }
      assert_int_equal(vu_finish(g, e, &err), ST_OK);
      if (k == 1) assert_int_equal(ir_graph_add_output(g, e->outputs[1], &err), ST_OK);
      assert_true(vu_lowered(g, e) == (k == 0));
    }
    check_graph(g, 3.0, 1e-5, 1e-5, "LayerNormalization");
  }
}

static void test_reduce(void **state) {
  (void)state;
  static const OpKind ops[] = {OP_REDUCE_MEAN, OP_REDUCE_SUM, OP_REDUCE_MAX};
  for (int round = 0; round < 6; round++) {
    Graph *g = ir_graph_new("reduce", "<test>");
    int64_t dims[3];
    random_shape(3, 200000, dims);
    Value *x = vu_input(g, DT_FLOAT32, 3, dims);
    int64_t one = 1, last = -1, first = 0;
    Value *axes_last = ir_const_new(g, "", DT_INT64, 1, &one, &last);
    Value *axes_first = ir_const_new(g, "", DT_INT64, 1, &one, &first);
    int64_t mid = 1, two = 2, outer_axes[2] = {0, 2};
    Value *axes_mid = ir_const_new(g, "", DT_INT64, 1, &one, &mid);
    Value *axes_outer = ir_const_new(g, "", DT_INT64, 1, &two, outer_axes);
    Error err;
    for (size_t oi = 0; oi < 3; oi++) {
      Value *in2[2] = {x, axes_last};
      Node *a = add_node(g, ops[oi], in2, 2);
      a->opset = 18;
      ir_node_set_attr_int(g, a, "keepdims", oi == 1 ? 0 : 1, &err);
      finish(g, a, true);
      Node *b = add_node(g, ops[oi], &x, 1); /* older attribute form */
      b->opset = 13;
      int64_t ax = 2;
      ir_node_set_attr_ints(g, b, "axes", &ax, 1, &err);
      if (ops[oi] == OP_REDUCE_SUM) b->opset = 11;
      finish(g, b, true);
      /* A leading or middle axis: the [outer, R, inner] kernel. */
      Value *in3[2] = {x, axes_first};
      Node *c = add_node(g, ops[oi], in3, 2);
      c->opset = 18;
      finish(g, c, true);
      Value *in4[2] = {x, axes_mid};
      Node *d = add_node(g, ops[oi], in4, 2);
      d->opset = 18;
      ir_node_set_attr_int(g, d, "keepdims", oi == 2 ? 0 : 1, &err);
      finish(g, d, true);
      /* Axes {0, 2} around a kept axis > 1 are two ranges: reference. */
      Value *in5[2] = {x, axes_outer};
      Node *e = add_node(g, ops[oi], in5, 2);
      e->opset = 18;
      finish(g, e, dims[1] == 1 || dims[0] == 1 || dims[2] == 1);
    }
    check_graph(g, 2.0, 2e-5, 5e-5, "Reduce");
  }
}

/* ---- Concat ------------------------------------------------------------------ */

/* Three inputs along each axis, odd sizes, float and bool (1-byte rows), and
 * blocks over the kernel's 64 KiB piece so one row splits into units. */
static void test_concat(void **state) {
  (void)state;
  for (int round = 0; round < 4; round++) {
    DType dt = round == 3 ? DT_BOOL : DT_FLOAT32;
    Graph *g = ir_graph_new("concat", "<test>");
    int64_t dims[4];
    random_shape(4, round == 2 ? 400000 : 60000, dims);
    Error err;
    for (int axis = 0; axis < 4; axis++) {
      Value *ins[3];
      for (int k = 0; k < 3; k++) {
        int64_t d[4] = {dims[0], dims[1], dims[2], dims[3]};
        d[axis] = k == 1 ? pick_size() : d[axis];
        ins[k] = vu_input(g, dt, 4, d);
      }
      Node *n = add_node(g, OP_CONCAT, ins, 3);
      n->opset = 13;
      ir_node_set_attr_int(g, n, "axis", axis == 3 ? -1 : axis, &err);
      finish(g, n, true);
    }
    check_graph(g, 3.0, 0, 0, "Concat");
  }
}

/* ---- Transpose --------------------------------------------------------------- */

static void test_transpose(void **state) {
  (void)state;
  static const int64_t perms[][4] = {{0, 2, 1, 3}, {0, 2, 3, 1}, {0, 1, 3, 2}, {3, 1, 2, 0}};
  for (int round = 0; round < 2; round++) {
    Graph *g = ir_graph_new("transpose", "<test>");
    int64_t dims[4];
    random_shape(4, 150000, dims);
    Value *x = vu_input(g, DT_FLOAT32, 4, dims);
    Error err;
    for (int pi = 0; pi < 4; pi++) {
      Node *n = add_node(g, OP_TRANSPOSE, &x, 1);
      ir_node_set_attr_ints(g, n, "perm", perms[pi], 4, &err);
      finish(g, n, true);
    }
    int64_t d2[2];
    random_shape(2, 300000, d2);
    Value *m = vu_input(g, DT_FLOAT32, 2, d2);
    Node *t = add_node(g, OP_TRANSPOSE, &m, 1);
    int64_t p2[2] = {1, 0};
    ir_node_set_attr_ints(g, t, "perm", p2, 2, &err);
    finish(g, t, true);
    check_graph(g, 1.0, 0, 0, "Transpose");
  }
}

/* Permutations that are not a swap of two axis groups.  Moving the last
 * axis (the plane kernel): HRFormer's window partition and merge, 3-D
 * rotations, a reversal with a size-1 axis, planes with ragged tiles on
 * both sides.  Keeping it (the row copies of lower_remap.c): q/k/v splits,
 * rows shorter and longer than a vector, two kept trailing axes. */
static void test_transpose_planes(void **state) {
  (void)state;
  static const struct {
    int rank;
    int64_t dims[6], perm[6];
  } cases[] = {
      {6, {1, 8, 8, 7, 7, 18}, {0, 5, 1, 3, 2, 4}},
      {6, {1, 18, 8, 7, 8, 7}, {0, 2, 4, 3, 5, 1}},
      {3, {2, 3, 5}, {2, 0, 1}},
      {3, {4, 19, 33}, {1, 2, 0}},
      {4, {5, 1, 20, 3}, {3, 2, 1, 0}},
      {4, {3, 17, 2, 40}, {0, 3, 2, 1}},
      {2, {2, 70}, {1, 0}},
      /* the last axis kept: row copies */
      {5, {64, 49, 3, 1, 18}, {2, 0, 3, 1, 4}},
      {5, {1, 197, 3, 3, 64}, {2, 0, 3, 1, 4}},
      {4, {3, 5, 7, 2}, {2, 0, 1, 3}},
      {6, {2, 3, 1, 4, 5, 3}, {3, 0, 2, 1, 4, 5}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    Graph *g = ir_graph_new("transpose_planes", "<test>");
    Value *x = vu_input(g, DT_FLOAT32, cases[i].rank, cases[i].dims);
    Error err;
    Node *n = add_node(g, OP_TRANSPOSE, &x, 1);
    ir_node_set_attr_ints(g, n, "perm", cases[i].perm, cases[i].rank, &err);
    Status st = vu_finish(g, n, &err);
    if (st != ST_OK) fail_msg("case %zu: %s", i, err.msg);
    /* The plane kernel, for the permutations that move the last axis
     * (the row copies need the kernel bitcode, which vu_lowered lacks). */
    if (cases[i].perm[cases[i].rank - 1] != cases[i].rank - 1 && !vu_lowered(g, n))
      fail_msg("case %zu: Transpose not lowered", i);
    check_graph(g, 1.0, 0, 0, "Transpose (planes)");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unary),      cmocka_unit_test(test_special_values),
      cmocka_unit_test(test_clip_pow),   cmocka_unit_test(test_binary),
      cmocka_unit_test(test_where),      cmocka_unit_test(test_softmax),
      cmocka_unit_test(test_layer_norm), cmocka_unit_test(test_reduce),
      cmocka_unit_test(test_transpose), cmocka_unit_test(test_concat),
      cmocka_unit_test(test_transpose_planes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
