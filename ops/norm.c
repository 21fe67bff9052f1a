/*
 * BatchNormalization (inference), InstanceNormalization,
 * GroupNormalization and LayerNormalization: shape rules and reference
 * kernels.  Statistics are computed in double with two passes (mean, then
 * the mean of squared deviations), whatever the storage type; parameters
 * (scale, bias, mean, var) may have a different float type than X.
 * Softmax and LogSoftmax live in ops/softmax.c.
 */
#include "linalg.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

static Status check_float(const Value *v, const char *what, Error *err) {
  if (!dtype_is_float(v->dtype) || !dtype_supported(v->dtype))
    return err_set(err, ST_UNSUPPORTED, "%s must be a float tensor, not %s", what,
                   dtype_name(v->dtype));
  return ST_OK;
}

/* A per-channel (or per-group) parameter with exactly `count` elements. */
static Status check_param(const Value *v, const char *what, int64_t count, Error *err) {
  TRY(check_float(v, what, err));
  if (ir_value_numel(v) != count)
    return err_set(err, ST_SHAPE, "%s has %" PRId64 " elements, expected %" PRId64, what,
                   ir_value_numel(v), count);
  return ST_OK;
}

/* Mean and 1/sqrt(variance + eps) of n elements of x starting at base. */
static void stats(DType t, const void *x, size_t base, int64_t n, double eps, double *mean,
                  double *inv) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < n; i++) s += linalg_ld(t, x, base + (size_t)i);
  double m = n > 0 ? s / (double)n : 0;
  for (int64_t i = 0; i < n; i++) {
    double d = linalg_ld(t, x, base + (size_t)i) - m;
    q += d * d;
  }
  *mean = m;
  *inv = 1.0 / sqrt((n > 0 ? q / (double)n : 0) + eps);
}

/* ---- BatchNormalization ------------------------------------------------ */

Status shape_batch_normalization(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (ir_attr_int(n, "training_mode", 0) != 0)
    return err_set(err, ST_UNSUPPORTED, "BatchNormalization with training_mode=1 is not supported");
  if (ir_attr_int(n, "spatial", 1) == 0)
    return err_set(err, ST_UNSUPPORTED, "BatchNormalization with spatial=0 is not supported");
  TRY(check_float(x, "X", err));
  if (x->rank < 2) return err_set(err, ST_SHAPE, "X must have rank >= 2, not %d", x->rank);
  static const char *const names[4] = {"scale", "B", "input_mean", "input_var"};
  for (int i = 0; i < 4; i++) TRY(check_param(n->inputs[i + 1], names[i], x->dims[1], err));
  return ops_set_output_like(n, 0, x, err);
}

Status eval_batch_normalization(const Node *n, const void *const in[], void *const out[],
                                Error *err) {
  const Value *x = n->inputs[0];
  double eps = ir_attr_float(n, "epsilon", 1e-5f);
  DType t = x->dtype;
  int64_t c = x->dims[1], batch = x->dims[0], inner = ops_numel(x->rank - 2, x->dims + 2);
  for (int64_t ci = 0; ci < c; ci++) {
    size_t p = (size_t)ci;
    double scale = linalg_ld(n->inputs[1]->dtype, in[1], p);
    double bias = linalg_ld(n->inputs[2]->dtype, in[2], p);
    double mean = linalg_ld(n->inputs[3]->dtype, in[3], p);
    double var = linalg_ld(n->inputs[4]->dtype, in[4], p);
    double a = scale / sqrt(var + eps);
    for (int64_t b = 0; b < batch; b++) {
      size_t base = (size_t)((b * c + ci) * inner);
      for (int64_t i = 0; i < inner; i++) {
        double v = linalg_ld(t, in[0], base + (size_t)i);
        linalg_st(t, out[0], base + (size_t)i, (v - mean) * a + bias);
      }
    }
  }
  return ST_OK;
}

/* ---- InstanceNormalization --------------------------------------------- */

Status shape_instance_normalization(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  TRY(check_float(x, "input", err));
  if (x->rank < 2) return err_set(err, ST_SHAPE, "input must have rank >= 2, not %d", x->rank);
  TRY(check_param(n->inputs[1], "scale", x->dims[1], err));
  TRY(check_param(n->inputs[2], "B", x->dims[1], err));
  return ops_set_output_like(n, 0, x, err);
}

