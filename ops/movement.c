/*
 * ops/movement.c: helpers shared by the movement family (see movement.h).
 * The ops themselves live in reshape.c, generate.c, concat.c, slice.c,
 * pad.c, gather.c, transpose.c, tile.c and trilu.c; this file holds only the
 * byte-moving loops they have in common.
 */
#include "movement.h"

#include <string.h>

void mv_copy_strided(size_t es, int rank, const int64_t *dims, const void *src,
                     int64_t src_offset, const int64_t *src_strides, void *dst) {
  const char *s = src;
  char *d = dst;
  for (int k = 0; k < rank; k++)
    if (dims[k] == 0) return;
  if (rank == 0) {
    memcpy(d, s + src_offset * (int64_t)es, es);
    return;
  }
  int64_t idx[MV_MAX_VIEW_RANK] = {0};
  int last = rank - 1;
  int64_t row = dims[last], step = src_strides[last];
  int64_t off = src_offset;
  for (;;) {
    /* Innermost dimension: one memcpy when it is contiguous in src. */
    if (step == 1) {
      memcpy(d, s + off * (int64_t)es, (size_t)row * es);
      d += (size_t)row * es;
    } else {
      int64_t o = off;
      for (int64_t i = 0; i < row; i++, o += step) {
        memcpy(d, s + o * (int64_t)es, es);
        d += es;
      }
    }
    /* Odometer over the outer dimensions. */
    int k = last - 1;
    while (k >= 0) {
      idx[k]++;
      off += src_strides[k];
      if (idx[k] < dims[k]) break;
      off -= src_strides[k] * dims[k];
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

bool mv_mul_bounded(int64_t a, int64_t b, int64_t *out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > IR_MAX_NUMEL / a) return false;
  *out = a * b;
  return true;
}

Status mv_prod(const int64_t *dims, int from, int to, int64_t *out, Error *err) {
  int64_t p = 1;
  for (int i = from; i < to; i++)
    if (!mv_mul_bounded(p, dims[i], &p))
      return err_set(err, ST_SHAPE, "tensor has more than 2^40 elements");
  *out = p;
  return ST_OK;
}

Status mv_check_index_type(const Value *v, const char *what, Error *err) {
  if (v->dtype != DT_INT32 && v->dtype != DT_INT64)
    return err_set(err, ST_INVALID, "%s must be int32 or int64, not %s", what,
                   dtype_name(v->dtype));
  return ST_OK;
}

void mv_fill(void *dst, int64_t n, const void *elem, size_t es) {
  char *d = dst;
  for (int64_t i = 0; i < n; i++, d += es) memcpy(d, elem, es);
}
