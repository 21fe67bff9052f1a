/*
 * fuse-epilogues: what follows a Conv or a MatMul/Gemm elementwise becomes
 * the epilogue of one onnxc.FusedConv / onnxc.FusedMatMul (semantics in
 * ops/fused.c):
 *   root [+ Add(constant bias: per channel / per column)]
 *        [+ Add(R)] [+ activation]      residual_first = 1
 *        [+ activation] [+ Add(R)]      residual_first = 0
 * Each step is taken only when the previous result has exactly one reader
 * and is not a graph output.  Gemm qualifies with transA=0 and alpha=1; a
 * constant B with transB=1 is transposed into a new constant, and C becomes
 * the bias (constant, same for every row) or the residual.  Runs after
 * canonicalize (Gelu/SiLU/HardSwish are single ops by then) and
 * fold-batchnorm (a BN after a conv is already in its weights).
 */
#include "pass.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/fused.h"
#include "../ops/ops.h"
#include "pattern_match.h"

#define MAX_CHAIN 3

typedef struct Epi {
  int axis;             /* the bias axis of the output: 1 (conv) or rank-1 (matmul) */
  int64_t channels;     /* its length */
  double *bias;         /* malloc'ed when any bias is known, else NULL */
  FusedAct act;
  bool has_alpha, has_beta;
  double alpha, beta;
  Value *res;
  bool residual_first;
  bool res_exact;       /* FusedConv: R must have exactly the output shape */
  Node *chain[MAX_CHAIN];
  int num_chain;
} Epi;

/* ---- activations -------------------------------------------------------- */

static bool clip_bound(const Node *n, int i, bool *has, double *v) {
  const Value *b = pat_in(n, i);
  *has = b != NULL;
  return !b || pat_scalar(b, v);
}

/* n reads cur as its only data input and is a fusable activation. */
static bool match_act(const Node *n, const Value *cur, Epi *e) {
  if (n->num_outputs != 1 || n->num_inputs < 1 || n->inputs[0] != cur) return false;
  e->has_alpha = e->has_beta = false;
  switch (n->op) {
  case OP_RELU: e->act = FACT_RELU; return true;
  case OP_SIGMOID: e->act = FACT_SIGMOID; return true;
  case OP_HARD_SWISH: e->act = FACT_HARD_SWISH; return true;
  case OP_SILU: e->act = FACT_SILU; return true;
  case OP_TANH: e->act = FACT_TANH; return true;
  case OP_GELU:
    e->act = strcmp(ir_attr_string(n, "approximate", "none"), "tanh") == 0 ? FACT_GELU_TANH
                                                                          : FACT_GELU;
    return true;
  case OP_LEAKY_RELU:
    e->act = FACT_LEAKY_RELU;
    e->has_alpha = true;
    e->alpha = ir_attr_float(n, "alpha", 0.01f);
    return true;
  case OP_HARD_SIGMOID:
    e->act = FACT_HARD_SIGMOID;
    e->has_alpha = e->has_beta = true;
    e->alpha = ir_attr_float(n, "alpha", 0.2f);
    e->beta = ir_attr_float(n, "beta", 0.5f);
    return true;
  case OP_CLIP:
    e->act = FACT_CLIP;
    return clip_bound(n, 1, &e->has_alpha, &e->alpha) && clip_bound(n, 2, &e->has_beta, &e->beta);
  default: return false;
  }
}

/* ---- bias and residual ------------------------------------------------- */

/* Adds constant p to the bias when, broadcast to y, it varies only along
 * e->axis.  Returns false (bias untouched) otherwise. */
static bool add_bias(Epi *e, const Value *p, const Value *y) {
  if (!ir_value_is_const(p) || p->dtype != y->dtype || p->rank > y->rank) return false;
  int pa = e->axis - (y->rank - p->rank); /* p's dim aligned with the bias axis */
  for (int i = 0; i < p->rank; i++)
    if (p->dims[i] != 1 && !(i == pa && p->dims[i] == e->channels)) return false;
  double *pd = pat_load_f64(p);
  if (!pd) return false;
  if (!e->bias) e->bias = calloc(e->channels > 0 ? (size_t)e->channels : 1, sizeof(double));
  if (!e->bias) {
    free(pd);
    return false;
  }
  bool varies = pa >= 0 && p->dims[pa] == e->channels && e->channels != 1;
  for (int64_t c = 0; c < e->channels; c++) e->bias[c] += pd[varies ? c : 0];
  free(pd);
  return true;
}

