/*
 * 8-bit and 4-bit float formats of ONNX (float8e4m3fn, float8e4m3fnuz,
 * float8e5m2, float8e5m2fnuz, float8e8m0, float4e2m1), one code per byte.
 * Encoding rounds to nearest even; `saturate` follows ONNX Cast: out-of-range
 * values clamp to the largest finite value instead of becoming inf/NaN.
 */
#ifndef ONNXC_IR_DTYPE_MINIFLOAT_H
#define ONNXC_IR_DTYPE_MINIFLOAT_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"

double minifloat_decode(DType t, uint8_t code);
uint8_t minifloat_encode(DType t, double v, bool saturate);

/* float8e8m0 (a bare power of two) with ONNX Cast's `round_mode`:
 * UP rounds any non-power up (the default), DOWN truncates, NEAREST rounds
 * to the nearer power with ties up.  minifloat_encode uses UP. */
typedef enum MiniRound { MINIFLOAT_ROUND_UP, MINIFLOAT_ROUND_DOWN, MINIFLOAT_ROUND_NEAREST } MiniRound;
uint8_t minifloat_encode_e8m0(double v, bool saturate, MiniRound mode);

#endif
