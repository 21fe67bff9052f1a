/*
 * ops/conv.c: Conv (1-D, 2-D, 3-D, ...; groups, depthwise, dilations,
 * strides, pads, auto_pad; optional bias).
 *
 * float32 takes the fast path: per (image, group), output rows and patch
 * rows are processed in tiles; each tile's input patches are gathered
 * into a column buffer (im2col, at most CONV_TILE_ELEMS floats of kernel
 * scratch, see ops.h) and multiplied by the weights with an m-k-t loop whose
 * innermost loop runs over contiguous output positions.  A 1x1 kernel with
 * unit strides and no padding skips the gather.  Other float types, and
 * float32 convolutions whose output rows are longer than a tile, use a
 * direct double-precision loop (no scratch), also the cross-check in tests.
 * ConvTranspose and Col2Im live in conv_transpose.c.
 */
#include <inttypes.h>
#include <string.h>

#include "spatial.h"

/* Column-buffer budget per tile, in floats (16 KiB): enough positions per
 * tile to amortize the loop overhead, L1-sized, and small as kernel scratch
 * (the memory plan reserves it in the compiled workspace even for Convs a
 * specialized lowering handles). */
#define CONV_TILE_ELEMS ((int64_t)1 << 12)
/* Output positions a tile aims for when the patch matrix must be split. */
#define CONV_TILE_POSITIONS ((int64_t)256)

/* Validates Conv's inputs and attributes and derives the geometry; shared
 * by the shape rule and the kernel. */
