/*
 * ops/pad.c: Pad (opset 18/19 form: pads, constant_value and axes as inputs
 * 1..3; modes constant, reflect, edge, wrap).  Negative pads crop.  As in
 * ONNX's reference, cropping happens first and padding then extends the
 * cropped tensor, so reflect/edge/wrap read only cropped data.  The kernel
 * maps every output coordinate back to an input coordinate or to "fill".
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

typedef enum PadMode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } PadMode;

typedef struct PadParams {
  PadMode mode;
  int64_t crop[IR_MAX_RANK]; /* input elements dropped at the start of each axis */
  int64_t len[IR_MAX_RANK];  /* input length left after cropping (< 0: overcropped) */
  int64_t pad[IR_MAX_RANK];  /* elements added before the cropped data */
  int64_t dims[IR_MAX_RANK]; /* output shape */
} PadParams;

/* Largest |pad| accepted; bigger ones could only overflow. */
#define PAD_LIMIT ((int64_t)1 << 62)

static Status pad_mode(const Node *n, PadMode *mode, Error *err) {
  const char *m = ir_attr_string(n, "mode", "constant");
  if (strcmp(m, "constant") == 0) *mode = PAD_CONSTANT;
  else if (strcmp(m, "reflect") == 0) *mode = PAD_REFLECT;
  else if (strcmp(m, "edge") == 0) *mode = PAD_EDGE;
  else if (strcmp(m, "wrap") == 0) *mode = PAD_WRAP;
  else return err_set(err, ST_INVALID, "unknown mode '%s'", m);
  return ST_OK;
}

static Status pad_params(const Node *n, PadParams *p, Error *err) {
  const Value *x = n->inputs[0];
  int r = x->rank;
  TRY(pad_mode(n, &p->mode, err));
  int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
  int np, na;
  TRY(ops_const_ints(n->inputs[1], "input 1 ('pads')", pads, 2 * IR_MAX_RANK, &np, err));
  if (n->num_inputs > 3 && n->inputs[3]) {
    TRY(ops_const_ints(n->inputs[3], "input 3 ('axes')", axes, IR_MAX_RANK, &na, err));
  } else {
    na = r;
    for (int i = 0; i < r; i++) axes[i] = i;
  }
  if (np != 2 * na)
    return err_set(err, ST_INVALID, "pads has %d values, expected %d (2 per padded axis)", np,
                   2 * na);
  if (n->num_inputs > 2 && n->inputs[2] && ir_value_numel(n->inputs[2]) > 1)
    return err_set(err, ST_INVALID, "constant_value must be a scalar");
  int64_t begin[IR_MAX_RANK] = {0}, end[IR_MAX_RANK] = {0};
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < na; i++) {
    int a;
    TRY(ops_norm_axis(axes[i], r, &a, err));
    if (r == 0) return err_set(err, ST_INVALID, "cannot pad a scalar");
    if (seen[a]) return err_set(err, ST_INVALID, "axis %" PRId64 " is repeated", axes[i]);
    seen[a] = true;
    begin[a] = pads[i];
    end[a] = pads[i + na];
  }
  for (int d = 0; d < r; d++) {
    int64_t b = begin[d], e = end[d], size = x->dims[d];
    if (b > IR_MAX_NUMEL || e > IR_MAX_NUMEL || b < -PAD_LIMIT || e < -PAD_LIMIT)
      return err_set(err, ST_SHAPE, "pads for axis %d (%" PRId64 ", %" PRId64 ") are out of "
                     "range", d, b, e);
    if (b + e > 0 && size > INT64_MAX - (b + e))
      return err_set(err, ST_SHAPE, "padded axis %d is too large", d);
    p->dims[d] = size + b + e;
    if (p->dims[d] < 0)
      return err_set(err, ST_SHAPE, "pads (%" PRId64 ", %" PRId64 ") crop more than the %"
                     PRId64 " elements of axis %d", b, e, size, d);
    p->crop[d] = b < 0 ? -b : 0;
    p->pad[d] = b > 0 ? b : 0;
    p->len[d] = size - p->crop[d] - (e < 0 ? -e : 0);
    int64_t after = e > 0 ? e : 0;
    bool padded = p->pad[d] > 0 || after > 0;
    if (p->mode == PAD_CONSTANT || !padded) continue;
    if (p->len[d] < 1)
      return err_set(err, ST_SHAPE, "mode %s cannot pad axis %d: no data left after cropping",
                     ir_attr_string(n, "mode", ""), d);
    if (p->mode == PAD_REFLECT && (p->len[d] < 2 || p->pad[d] > p->len[d] - 1 ||
                                   after > p->len[d] - 1))
      return err_set(err, ST_SHAPE, "reflect pads (%" PRId64 ", %" PRId64 ") on axis %d must "
                     "be less than its (cropped) size %" PRId64, p->pad[d], after, d, p->len[d]);
  }
  return ST_OK;
}

