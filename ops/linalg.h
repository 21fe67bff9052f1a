/*
 * Private helpers of the linear-algebra kernel files (matmul.c, einsum.c,
 * reduce.c, topk.c, norm.c, softmax.c): element access with a float32 fast
 * path, a three-way classification of dtypes for exact integer arithmetic
 * and ordering, and the float32 matrix product that MatMul, Gemm and Einsum
 * share.  Not part of the ops.h contract; nothing outside ops/ includes it.
 */
#ifndef ONNXC_OPS_LINALG_H
#define ONNXC_OPS_LINALG_H

#include "ops.h"

/* How a dtype is computed with: floats in double, signed and unsigned
 * integers in 64-bit integers (sums wrap like the C cast on store). */
typedef enum LinalgKind { LK_FLOAT, LK_SIGNED, LK_UNSIGNED, LK_BOOL, LK_NONE } LinalgKind;

static inline LinalgKind linalg_kind(DType t) {
  if (t == DT_BOOL) return LK_BOOL;
  if (dtype_is_float(t)) return LK_FLOAT;
  if (dtype_is_signed_int(t)) return LK_SIGNED;
  if (dtype_is_unsigned_int(t)) return LK_UNSIGNED;
  return LK_NONE;
}

static inline double linalg_ld(DType t, const void *p, size_t i) {
  return t == DT_FLOAT32 ? (double)((const float *)p)[i] : dtype_load_f64(t, p, i);
}

static inline void linalg_st(DType t, void *p, size_t i, double v) {
  if (t == DT_FLOAT32) ((float *)p)[i] = (float)v;
  else dtype_store_f64(t, p, i, v, false);
}

/* An integer element as 64 bits of two's complement, so that +,* wrap
 * instead of overflowing (signed overflow would be undefined). */
static inline uint64_t linalg_ld_bits(DType t, const void *p, size_t i) {
  return dtype_is_unsigned_int(t) ? dtype_load_u64(t, p, i) : (uint64_t)dtype_load_i64(t, p, i);
}

static inline void linalg_st_bits(DType t, void *p, size_t i, uint64_t v) {
  dtype_store_u64(t, p, i, v);
}

/* One element as a sortable key (for Max, ArgMax, TopK). */
typedef union LinalgKey {
  double f;
  int64_t s;
  uint64_t u;
} LinalgKey;

static inline LinalgKey linalg_key(LinalgKind k, DType t, const void *p, size_t i) {
  LinalgKey key;
  if (k == LK_SIGNED) key.s = dtype_load_i64(t, p, i);
  else if (k == LK_UNSIGNED || k == LK_BOOL) key.u = dtype_load_u64(t, p, i);
  else key.f = linalg_ld(t, p, i);
  return key;
}

/* a > b; a NaN compares greater than any number (numpy's max propagates it). */
static inline int linalg_key_gt(LinalgKind k, LinalgKey a, LinalgKey b) {
  if (k == LK_SIGNED) return a.s > b.s;
  if (k == LK_UNSIGNED || k == LK_BOOL) return a.u > b.u;
  if (a.f != a.f) return b.f == b.f;
  return a.f > b.f;
}

/* True for the dtypes the arithmetic kernels accept (numbers, no bool). */
static inline bool linalg_numeric(DType t) {
  LinalgKind k = linalg_kind(t);
  return dtype_supported(t) && (k == LK_FLOAT || k == LK_SIGNED || k == LK_UNSIGNED);
}

/* C[M,N] = A[M,K] * B[K,N] in float32; row-major with leading dimensions
 * lda, ldb, ldc (elements).  C must not overlap A or B. */
void linalg_sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                  int64_t ldb, float *c, int64_t ldc);

#endif
