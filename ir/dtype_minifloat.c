/*
 * Encoding and decoding of ONNX's 8- and 4-bit float formats; see
 * dtype_minifloat.h.  dtype.c calls these for every load and store of those
 * types, and ONNX Cast (ops/unary.c) reaches them through dtype_store_f64.
 *
 * The four float8 formats and float4e2m1 are sign/exponent/mantissa formats
 * that differ only in their bias and in how they spell NaN, infinity and
 * negative zero, so one table-driven encoder serves them all.  float8e8m0 is
 * a bare power of two (no sign, no mantissa) with its own rounding modes.
 * Results follow the ONNX Cast table and the expected outputs of ONNX's own
 * test_cast_* node tests.
 */
#include "dtype_minifloat.h"

#include <math.h>

typedef enum Special {
  SP_FN,   /* no infinity; NaN = S.1111.111 (float8e4m3fn) */
  SP_IEEE, /* IEEE-like infinity and NaN (float8e5m2) */
  SP_UZ,   /* no infinity, no -0; the only NaN is 0x80 (the *fnuz formats) */
  SP_NONE  /* no infinity, no NaN; always saturates (float4e2m1) */
} Special;

typedef struct MiniFormat {
  int ebits, mbits, bias;
  Special special;
  uint8_t max_code; /* largest finite magnitude code (sign clear) */
  uint8_t nan_code; /* what NaN encodes to */
} MiniFormat;

static bool mini_format(DType t, MiniFormat *f) {
  switch (t) {
  case DT_FLOAT8E4M3FN: *f = (MiniFormat){4, 3, 7, SP_FN, 0x7e, 0x7f}; return true;
  case DT_FLOAT8E4M3FNUZ: *f = (MiniFormat){4, 3, 8, SP_UZ, 0x7f, 0x80}; return true;
  case DT_FLOAT8E5M2: *f = (MiniFormat){5, 2, 15, SP_IEEE, 0x7b, 0x7e}; return true;
  case DT_FLOAT8E5M2FNUZ: *f = (MiniFormat){5, 2, 16, SP_UZ, 0x7f, 0x80}; return true;
  /* float4e2m1 has no NaN; ONNX's reference maps NaN to the code 0x8. */
  case DT_FLOAT4E2M1: *f = (MiniFormat){2, 1, 1, SP_NONE, 0x7, 0x8}; return true;
  default: return false;
  }
}

static double decode_e8m0(uint8_t code) {
  if (code == 0xff) return NAN;
  return ldexp(1.0, (int)code - 127);
}

double minifloat_decode(DType t, uint8_t code) {
  if (t == DT_FLOAT8E8M0) return decode_e8m0(code);
  MiniFormat f;
  if (!mini_format(t, &f)) return 0;
  int bits = 1 + f.ebits + f.mbits;
  uint8_t sign_bit = (uint8_t)(1u << (bits - 1));
  code &= (uint8_t)((1u << bits) - 1);
  bool neg = (code & sign_bit) != 0;
  unsigned mag = code & (sign_bit - 1u);
  unsigned exp = mag >> f.mbits, man = mag & ((1u << f.mbits) - 1u);
  unsigned exp_all = (1u << f.ebits) - 1u;
  switch (f.special) {
  case SP_FN:
    if (mag == 0x7f) return NAN;
    break;
  case SP_UZ:
    if (code == 0x80) return NAN;
    break;
  case SP_IEEE:
    if (exp == exp_all) return man == 0 ? (neg ? -INFINITY : INFINITY) : NAN;
    break;
  case SP_NONE:
    break;
  }
  double v = exp == 0 ? ldexp((double)man, 1 - f.bias - f.mbits)
                      : ldexp((double)((1u << f.mbits) + man), (int)exp - f.bias - f.mbits);
  return neg ? -v : v;
}

/* Magnitude code of |a| (finite, >= 0) rounded to nearest even; may exceed
 * max_code when a is out of range (the caller decides what overflow means). */
static unsigned round_magnitude(const MiniFormat *f, double a) {
  int emin = 1 - f->bias; /* exponent of the smallest normal */
  if (a < ldexp(1.0, emin)) {
    /* Subnormal range: a multiple of the smallest subnormal.  A result of
     * 2^mbits is exactly the code of the smallest normal. */
    return (unsigned)nearbyint(ldexp(a, f->mbits - emin));
  }
  int k;
  frexp(a, &k); /* a = m * 2^k, m in [0.5, 1) */
  int e = k - 1;
  if (e > 64) return 0xffffu; /* far out of range for every format */
  /* sig in [2^mbits, 2^(mbits+1)] counts the hidden bit; a carry to the top
   * moves into the exponent by itself in the addition below. */
  double sig = nearbyint(ldexp(a, f->mbits - e));
  return (unsigned)((e + f->bias - 1) << f->mbits) + (unsigned)sig;
}

uint8_t minifloat_encode(DType t, double v, bool saturate) {
  if (t == DT_FLOAT8E8M0) return minifloat_encode_e8m0(v, saturate, MINIFLOAT_ROUND_UP);
  MiniFormat f;
  if (!mini_format(t, &f)) return 0;
  int bits = 1 + f.ebits + f.mbits;
  uint8_t sign = signbit(v) ? (uint8_t)(1u << (bits - 1)) : 0;
  if (isnan(v)) return f.nan_code;
  if (f.special == SP_NONE) saturate = true;
  unsigned mag = isinf(v) ? 0xffffu : round_magnitude(&f, fabs(v));
  if (mag > f.max_code) {
    if (saturate) return (uint8_t)(sign | f.max_code);
    switch (f.special) {
    case SP_FN: return (uint8_t)(sign | 0x7f);
    case SP_IEEE: return (uint8_t)(sign | 0x7c); /* infinity */
    case SP_UZ: return 0x80;
    case SP_NONE: break;
    }
    return (uint8_t)(sign | f.max_code);
  }
  if (mag == 0 && f.special == SP_UZ) return 0; /* no negative zero */
  return (uint8_t)(sign | mag);
}

uint8_t minifloat_encode_e8m0(double v, bool saturate, MiniRound mode) {
  if (isnan(v)) return 0xff;
  double a = fabs(v); /* e8m0 has no sign bit: only the magnitude counts */
  if (isinf(a)) return saturate ? 0xfe : 0xff;
  if (a == 0) return 0; /* no zero either: the smallest power, 2^-127 */
  int k;
  double m = frexp(a, &k); /* a = m * 2^k, m in [0.5, 1) */
  int e = k - 1;
  double frac = 2 * m - 1; /* a = (1 + frac) * 2^e */
  if ((mode == MINIFLOAT_ROUND_UP && frac > 0) || (mode == MINIFLOAT_ROUND_NEAREST && frac >= 0.5))
    e++;
  int code = e + 127;
  if (code < 0) return 0;
  if (code > 0xfe) return saturate ? 0xfe : 0xff;
  return (uint8_t)code;
}
