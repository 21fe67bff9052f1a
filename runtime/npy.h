/*
 * .npy tensor files (NumPy format 1.0/2.0/3.0, C order, little endian):
 * float32, float64, int64, int32, int8, uint8, bool, float16 ...
 * Used by `onnxc run` and by programs that link a generated .o; plain C,
 * no dependency beyond libc.
 */
#ifndef ONNXC_RUNTIME_NPY_H
#define ONNXC_RUNTIME_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "../ir/dtype.h"
#include "../ir/status.h"

#define NPY_MAX_RANK 8

typedef struct NpyArray {
  DType dtype;
  int rank;
  int64_t dims[NPY_MAX_RANK];
  void *data;     /* malloc'ed; free with npy_free */
  size_t nbytes;
} NpyArray;

Status npy_read(const char *path, NpyArray *out, Error *err);
Status npy_read_buffer(const void *buf, size_t len, const char *source, NpyArray *out, Error *err);
Status npy_write(const char *path, DType dt, int rank, const int64_t *dims, const void *data,
                 Error *err);
void npy_free(NpyArray *a);

#endif
