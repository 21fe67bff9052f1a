/*
 * ops/conv.c: Conv (1-D, 2-D, 3-D, ...; groups, depthwise, dilations,
 * strides, pads, auto_pad; optional bias).
 *
 * float32 takes the fast path: per (image, group), output positions are
 * processed in tiles; each tile's input patches are gathered into a column
 * buffer (im2col) and multiplied by the weights with an m-k-t loop whose
 * innermost loop runs over contiguous output positions.  A 1x1 kernel with
 * unit strides and no padding skips the gather.  Other float types use a
 * direct double-precision loop, which is also the cross-check in the tests.
 * ConvTranspose and Col2Im live in conv_transpose.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "spatial.h"

/* Column-buffer budget per tile, in floats (1 MiB): large enough to amortize
 * the loop overhead, small enough to stay in cache while the weights stream. */
#define CONV_TILE_ELEMS ((int64_t)1 << 18)

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

/* Gathers, for output rows [r0, r0 + rows) of one image/group, the column
 * buffer col[kdim][rows * out_last]: row (c, kernel position) holds the
 * input element each output position multiplies with that weight, or 0 in
 * the padding.  A "row" is one line of outputs along the last spatial axis. */
static void im2col_f32(const ConvGeom *cg, const float *xg, int64_t r0, int64_t rows,
                       float *col) {
  const Window *w = &cg->win;
  int nsp = w->nsp, last = nsp - 1;
  int64_t out_last = w->out[last], in_last = w->in[last];
  int64_t s = w->stride[last], t_len = rows * out_last;
  int64_t in_strides[SPATIAL_MAX_DIM];
  ops_strides(nsp, w->in, in_strides);
  int64_t kk[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM];
  for (int64_t c = 0; c < cg->in_per_group; c++) {
    const float *xc = xg + c * cg->in_size;
    for (int64_t kp = 0; kp < cg->kernel_size; kp++) {
      spatial_unravel(kp, nsp, w->kernel, kk);
      float *dst = col + (c * cg->kernel_size + kp) * t_len;
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
}

/* y[m][t] += sum_k a[m][k] * b[k][t] for m < mrows, t < t_len; y rows are
 * ldy apart, b rows ldb apart.  Four output rows share each pass over b. */
static void gemm_acc_f32(const float *a, int64_t mrows, int64_t kdim, const float *b, int64_t ldb,
                         float *y, int64_t ldy, int64_t t_len) {
  int64_t m = 0;
  for (; m + 4 <= mrows; m += 4) {
    float *y0 = y + m * ldy, *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy;
    const float *a0 = a + m * kdim, *a1 = a0 + kdim, *a2 = a1 + kdim, *a3 = a2 + kdim;
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
    const float *ar = a + m * kdim;
    for (int64_t k = 0; k < kdim; k++) {
      const float *br = b + k * ldb;
      float wv = ar[k];
      for (int64_t t = 0; t < t_len; t++) yr[t] += wv * br[t];
    }
  }
}

static Status conv_f32(const ConvGeom *cg, const float *x, const float *w, const float *b,
                       float *y, Error *err) {
  const Window *win = &cg->win;
  int nsp = win->nsp;
  int64_t out_last = win->out[nsp - 1];
  int64_t kdim = cg->in_per_group * cg->kernel_size;
  if (cg->out_size == 0 || cg->batch == 0 || cg->out_ch == 0) return ST_OK;
  bool direct = cg->kernel_size == 1;
  for (int d = 0; d < nsp; d++)
    if (win->stride[d] != 1 || win->pad_begin[d] != 0 || win->pad_end[d] != 0) direct = false;
  int64_t outer = cg->out_size / out_last;
  int64_t per_row = kdim * out_last;
  int64_t tile_rows = per_row > 0 && per_row < CONV_TILE_ELEMS ? CONV_TILE_ELEMS / per_row : 1;
  if (tile_rows > outer) tile_rows = outer;
  float *col = NULL;
  if (!direct && kdim > 0) {
    col = malloc((size_t)(per_row * tile_rows) * sizeof *col);
    if (!col) return err_set(err, ST_NOMEM, "out of memory for the Conv column buffer");
  }
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
      if (direct) {
        gemm_acc_f32(wg, cg->out_per_group, kdim, xg, cg->in_size, yg, cg->out_size,
                     cg->out_size);
        continue;
      }
      for (int64_t r0 = 0; r0 < outer; r0 += tile_rows) {
        int64_t rows = outer - r0 < tile_rows ? outer - r0 : tile_rows;
        im2col_f32(cg, xg, r0, rows, col);
        gemm_acc_f32(wg, cg->out_per_group, kdim, col, rows * out_last, yg + r0 * out_last,
                     cg->out_size, rows * out_last);
      }
    }
  }
  free(col);
  return ST_OK;
}

/* ---- other float types: direct loop in double ---------------------------- */

static void conv_direct_f64(const ConvGeom *cg, const double *x, const double *w,
                            const double *b, double *y) {
  const Window *win = &cg->win;
  int nsp = win->nsp;
  int64_t in_strides[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM], kk[SPATIAL_MAX_DIM];
  ops_strides(nsp, win->in, in_strides);
  for (int64_t img = 0; img < cg->batch; img++)
    for (int64_t m = 0; m < cg->out_ch; m++) {
      int64_t g = m / cg->out_per_group;
      const double *xg = x + (img * cg->in_ch + g * cg->in_per_group) * cg->in_size;
      const double *wm = w + m * cg->in_per_group * cg->kernel_size;
      double *ym = y + (img * cg->out_ch + m) * cg->out_size;
      for (int64_t op = 0; op < cg->out_size; op++) {
        spatial_unravel(op, nsp, win->out, o);
        double acc = b ? b[m] : 0.0;
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
            acc += xg[c * cg->in_size + off] * wm[c * cg->kernel_size + kp];
        }
        ym[op] = acc;
      }
    }
}

Status eval_conv(const Node *n, const void *const in[], void *const out[], Error *err) {
  ConvGeom cg;
  TRY(conv_geom(n, &cg, err));
  const void *bias = n->num_inputs > 2 && n->inputs[2] ? in[2] : NULL;
  DType dt = n->inputs[0]->dtype;
  if (dt == DT_FLOAT32) return conv_f32(&cg, in[0], in[1], bias, out[0], err);

  return spatial_conv_eval_f64(n, &cg, in, out[0], conv_direct_f64, "Conv", err);
}
