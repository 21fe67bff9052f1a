/*
 * onnxc.Attention lowering (semantics in ops/attention.c): float32
 * softmax(scale * Q.K^T + bias) . V by the flash-attention kernel of
 * codegen/attention/attn_emit.c, which never materializes the score matrix.  This
 * file checks the node (float32, static shapes, identical leading dims,
 * a bias broadcastable to [..., N, M] whose last dim is contiguous or
 * broadcast) and computes the bias strides and per-leading-index offsets.
 * Anything else -- other dtypes, empty sizes, Dv > 1024, D > 1024 -- falls
 * back to the reference kernel; long key sequences are streamed in chunks.
 * Q, K, V and O may lie inside head split / merge Transposes that the
 * memory plan turned into views (attn_views.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ops/ops.h"
#include "attn_emit.h"
#include "attn_views.h"
#include "../lower.h"

/* Hash of `floats` floats (FNV-1a over their bytes). */
static uint64_t slice_hash(const float *x, int64_t floats) {
  const unsigned char *b = (const unsigned char *)x;
  uint64_t h = UINT64_C(1469598103934665603);
  for (size_t i = 0; i < (size_t)floats * sizeof *x; i++) h = (h ^ b[i]) * UINT64_C(1099511628211);
  return h;
}

/* A constant bias whose per-leading-index slices repeat, emitted as its
 * distinct slices.  Swin folds its relative-position bias and shifted-
 * window mask into one [nW, H, N, N] constant (1.8 MB in stage 1) whose
 * slices stream from memory once per run, 0.17 ms more than the unshifted
 * blocks; only four masks exist (inner windows, last row, last column,
 * corner), so 12 slices of 9.6 KB stay in cache.  On success *blob is the
 * new constant and p's strides and b_off (rewritten in place) index it;
 * *blob stays NULL when nothing repeats. */
static Status dedupe_bias(CgCtx *c, const Value *b, AttnPlan *p, int64_t *b_off,
                          LLVMValueRef *blob, Error *err) {
  *blob = NULL;
  int64_t rows = p->bias_sn ? p->n : 1, cols = p->bias_sm ? p->m : 1;
  int64_t sl = rows * cols, nb = p->batches;
  if (!b->data || nb < 2 || sl > (INT64_C(1) << 24) / nb) return ST_OK;
  const float *src = b->data;
  float *all = malloc((size_t)(nb * sl) * sizeof *all);
  uint64_t *hash = malloc((size_t)nb * sizeof *hash);
  int64_t *uid = malloc((size_t)nb * sizeof *uid);
  Status st = ST_OK;
  if (!all || !hash || !uid) {
    st = err_set(err, ST_NOMEM, "out of memory for an attention bias");
    goto done;
  }
  int64_t nu = 0;
  for (int64_t t = 0; t < nb; t++) {
    float *dst = all + nu * sl;
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++)
        dst[i * cols + j] = src[b_off[t] + i * p->bias_sn + j * p->bias_sm];
    uint64_t h = slice_hash(dst, sl);
    uid[t] = nu;
    for (int64_t u = 0; u < nu; u++)
      if (hash[u] == h && memcmp(all + u * sl, dst, (size_t)sl * sizeof *dst) == 0) {
        uid[t] = u;
        break;
      }
    if (uid[t] == nu) hash[nu++] = h;
  }
  /* Only when the distinct slices are fewer than the constant's own. */
  if (nu * sl < ir_value_numel(b)) {
    *blob = cg_weight_blob(c, all, (size_t)(nu * sl) * sizeof *all, "attn_bias");
    for (int64_t t = 0; t < nb; t++) b_off[t] = uid[t] * sl;
    p->bias_sn = p->bias_sn ? cols : 0;
  }
done:
  free(all);
  free(hash);
  free(uid);
  return st;
}

Status cg_lower_attention(CgCtx *c, const Node *n, LLVMValueRef const in[],
                          LLVMValueRef const out[], bool *handled, Error *err) {
  *handled = false;
  if (!attn_lowerable(n) || !in[0] || !in[1] || !in[2] || !out[0]) return ST_OK;
  const Value *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2];
  const Value *b = n->num_inputs > 3 ? n->inputs[3] : NULL;
  if (b && !in[3]) return ST_OK;
  int r = q->rank;
  AttnPlan p = {
      .n = q->dims[r - 2],
      .m = k->dims[r - 2],
      .d = q->dims[r - 1],
      .dv = v->dims[r - 1],
      .batches = ops_numel(r - 2, q->dims),
      .scale = ir_attr_float(n, "scale", 1.0f),
      .has_bias = b != NULL,
  };
  /* Q, K, V read inside a head split Transpose's input, O written into a
   * head merge's result (attn_views.h): the memory plan counted on it. */
  int64_t *offs[4] = {NULL, NULL, NULL, NULL}, lds[4];
  Status st = ST_OK;
  for (int i = 0; i < 4 && st == ST_OK; i++)
    st = attn_view_layout(c->g, i < 3 ? n->inputs[i] : n->outputs[0], i == 3, &lds[i], &offs[i],
                          err);
  p.q_ld = lds[0], p.k_ld = lds[1], p.v_ld = lds[2], p.o_ld = lds[3];
  p.q_off = offs[0], p.k_off = offs[1], p.v_off = offs[2], p.o_off = offs[3];
  bool views = offs[0] || offs[1] || offs[2] || offs[3];
  if (st == ST_OK && !attn_plan_fits(c, &p))
    st = views ? ir_node_error(err, ST_INTERNAL, c->g, n, "attention in place of a Transpose "
                               "does not fit the kernel")
               : ST_OK;
  if (st != ST_OK || !attn_plan_fits(c, &p)) {
    for (int i = 0; i < 4; i++) free(offs[i]);
    return st;
  }

  int64_t *b_off = NULL;
  if (b) {
    int64_t sdims[IR_MAX_RANK], bs[IR_MAX_RANK];
    memcpy(sdims, q->dims, sizeof(int64_t) * (size_t)r);
    sdims[r - 1] = p.m;
    ops_broadcast_strides(b->rank, b->dims, r, sdims, bs);
    /* attn_lowerable: the bias's last dim is 1 or M, so this stride is 0 or 1. */
    p.bias_sn = bs[r - 2];
    p.bias_sm = bs[r - 1];
    b_off = malloc((size_t)p.batches * sizeof *b_off);
    if (!b_off) {
      for (int i = 0; i < 4; i++) free(offs[i]);
      return err_set(err, ST_NOMEM, "out of memory for attention bias offsets");
    }
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t t = 0; t < p.batches; t++) {
      int64_t off = 0;
      for (int i = 0; i < r - 2; i++) off += idx[i] * bs[i];
      b_off[t] = off;
      for (int i = r - 3; i >= 0; i--) {
        if (++idx[i] < q->dims[i]) break;
        idx[i] = 0;
      }
    }
    p.b_off = b_off;
  }
  LLVMValueRef bias = b ? in[3] : NULL, distinct = NULL;
  if (b) st = dedupe_bias(c, b, &p, b_off, &distinct, err);
  if (distinct) bias = distinct;
  if (st == ST_OK) st = attn_emit(c, &p, in[0], in[1], in[2], bias, out[0], err);
  free(b_off);
  for (int i = 0; i < 4; i++) free(offs[i]);
  if (st == ST_OK) *handled = true;
  return st;
}
