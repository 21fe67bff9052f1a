/*
 * Specialized lowerings: hand-built LLVM IR (explicit vector types) for the
 * ops where the time goes.  emit.c asks cg_lower_node first; a lowering that
 * does not cover a node (dtype, attribute combination, shape) sets
 * *handled = false and the node falls back to its reference kernel
 * specialized through a constant descriptor (see descriptors.h).
 *
 * A lowering usually emits one internal function per node (named
 * "onnxc.<op>.<node id>", taking the data pointers) and a call to it at the
 * builder's position in <prefix>_run, so each kernel is optimized on its
 * own with all shapes constant.
 *
 * Adding a lowering: write `Status cg_lower_<fn>(CgCtx*, const Node*, ...)`
 * in codegen/<family>/lower_<op>.c and add it to the table in lower.c.
 */
#ifndef ONNXC_CODEGEN_LOWER_H
#define ONNXC_CODEGEN_LOWER_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <stdbool.h>

#include "../ir/graph.h"

/* Weight slots of a partitioned kernel (parallel.h): trailing pointer
 * parameters through which the kernel reads its weights, so that the
 * kernels of nodes with the same shapes are the same function and LLVM's
 * mergefunc keeps one (compile time: HRFormer-T's 112 1x1 convs). */
enum { CG_KERNEL_WEIGHT_SLOTS = 4 };

typedef struct CgKernelSlots {
  LLVMValueRef fn;
  LLVMValueRef global[CG_KERNEL_WEIGHT_SLOTS]; /* NULL: unused (passed as null) */
} CgKernelSlots;

/* What the parallel dispatch decided for the last node (--print-kernels). */
typedef struct CgParInfo {
  bool partitioned;          /* the lowering emitted a partitioned kernel */
  int64_t units;             /* its independent pieces */
  int64_t max_tasks;         /* at most this many tasks (1: always inline) */
  double cost_ns;            /* estimated single-core time */
} CgParInfo;

typedef struct CgCtx {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;          /* positioned inside <prefix>_run where the node's code goes */
  LLVMValueRef run_fn;       /* <prefix>_run */
  LLVMTargetDataRef td;
  const Graph *g;
  int vf32;                  /* float32 lanes of the target's preferred vector: 16, 8 or 4 */
  bool has_fma;
  /* 512-bit FMAs run as two 256-bit halves (AMD Zen 4): 8-lane vectors
   * then lose no FMA throughput, so a kernel may pick them to waste fewer
   * lanes on a short dimension. */
  bool split_512;
  int counter;               /* for unique names */
  bool reference_only;       /* CgOptions.reference_kernels_only */
  /* The workspace region the memory plan reserved for the node being
   * lowered (cg_lowered_scratch_bytes), or NULL. */
  LLVMValueRef scratch;
  size_t scratch_bytes;
  /* The parallel dispatch (parallel.h), valid at positions in the run body. */
  LLVMValueRef par_threads;  /* i64: tasks the caller's hook may run at once (1 without one) */
  LLVMValueRef par_hook;     /* the hook's parallel_for and runner (loaded when threads > 1) */
  LLVMValueRef par_runner;
  LLVMValueRef par_ctx;      /* the run body's context block */
  double min_task_ns;        /* the grain */
  CgParInfo par_last;
  CgKernelSlots *slots;      /* per partitioned kernel with weight slots (cg_kernel_weight) */
  int num_slots, cap_slots;
} CgCtx;

/* in[i] / out[i]: i8 pointers (LLVM values valid at the builder's position)
 * to the data of n->inputs[i] / n->outputs[i], NULL for absent ones. */
typedef Status (*CgLowerFn)(CgCtx *c, const Node *n, LLVMValueRef const in[],
                            LLVMValueRef const out[], bool *handled, Error *err);

Status cg_lower_node(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err);
/* Workspace bytes a lowering of n needs beyond its inputs and outputs
 * (memplan.c reserves them; the lowering finds them in CgCtx.scratch). */
size_t cg_lowered_scratch_bytes(const Node *n);

/* ---- the lowerings (codegen/<family>/lower_*.c) ---- */
Status cg_lower_matmul(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_gemm(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_abs(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_neg(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_relu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_leaky_relu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_sigmoid(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_tanh(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_erf(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_exp(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_log(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_sqrt(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_reciprocal(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_gelu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_hard_sigmoid(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_hard_swish(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_clip(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_add(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_sub(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_mul(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_div(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_pow(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_max(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_min(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_where(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_softmax(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_log_softmax(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_layer_normalization(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_reduce_mean(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_reduce_sum(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_reduce_max(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_transpose(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_concat(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_slice(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_gather(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_cast(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_conv(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_max_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_average_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_global_average_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_global_max_pool(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_batch_normalization(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_conv_transpose(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_resize(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_pad(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_split(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);

Status cg_lower_fused_conv(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_fused_matmul(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_silu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_fused_elementwise(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);
Status cg_lower_attention(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], bool *handled, Error *err);

/* ---- helpers for lowerings (lower.c) ---- */
/* A new private, read-only, 64-byte aligned global holding a copy of bytes
 * (e.g. weights re-packed into a micro-kernel's panel layout). */
LLVMValueRef cg_const_blob(CgCtx *c, const void *data, size_t bytes, const char *tag);
/* The same for data derived from the model's weights (packed panels, folded
 * scales): with --weights=FILE it goes to the weights file, not the .o. */
LLVMValueRef cg_weight_blob(CgCtx *c, const void *data, size_t bytes, const char *tag);
/* Inside partitioned kernel fn (cg_begin_par_kernel): the parameter that
 * carries weight global g, which the kernel's call passes.  g itself when
 * fn's slots are used up or memory runs out (correct, only not shared). */
LLVMValueRef cg_kernel_weight(CgCtx *c, LLVMValueRef fn, LLVMValueRef g);
/* Frees the slot table. */
void cg_kernel_slots_free(CgCtx *c);
/* Starts an internal function `onnxc.<tag>.<k>` returning void with nptr
 * pointer parameters (noalias where noalias is true), positions a NEW
 * builder (returned in *fb) at its entry; *fn receives the function. */
void cg_begin_kernel(CgCtx *c, const char *tag, int nptr, bool noalias, LLVMValueRef *fn,
                     LLVMBuilderRef *fb);
/* Emits the call fn(args...) at c->b. */
void cg_call_kernel(CgCtx *c, LLVMValueRef fn, LLVMValueRef const args[], int nargs);
/* Target facts from cpu name and feature string. */
void cg_target_vector_facts(const char *triple, const char *cpu, const char *features, int *vf32,
                            bool *has_fma);

#endif
