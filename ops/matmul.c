/*
 * MatMul and Gemm: shape rules and reference kernels.
 *
 * MatMul follows numpy.matmul: a 1-D operand is promoted to a matrix (a row
 * for A, a column for B) and the added dim is dropped from the result; the
 * leading "batch" dims broadcast.  Gemm is Y = alpha * A' * B' + beta * C
 * on 2-D A and B (A', B' optionally transposed) with C unidirectionally
 * broadcast to [M, N].  float32 goes through linalg_sgemm (ops/sgemm.c);
 * a transposed float32 Gemm packs B' block by block into a small kernel
 * scratch (GEMM_PACK floats, see ops.h) instead.
 * Other MatMul types accumulate in double (floats) or wrapping 64-bit
 * integers; other Gemm types are computed in double, since alpha and beta
 * are floats anyway.
 */
#include "linalg.h"

#include <inttypes.h>
#include <string.h>

/* ---- MatMul ------------------------------------------------------------ */

/* The promoted view of a MatMul: batch dims of the output and of each
 * operand (right-aligned for broadcasting) and the matrix sizes. */
typedef struct MatMulDims {
  int out_batch_rank;
  int64_t out_batch[IR_MAX_RANK];
  int a_batch_rank, b_batch_rank;
  int64_t m, k, n;
} MatMulDims;

static Status matmul_dims(const Value *a, const Value *b, MatMulDims *d, Error *err) {
  if (a->rank < 1 || b->rank < 1)
    return err_set(err, ST_SHAPE, "MatMul operands must have rank >= 1 (got %d and %d)", a->rank,
                   b->rank);
  d->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
  d->k = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  d->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (d->k != kb)
    return err_set(err, ST_SHAPE, "inner dimensions differ: A has %" PRId64 ", B has %" PRId64,
                   d->k, kb);
  d->a_batch_rank = a->rank > 2 ? a->rank - 2 : 0;
  d->b_batch_rank = b->rank > 2 ? b->rank - 2 : 0;
  int ranks[2] = {d->a_batch_rank, d->b_batch_rank};
  const int64_t *dims[2] = {a->dims, b->dims};
  return ops_broadcast(2, ranks, dims, &d->out_batch_rank, d->out_batch, err);
}

Status shape_matmul(Graph *g, Node *n, Error *err) {
  const Value *a = n->inputs[0], *b = n->inputs[1];
  if (a->dtype != b->dtype)
    return err_set(err, ST_SHAPE, "A is %s but B is %s", dtype_name(a->dtype), dtype_name(b->dtype));
  if (!linalg_numeric(a->dtype))
    return err_set(err, ST_UNSUPPORTED, "MatMul on %s is not supported", dtype_name(a->dtype));
  MatMulDims d;
  TRY(matmul_dims(a, b, &d, err));
  int64_t dims[IR_MAX_RANK];
  int r = d.out_batch_rank;
  memcpy(dims, d.out_batch, sizeof(int64_t) * (size_t)r);
  if (a->rank > 1) dims[r++] = d.m;
  if (b->rank > 1) dims[r++] = d.n;
  return ops_set_output(n, 0, a->dtype, r, dims, err);
}

/* One [m,k] x [k,n] product for a dtype other than float32. */
static void matmul_generic(DType t, int64_t m, int64_t k, int64_t nn, const void *a, int64_t aoff,
                           const void *b, int64_t boff, void *c, int64_t coff) {
  bool is_float = linalg_kind(t) == LK_FLOAT;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < nn; j++) {
      double accf = 0;
      uint64_t acci = 0;
      for (int64_t p = 0; p < k; p++) {
        size_t ia = (size_t)(aoff + i * k + p), ib = (size_t)(boff + p * nn + j);
        if (is_float) accf += linalg_ld(t, a, ia) * linalg_ld(t, b, ib);
        else acci += linalg_ld_bits(t, a, ia) * linalg_ld_bits(t, b, ib);
      }
      size_t ic = (size_t)(coff + i * nn + j);
      if (is_float) linalg_st(t, c, ic, accf);
      else linalg_st_bits(t, c, ic, acci);
    }
}

