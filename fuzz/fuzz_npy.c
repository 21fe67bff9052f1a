/*
 * libFuzzer target: the .npy reader (runtime/npy.c, used by onnxc run and
 * by programs linking a generated object) on arbitrary bytes.  A file it
 * accepts must describe exactly the bytes it returns.
 */
#include <stdlib.h>

#include "../runtime/npy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  NpyArray a;
  Error err;
  if (npy_read_buffer(data, size, "<fuzz>", &a, &err) != ST_OK) return 0;
  size_t numel = 1;
  for (int i = 0; i < a.rank; i++) numel *= (size_t)a.dims[i];
  if (a.rank < 0 || a.rank > NPY_MAX_RANK || a.nbytes != numel * dtype_size(a.dtype) ||
      a.nbytes > size)
    abort(); /* an accepted header that does not match its data */
  npy_free(&a);
  return 0;
}
