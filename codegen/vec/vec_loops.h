/*
 * Loop and memory helpers for hand-built vector kernels: counted loops with
 * an i64 induction variable (basic blocks + phi), element addressing, and
 * full or masked vector loads/stores.  Trip counts and tail masks are
 * compile-time constants in every caller, so a tail of k < N lanes is one
 * llvm.masked.load/store with a constant mask.  Used by lower_elementwise.c
 * and free for any other lowering.
 */
#ifndef ONNXC_CODEGEN_VEC_LOOPS_H
#define ONNXC_CODEGEN_VEC_LOOPS_H

#include "../lower.h"

typedef struct VlLoop {
  LLVMBasicBlockRef header, exit;
  LLVMValueRef iv; /* i64 induction variable (phi in header) */
  int64_t step;
} VlLoop;

/* for (iv = start; iv < end; iv += step): emits the header and positions b
 * in the body; returns the induction variable. */
LLVMValueRef vl_loop_begin(CgCtx *c, LLVMBuilderRef b, LLVMValueRef start, LLVMValueRef end,
                           int64_t step, VlLoop *lp);
/* Closes the body (wherever b now is) and positions b after the loop. */
void vl_loop_end(CgCtx *c, LLVMBuilderRef b, VlLoop *lp);

LLVMValueRef vl_i64(CgCtx *c, int64_t v);
/* &base[idx] for elements of type et. */
LLVMValueRef vl_gep(CgCtx *c, LLVMBuilderRef b, LLVMTypeRef et, LLVMValueRef base,
                    LLVMValueRef idx);
/* <count> lanes of et from &base[idx]; count < lanes of vt means a masked
 * load whose other lanes are `pass` (NULL: zero). */
LLVMValueRef vl_load(CgCtx *c, LLVMBuilderRef b, LLVMTypeRef vt, LLVMValueRef base,
                     LLVMValueRef idx, int count, LLVMValueRef pass);
void vl_store(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx,
              int count);
/* <n x i1> constant with the first count lanes true. */
LLVMValueRef vl_mask(CgCtx *c, int n, int count);
/* A float alloca in the function's entry block (mem2reg removes it). */
LLVMValueRef vl_alloca(CgCtx *c, LLVMBuilderRef b, LLVMTypeRef t);

#endif
