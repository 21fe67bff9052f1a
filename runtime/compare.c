/*
 * runtime/compare.c: the tolerance comparison declared in compare.h.
 * Integers are compared exactly in their own width; they are converted to
 * double only for the error statistics, nudged apart when two distinct
 * 64-bit values round to the same double so that a mismatch never reports
 * an error of zero.
 */
#include "compare.h"

#include <math.h>
#include <stdint.h>

bool rt_compare(DType dt, const void *got, const void *want, size_t numel, double rtol,
                double atol, RtCompareStats *st) {
  *st = (RtCompareStats){0};
  bool is_float = dtype_is_float(dt);
  for (size_t i = 0; i < numel; i++) {
    double a, e;
    bool ok;
    if (is_float) {
      a = dtype_load_f64(dt, got, i);
      e = dtype_load_f64(dt, want, i);
    } else if (dtype_is_signed_int(dt)) {
      int64_t x = dtype_load_i64(dt, got, i), y = dtype_load_i64(dt, want, i);
      a = (double)x;
      e = (double)y;
      if (x != y && a == e) a = nextafter(a, INFINITY); /* keep huge ints unequal */
    } else {
      uint64_t x = dtype_load_u64(dt, got, i), y = dtype_load_u64(dt, want, i);
      a = (double)x;
      e = (double)y;
      if (x != y && a == e) a = nextafter(a, INFINITY);
    }
    if (isnan(a) || isnan(e)) {
      ok = isnan(a) && isnan(e);
    } else if (isinf(a) || isinf(e)) {
      ok = a == e;
    } else {
      double d = fabs(a - e);
      if (d > st->max_abs) st->max_abs = d;
      if (fabs(e) > atol && d / fabs(e) > st->max_rel) st->max_rel = d / fabs(e);
      ok = is_float ? d <= atol + rtol * fabs(e) : d == 0;
    }
    if (!ok && st->num_bad++ == 0) {
      st->first_bad = i;
      st->got = a;
      st->want = e;
    }
  }
  return st->num_bad == 0;
}
