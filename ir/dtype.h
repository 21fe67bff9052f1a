/*
 * Element types.  The numbering is ONNX's TensorProto.DataType, so the
 * frontend maps types without a table.  Sub-byte types (int4, uint4, int2,
 * uint2, float4e2m1) are stored UNPACKED inside onnxc, one byte per element
 * (signed types sign-extended, float4 as its 4-bit code); only file readers
 * and writers deal with the packed form.
 *
 * dtype_load_f64 / dtype_store_f64 convert one element to and from double;
 * they are the slow, general path used by the reference evaluator for the
 * rare types.  Integer types go through int64/uint64 to stay exact.
 */
#ifndef ONNXC_IR_DTYPE_H
#define ONNXC_IR_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum DType {
  DT_UNDEFINED = 0,
  DT_FLOAT32 = 1,
  DT_UINT8 = 2,
  DT_INT8 = 3,
  DT_UINT16 = 4,
  DT_INT16 = 5,
  DT_INT32 = 6,
  DT_INT64 = 7,
  DT_STRING = 8, /* not supported: refused by the frontend */
  DT_BOOL = 9,
  DT_FLOAT16 = 10,
  DT_FLOAT64 = 11,
  DT_UINT32 = 12,
  DT_UINT64 = 13,
  DT_COMPLEX64 = 14,  /* not supported */
  DT_COMPLEX128 = 15, /* not supported */
  DT_BFLOAT16 = 16,
  DT_FLOAT8E4M3FN = 17,
  DT_FLOAT8E4M3FNUZ = 18,
  DT_FLOAT8E5M2 = 19,
  DT_FLOAT8E5M2FNUZ = 20,
  DT_UINT4 = 21,
  DT_INT4 = 22,
  DT_FLOAT4E2M1 = 23,
  DT_FLOAT8E8M0 = 24,
  DT_UINT2 = 25,
  DT_INT2 = 26,
  DT_COUNT
} DType;

/* True for every type onnxc can hold in a tensor. */
bool dtype_supported(DType t);
/* Bytes per element in onnxc's (unpacked) storage; 0 if unsupported. */
size_t dtype_size(DType t);
/* Short lower-case name used in IR text ("f32", "i64", ...). */
const char *dtype_short_name(DType t);
/* ONNX spelling ("float32", "int64", "float8e4m3fn", ...); also used in npy/header output. */
const char *dtype_name(DType t);
/* Inverse of dtype_short_name / dtype_name; DT_UNDEFINED if unknown. */
DType dtype_from_name(const char *s);

bool dtype_is_float(DType t);    /* any floating type, including 8/4-bit floats */
bool dtype_is_signed_int(DType t);
bool dtype_is_unsigned_int(DType t); /* bool is not an integer here */

/* Element i of a buffer of type t, converted. */
double dtype_load_f64(DType t, const void *buf, size_t i);
int64_t dtype_load_i64(DType t, const void *buf, size_t i);   /* floats truncate toward 0 */
uint64_t dtype_load_u64(DType t, const void *buf, size_t i);
/* Stores v into element i; integers wrap like a C cast, floats round to nearest even.
 * saturate only matters for the float8 types (ONNX Cast's `saturate`). */
void dtype_store_f64(DType t, void *buf, size_t i, double v, bool saturate);
void dtype_store_i64(DType t, void *buf, size_t i, int64_t v);
void dtype_store_u64(DType t, void *buf, size_t i, uint64_t v);

/* IEEE half / bfloat16 helpers (round to nearest even). */
float dtype_half_to_float(uint16_t h);
uint16_t dtype_float_to_half(float f);
float dtype_bf16_to_float(uint16_t h);
uint16_t dtype_float_to_bf16(float f);

#endif
