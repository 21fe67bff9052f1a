/*
 * Shared by the libFuzzer targets of fuzz/: the entry point libFuzzer (or
 * replay_main.c, which runs saved inputs as regression tests) calls, and
 * the bounds every target runs under.
 */
#ifndef ONNXC_FUZZ_FUZZ_H
#define ONNXC_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --max-tensor-bytes of the fuzzed pipeline: with folding's own bound it
 * keeps every input within libFuzzer's -rss_limit_mb=2048. */
#define FUZZ_MAX_TENSOR_BYTES ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* /dev/null, opened once: printers run for coverage, not for output. */
static inline FILE *fuzz_sink(void) {
  static FILE *sink;
  if (!sink) sink = fopen("/dev/null", "w");
  return sink ? sink : stderr;
}

#endif
