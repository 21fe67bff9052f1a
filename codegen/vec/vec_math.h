/*
 * Vector math for hand-built kernels: float32 exp, log, erf, tanh, sigmoid
 * and the two Gelu forms as straight-line LLVM IR on <N x float> values
 * (N taken from the argument's type, 1..64 lanes, so GEMM epilogues and
 * fused activations can reuse them at any width).  No libm calls: range
 * reduction plus polynomials fitted for this file (Chebyshev interpolation,
 * see vec_math.c).  Accuracy: exp/tanh/sigmoid within 4 float32 ulp, erf
 * within 1e-6 absolute; +-inf, NaN and overflow/underflow behave like libm.
 *
 * Also the small IR helpers every vector lowering needs (splats,
 * intrinsic calls, horizontal reductions).  All builders emit at b's
 * position; c supplies the LLVM context/module and target facts.
 */
#ifndef ONNXC_CODEGEN_VEC_MATH_H
#define ONNXC_CODEGEN_VEC_MATH_H

#include "../lower.h"

/* ---- helpers ---------------------------------------------------------- */
LLVMTypeRef vm_f32(CgCtx *c);
/* <n x float> */
LLVMTypeRef vm_vec(CgCtx *c, int n);
/* A <n x float> (or float, n == 0) constant with every lane = v. */
LLVMValueRef vm_const(CgCtx *c, int n, double v);
/* Broadcasts a scalar float value to <n x float>. */
LLVMValueRef vm_splat(CgCtx *c, LLVMBuilderRef b, LLVMValueRef s, int n);
/* Lane count of a vector value's type (1 for scalars). */
int vm_width(LLVMValueRef v);
/* Calls the overloaded intrinsic `name` (overloaded on the type of args[0]). */
LLVMValueRef vm_intrin(CgCtx *c, LLVMBuilderRef b, const char *name, LLVMValueRef const args[],
                       int nargs);
/* a*x + y through llvm.fmuladd (fused when the target has FMA). */
LLVMValueRef vm_fma(CgCtx *c, LLVMBuilderRef b, LLVMValueRef a, LLVMValueRef x, LLVMValueRef y);
/* Horizontal sum / maximum (NaN-ignoring, like fmaxf) to a scalar float. */
LLVMValueRef vm_hsum(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v);
/* Lanes [from, from + n) of v. */
LLVMValueRef vm_lanes(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v, int from, int n);
/* parts[0..n) (n a power of two <= 16, equal widths, at most 64 lanes together)
 * as one vector: a costly function of the wide vector is split by LLVM
 * into interleaved register operations. */
LLVMValueRef vm_concat(CgCtx *c, LLVMBuilderRef b, LLVMValueRef const parts[], int n);
LLVMValueRef vm_hmax(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v);
/* Max without llvm.maxnum's NaN rule (see vm_max_fast in vec_math.c). */
LLVMValueRef vm_max_fast(CgCtx *c, LLVMBuilderRef b, LLVMValueRef a, LLVMValueRef x);
LLVMValueRef vm_hmax_fast(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v);
/* Pairwise tree reduction with a two-operand intrinsic (NULL: fadd). */
LLVMValueRef vm_hreduce(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v, const char *intrin);
/* select(x < lo, lo, x) then select(x > hi, hi, x): NaN passes through. */
LLVMValueRef vm_clamp(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x, double lo, double hi);

/* ---- functions -------------------------------------------------------- */
LLVMValueRef vm_exp(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);
/* 2^t for softmax arguments (t <= 100; NaN passes; below -200, 0) in ten
 * operations on AVX-512 (floor, a quintic on [0, 1), scalef), where
 * exp(x - m) takes sixteen: relative error 2e-7 beside vm_exp's 1e-7. */
LLVMValueRef vm_exp2_softmax(CgCtx *c, LLVMBuilderRef b, LLVMValueRef t);
LLVMValueRef vm_log(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);
LLVMValueRef vm_erf(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);
LLVMValueRef vm_tanh(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);
LLVMValueRef vm_sigmoid(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);
/* 0.5*x*(1+erf(x/sqrt 2)), using erfc directly for negative x so the left
 * tail keeps its relative accuracy. */
LLVMValueRef vm_gelu_erf(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);
/* 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715x^3))) computed as x*sigmoid(2u). */
LLVMValueRef vm_gelu_tanh(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x);

#endif
