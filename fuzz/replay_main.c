/*
 * A main for the fuzz targets outside libFuzzer: runs
 * LLVMFuzzerTestOneInput once on each file named on the command line.  The
 * normal build links every target with it and runs the inputs saved in
 * tests/fuzz/<target>/ (past findings and a few seeds) as regression tests,
 * under ASan in the sanitizer build.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      perror(argv[i]);
      return 1;
    }
    size_t cap = 1 << 16, len = 0, k;
    unsigned char *buf = malloc(cap);
    while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
      len += k;
      if (len < cap) continue;
      unsigned char *bigger = realloc(buf, cap * 2);
      if (!bigger) free(buf);
      buf = bigger;
      cap *= 2;
    }
    fclose(f);
    if (!buf) {
      fprintf(stderr, "%s: out of memory\n", argv[i]);
      return 1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    printf("ok %s\n", argv[i]);
  }
  return 0;
}
