/*
 * ops/resize.c: Resize (opset 10 to 19 semantics; the frontend also turns
 * Upsample into Resize).
 *
 * resize_plan() turns the attributes and the constant roi/scales/sizes
 * inputs into per-axis output sizes and scales; the shape rule and the
 * kernel share it.  The kernel is separable: for every axis and every
 * output coordinate it precomputes a short list of taps (input index,
 * weight) from the coordinate transformation and the interpolation mode,
 * then each output element is the weighted sum over the product of its
 * axes' taps (the tap tables are kernel scratch, see ops.h; their size
 * grows with the sum of the output dims, not their product).  Nearest mode
 * has one tap per axis and copies elements bytewise, so it is exact for
 * every dtype.
 *
 * Two choices follow the ONNX reference implementation (which produced the
 * conformance data) where the spec text is looser: align_corners measures
 * the resized length as scale * input length (not the rounded size), and
 * taps outside the input read the edge element (unless exclude_outside).
 * For n->opset < 11 (Resize-10, Upsample) coordinates are asymmetric and
 * nearest picks floor(x) when upsampling and ceil(x) when downsampling,
 * the rule ONNX Runtime uses for those opsets.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "movement.h"

typedef enum ResizeMode { RS_NEAREST, RS_LINEAR, RS_CUBIC } ResizeMode;
typedef enum CoordMode {
  CT_HALF_PIXEL,
  CT_HALF_PIXEL_SYMMETRIC,
  CT_PYTORCH_HALF_PIXEL,
  CT_ALIGN_CORNERS,
  CT_ASYMMETRIC,
  CT_TF_CROP_AND_RESIZE,
  CT_TF_HALF_PIXEL_FOR_NN /* opset 11-12 only */
} CoordMode;
typedef enum NearestMode { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL } NearestMode;

typedef struct ResizePlan {
  int rank;
  ResizeMode mode;
  CoordMode coord;
  NearestMode nearest;
  bool legacy;            /* opset < 11 semantics */
  bool antialias, exclude_outside;
  double cubic_a, extrapolation;
  int64_t in[IR_MAX_RANK], out[IR_MAX_RANK];
  double scale[IR_MAX_RANK];          /* output / input ratio used by the transform */
  double roi_start[IR_MAX_RANK], roi_end[IR_MAX_RANK];
} ResizePlan;

static Status parse_enum(const Node *n, const char *attr, const char *dflt, const char *const *names,
                         int count, int *out, Error *err) {
  const char *s = ir_attr_string(n, attr, dflt);
  for (int i = 0; i < count; i++)
    if (!strcmp(s, names[i])) {
      *out = i;
      return ST_OK;
    }
  return err_set(err, ST_INVALID, "%s '%s' is not supported", attr, s);
}

/* An optional input that is present and non-empty (older opsets pass empty
 * tensors for "absent"). */
static const Value *opt_input(const Node *n, int i) {
  const Value *v = i < n->num_inputs ? n->inputs[i] : NULL;
  return v && ir_value_numel(v) > 0 ? v : NULL;
}

/* Reads a constant float tensor of exactly `want` values. */
static Status const_floats(const Value *v, const char *what, int want, double *dst, Error *err) {
  if (!v->data) return err_set(err, ST_SHAPE, "%s must be a constant", what);
  if (!dtype_is_float(v->dtype))
    return err_set(err, ST_INVALID, "%s must be a float tensor, not %s", what,
                   dtype_name(v->dtype));
  if (ir_value_numel(v) != want)
    return err_set(err, ST_INVALID, "%s has %" PRId64 " values, expected %d", what,
                   ir_value_numel(v), want);
  for (int i = 0; i < want; i++) dst[i] = dtype_load_f64(v->dtype, v->data, (size_t)i);
  return ST_OK;
}