static Status conv_geom(const Node *n, ConvGeom *cg, Error *err) {
  const Value *x = n->inputs[0], *w = n->inputs[1];
  const Value *b = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (!spatial_is_float(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "Conv input type %s is not supported (float types only)",
                   dtype_name(x->dtype));
  if (w->dtype != x->dtype)
    return err_set(err, ST_SHAPE, "the weight is %s but the input is %s", dtype_name(w->dtype),
                   dtype_name(x->dtype));
  int64_t group;
  TRY(spatial_conv_group(n, &group, err));
  cg->batch = x->dims[0];
  cg->in_ch = x->dims[1];
  cg->out_ch = w->dims[0];
  cg->group = group;
  if (cg->out_ch % group)
    return err_set(err, ST_SHAPE, "group %" PRId64 " does not divide %" PRId64 " output channels",
                   group, cg->out_ch);
  cg->in_per_group = cg->in_ch / group;
  cg->out_per_group = cg->out_ch / group;
  if (w->dims[1] != cg->in_per_group)
    return err_set(err, ST_SHAPE, "the weight has %" PRId64 " input channels per group, expected %"
                   PRId64 " (%" PRId64 " channels / group %" PRId64 ")", w->dims[1],
                   cg->in_per_group, cg->in_ch, group);
  if (b) {
    if (b->dtype != x->dtype)
      return err_set(err, ST_SHAPE, "the bias is %s but the input is %s", dtype_name(b->dtype),
                     dtype_name(x->dtype));
    if (b->rank != 1 || b->dims[0] != cg->out_ch)
      return err_set(err, ST_SHAPE, "the bias must have shape [%" PRId64 "]", cg->out_ch);
  }
  int nsp = x->rank - 2;
  TRY(spatial_read(n, nsp, x->dims + 2, w->dims + 2, &cg->win, err));
  TRY(spatial_forward_out(&cg->win, false, err));
  spatial_conv_sizes(cg);
  return ST_OK;
}

Status shape_conv(Graph *g, Node *n, Error *err) {
  ConvGeom cg;
  TRY(conv_geom(n, &cg, err));
  return spatial_conv_set_output(n, &cg, err);
}

/* ---- float32: im2col + tiled matrix product ----------------------------- */

/* Gathers, for output rows [r0, r0 + rows) and patch rows [k0, k0 + kc) of
 * one image/group, the column buffer col[kc][rows * out_last]: patch row
 * k = (input channel, kernel position) holds the input element each output
 * position multiplies with that weight, or 0 in the padding.  An output
 * "row" is one line of outputs along the last spatial axis. */
static void im2col_f32(const ConvGeom *cg, const float *xg, int64_t k0, int64_t kc, int64_t r0,
                       int64_t rows, float *col) {
  const Window *w = &cg->win;
  int nsp = w->nsp, last = nsp - 1;
  int64_t out_last = w->out[last], in_last = w->in[last];
  int64_t s = w->stride[last], t_len = rows * out_last;
  int64_t in_strides[SPATIAL_MAX_DIM];
  ops_strides(nsp, w->in, in_strides);
  int64_t kk[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM];
  for (int64_t k = 0; k < kc; k++) {
    int64_t c = (k0 + k) / cg->kernel_size, kp = (k0 + k) % cg->kernel_size;
    const float *xc = xg + c * cg->in_size;
    spatial_unravel(kp, nsp, w->kernel, kk);
    float *dst = col + k * t_len;
    int64_t base = kk[last] * w->dilation[last] - w->pad_begin[last];
    /* Output x positions whose input x = ox * s + base lies inside. */
    int64_t lo = base >= 0 ? 0 : (-base + s - 1) / s;
    int64_t hi = in_last - 1 - base >= 0 ? (in_last - 1 - base) / s + 1 : 0;
    if (hi > out_last) hi = out_last;
    if (lo > hi) lo = hi;
    for (int64_t r = r0; r < r0 + rows; r++) {
      float *rd = dst + (r - r0) * out_last;
      spatial_unravel(r, last, w->out, o);
      int64_t off = 0;
      bool inside = true;
      for (int d = 0; d < last && inside; d++) {
        int64_t i = o[d] * w->stride[d] - w->pad_begin[d] + kk[d] * w->dilation[d];
        inside = i >= 0 && i < w->in[d];
        off += i * in_strides[d];
      }
      if (!inside) {
        memset(rd, 0, (size_t)out_last * sizeof *rd);
        continue;
      }
      const float *xr = xc + off;
      for (int64_t ox = 0; ox < lo; ox++) rd[ox] = 0.0f;
      if (s == 1) {
        if (hi > lo) memcpy(rd + lo, xr + lo + base, (size_t)(hi - lo) * sizeof *rd);
      } else {
        for (int64_t ox = lo; ox < hi; ox++) rd[ox] = xr[ox * s + base];
      }
      for (int64_t ox = hi; ox < out_last; ox++) rd[ox] = 0.0f;
    }
  }
}

/* y[m][t] += sum_k a[m][k] * b[k][t] for m < mrows, k < kdim, t < t_len;
 * a rows are lda apart, y rows ldy, b rows ldb.  Four output rows share
 * each pass over b. */
static void gemm_acc_f32(const float *a, int64_t lda, int64_t mrows, int64_t kdim, const float *b,
                         int64_t ldb, float *y, int64_t ldy, int64_t t_len) {
  int64_t m = 0;
  for (; m + 4 <= mrows; m += 4) {
    float *y0 = y + m * ldy, *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy;
    const float *a0 = a + m * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    for (int64_t k = 0; k < kdim; k++) {
      const float *br = b + k * ldb;
      float w0 = a0[k], w1 = a1[k], w2 = a2[k], w3 = a3[k];
      for (int64_t t = 0; t < t_len; t++) {
        float v = br[t];
        y0[t] += w0 * v;
        y1[t] += w1 * v;
        y2[t] += w2 * v;
        y3[t] += w3 * v;
      }
    }
  }
  for (; m < mrows; m++) {
    float *yr = y + m * ldy;
    const float *ar = a + m * lda;
    for (int64_t k = 0; k < kdim; k++) {
      const float *br = b + k * ldb;
      float wv = ar[k];
      for (int64_t t = 0; t < t_len; t++) yr[t] += wv * br[t];
    }
  }
}

/* How conv_f32 walks one (image, group): the whole patch matrix at once
 * (direct: a 1x1 kernel with unit strides and no padding reads x as is),
 * or tiles of `kc` patch rows x `rows` output rows gathered into `elems`
 * floats of column buffer.  fits is false when a single output row is
 * longer than the tile budget: the kernel then takes the direct double
 * loop, which needs no buffer. */
typedef struct ConvTiling {
  bool direct, fits;
  int64_t kc, rows, elems;
} ConvTiling;

static ConvTiling conv_tiling(const ConvGeom *cg) {
  const Window *win = &cg->win;
  int nsp = win->nsp;
  ConvTiling t = {.direct = cg->kernel_size == 1, .fits = true};
  for (int d = 0; d < nsp; d++)
    if (win->stride[d] != 1 || win->pad_begin[d] != 0 || win->pad_end[d] != 0) t.direct = false;
  int64_t out_last = win->out[nsp - 1], outer = out_last ? cg->out_size / out_last : 0;
  int64_t kdim = cg->in_per_group * cg->kernel_size;
  if (t.direct || kdim == 0 || outer == 0) {
    t.direct = true; /* nothing to gather */
    return t;
  }
  if (out_last > CONV_TILE_ELEMS) {
    t.fits = false;
    return t;
  }
  if (kdim <= CONV_TILE_ELEMS / out_last) {
    t.kc = kdim;
    t.rows = CONV_TILE_ELEMS / (kdim * out_last);
    if (t.rows > outer) t.rows = outer;
  } else {
    /* Long enough rows of positions for the inner loop (short output rows
     * are batched), then as many patch rows as fit. */
    t.rows = CONV_TILE_POSITIONS / out_last;
    if (t.rows < 1) t.rows = 1;
    if (t.rows > outer) t.rows = outer;
    t.kc = CONV_TILE_ELEMS / (t.rows * out_last);
  }
  t.elems = t.kc * t.rows * out_last;
  return t;
}

static Status conv_f32(const ConvGeom *cg, const ConvTiling *tl, const float *x, const float *w,
                       const float *b, float *y, float *col) {
  const Window *win = &cg->win;
  int nsp = win->nsp;
  int64_t out_last = win->out[nsp - 1];
  int64_t kdim = cg->in_per_group * cg->kernel_size;
  if (cg->out_size == 0 || cg->batch == 0 || cg->out_ch == 0) return ST_OK;
  int64_t outer = cg->out_size / out_last;
  for (int64_t img = 0; img < cg->batch; img++) {
    for (int64_t g = 0; g < cg->group; g++) {
      const float *xg = x + (img * cg->in_ch + g * cg->in_per_group) * cg->in_size;
      const float *wg = w + g * cg->out_per_group * kdim;
      float *yg = y + (img * cg->out_ch + g * cg->out_per_group) * cg->out_size;
      for (int64_t m = 0; m < cg->out_per_group; m++) {
        float bias = b ? b[g * cg->out_per_group + m] : 0.0f;
        float *yr = yg + m * cg->out_size;
        for (int64_t t = 0; t < cg->out_size; t++) yr[t] = bias;
      }
      if (kdim == 0) continue;
      if (tl->direct) {
        gemm_acc_f32(wg, kdim, cg->out_per_group, kdim, xg, cg->in_size, yg, cg->out_size,
                     cg->out_size);
        continue;
      }
      for (int64_t r0 = 0; r0 < outer; r0 += tl->rows) {
        int64_t rows = outer - r0 < tl->rows ? outer - r0 : tl->rows;
        for (int64_t k0 = 0; k0 < kdim; k0 += tl->kc) {
          int64_t kc = kdim - k0 < tl->kc ? kdim - k0 : tl->kc;
          im2col_f32(cg, xg, k0, kc, r0, rows, col);
          gemm_acc_f32(wg + k0, kdim, cg->out_per_group, kc, col, rows * out_last,
                       yg + r0 * out_last, cg->out_size, rows * out_last);
        }
      }
    }
  }
  return ST_OK;
}

/* ---- other float types: direct loop in double ---------------------------- */

/* Every output element accumulated in double straight from the tensors of
 * dtype t (b may be NULL). */
static void conv_direct_f64(const ConvGeom *cg, DType t, const void *x, const void *w,
                            const void *b, void *y) {
  const Window *win = &cg->win;
  int nsp = win->nsp;
  int64_t in_strides[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM], kk[SPATIAL_MAX_DIM];
  ops_strides(nsp, win->in, in_strides);
  for (int64_t img = 0; img < cg->batch; img++)
    for (int64_t m = 0; m < cg->out_ch; m++) {
      int64_t g = m / cg->out_per_group;
      int64_t xg = (img * cg->in_ch + g * cg->in_per_group) * cg->in_size;
      int64_t wm = m * cg->in_per_group * cg->kernel_size;
      int64_t ym = (img * cg->out_ch + m) * cg->out_size;
      for (int64_t op = 0; op < cg->out_size; op++) {
        spatial_unravel(op, nsp, win->out, o);
        double acc = b ? spatial_ld(t, b, m) : 0.0;
        for (int64_t kp = 0; kp < cg->kernel_size; kp++) {
          spatial_unravel(kp, nsp, win->kernel, kk);
          int64_t off = 0;
          bool inside = true;
          for (int d = 0; d < nsp && inside; d++) {
            int64_t i = o[d] * win->stride[d] - win->pad_begin[d] + kk[d] * win->dilation[d];
            inside = i >= 0 && i < win->in[d];
            off += i * in_strides[d];
          }
          if (!inside) continue;
          for (int64_t c = 0; c < cg->in_per_group; c++)
            acc += spatial_ld(t, x, xg + c * cg->in_size + off) *
                   spatial_ld(t, w, wm + c * cg->kernel_size + kp);
        }
        spatial_st(t, y, ym + op, acc);
      }
    }
}

size_t scratch_conv(const Node *n) {
  ConvGeom cg;
  Error e;
  if (n->inputs[0]->dtype != DT_FLOAT32 || conv_geom(n, &cg, &e) != ST_OK) return 0;
  ConvTiling tl = conv_tiling(&cg);
  return tl.direct || !tl.fits ? 0 : ops_scratch_add(0, tl.elems, sizeof(float));
}

Status eval_conv(const Node *n, const void *const in[], void *const out[], Error *err) {
  ConvGeom cg;
  TRY(conv_geom(n, &cg, err));
  const void *bias = n->num_inputs > 2 && n->inputs[2] ? in[2] : NULL;
  DType dt = n->inputs[0]->dtype;
  if (dt == DT_FLOAT32) {
    ConvTiling tl = conv_tiling(&cg);
    if (tl.fits) {
      OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_conv(n));
      void *col = NULL;
      if (!tl.direct) TRY(ops_scratch_take(&s, tl.elems, sizeof(float), &col, err));
      return conv_f32(&cg, &tl, in[0], in[1], bias, out[0], col);
    }
  }
  conv_direct_f64(&cg, dt, in[0], in[1], bias, out[0]);
  return ST_OK;
}
