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

/* The units [lo, hi) of a partitioned kernel (parallel.h) as a row-major
 * nest of loops over dims[0..n): unit u is the digits (i0, ..., in-1) of u
 * in that mixed radix.  Level j runs over the whole dim except where every
 * outer level is at the first (last) iteration of the range, where it
 * starts at lo's digit (ends after hi-1's), so the nest visits exactly the
 * units of the range, in the order a serial loop nest would.  Open the
 * levels in order with vl_nest_level (code between two levels runs once
 * per iteration of the outer one); vl_nest_end closes them all.  The
 * range must not be empty. */
enum { VL_NEST_MAX = 6 };
typedef struct VlNest {
  int n, open;
  int64_t dims[VL_NEST_MAX];
  LLVMValueRef lo_d[VL_NEST_MAX], hi_d[VL_NEST_MAX]; /* digits of lo and hi - 1 */
  LLVMValueRef first, last;                          /* i1: outer levels at the range's ends */
  VlLoop loops[VL_NEST_MAX];
} VlNest;

void vl_nest_begin(CgCtx *c, LLVMBuilderRef b, VlNest *ns, int n, const int64_t dims[],
                   LLVMValueRef lo, LLVMValueRef hi);
LLVMValueRef vl_nest_level(CgCtx *c, LLVMBuilderRef b, VlNest *ns);
void vl_nest_end(CgCtx *c, LLVMBuilderRef b, VlNest *ns);
/* Product of dims: the nest's unit count. */
int64_t vl_nest_units(int n, const int64_t dims[]);

/* if (cond) { ... } [else { ... }]: vl_if_begin positions b in the then
 * block, vl_if_else (optional) in the else block, vl_if_end after both. */
typedef struct VlIf {
  LLVMBasicBlockRef other, join;
  bool has_else;
} VlIf;
void vl_if_begin(CgCtx *c, LLVMBuilderRef b, LLVMValueRef cond, VlIf *f);
void vl_if_else(CgCtx *c, LLVMBuilderRef b, VlIf *f);
void vl_if_end(CgCtx *c, LLVMBuilderRef b, VlIf *f);

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
