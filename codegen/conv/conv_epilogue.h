/*
 * The epilogue hook of the conv-family emitters (conv_direct.c,
 * conv_pointwise.c, conv_window.c) for onnxc.FusedConv: where a kernel
 * stores an output vector it calls one of these, which apply the node's
 * activation and residual (epilogue.h) when cv->epi is set and otherwise
 * emit exactly the store the plain Conv kernel always did.  The residual
 * element of an output address is found at the same element offset from
 * the kernel's R parameter (param 2) as the address has from Y (param 1).
 */
#ifndef ONNXC_CODEGEN_CONV_EPILOGUE_H
#define ONNXC_CODEGEN_CONV_EPILOGUE_H

#include "conv_emit.h"
#include "conv_ir.h"

/* Pointer parameters of the kernel: x, y, plus r with a residual. */
int cv_epi_nptr(const CvConv *cv);
/* Fills the call arguments (x, y [, r]) and returns their count. */
int cv_epi_args(const CvConv *cv, LLVMValueRef x, LLVMValueRef y, LLVMValueRef args[3]);

/* &R[p - Y] inside the kernel: the residual element of output address p. */
LLVMValueRef cv_epi_residual_ptr(CvB *cb, LLVMValueRef p);
/* Stores the first `lanes` lanes of vector v at p (masked when < vf). */
void cv_epi_store_vec(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p, int lanes);
/* The same for a vector of any width (up to 64 lanes), count lanes stored:
 * one wide vector is split by LLVM into interleaved register operations. */
void cv_epi_store_wide(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p, int count);
/* Lane l < n of v, after the epilogue, stored at ptrs[l] (any addresses
 * of the output): the residual lanes are read before any lane is stored. */
void cv_epi_store_lanes(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef const ptrs[], int n);
/* Stores float v at p. */
void cv_epi_store_scalar(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p);
/* v after the epilogue, for a vector whose lane l (< lanes) is the output
 * element at p + l * stride floats; v itself without an epilogue. */
LLVMValueRef cv_epi_strided(CvB *cb, const CvConv *cv, LLVMValueRef v, LLVMValueRef p,
                            int64_t stride, int lanes);

#endif
