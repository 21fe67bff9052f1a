/* The lowering table and helpers shared by lowerings; see lower.h. */
#include "lower.h"

#include "conv/conv_emit.h"

#include <stdio.h>
#include <string.h>

/* NULL: no specialized lowering, the reference kernel is used. */
static const CgLowerFn lower_table[OP_COUNT] = {
    [OP_FUSED_CONV] = cg_lower_fused_conv,
    [OP_FUSED_MATMUL] = cg_lower_fused_matmul,
    [OP_SILU] = cg_lower_silu,
    [OP_FUSED_ELEMENTWISE] = cg_lower_fused_elementwise,
    [OP_ATTENTION] = cg_lower_attention,
    [OP_MATMUL] = cg_lower_matmul,
    [OP_GEMM] = cg_lower_gemm,
    [OP_ABS] = cg_lower_abs,
    [OP_NEG] = cg_lower_neg,
    [OP_RELU] = cg_lower_relu,
    [OP_LEAKY_RELU] = cg_lower_leaky_relu,
    [OP_SIGMOID] = cg_lower_sigmoid,
    [OP_TANH] = cg_lower_tanh,
    [OP_ERF] = cg_lower_erf,
    [OP_EXP] = cg_lower_exp,
    [OP_LOG] = cg_lower_log,
    [OP_SQRT] = cg_lower_sqrt,
    [OP_RECIPROCAL] = cg_lower_reciprocal,
    [OP_GELU] = cg_lower_gelu,
    [OP_HARD_SIGMOID] = cg_lower_hard_sigmoid,
    [OP_HARD_SWISH] = cg_lower_hard_swish,
    [OP_CLIP] = cg_lower_clip,
    [OP_ADD] = cg_lower_add,
    [OP_SUB] = cg_lower_sub,
    [OP_MUL] = cg_lower_mul,
    [OP_DIV] = cg_lower_div,
    [OP_POW] = cg_lower_pow,
    [OP_MAX] = cg_lower_max,
    [OP_MIN] = cg_lower_min,
    [OP_WHERE] = cg_lower_where,
    [OP_SOFTMAX] = cg_lower_softmax,
    [OP_LOG_SOFTMAX] = cg_lower_log_softmax,
    [OP_LAYER_NORMALIZATION] = cg_lower_layer_normalization,
    [OP_REDUCE_MEAN] = cg_lower_reduce_mean,
    [OP_REDUCE_SUM] = cg_lower_reduce_sum,
    [OP_REDUCE_MAX] = cg_lower_reduce_max,
    [OP_TRANSPOSE] = cg_lower_transpose,
    [OP_CONCAT] = cg_lower_concat,
    [OP_SLICE] = cg_lower_slice,
    [OP_GATHER] = cg_lower_gather,
    [OP_CAST] = cg_lower_cast,
    [OP_CONV] = cg_lower_conv,
    [OP_MAX_POOL] = cg_lower_max_pool,
    [OP_AVERAGE_POOL] = cg_lower_average_pool,
    [OP_GLOBAL_AVERAGE_POOL] = cg_lower_global_average_pool,
    [OP_GLOBAL_MAX_POOL] = cg_lower_global_max_pool,
    [OP_BATCH_NORMALIZATION] = cg_lower_batch_normalization,
    [OP_CONV_TRANSPOSE] = cg_lower_conv_transpose,
    [OP_RESIZE] = cg_lower_resize,
    [OP_PAD] = cg_lower_pad,
    [OP_SPLIT] = cg_lower_split,
};

Status cg_lower_node(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err) {
  *handled = false;
  if (c->reference_only || n->op >= OP_COUNT || !lower_table[n->op]) return ST_OK;
  return lower_table[n->op](c, n, in, out, handled, err);
}

size_t cg_lowered_scratch_bytes(const Node *n) {
  if (n->op == OP_CONV || n->op == OP_FUSED_CONV) return cv_conv_scratch_bytes(n);
  return 0;
}

