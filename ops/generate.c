/*
 * ops/generate.c: ops whose output does not depend on input element values:
 * Shape and Size (read only the static type of input 0, never its data, so
 * they fold even when the input is computed at run time), ConstantOfShape
 * and Range (build a tensor from constant parameters).
 */
#include "movement.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---- Shape / Size ------------------------------------------------------- */

/* ONNX Shape (opset 15): start/end are clamped into [0, rank] after adding
 * rank to negative values; an empty range gives an empty output. */
static void shape_bounds(const Node *n, int rank, int64_t *start, int64_t *end) {
  int64_t s = ir_attr_int(n, "start", 0), e = ir_attr_int(n, "end", rank);
  if (s < 0) s += rank;
  if (e < 0) e += rank;
  s = s < 0 ? 0 : s > rank ? rank : s;
  e = e < 0 ? 0 : e > rank ? rank : e;
  *start = s;
  *end = e < s ? s : e;
}

Status shape_shape(Graph *g, Node *n, Error *err) {
  int64_t s, e;
  shape_bounds(n, n->inputs[0]->rank, &s, &e);
  int64_t len = e - s;
  return ops_set_output(n, 0, DT_INT64, 1, &len, err);
}

Status eval_shape(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  int64_t s, e;
  shape_bounds(n, x->rank, &s, &e);
  int64_t *y = out[0];
  for (int64_t i = s; i < e; i++) y[i - s] = x->dims[i];
  return ST_OK;
}

Status shape_size(Graph *g, Node *n, Error *err) {
  return ops_set_output(n, 0, DT_INT64, 0, NULL, err);
}

Status eval_size(const Node *n, const void *const in[], void *const out[], Error *err) {
  *(int64_t *)out[0] = ir_value_numel(n->inputs[0]);
  return ST_OK;
}

/* ---- ConstantOfShape ---------------------------------------------------- */

/* The fill element: the one-element `value` tensor, or float32 0. */
static Status cos_value(const Node *n, DType *dt, const void **elem, Error *err) {
  static const float zero = 0.0f;
  const Attr *a = ir_attr(n, "value");
  if (!a) {
    *dt = DT_FLOAT32;
    *elem = &zero;
    return ST_OK;
  }
  if (a->kind != ATTR_TENSOR || !a->t)
    return err_set(err, ST_INVALID, "attribute 'value' must be a tensor");
  int64_t numel;
  TRY(mv_prod(a->t->dims, 0, a->t->rank, &numel, err));
  if (numel != 1)
    return err_set(err, ST_INVALID, "attribute 'value' must hold exactly one element, not %"
                   PRId64, numel);
  if (!dtype_supported(a->t->dtype) || a->t->dtype == DT_STRING)
    return err_set(err, ST_UNSUPPORTED, "attribute 'value' has unsupported type %s",
                   dtype_name(a->t->dtype));
  *dt = a->t->dtype;
  *elem = a->t->data;
  return ST_OK;
}

Status shape_constant_of_shape(Graph *g, Node *n, Error *err) {
  int64_t dims[IR_MAX_RANK];
  int rank;
  DType dt = DT_FLOAT32;
  const void *elem = NULL;
  TRY(ops_const_ints(n->inputs[0], "input 0 ('input', the shape)", dims, IR_MAX_RANK, &rank,
                     err));
  TRY(cos_value(n, &dt, &elem, err));
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0)
      return err_set(err, ST_INVALID, "shape[%d] is negative (%" PRId64 ")", i, dims[i]);
  int64_t numel;
  TRY(mv_prod(dims, 0, rank, &numel, err));
  return ops_set_output(n, 0, dt, rank, dims, err);
}

Status eval_constant_of_shape(const Node *n, const void *const in[], void *const out[],
                              Error *err) {
  DType dt = DT_FLOAT32;
  const void *elem = NULL;
  TRY(cos_value(n, &dt, &elem, err));
  mv_fill(out[0], ir_value_numel(n->outputs[0]), elem, dtype_size(dt));
  return ST_OK;
}

/* ---- Range -------------------------------------------------------------- */

/* Range's parameters, kept exact per kind of dtype: floats as double,
 * signed integers as int64, unsigned as uint64. */
typedef struct RangeParams {
  double fs, fd;
  int64_t is, id;
  uint64_t us, ud;
  int64_t count;
} RangeParams;

