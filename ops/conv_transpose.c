/*
 * ops/conv_transpose.c: ConvTranspose and Col2Im, the two "scatter" window
 * ops: every input element adds weight-scaled copies of itself into a
 * window of the output (ConvTranspose), or every column entry adds itself
 * to one image pixel (Col2Im).  Both accumulate one output plane at a
 * time in double (kernel scratch, see ops.h) and store it in the output
 * dtype.  Geometry comes from spatial.h; ConvTranspose's own output
 * size rules (output_padding, output_shape, SAME_*) are here.
 * Part of the conv family (ops.def); Conv itself is in conv.c.
 */
#include <inttypes.h>
#include <string.h>

#include "spatial.h"

/* Adds scale * src[i] into dst[i * step + base] for every i < src_len whose
 * target lies in [0, dst_len): one line of a scatter along the last axis.
 * src is element src_off of a buffer of dtype t. */
static void scatter_line(double *dst, int64_t dst_len, DType t, const void *src, int64_t src_off,
                         int64_t src_len, int64_t step, int64_t base, double scale) {
  int64_t lo = base >= 0 ? 0 : (-base + step - 1) / step;
  int64_t hi = dst_len - 1 - base >= 0 ? (dst_len - 1 - base) / step + 1 : 0;
  if (hi > src_len) hi = src_len;
  for (int64_t i = lo; i < hi; i++)
    dst[i * step + base] += scale * spatial_ld(t, src, src_off + i);
}

/* Output offset of the window line that input outer position `pos` (all
 * axes but the last) feeds through kernel position kk; -1 if that line
 * falls outside the output. */
static int64_t scatter_row_offset(const Window *w, const int64_t *pos, const int64_t *kk,
                                  const int64_t *out_strides) {
  int64_t off = 0;
  for (int d = 0; d < w->nsp - 1; d++) {
    int64_t o = pos[d] * w->stride[d] + kk[d] * w->dilation[d] - w->pad_begin[d];
    if (o < 0 || o >= w->out[d]) return -1;
    off += o * out_strides[d];
  }
  return off;
}

/* ---- ConvTranspose ------------------------------------------------------- */

