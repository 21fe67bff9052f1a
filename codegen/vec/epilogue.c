/*
 * codegen/vec/epilogue.c: the activation + residual epilogue of the fused ops
 * as vector IR (contract in epilogue.h).  Each activation follows the
 * reference formula of ops/fused.c, including its NaN behaviour (Relu,
 * HardSigmoid and HardSwish pass NaN through) and its Clip ordering (the
 * min test wins when min > max); the transcendental ones come from
 * vec_math.c.  Works on float scalars as well as <N x float> vectors.
 */
#include "epilogue.h"

#include <math.h>
#include <string.h>

#include "vec_loops.h"
#include "vec_math.h"

bool cg_epilogue_read(const Node *n, CgEpilogue *e) {
  memset(e, 0, sizeof *e);
  if (!fused_act_parse(ir_attr_string(n, "activation", ""), &e->act)) return false;
  double a = ir_attr(n, "activation_alpha") ? ir_attr_float(n, "activation_alpha", 0)
                                             : fused_act_default_alpha(e->act);
  double bt = ir_attr(n, "activation_beta") ? ir_attr_float(n, "activation_beta", 0)
                                             : fused_act_default_beta(e->act);
  /* Clip bounds may be infinite; every other parameter multiplies. */
  if (isnan(a) || isnan(bt)) return false;
  if (e->act != FACT_CLIP && (isinf(a) || isinf(bt))) return false;
  e->alpha = (float)a;
  e->beta = (float)bt;
  int64_t rf = ir_attr_int(n, "residual_first", 0);
  if (rf != 0 && rf != 1) return false;
  e->residual_first = rf == 1;
  return true;
}

bool cg_epilogue_supported(const Node *n) {
  CgEpilogue e;
  return cg_epilogue_read(n, &e);
}

/* 0 for a scalar float, else the lane count (vm_const's convention). */
static int width_of(LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 0;
}

static LLVMValueRef sel(LLVMBuilderRef b, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y,
                        LLVMValueRef t, LLVMValueRef f) {
  return LLVMBuildSelect(b, LLVMBuildFCmp(b, p, x, y, ""), t, f, "");
}

/* v < 0 ? 0 : (v > 1 ? 1 : v); NaN stays NaN. */
static LLVMValueRef clamp01(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v) {
  int n = width_of(v);
  LLVMValueRef zero = vm_const(c, n, 0.0), one = vm_const(c, n, 1.0);
  v = sel(b, LLVMRealOLT, v, zero, zero, v);
  return sel(b, LLVMRealOGT, v, one, one, v);
}

LLVMValueRef cg_epilogue_act(CgCtx *c, LLVMBuilderRef b, const CgEpilogue *e, LLVMValueRef x) {
  int n = width_of(x);
  LLVMValueRef zero = vm_const(c, n, 0.0);
  switch (e->act) {
  case FACT_NONE: return x;
  case FACT_RELU: /* x > 0 or NaN: x; else 0 (also for -0) */
    return sel(b, LLVMRealUGT, x, zero, x, zero);
  case FACT_CLIP: {
    LLVMValueRef lo = vm_const(c, n, e->alpha), hi = vm_const(c, n, e->beta);
    LLVMValueRef t = sel(b, LLVMRealOGT, x, hi, hi, x);
    return sel(b, LLVMRealOLT, x, lo, lo, t);
  }
  case FACT_LEAKY_RELU:
    return sel(b, LLVMRealOGE, x, zero,
               x, LLVMBuildFMul(b, x, vm_const(c, n, e->alpha), ""));
  case FACT_HARD_SIGMOID: /* NaN * alpha + beta is NaN, which clamp01 keeps */
    return clamp01(c, b, vm_fma(c, b, x, vm_const(c, n, e->alpha), vm_const(c, n, e->beta)));
  case FACT_HARD_SWISH:
    return LLVMBuildFMul(
        b, x, clamp01(c, b, vm_fma(c, b, x, vm_const(c, n, 1.0 / 6.0), vm_const(c, n, 0.5))), "");
  case FACT_SIGMOID: return vm_sigmoid(c, b, x);
  case FACT_SILU: return LLVMBuildFMul(b, x, vm_sigmoid(c, b, x), "");
  case FACT_GELU: return vm_gelu_erf(c, b, x);
  case FACT_GELU_TANH: return vm_gelu_tanh(c, b, x);
  case FACT_TANH: return vm_tanh(c, b, x);
  case FACT_COUNT: break;
  }
  return x;
}

LLVMValueRef cg_epilogue_apply(CgCtx *c, LLVMBuilderRef b, const Node *n, LLVMValueRef acc) {
  CgEpilogue e;
  if (!cg_epilogue_read(n, &e)) return acc;
  return cg_epilogue_act(c, b, &e, acc);
}

LLVMValueRef cg_epilogue_finish(CgCtx *c, LLVMBuilderRef b, const Node *n, LLVMValueRef acc,
                                LLVMValueRef r) {
  CgEpilogue e;
  if (!cg_epilogue_read(n, &e)) return acc;
  if (r && e.residual_first) acc = LLVMBuildFAdd(b, acc, r, "");
  acc = cg_epilogue_act(c, b, &e, acc);
  if (r && !e.residual_first) acc = LLVMBuildFAdd(b, acc, r, "");
  return acc;
}

bool cg_epilogue_costly(const Node *n) {
  CgEpilogue e;
  if (!cg_epilogue_read(n, &e)) return false;
  return e.act == FACT_SIGMOID || e.act == FACT_SILU || e.act == FACT_GELU ||
         e.act == FACT_GELU_TANH || e.act == FACT_TANH;
}

LLVMValueRef cg_epilogue_load_residual(CgCtx *c, LLVMBuilderRef b, int n, LLVMValueRef rbase,
                                       LLVMValueRef idx, int count) {
  return vl_load(c, b, vm_vec(c, n), rbase, idx, count, NULL);
}
