/* codegen/lower_elementwise.c: specialized lowerings (placeholder: every node falls back to its reference kernel). */
#include "lower.h"

Status cg_lower_abs(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_neg(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_relu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_leaky_relu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_sigmoid(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_tanh(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_erf(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_exp(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_log(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_sqrt(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_reciprocal(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_gelu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_hard_sigmoid(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_hard_swish(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_clip(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_add(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_sub(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_mul(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_div(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_pow(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_max(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_min(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_where(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_softmax(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_log_softmax(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_layer_normalization(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_reduce_mean(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_reduce_sum(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_reduce_max(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_transpose(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_concat(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_slice(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_gather(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

Status cg_lower_cast(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)c; (void)n; (void)in; (void)out; (void)err;
  *handled = false;
  return ST_OK;
}

