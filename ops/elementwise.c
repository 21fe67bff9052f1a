/*
 * Shared machinery of the elementwise kernels; see elementwise.h.  Used by
 * ops/unary.c, ops/cast.c and ops/binary.c only.
 */
#include "elementwise.h"

#include <math.h>
#include <string.h>

ElwKind elw_kind(DType t) {
  if (t == DT_FLOAT32) return ELW_F32;
  if (t == DT_BOOL) return ELW_BOOL;
  if (!dtype_supported(t)) return ELW_OTHER;
  if (dtype_is_float(t)) return ELW_FLOAT;
  if (dtype_is_signed_int(t)) return ELW_SIGNED;
  if (dtype_is_unsigned_int(t)) return ELW_UNSIGNED;
  return ELW_OTHER;
}

bool elw_is_numeric(DType t) {
  ElwKind k = elw_kind(t);
  return k == ELW_F32 || k == ELW_FLOAT || k == ELW_SIGNED || k == ELW_UNSIGNED;
}

/* Rounds v to float with round-to-odd: the result keeps a sticky low bit
 * when v is not exact, so a second rounding to a format at least two bits
 * narrower (half: 11 bits, bfloat16: 8 bits) is the correctly rounded
 * result of v itself. */
static float float_round_odd(double v) {
  float f = (float)v;
  if (isnan(v) || isinf(v) || (double)f == v) return f;
  if (isinf(f) || fabs((double)f) > fabs(v)) f = nextafterf(f, 0.0f);
  uint32_t bits;
  memcpy(&bits, &f, 4);
  bits |= 1u;
  memcpy(&f, &bits, 4);
  return f;
}

void elw_store_float(DType t, void *buf, size_t i, double v, bool saturate) {
  switch (t) {
  case DT_FLOAT32: ((float *)buf)[i] = (float)v; return;
  case DT_FLOAT64: ((double *)buf)[i] = v; return;
  case DT_FLOAT16: ((uint16_t *)buf)[i] = dtype_float_to_half(float_round_odd(v)); return;
  case DT_BFLOAT16: ((uint16_t *)buf)[i] = dtype_float_to_bf16(float_round_odd(v)); return;
  default: dtype_store_f64(t, buf, i, v, saturate); return;
  }
}

void elw_iter_init(ElwIter *it, const Value *out, int n_in, const Value *const ins[]) {
  memset(it, 0, sizeof *it);
  it->rank = out->rank;
  it->n_in = n_in;
  memcpy(it->dims, out->dims, sizeof(int64_t) * (size_t)out->rank);
  for (int k = 0; k < n_in; k++)
    ops_broadcast_strides(ins[k]->rank, ins[k]->dims, out->rank, out->dims, it->strides[k]);
}

Status elw_broadcast_output(Node *n, int first, int last, DType dt, Error *err) {
  int ranks[64];
  const int64_t *dims[64];
  int count = 0;
  for (int i = first; i <= last && i < n->num_inputs; i++) {
    const Value *v = n->inputs[i];
    if (!v) continue;
    if (count == 64) return err_set(err, ST_UNSUPPORTED, "more than 64 inputs");
    ranks[count] = v->rank;
    dims[count] = v->dims;
    count++;
  }
  int rank;
  int64_t out_dims[IR_MAX_RANK];
  TRY(ops_broadcast(count, ranks, dims, &rank, out_dims, err));
  return ops_set_output(n, 0, dt, rank, out_dims, err);
}