static Status read_modes(const Node *n, ResizePlan *p, Error *err) {
  static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear", "trilinear"};
  static const char *const coords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                       "align_corners", "asymmetric", "tf_crop_and_resize",
                                       "tf_half_pixel_for_nn"};
  static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                        "ceil"};
  int v = 0;
  TRY(parse_enum(n, "mode", "nearest", modes, 5, &v, err));
  p->mode = v >= 3 ? RS_LINEAR : (ResizeMode)v;
  p->legacy = n->opset > 0 && n->opset < 11;
  if (p->legacy) {
    if (p->mode == RS_CUBIC) return err_set(err, ST_INVALID, "mode 'cubic' needs opset 11");
    p->coord = CT_ASYMMETRIC;
  } else {
    TRY(parse_enum(n, "coordinate_transformation_mode", "half_pixel", coords, 7, &v, err));
    p->coord = (CoordMode)v;
    TRY(parse_enum(n, "nearest_mode", "round_prefer_floor", nearest, 4, &v, err));
    p->nearest = (NearestMode)v;
  }
  p->cubic_a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
  p->extrapolation = ir_attr_float(n, "extrapolation_value", 0.0f);
  int64_t ex = ir_attr_int(n, "exclude_outside", 0), aa = ir_attr_int(n, "antialias", 0);
  if ((ex != 0 && ex != 1) || (aa != 0 && aa != 1))
    return err_set(err, ST_INVALID, "exclude_outside and antialias must be 0 or 1");
  p->exclude_outside = ex == 1;
  p->antialias = aa == 1 && p->mode != RS_NEAREST;
  return ST_OK;
}

/* The axes attribute (default: all), normalized and checked for repeats. */
static Status read_axes(const Node *n, int rank, int *axes, int *count, Error *err) {
  const int64_t *v;
  int cnt = ir_attr_ints(n, "axes", &v);
  if (cnt < 0) {
    for (int i = 0; i < rank; i++) axes[i] = i;
    *count = rank;
    return ST_OK;
  }
  if (cnt > rank) return err_set(err, ST_INVALID, "axes has %d values for rank %d", cnt, rank);
  for (int i = 0; i < cnt; i++) {
    TRY(ops_norm_axis(v[i], rank, &axes[i], err));
    for (int j = 0; j < i; j++)
      if (axes[j] == axes[i]) return err_set(err, ST_INVALID, "axis %d is repeated in axes", axes[i]);
  }
  *count = cnt;
  return ST_OK;
}