Status eval_instance_normalization(const Node *n, const void *const in[], void *const out[],
                                   Error *err) {
  const Value *x = n->inputs[0];
  double eps = ir_attr_float(n, "epsilon", 1e-5f);
  DType t = x->dtype;
  int64_t c = x->dims[1], batch = x->dims[0], inner = ops_numel(x->rank - 2, x->dims + 2);
  for (int64_t b = 0; b < batch; b++)
    for (int64_t ci = 0; ci < c; ci++) {
      size_t base = (size_t)((b * c + ci) * inner);
      double mean, inv;
      stats(t, in[0], base, inner, eps, &mean, &inv);
      double s = linalg_ld(n->inputs[1]->dtype, in[1], (size_t)ci) * inv;
      double bias = linalg_ld(n->inputs[2]->dtype, in[2], (size_t)ci);
      for (int64_t i = 0; i < inner; i++) {
        double v = linalg_ld(t, in[0], base + (size_t)i);
        linalg_st(t, out[0], base + (size_t)i, (v - mean) * s + bias);
      }
    }
  return ST_OK;
}

/* ---- GroupNormalization ------------------------------------------------ */

/* Opset 18 gives scale/bias one value per group, opset 21 one per channel;
 * the element count tells which (they agree when groups == channels). */
static Status group_dims(const Node *n, int64_t *groups, bool *per_channel, Error *err) {
  const Value *x = n->inputs[0];
  int64_t g = ir_attr_int(n, "num_groups", 0), c = x->dims[1];
  if (g <= 0) return err_set(err, ST_INVALID, "num_groups must be positive, not %" PRId64, g);
  if (c % g != 0)
    return err_set(err, ST_SHAPE, "%" PRId64 " channels do not split into %" PRId64 " groups", c,
                   g);
  int64_t ns = ir_value_numel(n->inputs[1]), nb = ir_value_numel(n->inputs[2]);
  if (ns != nb)
    return err_set(err, ST_SHAPE, "scale has %" PRId64 " elements but bias %" PRId64, ns, nb);
  if (ns != c && ns != g)
    return err_set(err, ST_SHAPE, "scale has %" PRId64 " elements, expected %" PRId64
                   " (channels) or %" PRId64 " (groups)", ns, c, g);
  *groups = g;
  *per_channel = ns == c;
  return ST_OK;
}

Status shape_group_normalization(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  TRY(check_float(x, "X", err));
  TRY(check_float(n->inputs[1], "scale", err));
  TRY(check_float(n->inputs[2], "bias", err));
  if (x->rank < 2) return err_set(err, ST_SHAPE, "X must have rank >= 2, not %d", x->rank);
  int64_t groups;
  bool per_channel;
  TRY(group_dims(n, &groups, &per_channel, err));
  return ops_set_output_like(n, 0, x, err);
}

Status eval_group_normalization(const Node *n, const void *const in[], void *const out[],
                                Error *err) {
  const Value *x = n->inputs[0];
  int64_t groups;
  bool per_channel;
  TRY(group_dims(n, &groups, &per_channel, err));
  double eps = ir_attr_float(n, "epsilon", 1e-5f);
  DType t = x->dtype, ts = n->inputs[1]->dtype, tb = n->inputs[2]->dtype;
  int64_t c = x->dims[1], batch = x->dims[0], inner = ops_numel(x->rank - 2, x->dims + 2);
  int64_t cpg = c / groups;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t gi = 0; gi < groups; gi++) {
      size_t base = (size_t)((b * c + gi * cpg) * inner);
      double mean, inv;
      stats(t, in[0], base, cpg * inner, eps, &mean, &inv);
      for (int64_t j = 0; j < cpg; j++) {
        size_t p = (size_t)(per_channel ? gi * cpg + j : gi);
        double s = linalg_ld(ts, in[1], p) * inv, bias = linalg_ld(tb, in[2], p);
        size_t cb = base + (size_t)(j * inner);
        for (int64_t i = 0; i < inner; i++) {
          double v = linalg_ld(t, in[0], cb + (size_t)i);
          linalg_st(t, out[0], cb + (size_t)i, (v - mean) * s + bias);
        }
      }
    }
  return ST_OK;
}

