/*
 * The LLVM backend: a static, verified Graph becomes one object file (or
 * assembly / LLVM IR text) plus a C header.
 *
 * The driver of the backend sits at the top of codegen/:
 *
 *   emit.c          cg_compile: plan, module, link kernels, optimize, emit,
 *                   header; weights as read-only globals and the entry
 *                   points (<prefix>_run, <prefix>_run_parallel): one call
 *                   per node
 *   parallel.c      the parallel-for hook: task trampolines and the
 *                   dispatch of a partitioned kernel at its call site
 *   memplan.c       workspace offsets from liveness
 *   descriptors.c   constant LLVM mirrors of the nodes the reference kernels read
 *   kernels.c       the reference kernels as embedded bitcode, linked per model
 *   lower.c         the lowering table (op -> specialized lowering)
 *   weights_file.c  --weights=FILE: weights moved out of the .o
 *   target.c        target machine, optimization pipeline, emission
 *   header.c        the generated header
 *
 * and each kernel family has a folder of its own:
 *
 *   gemm/           MatMul, Gemm, FusedMatMul: packed register-tiled GEMM
 *   conv/           Conv, FusedConv, depthwise, pooling, BatchNormalization
 *   attention/      onnxc.Attention: flash-style attention
 *   vec/            loops, vector math, elementwise maps, row kernels
 *                   (softmax, layernorm, reductions), transposes, epilogues
 *
 * A node either has a specialized lowering or calls its op's reference
 * kernel with a constant descriptor of the node (shapes, attributes), so
 * after inlining LLVM specializes the kernel on the static shapes.  Nothing
 * in the .o interprets a graph at run time.
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
  const char *weights_path;  /* NULL: weights embedded; else the weights file to write
                                (see weights_file.h for its layout and entry points) */
  bool print_memory_plan;
  bool print_kernels;        /* one line per node: specialized lowering or reference kernel */
  bool reference_kernels_only; /* no specialized lowering: every node calls its
                                 reference kernel (debugging, benchmarks) */
  double min_task_ns;         /* parallel grain (parallel.h); 0: the default.  Tests pass a
                                tiny value so that every partitioned kernel splits. */
  bool profile;               /* time every node: <prefix>_run_profiled (profile.h) */
  bool sanitize_address;      /* instrument the code with AddressSanitizer (tests: the
                                program must then link with -fsanitize=address) */
  bool sanitize_thread;       /* instrument the code with ThreadSanitizer (tests of the
                                parallel hook: link with -fsanitize=thread) */
  bool time_stages;           /* --time-passes: each backend stage's wall time to log */
  bool release_weights;       /* the graph's adopted weights may be freed once they are in
                                the LLVM module (ir_graph_release_adopted): the caller
                                only frees the graph afterwards */
  /* Called at each stage ("lowering" with nodes done / total, others with
   * total 0) for a progress display; NULL: none. */
  void (*progress)(void *ctx, const char *stage, long done, long total);
  void *progress_ctx;
  FILE *log;                 /* memory plan, kernels, stage times; stderr if NULL */
} CgOptions;

Status cg_compile(Graph *g, const CgOptions *o, Error *err);

/* Makes a C identifier from a file name ("vit-b16.onnx" -> "vit_b16"). */
void cg_sanitize_identifier(const char *in, char *out, size_t size);

#endif
