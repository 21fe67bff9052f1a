/*
 * Lowering of onnxc.FusedElementwise: the node's postfix program (encoding
 * in ops/elementwise_fused.c) is compiled, instruction by instruction, into
 * straight-line vector IR inside one vec_map broadcast loop, so a whole
 * chain of elementwise ops costs one pass over memory.  The per-op vector
 * formulas are those of codegen/vec/lower_elementwise.c (NaN behaviour
 * included).  Nodes with more than VMAP_MAX_IN inputs or broadcast
 * patterns vec_map cannot plan keep the reference kernel.
 */
#include <math.h>

#include "../../ops/elementwise_fused.h"
#include "../lower.h"
#include "vec_map.h"
#include "vec_math.h"

typedef struct FeProg {
  const int64_t *prog;
  int nprog;
  const float *params;
} FeProg;

static LLVMValueRef fe_sel(LLVMBuilderRef b, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y,
                           LLVMValueRef t, LLVMValueRef f) {
  return LLVMBuildSelect(b, LLVMBuildFCmp(b, p, x, y, ""), t, f, "");
}

static LLVMValueRef fe_unary(CgCtx *c, LLVMBuilderRef b, int64_t code, LLVMValueRef v,
                             const float *p) {
  int w = vm_width(v);
  LLVMValueRef zero = vm_const(c, w, 0.0), one = vm_const(c, w, 1.0);
  switch (code) {
  case FE_RELU: return fe_sel(b, LLVMRealUGT, v, zero, v, zero); /* NaN stays NaN */
  case FE_LEAKY_RELU:
    return fe_sel(b, LLVMRealOGE, v, zero, v, LLVMBuildFMul(b, v, vm_const(c, w, p[0]), ""));
  case FE_SIGMOID: return vm_sigmoid(c, b, v);
  case FE_TANH: return vm_tanh(c, b, v);
  case FE_ERF: return vm_erf(c, b, v);
  case FE_EXP: return vm_exp(c, b, v);
  case FE_LOG: return vm_log(c, b, v);
  case FE_NEG: return LLVMBuildFNeg(b, v, "");
  case FE_ABS: return vm_intrin(c, b, "llvm.fabs", &v, 1);
  case FE_SQRT: return vm_intrin(c, b, "llvm.sqrt", &v, 1);
  case FE_RECIPROCAL: return LLVMBuildFDiv(b, one, v, "");
  case FE_HARD_SIGMOID: {
    LLVMValueRef y = vm_fma(c, b, v, vm_const(c, w, p[0]), vm_const(c, w, p[1]));
    return vm_clamp(c, b, y, 0.0, 1.0);
  }
  case FE_HARD_SWISH: {
    LLVMValueRef y = vm_fma(c, b, v, vm_const(c, w, 1.0 / 6.0), vm_const(c, w, 0.5));
    return LLVMBuildFMul(b, v, vm_clamp(c, b, y, 0.0, 1.0), "");
  }
  case FE_GELU: return vm_gelu_erf(c, b, v);
  case FE_GELU_TANH: return vm_gelu_tanh(c, b, v);
  case FE_SILU: return LLVMBuildFMul(b, v, vm_sigmoid(c, b, v), "");
  case FE_CLIP:
    /* min first, then max, as the reference (min > max gives max). */
    if (p[0] != -INFINITY) v = fe_sel(b, LLVMRealOLT, v, vm_const(c, w, p[0]), vm_const(c, w, p[0]), v);
    if (p[1] != INFINITY) v = fe_sel(b, LLVMRealOGT, v, vm_const(c, w, p[1]), vm_const(c, w, p[1]), v);
    return v;
  case FE_POW: {
    if (p[0] == 2.0f) return LLVMBuildFMul(b, v, v, "");
    /* x^0.5: pow(-inf, 0.5) is +inf where sqrt gives NaN. */
    LLVMValueRef s = vm_intrin(c, b, "llvm.sqrt", &v, 1);
    return fe_sel(b, LLVMRealOEQ, v, vm_const(c, w, -INFINITY), vm_const(c, w, INFINITY), s);
  }
  default: return v;
  }
}

static LLVMValueRef fe_binary(CgCtx *c, LLVMBuilderRef b, int64_t code, LLVMValueRef x,
                              LLVMValueRef y) {
  LLVMValueRef xy[2] = {x, y};
  switch (code) {
  case FE_ADD: return LLVMBuildFAdd(b, x, y, "");
  case FE_SUB: return LLVMBuildFSub(b, x, y, "");
  case FE_MUL: return LLVMBuildFMul(b, x, y, "");
  case FE_DIV: return LLVMBuildFDiv(b, x, y, "");
  case FE_MAX: return vm_intrin(c, b, "llvm.maximum", xy, 2);
  case FE_MIN: return vm_intrin(c, b, "llvm.minimum", xy, 2);
  default: return x;
  }
}

/* The VmapFn: runs the (already validated) program on one vector of lanes. */
static LLVMValueRef fe_apply(CgCtx *c, LLVMBuilderRef b, LLVMValueRef const x[], const void *ud) {
  const FeProg *fp = ud;
  LLVMValueRef st[FE_MAX_STACK];
  int sp = 0;
  for (int j = 0; j < fp->nprog; j += 2) {
    int64_t code = fp->prog[j], arg = fp->prog[j + 1];
    if (code == FE_LOAD) {
      st[sp++] = x[arg];
    } else if (code == FE_CONST) {
      st[sp++] = vm_const(c, vm_width(x[0]), fp->params[arg]);
    } else if (code >= FE_ADD) {
      sp--;
      st[sp - 1] = fe_binary(c, b, code, st[sp - 1], st[sp]);
    } else {
      st[sp - 1] = fe_unary(c, b, code, st[sp - 1], fp->params ? fp->params + arg : NULL);
    }
  }
  return st[0];
}

Status cg_lower_fused_elementwise(CgCtx *c, const Node *n, LLVMValueRef const in[],
                                  LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  *handled = false;
  int nin = n->num_inputs;
  if (nin < 1 || nin > VMAP_MAX_IN || n->num_outputs < 1 || !out[0]) return ST_OK;
  const Value *o = n->outputs[0];
  if (!o || o->dtype != DT_FLOAT32 || !ir_value_is_static(o)) return ST_OK;
  const Value *ins[VMAP_MAX_IN];
  for (int i = 0; i < nin; i++) {
    const Value *v = n->inputs[i];
    if (!v || !in[i] || v->dtype != DT_FLOAT32 || !ir_value_is_static(v)) return ST_OK;
    ins[i] = v;
  }
  FeProg fp;
  fp.nprog = ir_attr_ints(n, "program", &fp.prog);
  int nparams = ir_attr_floats(n, "params", &fp.params);
  if (nparams < 0) nparams = 0;
  Error e = {0};
  if (fe_check_program(fp.prog, fp.nprog, nin, nparams, &e) != ST_OK) return ST_OK;
  VmapPlan p;
  if (!vmap_plan(ins, nin, o, &p)) return ST_OK;
  vmap_emit(c, &p, "fused_elementwise", fe_apply, &fp, in, out[0]);
  *handled = true;
  return ST_OK;
}
