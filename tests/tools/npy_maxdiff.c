/*
 * onnxc_npy_maxdiff GOT.npy WANT.npy: prints "MAX_ABS_ERR MAX_ABS_REF" for
 * two float32 .npy files of the same shape.  A helper of
 * scripts/gen-docs.sh, whose fixture table needs onnxc run's error against
 * PyTorch's output without depending on Python.
 */
#include <math.h>
#include <stdio.h>

#include "runtime/npy.h"

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "onnxc_npy_maxdiff: %s%s\n", what, detail);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: onnxc_npy_maxdiff GOT.npy WANT.npy\n");
    return 2;
  }
  NpyArray got, want;
  Error err = {0};
  if (npy_read(argv[1], &got, &err) != ST_OK) return fail(err.msg, "");
  if (npy_read(argv[2], &want, &err) != ST_OK) {
    npy_free(&got);
    return fail(err.msg, "");
  }
  int rc = 0;
  if (got.dtype != DT_FLOAT32 || want.dtype != DT_FLOAT32 || got.nbytes != want.nbytes) {
    rc = fail("want two float32 arrays of one size: ", argv[1]);
  } else {
    const float *a = got.data, *b = want.data;
    double err_max = 0, ref_max = 0;
    for (size_t i = 0; i < got.nbytes / sizeof(float); i++) {
      double e = fabs((double)a[i] - (double)b[i]);
      if (!(e <= err_max)) err_max = e; /* NaN makes it NaN */
      if (fabs((double)b[i]) > ref_max) ref_max = fabs((double)b[i]);
    }
    printf("%.3g %.3g\n", err_max, ref_max);
  }
  npy_free(&got);
  npy_free(&want);
  return rc;
}
