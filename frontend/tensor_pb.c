/*
 * TensorProto decoding: initializers, Constant/ConstantOfShape tensors and
 * the standalone .pb files of the conformance tests all come through
 * fe_tensor_decode.  Output is onnxc's storage form: native byte order, one
 * element per dtype_size bytes, sub-byte types unpacked (signed ones sign
 * extended).  Every count coming from the file is checked against the
 * declared shape before anything is copied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

Status fe_dtype_from_onnx(int64_t elem_type, DType *out, Error *err) {
  if (elem_type <= 0 || elem_type >= DT_COUNT) {
    if (elem_type == 27 || elem_type == 28)
      return err_set(err, ST_UNSUPPORTED, "element type %s is not supported",
                     elem_type == 27 ? "float6e2m3" : "float6e3m2");
    return err_set(err, elem_type == 0 ? ST_INVALID : ST_UNSUPPORTED,
                   "element type %" PRId64 " is %s", elem_type,
                   elem_type == 0 ? "undefined" : "not supported");
  }
  DType dt = (DType)elem_type;
  if (!dtype_supported(dt))
    return err_set(err, ST_UNSUPPORTED, "element type %s is not supported", dtype_name(dt));
  *out = dt;
  return ST_OK;
}

static int sub_byte_bits(DType dt) {
  switch (dt) {
  case DT_INT4: case DT_UINT4: case DT_FLOAT4E2M1: return 4;
  case DT_INT2: case DT_UINT2: return 2;
  default: return 0;
  }
}

size_t fe_packed_size(DType dt, size_t numel) {
  int bits = sub_byte_bits(dt);
  if (bits) return (numel * (size_t)bits + 7) / 8;
  return numel * dtype_size(dt);
}

static bool host_little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

/* Element i of a packed sub-byte array, unpacked to one byte. */
static uint8_t sub_byte_get(DType dt, const uint8_t *bytes, size_t i) {
  int bits = sub_byte_bits(dt);
  size_t per = 8 / (size_t)bits;
  unsigned v = (bytes[i / per] >> ((i % per) * (size_t)bits)) & ((1u << bits) - 1);
  if (dt == DT_INT4 && (v & 8)) v |= 0xF0;
  if (dt == DT_INT2 && (v & 2)) v |= 0xFC;
  return (uint8_t)v;
}

void fe_unpack_raw(DType dt, const uint8_t *bytes, size_t numel, void *dst) {
  uint8_t *d = dst;
  if (sub_byte_bits(dt)) {
    for (size_t i = 0; i < numel; i++) d[i] = sub_byte_get(dt, bytes, i);
    return;
  }
  size_t es = dtype_size(dt);
  if (dt == DT_BOOL) {
    for (size_t i = 0; i < numel; i++) d[i] = bytes[i] != 0;
    return;
  }
  if (host_little_endian() || es == 1) {
    memcpy(d, bytes, numel * es);
    return;
  }
  for (size_t i = 0; i < numel; i++)
    for (size_t b = 0; b < es; b++) d[i * es + b] = bytes[i * es + es - 1 - b];
}

/* Stores the low bits of an int32_data entry as element i. */
static void store_from_int32(DType dt, void *dst, size_t i, int32_t v) {
  switch (dtype_size(dt)) {
  case 1: ((uint8_t *)dst)[i] = (uint8_t)(uint32_t)v; break;
  case 2: ((uint16_t *)dst)[i] = (uint16_t)(uint32_t)v; break;
  default: ((int32_t *)dst)[i] = v; break;
  }
}

static Status count_error(Error *err, const char *field, size_t have, size_t want) {
  return err_set(err, ST_INVALID, "%s has %zu values, expected %zu", field, have, want);
}

/* The typed-field path: one field must hold exactly numel values (or the
 * packed count for sub-byte types in int32_data). */
