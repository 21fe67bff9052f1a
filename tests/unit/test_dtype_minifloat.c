/*
 * Unit tests of ir/dtype_minifloat.c: decoding of table values of each
 * float8 / float4 format (from the formats' definitions in the ONNX spec),
 * encode(decode(c)) == c for every code, round-to-nearest-even ties in the
 * normal and subnormal ranges, saturate on and off, and float8e8m0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "ir/dtype.h"
#include "ir/dtype_minifloat.h"

typedef struct Case {
  DType t;
  uint8_t code;
  double value;
} Case;

static void decode_table(void **state) {
  (void)state;
  static const Case cases[] = {
      {DT_FLOAT8E4M3FN, 0x38, 1.0},        {DT_FLOAT8E4M3FN, 0x7E, 448.0},
      {DT_FLOAT8E4M3FN, 0x01, 0x1p-9},     {DT_FLOAT8E4M3FN, 0x08, 0x1p-6},
      {DT_FLOAT8E4M3FN, 0xC0, -2.0},       {DT_FLOAT8E4M3FNUZ, 0x40, 1.0},
      {DT_FLOAT8E4M3FNUZ, 0x7F, 240.0},    {DT_FLOAT8E4M3FNUZ, 0x01, 0x1p-10},
      {DT_FLOAT8E4M3FNUZ, 0xC0, -1.0},     {DT_FLOAT8E5M2, 0x3C, 1.0},
      {DT_FLOAT8E5M2, 0x7B, 57344.0},      {DT_FLOAT8E5M2, 0x01, 0x1p-16},
      {DT_FLOAT8E5M2, 0x7C, INFINITY},     {DT_FLOAT8E5M2, 0xFC, -INFINITY},
      {DT_FLOAT8E5M2FNUZ, 0x40, 1.0},      {DT_FLOAT8E5M2FNUZ, 0x7F, 57344.0},
      {DT_FLOAT8E5M2FNUZ, 0x01, 0x1p-17},  {DT_FLOAT4E2M1, 0x1, 0.5},
      {DT_FLOAT4E2M1, 0x2, 1.0},           {DT_FLOAT4E2M1, 0x3, 1.5},
      {DT_FLOAT4E2M1, 0x5, 3.0},           {DT_FLOAT4E2M1, 0x7, 6.0},
      {DT_FLOAT4E2M1, 0xF, -6.0},          {DT_FLOAT8E8M0, 127, 1.0},
      {DT_FLOAT8E8M0, 0, 0x1p-127},        {DT_FLOAT8E8M0, 254, 0x1p127},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    double got = minifloat_decode(cases[i].t, cases[i].code);
    if (got != cases[i].value)
      fail_msg("%s code 0x%02x: got %g, want %g", dtype_name(cases[i].t), cases[i].code, got,
               cases[i].value);
  }
  assert_true(isnan(minifloat_decode(DT_FLOAT8E4M3FN, 0x7F)));
  assert_true(isnan(minifloat_decode(DT_FLOAT8E4M3FN, 0xFF)));
  assert_true(isnan(minifloat_decode(DT_FLOAT8E4M3FNUZ, 0x80)));
  assert_true(isnan(minifloat_decode(DT_FLOAT8E5M2, 0x7E)));
  assert_true(isnan(minifloat_decode(DT_FLOAT8E5M2FNUZ, 0x80)));
  assert_true(isnan(minifloat_decode(DT_FLOAT8E8M0, 0xFF)));
  assert_true(signbit(minifloat_decode(DT_FLOAT8E4M3FN, 0x80)));
}

static void round_trip_every_code(void **state) {
  (void)state;
  static const DType types[] = {DT_FLOAT8E4M3FN, DT_FLOAT8E4M3FNUZ, DT_FLOAT8E5M2,
                                DT_FLOAT8E5M2FNUZ, DT_FLOAT4E2M1, DT_FLOAT8E8M0};
  for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
    int ncodes = types[k] == DT_FLOAT4E2M1 ? 16 : 256;
    for (int c = 0; c < ncodes; c++) {
      double v = minifloat_decode(types[k], (uint8_t)c);
      if (isnan(v)) continue;
      for (int sat = 0; sat < 2; sat++) {
        if (isinf(v) && sat) continue; /* saturate maps infinity to max: tested below */
        uint8_t back = minifloat_encode(types[k], v, sat);
        if (back != c)
          fail_msg("%s code 0x%02x (%g, saturate=%d) re-encodes to 0x%02x", dtype_name(types[k]),
                   c, v, sat, back);
      }
    }
  }
}

