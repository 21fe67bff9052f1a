/*
 * The epilogue activations of onnxc.FusedConv / onnxc.FusedMatMul, shared
 * by their reference kernels (ops/fused.c) and the fuse-epilogues pass,
 * which must agree on the `activation` strings and parameter meanings.
 * The full semantics of the fused ops are documented in ops/fused.c.
 */
#ifndef ONNXC_OPS_FUSED_H
#define ONNXC_OPS_FUSED_H

#include <stdbool.h>

typedef enum FusedAct {
  FACT_NONE,        /* "" */
  FACT_RELU,        /* "Relu" */
  FACT_CLIP,        /* "Clip": alpha = min, beta = max */
  FACT_LEAKY_RELU,  /* "LeakyRelu": alpha */
  FACT_HARD_SIGMOID,/* "HardSigmoid": alpha, beta */
  FACT_HARD_SWISH,  /* "HardSwish" */
  FACT_SIGMOID,     /* "Sigmoid" */
  FACT_SILU,        /* "SiLU" */
  FACT_GELU,        /* "Gelu" (erf) */
  FACT_GELU_TANH,   /* "GeluTanh" */
  FACT_TANH,        /* "Tanh" */
  FACT_COUNT
} FusedAct;

/* The attribute spelling of each activation (FACT_NONE is ""). */
extern const char *const fused_act_names[FACT_COUNT];
/* false when the name is not one of fused_act_names. */
bool fused_act_parse(const char *name, FusedAct *out);
/* Default activation_alpha / activation_beta when the attribute is absent. */
double fused_act_default_alpha(FusedAct a);
double fused_act_default_beta(FusedAct a);
/* One activation on one value, in double. */
double fused_act_apply(FusedAct a, double x, double alpha, double beta);

#endif
