/*
 * ops/reshape.c: Reshape, Flatten, Squeeze and Unsqueeze.  All four only
 * relabel the shape of a row-major buffer, so every kernel is one memcpy;
 * the work is in the shape rules, which need Reshape's `shape` and the
 * squeeze axes as constants (the output shape must be static).
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

static Status copy_all(const Node *n, const void *const in[], void *const out[]) {
  size_t nb = ir_value_nbytes(n->outputs[0]);
  if (nb) memcpy(out[0], in[0], nb);
  return ST_OK;
}

/* ---- Reshape ------------------------------------------------------------ */

Status shape_reshape(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t dims[IR_MAX_RANK];
  int rank;
  TRY(ops_const_ints(n->inputs[1], "input 1 ('shape')", dims, IR_MAX_RANK, &rank, err));
  int64_t allowzero = ir_attr_int(n, "allowzero", 0);
  int infer_at = -1;
  bool has_zero = false;
  for (int i = 0; i < rank; i++) {
    if (dims[i] == -1) {
      if (infer_at >= 0) return err_set(err, ST_INVALID, "shape has more than one -1");
      infer_at = i;
    } else if (dims[i] < -1) {
      return err_set(err, ST_INVALID, "shape[%d] is %" PRId64 ", which is not a size", i,
                     dims[i]);
    } else if (dims[i] == 0) {
      has_zero = true;
      if (!allowzero) {
        if (i >= x->rank)
          return err_set(err, ST_INVALID, "shape[%d] is 0 (copy the input dimension) but the "
                         "input has rank %d", i, x->rank);
        dims[i] = x->dims[i];
      }
    }
  }
  if (allowzero && has_zero && infer_at >= 0)
    return err_set(err, ST_INVALID, "shape has both 0 and -1, which allowzero=1 forbids");
  int64_t in_numel = ir_value_numel(x), known = 1;
  for (int i = 0; i < rank; i++)
    if (i != infer_at && !mv_mul_bounded(known, dims[i], &known))
      return err_set(err, ST_SHAPE, "shape has more than 2^40 elements");
  if (infer_at >= 0) {
    if (known == 0)
      return err_set(err, ST_SHAPE, "cannot infer the -1 dimension: the other dimensions "
                     "multiply to 0");
    if (in_numel % known != 0)
      return err_set(err, ST_SHAPE, "cannot reshape %" PRId64 " elements: not a multiple of "
                     "%" PRId64, in_numel, known);
    dims[infer_at] = in_numel / known;
  } else if (known != in_numel) {
    return err_set(err, ST_SHAPE, "cannot reshape %" PRId64 " elements into a shape of %"
                   PRId64, in_numel, known);
  }
  return ops_set_output(n, 0, x->dtype, rank, dims, err);
}

Status eval_reshape(const Node *n, const void *const in[], void *const out[], Error *err) {
  return copy_all(n, in, out);
}

/* ---- Flatten ------------------------------------------------------------ */

Status shape_flatten(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t axis = ir_attr_int(n, "axis", 1);
  if (axis < -x->rank || axis > x->rank)
    return err_set(err, ST_INVALID, "axis %" PRId64 " is out of range for rank %d", axis,
                   x->rank);
  int a = (int)(axis < 0 ? axis + x->rank : axis);
  int64_t dims[2];
  TRY(mv_prod(x->dims, 0, a, &dims[0], err));
  TRY(mv_prod(x->dims, a, x->rank, &dims[1], err));
  return ops_set_output(n, 0, x->dtype, 2, dims, err);
}

Status eval_flatten(const Node *n, const void *const in[], void *const out[], Error *err) {
  return copy_all(n, in, out);
}

/* ---- Squeeze / Unsqueeze ------------------------------------------------ */

/* Reads the constant axes input, normalized against rank; marks[a] is set
 * for each axis.  Repeats are an error. */
static Status read_axes(const Node *n, int rank, bool *marks, int *count, Error *err) {
  int64_t axes[IR_MAX_RANK];
  TRY(ops_const_ints(n->inputs[1], "input 1 ('axes')", axes, IR_MAX_RANK, count, err));
  for (int i = 0; i < rank; i++) marks[i] = false;
  for (int i = 0; i < *count; i++) {
    int a;
    TRY(ops_norm_axis(axes[i], rank, &a, err));
    if (marks[a]) return err_set(err, ST_INVALID, "axis %" PRId64 " is repeated", axes[i]);
    marks[a] = true;
  }
  return ST_OK;
}

Status shape_squeeze(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  bool marks[IR_MAX_RANK];
  if (n->num_inputs >= 2 && n->inputs[1]) {
    int count;
    TRY(read_axes(n, x->rank, marks, &count, err));
    for (int i = 0; i < x->rank; i++)
      if (marks[i] && x->dims[i] != 1)
        return err_set(err, ST_SHAPE, "cannot squeeze axis %d: its size is %" PRId64 ", not 1",
                       i, x->dims[i]);
  } else {
    for (int i = 0; i < x->rank; i++) marks[i] = x->dims[i] == 1;
  }
  int64_t dims[IR_MAX_RANK];
  int rank = 0;
  for (int i = 0; i < x->rank; i++)
    if (!marks[i]) dims[rank++] = x->dims[i];
  return ops_set_output(n, 0, x->dtype, rank, dims, err);
}

Status eval_squeeze(const Node *n, const void *const in[], void *const out[], Error *err) {
  return copy_all(n, in, out);
}

Status shape_unsqueeze(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (n->num_inputs < 2 || !n->inputs[1])
    return err_set(err, ST_INVALID, "input 1 ('axes') is required");
  const Value *axes = n->inputs[1];
  int64_t count = ir_value_numel(axes);
  if (x->rank + count > IR_MAX_RANK)
    return err_set(err, ST_UNSUPPORTED, "output rank %" PRId64 " exceeds %d", x->rank + count,
                   IR_MAX_RANK);
  int rank = x->rank + (int)count, got;
  bool marks[IR_MAX_RANK];
  TRY(read_axes(n, rank, marks, &got, err));
  int64_t dims[IR_MAX_RANK];
  for (int i = 0, k = 0; i < rank; i++) dims[i] = marks[i] ? 1 : x->dims[k++];
  return ops_set_output(n, 0, x->dtype, rank, dims, err);
}

Status eval_unsqueeze(const Node *n, const void *const in[], void *const out[], Error *err) {
  return copy_all(n, in, out);
}