static void round_to_nearest_even(void **state) {
  (void)state;
  /* 1 + 1/16 lies halfway between 1.0 (0x38) and 1.125 (0x39): even wins */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 1.0625, true), 0x38);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 1.1875, true), 0x3A);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 1.07, true), 0x39);
  /* 0.48 = 1.92 * 2^-2 -> mantissa 7.36 -> 7: code 0x2F */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 0.48, true), 0x2F);
  /* subnormals: 2^-10 is half the smallest e4m3fn subnormal -> 0;
   * 3 * 2^-10 is 1.5 of them -> 2 (even) */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 0x1p-10, true), 0x00);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 3 * 0x1p-10, true), 0x02);
  /* the largest subnormal rounds up into the smallest normal */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 0x1p-6 - 0x1p-12, true), 0x08);
  /* float4e2m1: 0.25 -> 0, 0.75 -> 1.0, 2.5 -> 2.0, 5 -> 6, -3.5 -> -4 */
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, 0.25, true), 0x0);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, 0.75, true), 0x2);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, 2.5, true), 0x4);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, 5.0, true), 0x6);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, -3.5, true), 0xE);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2, 1000.0, true), 0x64);
}

static void saturation_and_specials(void **state) {
  (void)state;
  /* ONNX Cast table: out of range saturates to +-max with saturate=1;
   * without it e4m3fn gives NaN, e5m2 infinity, the fnuz formats NaN (0x80) */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 1e6, true), 0x7E);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, 1e6, false), 0x7F);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, -1e6, false), 0xFF);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, INFINITY, true), 0x7E);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FNUZ, -INFINITY, true), 0xFF);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FNUZ, INFINITY, false), 0x80);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2, 1e6, true), 0x7B);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2, 1e6, false), 0x7C);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2, -INFINITY, false), 0xFC);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2FNUZ, 1e6, false), 0x80);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2FNUZ, -1e6, true), 0xFF);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, 100.0, false), 0x7);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, -INFINITY, true), 0xF);
  /* NaN codes */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, NAN, true), 0x7F);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FNUZ, NAN, true), 0x80);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2, NAN, true), 0x7E);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2FNUZ, NAN, true), 0x80);
  /* negative zero exists except in the fnuz formats */
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FN, -1e-7, true), 0x80);
  assert_int_equal(minifloat_encode(DT_FLOAT8E4M3FNUZ, -1e-7, true), 0x00);
  assert_int_equal(minifloat_encode(DT_FLOAT8E5M2FNUZ, -0.0, true), 0x00);
  assert_int_equal(minifloat_encode(DT_FLOAT4E2M1, -0.0, true), 0x8);
}

static void e8m0(void **state) {
  (void)state;
  assert_int_equal(minifloat_encode(DT_FLOAT8E8M0, 1.0, true), 127);
  assert_int_equal(minifloat_encode(DT_FLOAT8E8M0, 1.1, true), 128); /* default: up */
  assert_int_equal(minifloat_encode(DT_FLOAT8E8M0, 0.25, true), 125);
  assert_int_equal(minifloat_encode(DT_FLOAT8E8M0, 0.0, true), 0);
  assert_int_equal(minifloat_encode_e8m0(3.0, true, MINIFLOAT_ROUND_DOWN), 128);
  assert_int_equal(minifloat_encode_e8m0(3.0, true, MINIFLOAT_ROUND_NEAREST), 129);
  assert_int_equal(minifloat_encode_e8m0(2.9, true, MINIFLOAT_ROUND_NEAREST), 128);
  assert_int_equal(minifloat_encode_e8m0(INFINITY, true, MINIFLOAT_ROUND_UP), 0xFE);
  assert_int_equal(minifloat_encode_e8m0(INFINITY, false, MINIFLOAT_ROUND_UP), 0xFF);
  assert_int_equal(minifloat_encode_e8m0(0x1p200, true, MINIFLOAT_ROUND_UP), 0xFE);
  assert_int_equal(minifloat_encode_e8m0(0x1p200, false, MINIFLOAT_ROUND_UP), 0xFF);
  assert_int_equal(minifloat_encode_e8m0(NAN, true, MINIFLOAT_ROUND_UP), 0xFF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decode_table),
      cmocka_unit_test(round_trip_every_code),
      cmocka_unit_test(round_to_nearest_even),
      cmocka_unit_test(saturation_and_specials),
      cmocka_unit_test(e8m0),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
