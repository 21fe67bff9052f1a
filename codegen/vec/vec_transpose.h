/*
 * Transpose as blocked copies.  Handles every permutation that swaps two
 * adjacent groups of axes, i.e. views the input as [B, I, J, K] and writes
 * [B, J, I, K]: the attention permutations (0,2,1,3), (0,2,3,1),
 * (0,1,3,2), the 3-D (0,2,1)/(1,0,2) and the 2-D (1,0).  K > 1 copies
 * K-float rows with vectors; K == 1 transposes vf32 x vf32 tiles of the
 * I x J matrix in registers (shufflevector rounds), masked at the edges.
 */
#ifndef ONNXC_CODEGEN_VEC_TRANSPOSE_H
#define ONNXC_CODEGEN_VEC_TRANSPOSE_H

#include "../lower.h"

/* r[0..w) (w vectors of w lanes, w a power of two) transposed in
 * registers: lane j of r[i] becomes lane i of r[j]. */
void vt_transpose_regs(CgCtx *c, LLVMBuilderRef b, LLVMValueRef *r, int w);
/* r[0..rows) (rows vectors of w lanes, both powers of two, rows <= w) as a
 * rows x w matrix M, transposed in q = w / rows column blocks: afterwards
 * lane (col * rows + row) of r[k] is M[row][k * q + col], so each column's
 * rows are contiguous.  rows == w is vt_transpose_regs. */
void vt_transpose_blocks(CgCtx *c, LLVMBuilderRef b, LLVMValueRef *r, int rows, int w);
/* Emits the kernel and its call at c->b and returns true, or returns false
 * (emitting nothing) when x is not float32 or perm is not such a swap. */
bool vt_emit_transpose(CgCtx *c, const Value *x, int nperm, const int64_t *perm, LLVMValueRef in,
                       LLVMValueRef out);
/* A float32 Transpose whose output's last axis is another axis a of the
 * input (the window partitions and merges of HRFormer and Swin): for every
 * index of the other axes, the (a, last) plane is transposed in register
 * tiles, vector loads along the input's last axis and vector stores along
 * the output's.  false (nothing emitted) when perm keeps the last axis
 * last, either plane side is 1, or more than 6 other axes are not 1. */
bool vt_emit_transpose_planes(CgCtx *c, const Value *x, int nperm, const int64_t *perm,
                              LLVMValueRef in, LLVMValueRef out);

#endif
