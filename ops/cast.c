/*
 * Cast and CastLike: shape rules and the reference kernel, for every dtype
 * onnxc holds (including the float8 / float4 / int4 / int2 formats).
 *
 * Semantics (ONNX Cast-25): float -> integer truncates toward zero;
 * integer -> narrower integer wraps; anything -> bool is x != 0; float ->
 * float rounds to nearest even once; float8 targets honour `saturate`
 * (ir/dtype_minifloat.c) and float8e8m0 also `round_mode`.
 */
#include <string.h>

#include "../ir/dtype_minifloat.h"
#include "elementwise.h"

static Status cast_params(const Node *n, bool *saturate, MiniRound *mode, Error *err) {
  *saturate = ir_attr_int(n, "saturate", 1) != 0;
  const char *rm = ir_attr_string(n, "round_mode", "up");
  if (strcmp(rm, "up") == 0) *mode = MINIFLOAT_ROUND_UP;
  else if (strcmp(rm, "down") == 0) *mode = MINIFLOAT_ROUND_DOWN;
  else if (strcmp(rm, "nearest") == 0) *mode = MINIFLOAT_ROUND_NEAREST;
  else
    return err_set(err, ST_INVALID, "round_mode is \"%s\", expected \"up\", \"down\" or \"nearest\"",
                   rm);
  return ST_OK;
}

static Status check_castable(DType t, const char *what, Error *err) {
  if (elw_kind(t) == ELW_OTHER)
    return err_set(err, ST_UNSUPPORTED, "cannot cast %s type %s", what, dtype_name(t));
  return ST_OK;
}

/* Converts count elements; see the file comment for the rules. */
static void cast_elements(DType from, const void *in, DType to, void *out, int64_t count,
                          bool saturate, MiniRound mode) {
  if (from == to) {
    if (count) memmove(out, in, (size_t)count * dtype_size(to));
    return;
  }
  ElwKind kf = elw_kind(from);
  bool from_int = kf == ELW_SIGNED || kf == ELW_BOOL;
  for (int64_t j = 0; j < count; j++) {
    size_t i = (size_t)j;
    if (to == DT_FLOAT8E8M0) {
      ((uint8_t *)out)[i] = minifloat_encode_e8m0(dtype_load_f64(from, in, i), saturate, mode);
    } else if (dtype_is_float(to)) {
      /* Integers convert straight to float32 so that large int64 values are
       * rounded once, not twice through double. */
      if (to == DT_FLOAT32 && from_int) ((float *)out)[i] = (float)dtype_load_i64(from, in, i);
      else if (to == DT_FLOAT32 && kf == ELW_UNSIGNED)
        ((float *)out)[i] = (float)dtype_load_u64(from, in, i);
      else elw_store_float(to, out, i, dtype_load_f64(from, in, i), saturate);
    } else if (kf == ELW_F32 || kf == ELW_FLOAT) {
      dtype_store_f64(to, out, i, dtype_load_f64(from, in, i), saturate);
    } else if (kf == ELW_UNSIGNED) {
      dtype_store_u64(to, out, i, dtype_load_u64(from, in, i));
    } else {
      dtype_store_i64(to, out, i, dtype_load_i64(from, in, i));
    }
  }
}

Status shape_cast(Graph *g, Node *n, Error *err) {
  (void)g;
  const Attr *a = ir_attr(n, "to");
  if (!a || a->kind != ATTR_INT) return err_set(err, ST_INVALID, "attribute 'to' is missing");
  if (a->i <= 0 || a->i >= DT_COUNT)
    return err_set(err, ST_UNSUPPORTED, "'to' = %lld is not a known data type", (long long)a->i);
  bool sat = true;
  MiniRound mode = MINIFLOAT_ROUND_UP;
  TRY(cast_params(n, &sat, &mode, err));
  TRY(check_castable(n->inputs[0]->dtype, "from", err));
  TRY(check_castable((DType)a->i, "to", err));
  return ops_set_output(n, 0, (DType)a->i, n->inputs[0]->rank, n->inputs[0]->dims, err);
}

static Status eval_cast_common(const Node *n, const void *in, void *out, Error *err) {
  bool sat = true;
  MiniRound mode = MINIFLOAT_ROUND_UP;
  TRY(cast_params(n, &sat, &mode, err));
  cast_elements(n->inputs[0]->dtype, in, n->outputs[0]->dtype, out, ir_value_numel(n->inputs[0]),
                sat, mode);
  return ST_OK;
}

Status eval_cast(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_cast_common(n, in[0], out[0], err);
}

/* CastLike: the target type is input 1's dtype; its values are not read. */
Status shape_cast_like(Graph *g, Node *n, Error *err) {
  (void)g;
  bool sat = true;
  MiniRound mode = MINIFLOAT_ROUND_UP;
  TRY(cast_params(n, &sat, &mode, err));
  TRY(check_castable(n->inputs[0]->dtype, "from", err));
  TRY(check_castable(n->inputs[1]->dtype, "to", err));
  return ops_set_output(n, 0, n->inputs[1]->dtype, n->inputs[0]->rank, n->inputs[0]->dims, err);
}

Status eval_cast_like(const Node *n, const void *const in[], void *const out[], Error *err) {
  return eval_cast_common(n, in[0], out[0], err);
}
