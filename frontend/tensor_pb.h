/*
 * ONNX TensorProto decoding, shared by initializers and by standalone .pb
 * tensor files (the conformance tests' input_0.pb / output_0.pb, and
 * `onnxc run --input x=file.pb`).  Handles raw_data (little endian) and the
 * typed fields (float_data, int32_data, int64_data, double_data,
 * uint64_data), packed sub-byte types (unpacked to one byte per element),
 * float16/bfloat16 stored in int32_data, and external data.
 */
#ifndef ONNXC_FRONTEND_TENSOR_PB_H
#define ONNXC_FRONTEND_TENSOR_PB_H

#include <stddef.h>
#include <stdint.h>

#include "../ir/graph.h"

typedef struct TensorFile {
  char *name;      /* TensorProto.name (may be empty) */
  DType dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *data;      /* malloc'ed, unpacked storage (dtype_size per element) */
  size_t nbytes;
} TensorFile;

/* Reads a serialized TensorProto file.  ST_UNSUPPORTED for string /
 * complex types (named in the message). */
Status fe_read_tensor_pb(const char *path, TensorFile *out, Error *err);
Status fe_read_tensor_pb_buffer(const void *buf, size_t len, const char *source, TensorFile *out,
                                Error *err);
void fe_tensor_file_free(TensorFile *t);

#endif
