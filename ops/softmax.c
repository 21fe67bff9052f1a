/*
 * Softmax and LogSoftmax: shape rules and reference kernels.
 *
 * From opset 13 the normalization runs along one axis (default -1).  Before
 * 13 the input is coerced to 2-D at `axis` (default 1): each row is the
 * whole flattened block of trailing dims.  Both are computed as
 * exp(x - max) / sum in double, so large inputs do not overflow.
 */
#include "linalg.h"

#include <math.h>

static Status softmax_check(const Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (!dtype_is_float(x->dtype) || !dtype_supported(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "%s on %s is not supported", op_name(n->op),
                   dtype_name(x->dtype));
  if (x->rank > 0) {
    if (n->opset < 13) {
      /* Coercion allows axis == rank (a single row of width 1). */
      int64_t a = ir_attr_int(n, "axis", 1);
      if (a < -x->rank || a > x->rank)
        return err_set(err, ST_INVALID, "axis %lld is out of range for rank %d", (long long)a,
                       x->rank);
    } else {
      int axis;
      TRY(ops_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis, err));
    }
  }
  return ST_OK;
}

static Status softmax_shape(Node *n, Error *err) {
  TRY(softmax_check(n, err));
  return ops_set_output_like(n, 0, n->inputs[0], err);
}

/* The layout as [outer, d, inner]: the reduction walks d with stride inner. */
static void softmax_layout(const Node *n, int64_t *outer, int64_t *d, int64_t *inner) {
  const Value *x = n->inputs[0];
  int r = x->rank;
  if (r == 0) {
    *outer = *d = *inner = 1;
    return;
  }
  if (n->opset < 13) {
    int64_t a = ir_attr_int(n, "axis", 1);
    int axis = (int)(a < 0 ? a + r : a);
    *outer = ops_numel(axis, x->dims);
    *d = ops_numel(r - axis, x->dims + axis);
    *inner = 1;
  } else {
    int64_t a = ir_attr_int(n, "axis", -1);
    int axis = (int)(a < 0 ? a + r : a);
    *outer = ops_numel(axis, x->dims);
    *d = x->dims[axis];
    *inner = ops_numel(r - axis - 1, x->dims + axis + 1);
  }
}

static Status softmax_eval(const Node *n, bool log_form, const void *const in[],
                           void *const out[], Error *err) {
  TRY(softmax_check(n, err));
  DType t = n->inputs[0]->dtype;
  int64_t outer, d, inner;
  softmax_layout(n, &outer, &d, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      size_t base = (size_t)(o * d * inner + i), step = (size_t)inner;
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < d; j++) {
        double v = linalg_ld(t, in[0], base + (size_t)j * step);
        if (v > mx) mx = v;
      }
      for (int64_t j = 0; j < d; j++) sum += exp(linalg_ld(t, in[0], base + (size_t)j * step) - mx);
      double lsum = log(sum);
      for (int64_t j = 0; j < d; j++) {
        size_t e = base + (size_t)j * step;
        double v = linalg_ld(t, in[0], e) - mx;
        linalg_st(t, out[0], e, log_form ? v - lsum : exp(v) / sum);
      }
    }
  return ST_OK;
}

Status shape_softmax(Graph *g, Node *n, Error *err) { return softmax_shape(n, err); }
Status shape_log_softmax(Graph *g, Node *n, Error *err) { return softmax_shape(n, err); }

Status eval_softmax(const Node *n, const void *const in[], void *const out[], Error *err) {
  return softmax_eval(n, false, in, out, err);
}
Status eval_log_softmax(const Node *n, const void *const in[], void *const out[], Error *err) {
  return softmax_eval(n, true, in, out, err);
}
