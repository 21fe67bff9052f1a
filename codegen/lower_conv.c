/* codegen/lower_conv.c: specialized lowerings (placeholder: every node falls back to its reference kernel). */
#include "lower.h"

Status cg_lower_conv(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_max_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_average_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_global_average_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_global_max_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_batch_normalization(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_conv_transpose(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_resize(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

