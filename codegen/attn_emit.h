/*
 * The float32 flash-attention code generator behind the onnxc.Attention
 * lowering (codegen/lower_attention.c checks the node and fills an
 * AttnPlan; this emits the IR).
 *
 * Per leading index, K is transposed once into a stack buffer Kt [D][Mpad]
 * (Mpad = M rounded up to the vector width), so Q.K^T becomes the GEMM
 * micro-kernel form: QR query rows broadcast x KV key vectors.  Query rows
 * go in register tiles of QR rows, keys in blocks of KV vectors, with an
 * online softmax (running max per row, lane-wise running sum); the
 * probabilities of a block go through a small stack buffer into a second
 * register-tiled product P.V (rows x Dv vectors).  The N x M score matrix
 * never exists; the workspace is not used.
 */
#ifndef ONNXC_CODEGEN_ATTN_EMIT_H
#define ONNXC_CODEGEN_ATTN_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "lower.h"

/* Largest transposed K buffer (bytes) the kernel keeps on the stack: 128 KB
 * covers M <= 512 keys at D = 64 (ViT-B/L at 224..448 px, ViT-H's D = 80 at
 * 257 keys); a node needing more falls back to the reference kernel. */
enum { ATTN_KT_MAX_BYTES = 128 * 1024 };

typedef struct AttnPlan {
  int64_t n, m, d, dv;     /* per leading index: Q [n,d], K [m,d], V [m,dv] */
  int64_t batches;         /* product of the leading dims, >= 1 */
  float scale;
  bool has_bias;           /* bias (b, i, j) at bias[b_off[b] + i*bias_sn + j*bias_sm] */
  int64_t bias_sn, bias_sm;/* bias_sm is 0 or 1 */
  const int64_t *b_off;    /* per leading index (batches entries) */
} AttnPlan;

/* True when p fits the kernel (sizes >= 1, Kt within ATTN_KT_MAX_BYTES, Dv <= 1024). */
bool attn_plan_fits(const CgCtx *c, const AttnPlan *p);

/* Emits the kernel for p and a call to it at c->b; bias is NULL unless
 * p->has_bias. */
Status attn_emit(CgCtx *c, const AttnPlan *p, LLVMValueRef q, LLVMValueRef k, LLVMValueRef v,
                 LLVMValueRef bias, LLVMValueRef out, Error *err);

#endif
