/*
 * ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL2 and
 * ArgMax: shape rules and reference kernels.
 *
 * Reductions take their axes from constant input 1 (the frontend moves the
 * older `axes` attribute there; an attribute is still accepted).  No axes
 * means "all axes", or the identity when noop_with_empty_axes=1.  Floats
 * accumulate in double, integers in wrapping 64-bit; the reduction over an
 * empty set gives 0 (Sum, L2), 1 (Prod), NaN (Mean of floats), the lowest
 * value of the type (Max: -inf for floats, false for bool) or the highest
 * (Min: +inf, true).
 */
#include "linalg.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

typedef enum ReduceKind { RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_PROD, RED_L2 } ReduceKind;

typedef struct ReducePlan {
  bool noop;                    /* identity: empty axes with noop_with_empty_axes */
  bool reduced[IR_MAX_RANK];    /* which input dims are reduced */
  int out_rank;
  int64_t out_dims[IR_MAX_RANK];
} ReducePlan;

/* axes_data: the kernel's view of input 1 (NULL in shape rules, which need
 * it constant). */
static Status reduce_plan(const Node *n, const void *axes_data, ReducePlan *p, Error *err) {
  const Value *x = n->inputs[0];
  const Value *va = n->num_inputs > 1 ? n->inputs[1] : NULL;
  int64_t axes[IR_MAX_RANK];
  int count = 0;
  if (va) {
    int64_t cnt = ir_value_numel(va);
    if (va->rank > 1) return err_set(err, ST_INVALID, "axes must be 1-D, not rank %d", va->rank);
    if (cnt > IR_MAX_RANK)
      return err_set(err, ST_INVALID, "axes has %" PRId64 " values for rank %d", cnt, x->rank);
    if (va->dtype != DT_INT64 && va->dtype != DT_INT32)
      return err_set(err, ST_INVALID, "axes must be int64, not %s", dtype_name(va->dtype));
    const void *data = va->data ? va->data : axes_data;
    if (!data && cnt > 0)
      return err_set(err, ST_SHAPE, "input 1 ('axes') must be a constant (it is computed at run "
                     "time, so the output shape would not be static)");
    for (int64_t i = 0; i < cnt; i++) axes[i] = dtype_load_i64(va->dtype, data, (size_t)i);
    count = (int)cnt;
  } else {
    const int64_t *attr;
    int na = ir_attr_ints(n, "axes", &attr);
    if (na > IR_MAX_RANK)
      return err_set(err, ST_INVALID, "axes has %d values for rank %d", na, x->rank);
    for (int i = 0; i < na; i++) axes[i] = attr[i];
    count = na > 0 ? na : 0;
  }
  bool keep = ir_attr_int(n, "keepdims", 1) != 0;
  memset(p, 0, sizeof *p);
  if (count == 0 && ir_attr_int(n, "noop_with_empty_axes", 0) != 0) {
    p->noop = true;
    p->out_rank = x->rank;
    memcpy(p->out_dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    return ST_OK;
  }
  for (int i = 0; i < count; i++) {
    int a;
    if (axes[i] < -x->rank || axes[i] >= x->rank)
      return err_set(err, ST_INVALID, "axis %" PRId64 " is out of range for rank %d", axes[i],
                     x->rank);
    TRY(ops_norm_axis(axes[i], x->rank, &a, err));
    if (p->reduced[a]) return err_set(err, ST_INVALID, "axis %" PRId64 " is repeated", axes[i]);
    p->reduced[a] = true;
  }
  if (count == 0)
    for (int i = 0; i < x->rank; i++) p->reduced[i] = true;
  for (int i = 0; i < x->rank; i++) {
    if (!p->reduced[i]) p->out_dims[p->out_rank++] = x->dims[i];
    else if (keep) p->out_dims[p->out_rank++] = 1;
  }
  return ST_OK;
}

Status ops_reduce_axes(const Node *n, bool reduced[IR_MAX_RANK], bool *noop, Error *err) {
  ReducePlan p;
  TRY(reduce_plan(n, NULL, &p, err));
  memcpy(reduced, p.reduced, sizeof p.reduced);
  *noop = p.noop;
  return ST_OK;
}

static Status shape_reduce(Node *n, ReduceKind kind, Error *err) {
  const Value *x = n->inputs[0];
  if (!linalg_numeric(x->dtype) && !((kind == RED_MAX || kind == RED_MIN) && x->dtype == DT_BOOL))
    return err_set(err, ST_UNSUPPORTED, "%s on %s is not supported", op_name(n->op),
                   dtype_name(x->dtype));
  ReducePlan p;
  TRY(reduce_plan(n, NULL, &p, err));
  return ops_set_output(n, 0, x->dtype, p.out_rank, p.out_dims, err);
}

/* The most negative value of an integer type (the identity of Max). */
static int64_t int_lowest(DType t) {
  if (t == DT_INT4) return -8;
  if (t == DT_INT2) return -2;
  return -(int64_t)((UINT64_C(1) << (8 * dtype_size(t) - 1)) - 1) - 1;
}

/* The largest value of an integer type (the identity of Min), as the bits
 * dtype_store_* take. */
static LinalgKey int_highest(LinalgKind lk, DType t) {
  LinalgKey k;
  if (lk == LK_SIGNED) {
    k.s = -(int_lowest(t) + 1);
    return k;
  }
  if (t == DT_BOOL) k.u = 1;
  else if (t == DT_UINT4) k.u = 15;
  else if (t == DT_UINT2) k.u = 3;
  else if (dtype_size(t) >= 8) k.u = UINT64_MAX;
  else k.u = (UINT64_C(1) << (8 * dtype_size(t))) - 1;
  return k;
}

static Status eval_reduce(const Node *n, ReduceKind kind, const void *const in[],
                          void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  ReducePlan p;
  TRY(reduce_plan(n, n->num_inputs > 1 ? in[1] : NULL, &p, err));
  DType t = x->dtype;
  if (p.noop) {
    memcpy(out[0], in[0], ir_value_nbytes(x));
    return ST_OK;
  }
  LinalgKind lk = linalg_kind(t);
  /* Each output element gathers its reduced elements in input order (the
   * order a scatter over the input would add them in), so no accumulator
   * array is needed.  Kept dims form the outer odometer, reduced dims the
   * inner one; both step through x's strides. */
  int r = x->rank, nk = 0, nr = 0;
  int64_t xstr[IR_MAX_RANK], kdim[IR_MAX_RANK], kstr[IR_MAX_RANK], rdim[IR_MAX_RANK],
      rstr[IR_MAX_RANK];
  ops_strides(r, x->dims, xstr);
  int64_t onum = 1, count = 1;
  for (int i = 0; i < r; i++) {
    if (p.reduced[i]) {
      rdim[nr] = x->dims[i];
      rstr[nr++] = xstr[i];
      count *= x->dims[i];
    } else {
      kdim[nk] = x->dims[i];
      kstr[nk++] = xstr[i];
      onum *= x->dims[i];
    }
  }
  /* Floats (and every L2) in double, integer sums in 64 bits, Max in keys. */
  bool use_f = lk == LK_FLOAT || kind == RED_L2;
  bool use_key = !use_f && (kind == RED_MAX || kind == RED_MIN);
  int64_t kidx[IR_MAX_RANK] = {0}, base = 0;
  for (int64_t o = 0; o < onum; o++) {
    size_t io = (size_t)o;
    double af = kind == RED_MAX ? -INFINITY : kind == RED_MIN ? INFINITY : kind == RED_PROD ? 1.0 : 0.0;
    uint64_t ai = kind == RED_PROD ? 1 : 0;
    LinalgKey ak;
    if (kind == RED_MIN) ak = int_highest(lk, t);
    else if (lk == LK_SIGNED) ak.s = int_lowest(t);
    else ak.u = 0;
    int64_t ridx[IR_MAX_RANK] = {0}, e = base;
    for (int64_t c = 0; c < count; c++) {
      if (use_f) {
        double v = linalg_ld(t, in[0], (size_t)e);
        if (kind == RED_L2) af += v * v;
        else if (kind == RED_MAX) {
          if (v > af || v != v) af = v;
        } else if (kind == RED_MIN) {
          if (v < af || v != v) af = v;
        } else if (kind == RED_PROD) af *= v;
        else af += v;
      } else if (use_key) {
        LinalgKey k = linalg_key(lk, t, in[0], (size_t)e);
        if (kind == RED_MAX ? linalg_key_gt(lk, k, ak) : linalg_key_gt(lk, ak, k)) ak = k;
      } else if (kind == RED_PROD) {
        ai *= linalg_ld_bits(t, in[0], (size_t)e); /* wraps like the type's own product */
      } else ai += linalg_ld_bits(t, in[0], (size_t)e);
      for (int i = nr - 1; i >= 0; i--) {
        e += rstr[i];
        if (++ridx[i] < rdim[i]) break;
        e -= rstr[i] * ridx[i];
        ridx[i] = 0;
      }
    }
    if (use_f) {
      double v = af;
      if (kind == RED_L2) v = sqrt(v);
      else if (kind == RED_MEAN) v = count ? v / (double)count : NAN;
      linalg_st(t, out[0], io, v);
    } else if (use_key) {
      if (lk == LK_SIGNED) dtype_store_i64(t, out[0], io, ak.s);
      else dtype_store_u64(t, out[0], io, ak.u);
    } else {
      uint64_t v = ai;
      if (kind == RED_MEAN && count > 0)
        v = lk == LK_SIGNED ? (uint64_t)((int64_t)v / count) : v / (uint64_t)count;
      linalg_st_bits(t, out[0], io, v);
    }
    for (int i = nk - 1; i >= 0; i--) {
      base += kstr[i];
      if (++kidx[i] < kdim[i]) break;
      base -= kstr[i] * kidx[i];
      kidx[i] = 0;
    }
  }
  return ST_OK;
}

Status shape_reduce_sum(Graph *g, Node *n, Error *err) { return shape_reduce(n, RED_SUM, err); }
Status shape_reduce_mean(Graph *g, Node *n, Error *err) { return shape_reduce(n, RED_MEAN, err); }
Status shape_reduce_max(Graph *g, Node *n, Error *err) { return shape_reduce(n, RED_MAX, err); }
Status shape_reduce_l2(Graph *g, Node *n, Error *err) { return shape_reduce(n, RED_L2, err); }
Status shape_reduce_min(Graph *g, Node *n, Error *err) { return shape_reduce(n, RED_MIN, err); }
Status shape_reduce_prod(Graph *g, Node *n, Error *err) { return shape_reduce(n, RED_PROD, err); }

Status eval_reduce_sum(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_reduce(n, RED_SUM, in, out, err);
}
Status eval_reduce_mean(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_reduce(n, RED_MEAN, in, out, err);
}
Status eval_reduce_max(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_reduce(n, RED_MAX, in, out, err);
}
Status eval_reduce_l2(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_reduce(n, RED_L2, in, out, err);
}

/* ---- ArgMax ------------------------------------------------------------ */

Status shape_arg_max(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (!linalg_numeric(x->dtype) && x->dtype != DT_BOOL)
    return err_set(err, ST_UNSUPPORTED, "ArgMax on %s is not supported", dtype_name(x->dtype));
  if (x->rank < 1) return err_set(err, ST_SHAPE, "ArgMax needs rank >= 1");
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", 0), x->rank, &axis, err));
  int64_t rest = 1;
  for (int i = 0; i < x->rank; i++)
    if (i != axis) rest *= x->dims[i];
  if (x->dims[axis] == 0 && rest > 0)
    return err_set(err, ST_SHAPE, "ArgMax over the empty axis %d", axis);
  bool keep = ir_attr_int(n, "keepdims", 1) != 0;
  int64_t dims[IR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < x->rank; i++) {
    if (i != axis) dims[r++] = x->dims[i];
    else if (keep) dims[r++] = 1;
  }
  return ops_set_output(n, 0, DT_INT64, r, dims, err);
}

Status eval_arg_max(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", 0), x->rank, &axis, err));
  bool last = ir_attr_int(n, "select_last_index", 0) != 0;
  DType t = x->dtype;
  LinalgKind lk = linalg_kind(t);
  int64_t outer = ops_numel(axis, x->dims), d = x->dims[axis];
  int64_t inner = ops_numel(x->rank - axis - 1, x->dims + axis + 1);
  int64_t *y = out[0];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      size_t base = (size_t)(o * d * inner + i);
      LinalgKey best = linalg_key(lk, t, in[0], base);
      int64_t bi = 0;
      for (int64_t j = 1; j < d; j++) {
        LinalgKey k = linalg_key(lk, t, in[0], base + (size_t)(j * inner));
        /* Ties keep the first index unless select_last_index. */
        if (linalg_key_gt(lk, k, best) || (last && !linalg_key_gt(lk, best, k))) {
          best = k;
          bi = j;
        }
      }
      y[o * inner + i] = bi;
    }
  return ST_OK;
}
Status eval_reduce_min(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_reduce(n, RED_MIN, in, out, err);
}
Status eval_reduce_prod(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_reduce(n, RED_PROD, in, out, err);
}
