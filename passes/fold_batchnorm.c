/*
 * fold-batchnorm: inference BatchNormalization is y = x * a + c per channel
 * (a = scale / sqrt(var + eps), c = B - mean * a), so it folds into a
 * neighbouring linear op with constant weights:
 *   Conv -> BN          W'[m] = W[m] * a[m],  b'[m] = (b[m] - mean[m]) * a[m] + B[m]
 *   Gemm/MatMul -> BN   the same per output column, when the output is 2-D
 *                       (BN's channel axis 1 is then the column axis)
 *   BN -> Conv          W'[m,ci] = W[m,ci] * a[ci],  b'[m] = b[m] + sum W[m,ci,k] c[ci]
 *                       only with all pads 0 (a padded zero would become c)
 *   Conv -> Mul / Add   by a constant with one value per output channel:
 *                       the same as Conv -> BN with a = that value (Mul) or
 *                       shift = that value (Add)
 * Anything left becomes Mul(x, a) + Add(., c) with [C,1,...] constants.
 * New weights are always new constants (the old ones may be shared).
 * The helpers for the folded parameters live in pattern_bn.c.
 */
#include "pass.h"

#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"
#include "pattern_bn.h"

/* Conv -> BN (or the Mul/Add of fold_affine_after_conv, in bn's place):
 * bn's input y is the conv's output and nothing else reads it. */
static Status fold_after_conv_value(Graph *g, Node *bn, Value *y, const BnCoef *k, bool *done,
                                    Error *err) {
  Node *conv = pat_def(y, OP_CONV);
  if (!conv || !pat_private(g, y)) return ST_OK;
  const Value *w = conv->inputs[1], *b = pat_in(conv, 2);
  if (!ir_value_is_const(w) || (b && !ir_value_is_const(b)) || !dtype_is_float(w->dtype) ||
      w->rank < 1 || w->dims[0] != k->c)
    return ST_OK;
  Value *nw, *nb;
  TRY(bn_scale_rows(g, w, b, k, &nw, &nb, err));
  TRY(pat_resize_inputs(g, conv, 3, err));
  conv->inputs[1] = nw;
  conv->inputs[2] = nb;
  ir_node_set_output(conv, 0, bn->outputs[0]);
  bn->dead = true;
  *done = true;
  return ST_OK;
}

static Status fold_after_conv(Graph *g, Node *bn, const BnCoef *k, bool *done, Error *err) {
  return fold_after_conv_value(g, bn, bn->inputs[0], k, done, err);
}

/* Conv -> Mul or Add by a constant that is one value per output channel
 * (a scalar, [C,1,1], [1,C,1,1]): the same per-channel affine as a BN
 * (paddle2onnx's LearnableAffineBlock, layer scales, a bias added apart). */
static Status fold_affine_after_conv(Graph *g, Node *op, bool *done, Error *err) {
  if (op->num_inputs != 2 || op->num_outputs != 1) return ST_OK;
  for (int side = 0; side < 2 && !*done; side++) {
    Value *y = op->inputs[side], *cv = op->inputs[1 - side];
    Node *conv = pat_def(y, OP_CONV);
    if (!conv || !ir_value_is_const(cv) || !ir_value_is_static(y) || y->rank < 2 ||
        cv->dtype != y->dtype || !dtype_is_float(cv->dtype) || cv->rank > y->rank)
      continue;
    int64_t ch = y->dims[1];
    bool per_channel = true;
    for (int i = 0; i < cv->rank; i++) {
      int axis = i + (y->rank - cv->rank);
      if (cv->dims[i] != 1 && !(axis == 1 && cv->dims[i] == ch)) per_channel = false;
    }
    if (!per_channel) continue;
    double *v = pat_load_f64(cv);
    BnCoef k = {.c = ch, .a = malloc((size_t)ch * sizeof(double) + 1),
                .shift = malloc((size_t)ch * sizeof(double) + 1)};
    if (!v || !k.a || !k.shift) {
      free(v);
      bn_coef_free(&k);
      return err_set(err, ST_NOMEM, "out of memory folding %s into a Conv", op_name(op->op));
    }
    bool varies = ir_value_numel(cv) > 1;
    for (int64_t m = 0; m < ch; m++) {
      double x = v[varies ? m : 0];
      k.a[m] = op->op == OP_MUL ? x : 1.0;
      k.shift[m] = op->op == OP_ADD ? x : 0.0;
    }
    free(v);
    Status st = fold_after_conv_value(g, op, y, &k, done, err);
    bn_coef_free(&k);
    TRY(st);
  }
  return ST_OK;
}