static Status deconv_geom(const Node *n, ConvGeom *dg, Error *err) {
  const Value *x = n->inputs[0], *w = n->inputs[1];
  const Value *b = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (!spatial_is_float(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "ConvTranspose input type %s is not supported "
                   "(float types only)", dtype_name(x->dtype));
  if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
    return err_set(err, ST_SHAPE, "the weight and bias must have the input's type %s",
                   dtype_name(x->dtype));
  int64_t group;
  TRY(spatial_conv_group(n, &group, err));
  dg->batch = x->dims[0];
  dg->in_ch = x->dims[1];
  dg->group = group;
  if (w->dims[0] != dg->in_ch)
    return err_set(err, ST_SHAPE, "the weight's first dim is %" PRId64 ", expected the %" PRId64
                   " input channels", w->dims[0], dg->in_ch);
  dg->in_per_group = dg->in_ch / group;
  dg->out_per_group = w->dims[1];
  dg->out_ch = w->dims[1] * group;
  if (b && (b->rank != 1 || b->dims[0] != dg->out_ch))
    return err_set(err, ST_SHAPE, "the bias must have shape [%" PRId64 "]", dg->out_ch);

  int nsp = x->rank - 2;
  Window *win = &dg->win;
  TRY(spatial_read(n, nsp, x->dims + 2, w->dims + 2, win, err));
  int64_t outpad[SPATIAL_MAX_DIM] = {0};
  const int64_t *v;
  int cnt = ir_attr_ints(n, "output_padding", &v);
  if (cnt >= 0) {
    if (cnt != nsp)
      return err_set(err, ST_INVALID, "output_padding has %d values, expected %d", cnt, nsp);
    for (int d = 0; d < nsp; d++) {
      if (v[d] < 0 || v[d] > SPATIAL_MAX_ATTR)
        return err_set(err, ST_INVALID, "output_padding[%d] is %" PRId64 ", out of range", d,
                       v[d]);
      outpad[d] = v[d];
    }
  }
  const int64_t *os;
  int os_cnt = ir_attr_ints(n, "output_shape", &os);
  if (os_cnt >= 0) {
    if (os_cnt != nsp && os_cnt != nsp + 2)
      return err_set(err, ST_INVALID, "output_shape has %d values, expected %d", os_cnt, nsp);
    os += os_cnt - nsp; /* a full N, C, spatial... shape: keep the spatial part */
  }
  for (int d = 0; d < nsp; d++) {
    int64_t in = win->in[d], s = win->stride[d];
    if (in > 0 && in - 1 > IR_MAX_NUMEL / s)
      return err_set(err, ST_SHAPE, "the output along spatial dim %d would be too large", d);
    /* Size before cropping: where the last input's window ends. */
    int64_t full = in > 0 ? s * (in - 1) + outpad[d] + spatial_extent(win, d) : 0;
    bool derive_pads = os_cnt >= 0 || win->auto_pad == AUTO_PAD_SAME_UPPER ||
                       win->auto_pad == AUTO_PAD_SAME_LOWER;
    if (derive_pads) {
      int64_t target = os_cnt >= 0 ? os[d] : in * s;
      if (target < 0 || target > IR_MAX_NUMEL)
        return err_set(err, ST_INVALID, "output_shape[%d] is %" PRId64 ", out of range", d,
                       target);
      /* The odd unit goes at the end for SAME_UPPER, at the beginning
       * otherwise; floor division keeps a negative total (an output larger
       * than the natural one) growing at the end. */
      int64_t total = full - target, half = spatial_floordiv(total, 2);
      win->pad_begin[d] = win->auto_pad == AUTO_PAD_SAME_UPPER ? half : total - half;
      win->pad_end[d] = total - win->pad_begin[d];
      win->out[d] = target;
    } else {
      int64_t out = full - win->pad_begin[d] - win->pad_end[d];
      if (out < 0)
        return err_set(err, ST_SHAPE, "pads along spatial dim %d exceed the output size %" PRId64,
                       d, full);
      win->out[d] = out;
    }
  }
  TRY(spatial_check_numel(nsp, win->out, err));
  spatial_conv_sizes(dg);
  return ST_OK;
}

Status shape_conv_transpose(Graph *g, Node *n, Error *err) {
  ConvGeom dg;
  TRY(deconv_geom(n, &dg, err));
  return spatial_conv_set_output(n, &dg, err);
}

/* One output plane (out_size doubles) at a time: every input channel of the
 * group scatters into it, then it is stored in the output dtype. */
static void deconv_planes(const ConvGeom *dg, DType t, const void *x, const void *w,
                          const void *b, void *y, double *plane) {
  const Window *win = &dg->win;
  int nsp = win->nsp, last = nsp - 1;
  int64_t in_last = win->in[last], out_last = win->out[last];
  int64_t rows = in_last ? dg->in_size / in_last : 0;
  int64_t out_strides[SPATIAL_MAX_DIM], kk[SPATIAL_MAX_DIM], pos[SPATIAL_MAX_DIM];
  ops_strides(nsp, win->out, out_strides);
  for (int64_t img = 0; img < dg->batch; img++)
    for (int64_t m = 0; m < dg->out_ch; m++) {
      int64_t g = m / dg->out_per_group, oc = m % dg->out_per_group;
      double bias = b ? spatial_ld(t, b, m) : 0.0;
      for (int64_t i = 0; i < dg->out_size; i++) plane[i] = bias;
      for (int64_t c = g * dg->in_per_group; c < (g + 1) * dg->in_per_group; c++) {
        int64_t xc = (img * dg->in_ch + c) * dg->in_size;
        int64_t wk = (c * dg->out_per_group + oc) * dg->kernel_size;
        for (int64_t kp = 0; kp < dg->kernel_size; kp++) {
          spatial_unravel(kp, nsp, win->kernel, kk);
          int64_t base = kk[last] * win->dilation[last] - win->pad_begin[last];
          double wv = spatial_ld(t, w, wk + kp);
          for (int64_t r = 0; r < rows; r++) {
            spatial_unravel(r, last, win->in, pos);
            int64_t off = scatter_row_offset(win, pos, kk, out_strides);
            if (off < 0) continue;
            scatter_line(plane + off, out_last, t, x, xc + r * in_last, in_last,
                         win->stride[last], base, wv);
          }
        }
      }
      int64_t ym = (img * dg->out_ch + m) * dg->out_size;
      for (int64_t i = 0; i < dg->out_size; i++) spatial_st(t, y, ym + i, plane[i]);
    }
}

size_t scratch_conv_transpose(const Node *n) {
  ConvGeom dg;
  Error e;
  if (deconv_geom(n, &dg, &e) != ST_OK) return 0;
  return ops_scratch_add(0, dg.out_size, sizeof(double));
}

Status eval_conv_transpose(const Node *n, const void *const in[], void *const out[], Error *err) {
  ConvGeom dg;
  TRY(deconv_geom(n, &dg, err));
  /* An empty output plane: nothing to write (and no plane to scatter into). */
  if (dg.out_size <= 0) return ST_OK;
  OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_conv_transpose(n));
  void *plane;
  TRY(ops_scratch_take(&s, dg.out_size, sizeof(double), &plane, err));
  const void *bias = n->num_inputs > 2 && n->inputs[2] ? in[2] : NULL;
  deconv_planes(&dg, n->inputs[0]->dtype, in[0], in[1], bias, out[0], plane);
  return ST_OK;
}

/* ---- Col2Im -------------------------------------------------------------- */

typedef struct Col2ImGeom {
  int64_t batch, channels, blocks, kernel_size, image_size;
  Window win; /* in = image_shape, kernel = block_shape, out = block grid */
} Col2ImGeom;