static Status resize_plan(const Node *n, ResizePlan *p, Error *err) {
  const Value *x = n->inputs[0];
  memset(p, 0, sizeof *p);
  p->rank = x->rank;
  TRY(read_modes(n, p, err));
  int axes[IR_MAX_RANK], naxes = 0;
  TRY(read_axes(n, x->rank, axes, &naxes, err));
  for (int d = 0; d < x->rank; d++) {
    p->in[d] = p->out[d] = x->dims[d];
    p->scale[d] = 1.0;
    p->roi_end[d] = 1.0;
  }
  const Value *roi = opt_input(n, 1), *scales = opt_input(n, 2), *sizes = opt_input(n, 3);
  if (!scales == !sizes)
    return err_set(err, ST_INVALID, "exactly one of scales and sizes must be given (%s)",
                   scales ? "both are" : "neither is");
  if (p->legacy && sizes) return err_set(err, ST_INVALID, "sizes needs opset 11");
  if (p->coord == CT_TF_CROP_AND_RESIZE) {
    if (!roi) return err_set(err, ST_INVALID, "tf_crop_and_resize needs the roi input");
    double r[2 * IR_MAX_RANK];
    TRY(const_floats(roi, "roi", 2 * naxes, r, err));
    for (int i = 0; i < naxes; i++) {
      p->roi_start[axes[i]] = r[i];
      p->roi_end[axes[i]] = r[naxes + i];
    }
  }
  if (scales) {
    double s[IR_MAX_RANK];
    TRY(const_floats(scales, "scales", naxes, s, err));
    for (int i = 0; i < naxes; i++) {
      int a = axes[i];
      if (!(s[i] > 0) || !isfinite(s[i]))
        return err_set(err, ST_INVALID, "scales[%d] is %g, expected a positive number", i, s[i]);
      /* float arithmetic, as ONNX shape inference and ONNX Runtime do, so
       * 10 * 0.7f gives 7 and not 6. */
      float len = (float)p->in[a] * (float)s[i];
      if (p->coord == CT_TF_CROP_AND_RESIZE)
        len *= (float)(p->roi_end[a] - p->roi_start[a]);
      if (!(len >= 0) || len > (float)IR_MAX_NUMEL)
        return err_set(err, ST_INVALID, "scales[%d] = %g gives an output size out of range", i,
                       s[i]);
      p->out[a] = (int64_t)floorf(len);
      p->scale[a] = s[i];
    }
  } else {
    int64_t sz[IR_MAX_RANK];
    int cnt;
    TRY(ops_const_ints(sizes, "sizes", sz, IR_MAX_RANK, &cnt, err));
    if (cnt != naxes)
      return err_set(err, ST_INVALID, "sizes has %d values, expected %d", cnt, naxes);
    static const char *const policies[] = {"stretch", "not_larger", "not_smaller"};
    int policy = 0;
    TRY(parse_enum(n, "keep_aspect_ratio_policy", "stretch", policies, 3, &policy, err));
    double common = policy == 1 ? INFINITY : 0.0;
    for (int i = 0; i < naxes; i++) {
      int a = axes[i];
      if (sz[i] < 0 || sz[i] > IR_MAX_NUMEL)
        return err_set(err, ST_INVALID, "sizes[%d] is %" PRId64 ", out of range", i, sz[i]);
      if (p->in[a] == 0 && sz[i] != 0)
        return err_set(err, ST_SHAPE, "axis %d is empty and cannot be resized to %" PRId64, a,
                       sz[i]);
      double r = p->in[a] ? (double)sz[i] / (double)p->in[a] : 1.0;
      p->out[a] = sz[i];
      p->scale[a] = r;
      if (policy == 1 && r < common) common = r;
      if (policy == 2 && r > common) common = r;
    }
    if (policy != 0 && naxes > 0)
      for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        double len = floor(common * (double)p->in[a] + 0.5);
        if (len > (double)IR_MAX_NUMEL)
          return err_set(err, ST_INVALID, "the output along axis %d would be too large", a);
        p->out[a] = (int64_t)len;
        p->scale[a] = common;
      }
  }
  for (int d = 0; d < x->rank; d++)
    if (p->scale[d] <= 0 || !isfinite(p->scale[d])) p->scale[d] = 1.0;
  return ST_OK;
}

static bool resize_int_ok(DType t) { return t == DT_INT8 || t == DT_UINT8; }

