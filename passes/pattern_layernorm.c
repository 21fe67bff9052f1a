/*
 * canonicalize: decomposed LayerNormalization, as torch exports it below
 * opset 17:
 *   mean = ReduceMean(x, axes)      d = Sub(x, mean)
 *   var  = ReduceMean(Pow(d, 2) | Mul(d, d), axes)
 *   n    = Div(d, Sqrt(Add(var, eps)))  |  Mul(d, Reciprocal(Sqrt(...)))
 *   y    = [Mul(n, gamma)] [Add(., beta)]
 * The axes must be the trailing axes (one or several) and equal in both
 * reductions, with keepdims.  gamma/beta must be constants that vary only
 * along the normalized axes; they are expanded to the normalized shape
 * (1 / 0 when absent), giving LayerNormalization(x, scale, bias; axis, eps).
 */
#include "pattern_canon.h"

#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

/* The reduced axes of a keepdims ReduceMean over x as the first normalized
 * axis (*first), requiring them to be exactly first..rank-1. */
static bool trailing_axes(const Node *rm, const Value *x, int *first) {
  if (rm->num_inputs < 1 || rm->inputs[0] != x || ir_attr_int(rm, "keepdims", 1) == 0)
    return false;
  int64_t axes[IR_MAX_RANK];
  int count = 0;
  const Value *av = pat_in(rm, 1);
  if (av) {
    if (ops_const_ints(av, "axes", axes, IR_MAX_RANK, &count, NULL) != ST_OK) return false;
  } else {
    const int64_t *a;
    count = ir_attr_ints(rm, "axes", &a);
    if (count < 0 || count > IR_MAX_RANK) return false;
    memcpy(axes, a, sizeof(int64_t) * (size_t)count);
  }
  if (count < 1 || count > x->rank) return false;
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < count; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + x->rank : axes[i];
    if (a < 0 || a >= x->rank || seen[a]) return false;
    seen[a] = true;
  }
  *first = x->rank - count;
  for (int a = *first; a < x->rank; a++)
    if (!seen[a]) return false;
  return true;
}

/* A constant that, broadcast against x, varies only along axes >= axis. */
static bool param_ok(const Value *p, const Value *x, int axis) {
  if (!ir_value_is_const(p) || p->dtype != x->dtype || p->rank > x->rank) return false;
  for (int i = 0; i < p->rank; i++) {
    int xa = x->rank - p->rank + i;
    int64_t pd = p->dims[i];
    if (xa < axis ? pd != 1 : (pd != 1 && pd != x->dims[xa])) return false;
  }
  return true;
}

/* p (or the constant `fill` when p is NULL) expanded to x.shape[axis:]. */
static Value *expand_param(Graph *g, const Value *p, const Value *x, int axis, double fill,
                           const char *origin) {
  int r = x->rank - axis;
  const int64_t *dims = x->dims + axis;
  if (p && p->rank == r && memcmp(p->dims, dims, sizeof(int64_t) * (size_t)r) == 0)
    return (Value *)p;
  int64_t count = ops_numel(r, dims);
  double *buf = malloc(count > 0 ? (size_t)count * sizeof *buf : 1);
  if (!buf) return NULL;
  int64_t ps[IR_MAX_RANK] = {0}, idx[IR_MAX_RANK] = {0}, off = 0;
  if (p) ops_broadcast_strides(p->rank, p->dims, r, dims, ps);
  for (int64_t i = 0; i < count; i++) {
    buf[i] = p ? dtype_load_f64(p->dtype, p->data, (size_t)off) : fill;
    for (int d = r - 1; d >= 0; d--) {
      off += ps[d];
      if (++idx[d] < dims[d]) break;
      off -= ps[d] * idx[d];
      idx[d] = 0;
    }
  }
  Value *v = pat_const_from_f64(g, origin, x->dtype, r, dims, buf);
  free(buf);
  return v;
}