/* ---- LayerNormalization ------------------------------------------------ */

/* Scale and B broadcast unidirectionally to X's shape. */
static Status check_broadcast_to(const Value *p, const Value *x, const char *what, Error *err) {
  TRY(check_float(p, what, err));
  if (p->rank > x->rank)
    return err_set(err, ST_SHAPE, "%s has rank %d, more than X's %d", what, p->rank, x->rank);
  for (int i = 0; i < p->rank; i++) {
    int64_t want = x->dims[x->rank - p->rank + i];
    if (p->dims[i] != 1 && p->dims[i] != want)
      return err_set(err, ST_SHAPE, "%s dim %d is %" PRId64 ", cannot broadcast to %" PRId64, what,
                     i, p->dims[i], want);
  }
  return ST_OK;
}

static const Value *ln_bias(const Node *n) { return n->num_inputs > 2 ? n->inputs[2] : NULL; }

Status shape_layer_normalization(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  TRY(check_float(x, "X", err));
  if (x->rank < 1) return err_set(err, ST_SHAPE, "X must have rank >= 1");
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis, err));
  TRY(check_broadcast_to(n->inputs[1], x, "Scale", err));
  if (ln_bias(n)) TRY(check_broadcast_to(ln_bias(n), x, "B", err));
  int64_t stash = ir_attr_int(n, "stash_type", 1);
  if (stash <= 0 || stash >= DT_COUNT || !dtype_is_float((DType)stash) ||
      !dtype_supported((DType)stash))
    return err_set(err, ST_INVALID, "stash_type %" PRId64 " is not a float type", stash);
  TRY(ops_set_output_like(n, 0, x, err));
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = i < axis ? x->dims[i] : 1;
  TRY(ops_set_output(n, 1, (DType)stash, x->rank, dims, err));
  return ops_set_output(n, 2, (DType)stash, x->rank, dims, err);
}

Status eval_layer_normalization(const Node *n, const void *const in[], void *const out[],
                                Error *err) {
  const Value *x = n->inputs[0], *vs = n->inputs[1], *vb = ln_bias(n);
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis, err));
  double eps = ir_attr_float(n, "epsilon", 1e-5f);
  DType t = x->dtype;
  int r = x->rank;
  int64_t outer = ops_numel(axis, x->dims), inner = ops_numel(r - axis, x->dims + axis);
  int64_t ss[IR_MAX_RANK], sb[IR_MAX_RANK] = {0};
  ops_broadcast_strides(vs->rank, vs->dims, r, x->dims, ss);
  if (vb) ops_broadcast_strides(vb->rank, vb->dims, r, x->dims, sb);
  const void *bias = vb ? in[2] : NULL;
  int64_t idx[IR_MAX_RANK] = {0}, os = 0, ob = 0;
  for (int64_t o = 0; o < outer; o++) {
    size_t base = (size_t)(o * inner);
    double mean, inv;
    stats(t, in[0], base, inner, eps, &mean, &inv);
    if (n->num_outputs > 1 && out[1]) linalg_st(n->outputs[1]->dtype, out[1], (size_t)o, mean);
    if (n->num_outputs > 2 && out[2]) linalg_st(n->outputs[2]->dtype, out[2], (size_t)o, inv);
    for (int64_t i = 0; i < inner; i++) {
      double v = (linalg_ld(t, in[0], base + (size_t)i) - mean) * inv;
      v *= linalg_ld(vs->dtype, in[1], (size_t)os);
      if (bias) v += linalg_ld(vb->dtype, bias, (size_t)ob);
      linalg_st(t, out[0], base + (size_t)i, v);
      /* Advance the row-major index of X and the parameters' offsets. */
      for (int d = r - 1; d >= 0; d--) {
        os += ss[d];
        ob += sb[d];
        if (++idx[d] < x->dims[d]) break;
        os -= ss[d] * idx[d];
        ob -= sb[d] * idx[d];
        idx[d] = 0;
      }
    }
  }
  return ST_OK;
}