static Status decode_typed(const Onnx__TensorProto *t, DType dt, size_t numel, void *dst,
                           Error *err) {
  switch (dt) {
  case DT_FLOAT32:
    if (t->n_float_data != numel) return count_error(err, "float_data", t->n_float_data, numel);
    if (numel) memcpy(dst, t->float_data, numel * sizeof(float));
    return ST_OK;
  case DT_FLOAT64:
    if (t->n_double_data != numel)
      return count_error(err, "double_data", t->n_double_data, numel);
    if (numel) memcpy(dst, t->double_data, numel * sizeof(double));
    return ST_OK;
  case DT_INT64:
    if (t->n_int64_data != numel) return count_error(err, "int64_data", t->n_int64_data, numel);
    if (numel) memcpy(dst, t->int64_data, numel * sizeof(int64_t));
    return ST_OK;
  case DT_UINT32:
    if (t->n_uint64_data != numel)
      return count_error(err, "uint64_data", t->n_uint64_data, numel);
    for (size_t i = 0; i < numel; i++) ((uint32_t *)dst)[i] = (uint32_t)t->uint64_data[i];
    return ST_OK;
  case DT_UINT64:
    if (t->n_uint64_data != numel)
      return count_error(err, "uint64_data", t->n_uint64_data, numel);
    if (numel) memcpy(dst, t->uint64_data, numel * sizeof(uint64_t));
    return ST_OK;
  default:
    break;
  }
  int bits = sub_byte_bits(dt);
  if (bits) {
    /* One packed byte per int32 entry (2 or 4 elements). */
    size_t want = fe_packed_size(dt, numel);
    if (t->n_int32_data != want) return count_error(err, "int32_data", t->n_int32_data, want);
    uint8_t *packed = malloc(want ? want : 1);
    if (!packed) return err_set(err, ST_NOMEM, "out of memory");
    for (size_t i = 0; i < want; i++) packed[i] = (uint8_t)(uint32_t)t->int32_data[i];
    fe_unpack_raw(dt, packed, numel, dst);
    free(packed);
    return ST_OK;
  }
  if (t->n_int32_data != numel) return count_error(err, "int32_data", t->n_int32_data, numel);
  for (size_t i = 0; i < numel; i++) {
    int32_t v = t->int32_data[i];
    store_from_int32(dt, dst, i, dt == DT_BOOL ? (v != 0) : v);
  }
  return ST_OK;
}

/* Which typed field holds dt, how many entries it has, how many it needs. */
static const char *typed_field(DType dt) {
  switch (dt) {
  case DT_FLOAT32: return "float_data";
  case DT_FLOAT64: return "double_data";
  case DT_INT64: return "int64_data";
  case DT_UINT32: case DT_UINT64: return "uint64_data";
  default: return "int32_data";
  }
}

static size_t typed_count(const Onnx__TensorProto *t, DType dt) {
  switch (dt) {
  case DT_FLOAT32: return t->n_float_data;
  case DT_FLOAT64: return t->n_double_data;
  case DT_INT64: return t->n_int64_data;
  case DT_UINT32: case DT_UINT64: return t->n_uint64_data;
  default: return t->n_int32_data;
  }
}

static size_t typed_want(DType dt, size_t numel) {
  return sub_byte_bits(dt) ? fe_packed_size(dt, numel) : numel;
}

static bool has_typed_data(const Onnx__TensorProto *t) {
  return t->n_float_data || t->n_int32_data || t->n_int64_data || t->n_double_data ||
         t->n_uint64_data || t->n_string_data;
}

