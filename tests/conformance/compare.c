/*
 * Tolerance comparison of one output tensor against ONNX's expected data:
 * the rule of the ONNX backend test runner, implemented once in
 * runtime/compare.c and shared with `onnxc verify`.
 */
#include "conformance.h"

bool conf_compare(DType dt, const void *got, const void *want, size_t numel, double rtol,
                  double atol, CompareStats *st) {
  return rt_compare(dt, got, want, numel, rtol, atol, st);
}
