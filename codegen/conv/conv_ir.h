/*
 * Small LLVM IR building helpers shared by the Conv / pooling /
 * BatchNormalization lowerings (codegen/conv/lower_conv.c and the conv_*.c
 * emitters): constants, float element addressing, vector loads and stores
 * (plain, strided through a shuffle, masked), FMA, counted loops with an
 * i64 induction variable, and allocas placed in the entry block so that
 * mem2reg/SROA turn accumulators into registers.
 *
 * Every helper builds at cb->b inside the kernel function cb->fn.
 */
#ifndef ONNXC_CODEGEN_CONV_IR_H
#define ONNXC_CODEGEN_CONV_IR_H

#include <stdint.h>

#include "../lower.h"

typedef struct CvB {
  CgCtx *c;
  LLVMBuilderRef b;
  LLVMValueRef fn;
  LLVMTypeRef f32, i1, i32, i64, ptr, vty; /* vty: <vf x float> */
  int vf;
  LLVMValueRef lo, hi; /* the units [lo, hi) this call runs (parallel.h) */
} CvB;

typedef struct CvLoop {
  LLVMBasicBlockRef head, body, exit;
  LLVMValueRef iv;
  int64_t step;
} CvLoop;

/* Starts a partitioned kernel `onnxc.<tag>.<k>` with nptr pointer
 * parameters and the unit range cb->lo, cb->hi. */
void cv_begin(CvB *cb, CgCtx *c, const char *tag, int nptr);
/* Switches the kernel (just begun) to 8-lane vectors when the target runs
 * 512-bit FMAs as two halves (CgCtx.split_512), so 8 lanes cost no FMA
 * throughput, and a vectorized dimension of len elements wastes fewer
 * lanes that way (18 channels: 24 lanes instead of 32).  The kernel's
 * name gains ".v8". */
bool cv_narrow_vectors(CvB *cb, int64_t len);
/* Calls the finished kernel over units [0, units) at c->b (parallel.h);
 * cost_ns: the node's estimated single-core time. */
void cv_call(CvB *cb, LLVMValueRef const args[], int nargs, int64_t units, double cost_ns);
/* Finishes the kernel (ret void) and disposes of its builder. */
void cv_end(CvB *cb);

LLVMValueRef cv_i64(CvB *cb, int64_t v);
LLVMValueRef cv_f32(CvB *cb, float v);
LLVMValueRef cv_add(CvB *cb, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cv_mul(CvB *cb, LLVMValueRef a, int64_t k);
/* a * k + d, folding the trivial cases. */
LLVMValueRef cv_mad(CvB *cb, LLVMValueRef a, int64_t k, int64_t d);

/* &base[idx] for float elements (idx i64). */
LLVMValueRef cv_gep(CvB *cb, LLVMValueRef base, LLVMValueRef idx);
LLVMValueRef cv_gepc(CvB *cb, LLVMValueRef base, int64_t idx);
LLVMValueRef cv_load(CvB *cb, LLVMValueRef p);                 /* float */
LLVMValueRef cv_load_i32(CvB *cb, LLVMValueRef base, LLVMValueRef idx); /* sext to i64 */
void cv_store(CvB *cb, LLVMValueRef v, LLVMValueRef p);        /* float or vector */
/* <n x float> from p[0], p[s], ..., p[(n-1)*s]: one load of the covering
 * span plus a shuffle (no gathers, no bytes read past the last element). */
LLVMValueRef cv_load_vs(CvB *cb, LLVMValueRef p, int n, int64_t s);
/* Masked load/store of the first `lanes` (compile-time) lanes of a vty. */
LLVMValueRef cv_load_masked(CvB *cb, LLVMValueRef p, int lanes, LLVMValueRef passthru);
void cv_store_masked(CvB *cb, LLVMValueRef v, LLVMValueRef p, int lanes);

LLVMValueRef cv_splat(CvB *cb, LLVMValueRef s, int n);
/* a * b + acc (llvm.fma on FMA targets, llvm.fmuladd otherwise). */
LLVMValueRef cv_fma(CvB *cb, LLVMValueRef a, LLVMValueRef b, LLVMValueRef acc);
/* Calls the intrinsic `name` overloaded on tys[0..ntys) with args. */
LLVMValueRef cv_intrin(CvB *cb, const char *name, LLVMTypeRef *tys, int ntys, LLVMValueRef *args,
                       int n);

/* An alloca of ty in the entry block. */
LLVMValueRef cv_alloca(CvB *cb, LLVMTypeRef ty);

/* for (iv = lo; iv < hi; iv += step): positions the builder in the body. */
CvLoop cv_for(CvB *cb, LLVMValueRef lo, LLVMValueRef hi, int64_t step);
void cv_next(CvB *cb, CvLoop *l);
/* cv_next marking the loop "do not unroll": a tap loop whose unrolled
 * copies would let the scheduler hoist loads until registers spill. */
void cv_next_rolled(CvB *cb, CvLoop *l);

/* Constant i32 / float tables as private globals. */
LLVMValueRef cv_table_i32(CvB *cb, const int32_t *v, int64_t n, const char *tag);

#endif
