/* Helpers shared by shape rules and reference kernels; see ops.h. */
#include "ops.h"

#include <inttypes.h>
#include <string.h>

Status ops_norm_axis(int64_t axis, int rank, int *out, Error *err) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= (rank > 0 ? rank : 1))
    return err_set(err, ST_INVALID, "axis %" PRId64 " is out of range for rank %d", axis, rank);
  *out = (int)a;
  return ST_OK;
}

Status ops_broadcast(int n, const int *ranks, const int64_t *const dims[], int *out_rank,
                     int64_t *out_dims, Error *err) {
  int r = 0;
  for (int i = 0; i < n; i++)
    if (ranks[i] > r) r = ranks[i];
  for (int d = 0; d < r; d++) {
    int64_t size = 1;
    for (int i = 0; i < n; i++) {
      int k = d - (r - ranks[i]);
      if (k < 0) continue;
      int64_t s = dims[i][k];
      if (s == 1) continue;
      if (size == 1) size = s;
      else if (s != size)
        return err_set(err, ST_SHAPE, "shapes cannot be broadcast: dimension %d is %" PRId64
                       " in one input and %" PRId64 " in another", d, size, s);
    }
    /* A 0-sized dim wins over 1. */
    out_dims[d] = size;
  }
  *out_rank = r;
  return ST_OK;
}

void ops_strides(int rank, const int64_t *dims, int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
}

void ops_broadcast_strides(int in_rank, const int64_t *in_dims, int out_rank,
                           const int64_t *out_dims, int64_t *strides) {
  int64_t own[IR_MAX_RANK];
  ops_strides(in_rank, in_dims, own);
  for (int d = 0; d < out_rank; d++) {
    int k = d - (out_rank - in_rank);
    strides[d] = (k < 0 || (in_dims[k] == 1 && out_dims[d] != 1)) ? 0 : own[k];
  }
}

int64_t ops_numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}

Status ops_const_ints(const Value *v, const char *what, int64_t *out, int max, int *count,
                      Error *err) {
  if (!v || !v->data)
    return err_set(err, ST_SHAPE, "%s must be a constant (it is computed at run time, so the "
                   "output shape would not be static)", what);
  if (v->dtype != DT_INT64 && v->dtype != DT_INT32)
    return err_set(err, ST_INVALID, "%s must be int64 or int32, not %s", what,
                   dtype_name(v->dtype));
  int64_t n = ir_value_numel(v);
  if (n > max) return err_set(err, ST_INVALID, "%s has %" PRId64 " values, at most %d allowed",
                              what, n, max);
  for (int64_t i = 0; i < n; i++)
    out[i] = v->dtype == DT_INT64 ? ((const int64_t *)v->data)[i]
                                  : ((const int32_t *)v->data)[i];
  *count = (int)n;
  return ST_OK;
}

Status ops_const_scalar(const Value *v, const char *what, double *out, Error *err) {
  if (!v || !v->data) return err_set(err, ST_SHAPE, "%s must be a constant", what);
  if (ir_value_numel(v) != 1)
    return err_set(err, ST_INVALID, "%s must hold exactly one value", what);
  *out = dtype_load_f64(v->dtype, v->data, 0);
  return ST_OK;
}

Status ops_set_output(Node *n, int i, DType dt, int rank, const int64_t *dims, Error *err) {
  if (i >= n->num_outputs || !n->outputs[i]) return ST_OK;
  return ir_value_set_type(n->outputs[i], dt, rank, dims, err);
}

Status ops_set_output_like(Node *n, int i, const Value *v, Error *err) {
  return ops_set_output(n, i, v->dtype, v->rank, v->dims, err);
}

/* ---- scratch ------------------------------------------------------------ */

static size_t scratch_round(size_t x) {
  if (x > SIZE_MAX - (OPS_SCRATCH_ALIGN - 1)) return SIZE_MAX;
  return (x + OPS_SCRATCH_ALIGN - 1) & ~(size_t)(OPS_SCRATCH_ALIGN - 1);
}

size_t ops_scratch_add(size_t total, int64_t count, size_t elem_size) {
  if (total == SIZE_MAX || count < 0) return SIZE_MAX;
  if (elem_size && (uint64_t)count > (SIZE_MAX - OPS_SCRATCH_ALIGN) / elem_size) return SIZE_MAX;
  size_t piece = scratch_round((size_t)count * elem_size);
  if (piece == SIZE_MAX || piece > SIZE_MAX - OPS_SCRATCH_ALIGN - total) return SIZE_MAX;
  return total + piece;
}

OpsScratch ops_scratch_begin(void *const out[], int num_outputs, size_t promised) {
  OpsScratch s = {promised ? out[num_outputs] : NULL, promised, 0};
  if (!s.base) s.size = 0;
  return s;
}

Status ops_scratch_take(OpsScratch *s, int64_t count, size_t elem_size, void **p, Error *err) {
  *p = NULL;
  size_t need = ops_scratch_add(0, count, elem_size);
  if (need == SIZE_MAX || need > s->size - s->used)
    return err_set(err, ST_INTERNAL, "the kernel needs more scratch memory than its size "
                   "function promised (%zu bytes promised, %zu used, %" PRId64 " x %zu more "
                   "requested)", s->size, s->used, count, elem_size);
  if (need == 0) return ST_OK; /* nothing to hand out (and NULL + 0 is not valid C) */
  *p = s->base + s->used;
  s->used += need;
  return ST_OK;
}
