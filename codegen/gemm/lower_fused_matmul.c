/*
 * onnxc.FusedMatMul lowering (semantics in ops/fused.c): the MatMul GEMM
 * kernel of codegen/gemm/gemm_emit.c with the bias added, the activation and
 * the residual applied (codegen/vec/epilogue.c, honoring residual_first) on
 * each output vector at the last K block's store, while it is still in a
 * register.  The MatMul planning (batching, constant B packing, runtime B)
 * is lower_gemm.c's; this file only checks the fused operands and supplies
 * the epilogue hook.  Any residual that broadcasts to the output is
 * addressed through strides plus a per-batch offset table.  Non-float32
 * operands, a bias that is not [N] float32 and unsupported epilogue
 * attributes fall back to the reference kernel.
 */
#include "../vec/epilogue.h"
#include "gemm_emit.h"
#include "../lower.h"

static LLVMValueRef fused_matmul_hook(void *ctx, CgCtx *c, LLVMBuilderRef b, LLVMValueRef acc,
                                      LLVMValueRef r) {
  return cg_epilogue_finish(c, b, (const Node *)ctx, acc, r);
}

static bool is_f32_static(const Value *v) {
  return v->dtype == DT_FLOAT32 && ir_value_is_static(v);
}

/* r broadcasts unidirectionally to y (the strides computed from its dims
 * stay inside its data). */
static bool residual_broadcasts(const Value *r, const Value *y, LLVMValueRef ptr) {
  if (!ptr || !is_f32_static(r) || !y || r->rank > y->rank) return false;
  for (int i = 0; i < r->rank; i++) {
    int64_t rd = r->dims[i], yd = y->dims[y->rank - r->rank + i];
    if (rd != 1 && rd != yd) return false;
  }
  return true;
}

Status cg_lower_fused_matmul(CgCtx *c, const Node *n, LLVMValueRef const in[],
                             LLVMValueRef const out[], bool *handled, Error *err) {
  *handled = false;
  if (n->num_inputs < 2 || n->num_inputs > 4 || n->num_outputs < 1)
    return ST_OK;
  if (!cg_epilogue_supported(n)) return ST_OK;
  const Value *b = n->inputs[1];
  const Value *bias = n->num_inputs > 2 ? n->inputs[2] : NULL;
  const Value *r = n->num_inputs > 3 ? n->inputs[3] : NULL;
  if (!b || b->rank < 2) return ST_OK;
  if (bias && (!in[2] || !is_f32_static(bias) || bias->rank != 1 ||
               bias->dims[0] != b->dims[b->rank - 1]))
    return ST_OK;
  if (r && !residual_broadcasts(r, n->outputs[0], in[3])) return ST_OK;
  GemmEpilogue epi = {.fn = fused_matmul_hook, .ctx = (void *)n, .has_res = r != NULL,
                      .costly = cg_epilogue_costly(n)};
  return gemm_lower_matmul_fused(c, n, in, out, bias ? in[2] : NULL, &epi, r, r ? in[3] : NULL,
                                 handled, err);
}
