/*
 * CumSum: shape rule and reference kernel.
 *
 * The axis is input 1 (an int32/int64 scalar or 1-element tensor) and need
 * not be constant: the shape does not depend on it, so the kernel reads it
 * from in[1].  `exclusive` shifts the sums by one element, `reverse` runs
 * them from the end.  Floats accumulate in double, integers in wrapping
 * 64-bit arithmetic.
 */
#include "linalg.h"

#include <inttypes.h>

Status shape_cum_sum(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0], *a = n->inputs[1];
  if (!linalg_numeric(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "CumSum on %s is not supported", dtype_name(x->dtype));
  if (a->dtype != DT_INT64 && a->dtype != DT_INT32)
    return err_set(err, ST_INVALID, "axis must be int32 or int64, not %s", dtype_name(a->dtype));
  if (ir_value_numel(a) != 1 || a->rank > 1)
    return err_set(err, ST_INVALID, "axis must hold exactly one value");
  if (x->rank < 1) return err_set(err, ST_SHAPE, "CumSum needs rank >= 1");
  if (a->data) {
    int axis;
    TRY(ops_norm_axis(dtype_load_i64(a->dtype, a->data, 0), x->rank, &axis, err));
  }
  return ops_set_output_like(n, 0, x, err);
}

Status eval_cum_sum(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  int axis;
  TRY(ops_norm_axis(dtype_load_i64(n->inputs[1]->dtype, in[1], 0), x->rank, &axis, err));
  bool exclusive = ir_attr_int(n, "exclusive", 0) != 0;
  bool reverse = ir_attr_int(n, "reverse", 0) != 0;
  DType t = x->dtype;
  bool is_float = linalg_kind(t) == LK_FLOAT;
  int64_t outer = ops_numel(axis, x->dims), d = x->dims[axis];
  int64_t inner = ops_numel(x->rank - axis - 1, x->dims + axis + 1);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double accf = 0;
      uint64_t acci = 0;
      for (int64_t s = 0; s < d; s++) {
        int64_t j = reverse ? d - 1 - s : s;
        size_t e = (size_t)((o * d + j) * inner + i);
        double vf = is_float ? linalg_ld(t, in[0], e) : 0;
        uint64_t vi = is_float ? 0 : linalg_ld_bits(t, in[0], e);
        if (!exclusive) {
          accf += vf;
          acci += vi;
        }
        if (is_float) linalg_st(t, out[0], e, accf);
        else linalg_st_bits(t, out[0], e, acci);
        if (exclusive) {
          accf += vf;
          acci += vi;
        }
      }
    }
  return ST_OK;
}
