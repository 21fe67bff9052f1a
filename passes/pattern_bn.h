/*
 * Arithmetic of fold-batchnorm (passes/fold_batchnorm.c): the per-channel
 * affine form of an inference BatchNormalization and the new constants it
 * folds into.  All math is done in double and stored in the weight's dtype.
 */
#ifndef ONNXC_PASSES_PATTERN_BN_H
#define ONNXC_PASSES_PATTERN_BN_H

#include "pattern_match.h"

/* y = x * a[ch] + shift[ch]  (a = scale / sqrt(var + eps), shift = B - mean * a). */
typedef struct BnCoef {
  int64_t c;      /* channels */
  double *a;      /* malloc'ed, c entries */
  double *shift;  /* malloc'ed, c entries */
} BnCoef;

/* *ok = false (and nothing allocated) when a parameter is not constant or
 * the node is not a foldable inference BN. */
Status bn_coef(const Node *bn, BnCoef *k, bool *ok, Error *err);
void bn_coef_free(BnCoef *k);
/* Conv -> BN: rows of w (dim 0) scaled; *nb[m] = b[m] * a[m] + shift[m]. */
Status bn_scale_rows(Graph *g, const Value *w, const Value *b, const BnCoef *k, Value **nw,
                     Value **nb, Error *err);
/* A Gemm C that is constant and the same for every row (scalar, [N], [1,N]). */
bool bn_per_column(const Value *cv, int64_t n);
/* Gemm/MatMul -> BN: column n of w ([K,N], or [N,K] when trans_b) scaled;
 * *nb[n] = beta * C[n] * a[n] + shift[n] (C may be NULL). */
Status bn_scale_columns(Graph *g, const Value *w, bool trans_b, const Value *cv, double beta,
                        const BnCoef *k, Value **nw, Value **nb, Error *err);
/* Conv with explicit all-zero pads (no SAME auto_pad). */
bool bn_conv_unpadded(const Node *conv);
/* BN -> Conv: input channels of the conv's weight scaled, bias gains
 * sum W * shift.  *ok = false when the shapes do not line up. */
Status bn_scale_inputs(Graph *g, const Node *conv, const BnCoef *k, Value **nw, Value **nb,
                       bool *ok, Error *err);
/* a and shift as constants of x's dtype shaped [C, 1, ...] (rank x->rank - 1). */
Status bn_channel_consts(Graph *g, const Value *x, const BnCoef *k, Value **a, Value **c,
                         Error *err);

#endif
