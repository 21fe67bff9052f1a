/*
 * The LLVM backend: a static, verified Graph becomes one object file (or
 * assembly / LLVM IR text) plus a C header.
 *
 *   memplan.c   workspace offsets from liveness
 *   layout.c    LLVM mirrors of the IR structs the kernels read
 *   weights.c   constants as 64-byte aligned read-only globals
 *   kernels.c   the reference kernels as embedded bitcode, linked per model
 *   emit.c      the <prefix>_run entry point: one direct call per node
 *   target.c    target machine, optimization pipeline, emission
 *   header.c    the generated header
 *
 * Every node calls its op's kernel with a constant descriptor of the node
 * (shapes, attributes), so after inlining LLVM specializes the kernel on
 * the static shapes.  Nothing in the .o interprets a graph at run time.
 */
#ifndef ONNXC_CODEGEN_CODEGEN_H
#define ONNXC_CODEGEN_CODEGEN_H

#include <stdbool.h>
#include <stdio.h>

#include "../ir/graph.h"

typedef enum CgEmit { CG_EMIT_OBJ, CG_EMIT_ASM, CG_EMIT_LLVM } CgEmit;

typedef struct CgOptions {
  const char *prefix;        /* C identifier for functions; upper-cased for macros */
  const char *triple;        /* NULL: host */
  const char *cpu;           /* NULL or "native": host CPU */
  const char *features;      /* "+avx2,+fma" etc.; NULL: those of cpu */
  int opt_level;             /* 0..3 */
  CgEmit emit;
  const char *output_path;
  const char *header_path;   /* NULL: no header */
  const char *model_path;    /* for the header banner */
  const char *command_line;  /* for the header banner */
  bool print_memory_plan;
  bool print_kernels;        /* one line per node: specialized lowering or reference kernel */
  bool reference_kernels_only; /* no specialized lowering: every node calls its
                                 reference kernel (debugging, benchmarks) */
  FILE *log;                 /* memory plan output; stderr if NULL */
} CgOptions;

Status cg_compile(Graph *g, const CgOptions *o, Error *err);

/* Makes a C identifier from a file name ("vit-b16.onnx" -> "vit_b16"). */
void cg_sanitize_identifier(const char *in, char *out, size_t size);

#endif
