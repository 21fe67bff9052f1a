/*
 * Private helpers of the movement family (ops/movement.c), shared by the
 * files that implement Reshape, Slice, Pad, Gather, Transpose, ... .
 * Movement ops never look at element values: they move whole elements of
 * dtype_size bytes, so one strided copy serves every dtype, and Slice,
 * Transpose, Expand, DepthToSpace and SpaceToDepth are all views fed to it.
 */
#ifndef ONNXC_OPS_MOVEMENT_H
#define ONNXC_OPS_MOVEMENT_H

#include "ops.h"

/* Copies an output of shape dims (row-major, contiguous in dst) whose element
 * at index (i0, i1, ...) is src[src_offset + sum(ik * src_strides[k])].
 * Offsets and strides count elements of es bytes; strides may be 0 or
 * negative.  rank may be up to MV_MAX_VIEW_RANK. */
#define MV_MAX_VIEW_RANK 16
void mv_copy_strided(size_t es, int rank, const int64_t *dims, const void *src,
                     int64_t src_offset, const int64_t *src_strides, void *dst);

/* Element i of an int32 or int64 index tensor. */
static inline int64_t mv_index_at(DType t, const void *buf, int64_t i) {
  return t == DT_INT32 ? ((const int32_t *)buf)[i] : ((const int64_t *)buf)[i];
}

/* *out = a * b for a, b >= 0; false when the product exceeds IR_MAX_NUMEL
 * (so later arithmetic on it cannot overflow). */
bool mv_mul_bounded(int64_t a, int64_t b, int64_t *out);

/* *out = product of dims[from..to); ST_SHAPE when it exceeds IR_MAX_NUMEL.
 * Dims after a 0 may be arbitrarily large, so products of dims are never
 * trusted to fit without this check. */
Status mv_prod(const int64_t *dims, int from, int to, int64_t *out, Error *err);

/* Fails unless v is an int32 or int64 tensor (what names it in the message). */
Status mv_check_index_type(const Value *v, const char *what, Error *err);

/* Fills n elements of es bytes in dst with copies of the element at elem. */
void mv_fill(void *dst, int64_t n, const void *elem, size_t es);

#endif
