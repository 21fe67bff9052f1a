/*
 * Tolerance comparison of a computed tensor against an expected one, the
 * rule of the ONNX backend test runner (numpy assert_allclose with
 * equal_nan): floats within atol + rtol*|expected|, integers and bool
 * exactly.  One implementation for `onnxc verify` (driver/) and the
 * conformance runner (tests/conformance/), so both judge outputs alike.
 * Plain C over ir/dtype.h; no allocation.
 */
#ifndef ONNXC_RUNTIME_COMPARE_H
#define ONNXC_RUNTIME_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "../ir/dtype.h"

typedef struct RtCompareStats {
  double max_abs;   /* largest |got - want| among finite pairs */
  double max_rel;   /* over elements with |want| > atol (relative error is noise near 0) */
  size_t num_bad;   /* elements outside tolerance */
  size_t first_bad; /* index of the first one (valid when num_bad > 0) */
  double got, want; /* its values, for messages */
} RtCompareStats;

/* Compares numel elements of type dt: floats with |a-e| <= atol + rtol*|e|
 * (NaN equals NaN, an infinity equals only itself), integers and bool
 * exactly.  Fills *st and returns true when every element is within
 * tolerance. */
bool rt_compare(DType dt, const void *got, const void *want, size_t numel, double rtol,
                double atol, RtCompareStats *st);

#endif
