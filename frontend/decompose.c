/*
 * Load-time decompositions: ONNX ops with no kernel of their own that real
 * exporters emit, rewritten into ops that have one, node by node while the
 * frontend walks the graph (called first thing by fe_normalize).
 *   PRelu(X, slope)            -> Relu(X) - slope * Relu(-X)   (exact)
 *   Elu / Selu                 -> [gamma *] (Relu(X) + alpha * (Exp(Min(X, 0)) - 1))
 *   Softplus                   -> Relu(X) + Log(1 + Exp(-|X|))   (no overflow)
 *   Mish                       -> X * Tanh(Softplus(X))
 *   BatchNormalization with training_mode=1 (torch's F.batch_norm(training=
 *   True), e.g. timm's weight-standardized convs in NFNet / BiT) -> batch
 *   statistics over every axis but 1, via a [N, C, -1] reshape so the rank
 *   of X need not be known yet; the running-stat outputs follow the spec.
 * Helper nodes are named "<node>/<tag>"; the ProtoNode itself becomes the
 * last op, so its outputs keep their names.
 */
#include <stdio.h>
#include <string.h>

#include "fe_internal.h"

static Status nomem(Error *err) { return err_set(err, ST_NOMEM, "out of memory"); }

/* A helper node op(ins[0..nin)) -> out (NULL: a new value); NULL when out
 * of memory. */
static Node *helper_n(Graph *g, const ProtoNode *pn, OpKind op, const char *tag, int nin,
                      Value *const *ins, Value *out) {
  Value *o = out ? out : ir_value_new(g, "");
  char *name = arena_printf(g->arena, "%s/%s", pn->name, tag);
  Node *n = o && name ? ir_node_new(g, op, name, nin, 1) : NULL;
  if (!n) return NULL;
  n->opset = pn->opset;
  for (int i = 0; i < nin; i++) n->inputs[i] = ins[i];
  ir_node_set_output(n, 0, o);
  return n;
}

static Node *helper(Graph *g, const ProtoNode *pn, OpKind op, const char *tag, Value *a, Value *b) {
  Value *ins[2] = {a, b};
  return helper_n(g, pn, op, tag, b ? 2 : 1, ins, NULL);
}

static Value *out_of(Node *n) { return n ? n->outputs[0] : NULL; }

static Value *i64s(Graph *g, int count, const int64_t *v) {
  int64_t dims[1] = {count};
  return ir_const_new(g, "", DT_INT64, 1, dims, v);
}

/* Scalar v in like's dtype (not known yet at load time: CastLike, folded later). */
static Value *scalar_like(Graph *g, const ProtoNode *pn, const char *tag, Value *like, double v) {
  float f = (float)v;
  Value *c = ir_const_new(g, "", DT_FLOAT32, 0, NULL, &f);
  return c ? out_of(helper(g, pn, OP_CAST_LIKE, tag, c, like)) : NULL;
}

/* Turns pn into op(a, b) with no attributes, keeping its first output only. */
static void become(ProtoNode *pn, OpKind op, Value *a, Value *b) {
  pn->op = op;
  pn->inputs[0] = a;
  pn->inputs[1] = b;
  pn->num_inputs = 2;
  pn->num_outputs = 1;
  pn->num_attrs = 0;
}

static Status prelu(Graph *g, ProtoNode *pn, Error *err) {
  if (pn->num_inputs != 2 || !pn->inputs[0] || !pn->inputs[1] || pn->num_outputs != 1)
    return err_set(err, ST_INVALID, "PRelu needs inputs X, slope and one output");
  Value *x = pn->inputs[0];
  Value *pos = out_of(helper(g, pn, OP_RELU, "relu", x, NULL));
  Value *neg = out_of(helper(g, pn, OP_NEG, "neg", x, NULL));
  Value *negpos = neg ? out_of(helper(g, pn, OP_RELU, "relu_neg", neg, NULL)) : NULL;
  Value *scaled = negpos ? out_of(helper(g, pn, OP_MUL, "scaled", pn->inputs[1], negpos)) : NULL;
  if (!pos || !scaled) return nomem(err);
  become(pn, OP_SUB, pos, scaled);
  return ST_OK;
}

