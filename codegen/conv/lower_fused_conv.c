/*
 * codegen/conv/lower_fused_conv.c: onnxc.FusedConv and onnxc.SiLU (semantics in
 * ops/fused.c).  FusedConv reuses the plain Conv emitters (direct, 1x1,
 * depthwise; coverage decided by lower_conv.c) with the epilogue of
 * epilogue.h applied where each output vector is stored, so a fused
 * Conv+BN+activation(+residual) is as fast as the bare Conv.  Anything the
 * Conv lowering does not cover, an epilogue attribute it cannot lower, or a
 * residual that is not a float32 tensor of exactly the output's shape
 * keeps the reference kernel.  SiLU is a vectorized elementwise map.
 */
#include <string.h>

#include "conv_epilogue.h"
#include "../vec/epilogue.h"
#include "../vec/vec_map.h"
#include "../vec/vec_math.h"


static bool residual_fits(const Value *r, const Value *y) {
  if (!r || !y || r->dtype != DT_FLOAT32 || !ir_value_is_static(r) || r->rank != y->rank)
    return false;
  return memcmp(r->dims, y->dims, sizeof(int64_t) * (size_t)y->rank) == 0;
}

Status cg_lower_fused_conv(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 2 || n->num_inputs > 4 || n->num_outputs < 1 || !n->outputs[0])
    return ST_OK;
  if (!cg_epilogue_supported(n)) return ST_OK;
  CvEpilogue epi = {.node = n, .r = NULL};
  if (n->num_inputs > 3 && n->inputs[3]) {
    if (!residual_fits(n->inputs[3], n->outputs[0]) || !in[3]) return ST_OK;
    epi.r = in[3];
  }
  return cv_lower_conv_node(c, n, in, out, &epi, handled, err);
}

static LLVMValueRef silu_fn(CgCtx *c, LLVMBuilderRef b, LLVMValueRef const x[], const void *ud) {
  (void)ud;
  return LLVMBuildFMul(b, x[0], vm_sigmoid(c, b, x[0]), "");
}

Status cg_lower_silu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err) {
  (void)err;
  *handled = false;
  if (n->num_inputs != 1 || n->num_outputs < 1 || !in[0] || !out[0]) return ST_OK;
  const Value *x = n->inputs[0], *y = n->outputs[0];
  if (!x || !y || x->dtype != DT_FLOAT32 || y->dtype != DT_FLOAT32 || !ir_value_is_static(x) ||
      !ir_value_is_static(y))
    return ST_OK;
  VmapPlan p;
  if (!vmap_plan(&x, 1, y, &p)) return ST_OK;
  vmap_emit(c, &p, "silu", silu_fn, NULL, in, out[0]);
  *handled = true;
  return ST_OK;
}
