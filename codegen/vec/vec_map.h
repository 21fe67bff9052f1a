/*
 * Elementwise "map" kernels with numpy broadcasting, for float32 (and bool
 * condition) operands.  vmap_plan views the output as [rows, len]: len is
 * the longest run of trailing dims in which every operand is either
 * contiguous or constant (a splat), and in the leading dims each operand's
 * non-broadcast dims must form one contiguous range, so its row offset is
 * ((row / div) % mod) * mul.  That covers same shape, scalars, bias rows
 * ([N] onto [M,N]), per-channel ([C,1,1] onto [N,C,H,W]), per-row ([M,1])
 * and outer-product-like ([M,1,K] with [1,N,K]) patterns; anything else is
 * refused and the node keeps its reference kernel.
 */
#ifndef ONNXC_CODEGEN_VEC_MAP_H
#define ONNXC_CODEGEN_VEC_MAP_H

#include "../lower.h"

#define VMAP_MAX_IN 8 /* FE_MAX_INPUTS: every fused program gets a vector kernel */

typedef struct VmapOperand {
  bool is_bool; /* bool (i8 in memory, <N x i1> handed to the op) */
  bool contig;  /* contiguous along the row; else one value per row */
  int64_t div, mod, mul;
} VmapOperand;

typedef struct VmapPlan {
  int nin;
  int64_t rows, len;
  VmapOperand op[VMAP_MAX_IN];
} VmapPlan;

/* The vector op: x[i] is <N x float> (or <N x i1> for bool operands);
 * returns <N x float>. */
typedef LLVMValueRef (*VmapFn)(CgCtx *c, LLVMBuilderRef b, LLVMValueRef const x[], const void *ud);

/* False when an operand is not float32/bool, shapes are not static, the
 * output is empty, or the broadcast pattern is not one of the above. */
bool vmap_plan(const Value *const ins[], int nin, const Value *out, VmapPlan *p);

/* Emits kernel "onnxc.<tag>.<k>" and its call at c->b. */
void vmap_emit(CgCtx *c, const VmapPlan *p, const char *tag, VmapFn fn, const void *ud,
               LLVMValueRef const in[], LLVMValueRef out);

#endif
