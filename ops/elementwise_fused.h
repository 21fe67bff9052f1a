/*
 * The program encoding of onnxc.FusedElementwise (see ops/elementwise_fused.c
 * for the full op semantics), shared by the op's shape rule and reference
 * kernel, the fuse-elementwise pass that writes programs, and the vector
 * lowering (codegen/vec/lower_fused_elementwise.c) that compiles them.
 */
#ifndef ONNXC_OPS_ELEMENTWISE_FUSED_H
#define ONNXC_OPS_ELEMENTWISE_FUSED_H

#include "ops.h"

#define FE_MAX_INPUTS 8
#define FE_MAX_PROGRAM 256 /* ints, i.e. 128 instructions */
#define FE_MAX_PARAMS 64
#define FE_MAX_STACK 16

/* Instruction codes: program = (code, arg) pairs. */
typedef enum FeCode {
  FE_LOAD = 0,        /* push input[arg] (broadcast to the output element) */
  FE_RELU = 1,
  FE_LEAKY_RELU = 2,  /* alpha = params[arg] */
  FE_SIGMOID = 3,
  FE_TANH = 4,
  FE_ERF = 5,
  FE_EXP = 6,
  FE_LOG = 7,
  FE_NEG = 8,
  FE_ABS = 9,
  FE_SQRT = 10,
  FE_RECIPROCAL = 11,
  FE_HARD_SIGMOID = 12, /* alpha = params[arg], beta = params[arg+1] */
  FE_HARD_SWISH = 13,
  FE_GELU = 14,       /* erf form */
  FE_GELU_TANH = 15,
  FE_SILU = 16,
  FE_CLIP = 17,       /* lo = params[arg], hi = params[arg+1] (+-inf when absent) */
  FE_POW = 18,        /* exponent = params[arg]: 2 or 0.5 */
  FE_CONST = 19,      /* push params[arg] (a scalar constant operand, no input slot) */
  FE_ADD = 32,
  FE_SUB = 33,
  FE_MUL = 34,
  FE_DIV = 35,
  FE_MAX = 36,
  FE_MIN = 37
} FeCode;

/* Number of params an instruction reads (0, 1 or 2); -1 for an unknown code. */
int fe_code_params(int64_t code);
/* Stack effect: +1 load, 0 unary, -1 binary; 2 for an unknown code. */
int fe_code_pops(int64_t code);
/* Validates a program against ninputs inputs and nparams params: known
 * codes, args in range, no stack underflow, depth <= FE_MAX_STACK, exactly
 * one value left.  Bare-reason error. */
Status fe_check_program(const int64_t *prog, int nprog, int ninputs, int nparams, Error *err);

#endif