/* r can be the residual of output y. */
static bool residual_ok(const Epi *e, const Value *r, const Value *y) {
  if (!r || r->dtype != y->dtype || !ir_value_is_static(r) || r->rank > y->rank) return false;
  if (e->res_exact && r->rank != y->rank) return false;
  for (int i = 0; i < r->rank; i++) {
    int64_t rd = r->dims[i], yd = y->dims[y->rank - r->rank + i];
    if (rd != yd && (e->res_exact || rd != 1)) return false;
  }
  return true;
}

static bool take(Epi *e, Node *n) {
  if (e->num_chain >= MAX_CHAIN) return false;
  e->chain[e->num_chain++] = n;
  return true;
}

/* Follows the epilogue from value cur (the root's result). */
static void match_chain(const Graph *g, Value *cur, bool bias_allowed, Epi *e) {
  Node *u = pat_sole_user(g, cur);
  if (u && bias_allowed && u->op == OP_ADD) {
    Value *p = pat_other(u, cur);
    if (p && p != cur && add_bias(e, p, cur) && take(e, u)) {
      cur = u->outputs[0];
      u = pat_sole_user(g, cur);
    }
  }
  if (u && !e->res && u->op == OP_ADD) {
    Value *r = pat_other(u, cur);
    if (r && r != cur && residual_ok(e, r, cur) && take(e, u)) {
      e->res = r;
      e->residual_first = true;
      cur = u->outputs[0];
      u = pat_sole_user(g, cur);
    }
  }
  if (u && match_act(u, cur, e) && take(e, u)) {
    cur = u->outputs[0];
    u = pat_sole_user(g, cur);
  } else {
    e->act = FACT_NONE;
  }
  if (u && !e->res && u->op == OP_ADD) {
    Value *r = pat_other(u, cur);
    if (r && r != cur && residual_ok(e, r, cur) && take(e, u)) {
      e->res = r;
      e->residual_first = false;
    }
  }
}

/* ---- building the fused node ------------------------------------------- */

static Status set_epilogue_attrs(Graph *g, Node *f, const Epi *e, Error *err) {
  if (e->act != FACT_NONE)
    TRY(ir_node_set_attr_string(g, f, "activation", fused_act_names[e->act], err));
  if (e->act != FACT_NONE && e->has_alpha)
    TRY(ir_node_set_attr_float(g, f, "activation_alpha", (float)e->alpha, err));
  if (e->act != FACT_NONE && e->has_beta)
    TRY(ir_node_set_attr_float(g, f, "activation_beta", (float)e->beta, err));
  if (e->res) TRY(ir_node_set_attr_int(g, f, "residual_first", e->residual_first, err));
  return ST_OK;
}

/* Replaces root + chain by one node `op` with inputs (a, b, bias, res). */
static Status build(Graph *g, Node *root, OpKind op, Value *a, Value *b, Value *bias,
                    const Epi *e, bool copy_attrs, Error *err) {
  Node *last = e->chain[e->num_chain - 1];
  Value *ins[4] = {a, b, bias, e->res};
  int count = e->res ? 4 : (bias ? 3 : 2);
  Node *f;
  TRY(pat_replace(g, last, op, ins, count, &f, err));
  if (root->name[0]) f->name = root->name;
  if (copy_attrs)
    for (int i = 0; i < root->num_attrs; i++) TRY(ir_node_set_attr(g, f, &root->attrs[i], err));
  TRY(set_epilogue_attrs(g, f, e, err));
  root->dead = true;
  for (int i = 0; i < e->num_chain; i++) e->chain[i]->dead = true;
  return ST_OK;
}

static Value *bias_const(Graph *g, const Value *like, const Epi *e) {
  return pat_const_from_f64(g, "fused bias", like->dtype, 1, &e->channels, e->bias);
}

