/*
 * The constant bias of an attention score chain (fuse-attention).
 *
 * The chain between Q.K^T and Softmax is affine in the scores S: scalar
 * factors, constant Adds and Reshapes, so chain(S) = scale * S + chain(0).
 * chain(0) is computed here by replaying the chain on zeros in double
 * (Swin's relative-position bias and its shifted-window mask, added through
 * a Reshape to [B, nW, H, N, N] and back, become one bias over the flat
 * [B*nW, H, N, N] scores), then shrunk to size 1 along every dim it does not
 * vary on, so a plain relative-position bias stays [1, H, N, N].
 */
#include "attn_match.h"

#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

/* Bigger score tensors are not precomputed (the pattern is left alone). */
#define ATTN_MAX_BIAS_ELEMS ((int64_t)1 << 24)

/* Adds the constant c, broadcast to [rank, dims], to buf. */
static void add_broadcast(double *buf, int rank, const int64_t *dims, const Value *c) {
  int64_t st[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  ops_broadcast_strides(c->rank, c->dims, rank, dims, st);
  int64_t total = ops_numel(rank, dims), off = 0;
  for (int64_t i = 0; i < total; i++) {
    buf[i] += dtype_load_f64(c->dtype, c->data, (size_t)off);
    for (int a = rank - 1; a >= 0; a--) {
      off += st[a];
      if (++idx[a] < dims[a]) break;
      off -= st[a] * idx[a];
      idx[a] = 0;
    }
  }
}

/* True if buf [rank, dims] equals its slice at index 0 along `axis`. */
static bool constant_along(const double *buf, int rank, const int64_t *dims, int axis) {
  int64_t st[IR_MAX_RANK];
  ops_strides(rank, dims, st);
  int64_t total = ops_numel(rank, dims);
  for (int64_t i = 0; i < total; i++) {
    int64_t k = (i / st[axis]) % dims[axis];
    if (k != 0 && buf[i] != buf[i - k * st[axis]]) return false;
  }
  return true;
}

Status attn_const_bias(Graph *g, const AttnMatch *m, Value **out_bias, bool *too_big,
                       Error *err) {
  const Value *s = m->qk->outputs[0];
  int r = s->rank;
  int64_t total = ir_value_numel(s);
  *out_bias = NULL;
  *too_big = total > ATTN_MAX_BIAS_ELEMS;
  if (total <= 0 || *too_big) return ST_OK;
  double *buf = calloc((size_t)total, sizeof *buf);
  if (!buf) return err_set(err, ST_NOMEM, "out of memory for an attention bias");
  const Value *prev = s;
  for (int i = 0; i < m->num_chain; i++) {
    const Node *c = m->chain[i];
    const Value *out = c->outputs[0];
    if (c->op == OP_MUL || c->op == OP_DIV) {
      const Value *k = ir_value_is_const(c->inputs[1]) ? c->inputs[1] : c->inputs[0];
      double f = dtype_load_f64(k->dtype, k->data, 0);
      if (c->op == OP_DIV) f = 1.0 / f;
      for (int64_t e = 0; e < total; e++) buf[e] *= f;
    } else if (c->op == OP_ADD) {
      const Value *other = c->inputs[0] == prev ? c->inputs[1] : c->inputs[0];
      add_broadcast(buf, out->rank, out->dims, other);
    }
    prev = out;
  }
  /* Shrink: constant along a and along b separately means constant along both. */
  int64_t dims[IR_MAX_RANK], st[IR_MAX_RANK];
  for (int a = 0; a < r; a++)
    dims[a] = s->dims[a] > 1 && constant_along(buf, r, s->dims, a) ? 1 : s->dims[a];
  ops_strides(r, s->dims, st);
  Value *b = ir_const_new(g, "", s->dtype, r, dims, NULL);
  if (b) b->const_origin = arena_printf(g->arena, "%s/attention_bias", m->pv->name ? m->pv->name : "");
  if (!b || !b->const_origin) {
    free(buf);
    return err_set(err, ST_NOMEM, "out of memory for an attention bias");
  }
  int64_t idx[IR_MAX_RANK] = {0}, n = ops_numel(r, dims);
  for (int64_t i = 0; i < n; i++) {
    int64_t off = 0;
    for (int a = 0; a < r; a++) off += idx[a] * st[a];
    dtype_store_f64(s->dtype, b->data, (size_t)i, buf[off], false);
    for (int a = r - 1; a >= 0; a--) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
    }
  }
  free(buf);
  *out_bias = b;
  return ST_OK;
}
