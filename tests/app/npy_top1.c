/*
 * onnxc_npy_top1 FILE.npy: prints the flat index of the largest element of a
 * float32 .npy file (the top-1 class of a classifier's scores).  A helper
 * of run_app_test.sh, which needs the reference evaluator's top-1 class
 * without depending on Python.
 */
#include <stdio.h>

#include "runtime/npy.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: onnxc_npy_top1 FILE.npy\n");
    return 2;
  }
  NpyArray a;
  Error err = {0};
  if (npy_read(argv[1], &a, &err) != ST_OK) {
    fprintf(stderr, "onnxc_npy_top1: %s\n", err.msg);
    return 1;
  }
  size_t n = a.nbytes / sizeof(float);
  if (a.dtype != DT_FLOAT32 || n == 0) {
    fprintf(stderr, "onnxc_npy_top1: %s: want a non-empty float32 array\n", argv[1]);
    npy_free(&a);
    return 1;
  }
  const float *v = a.data;
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  printf("%zu\n", best);
  npy_free(&a);
  return 0;
}
