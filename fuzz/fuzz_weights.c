/*
 * libFuzzer target: the weights-file checks of a compiled model.  A small
 * model (tests/models/cnn_small_op17) is compiled at build time with
 * --weights=fz.bin (and, in sanitizer builds, --sanitize=address, so the
 * generated code's accesses are checked too); the input is taken as a
 * weights file:
 *   fz_weights_check(file, size) must not crash and says 0 only for the
 *   real file (a 64-bit hash collision aside);
 *   fz_run_with_weights(file, ...) must return 0 or 3 (header mismatch),
 *   and 0 whenever the check said 0.
 * The buffer handed to run is padded with zeros to FZ_WEIGHTS_SIZE: run
 * trusts the size it was compiled for (the ABI says to check a file once
 * with fz_weights_check), so a shorter file is the caller's error.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fz.h"

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t cap = round64(size > FZ_WEIGHTS_SIZE ? size : FZ_WEIGHTS_SIZE);
  unsigned char *file = aligned_alloc(FZ_WEIGHTS_ALIGN, cap ? cap : 64);
  static float in[FZ_INPUT_0_SIZE], out[FZ_OUTPUT_0_SIZE];
  void *ws = aligned_alloc(FZ_WORKSPACE_ALIGN, round64(FZ_WORKSPACE_SIZE) + 64);
  if (!file || !ws) abort();
  memset(file, 0, cap);
  memcpy(file, data, size);
  int checked = fz_weights_check(file, size);
  if (checked != 0 && checked != 3) abort();
  const void *ins[1] = {in};
  void *outs[1] = {out};
  int ran = fz_run_with_weights(file, ins, outs, ws);
  if ((ran != 0 && ran != 3) || (checked == 0 && ran != 0)) abort();
  free(file);
  free(ws);
  return 0;
}
