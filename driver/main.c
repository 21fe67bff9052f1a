/* onnxc command-line driver (placeholder until written). */
#include <stdio.h>

int main(void) { puts("onnxc " ONNXC_VERSION); return 0; }