Status shape_pad(Graph *g, Node *n, Error *err) {
  PadParams p;
  TRY(pad_params(n, &p, err));
  return ops_set_output(n, 0, n->inputs[0]->dtype, n->inputs[0]->rank, p.dims, err);
}

/* Maps output coordinate o on one axis to a coordinate of the cropped input,
 * or -1 for a fill element. */
static int64_t pad_source(const PadParams *p, int d, int64_t o) {
  int64_t t = o - p->pad[d], len = p->len[d];
  if (t >= 0 && t < len) return t;
  switch (p->mode) {
  case PAD_CONSTANT: return -1;
  case PAD_EDGE: return t < 0 ? 0 : len - 1;
  case PAD_REFLECT: return t < 0 ? -t : 2 * (len - 1) - t;
  case PAD_WRAP: return ((t % len) + len) % len;
  }
  return -1;
}

#ifndef ONNXC_KERNEL_BITCODE
Status mv_map_pad(const Node *n, MvMap *m, Error *err) {
  const Value *x = n->inputs[0];
  PadParams p;
  TRY(pad_params(n, &p, err));
  const Value *cv = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (cv && ir_value_numel(cv) == 1 && !ir_value_is_const(cv))
    return err_set(err, ST_UNSUPPORTED, "constant_value is not a constant");
  TRY(mv_map_for_output(n, m, err));
  size_t es = m->es;
  unsigned char fill[8] = {0};
  if (cv && ir_value_numel(cv) == 1) {
    if (cv->dtype == x->dtype) memcpy(fill, cv->data, es);
    else dtype_store_f64(x->dtype, fill, 0, dtype_load_f64(cv->dtype, cv->data, 0), false);
  }
  memcpy(&m->fill, fill, sizeof fill);
  int64_t strides[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  for (int d = 0; d < x->rank; d++)
    for (int64_t i = 0; i < m->dims[d]; i++) {
      int64_t s = pad_source(&p, d, i);
      m->table[d][i] = s < 0 ? MV_FILL : (p.crop[d] + s) * strides[d];
    }
  return ST_OK;
}
#endif

Status eval_pad(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0], *y = n->outputs[0];
  int64_t total = ir_value_numel(y);
  if (total == 0) return ST_OK;
  PadParams p;
  TRY(pad_params(n, &p, err));
  size_t es = dtype_size(x->dtype);
  /* The fill element, in x's dtype (converted if constant_value differs). */
  unsigned char fill[16] = {0};
  const Value *cv = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (cv && ir_value_numel(cv) == 1) {
    if (cv->dtype == x->dtype) memcpy(fill, in[2], es);
    else dtype_store_f64(x->dtype, fill, 0, dtype_load_f64(cv->dtype, in[2], 0), false);
  }
  bool empty_in = ir_value_numel(x) == 0;
  int64_t strides[IR_MAX_RANK] = {0};
  if (!empty_in) ops_strides(x->rank, x->dims, strides);
  int64_t idx[IR_MAX_RANK] = {0};
  char *dst = out[0];
  const char *src = in[0];
  for (int64_t i = 0; i < total; i++, dst += es) {
    int64_t off = 0;
    bool is_fill = empty_in;
    for (int d = 0; d < x->rank && !is_fill; d++) {
      int64_t s = pad_source(&p, d, idx[d]);
      if (s < 0) is_fill = true;
      else off += (p.crop[d] + s) * strides[d];
    }
    memcpy(dst, is_fill ? (const char *)fill : src + off * (int64_t)es, es);
    for (int d = x->rank - 1; d >= 0; d--) {
      if (++idx[d] < p.dims[d]) break;
      idx[d] = 0;
    }
  }
  return ST_OK;
}
