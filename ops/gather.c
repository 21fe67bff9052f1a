/*
 * ops/gather.c: Gather and ScatterND, the two ops driven by run-time index
 * tensors.  Indices are data, not constants, so every index is checked in
 * the kernel: an out-of-range index is an ST_INVALID error naming it, never
 * an out-of-bounds access.  Constant indices are checked by the shape rule
 * too, so a model that would always fail is refused when it is compiled,
 * not when it runs.  Negative indices count from the end.
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

/* ---- Gather ------------------------------------------------------------- */

/* Index i of an index tensor, made non-negative and checked against size. */
static Status checked_index(const Value *ind, const void *buf, int64_t i, int64_t size,
                            int64_t *out, Error *err) {
  int64_t v = mv_index_at(ind->dtype, buf, i);
  int64_t w = v < 0 ? v + size : v;
  if (w < 0 || w >= size)
    return err_set(err, ST_INVALID, "index %" PRId64 " (element %" PRId64 " of the indices) "
                   "is out of range for a dimension of size %" PRId64, v, i, size);
  *out = w;
  return ST_OK;
}

/* Constant indices: every one checked against its dimension now.  dims[j]
 * is the size index column j % k addresses (k = 1 for Gather). */
static Status check_constant_indices(const Value *ind, int64_t count, int k, const int64_t *dims,
                                     Error *err) {
  if (!ir_value_is_const(ind)) return ST_OK;
  int64_t w;
  for (int64_t j = 0; j < count; j++) {
    Status st = checked_index(ind, ind->data, j, dims[j % k], &w, err);
    if (st != ST_OK) return err_prefix(err, "constant indices");
  }
  return ST_OK;
}

Status shape_gather(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0], *ind = n->inputs[1];
  if (x->rank < 1) return err_set(err, ST_INVALID, "data must have rank >= 1");
  TRY(mv_check_index_type(ind, "input 1 ('indices')", err));
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", 0), x->rank, &axis, err));
  int rank = x->rank - 1 + ind->rank;
  if (rank > IR_MAX_RANK)
    return err_set(err, ST_UNSUPPORTED, "output rank %d exceeds %d", rank, IR_MAX_RANK);
  int64_t dims[IR_MAX_RANK];
  int k = 0;
  for (int d = 0; d < axis; d++) dims[k++] = x->dims[d];
  for (int d = 0; d < ind->rank; d++) dims[k++] = ind->dims[d];
  for (int d = axis + 1; d < x->rank; d++) dims[k++] = x->dims[d];
  TRY(check_constant_indices(ind, ir_value_numel(ind), 1, &x->dims[axis], err));
  return ops_set_output(n, 0, x->dtype, rank, dims, err);
}

#ifndef ONNXC_KERNEL_BITCODE
/* Constant indices only; the index axes of the output become one table
 * when there are several (they are neighbours in the output). */
Status mv_map_gather(const Node *n, MvMap *m, Error *err) {
  const Value *x = n->inputs[0], *ind = n->inputs[1];
  if (!ir_value_is_const(ind) || n->outputs[0]->rank > IR_MAX_RANK)
    return err_set(err, ST_UNSUPPORTED, "run-time indices");
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", 0), x->rank, &axis, err));
  int64_t nidx = ir_value_numel(ind), dims[IR_MAX_RANK], w = 0;
  int r = 0;
  for (int d = 0; d < axis; d++) dims[r++] = x->dims[d];
  dims[r++] = nidx;
  for (int d = axis + 1; d < x->rank; d++) dims[r++] = x->dims[d];
  TRY(mv_map_for_output(n, m, err));
  mv_map_free(m);
  TRY(mv_map_alloc(m, r, dims, dtype_size(x->dtype), err));
  int64_t strides[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  for (int k = 0; k < r; k++) {
    int d = k < axis ? k : k == axis ? axis : k;
    for (int64_t i = 0; i < m->dims[k]; i++) {
      if (k != axis) {
        m->table[k][i] = i * strides[d];
        continue;
      }
      Status st = checked_index(ind, ind->data, i, x->dims[axis], &w, err);
      if (st != ST_OK) {
        mv_map_free(m);
        return st;
      }
      m->table[k][i] = w * strides[axis];
    }
  }
  return ST_OK;
}
#endif

Status eval_gather(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0], *ind = n->inputs[1];
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", 0), x->rank, &axis, err));
  int64_t size = x->dims[axis], nidx = ir_value_numel(ind), w;
  for (int64_t j = 0; j < nidx; j++) TRY(checked_index(ind, in[1], j, size, &w, err));
  if (ir_value_numel(n->outputs[0]) == 0) return ST_OK;
  /* Output non-empty and indices valid: the data is non-empty too. */
  size_t es = dtype_size(x->dtype);
  int64_t outer = ops_numel(axis, x->dims);
  int64_t inner = ops_numel(x->rank - axis - 1, x->dims + axis + 1);
  size_t chunk = (size_t)inner * es;
  char *dst = out[0];
  const char *src = in[0];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nidx; j++, dst += chunk) {
      TRY(checked_index(ind, in[1], j, size, &w, err));
      memcpy(dst, src + (size_t)((o * size + w) * inner) * es, chunk);
    }
  return ST_OK;
}

/* ---- ScatterND ---------------------------------------------------------- */

typedef enum Reduction { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } Reduction;

