/*
 * The float32 flash-attention code generator behind the onnxc.Attention
 * lowering (codegen/attention/lower_attention.c checks the node and fills an
 * AttnPlan; this emits the IR).
 *
 * A K of at most ATTN_KT_MAX_BYTES is transposed whole, once per leading
 * index; a longer one goes in chunks of ATTN_KT_CHUNK_BYTES / (4 D) keys
 * (at least one vector of keys), each transposed into a stack buffer
 * Kt [D][chunk] per query block, so Q.K^T becomes the
 * GEMM micro-kernel form (QR query rows broadcast x KV key vectors).  Query
 * rows go in blocks whose online-softmax state (running max, lane-wise
 * running sum, unnormalized output rows) fits ATTN_STATE_MAX_BYTES; a block
 * streams over every key chunk, in register tiles of QR rows and key blocks
 * of KV vectors, then is normalized into the output.  The probabilities of a key
 * block go through a small stack buffer into a second register-tiled
 * product P.V.  The N x M score matrix never exists; the workspace is not
 * used, and the stack use is bounded whatever N and M are.
 */
#ifndef ONNXC_CODEGEN_ATTN_EMIT_H
#define ONNXC_CODEGEN_ATTN_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lower.h"

/* Stack bounds (bytes): the transposed keys (256 keys at D = 64; at least
 * one vector of keys, so D <= 1024 even at 16 lanes) and the state of one
 * query block (at least one register tile of rows).  Streamed chunks are
 * smaller: a chunk is read once per row tile, and T2T-ViT's 3136 keys ran
 * 7% faster in 16 KiB chunks that stay in L1 than in 64 KiB ones, though
 * they are transposed for every query block. */
enum {
  ATTN_KT_MAX_BYTES = 64 * 1024,
  ATTN_KT_CHUNK_BYTES = 16 * 1024,
  ATTN_STATE_MAX_BYTES = 48 * 1024,
  /* The scores of one register tile of rows when every key is in one
   * chunk (whole-row softmax, no online state). */
  ATTN_SCORES_MAX_BYTES = 32 * 1024
};

typedef struct AttnPlan {
  int64_t n, m, d, dv;     /* per leading index: Q [n,d], K [m,d], V [m,dv] */
  int64_t batches;         /* product of the leading dims, >= 1 */
  float scale;
  bool has_bias;           /* bias (b, i, j) at bias[b_off[b] + i*bias_sn + j*bias_sm] */
  int64_t bias_sn, bias_sm;/* bias_sm is 0 or 1 */
  const int64_t *b_off;    /* per leading index (batches entries) */
  /* Where Q, K, V and O live (elements): row i of leading index t at
   * x_off[t] + i * x_ld, its last dim contiguous.  0 / NULL: dense, as
   * [batches, rows, cols] (ld = cols, off = t * rows * cols).  A head
   * split or merge Transpose read or written this way needs no copy
   * (codegen/attention/attn_views.c). */
  int64_t q_ld, k_ld, v_ld, o_ld;
  const int64_t *q_off, *k_off, *v_off, *o_off;
} AttnPlan;

/* True when p fits the kernel: sizes >= 1, Dv <= 1024, and D small enough
 * for one vector of keys in ATTN_KT_MAX_BYTES (D <= 1024 at 16 lanes). */
bool attn_plan_fits(const CgCtx *c, const AttnPlan *p);

/* Emits the kernel for p and a call to it at c->b; bias is NULL unless
 * p->has_bias. */
Status attn_emit(CgCtx *c, const AttnPlan *p, LLVMValueRef q, LLVMValueRef k, LLVMValueRef v,
                 LLVMValueRef bias, LLVMValueRef out, Error *err);

#endif
