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
#include <stdlib.h>
#include <string.h>

#include "../../ops/ops.h"
#include "attn_emit.h"
#include "attn_views.h"
#include "../lower.h"

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
  st = attn_emit(c, &p, in[0], in[1], in[2], b ? in[3] : NULL, out[0], err);
  free(b_off);
  for (int i = 0; i < 4; i++) free(offs[i]);
  if (st == ST_OK) *handled = true;
  return st;
}
