/*
 * Vector epilogues of the fused ops onnxc.FusedConv / onnxc.FusedMatMul
 * (semantics in ops/fused.c): the activation named by the node's
 * `activation`, `activation_alpha`, `activation_beta` attributes and the
 * residual add ordered by `residual_first`, built as LLVM IR on float32
 * <N x float> values (any N the vec_math.h functions accept, 1..64).
 *
 * Contract for a lowering (conv kernels in conv_epilogue.c, GEMM kernels):
 *   1. cg_epilogue_supported(n) before claiming the node (*handled = true);
 *      when false, leave the node to its reference kernel.
 *   2. Put the bias into the accumulator (as the plain kernels do), then,
 *      where each output vector `acc` is stored, store instead
 *        cg_epilogue_finish(c, b, n, acc, r)
 *      with r = the residual vector for exactly the output elements of
 *      acc's lanes (cg_epilogue_load_residual for contiguous ones), or
 *      NULL when the node has no residual.  Lanes past the valid count may
 *      hold anything: they must not be stored.
 * Results match the reference kernel (double, one rounding) to a few
 * float32 ulp for the polynomial activations; the residual add is float.
 */
#ifndef ONNXC_CODEGEN_EPILOGUE_H
#define ONNXC_CODEGEN_EPILOGUE_H

#include <stdbool.h>

#include "../../ops/fused.h"
#include "../lower.h"

typedef struct CgEpilogue {
  FusedAct act;
  float alpha, beta;    /* attribute or the activation's default */
  bool residual_first;  /* act(acc + r) instead of act(acc) + r */
} CgEpilogue;

/* Reads n's epilogue attributes; false when they are not valid (unknown
 * activation, residual_first not 0/1, parameters not finite floats where
 * they must be). */
bool cg_epilogue_read(const Node *n, CgEpilogue *e);
/* The node's epilogue attributes can be lowered. */
bool cg_epilogue_supported(const Node *n);

/* The node's activation is a long chain of vector operations (exp, erf or
 * tanh inside), worth applying to several vectors at once. */
bool cg_epilogue_costly(const Node *n);
/* The activation alone on v (<N x float>). */
LLVMValueRef cg_epilogue_act(CgCtx *c, LLVMBuilderRef b, const CgEpilogue *e, LLVMValueRef v);
/* The node's activation on acc (acc unchanged if the attributes are not
 * supported: check cg_epilogue_supported first). */
LLVMValueRef cg_epilogue_apply(CgCtx *c, LLVMBuilderRef b, const Node *n, LLVMValueRef acc);
/* Activation plus residual: residual_first ? act(acc + r) : act(acc) + r;
 * r NULL means no residual (act(acc)). */
LLVMValueRef cg_epilogue_finish(CgCtx *c, LLVMBuilderRef b, const Node *n, LLVMValueRef acc,
                                LLVMValueRef r);
/* <n x float> residual from rbase[idx .. idx+count) (float elements, idx
 * i64); count < n is a masked load with zero in the other lanes. */
LLVMValueRef cg_epilogue_load_residual(CgCtx *c, LLVMBuilderRef b, int n, LLVMValueRef rbase,
                                       LLVMValueRef idx, int count);

#endif