Status canon_layernorm(Graph *g, Node *n, bool *done, Error *err) {
  *done = false;
  Value *d = NULL, *s = NULL;
  Node *recip = NULL;
  if (n->op == OP_DIV) {
    d = n->inputs[0];
    s = n->inputs[1];
  } else if (n->op == OP_MUL) {
    for (int k = 0; k < 2 && !recip; k++)
      if ((recip = pat_def(n->inputs[k], OP_RECIPROCAL)) != NULL && pat_private(g, n->inputs[k])) {
        d = n->inputs[1 - k];
        s = recip->inputs[0];
      } else {
        recip = NULL;
      }
    if (!recip) return ST_OK;
  } else {
    return ST_OK;
  }
  Node *sq_root = pat_def(s, OP_SQRT);
  if (!sq_root || !pat_private(g, s)) return ST_OK;
  Node *add_eps = pat_def(sq_root->inputs[0], OP_ADD);
  if (!add_eps || !pat_private(g, sq_root->inputs[0])) return ST_OK;
  double eps = 0;
  Value *var = NULL;
  for (int k = 0; k < 2 && !var; k++)
    if (pat_scalar(add_eps->inputs[k], &eps)) var = add_eps->inputs[1 - k];
  if (!var || !(eps > 0 && eps < 1)) return ST_OK;
  Node *rm_var = pat_def(var, OP_REDUCE_MEAN);
  if (!rm_var || !pat_private(g, var)) return ST_OK;
  Value *sqv = rm_var->inputs[0];
  Node *sq = pat_def(sqv, OP_POW);
  if (sq && !(sq->inputs[0] == d && pat_scalar_is(sq->inputs[1], 2.0, 0))) return ST_OK;
  if (!sq && (!(sq = pat_def(sqv, OP_MUL)) || sq->inputs[0] != d || sq->inputs[1] != d))
    return ST_OK;
  if (!pat_private(g, sqv)) return ST_OK;
  Node *sub = pat_def(d, OP_SUB);
  if (!sub || d->is_output || ir_use_count(g, d) != (sq->op == OP_MUL ? 3 : 2)) return ST_OK;
  Value *x = sub->inputs[0], *mean = sub->inputs[1];
  Node *rm_mean = pat_def(mean, OP_REDUCE_MEAN);
  if (!rm_mean || !pat_private(g, mean)) return ST_OK;
  if (!dtype_is_float(x->dtype) || !ir_value_is_static(x)) return ST_OK;
  int axis = 0, axis2 = 0;
  if (!trailing_axes(rm_mean, x, &axis) || !trailing_axes(rm_var, sqv, &axis2) || axis != axis2)
    return ST_OK;
  if (sqv->rank != x->rank) return ST_OK;

  /* Optional affine tail, each step only through private values. */
  Node *last = n, *mul = NULL, *add = NULL;
  Value *gamma = NULL, *beta = NULL;
  Node *u = pat_sole_user(g, n->outputs[0]);
  if (u && u->op == OP_MUL) {
    Value *p = pat_other(u, n->outputs[0]);
    if (p && p != n->outputs[0] && param_ok(p, x, axis)) {
      mul = last = u;
      gamma = p;
      u = pat_sole_user(g, u->outputs[0]);
    }
  }
  if (u && u->op == OP_ADD) {
    Value *p = pat_other(u, last->outputs[0]);
    if (p && p != last->outputs[0] && param_ok(p, x, axis)) {
      add = last = u;
      beta = p;
    }
  }
  Value *scale = expand_param(g, gamma, x, axis, 1.0, "LayerNormalization scale");
  Value *bias = expand_param(g, beta, x, axis, 0.0, "LayerNormalization bias");
  if (!scale || !bias) return err_set(err, ST_NOMEM, "out of memory");
  Value *ins[3] = {x, scale, bias};
  Node *ln;
  TRY(pat_replace(g, last, OP_LAYER_NORMALIZATION, ins, 3, &ln, err));
  TRY(ir_node_set_attr_int(g, ln, "axis", axis, err));
  TRY(ir_node_set_attr_float(g, ln, "epsilon", (float)eps, err));
  Node *parts[] = {n, recip, sq_root, add_eps, rm_var, sq, sub, rm_mean, mul, add};
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
    if (parts[i]) parts[i]->dead = true;
  *done = true;
  return ST_OK;
}