/* Gemm/MatMul -> BN on a 2-D output: per-column scale of B, new bias. */
static Status fold_after_gemm(Graph *g, Node *bn, const BnCoef *k, bool *done, Error *err) {
  Value *y = bn->inputs[0];
  Node *mm = pat_def(y, OP_GEMM);
  if (!mm) mm = pat_def(y, OP_MATMUL);
  if (!mm || !pat_private(g, y) || y->rank != 2 || y->dims[1] != k->c) return ST_OK;
  const Value *w = mm->inputs[1];
  if (!ir_value_is_const(w) || w->rank != 2 || !dtype_is_float(w->dtype)) return ST_OK;
  bool trans_b = mm->op == OP_GEMM && ir_attr_int(mm, "transB", 0) != 0;
  if ((trans_b ? w->dims[0] : w->dims[1]) != k->c) return ST_OK;
  double beta = mm->op == OP_GEMM ? ir_attr_float(mm, "beta", 1.0f) : 1.0;
  const Value *cv = mm->op == OP_GEMM ? pat_in(mm, 2) : NULL;
  if (cv && !bn_per_column(cv, k->c)) return ST_OK;
  Value *nw, *nb;
  TRY(bn_scale_columns(g, w, trans_b, cv, beta, k, &nw, &nb, err));
  if (mm->op == OP_GEMM) {
    TRY(pat_resize_inputs(g, mm, 3, err));
    mm->inputs[1] = nw;
    mm->inputs[2] = nb;
    TRY(ir_node_set_attr_float(g, mm, "beta", 1.0f, err));
    ir_node_set_output(mm, 0, bn->outputs[0]);
    bn->dead = true;
  } else {
    /* MatMul has no bias: the BN becomes Add(MatMul, b'), which
     * fuse-epilogues later takes as the bias of a FusedMatMul. */
    mm->inputs[1] = nw;
    Value *ins[2] = {y, nb};
    Node *add;
    TRY(pat_replace(g, bn, OP_ADD, ins, 2, &add, err));
  }
  *done = true;
  return ST_OK;
}

/* BN -> Conv with no padding: fold into the conv's input channels. */
static Status fold_before_conv(Graph *g, Node *bn, const BnCoef *k, bool *done, Error *err) {
  Node *conv = pat_sole_user(g, bn->outputs[0]);
  if (!conv || conv->op != OP_CONV || conv->inputs[0] != bn->outputs[0]) return ST_OK;
  if (!bn_conv_unpadded(conv)) return ST_OK;
  const Value *w = conv->inputs[1], *b = pat_in(conv, 2);
  if (!ir_value_is_const(w) || (b && !ir_value_is_const(b)) || !dtype_is_float(w->dtype))
    return ST_OK;
  Value *nw, *nb;
  bool ok = false;
  TRY(bn_scale_inputs(g, conv, k, &nw, &nb, &ok, err));
  if (!ok) return ST_OK;
  TRY(pat_resize_inputs(g, conv, 3, err));
  conv->inputs[0] = bn->inputs[0];
  conv->inputs[1] = nw;
  conv->inputs[2] = nb;
  bn->dead = true;
  *done = true;
  return ST_OK;
}

/* What is left: Mul(x, a) then Add(., c), constants shaped [C, 1, ...]. */
static Status lower_standalone(Graph *g, Node *bn, const BnCoef *k, Error *err) {
  Value *x = bn->inputs[0];
  Value *a, *c;
  TRY(bn_channel_consts(g, x, k, &a, &c, err));
  Node *mul = ir_node_new(g, OP_MUL, bn->name, 2, 1);
  Value *t = ir_value_new(g, "");
  if (!mul || !t) return err_set(err, ST_NOMEM, "out of memory");
  mul->opset = bn->opset;
  mul->inputs[0] = x;
  mul->inputs[1] = a;
  ir_node_set_output(mul, 0, t);
  TRY(ir_value_set_type(t, x->dtype, x->rank, x->dims, err));
  pat_move_before(g, mul, bn);
  Value *ins[2] = {t, c};
  Node *add;
  return pat_replace(g, bn, OP_ADD, ins, 2, &add, err);
}

Status pass_fold_batchnorm(Graph *g, Error *err) {
  for (int i = 0; i < g->num_nodes; i++) {
    Node *bn = g->nodes[i];
    if (!bn->dead && (bn->op == OP_MUL || bn->op == OP_ADD)) {
      bool done = false;
      TRY(fold_affine_after_conv(g, bn, &done, err));
      continue;
    }
    if (bn->dead || bn->op != OP_BATCH_NORMALIZATION) continue;
    BnCoef k;
    bool ok = false;
    TRY(bn_coef(bn, &k, &ok, err));
    if (!ok) continue;
    bool done = false;
    Status st = fold_after_conv(g, bn, &k, &done, err);
    if (st == ST_OK && !done) st = fold_after_gemm(g, bn, &k, &done, err);
    if (st == ST_OK && !done) st = fold_before_conv(g, bn, &k, &done, err);
    if (st == ST_OK && !done) st = lower_standalone(g, bn, &k, err);
    bn_coef_free(&k);
    TRY(st);
  }
  return ir_compact(g, err);
}
