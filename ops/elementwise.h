/*
 * Private helpers of the elementwise op families (ops/unary.c, ops/cast.c,
 * ops/binary.c, implemented in ops/elementwise.c): how a dtype is computed
 * (float32 fast path, other floats through double, integers exactly through
 * int64 / uint64), a broadcasting iterator over up to three inputs, and a
 * store that rounds a double to float16 / bfloat16 exactly once.
 */
#ifndef ONNXC_OPS_ELEMENTWISE_H
#define ONNXC_OPS_ELEMENTWISE_H

#include "ops.h"

/* How the kernels compute in a dtype. */
typedef enum ElwKind {
  ELW_F32,      /* float32: read and written directly */
  ELW_FLOAT,    /* any other float: through double, rounded once on store */
  ELW_SIGNED,   /* signed integers: int64 arithmetic, wrapped on store */
  ELW_UNSIGNED, /* unsigned integers: uint64 arithmetic */
  ELW_BOOL,
  ELW_OTHER     /* not a computable type (string, complex, undefined) */
} ElwKind;

ElwKind elw_kind(DType t);
bool elw_is_numeric(DType t); /* a float or integer type onnxc can hold */

/* Stores v into element i of a float buffer of type t (any float type; also
 * integers and bool, via dtype_store_f64).  float16 and bfloat16 are rounded
 * straight from double (no double rounding through float). */
void elw_store_float(DType t, void *buf, size_t i, double v, bool saturate);

/* Odometer over an output shape that yields, for each output element in
 * row-major order, the matching element offset of each broadcast input. */
#define ELW_MAX_IN 3
typedef struct ElwIter {
  int rank, n_in;
  int64_t dims[IR_MAX_RANK];
  int64_t strides[ELW_MAX_IN][IR_MAX_RANK];
  int64_t idx[IR_MAX_RANK];
  int64_t off[ELW_MAX_IN];
} ElwIter;

/* Sets up it for an output of type out and inputs ins[0..n_in) that
 * broadcast to it (checked by the shape rule). */
void elw_iter_init(ElwIter *it, const Value *out, int n_in, const Value *const ins[]);
/* Advances to the next output element. */
static inline void elw_iter_next(ElwIter *it) {
  for (int d = it->rank - 1; d >= 0; d--) {
    for (int k = 0; k < it->n_in; k++) it->off[k] += it->strides[k][d];
    if (++it->idx[d] < it->dims[d]) return;
    for (int k = 0; k < it->n_in; k++) it->off[k] -= it->strides[k][d] * it->dims[d];
    it->idx[d] = 0;
  }
}

/* Shape rule shared by broadcasting ops: output i gets dtype dt and the
 * broadcast shape of the non-NULL inputs first..last. */
Status elw_broadcast_output(Node *n, int first, int last, DType dt, Error *err);

#endif