Status eval_matmul(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *a = n->inputs[0], *b = n->inputs[1];
  MatMulDims d;
  TRY(matmul_dims(a, b, &d, err));
  DType t = a->dtype;
  int r = d.out_batch_rank;
  int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK];
  ops_broadcast_strides(d.a_batch_rank, a->dims, r, d.out_batch, sa);
  ops_broadcast_strides(d.b_batch_rank, b->dims, r, d.out_batch, sb);
  int64_t batches = ops_numel(r, d.out_batch);
  int64_t m = d.m, k = d.k, nn = d.n;
  /* When B is shared by every batch and A is not broadcast, the batch
   * folds into M: one large product instead of many small ones. */
  bool b_shared = true;
  for (int i = 0; i < r; i++)
    if (sb[i] != 0) b_shared = false;
  if (b_shared && ops_numel(d.a_batch_rank, a->dims) == batches) {
    m *= batches;
    batches = 1;
    r = 0;
  }
  int64_t idx[IR_MAX_RANK] = {0};
  for (int64_t bi = 0; bi < batches; bi++) {
    int64_t aoff = 0, boff = 0;
    for (int i = 0; i < r; i++) {
      aoff += idx[i] * sa[i];
      boff += idx[i] * sb[i];
    }
    aoff *= m * k;
    boff *= k * nn;
    int64_t coff = bi * m * nn;
    if (t == DT_FLOAT32)
      linalg_sgemm(m, nn, k, (const float *)in[0] + aoff, k, (const float *)in[1] + boff, nn,
                   (float *)out[0] + coff, nn);
    else matmul_generic(t, m, k, nn, in[0], aoff, in[1], boff, out[0], coff);
    for (int i = r - 1; i >= 0; i--) {
      if (++idx[i] < d.out_batch[i]) break;
      idx[i] = 0;
    }
  }
  return ST_OK;
}

/* ---- Gemm -------------------------------------------------------------- */

static Status gemm_dims(const Node *n, int64_t *m, int64_t *k, int64_t *nn, Error *err) {
  const Value *a = n->inputs[0], *b = n->inputs[1];
  if (a->rank != 2 || b->rank != 2)
    return err_set(err, ST_SHAPE, "Gemm needs 2-D A and B (got rank %d and %d)", a->rank, b->rank);
  bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
  *m = ta ? a->dims[1] : a->dims[0];
  *k = ta ? a->dims[0] : a->dims[1];
  int64_t kb = tb ? b->dims[1] : b->dims[0];
  *nn = tb ? b->dims[0] : b->dims[1];
  if (*k != kb)
    return err_set(err, ST_SHAPE, "inner dimensions differ: A' has %" PRId64 ", B' has %" PRId64,
                   *k, kb);
  return ST_OK;
}

static const Value *gemm_c(const Node *n) { return n->num_inputs > 2 ? n->inputs[2] : NULL; }

Status shape_gemm(Graph *g, Node *n, Error *err) {
  const Value *a = n->inputs[0], *b = n->inputs[1], *c = gemm_c(n);
  if (a->dtype != b->dtype || (c && c->dtype != a->dtype))
    return err_set(err, ST_SHAPE, "A, B and C must have one dtype (A is %s)", dtype_name(a->dtype));
  if (!linalg_numeric(a->dtype))
    return err_set(err, ST_UNSUPPORTED, "Gemm on %s is not supported", dtype_name(a->dtype));
  int64_t m, k, nn;
  TRY(gemm_dims(n, &m, &k, &nn, err));
  int64_t dims[2] = {m, nn};
  if (c) {
    /* Unidirectional: C's shape must broadcast to [M, N] without growing. */
    if (c->rank > 2) return err_set(err, ST_SHAPE, "C has rank %d, at most 2 allowed", c->rank);
    for (int i = 0; i < c->rank; i++) {
      int64_t want = dims[2 - c->rank + i];
      if (c->dims[i] != 1 && c->dims[i] != want)
        return err_set(err, ST_SHAPE, "C dim %d is %" PRId64 ", cannot broadcast to %" PRId64, i,
                       c->dims[i], want);
    }
  }
  return ops_set_output(n, 0, a->dtype, 2, dims, err);
}

/* Side of the square block of B' a transposed float32 Gemm packs (16 KiB). */
enum { GEMM_PACK = 64 };

