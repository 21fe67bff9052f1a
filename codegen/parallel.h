/*
 * Running a node's kernel on several threads through the caller's hook
 * (the onnxc_parallel struct of the generated header, docs/ABI.md).
 *
 * A partitioned kernel is an internal function whose work is `units`
 * independent pieces (rows, tiles, planes: the lowering decides, from the
 * static shapes, at compile time); it takes two trailing i64 parameters and
 * runs units [lo, hi).  Every unit's arithmetic is the same whatever range
 * it is run in, so outputs are bit-identical for every thread count and
 * every order in which the hook runs the tasks.
 *
 * At the call site (cg_call_par_kernel) the grain rule decides, at compile
 * time, how many tasks the node may be split into: at most one per
 * `min_task_ns` of its estimated single-core time (cg_cost_ns), and never
 * more than it has units.  A node that may not be split at all is called
 * inline on [0, units), exactly as a serial build would.  Otherwise the run
 * body stores the kernel's arguments in its context block and, at run time,
 * with T = min(threads, max tasks):
 *
 *   T > 1:  par->parallel_for(par->runner, T, task, ctx)
 *   T == 1: task(ctx, 0, 0)
 *
 * where task(ctx, i, worker) is a trampoline that runs the contiguous
 * share [i*U/T, (i+1)*U/T) of the U units.  Slot 0 of the context block
 * holds the weights base (NULL with embedded weights; see weights_file.h),
 * slot 1 holds T, the rest the kernel's pointer arguments.
 */
#ifndef ONNXC_CODEGEN_PARALLEL_H
#define ONNXC_CODEGEN_PARALLEL_H

#include "lower.h"

enum {
  CG_PAR_CTX_WEIGHTS = 0, /* slot of the weights base */
  CG_PAR_CTX_TASKS = 1,   /* slot of T */
  CG_PAR_CTX_ARGS = 2,    /* first argument slot */
  CG_PAR_MAX_ARGS = 64,
  CG_PAR_CTX_SLOTS = CG_PAR_CTX_ARGS + CG_PAR_MAX_ARGS,
};

/* Default grain (CgOptions.min_task_ns == 0): a task of less estimated
 * work than this costs more in dispatch and lost locality than it saves.
 * A region costs ~0.3 us with onnxc_pool's workers spinning (bench_pool);
 * 5 us beat 20 us by 4-17% at two threads on the fixtures and tied on the
 * full-size models (docs/PERFORMANCE.md, "The grain"). */
#define CG_PAR_DEFAULT_MIN_TASK_NS 5000.0

/* Name prefix of task trampolines (their address goes to the hook). */
#define CG_PAR_TASK_PREFIX "onnxc.task."
/* The placeholder the run body calls for the weights base: replaced by the
 * body's weights parameter with --weights=FILE, by NULL otherwise. */
#define CG_PAR_WEIGHTS_MARKER "onnxc.weights_base"

/* Estimated single-core nanoseconds of flops floating-point operations and
 * bytes of memory traffic on the target (c->vf32 lanes). */
double cg_cost_ns(const CgCtx *c, double flops, double bytes);

/* cg_begin_kernel plus CG_KERNEL_WEIGHT_SLOTS pointer parameters for
 * cg_kernel_weight and the trailing i64 parameters lo and hi. */
void cg_begin_par_kernel(CgCtx *c, const char *tag, int nptr, bool noalias, LLVMValueRef *fn,
                         LLVMBuilderRef *fb, LLVMValueRef *lo, LLVMValueRef *hi);
/* Runs fn(args..., weight slots..., lo, hi) over units [0, units) at c->b
 * as described above; cost_ns is the whole node's estimate.  Records the decision in
 * c->par_last. */
void cg_call_par_kernel(CgCtx *c, LLVMValueRef fn, LLVMValueRef const args[], int nargs,
                        int64_t units, double cost_ns);

/* Run-body set-up: the context block and the hook's fields, loaded from
 * par (a ptr parameter, possibly NULL) at the builder's position in the
 * entry block. */
void cg_par_begin_body(CgCtx *c, LLVMBuilderRef b, LLVMValueRef par);
/* Status of an entry point given a bad hook: par->threads < 1, or
 * threads > 1 without a parallel_for. */
#define CG_RUN_BAD_PARALLEL 4
/* In the entry point fn: `if (par && bad) return CG_RUN_BAD_PARALLEL;`,
 * leaving b in the good path. */
void cg_par_emit_check(LLVMContextRef ctx, LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef par);

/* With embedded weights: the weights-base placeholder becomes NULL. */
void cg_par_drop_weights_marker(LLVMModuleRef mod);

#endif
