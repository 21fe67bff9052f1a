/*
 * ops/spatial.h: window geometry shared by the sliding-window ops (Conv,
 * ConvTranspose, Col2Im, AveragePool, MaxPool) and small buffer helpers.
 *
 * spatial_read() reads kernel_shape / strides / dilations / pads once and
 * validates them; spatial_forward_out() applies ONNX's output-size formulas
 * (auto_pad, ceil_mode).  Shape rules and kernels both go through these, so
 * the size a shape rule promised is exactly the size a kernel computes.
 * Every attribute is bounded by SPATIAL_MAX_ATTR so that products such as
 * (kernel - 1) * dilation + stride * out cannot overflow int64.
 * Kernels here never allocate (see the scratch contract in ops.h).
 */
#ifndef ONNXC_OPS_SPATIAL_H
#define ONNXC_OPS_SPATIAL_H

#include <stdbool.h>

#include "ops.h"

#define SPATIAL_MAX_DIM (IR_MAX_RANK - 2)
#define SPATIAL_MAX_ATTR ((int64_t)1 << 24)

typedef enum AutoPad {
  AUTO_PAD_NOTSET,
  AUTO_PAD_SAME_UPPER,
  AUTO_PAD_SAME_LOWER,
  AUTO_PAD_VALID
} AutoPad;

typedef struct Window {
  int nsp;                            /* number of spatial dims */
  AutoPad auto_pad;
  int64_t in[SPATIAL_MAX_DIM];        /* input spatial sizes */
  int64_t kernel[SPATIAL_MAX_DIM];
  int64_t stride[SPATIAL_MAX_DIM];
  int64_t dilation[SPATIAL_MAX_DIM];
  int64_t pad_begin[SPATIAL_MAX_DIM]; /* may be negative only for ConvTranspose */
  int64_t pad_end[SPATIAL_MAX_DIM];
  int64_t out[SPATIAL_MAX_DIM];       /* output spatial sizes (after *_out) */
} Window;

/* Parses auto_pad (default NOTSET); unknown strings are ST_INVALID. */
Status spatial_auto_pad(const Node *n, AutoPad *out, Error *err);

/* Fills w from the node's attributes for an input with nsp spatial dims of
 * sizes in[].  w_kernel (Conv's weight dims) supplies kernel_shape when the
 * attribute is absent and is checked against it when present; NULL makes
 * kernel_shape required (pools).  Explicit pads are read only when
 * auto_pad is NOTSET. */
Status spatial_read(const Node *n, int nsp, const int64_t *in, const int64_t *w_kernel,
                    Window *w, Error *err);

/* Output sizes for a forward window op (Conv, pools): auto_pad SAME_* sets
 * out = ceil(in / stride) and splits the needed padding (the odd element
 * goes at the end for SAME_UPPER, at the beginning for SAME_LOWER); VALID
 * uses no padding; NOTSET uses pads with floor, or with ceil when ceil_mode
 * (dropping a last window that would start in the end padding). */
Status spatial_forward_out(Window *w, bool ceil_mode, Error *err);

/* Effective extent of the kernel along axis d: (k - 1) * dilation + 1. */
static inline int64_t spatial_extent(const Window *w, int d) {
  return (w->kernel[d] - 1) * w->dilation[d] + 1;
}

/* ST_NOMEM unless dims[0..n) multiply to at most IR_MAX_NUMEL (without
 * overflowing on the way); ST_SHAPE for a negative dim. */
Status spatial_check_numel(int n, const int64_t *dims, Error *err);

/* The float dtypes the conv/pool kernels accept. */
bool spatial_is_float(DType t);

/* Product of n sizes. */
int64_t spatial_prod(int n, const int64_t *d);

/* Element i of a float buffer of dtype t as double, and back (float32 fast
 * path); the kernels compute in double straight from the tensors, without
 * converted copies. */
static inline double spatial_ld(DType t, const void *buf, int64_t i) {
  return t == DT_FLOAT32 ? (double)((const float *)buf)[i] : dtype_load_f64(t, buf, (size_t)i);
}
static inline void spatial_st(DType t, void *buf, int64_t i, double v) {
  if (t == DT_FLOAT32) ((float *)buf)[i] = (float)v;
  else dtype_store_f64(t, buf, (size_t)i, v, false);
}

/* Row-major index vector of flat index idx over dims[0..n) (a zero dim
 * yields index 0). */
void spatial_unravel(int64_t idx, int n, const int64_t *dims, int64_t *out);

/* Channel and size bookkeeping shared by Conv and ConvTranspose. */
typedef struct ConvGeom {
  int64_t batch, in_ch, out_ch, group, in_per_group, out_per_group;
  int64_t in_size, out_size, kernel_size; /* spatial element counts */
  Window win; /* ConvTranspose: win.out = output sizes, pads may be negative */
} ConvGeom;

/* The checks Conv and ConvTranspose share on input 0 (x) and 1 (weight):
 * x has rank >= 3, the weight has x's rank, and the group attribute
 * (default 1) is positive and divides x's channels; *group receives it. */
Status spatial_conv_group(const Node *n, int64_t *group, Error *err);

/* Sets in_size, out_size and kernel_size from cg->win. */
void spatial_conv_sizes(ConvGeom *cg);

/* Output 0 = [batch, out_ch, win.out...] in input 0's dtype. */
Status spatial_conv_set_output(Node *n, const ConvGeom *cg, Error *err);

/* Floor division and modulo for possibly negative numerators (d > 0). */
static inline int64_t spatial_floordiv(int64_t a, int64_t d) {
  int64_t q = a / d;
  return (a % d != 0 && a < 0) ? q - 1 : q;
}

#endif
