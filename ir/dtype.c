/* Element type facts and scalar conversions; see dtype.h.  The 8- and 4-bit
 * float formats live in dtype_minifloat.c. */
#include "dtype.h"

#include <math.h>
#include <string.h>

#include "dtype_minifloat.h"

typedef struct DTypeInfo {
  const char *short_name, *name;
  size_t size;
} DTypeInfo;

static const DTypeInfo info[DT_COUNT] = {
    [DT_UNDEFINED] = {"undef", "undefined", 0},
    [DT_FLOAT32] = {"f32", "float32", 4},
    [DT_UINT8] = {"u8", "uint8", 1},
    [DT_INT8] = {"i8", "int8", 1},
    [DT_UINT16] = {"u16", "uint16", 2},
    [DT_INT16] = {"i16", "int16", 2},
    [DT_INT32] = {"i32", "int32", 4},
    [DT_INT64] = {"i64", "int64", 8},
    [DT_STRING] = {"str", "string", 0},
    [DT_BOOL] = {"bool", "bool", 1},
    [DT_FLOAT16] = {"f16", "float16", 2},
    [DT_FLOAT64] = {"f64", "float64", 8},
    [DT_UINT32] = {"u32", "uint32", 4},
    [DT_UINT64] = {"u64", "uint64", 8},
    [DT_COMPLEX64] = {"c64", "complex64", 0},
    [DT_COMPLEX128] = {"c128", "complex128", 0},
    [DT_BFLOAT16] = {"bf16", "bfloat16", 2},
    [DT_FLOAT8E4M3FN] = {"f8e4m3fn", "float8e4m3fn", 1},
    [DT_FLOAT8E4M3FNUZ] = {"f8e4m3fnuz", "float8e4m3fnuz", 1},
    [DT_FLOAT8E5M2] = {"f8e5m2", "float8e5m2", 1},
    [DT_FLOAT8E5M2FNUZ] = {"f8e5m2fnuz", "float8e5m2fnuz", 1},
    [DT_UINT4] = {"u4", "uint4", 1},
    [DT_INT4] = {"i4", "int4", 1},
    [DT_FLOAT4E2M1] = {"f4e2m1", "float4e2m1", 1},
    [DT_FLOAT8E8M0] = {"f8e8m0", "float8e8m0", 1},
    [DT_UINT2] = {"u2", "uint2", 1},
    [DT_INT2] = {"i2", "int2", 1},
};

static bool in_range(DType t) { return (int)t >= 0 && t < DT_COUNT; }

bool dtype_supported(DType t) { return in_range(t) && info[t].size > 0; }
size_t dtype_size(DType t) { return in_range(t) ? info[t].size : 0; }
const char *dtype_short_name(DType t) { return in_range(t) ? info[t].short_name : "?"; }
const char *dtype_name(DType t) { return in_range(t) ? info[t].name : "unknown"; }

DType dtype_from_name(const char *s) {
  if (strcmp(s, "float") == 0) return DT_FLOAT32;
  if (strcmp(s, "double") == 0) return DT_FLOAT64;
  for (int t = 1; t < DT_COUNT; t++)
    if (strcmp(s, info[t].short_name) == 0 || strcmp(s, info[t].name) == 0) return (DType)t;
  return DT_UNDEFINED;
}

bool dtype_is_float(DType t) {
  switch (t) {
  case DT_FLOAT32: case DT_FLOAT16: case DT_FLOAT64: case DT_BFLOAT16:
  case DT_FLOAT8E4M3FN: case DT_FLOAT8E4M3FNUZ: case DT_FLOAT8E5M2: case DT_FLOAT8E5M2FNUZ:
  case DT_FLOAT4E2M1: case DT_FLOAT8E8M0:
    return true;
  default:
    return false;
  }
}

bool dtype_is_signed_int(DType t) {
  return t == DT_INT8 || t == DT_INT16 || t == DT_INT32 || t == DT_INT64 || t == DT_INT4 ||
         t == DT_INT2;
}

bool dtype_is_unsigned_int(DType t) {
  return t == DT_UINT8 || t == DT_UINT16 || t == DT_UINT32 || t == DT_UINT64 || t == DT_UINT4 ||
         t == DT_UINT2;
}

