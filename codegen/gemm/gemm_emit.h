/*
 * The float32 matrix-product code generator behind the MatMul and Gemm
 * lowerings (codegen/gemm/lower_gemm.c decides what a node is and fills a
 * GemmPlan; this emits the IR).
 *
 * The generated kernel is a register-tiled micro-kernel (MR rows x NV
 * vectors of accumulators, broadcast-A times vector-B FMAs) inside cache
 * blocking over N (NC panels) and K (KC), batched over a table of operand
 * offsets.  B is either pre-packed at compile time into NR-column panels
 * contiguous along K (gemm_pack_b) or read in place, row-major.
 */
#ifndef ONNXC_CODEGEN_GEMM_EMIT_H
#define ONNXC_CODEGEN_GEMM_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lower.h"

/* Register tile and cache blocking chosen for a target (gemm_choose_tile). */
typedef struct GemmTile {
  int vf;      /* float32 lanes per vector */
  int mr;      /* rows of the register tile */
  int nv;      /* vectors per row: NR = nv * vf */
  int64_t kc;  /* K block */
  int64_t ncp; /* N block, in panels of NR columns */
} GemmTile;

/* An optional hook on each final output vector (last K block, after alpha
 * and bias, masked tails included) while it is still in a register: the
 * fused ops' activation and residual.  r is the residual vector at the
 * same output position (NULL without a residual); returns what to store. */
typedef LLVMValueRef (*GemmEpilogueFn)(void *ctx, CgCtx *c, LLVMBuilderRef b, LLVMValueRef acc,
                                       LLVMValueRef r);

typedef struct GemmEpilogue {
  GemmEpilogueFn fn;       /* NULL: plain store */
  void *ctx;
  bool costly;             /* fn is long (GELU, SiLU, ...): run it in a loop over the tile's rows */
  bool has_res;            /* residual element (i, j) of batch t at res[r_off[t] + i*si + j*sj] */
  int64_t res_si, res_sj;  /* res_sj is 0 or 1 */
  const int64_t *r_off;    /* per batch element (NULL when batches == 1) */
} GemmEpilogue;

typedef struct GemmPlan {
  int64_t m, n, k;  /* one product: [m,k] x [k,n] */
  int64_t lda, ldc; /* row strides of A and of the output (elements) */
  bool b_packed;    /* B is a gemm_pack_b blob; otherwise row-major [k, ldb] */
  int64_t ldb;
  int64_t batches;              /* >= 1 */
  const int64_t *a_off, *b_off; /* per batch element offsets (NULL when batches == 1) */
  float alpha, beta;
  bool has_bias;            /* y += beta * bias[i*bias_si + j*bias_sj] */
  int64_t bias_si, bias_sj; /* bias_sj is 0 or 1 */
  GemmTile t;
  GemmEpilogue epi; /* zero for plain MatMul / Gemm */
} GemmPlan;

void gemm_choose_tile(int vf, int64_t m, int64_t n, int64_t k, GemmTile *t);

/* Floats in the packed form of a [k, n] B for tile t. */
int64_t gemm_packed_floats(const GemmTile *t, int64_t n, int64_t k);
/* Packs B'[p][j] = b[p*sp + j*sj] into out (gemm_packed_floats long):
 * panel-major, each panel [k][NR] with the columns past n zero. */
void gemm_pack_b(const GemmTile *t, int64_t n, int64_t k, const float *b, int64_t sp, int64_t sj,
                 float *out);

/* Emits the kernel for p and a call to it at c->b: a, b, bias, y are the
 * data pointers (bias NULL unless p->has_bias). */
Status gemm_emit(CgCtx *c, const GemmPlan *p, LLVMValueRef a, LLVMValueRef b, LLVMValueRef bias,
                 LLVMValueRef y, Error *err);
/* gemm_emit with the residual's data pointer (NULL unless p->epi.has_res). */
Status gemm_emit_fused(CgCtx *c, const GemmPlan *p, LLVMValueRef a, LLVMValueRef b,
                       LLVMValueRef bias, LLVMValueRef res, LLVMValueRef y, Error *err);

/* The MatMul lowering (codegen/gemm/lower_gemm.c) with a fused bias ([N], NULL
 * for none) and epilogue: plain MatMul passes NULL, NULL.  When epi has a
 * residual, r is its Value (broadcastable to the output) and rptr its data;
 * epi's strides and offsets are filled here.  *handled = false when the
 * node (or the residual's broadcast) does not fit the kernel. */
Status gemm_lower_matmul_fused(CgCtx *c, const Node *n, LLVMValueRef const in[],
                               LLVMValueRef const out[], LLVMValueRef bias,
                               const GemmEpilogue *epi, const Value *r, LLVMValueRef rptr,
                               bool *handled, Error *err);

#endif