Status shape_resize(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (x->rank < 1) return err_set(err, ST_SHAPE, "the input must have rank at least 1");
  ResizePlan p;
  TRY(resize_plan(n, &p, err));
  if (p.mode != RS_NEAREST && !dtype_is_float(x->dtype) && !resize_int_ok(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "linear and cubic Resize of %s is not supported",
                   dtype_name(x->dtype));
  if (x->dtype == DT_STRING) return err_set(err, ST_UNSUPPORTED, "string tensors");
  return ops_set_output(n, 0, x->dtype, x->rank, p.out, err);
}

/* ---- taps ------------------------------------------------------------------ */

/* The input coordinate that output coordinate xo maps to along axis a. */
static double source_coord(const ResizePlan *p, int a, int64_t xo) {
  double s = p->scale[a], x = (double)xo, in = (double)p->in[a];
  switch (p->coord) {
  case CT_HALF_PIXEL: return (x + 0.5) / s - 0.5;
  case CT_HALF_PIXEL_SYMMETRIC: {
    double adjust = (double)p->out[a] / (s * in);
    double offset = in / 2 * (1 - adjust);
    return offset + (x + 0.5) / s - 0.5;
  }
  case CT_PYTORCH_HALF_PIXEL: return p->out[a] > 1 ? (x + 0.5) / s - 0.5 : 0.0;
  case CT_ALIGN_CORNERS: {
    double len = s * in;
    return len == 1.0 ? 0.0 : x * (in - 1) / (len - 1);
  }
  case CT_ASYMMETRIC: return x / s;
  case CT_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
  case CT_TF_CROP_AND_RESIZE: {
    double start = p->roi_start[a], end = p->roi_end[a];
    if (p->out[a] > 1)
      return start * (in - 1) + x * (end - start) * (in - 1) / (double)(p->out[a] - 1);
    return 0.5 * (start + end) * (in - 1);
  }
  }
  return x;
}

static double cubic_weight(double d, double a) {
  d = fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0.0;
}

/* Taps of one axis: for output coordinate xo, taps [first[xo], first[xo+1])
 * of idx/w; outside[xo] marks tf_crop_and_resize extrapolation. */
typedef struct AxisTaps {
  int64_t *first;
  int64_t *idx;
  double *w;
  bool *outside;
} AxisTaps;

/* Maximum taps per output coordinate along axis a. */
static int64_t max_taps(const ResizePlan *p, int a) {
  if (p->mode == RS_NEAREST) return 1;
  double s = p->antialias && p->scale[a] < 1 ? p->scale[a] : 1.0;
  double reach = p->mode == RS_LINEAR ? 1.0 : 2.0;
  return 2 * (int64_t)ceil(reach / s) + 2;
}

static int64_t nearest_index(const ResizePlan *p, int a, double x) {
  double fl = floor(x), r = x - fl;
  if (p->legacy) return (int64_t)(p->scale[a] < 1 ? ceil(x) : fl);
  if (r == 0) return (int64_t)fl;
  switch (p->nearest) {
  case NM_ROUND_PREFER_FLOOR: return (int64_t)(r <= 0.5 ? fl : fl + 1);
  case NM_ROUND_PREFER_CEIL: return (int64_t)(r < 0.5 ? fl : fl + 1);
  case NM_FLOOR: return (int64_t)fl;
  case NM_CEIL: return (int64_t)fl + 1;
  }
  return (int64_t)fl;
}

/* Fills the taps of output coordinate xo along axis a at idx/w; returns
 * their count. */
static int64_t coord_taps(const ResizePlan *p, int a, int64_t xo, int64_t *idx, double *w,
                          bool *outside) {
  int64_t in = p->in[a];
  double x = source_coord(p, a, xo);
  *outside = p->coord == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1));
  /* Far-away coordinates all clamp to the edge; keep them castable. */
  if (!(x > -1e15)) x = -1e15;
  if (x > 1e15) x = 1e15;
  if (p->mode == RS_NEAREST) {
    int64_t i = nearest_index(p, a, x);
    idx[0] = i < 0 ? 0 : i >= in ? in - 1 : i;
    w[0] = 1.0;
    return 1;
  }
  /* base is the input index just left of x (x itself is the right one when
   * integral), so ratio lies in (0, 1], as in the reference. */
  double base = ceil(x) - 1, ratio = x - base;
  double s = p->antialias && p->scale[a] < 1 ? p->scale[a] : 1.0;
  double reach = p->mode == RS_LINEAR ? 1.0 : 2.0;
  int64_t start = (int64_t)floor(-reach / s) + 1, count = 2 - 2 * start;
  double sum = 0;
  for (int64_t k = 0; k < count; k++) {
    double dist = ((double)(start + k) - ratio) * s;
    double wk = p->mode == RS_LINEAR ? fmax(0.0, 1 - fabs(dist)) : cubic_weight(dist, p->cubic_a);
    int64_t i = (int64_t)base + start + k;
    if (p->exclude_outside && (i < 0 || i >= in)) wk = 0;
    idx[k] = i < 0 ? 0 : i >= in ? in - 1 : i;
    w[k] = wk;
    sum += wk;
  }
  if ((p->antialias || p->exclude_outside) && sum != 0)
    for (int64_t k = 0; k < count; k++) w[k] /= sum;
  /* Zero-weight taps only cost time. */
  int64_t kept = 0;
  for (int64_t k = 0; k < count; k++)
    if (w[k] != 0) {
      idx[kept] = idx[k];
      w[kept++] = w[k];
    }
  return kept;
}

