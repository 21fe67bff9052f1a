/*
 * Tolerance comparison of one output tensor against ONNX's expected data,
 * the rule of the ONNX backend test runner (numpy assert_allclose with
 * equal_nan): floats within atol + rtol*|expected|, integers and bool exact.
 */
#include "conformance.h"

#include <math.h>

static void note_bad(CompareStats *st, size_t i, double got, double want) {
  if (st->num_bad++ == 0) {
    st->first_bad = i;
    st->got = got;
    st->want = want;
  }
}

static void compare_float(DType dt, const void *got, const void *want, size_t numel, double rtol,
                          double atol, CompareStats *st) {
  for (size_t i = 0; i < numel; i++) {
    double a = dtype_load_f64(dt, got, i), e = dtype_load_f64(dt, want, i);
    bool ok;
    if (isnan(a) || isnan(e)) {
      ok = isnan(a) && isnan(e);
    } else if (isinf(a) || isinf(e)) {
      ok = a == e;
    } else {
      double d = fabs(a - e);
      if (d > st->max_abs) st->max_abs = d;
      ok = d <= atol + rtol * fabs(e);
    }
    if (!ok) note_bad(st, i, a, e);
  }
}

static void compare_exact(DType dt, const void *got, const void *want, size_t numel,
                          CompareStats *st) {
  bool is_signed = dtype_is_signed_int(dt);
  for (size_t i = 0; i < numel; i++) {
    bool ok;
    double a, e;
    if (is_signed) {
      int64_t x = dtype_load_i64(dt, got, i), y = dtype_load_i64(dt, want, i);
      ok = x == y;
      a = (double)x;
      e = (double)y;
    } else {
      uint64_t x = dtype_load_u64(dt, got, i), y = dtype_load_u64(dt, want, i);
      ok = x == y;
      a = (double)x;
      e = (double)y;
    }
    if (!ok) {
      double d = fabs(a - e);
      if (d > st->max_abs) st->max_abs = d;
      note_bad(st, i, a, e);
    }
  }
}

bool conf_compare(DType dt, const void *got, const void *want, size_t numel, double rtol,
                  double atol, CompareStats *st) {
  *st = (CompareStats){0};
  if (dtype_is_float(dt)) compare_float(dt, got, want, numel, rtol, atol, st);
  else compare_exact(dt, got, want, numel, st);
  return st->num_bad == 0;
}
