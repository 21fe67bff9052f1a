/*
 * onnxc.Attention: shape rule and reference kernel (created by the
 * fuse-attention pass, never read from ONNX).
 *
 * Inputs  Q [..., N, D], K [..., M, D], V [..., M, Dv], optional Bm.
 *         The leading dims "..." (batch x heads, or batch*windows x heads)
 *         are identical for Q, K and V -- no broadcasting among them.
 *         Bm is an additive bias/mask broadcastable (numpy rules) to
 *         [..., N, M] without enlarging it.  All of one float dtype.
 * Attr    scale (float, default 1).
 * Output  [..., N, Dv] = softmax(scale * Q.K^T + Bm, over M) . V
 *
 * The kernel never materializes the N x M score matrix: query rows go in
 * blocks of ATTN_QB, keys in blocks of ATTN_KB, with an online softmax
 * (running max and sum per row; the accumulator is rescaled when the max
 * grows).  This is the algorithm compiled code uses; here it runs in
 * double.  Output columns go in chunks of ATTN_VB (scores are recomputed
 * per chunk), so the working set is fixed and on the stack: the kernel
 * never allocates (it is also linked into generated code as bitcode).  Edge cases follow the unfused graph: M == 0 gives zeros (an
 * empty MatMul), a row whose scores are all -inf gives NaN (as Softmax).
 */
#include "linalg.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

enum { ATTN_QB = 16, ATTN_KB = 32, ATTN_VB = 64 };

static const Value *attn_bias(const Node *n) { return n->num_inputs > 3 ? n->inputs[3] : NULL; }

/* Validates the types; *lead is the rank of "...". */
static Status attn_check(const Node *n, Error *err) {
  const Value *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2], *b = attn_bias(n);
  if (!q || !k || !v) return err_set(err, ST_INVALID, "Q, K and V are required");
  if (!dtype_is_float(q->dtype) || !dtype_supported(q->dtype))
    return err_set(err, ST_UNSUPPORTED, "Attention on %s is not supported", dtype_name(q->dtype));
  if (k->dtype != q->dtype || v->dtype != q->dtype || (b && b->dtype != q->dtype))
    return err_set(err, ST_SHAPE, "Q, K, V and the bias must have one dtype (Q is %s)",
                   dtype_name(q->dtype));
  int r = q->rank;
  if (r < 2 || k->rank != r || v->rank != r)
    return err_set(err, ST_SHAPE, "Q, K and V need one rank >= 2 (got %d, %d, %d)", q->rank,
                   k->rank, v->rank);
  for (int i = 0; i < r - 2; i++)
    if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i])
      return err_set(err, ST_SHAPE, "leading dim %d differs: Q %" PRId64 ", K %" PRId64
                     ", V %" PRId64, i, q->dims[i], k->dims[i], v->dims[i]);
  if (k->dims[r - 1] != q->dims[r - 1])
    return err_set(err, ST_SHAPE, "K's last dim %" PRId64 " differs from Q's %" PRId64,
                   k->dims[r - 1], q->dims[r - 1]);
  if (v->dims[r - 2] != k->dims[r - 2])
    return err_set(err, ST_SHAPE, "V has %" PRId64 " rows but K has %" PRId64, v->dims[r - 2],
                   k->dims[r - 2]);
  if (b) {
    if (b->rank > r)
      return err_set(err, ST_SHAPE, "bias rank %d exceeds the score rank %d", b->rank, r);
    for (int i = 0; i < b->rank; i++) {
      int a = r - b->rank + i;
      int64_t want = a == r - 1 ? k->dims[r - 2] : q->dims[a];
      if (b->dims[i] != 1 && b->dims[i] != want)
        return err_set(err, ST_SHAPE, "bias dim %d is %" PRId64 ", not broadcastable to %" PRId64,
                       i, b->dims[i], want);
    }
  }
  return ST_OK;
}

Status shape_attention(Graph *g, Node *n, Error *err) {
  (void)g;
  TRY(attn_check(n, err));
  const Value *q = n->inputs[0], *v = n->inputs[2];
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, q->dims, sizeof(int64_t) * (size_t)q->rank);
  dims[q->rank - 1] = v->dims[v->rank - 1];
  return ops_set_output(n, 0, q->dtype, q->rank, dims, err);
}

/* Everything one (batch, row block) step needs. */
typedef struct AttnRun {
  DType t;
  int64_t n, m, d, dv;
  double scale;
  const void *q, *k, *v, *b;
  void *out;
  int64_t bstride[IR_MAX_RANK]; /* bias strides over [..., N, M] (0 = broadcast) */
  int64_t c0, cn;               /* output columns [c0, c0+cn) of this pass */
  double s[ATTN_QB * ATTN_KB];  /* scores of one block pair */
  double acc[ATTN_QB * ATTN_VB];/* unnormalized output rows, columns c0.. */
  double mx[ATTN_QB], sum[ATTN_QB];
} AttnRun;