static LLVMValueRef blob(CgCtx *c, const void *data, size_t bytes, const char *kind,
                         const char *tag) {
  char name[96];
  snprintf(name, sizeof name, "onnxc.%s%s.%d", kind, tag, c->counter++);
  LLVMValueRef init = LLVMConstStringInContext2(c->ctx, data, bytes ? bytes : 1, 1);
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  /* No code compares their addresses: equal tables of two nodes become one
   * (constmerge), and then so do kernels that differ only in which table
   * they read (mergefunc). */
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  LLVMSetAlignment(g, 64);
  return g;
}

LLVMValueRef cg_const_blob(CgCtx *c, const void *data, size_t bytes, const char *tag) {
  return blob(c, data, bytes, "", tag);
}

/* The "wblob." prefix is what --weights=FILE moves out (weights_file.h). */
LLVMValueRef cg_weight_blob(CgCtx *c, const void *data, size_t bytes, const char *tag) {
  return blob(c, data, bytes, "wblob.", tag);
}

void cg_begin_kernel(CgCtx *c, const char *tag, int nptr, bool noalias, LLVMValueRef *fn,
                     LLVMBuilderRef *fb) {
  char name[96];
  snprintf(name, sizeof name, "onnxc.%s.%d", tag, c->counter++);
  LLVMTypeRef p = LLVMPointerTypeInContext(c->ctx, 0);
  LLVMTypeRef params[64];
  if (nptr > 64) nptr = 64;
  for (int i = 0; i < nptr; i++) params[i] = p;
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), params, (unsigned)nptr, 0);
  *fn = LLVMAddFunction(c->mod, name, fty);
  LLVMSetLinkage(*fn, LLVMInternalLinkage);
  unsigned kind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(*fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->ctx, kind, 0));
  if (noalias) {
    unsigned na = LLVMGetEnumAttributeKindForName("noalias", 7);
    for (int i = 0; i < nptr; i++)
      LLVMAddAttributeAtIndex(*fn, (unsigned)i + 1, LLVMCreateEnumAttribute(c->ctx, na, 0));
  }
  *fb = LLVMCreateBuilderInContext(c->ctx);
  LLVMPositionBuilderAtEnd(*fb, LLVMAppendBasicBlockInContext(c->ctx, *fn, "entry"));
}

void cg_call_kernel(CgCtx *c, LLVMValueRef fn, LLVMValueRef const args[], int nargs) {
  LLVMBuildCall2(c->b, LLVMGlobalGetValueType(fn), fn, (LLVMValueRef *)args, (unsigned)nargs, "");
}

static bool has_feature(const char *features, const char *f) {
  size_t n = strlen(f);
  for (const char *p = features; p && (p = strstr(p, f)); p += n)
    if ((p == features || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return true;
  return false;
}

void cg_target_vector_facts(const char *triple, const char *cpu, const char *features, int *vf32,
                            bool *has_fma) {
  *vf32 = 4;
  *has_fma = false;
  if (strncmp(triple, "aarch64", 7) == 0 || strncmp(triple, "arm64", 5) == 0) {
    *has_fma = true;
    return;
  }
  if (features && *features) {
    if (has_feature(features, "+avx512f")) *vf32 = 16;
    else if (has_feature(features, "+avx")) *vf32 = 8;
    *has_fma = has_feature(features, "+fma");
    return;
  }
  /* No explicit features: infer from well-known CPU names. */
  static const char *const avx512[] = {"skylake-avx512", "cascadelake", "cooperlake", "icelake",
                                       "tigerlake", "sapphirerapids", "rocketlake", "znver4",
                                       "znver5", "x86-64-v4", "cannonlake", "graniterapids", NULL};
  static const char *const avx2[] = {"haswell", "broadwell", "skylake", "znver1", "znver2", "znver3",
                                     "alderlake", "raptorlake", "meteorlake", "x86-64-v3", NULL};
  for (int i = 0; avx512[i]; i++)
    if (strncmp(cpu, avx512[i], strlen(avx512[i])) == 0) {
      *vf32 = 16;
      *has_fma = true;
      return;
    }
  for (int i = 0; avx2[i]; i++)
    if (strncmp(cpu, avx2[i], strlen(avx2[i])) == 0) {
      *vf32 = 8;
      *has_fma = true;
      return;
    }
}