/* Elu and (selu) Selu; for x > 0 the Exp term is exp(0) - 1 = 0. */
static Status elu(Graph *g, ProtoNode *pn, bool selu, double alpha, double gamma, Error *err) {
  if (pn->num_inputs != 1 || !pn->inputs[0] || pn->num_outputs != 1)
    return err_set(err, ST_INVALID, "%s needs one input and one output", pn->op_type);
  for (int i = 0; i < pn->num_attrs; i++) {
    const Attr *a = &pn->attrs[i];
    bool known = strcmp(a->name, "alpha") == 0 || (selu && strcmp(a->name, "gamma") == 0);
    if (!known || a->kind != ATTR_FLOAT)
      return err_set(err, ST_INVALID, "unexpected attribute '%s'", a->name);
    if (strcmp(a->name, "alpha") == 0) alpha = a->f;
    else gamma = a->f;
  }
  Value *x = pn->inputs[0];
  Value *zero = scalar_like(g, pn, "zero", x, 0.0);
  Value *one = scalar_like(g, pn, "one", x, 1.0);
  Value *al = scalar_like(g, pn, "alpha", x, alpha);
  Value *neg = zero ? out_of(helper(g, pn, OP_MIN, "min0", x, zero)) : NULL;
  Value *ex = neg ? out_of(helper(g, pn, OP_EXP, "exp", neg, NULL)) : NULL;
  Value *em1 = ex && one ? out_of(helper(g, pn, OP_SUB, "expm1", ex, one)) : NULL;
  Value *sc = em1 && al ? out_of(helper(g, pn, OP_MUL, "neg_part", em1, al)) : NULL;
  Value *pos = sc ? out_of(helper(g, pn, OP_RELU, "relu", x, NULL)) : NULL;
  if (!pos) return nomem(err);
  if (!selu) {
    become(pn, OP_ADD, pos, sc);
    return ST_OK;
  }
  Value *sum = out_of(helper(g, pn, OP_ADD, "elu", pos, sc));
  Value *ga = sum ? scalar_like(g, pn, "gamma", x, gamma) : NULL;
  if (!ga) return nomem(err);
  become(pn, OP_MUL, sum, ga);
  return ST_OK;
}

/* Softplus(x) = max(x, 0) + log(1 + exp(-|x|)): log(1 + exp(x)) without
 * the overflow of exp at large x.  Sets the two terms; false: no memory. */
static bool softplus_terms(Graph *g, const ProtoNode *pn, Value *x, Value **pos, Value **lg) {
  Value *one = scalar_like(g, pn, "one", x, 1.0);
  Value *ab = one ? out_of(helper(g, pn, OP_ABS, "abs", x, NULL)) : NULL;
  Value *na = ab ? out_of(helper(g, pn, OP_NEG, "neg_abs", ab, NULL)) : NULL;
  Value *ex = na ? out_of(helper(g, pn, OP_EXP, "exp", na, NULL)) : NULL;
  Value *p1 = ex ? out_of(helper(g, pn, OP_ADD, "one_plus", ex, one)) : NULL;
  *lg = p1 ? out_of(helper(g, pn, OP_LOG, "log", p1, NULL)) : NULL;
  *pos = *lg ? out_of(helper(g, pn, OP_RELU, "relu", x, NULL)) : NULL;
  return *pos != NULL;
}

