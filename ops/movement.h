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
/* A Slice's first input index and step per axis (inputs normalized, ends
 * clamped as ONNX says); the output shape is the node's own. */
Status mv_slice_starts(const Node *n, int64_t start[IR_MAX_RANK], int64_t step[IR_MAX_RANK],
                       Error *err);

/* Fills n elements of es bytes in dst with copies of the element at elem. */
void mv_fill(void *dst, int64_t n, const void *elem, size_t es);

/* ---- movement ops as separable index maps ------------------------------
 *
 * Transpose, Slice, Pad, Gather with constant indices and nearest Resize
 * all copy whole elements, and the input element each output element
 * reads is a sum of one term per output axis.  An MvMap holds those terms:
 * output element (i0, ..., ir-1) is input element
 * base + table[0][i0] + ... + table[r-1][ir-1], or the fill element when
 * any table[k][ik] is MV_FILL.  The compiler lowers such a map to one
 * partitioned copy kernel (onnxc_remap_rows below); the maps are built by
 * the ops' own files from the same parameters their reference kernels use,
 * so the semantics live in one place. */
#define MV_FILL INT64_MIN
typedef struct MvMap {
  int rank;
  int64_t dims[IR_MAX_RANK];
  int64_t *table[IR_MAX_RANK];
  int64_t base;
  size_t es;     /* element bytes: 1, 2, 4 or 8 */
  uint64_t fill; /* the fill element's bytes, little-endian */
} MvMap;

/* The kernel: copies rows [lo, hi) of the output described by the flat
 * descriptor desc (codegen/vec/lower_remap.c builds it from an MvMap;
 * layout in ops/remap.c).  Every row is written by the same instructions
 * whatever the range, so any partition gives the same bytes. */
void onnxc_remap_rows(const int64_t *desc, const void *src, void *dst, int64_t lo, int64_t hi);

#ifndef ONNXC_KERNEL_BITCODE
/* Tables of m->rank axes of the given dims, zeroed; refused (ST_UNSUPPORTED)
 * beyond MV_MAP_MAX_ENTRIES entries in all. */
#define MV_MAP_MAX_ENTRIES ((int64_t)1 << 22)
Status mv_map_alloc(MvMap *m, int rank, const int64_t *dims, size_t es, Error *err);
void mv_map_free(MvMap *m);
/* mv_map_alloc for n's output 0 (a scalar as one axis of size 1), after
 * checking that n copies elements of 1, 2, 4 or 8 bytes between non-empty
 * tensors of one dtype. */
Status mv_map_for_output(const Node *n, MvMap *m, Error *err);
/* Drops axes of size 1 and merges neighbouring axes that address the input
 * affinely, so the last axis is as long a contiguous run as possible. */
void mv_map_simplify(MvMap *m);

/* The maps of the ops that have one (ST_UNSUPPORTED when this node's form
 * is not a pure copy, e.g. Resize in linear mode); m is freed on error. */
Status mv_map_transpose(const Node *n, MvMap *m, Error *err);
Status mv_map_slice(const Node *n, MvMap *m, Error *err);
Status mv_map_pad(const Node *n, MvMap *m, Error *err);
Status mv_map_gather(const Node *n, MvMap *m, Error *err);
Status mv_map_resize(const Node *n, MvMap *m, Error *err);
/* Output j of a Split. */
Status mv_map_split(const Node *n, int j, MvMap *m, Error *err);
/* The map builder of n's op, or NULL when it has none. */
typedef Status (*MvMapFn)(const Node *n, MvMap *m, Error *err);
MvMapFn mv_map_fn(OpKind op);
/* True when n's output is one contiguous block of its input 0 (Gather of
 * one leading index, Slice of leading rows, ...): *elem_offset is where
 * it starts, in elements.  Such a node can be a view. */
bool mv_map_contiguous(const Node *n, int64_t *elem_offset);
#endif

#endif