size_t scratch_gemm(const Node *n) {
  bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
  if (n->inputs[0]->dtype != DT_FLOAT32 || !(ta || tb)) return 0;
  return ops_scratch_add(0, GEMM_PACK * GEMM_PACK, sizeof(float));
}

/* y[M,N] = A'[M,K] * B'[K,N] with element (i,p) of A' at a[i*a_si + p*a_sp]
 * and (p,j) of B' at b[p*b_sp + j*b_sj].  Each GEMM_PACK x GEMM_PACK block
 * of B' is copied row-major into pack once and then used by every row of
 * A', so the inner loop is unit stride whatever the transposition. */
static void gemm_strided_f32(int64_t m, int64_t nn, int64_t k, const float *a, int64_t a_si,
                             int64_t a_sp, const float *b, int64_t b_sp, int64_t b_sj, float *y,
                             float *pack) {
  for (int64_t i = 0; i < m * nn; i++) y[i] = 0.0f;
  for (int64_t j0 = 0; j0 < nn; j0 += GEMM_PACK) {
    int64_t nj = nn - j0 < GEMM_PACK ? nn - j0 : GEMM_PACK;
    for (int64_t p0 = 0; p0 < k; p0 += GEMM_PACK) {
      int64_t np = k - p0 < GEMM_PACK ? k - p0 : GEMM_PACK;
      for (int64_t p = 0; p < np; p++)
        for (int64_t j = 0; j < nj; j++)
          pack[p * GEMM_PACK + j] = b[(p0 + p) * b_sp + (j0 + j) * b_sj];
      for (int64_t i = 0; i < m; i++) {
        float *yr = y + i * nn + j0;
        for (int64_t p = 0; p < np; p++) {
          float av = a[i * a_si + (p0 + p) * a_sp];
          const float *br = pack + p * GEMM_PACK;
          for (int64_t j = 0; j < nj; j++) yr[j] += av * br[j];
        }
      }
    }
  }
}

Status eval_gemm(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *a = n->inputs[0], *c = gemm_c(n);
  int64_t m, k, nn;
  TRY(gemm_dims(n, &m, &k, &nn, err));
  bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
  double alpha = ir_attr_float(n, "alpha", 1.0f), beta = ir_attr_float(n, "beta", 1.0f);
  DType t = a->dtype;
  /* Element (i,p) of A' and (p,j) of B' in the stored operands. */
  int64_t a_si = ta ? 1 : k, a_sp = ta ? m : 1, b_sp = tb ? 1 : nn, b_sj = tb ? k : 1;
  int64_t cs[2] = {0, 0};
  if (c) {
    int64_t odims[2] = {m, nn};
    ops_broadcast_strides(c->rank, c->dims, 2, odims, cs);
  }
  const void *cdata = c ? in[2] : NULL;
  if (t == DT_FLOAT32) {
    float *y = out[0];
    const float *pa = in[0], *pb = in[1];
    if (ta || tb) {
      OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_gemm(n));
      void *pack;
      TRY(ops_scratch_take(&s, GEMM_PACK * GEMM_PACK, sizeof(float), &pack, err));
      gemm_strided_f32(m, nn, k, pa, a_si, a_sp, pb, b_sp, b_sj, y, pack);
    } else {
      linalg_sgemm(m, nn, k, pa, k, pb, nn, y, nn);
    }
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < nn; j++) {
        float v = (float)alpha * y[i * nn + j];
        if (cdata) v += (float)beta * ((const float *)cdata)[i * cs[0] + j * cs[1]];
        y[i * nn + j] = v;
      }
    return ST_OK;
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < nn; j++) {
      double acc = 0;
      for (int64_t p = 0; p < k; p++)
        acc += linalg_ld(t, in[0], (size_t)(i * a_si + p * a_sp)) *
               linalg_ld(t, in[1], (size_t)(p * b_sp + j * b_sj));
      acc *= alpha;
      if (cdata) acc += beta * linalg_ld(t, cdata, (size_t)(i * cs[0] + j * cs[1]));
      linalg_st(t, out[0], (size_t)(i * nn + j), acc);
    }
  return ST_OK;
}