static Status fuse_conv(Graph *g, Node *conv, Error *err) {
  Value *y = conv->outputs[0], *b = pat_in(conv, 2);
  if (!dtype_is_float(y->dtype) || !ir_value_is_static(y) || y->rank < 3) return ST_OK;
  Epi e = {.axis = 1, .channels = y->dims[1], .res_exact = true};
  match_chain(g, y, !b || ir_value_is_const(b), &e);
  Status st = ST_OK;
  if (e.num_chain > 0) {
    Value *nb = b;
    if (e.bias && b) {
      double *old = pat_load_f64(b);
      if (!old) st = err_set(err, ST_NOMEM, "out of memory");
      for (int64_t c = 0; old && c < e.channels; c++) e.bias[c] += old[c];
      free(old);
    }
    if (st == ST_OK && e.bias && !(nb = bias_const(g, y, &e)))
      st = err_set(err, ST_NOMEM, "out of memory");
    if (st == ST_OK)
      st = build(g, conv, OP_FUSED_CONV, conv->inputs[0], conv->inputs[1], nb, &e, true, err);
  }
  free(e.bias);
  return st;
}

/* Gemm's B as a MatMul operand: itself, or a transposed copy when transB. */
static Value *gemm_b(Graph *g, const Node *gemm) {
  Value *b = gemm->inputs[1];
  if (ir_attr_int(gemm, "transB", 0) == 0) return b;
  if (!ir_value_is_const(b) || b->rank != 2) return NULL;
  int64_t r = b->dims[0], c = b->dims[1], dims[2] = {c, r};
  Value *t = ir_const_new(g, "", b->dtype, 2, dims, NULL);
  if (!t) return NULL;
  size_t es = dtype_size(b->dtype);
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++)
      memcpy((char *)t->data + (size_t)(j * r + i) * es, (const char *)b->data + (size_t)(i * c + j) * es,
             es);
  t->const_origin = b->const_origin;
  return t;
}

static Status fuse_matmul(Graph *g, Node *mm, Error *err) {
  Value *y = mm->outputs[0], *a = mm->inputs[0], *b = mm->inputs[1];
  if (!dtype_is_float(y->dtype) || !ir_value_is_static(y) || y->rank < 1 || b->rank < 2)
    return ST_OK;
  Epi e = {.axis = y->rank - 1, .channels = y->dims[y->rank - 1]};
  bool is_gemm = mm->op == OP_GEMM;
  Value *c = is_gemm ? pat_in(mm, 2) : NULL;
  if (is_gemm) {
    if (ir_attr_int(mm, "transA", 0) != 0 || ir_attr_float(mm, "alpha", 1.0f) != 1.0f)
      return ST_OK;
    if (c && ir_attr_float(mm, "beta", 1.0f) != 1.0f) return ST_OK;
    if (ir_attr_int(mm, "transB", 0) != 0 && !ir_value_is_const(b)) return ST_OK;
    if (c && !add_bias(&e, c, y)) {
      if (!residual_ok(&e, c, y)) {
        free(e.bias);
        return ST_OK;
      }
      e.res = c;
      e.residual_first = true;
    }
  }
  match_chain(g, y, true, &e);
  Status st = ST_OK;
  bool worth = e.num_chain > 0 || (is_gemm && (c || ir_attr_int(mm, "transB", 0) != 0));
  if (worth && e.num_chain == 0) {
    /* A lone Gemm with bias: the fused node replaces the Gemm itself. */
    e.chain[e.num_chain++] = mm;
  }
  if (worth) {
    Value *nb = NULL, *bb = is_gemm ? gemm_b(g, mm) : b;
    if (e.bias && !(nb = bias_const(g, y, &e))) st = err_set(err, ST_NOMEM, "out of memory");
    if (st == ST_OK && !bb) st = err_set(err, ST_NOMEM, "out of memory");
    if (st == ST_OK) st = build(g, mm, OP_FUSED_MATMUL, a, bb, nb, &e, false, err);
  }
  free(e.bias);
  return st;
}

Status pass_fuse_epilogues(Graph *g, Error *err) {
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->num_outputs != 1 || !n->outputs[0]) continue;
    if (n->op == OP_CONV) TRY(fuse_conv(g, n, err));
    else if (n->op == OP_MATMUL || n->op == OP_GEMM) TRY(fuse_matmul(g, n, err));
  }
  return ir_compact(g, err);
}