Status fe_tensor_decode(const Onnx__TensorProto *t, const char *base_dir, TensorFile *out,
                        Error *err) {
  memset(out, 0, sizeof *out);
  if (!t) return err_set(err, ST_INVALID, "missing tensor");
  if (!t->has_data_type) return err_set(err, ST_INVALID, "tensor has no data_type");
  DType dt;
  TRY(fe_dtype_from_onnx(t->data_type, &dt, err));
  if (t->n_dims > IR_MAX_RANK)
    return err_set(err, ST_UNSUPPORTED, "tensor rank %zu is above %d", t->n_dims, IR_MAX_RANK);
  if (t->segment) return err_set(err, ST_UNSUPPORTED, "segmented tensors are not supported");
  int64_t numel = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    int64_t d = t->dims[i];
    if (d < 0) return err_set(err, ST_INVALID, "tensor dim %zu is negative (%" PRId64 ")", i, d);
    if (d > 0 && numel > IR_MAX_NUMEL / d)
      return err_set(err, ST_INVALID, "tensor has more than 2^40 elements");
    numel *= d;
    out->dims[i] = d;
  }
  out->rank = (int)t->n_dims;
  out->dtype = dt;
  size_t n = (size_t)numel;
  size_t nbytes = n * dtype_size(dt); /* <= 2^40 * 8: no overflow on 64-bit size_t */
  size_t packed = fe_packed_size(dt, n);
  bool external = t->has_data_location &&
                  t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  /* Everything is checked against what the file really holds before the
   * (possibly huge) output buffer is allocated. */
  uint8_t *ext = NULL;
  if (external) {
    TRY(fe_external_read(t, base_dir, packed, &ext, err));
  } else if (t->has_raw_data) {
    if (t->raw_data.len != packed)
      return err_set(err, ST_INVALID, "raw_data has %zu bytes, expected %zu for %" PRId64
                     " elements of %s", t->raw_data.len, packed, numel, dtype_name(dt));
  } else if (n > 0 && typed_count(t, dt) != typed_want(dt, n)) {
    return count_error(err, typed_field(dt), typed_count(t, dt), typed_want(dt, n));
  }
  /* 64-byte aligned like the IR's arena: the loader hands this block to
   * the graph as the constant's storage (ir_const_adopt). */
  void *data = aligned_alloc(64, (nbytes + 63) / 64 * 64 + (nbytes ? 0 : 64));
  if (!data) {
    free(ext);
    return err_set(err, ST_NOMEM, "out of memory for a %zu-byte tensor", nbytes);
  }
  Status st = ST_OK;
  if (external) {
    fe_unpack_raw(dt, ext, n, data);
    free(ext);
  } else if (t->has_raw_data) {
    if (n) fe_unpack_raw(dt, t->raw_data.data, n, data);
  } else if (n > 0 || has_typed_data(t)) {
    st = decode_typed(t, dt, n, data, err);
  }
  if (st != ST_OK) {
    free(data);
    return st;
  }
  out->name = strdup(t->name ? t->name : "");
  if (!out->name) {
    free(data);
    return err_set(err, ST_NOMEM, "out of memory");
  }
  out->data = data;
  out->nbytes = nbytes;
  return ST_OK;
}

Status fe_read_tensor_pb_buffer(const void *buf, size_t len, const char *source, TensorFile *out,
                                Error *err) {
  memset(out, 0, sizeof *out);
  if (!source) source = "<memory>";
  if (len > FE_MAX_MODEL_BYTES)
    return err_set(err, ST_NOMEM, "%s: file of %zu bytes is above the %zu-byte limit", source,
                   len, (size_t)FE_MAX_MODEL_BYTES);
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
  if (!t) return err_set(err, ST_PARSE, "%s: not a valid TensorProto (truncated or corrupt)", source);
  Status st = fe_tensor_decode(t, NULL, out, err);
  onnx__tensor_proto__free_unpacked(t, NULL);
  if (st != ST_OK) err_prefix(err, "%s", source);
  return st;
}

/* Reads a whole file into a malloc'ed buffer, bounded by limit. */
Status fe_read_file(const char *path, size_t limit, void **out, size_t *len, Error *err) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, ST_IO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return err_set(err, ST_NOMEM, "%s: out of memory", path);
  }
  for (;;) {
    if (n == cap) {
      if (cap > limit) {
        free(buf);
        fclose(f);
        return err_set(err, ST_NOMEM, "%s: file is above the %zu-byte limit", path, limit);
      }
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        fclose(f);
        return err_set(err, ST_NOMEM, "%s: out of memory", path);
      }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (k == 0) break;
  }
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return err_set(err, ST_IO, "%s: read error", path);
  }
  if (n > limit) {
    free(buf);
    return err_set(err, ST_NOMEM, "%s: file is above the %zu-byte limit", path, limit);
  }
  *out = buf;
  *len = n;
  return ST_OK;
}

Status fe_read_tensor_pb(const char *path, TensorFile *out, Error *err) {
  memset(out, 0, sizeof *out);
  void *buf;
  size_t len;
  TRY(fe_read_file(path, FE_MAX_MODEL_BYTES, &buf, &len, err));
  Status st = fe_read_tensor_pb_buffer(buf, len, path, out, err);
  free(buf);
  return st;
}

void fe_tensor_file_free(TensorFile *t) {
  if (!t) return;
  free(t->data);
  free(t->name);
  t->data = NULL;
  t->name = NULL;
}