static Status softplus_or_mish(Graph *g, ProtoNode *pn, bool mish, Error *err) {
  if (pn->num_inputs != 1 || !pn->inputs[0] || pn->num_outputs != 1)
    return err_set(err, ST_INVALID, "%s needs one input and one output", pn->op_type);
  if (pn->num_attrs)
    return err_set(err, ST_INVALID, "unexpected attribute '%s'", pn->attrs[0].name);
  Value *x = pn->inputs[0], *pos, *lg;
  if (!softplus_terms(g, pn, x, &pos, &lg)) return nomem(err);
  if (!mish) {
    become(pn, OP_ADD, pos, lg);
    return ST_OK;
  }
  Value *sp = out_of(helper(g, pn, OP_ADD, "softplus", pos, lg));
  Value *th = sp ? out_of(helper(g, pn, OP_TANH, "tanh", sp, NULL)) : NULL;
  if (!th) return nomem(err);
  become(pn, OP_MUL, x, th);
  return ST_OK;
}

/* ReduceMean(v, axes [0, 2], keepdims 1) of a [N, C, L] value: [1, C, 1];
 * NULL when out of memory (the only way setting an attribute fails). */
static Value *mean_nl(Graph *g, const ProtoNode *pn, const char *tag, Value *v, Value *axes,
                      Error *err) {
  Node *n = helper(g, pn, OP_REDUCE_MEAN, tag, v, axes);
  if (!n || ir_node_set_attr_int(g, n, "keepdims", 1, err) != ST_OK) return NULL;
  return n->outputs[0];
}

/* running = input * momentum + current[C] * (1 - momentum), into `out`. */
static Status running_stat(Graph *g, ProtoNode *pn, const char *tag, Value *input, Value *cur3,
                           Value *axes, double momentum, Value *out, Error *err) {
  char t1[32], t2[32], t3[32], t4[32], t5[32];
  snprintf(t1, sizeof t1, "%s_cur", tag);
  snprintf(t2, sizeof t2, "%s_m", tag);
  snprintf(t3, sizeof t3, "%s_1m", tag);
  snprintf(t4, sizeof t4, "%s_old", tag);
  snprintf(t5, sizeof t5, "%s_new", tag);
  Value *cur = out_of(helper(g, pn, OP_SQUEEZE, t1, cur3, axes));
  Value *m = scalar_like(g, pn, t2, input, momentum);
  Value *m1 = scalar_like(g, pn, t3, input, 1.0 - momentum);
  Value *old = cur && m ? out_of(helper(g, pn, OP_MUL, t4, input, m)) : NULL;
  Value *now = old && m1 ? out_of(helper(g, pn, OP_MUL, t5, cur, m1)) : NULL;
  Value *ins[2] = {old, now};
  return now && helper_n(g, pn, OP_ADD, tag, 2, ins, out) ? ST_OK : nomem(err);
}