/* ---- IEEE half and bfloat16 ---- */

float dtype_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) bits = sign | 0x7f800000u | (man << 13);
  else if (exp == 0) {
    if (man == 0) bits = sign;
    else { /* subnormal: value = man * 2^-24 */
      float f = ldexpf((float)man, -24);
      return sign ? -f : f;
    }
  } else bits = sign | ((exp + 112) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t dtype_float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: inf */
  if (ax < 0x38800000u) { /* subnormal or zero in half: round ax * 2^24 to integer */
    float a;
    memcpy(&a, &ax, 4);
    float m = nearbyintf(a * 16777216.0f); /* exact: a < 2^-14 so a*2^24 < 1024 */
    return (uint16_t)(sign | (uint32_t)m);
  }
  uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u); /* round to nearest even on bit 13 */
  return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}

float dtype_bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t dtype_float_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

/* ---- loads ---- */

double dtype_load_f64(DType t, const void *buf, size_t i) {
  switch (t) {
  case DT_FLOAT32: return ((const float *)buf)[i];
  case DT_FLOAT64: return ((const double *)buf)[i];
  case DT_FLOAT16: return dtype_half_to_float(((const uint16_t *)buf)[i]);
  case DT_BFLOAT16: return dtype_bf16_to_float(((const uint16_t *)buf)[i]);
  case DT_UINT8: return ((const uint8_t *)buf)[i];
  case DT_INT8: return ((const int8_t *)buf)[i];
  case DT_UINT16: return ((const uint16_t *)buf)[i];
  case DT_INT16: return ((const int16_t *)buf)[i];
  case DT_INT32: return ((const int32_t *)buf)[i];
  case DT_INT64: return (double)((const int64_t *)buf)[i];
  case DT_UINT32: return ((const uint32_t *)buf)[i];
  case DT_UINT64: return (double)((const uint64_t *)buf)[i];
  case DT_BOOL: return ((const uint8_t *)buf)[i] ? 1.0 : 0.0;
  case DT_UINT4: case DT_UINT2: return ((const uint8_t *)buf)[i];
  case DT_INT4: case DT_INT2: return ((const int8_t *)buf)[i];
  case DT_FLOAT8E4M3FN: case DT_FLOAT8E4M3FNUZ: case DT_FLOAT8E5M2: case DT_FLOAT8E5M2FNUZ:
  case DT_FLOAT4E2M1: case DT_FLOAT8E8M0:
    return minifloat_decode(t, ((const uint8_t *)buf)[i]);
  case DT_UNDEFINED: case DT_STRING: case DT_COMPLEX64: case DT_COMPLEX128: case DT_COUNT:
    break;
  }
  return 0;
}

int64_t dtype_load_i64(DType t, const void *buf, size_t i) {
  switch (t) {
  case DT_INT64: return ((const int64_t *)buf)[i];
  case DT_UINT64: return (int64_t)((const uint64_t *)buf)[i];
  case DT_INT32: return ((const int32_t *)buf)[i];
  case DT_UINT32: return ((const uint32_t *)buf)[i];
  case DT_INT16: return ((const int16_t *)buf)[i];
  case DT_UINT16: return ((const uint16_t *)buf)[i];
  case DT_INT8: case DT_INT4: case DT_INT2: return ((const int8_t *)buf)[i];
  case DT_UINT8: case DT_UINT4: case DT_UINT2: return ((const uint8_t *)buf)[i];
  case DT_BOOL: return ((const uint8_t *)buf)[i] != 0;
  default: {
    double d = dtype_load_f64(t, buf, i);
    if (d != d) return INT64_MIN;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
  }
  }
}

uint64_t dtype_load_u64(DType t, const void *buf, size_t i) {
  if (t == DT_UINT64) return ((const uint64_t *)buf)[i];
  if (dtype_is_float(t)) {
    double d = dtype_load_f64(t, buf, i);
    if (d != d || d <= -1.0) return (uint64_t)(int64_t)d; /* C-like wrap for negatives */
    if (d >= 18446744073709551615.0) return UINT64_MAX;
    return (uint64_t)d;
  }
  return (uint64_t)dtype_load_i64(t, buf, i);
}