static Status col2im_geom(const Node *n, Col2ImGeom *cg, Error *err) {
  const Value *x = n->inputs[0];
  if (!spatial_is_float(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "Col2Im input type %s is not supported (float types only)",
                   dtype_name(x->dtype));
  if (x->rank != 3)
    return err_set(err, ST_SHAPE, "the input has rank %d, expected 3 (N, C * block size, L)",
                   x->rank);
  int64_t image[SPATIAL_MAX_DIM + 1], block[SPATIAL_MAX_DIM + 1];
  int ni, nb;
  TRY(ops_const_ints(n->inputs[1], "image_shape", image, SPATIAL_MAX_DIM, &ni, err));
  TRY(ops_const_ints(n->inputs[2], "block_shape", block, SPATIAL_MAX_DIM, &nb, err));
  if (ni != nb)
    return err_set(err, ST_INVALID, "image_shape has %d values but block_shape has %d", ni, nb);
  for (int d = 0; d < ni; d++) {
    if (image[d] < 0 || image[d] > IR_MAX_NUMEL)
      return err_set(err, ST_INVALID, "image_shape[%d] is %" PRId64 ", out of range", d, image[d]);
    if (block[d] < 1)
      return err_set(err, ST_INVALID, "block_shape[%d] is %" PRId64 ", expected at least 1", d,
                     block[d]);
  }
  TRY(spatial_read(n, ni, image, block, &cg->win, err));
  TRY(spatial_forward_out(&cg->win, false, err));
  cg->batch = x->dims[0];
  cg->kernel_size = spatial_prod(ni, cg->win.kernel);
  cg->blocks = spatial_prod(ni, cg->win.out);
  cg->image_size = spatial_prod(ni, image);
  if (x->dims[1] % cg->kernel_size)
    return err_set(err, ST_SHAPE, "input dim 1 (%" PRId64 ") is not a multiple of the block size %"
                   PRId64, x->dims[1], cg->kernel_size);
  cg->channels = x->dims[1] / cg->kernel_size;
  if (x->dims[2] != cg->blocks)
    return err_set(err, ST_SHAPE, "input dim 2 is %" PRId64 " but the image holds %" PRId64
                   " blocks", x->dims[2], cg->blocks);
  return ST_OK;
}

Status shape_col2im(Graph *g, Node *n, Error *err) {
  Col2ImGeom cg;
  TRY(col2im_geom(n, &cg, err));
  int64_t dims[IR_MAX_RANK] = {cg.batch, cg.channels};
  memcpy(dims + 2, cg.win.in, (size_t)cg.win.nsp * sizeof *dims);
  return ops_set_output(n, 0, n->inputs[0]->dtype, cg.win.nsp + 2, dims, err);
}

size_t scratch_col2im(const Node *n) {
  Col2ImGeom cg;
  Error e;
  if (col2im_geom(n, &cg, &e) != ST_OK) return 0;
  return ops_scratch_add(0, cg.image_size, sizeof(double));
}

/* One (image, channel) plane at a time, accumulated in double scratch. */
Status eval_col2im(const Node *n, const void *const in[], void *const out[], Error *err) {
  Col2ImGeom cg;
  TRY(col2im_geom(n, &cg, err));
  const Window *win = &cg.win;
  DType dt = n->inputs[0]->dtype;
  OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_col2im(n));
  void *plane_mem;
  TRY(ops_scratch_take(&s, cg.image_size, sizeof(double), &plane_mem, err));
  double *yc = plane_mem;
  int nsp = win->nsp;
  int64_t img_strides[SPATIAL_MAX_DIM], kk[SPATIAL_MAX_DIM], o[SPATIAL_MAX_DIM];
  ops_strides(nsp, win->in, img_strides);
  for (int64_t b = 0; b < cg.batch; b++)
    for (int64_t c = 0; c < cg.channels; c++) {
      for (int64_t i = 0; i < cg.image_size; i++) yc[i] = 0.0;
      for (int64_t kp = 0; kp < cg.kernel_size; kp++) {
        spatial_unravel(kp, nsp, win->kernel, kk);
        int64_t xr = ((b * cg.channels + c) * cg.kernel_size + kp) * cg.blocks;
        for (int64_t l = 0; l < cg.blocks; l++) {
          spatial_unravel(l, nsp, win->out, o);
          int64_t off = 0;
          bool inside = true;
          for (int d = 0; d < nsp && inside; d++) {
            int64_t i = o[d] * win->stride[d] - win->pad_begin[d] + kk[d] * win->dilation[d];
            inside = i >= 0 && i < win->in[d];
            off += i * img_strides[d];
          }
          if (inside) yc[off] += spatial_ld(dt, in[0], xr + l);
        }
      }
      int64_t yo = (b * cg.channels + c) * cg.image_size;
      for (int64_t i = 0; i < cg.image_size; i++) spatial_st(dt, out[0], yo + i, yc[i]);
    }
  return ST_OK;
}
