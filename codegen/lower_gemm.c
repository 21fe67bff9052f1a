/* codegen/lower_gemm.c: specialized lowerings (placeholder: every node falls back to its reference kernel). */
#include "lower.h"

Status cg_lower_matmul(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_gemm(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