#ifndef ONNXC_KERNEL_BITCODE
/* Nearest mode copies one input element per output element: a map. */
Status mv_map_resize(const Node *n, MvMap *m, Error *err) {
  const Value *x = n->inputs[0];
  ResizePlan p;
  TRY(resize_plan(n, &p, err));
  if (p.mode != RS_NEAREST || p.coord == CT_TF_CROP_AND_RESIZE || p.antialias)
    return err_set(err, ST_UNSUPPORTED, "not a nearest-neighbour copy");
  TRY(mv_map_for_output(n, m, err));
  int64_t strides[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  for (int a = 0; a < x->rank; a++) {
    if (m->dims[a] != p.out[a]) {
      mv_map_free(m);
      return err_set(err, ST_INTERNAL, "Resize output shape disagrees with its plan");
    }
    for (int64_t i = 0; i < m->dims[a]; i++) {
      int64_t idx;
      double w;
      bool outside;
      coord_taps(&p, a, i, &idx, &w, &outside);
      m->table[a][i] = idx * strides[a];
    }
  }
  return ST_OK;
}
#endif

/* Scratch bytes of the tap tables, piece by piece as build_taps takes
 * them; SIZE_MAX when they would be too large. */
static size_t taps_bytes(const ResizePlan *p) {
  size_t total = 0;
  for (int a = 0; a < p->rank; a++) {
    if (p->antialias && p->scale[a] < 1e-6) return 0; /* the kernel reports it */
    int64_t out = p->out[a], mt = max_taps(p, a);
    if (out < 0 || mt < 0 || mt > IR_MAX_NUMEL / (out + 1)) return SIZE_MAX;
    total = ops_scratch_add(total, out + 1, sizeof(int64_t));
    total = ops_scratch_add(total, out * mt, sizeof(int64_t));
    total = ops_scratch_add(total, out * mt, sizeof(double));
    total = ops_scratch_add(total, out, sizeof(bool));
  }
  return total;
}

static Status build_taps(const ResizePlan *p, OpsScratch *s, AxisTaps *taps, Error *err) {
  for (int a = 0; a < p->rank; a++) {
    if (p->antialias && p->scale[a] < 1e-6)
      return err_set(err, ST_INVALID, "antialiased downscale by %g along axis %d is too strong",
                     p->scale[a], a);
    int64_t out = p->out[a], mt = max_taps(p, a);
    if (mt > IR_MAX_NUMEL / (out + 1)) return err_set(err, ST_NOMEM, "Resize needs too many taps");
    AxisTaps *t = &taps[a];
    void *first, *idx, *w, *outside;
    TRY(ops_scratch_take(s, out + 1, sizeof(int64_t), &first, err));
    TRY(ops_scratch_take(s, out * mt, sizeof(int64_t), &idx, err));
    TRY(ops_scratch_take(s, out * mt, sizeof(double), &w, err));
    TRY(ops_scratch_take(s, out, sizeof(bool), &outside, err));
    t->first = first;
    t->idx = idx;
    t->w = w;
    t->outside = outside;
    int64_t used = 0;
    for (int64_t xo = 0; xo < out; xo++) {
      t->first[xo] = used;
      if (p->in[a] == 0) continue;
      used += coord_taps(p, a, xo, t->idx + used, t->w + used, &t->outside[xo]);
    }
    t->first[out] = used;
  }
  return ST_OK;
}

/* ---- kernel ---------------------------------------------------------------- */

static void store_value(DType t, void *buf, int64_t i, double v) {
  if (t == DT_FLOAT32) ((float *)buf)[i] = (float)v;
  else if (resize_int_ok(t)) {
    double lo = t == DT_INT8 ? -128 : 0, hi = t == DT_INT8 ? 127 : 255;
    v = nearbyint(v);
    dtype_store_f64(t, buf, (size_t)i, v < lo ? lo : v > hi ? hi : v, false);
  } else {
    dtype_store_f64(t, buf, (size_t)i, v, false);
  }
}

size_t scratch_resize(const Node *n) {
  ResizePlan p;
  Error e;
  if (resize_plan(n, &p, &e) != ST_OK || ir_value_numel(n->outputs[0]) == 0) return 0;
  return taps_bytes(&p);
}

Status eval_resize(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *xv = n->inputs[0], *yv = n->outputs[0];
  ResizePlan p;
  TRY(resize_plan(n, &p, err));
  for (int d = 0; d < p.rank; d++)
    if (p.out[d] != yv->dims[d])
      return err_set(err, ST_INTERNAL, "Resize output dim %d is %" PRId64 ", expected %" PRId64, d,
                     yv->dims[d], p.out[d]);
  int64_t total = ir_value_numel(yv);
  if (total == 0) return ST_OK;
  AxisTaps taps[IR_MAX_RANK];
  OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_resize(n));
  TRY(build_taps(&p, &s, taps, err));
  DType dt = xv->dtype;
  size_t esize = dtype_size(dt);
  int64_t in_strides[IR_MAX_RANK], coord[IR_MAX_RANK];
  ops_strides(p.rank, p.in, in_strides);
  const unsigned char *xb = in[0];
  unsigned char *yb = out[0];
  int rank = p.rank;
  for (int64_t o = 0; o < total; o++) {
    int64_t rem = o;
    bool outside = false;
    for (int d = rank - 1; d >= 0; d--) {
      coord[d] = rem % p.out[d];
      rem /= p.out[d];
      outside = outside || taps[d].outside[coord[d]];
    }
    if (outside) {
      store_value(dt, yb, o, p.extrapolation);
      continue;
    }
    if (p.mode == RS_NEAREST) {
      int64_t off = 0;
      for (int d = 0; d < rank; d++) off += taps[d].idx[taps[d].first[coord[d]]] * in_strides[d];
      memcpy(yb + (size_t)o * esize, xb + (size_t)off * esize, esize);
      continue;
    }
    /* Weighted sum over the product of the axes' taps, odometer style. */
    int64_t k[IR_MAX_RANK], lo[IR_MAX_RANK], hi[IR_MAX_RANK];
    bool empty = false;
    for (int d = 0; d < rank; d++) {
      lo[d] = k[d] = taps[d].first[coord[d]];
      hi[d] = taps[d].first[coord[d] + 1];
      empty = empty || lo[d] == hi[d];
    }
    double acc = 0;
    while (!empty) {
      double wt = 1;
      int64_t off = 0;
      for (int d = 0; d < rank; d++) {
        wt *= taps[d].w[k[d]];
        off += taps[d].idx[k[d]] * in_strides[d];
      }
      acc += wt * (dt == DT_FLOAT32 ? (double)((const float *)in[0])[off]
                                    : dtype_load_f64(dt, xb, (size_t)off));
      int d = rank - 1;
      while (d >= 0 && ++k[d] == hi[d]) {
        k[d] = lo[d];
        d--;
      }
      if (d < 0) break;
    }
    store_value(dt, yb, o, acc);
  }
  return ST_OK;
}