static Status scatter_reduction(const Node *n, Reduction *r, Error *err) {
  const char *s = ir_attr_string(n, "reduction", "none");
  if (strcmp(s, "none") == 0) *r = RED_NONE;
  else if (strcmp(s, "add") == 0) *r = RED_ADD;
  else if (strcmp(s, "mul") == 0) *r = RED_MUL;
  else if (strcmp(s, "max") == 0) *r = RED_MAX;
  else if (strcmp(s, "min") == 0) *r = RED_MIN;
  else return err_set(err, ST_INVALID, "unknown reduction '%s'", s);
  return ST_OK;
}

Status shape_scatter_nd(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0], *ind = n->inputs[1], *upd = n->inputs[2];
  Reduction red = RED_NONE;
  TRY(scatter_reduction(n, &red, err));
  if (x->rank < 1) return err_set(err, ST_INVALID, "data must have rank >= 1");
  if (ind->rank < 1) return err_set(err, ST_INVALID, "indices must have rank >= 1");
  TRY(mv_check_index_type(ind, "input 1 ('indices')", err));
  if (upd->dtype != x->dtype)
    return err_set(err, ST_INVALID, "updates is %s but data is %s", dtype_name(upd->dtype),
                   dtype_name(x->dtype));
  int64_t k = ind->dims[ind->rank - 1];
  if (k > x->rank)
    return err_set(err, ST_SHAPE, "indices address %" PRId64 " dimensions but data has rank %d",
                   k, x->rank);
  /* updates.shape must be indices.shape[:-1] + data.shape[k:]. */
  int want_rank = ind->rank - 1 + x->rank - (int)k;
  bool ok = upd->rank == want_rank;
  for (int d = 0; ok && d < want_rank; d++) {
    int64_t want = d < ind->rank - 1 ? ind->dims[d] : x->dims[k + d - (ind->rank - 1)];
    ok = upd->dims[d] == want;
  }
  if (!ok)
    return err_set(err, ST_SHAPE, "updates shape must be indices.shape[:-1] + data.shape[%"
                   PRId64 ":]", k);
  if (k > 0) TRY(check_constant_indices(ind, ir_value_numel(ind), (int)k, x->dims, err));
  return ops_set_output_like(n, 0, x, err);
}

/* out[oi] = red(out[oi], upd[ui]), exact for every dtype class. */
static void scatter_apply(DType t, Reduction red, void *out, int64_t oi, const void *upd,
                          int64_t ui) {
  size_t o = (size_t)oi, u = (size_t)ui;
  if (dtype_is_float(t)) {
    double a = dtype_load_f64(t, out, o), b = dtype_load_f64(t, upd, u), r = b;
    if (red == RED_ADD) r = a + b;
    else if (red == RED_MUL) r = a * b;
    else if (red == RED_MAX) r = a >= b ? a : b;
    else if (red == RED_MIN) r = a <= b ? a : b;
    dtype_store_f64(t, out, o, r, false);
  } else if (dtype_is_signed_int(t)) {
    int64_t a = dtype_load_i64(t, out, o), b = dtype_load_i64(t, upd, u), r = b;
    /* Wrap-around like the C kernels of other runtimes, without signed overflow. */
    if (red == RED_ADD) r = (int64_t)((uint64_t)a + (uint64_t)b);
    else if (red == RED_MUL) r = (int64_t)((uint64_t)a * (uint64_t)b);
    else if (red == RED_MAX) r = a >= b ? a : b;
    else if (red == RED_MIN) r = a <= b ? a : b;
    dtype_store_i64(t, out, o, r);
  } else {
    uint64_t a = dtype_load_u64(t, out, o), b = dtype_load_u64(t, upd, u), r = b;
    if (red == RED_ADD) r = a + b;
    else if (red == RED_MUL) r = a * b;
    else if (red == RED_MAX) r = a >= b ? a : b;
    else if (red == RED_MIN) r = a <= b ? a : b;
    dtype_store_u64(t, out, o, r);
  }
}

Status eval_scatter_nd(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0], *ind = n->inputs[1];
  Reduction red = RED_NONE;
  TRY(scatter_reduction(n, &red, err));
  size_t nb = ir_value_nbytes(x);
  if (nb) memcpy(out[0], in[0], nb);
  int k = (int)ind->dims[ind->rank - 1];
  int64_t nupd, w = 0;
  TRY(mv_prod(ind->dims, 0, ind->rank - 1, &nupd, err));
  /* Check every index first, so a bad one fails even when nothing is written. */
  for (int64_t u = 0; u < nupd; u++)
    for (int j = 0; j < k; j++) TRY(checked_index(ind, in[1], u * k + j, x->dims[j], &w, err));
  if (nupd == 0 || ir_value_numel(x) == 0) return ST_OK;
  int64_t slice = ops_numel(x->rank - k, x->dims + k);
  int64_t strides[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  DType t = x->dtype;
  size_t es = dtype_size(t);
  for (int64_t u = 0; u < nupd; u++) {
    int64_t off = 0;
    for (int j = 0; j < k; j++) {
      TRY(checked_index(ind, in[1], u * k + j, x->dims[j], &w, err));
      off += w * strides[j];
    }
    if (red == RED_NONE) {
      memcpy((char *)out[0] + (size_t)off * es, (const char *)in[2] + (size_t)(u * slice) * es,
             (size_t)slice * es);
      continue;
    }
    for (int64_t e = 0; e < slice; e++) scatter_apply(t, red, out[0], off + e, in[2],
                                                      u * slice + e);
  }
  return ST_OK;
}