/* ---- stores ---- */

void dtype_store_f64(DType t, void *buf, size_t i, double v, bool saturate) {
  switch (t) {
  case DT_FLOAT32: ((float *)buf)[i] = (float)v; return;
  case DT_FLOAT64: ((double *)buf)[i] = v; return;
  case DT_FLOAT16: ((uint16_t *)buf)[i] = dtype_float_to_half((float)v); return;
  case DT_BFLOAT16: ((uint16_t *)buf)[i] = dtype_float_to_bf16((float)v); return;
  case DT_BOOL: ((uint8_t *)buf)[i] = v != 0; return;
  case DT_FLOAT8E4M3FN: case DT_FLOAT8E4M3FNUZ: case DT_FLOAT8E5M2: case DT_FLOAT8E5M2FNUZ:
  case DT_FLOAT4E2M1: case DT_FLOAT8E8M0:
    ((uint8_t *)buf)[i] = minifloat_encode(t, v, saturate);
    return;
  default:
    break;
  }
  if (dtype_is_unsigned_int(t)) {
    /* Out-of-range float to integer is undefined in C; ONNX leaves it open
     * too.  Go through int64 so negative values wrap like numpy does. */
    if (v != v) v = 0;
    if (v >= 18446744073709551615.0) dtype_store_u64(t, buf, i, UINT64_MAX);
    else if (v >= 9223372036854775807.0) dtype_store_u64(t, buf, i, (uint64_t)v);
    else if (v <= -9223372036854775808.0) dtype_store_i64(t, buf, i, INT64_MIN);
    else dtype_store_i64(t, buf, i, (int64_t)v);
    return;
  }
  if (v != v) v = 0;
  if (v >= 9223372036854775807.0) dtype_store_i64(t, buf, i, INT64_MAX);
  else if (v <= -9223372036854775808.0) dtype_store_i64(t, buf, i, INT64_MIN);
  else dtype_store_i64(t, buf, i, (int64_t)v);
}

void dtype_store_i64(DType t, void *buf, size_t i, int64_t v) {
  switch (t) {
  case DT_INT64: ((int64_t *)buf)[i] = v; return;
  case DT_UINT64: ((uint64_t *)buf)[i] = (uint64_t)v; return;
  case DT_INT32: ((int32_t *)buf)[i] = (int32_t)(uint32_t)v; return;
  case DT_UINT32: ((uint32_t *)buf)[i] = (uint32_t)v; return;
  case DT_INT16: ((int16_t *)buf)[i] = (int16_t)(uint16_t)v; return;
  case DT_UINT16: ((uint16_t *)buf)[i] = (uint16_t)v; return;
  case DT_INT8: ((int8_t *)buf)[i] = (int8_t)(uint8_t)v; return;
  case DT_UINT8: ((uint8_t *)buf)[i] = (uint8_t)v; return;
  case DT_BOOL: ((uint8_t *)buf)[i] = v != 0; return;
  /* Sub-byte: wrap into range, stored unpacked (sign-extended for signed). */
  case DT_UINT4: ((uint8_t *)buf)[i] = (uint8_t)(v & 0xf); return;
  case DT_UINT2: ((uint8_t *)buf)[i] = (uint8_t)(v & 0x3); return;
  case DT_INT4: ((int8_t *)buf)[i] = (int8_t)(((v & 0xf) ^ 0x8) - 0x8); return;
  case DT_INT2: ((int8_t *)buf)[i] = (int8_t)(((v & 0x3) ^ 0x2) - 0x2); return;
  default: dtype_store_f64(t, buf, i, (double)v, true); return;
  }
}

void dtype_store_u64(DType t, void *buf, size_t i, uint64_t v) {
  if (t == DT_UINT64) ((uint64_t *)buf)[i] = v;
  else if (dtype_is_float(t)) dtype_store_f64(t, buf, i, (double)v, true);
  else dtype_store_i64(t, buf, i, (int64_t)v);
}
