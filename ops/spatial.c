/*
 * ops/spatial.c: attribute parsing and output-size formulas shared by the
 * sliding-window ops (see spatial.h).
 * The formulas follow the ONNX operator specs for Conv and the pools; the
 * ceil_mode correction (a last window may not start inside the end padding)
 * is the one PyTorch and the ONNX reference implementation use.
 */
#include "spatial.h"

#include <inttypes.h>
#include <string.h>

Status spatial_auto_pad(const Node *n, AutoPad *out, Error *err) {
  const char *s = ir_attr_string(n, "auto_pad", "NOTSET");
  if (!strcmp(s, "NOTSET") || !strcmp(s, "")) *out = AUTO_PAD_NOTSET;
  else if (!strcmp(s, "SAME_UPPER")) *out = AUTO_PAD_SAME_UPPER;
  else if (!strcmp(s, "SAME_LOWER")) *out = AUTO_PAD_SAME_LOWER;
  else if (!strcmp(s, "VALID")) *out = AUTO_PAD_VALID;
  else
    return err_set(err, ST_INVALID,
                   "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", s);
  return ST_OK;
}

/* Reads an optional ints attribute of exactly `want` values into dst, each
 * in [lo, SPATIAL_MAX_ATTR]; leaves dst alone when absent. */
static Status read_ints(const Node *n, const char *name, int want, int64_t lo, int64_t *dst,
                        bool *present, Error *err) {
  const int64_t *v;
  int cnt = ir_attr_ints(n, name, &v);
  if (present) *present = cnt >= 0;
  if (cnt < 0) {
    if (ir_attr(n, name))
      return err_set(err, ST_INVALID, "%s must be a list of integers", name);
    return ST_OK;
  }
  if (cnt != want)
    return err_set(err, ST_INVALID, "%s has %d values, expected %d", name, cnt, want);
  for (int i = 0; i < cnt; i++) {
    if (v[i] < lo || v[i] > SPATIAL_MAX_ATTR)
      return err_set(err, ST_INVALID, "%s[%d] is %" PRId64 ", expected %" PRId64 " to %" PRId64,
                     name, i, v[i], lo, SPATIAL_MAX_ATTR);
    dst[i] = v[i];
  }
  return ST_OK;
}

Status spatial_read(const Node *n, int nsp, const int64_t *in, const int64_t *w_kernel,
                    Window *w, Error *err) {
  if (nsp < 1 || nsp > SPATIAL_MAX_DIM)
    return err_set(err, ST_INVALID, "the input has %d spatial dims, expected 1 to %d", nsp,
                   SPATIAL_MAX_DIM);
  memset(w, 0, sizeof *w);
  w->nsp = nsp;
  TRY(spatial_auto_pad(n, &w->auto_pad, err));
  for (int d = 0; d < nsp; d++) {
    w->in[d] = in[d];
    w->stride[d] = 1;
    w->dilation[d] = 1;
  }

  const int64_t *ks;
  int kcnt = ir_attr_ints(n, "kernel_shape", &ks);
  if (kcnt < 0 && !w_kernel) return err_set(err, ST_INVALID, "kernel_shape is required");
  if (kcnt >= 0 && kcnt != nsp)
    return err_set(err, ST_INVALID, "kernel_shape has %d values but the input has %d spatial dims",
                   kcnt, nsp);
  for (int d = 0; d < nsp; d++) {
    int64_t k = kcnt >= 0 ? ks[d] : w_kernel[d];
    if (kcnt >= 0 && w_kernel && ks[d] != w_kernel[d])
      return err_set(err, ST_SHAPE, "kernel_shape[%d] is %" PRId64 " but the weight has %" PRId64,
                     d, ks[d], w_kernel[d]);
    if (k < 1 || k > SPATIAL_MAX_ATTR)
      return err_set(err, ST_INVALID, "kernel size %" PRId64 " along spatial dim %d is out of "
                     "range", k, d);
    w->kernel[d] = k;
  }
  if (spatial_prod(nsp, w->kernel) > IR_MAX_NUMEL)
    return err_set(err, ST_INVALID, "kernel_shape has more than %" PRId64 " elements",
                   IR_MAX_NUMEL);
  TRY(read_ints(n, "strides", nsp, 1, w->stride, NULL, err));
  TRY(read_ints(n, "dilations", nsp, 1, w->dilation, NULL, err));
  if (w->auto_pad == AUTO_PAD_NOTSET) {
    int64_t pads[2 * SPATIAL_MAX_DIM] = {0};
    TRY(read_ints(n, "pads", 2 * nsp, 0, pads, NULL, err));
    for (int d = 0; d < nsp; d++) {
      w->pad_begin[d] = pads[d];
      w->pad_end[d] = pads[nsp + d];
    }
  }
  return ST_OK;
}