/* Query rows [i0, i0+qn) of batch `bt`; boff is the bias offset of that batch. */
static void attn_rows(AttnRun *a, int64_t bt, int64_t boff, int64_t i0, int64_t qn, int r) {
  int64_t qoff = (bt * a->n + i0) * a->d, koff = bt * a->m * a->d, voff = bt * a->m * a->dv;
  int64_t bs_n = a->bstride[r - 2], bs_m = a->bstride[r - 1];
  for (int64_t i = 0; i < qn; i++) {
    a->mx[i] = -INFINITY;
    a->sum[i] = 0;
  }
  memset(a->acc, 0, sizeof a->acc);
  for (int64_t j0 = 0; j0 < a->m; j0 += ATTN_KB) {
    int64_t kn = a->m - j0 < ATTN_KB ? a->m - j0 : ATTN_KB;
    for (int64_t i = 0; i < qn; i++) {
      double *srow = a->s + i * ATTN_KB, bmax = -INFINITY;
      for (int64_t j = 0; j < kn; j++) {
        double dot = 0;
        for (int64_t p = 0; p < a->d; p++)
          dot += linalg_ld(a->t, a->q, (size_t)(qoff + i * a->d + p)) *
                 linalg_ld(a->t, a->k, (size_t)(koff + (j0 + j) * a->d + p));
        double sc = a->scale * dot;
        if (a->b) sc += linalg_ld(a->t, a->b, (size_t)(boff + (i0 + i) * bs_n + (j0 + j) * bs_m));
        srow[j] = sc;
        if (sc > bmax) bmax = sc;
      }
      /* A block of only -inf adds exp(-inf) = 0 under any finite max. */
      if (bmax == -INFINITY) continue;
      double nmax = bmax > a->mx[i] ? bmax : a->mx[i];
      double corr = exp(a->mx[i] - nmax); /* exp(-inf) = 0 on the first block */
      double *acc = a->acc + i * ATTN_VB;
      a->sum[i] *= corr;
      for (int64_t c = 0; c < a->cn; c++) acc[c] *= corr;
      for (int64_t j = 0; j < kn; j++) {
        double e = exp(srow[j] - nmax);
        a->sum[i] += e;
        int64_t vrow = voff + (j0 + j) * a->dv + a->c0;
        for (int64_t c = 0; c < a->cn; c++) acc[c] += e * linalg_ld(a->t, a->v, (size_t)(vrow + c));
      }
      a->mx[i] = nmax;
    }
  }
  for (int64_t i = 0; i < qn; i++) {
    int64_t orow = (bt * a->n + i0 + i) * a->dv + a->c0;
    for (int64_t c = 0; c < a->cn; c++) {
      double y;
      if (a->m == 0) y = 0;                   /* empty MatMul */
      else if (a->sum[i] == 0) y = NAN;       /* every score was -inf */
      else y = a->acc[i * ATTN_VB + c] / a->sum[i];
      linalg_st(a->t, a->out, (size_t)(orow + c), y);
    }
  }
}

Status eval_attention(const Node *n, const void *const in[], void *const out[], Error *err) {
  TRY(attn_check(n, err));
  const Value *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2], *b = attn_bias(n);
  int r = q->rank;
  AttnRun a; /* about 13 KB */
  memset(&a, 0, sizeof a);
  a.t = q->dtype;
  a.n = q->dims[r - 2];
  a.d = q->dims[r - 1];
  a.m = k->dims[r - 2];
  a.dv = v->dims[r - 1];
  a.scale = ir_attr_float(n, "scale", 1.0f);
  a.q = in[0];
  a.k = in[1];
  a.v = in[2];
  a.b = b ? in[3] : NULL;
  a.out = out[0];
  int64_t sdims[IR_MAX_RANK];
  memcpy(sdims, q->dims, sizeof(int64_t) * (size_t)r);
  sdims[r - 1] = a.m;
  if (b) ops_broadcast_strides(b->rank, b->dims, r, sdims, a.bstride);
  int64_t batches = ops_numel(r - 2, q->dims);
  int64_t idx[IR_MAX_RANK] = {0};
  for (int64_t bt = 0; bt < batches; bt++) {
    int64_t boff = 0;
    if (b)
      for (int i = 0; i < r - 2; i++) boff += idx[i] * a.bstride[i];
    for (a.c0 = 0; a.c0 < a.dv; a.c0 += ATTN_VB) {
      a.cn = a.dv - a.c0 < ATTN_VB ? a.dv - a.c0 : ATTN_VB;
      for (int64_t i0 = 0; i0 < a.n; i0 += ATTN_QB)
        attn_rows(&a, bt, boff, i0, a.n - i0 < ATTN_QB ? a.n - i0 : ATTN_QB, r);
    }
    for (int i = r - 3; i >= 0; i--) {
      if (++idx[i] < q->dims[i]) break;
      idx[i] = 0;
    }
  }
  return ST_OK;
}
