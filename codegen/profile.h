/*
 * --profile: the generated code times every node.
 *
 * The run body gets one more parameter, `times` (long long[2 * nodes], or
 * NULL), and around each node in schedule order reads CLOCK_MONOTONIC
 * (clock_gettime, nanoseconds) and stores the node's start and end when
 * times is not NULL.  The object then also exports
 *
 *   int P_run_profiled(inputs, outputs, workspace, par, long long *times)
 *       (P_run_profiled_with_weights(weights, ...) with --weights=FILE)
 *   const char *P_profile_node(int i, const char **op, const char **kernel)
 *       node i's name, op type and kernel path (as --print-kernels says
 *       it), NULL past the last node;
 *   void P_profile_fma_loop(long long iters)
 *       12 independent chains of vector FMAs, iters steps each, for the
 *       profiler's measure of the core's peak (24 * lanes FLOP a step);
 *
 * and the header P_PROFILE_NODES and P_PROFILE_FMA_FLOPS_PER_ITER.
 * Without --profile none of this exists: the code is what it always was.
 */
#ifndef ONNXC_CODEGEN_PROFILE_H
#define ONNXC_CODEGEN_PROFILE_H

#include "lower.h"

/* An i64 of nanoseconds from clock_gettime(CLOCK_MONOTONIC) at b. */
LLVMValueRef cg_prof_now(CgCtx *c, LLVMBuilderRef b);
/* if (times) { times[2k] = t0; times[2k+1] = t1; } at b. */
void cg_prof_record(CgCtx *c, LLVMBuilderRef b, LLVMValueRef times, int k, LLVMValueRef t0,
                    LLVMValueRef t1);
/* P_profile_node and P_profile_fma_loop; kernels[i] describes node i. */
void cg_prof_emit_tables(CgCtx *c, const char *prefix, const char *const kernels[]);

#endif