Status spatial_forward_out(Window *w, bool ceil_mode, Error *err) {
  for (int d = 0; d < w->nsp; d++) {
    int64_t in = w->in[d], s = w->stride[d], ext = spatial_extent(w, d);
    if (w->auto_pad == AUTO_PAD_SAME_UPPER || w->auto_pad == AUTO_PAD_SAME_LOWER) {
      int64_t out = (in + s - 1) / s;
      int64_t total = out > 0 ? (out - 1) * s + ext - in : 0;
      if (total < 0) total = 0;
      int64_t small = total / 2;
      w->pad_begin[d] = w->auto_pad == AUTO_PAD_SAME_UPPER ? small : total - small;
      w->pad_end[d] = total - w->pad_begin[d];
      w->out[d] = out;
      continue;
    }
    if (w->auto_pad == AUTO_PAD_VALID) w->pad_begin[d] = w->pad_end[d] = 0;
    int64_t padded = in + w->pad_begin[d] + w->pad_end[d];
    if (padded < ext)
      return err_set(err, ST_SHAPE, "the kernel extent %" PRId64 " along spatial dim %d is larger "
                     "than the padded input (%" PRId64 ")", ext, d, padded);
    int64_t span = padded - ext;
    int64_t out = (ceil_mode && w->auto_pad == AUTO_PAD_NOTSET ? (span + s - 1) / s : span / s) + 1;
    /* With ceil_mode the last window must start inside the input or the
     * begin padding; one that would start in the end padding is dropped. */
    if (ceil_mode && out > 1 && (out - 1) * s >= in + w->pad_begin[d]) out--;
    w->out[d] = out;
  }
  return spatial_check_numel(w->nsp, w->out, err);
}

Status spatial_check_numel(int n, const int64_t *dims, Error *err) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) {
    if (dims[i] < 0)
      return err_set(err, ST_SHAPE, "output dim %d would be negative (%" PRId64 ")", i, dims[i]);
    if (dims[i] > 0 && p > IR_MAX_NUMEL / dims[i])
      return err_set(err, ST_NOMEM, "the output would have more than %" PRId64 " elements",
                     IR_MAX_NUMEL);
    p *= dims[i];
  }
  return ST_OK;
}

bool spatial_is_float(DType t) {
  return t == DT_FLOAT32 || t == DT_FLOAT64 || t == DT_FLOAT16 || t == DT_BFLOAT16;
}

int64_t spatial_prod(int n, const int64_t *d) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) p *= d[i];
  return p;
}

void spatial_unravel(int64_t idx, int n, const int64_t *dims, int64_t *out) {
  for (int d = n - 1; d >= 0; d--) {
    out[d] = dims[d] ? idx % dims[d] : 0;
    idx = dims[d] ? idx / dims[d] : 0;
  }
}

Status spatial_conv_group(const Node *n, int64_t *group, Error *err) {
  const Value *x = n->inputs[0], *w = n->inputs[1];
  if (x->rank < 3)
    return err_set(err, ST_SHAPE, "the input has rank %d, expected at least 3 (N, C, spatial...)",
                   x->rank);
  if (w->rank != x->rank)
    return err_set(err, ST_SHAPE, "the weight has rank %d but the input has rank %d", w->rank,
                   x->rank);
  int64_t g = ir_attr_int(n, "group", 1);
  if (g < 1) return err_set(err, ST_INVALID, "group %" PRId64 " must be at least 1", g);
  if (x->dims[1] % g)
    return err_set(err, ST_SHAPE, "group %" PRId64 " does not divide %" PRId64 " input channels",
                   g, x->dims[1]);
  *group = g;
  return ST_OK;
}

void spatial_conv_sizes(ConvGeom *cg) {
  int nsp = cg->win.nsp;
  cg->in_size = spatial_prod(nsp, cg->win.in);
  cg->out_size = spatial_prod(nsp, cg->win.out);
  cg->kernel_size = spatial_prod(nsp, cg->win.kernel);
}

Status spatial_conv_set_output(Node *n, const ConvGeom *cg, Error *err) {
  int64_t dims[IR_MAX_RANK] = {cg->batch, cg->out_ch};
  memcpy(dims + 2, cg->win.out, (size_t)cg->win.nsp * sizeof *dims);
  return ops_set_output(n, 0, n->inputs[0]->dtype, cg->win.nsp + 2, dims, err);
}
