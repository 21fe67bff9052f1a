/*
 * libFuzzer target: the serialized TensorProto reader (frontend/tensor_pb.c,
 * the .pb inputs of onnxc run and of the ONNX node tests) on arbitrary
 * bytes.  External data is refused for a buffer, so no file is touched.
 */
#include <stdlib.h>

#include "../frontend/tensor_pb.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  TensorFile t;
  Error err;
  if (fe_read_tensor_pb_buffer(data, size, "<fuzz>", &t, &err) != ST_OK) return 0;
  size_t numel = 1;
  for (int i = 0; i < t.rank; i++) numel *= (size_t)t.dims[i];
  if (t.nbytes != numel * dtype_size(t.dtype)) abort();
  fe_tensor_file_free(&t);
  return 0;
}
