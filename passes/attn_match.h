/*
 * Pattern recognition for fuse-attention (passes/fuse_attention.c):
 * starting from a Softmax, attn_match finds the scaled-dot-product attention
 * around it -- MatMul/Einsum(Q, K^T), scalar Mul/Div on the scores, on Q or
 * on K, additive biases (possibly between Reshapes, as Swin's shifted-window
 * mask), an inference Dropout, and MatMul/Einsum(., V) -- and records what
 * the rewrite needs.  It only reads the graph.  attn_bias.c turns the
 * constant biases of the score chain into one constant.
 */
#ifndef ONNXC_PASSES_ATTN_MATCH_H
#define ONNXC_PASSES_ATTN_MATCH_H

#include "../ir/graph.h"

#define ATTN_MAX_CHAIN 8  /* Mul/Div/Add/Reshape nodes between Q.K^T and Softmax */
#define ATTN_MAX_DEAD 16

typedef struct AttnMatch {
  Node *qk;                       /* MatMul or Einsum producing the scores */
  Node *pv;                       /* MatMul or Einsum consuming the probabilities */
  Node *chain[ATTN_MAX_CHAIN];    /* score-side nodes, from qk towards Softmax */
  int num_chain;
  Node *dead[ATTN_MAX_DEAD];      /* every node the rewrite removes */
  int num_dead;
  Value *q, *v;
  Value *k;                       /* K [..., M, D] when available untransposed */
  Value *k_src;                   /* else: K = Transpose(k_src, k_perm) */
  int64_t k_perm[IR_MAX_RANK];
  double scale;                   /* all scalar factors, Q side, K side and chain */
  bool const_bias;                /* the chain has Adds, all with constant operands */
  Value *var_bias;                /* the one non-constant additive bias, or NULL */
} AttnMatch;

/* True when s is the Softmax of an attention pattern; fills *m. */
bool attn_match(const Graph *g, Node *s, AttnMatch *m);

/* The constant bias of m's score chain: chain(0) over the score shape,
 * reduced to size 1 along every dim it does not vary on, as a new constant
 * in *out.  *out is NULL when the scores are empty (no bias needed);
 * *too_big is set when they are too large to precompute (leave the
 * pattern alone). */
Status attn_const_bias(Graph *g, const AttnMatch *m, Value **out, bool *too_big, Error *err);

#endif