static Status range_scalar(const Value *v, const char *what, Error *err) {
  if (!v->data) return err_set(err, ST_SHAPE, "%s must be a constant", what);
  if (ir_value_numel(v) != 1)
    return err_set(err, ST_INVALID, "%s must hold exactly one value", what);
  return ST_OK;
}

/* ceil(diff / step) for diff, step > 0, without overflow. */
static uint64_t ceil_div_u64(uint64_t diff, uint64_t step) {
  return diff / step + (diff % step != 0);
}

static Status range_params(const Node *n, RangeParams *p, Error *err) {
  static const char *names[3] = {"input 0 ('start')", "input 1 ('limit')", "input 2 ('delta')"};
  DType t = n->inputs[0]->dtype;
  for (int i = 0; i < 3; i++) {
    TRY(range_scalar(n->inputs[i], names[i], err));
    if (n->inputs[i]->dtype != t)
      return err_set(err, ST_INVALID, "%s is %s but start is %s", names[i],
                     dtype_name(n->inputs[i]->dtype), dtype_name(t));
  }
  const void *s = n->inputs[0]->data, *l = n->inputs[1]->data, *d = n->inputs[2]->data;
  uint64_t count;
  if (dtype_is_float(t)) {
    p->fs = dtype_load_f64(t, s, 0);
    p->fd = dtype_load_f64(t, d, 0);
    double lim = dtype_load_f64(t, l, 0);
    if (p->fd == 0) return err_set(err, ST_INVALID, "delta is 0");
    double c = ceil((lim - p->fs) / p->fd);
    if (isnan(c)) return err_set(err, ST_INVALID, "start, limit or delta is not finite");
    if (c > (double)IR_MAX_NUMEL) return err_set(err, ST_SHAPE, "Range has more than 2^40 "
                                                "elements");
    count = c > 0 ? (uint64_t)c : 0;
  } else if (dtype_is_signed_int(t)) {
    p->is = dtype_load_i64(t, s, 0);
    p->id = dtype_load_i64(t, d, 0);
    int64_t lim = dtype_load_i64(t, l, 0);
    if (p->id == 0) return err_set(err, ST_INVALID, "delta is 0");
    /* Differences go through uint64 so that e.g. INT64_MIN..INT64_MAX is exact. */
    if (p->id > 0)
      count = lim > p->is ? ceil_div_u64((uint64_t)lim - (uint64_t)p->is, (uint64_t)p->id) : 0;
    else
      count = lim < p->is ? ceil_div_u64((uint64_t)p->is - (uint64_t)lim,
                                         (uint64_t)0 - (uint64_t)p->id) : 0;
  } else if (dtype_is_unsigned_int(t)) {
    p->us = dtype_load_u64(t, s, 0);
    p->ud = dtype_load_u64(t, d, 0);
    uint64_t lim = dtype_load_u64(t, l, 0);
    if (p->ud == 0) return err_set(err, ST_INVALID, "delta is 0");
    count = lim > p->us ? ceil_div_u64(lim - p->us, p->ud) : 0;
  } else {
    return err_set(err, ST_INVALID, "Range does not accept %s", dtype_name(t));
  }
  if (count > (uint64_t)IR_MAX_NUMEL)
    return err_set(err, ST_SHAPE, "Range has more than 2^40 elements");
  p->count = (int64_t)count;
  return ST_OK;
}

Status shape_range(Graph *g, Node *n, Error *err) {
  RangeParams p;
  TRY(range_params(n, &p, err));
  return ops_set_output(n, 0, n->inputs[0]->dtype, 1, &p.count, err);
}

Status eval_range(const Node *n, const void *const in[], void *const out[], Error *err) {
  RangeParams p;
  TRY(range_params(n, &p, err));
  DType t = n->outputs[0]->dtype;
  for (int64_t i = 0; i < p.count; i++) {
    if (dtype_is_float(t))
      dtype_store_f64(t, out[0], (size_t)i, p.fs + (double)i * p.fd, false);
    else if (dtype_is_signed_int(t))
      dtype_store_u64(t, out[0], (size_t)i, (uint64_t)p.is + (uint64_t)i * (uint64_t)p.id);
    else
      dtype_store_u64(t, out[0], (size_t)i, p.us + (uint64_t)i * p.ud);
  }
  return ST_OK;
}
