/*
 * onnxc.Attention lowering (semantics in ops/attention.c): float32
 * softmax(scale * Q.K^T + bias) . V by the flash-attention kernel of
 * codegen/attention/attn_emit.c, which never materializes the score matrix.  This
 * file checks the node (float32, static shapes, identical leading dims,
 * a bias broadcastable to [..., N, M] whose last dim is contiguous or
 * broadcast) and computes the bias strides and per-leading-index offsets.
 * Anything else -- other dtypes, empty sizes, Dv > 1024, D > 1024 -- falls
 * back to the reference kernel; long key sequences are streamed in chunks.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ops/ops.h"
#include "attn_emit.h"
#include "../lower.h"

static bool is_f32_static(const Value *v) {
  return v && v->dtype == DT_FLOAT32 && ir_value_is_static(v);
}

/* Same checks as the reference's shape rule, answered with true/false. */
static bool attn_shapes_ok(const Node *n) {
  const Value *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2];
  const Value *b = n->num_inputs > 3 ? n->inputs[3] : NULL;
  if (!is_f32_static(q) || !is_f32_static(k) || !is_f32_static(v)) return false;
  if (b && !is_f32_static(b)) return false;
  int r = q->rank;
  if (r < 2 || r > IR_MAX_RANK || k->rank != r || v->rank != r) return false;
  for (int i = 0; i < r - 2; i++)
    if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i]) return false;
  if (k->dims[r - 1] != q->dims[r - 1] || v->dims[r - 2] != k->dims[r - 2]) return false;
  const Value *o = n->outputs[0];
  if (!is_f32_static(o) || o->rank != r || o->dims[r - 1] != v->dims[r - 1]) return false;
  if (b) {
    if (b->rank > r) return false;
    for (int i = 0; i < b->rank; i++) {
      int a = r - b->rank + i;
      int64_t want = a == r - 1 ? k->dims[r - 2] : q->dims[a];
      if (b->dims[i] != 1 && b->dims[i] != want) return false;
    }
  }
  return true;
}

Status cg_lower_attention(CgCtx *c, const Node *n, LLVMValueRef const in[],
                          LLVMValueRef const out[], bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 3 || n->num_inputs > 4 || n->num_outputs < 1)
    return ST_OK;
  if (!in[0] || !in[1] || !in[2] || !out[0] || !attn_shapes_ok(n)) return ST_OK;
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
  if (!attn_plan_fits(c, &p)) return ST_OK;

  int64_t *b_off = NULL;
  if (b) {
    int64_t sdims[IR_MAX_RANK], bs[IR_MAX_RANK];
    memcpy(sdims, q->dims, sizeof(int64_t) * (size_t)r);
    sdims[r - 1] = p.m;
    ops_broadcast_strides(b->rank, b->dims, r, sdims, bs);
    if (bs[r - 1] != 0 && bs[r - 1] != 1) return ST_OK;
    p.bias_sn = bs[r - 2];
    p.bias_sm = bs[r - 1];
    b_off = malloc((size_t)p.batches * sizeof *b_off);
    if (!b_off) return err_set(err, ST_NOMEM, "out of memory for attention bias offsets");
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
  Status st = attn_emit(c, &p, in[0], in[1], in[2], b ? in[3] : NULL, out[0], err);
  free(b_off);
  if (st == ST_OK) *handled = true;
  return st;
}