static Status batchnorm_training(Graph *g, ProtoNode *pn, Error *err) {
  if (pn->num_inputs != 5 || pn->num_outputs < 1 || pn->num_outputs > 3)
    return err_set(err, ST_INVALID,
                   "training BatchNormalization needs 5 inputs and 1 to 3 outputs");
  for (int i = 0; i < 5; i++)
    if (!pn->inputs[i]) return err_set(err, ST_INVALID, "input %d is missing", i);
  double eps = 1e-5, momentum = 0.9;
  for (int i = 0; i < pn->num_attrs; i++) {
    const Attr *a = &pn->attrs[i];
    if (strcmp(a->name, "epsilon") == 0 && a->kind == ATTR_FLOAT) eps = a->f;
    else if (strcmp(a->name, "momentum") == 0 && a->kind == ATTR_FLOAT) momentum = a->f;
    else if (strcmp(a->name, "training_mode") != 0)
      return err_set(err, ST_INVALID, "unexpected attribute '%s'", a->name);
  }
  Value *x = pn->inputs[0];
  static const int64_t nc[2] = {0, 2}, minus1[1] = {-1}, zero[1] = {0};
  Value *axes = i64s(g, 2, nc); /* also the [0, 2] of the reductions */
  Value *tail = i64s(g, 1, minus1), *start = i64s(g, 1, zero), *end = i64s(g, 1, nc + 1);
  if (!axes || !tail || !start || !end) return nomem(err);
  Value *shape = out_of(helper(g, pn, OP_SHAPE, "shape", x, NULL));
  Value *sin[3] = {shape, start, end};
  Node *sl = shape ? helper_n(g, pn, OP_SLICE, "nc", 3, sin, NULL) : NULL;
  Node *cat = sl ? helper(g, pn, OP_CONCAT, "shape3", sl->outputs[0], tail) : NULL;
  if (!cat) return nomem(err);
  TRY(ir_node_set_attr_int(g, cat, "axis", 0, err));
  Value *x3 = out_of(helper(g, pn, OP_RESHAPE, "x3", x, cat->outputs[0]));
  Value *mean = x3 ? mean_nl(g, pn, "mean", x3, axes, err) : NULL;
  Value *d = mean ? out_of(helper(g, pn, OP_SUB, "centered", x3, mean)) : NULL;
  Value *sq = d ? out_of(helper(g, pn, OP_MUL, "squared", d, d)) : NULL;
  Value *var = sq ? mean_nl(g, pn, "var", sq, axes, err) : NULL;
  Value *e = var ? scalar_like(g, pn, "eps", x, eps) : NULL;
  Value *ve = e ? out_of(helper(g, pn, OP_ADD, "var_eps", var, e)) : NULL;
  Value *sd = ve ? out_of(helper(g, pn, OP_SQRT, "std", ve, NULL)) : NULL;
  Value *norm = sd ? out_of(helper(g, pn, OP_DIV, "normalized", d, sd)) : NULL;
  Value *sc = norm ? out_of(helper(g, pn, OP_UNSQUEEZE, "scale3", pn->inputs[1], axes)) : NULL;
  Value *b = sc ? out_of(helper(g, pn, OP_UNSQUEEZE, "bias3", pn->inputs[2], axes)) : NULL;
  Value *scaled = b ? out_of(helper(g, pn, OP_MUL, "scaled", norm, sc)) : NULL;
  Value *y3 = scaled ? out_of(helper(g, pn, OP_ADD, "y3", scaled, b)) : NULL;
  if (!y3) return nomem(err); /* every helper above fails only when out of memory */
  if (pn->num_outputs > 1 && pn->outputs[1])
    TRY(running_stat(g, pn, "running_mean", pn->inputs[3], mean, axes, momentum, pn->outputs[1],
                     err));
  if (pn->num_outputs > 2 && pn->outputs[2])
    TRY(running_stat(g, pn, "running_var", pn->inputs[4], var, axes, momentum, pn->outputs[2],
                     err));
  become(pn, OP_RESHAPE, y3, shape);
  return ST_OK;
}

Status fe_decompose(Graph *g, ProtoNode *pn, bool *done, Error *err) {
  *done = false;
  if (strcmp(pn->op_type, "PRelu") == 0 && pn->opset >= 7) {
    *done = true;
    return prelu(g, pn, err);
  }
  if (strcmp(pn->op_type, "Elu") == 0 && pn->opset >= 6) {
    *done = true;
    return elu(g, pn, false, 1.0, 0.0, err);
  }
  if (strcmp(pn->op_type, "Selu") == 0 && pn->opset >= 6) {
    *done = true;
    return elu(g, pn, true, 1.67326319217681884765625, 1.05070102214813232421875, err);
  }
  bool mish = strcmp(pn->op_type, "Mish") == 0 && pn->opset >= 18;
  if (mish || strcmp(pn->op_type, "Softplus") == 0) {
    *done = true;
    return softplus_or_mish(g, pn, mish, err);
  }
  if (strcmp(pn->op_type, "BatchNormalization") == 0 && pn->opset >= 14) {
    for (int i = 0; i < pn->num_attrs; i++)
      if (strcmp(pn->attrs[i].name, "training_mode") == 0 && pn->attrs[i].kind == ATTR_INT &&
          pn->attrs[i].i != 0) {
        *done = true;
        return batchnorm_training(g, pn, err);
      }
  }
  return ST_OK;
}
