/*
 * Specialized float32 lowerings for elementwise, normalization, reduction
 * and data-movement ops, built from the vector helpers:
 *   vec_map.c    broadcasted elementwise kernels (unary, binary, Where, Clip)
 *   vec_math.c   exp/log/erf/tanh/sigmoid/Gelu polynomials
 *   vec_rows.c   Softmax/LogSoftmax, LayerNormalization, last-axis reductions
 *   vec_transpose.c  attention-style Transpose permutations
 * Each cg_lower_<fn> checks that the node is one it covers exactly (dtype,
 * attributes, broadcast pattern, axis) and otherwise leaves *handled false
 * so the node keeps its reference kernel.
 */
#include <math.h>
#include <string.h>

#include "../lower.h"
#include "vec_map.h"
#include "vec_math.h"
#include "vec_rows.h"


/* What the vector op computes; parameters come from the node's attributes. */
typedef struct EwOp {
  OpKind op;
  float alpha, beta;
  int variant; /* Gelu: 1 = tanh approximation; Pow: 2 or 1 (0.5); Clip: bounds mask */
} EwOp;

static LLVMValueRef fsel(LLVMBuilderRef b, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y,
                         LLVMValueRef t, LLVMValueRef f) {
  return LLVMBuildSelect(b, LLVMBuildFCmp(b, p, x, y, ""), t, f, "");
}

static LLVMValueRef ew_apply(CgCtx *c, LLVMBuilderRef b, LLVMValueRef const x[], const void *ud) {
  const EwOp *e = ud;
  int w = vm_width(x[0]);
  LLVMValueRef v = x[0], zero = vm_const(c, w, 0.0), one = vm_const(c, w, 1.0);
  switch (e->op) {
  case OP_ABS: return vm_intrin(c, b, "llvm.fabs", &v, 1);
  case OP_NEG: return LLVMBuildFNeg(b, v, "");
  case OP_RELU: return fsel(b, LLVMRealUGT, v, zero, v, zero); /* NaN stays NaN */
  case OP_LEAKY_RELU:
    return fsel(b, LLVMRealOGE, v, zero, v, LLVMBuildFMul(b, v, vm_const(c, w, e->alpha), ""));
  case OP_SIGMOID: return vm_sigmoid(c, b, v);
  case OP_TANH: return vm_tanh(c, b, v);
  case OP_ERF: return vm_erf(c, b, v);
  case OP_EXP: return vm_exp(c, b, v);
  case OP_LOG: return vm_log(c, b, v);
  case OP_SQRT: return vm_intrin(c, b, "llvm.sqrt", &v, 1);
  case OP_RECIPROCAL: return LLVMBuildFDiv(b, one, v, "");
  case OP_GELU: return e->variant ? vm_gelu_tanh(c, b, v) : vm_gelu_erf(c, b, v);
  case OP_HARD_SIGMOID: {
    LLVMValueRef y = vm_fma(c, b, v, vm_const(c, w, e->alpha), vm_const(c, w, e->beta));
    return vm_clamp(c, b, y, 0.0, 1.0);
  }
  case OP_HARD_SWISH: {
    LLVMValueRef y = vm_fma(c, b, v, vm_const(c, w, 1.0 / 6.0), vm_const(c, w, 0.5));
    return LLVMBuildFMul(b, v, vm_clamp(c, b, y, 0.0, 1.0), "");
  }
  case OP_CLIP: {
    /* min first, then max, as the reference (min > max gives max). */
    int k = 1;
    if (e->variant & 1) {
      v = fsel(b, LLVMRealOLT, v, x[k], x[k], v);
      k++;
    }
    if (e->variant & 2) v = fsel(b, LLVMRealOGT, v, x[k], x[k], v);
    return v;
  }
  case OP_ADD: return LLVMBuildFAdd(b, x[0], x[1], "");
  case OP_SUB: return LLVMBuildFSub(b, x[0], x[1], "");
  case OP_MUL: return LLVMBuildFMul(b, x[0], x[1], "");
  case OP_DIV: return LLVMBuildFDiv(b, x[0], x[1], "");
  case OP_MAX: return vm_intrin(c, b, "llvm.maximum", x, 2);
  case OP_MIN: return vm_intrin(c, b, "llvm.minimum", x, 2);
  case OP_POW: {
    if (e->variant == 2) return LLVMBuildFMul(b, v, v, "");
    /* x^0.5: pow(-inf, 0.5) is +inf where sqrt gives NaN. */
    LLVMValueRef s = vm_intrin(c, b, "llvm.sqrt", &v, 1);
    LLVMValueRef inf = vm_const(c, w, INFINITY);
    return fsel(b, LLVMRealOEQ, v, vm_const(c, w, -INFINITY), inf, s);
  }
  case OP_WHERE: return LLVMBuildSelect(b, x[0], x[1], x[2], "");
  default: break;
  }
  return v;
}

static bool is_f32(const Value *v) { return v && v->dtype == DT_FLOAT32 && ir_value_is_static(v); }

/* Maps inputs ins[0..nin) onto n's output 0 with e; *handled stays false
 * when vmap_plan refuses the shapes. */
static Status lower_map(CgCtx *c, const Node *n, const Value *const ins[], LLVMValueRef const in[],
                        int nin, LLVMValueRef const out[], const EwOp *e, bool *handled) {
  *handled = false;
  if (n->num_outputs < 1 || !is_f32(n->outputs[0]) || !out[0]) return ST_OK;
  for (int i = 0; i < nin; i++)
    if (!in[i]) return ST_OK;
  VmapPlan p;
  if (!vmap_plan(ins, nin, n->outputs[0], &p)) return ST_OK;
  vmap_emit(c, &p, op_info[n->op].fn, ew_apply, e, in, out[0]);
  *handled = true;
  return ST_OK;
}

static Status lower_unary(CgCtx *c, const Node *n, LLVMValueRef const in[],
                          LLVMValueRef const out[], const EwOp *e, bool *handled) {
  *handled = false;
  if (n->num_inputs < 1 || !is_f32(n->inputs[0])) return ST_OK;
  const Value *ins[1] = {n->inputs[0]};
  return lower_map(c, n, ins, in, 1, out, e, handled);
}

static Status lower_binary(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], bool *handled) {
  *handled = false;
  if (n->num_inputs != 2 || !is_f32(n->inputs[0]) || !is_f32(n->inputs[1])) return ST_OK;
  EwOp e = {.op = n->op};
  const Value *ins[2] = {n->inputs[0], n->inputs[1]};
  return lower_map(c, n, ins, in, 2, out, &e, handled);
}

#define UNARY(fn, OPK)                                                                             \
  Status cg_lower_##fn(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], \
                       bool *handled, Error *err) {                                                \
    (void)err;                                                                                     \
    EwOp e = {.op = OPK};                                                                          \
    return lower_unary(c, n, in, out, &e, handled);                                                \
  }

UNARY(abs, OP_ABS)
UNARY(neg, OP_NEG)
UNARY(relu, OP_RELU)
UNARY(sigmoid, OP_SIGMOID)
UNARY(tanh, OP_TANH)
UNARY(erf, OP_ERF)
UNARY(exp, OP_EXP)
UNARY(log, OP_LOG)
UNARY(sqrt, OP_SQRT)
UNARY(reciprocal, OP_RECIPROCAL)
UNARY(hard_swish, OP_HARD_SWISH)

#define BINARY(fn)                                                                                 \
  Status cg_lower_##fn(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], \
                       bool *handled, Error *err) {                                                \
    (void)err;                                                                                     \
    return lower_binary(c, n, in, out, handled);                                                   \
  }

BINARY(add)
BINARY(sub)
BINARY(mul)
BINARY(div)
BINARY(max)
BINARY(min)

Status cg_lower_leaky_relu(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  EwOp e = {.op = OP_LEAKY_RELU, .alpha = ir_attr_float(n, "alpha", 0.01f)};
  return lower_unary(c, n, in, out, &e, handled);
}

Status cg_lower_hard_sigmoid(CgCtx *c, const Node *n, LLVMValueRef const in[],
                             LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  EwOp e = {.op = OP_HARD_SIGMOID,
            .alpha = ir_attr_float(n, "alpha", 0.2f),
            .beta = ir_attr_float(n, "beta", 0.5f)};
  return lower_unary(c, n, in, out, &e, handled);
}

Status cg_lower_gelu(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err) {
  (void)err;
  *handled = false;
  const char *mode = ir_attr_string(n, "approximate", "none");
  if (strcmp(mode, "none") != 0 && strcmp(mode, "tanh") != 0) return ST_OK;
  EwOp e = {.op = OP_GELU, .variant = strcmp(mode, "tanh") == 0};
  return lower_unary(c, n, in, out, &e, handled);
}

Status cg_lower_clip(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                     bool *handled, Error *err) {
  (void)err;
  *handled = false;
  if (n->num_inputs < 1 || !is_f32(n->inputs[0])) return ST_OK;
  EwOp e = {.op = OP_CLIP};
  const Value *ins[3] = {n->inputs[0]};
  LLVMValueRef ptrs[3] = {in[0]};
  int k = 1;
  for (int i = 1; i < 3 && i < n->num_inputs; i++) {
    if (!n->inputs[i]) continue;
    if (!is_f32(n->inputs[i]) || ir_value_numel(n->inputs[i]) != 1) return ST_OK;
    e.variant |= i;
    ins[k] = n->inputs[i];
    ptrs[k++] = in[i];
  }
  return lower_map(c, n, ins, ptrs, k, out, &e, handled);
}

Status cg_lower_pow(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                    bool *handled, Error *err) {
  (void)err;
  *handled = false;
  if (n->num_inputs != 2 || !is_f32(n->inputs[0])) return ST_OK;
  const Value *y = n->inputs[1];
  if (!y || !ir_value_is_const(y) || ir_value_numel(y) != 1 || y->rank > n->inputs[0]->rank)
    return ST_OK;
  double ev;
  switch (y->dtype) {
  case DT_FLOAT32: ev = *(const float *)y->data; break;
  case DT_FLOAT64: ev = *(const double *)y->data; break;
  case DT_INT32: ev = *(const int32_t *)y->data; break;
  case DT_INT64: ev = (double)*(const int64_t *)y->data; break;
  default: return ST_OK;
  }
  EwOp e = {.op = OP_POW};
  if (ev == 2.0)
    e.variant = 2;
  else if (ev == 0.5)
    e.variant = 1;
  else
    return ST_OK;
  return lower_unary(c, n, in, out, &e, handled);
}

Status cg_lower_where(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                      bool *handled, Error *err) {
  (void)err;
  *handled = false;
  if (n->num_inputs != 3 || !n->inputs[0] || n->inputs[0]->dtype != DT_BOOL ||
      !is_f32(n->inputs[1]) || !is_f32(n->inputs[2]))
    return ST_OK;
  EwOp e = {.op = OP_WHERE};
  const Value *ins[3] = {n->inputs[0], n->inputs[1], n->inputs[2]};
  return lower_map(c, n, ins, in, 3, out, &e, handled);
}

/* ---- row-wise ops --------------------------------------------------------- */

/* The single f32 input/output of a row op, both static and non-empty. */
static bool row_io(const Node *n, LLVMValueRef const in[], LLVMValueRef const out[]) {
  return n->num_inputs >= 1 && n->num_outputs >= 1 && is_f32(n->inputs[0]) &&
         is_f32(n->outputs[0]) && in[0] && out[0] && n->inputs[0]->rank >= 1 &&
         ir_value_numel(n->inputs[0]) > 0;
}

static Status lower_softmax_form(CgCtx *c, const Node *n, LLVMValueRef const in[],
                                 LLVMValueRef const out[], bool log_form, bool *handled) {
  *handled = false;
  if (!row_io(n, in, out)) return ST_OK;
  const Value *x = n->inputs[0];
  int r = x->rank;
  /* opset >= 13: axis (default -1) must be the last; before 13 the input is
   * coerced to 2-D at axis (default 1), which is the same only when axis
   * names the last dim. */
  int64_t a = ir_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
  if (a < 0) a += r;
  if (a != r - 1) return ST_OK;
  int64_t width = x->dims[r - 1];
  vr_emit_softmax(c, ir_value_numel(x) / width, width, log_form, in[0], out[0]);
  *handled = true;
  return ST_OK;
}

Status cg_lower_softmax(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[],
                        bool *handled, Error *err) {
  (void)err;
  return lower_softmax_form(c, n, in, out, false, handled);
}

Status cg_lower_log_softmax(CgCtx *c, const Node *n, LLVMValueRef const in[],
                            LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  return lower_softmax_form(c, n, in, out, true, handled);
}

/* Scale / bias must hold exactly one value per element of a normalized
 * row: dims before axis are 1, dims from axis on equal X's. */
static bool ln_param_ok(const Value *p, const Value *x, int axis, int64_t inner) {
  if (!is_f32(p) || p->rank > x->rank || ir_value_numel(p) != inner) return false;
  for (int i = 0; i < p->rank; i++) {
    int pos = x->rank - p->rank + i;
    if (pos < axis ? p->dims[i] != 1 : p->dims[i] != x->dims[pos]) return false;
  }
  return true;
}

Status cg_lower_layer_normalization(CgCtx *c, const Node *n, LLVMValueRef const in[],
                                    LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  *handled = false;
  if (!row_io(n, in, out) || n->num_inputs < 2) return ST_OK;
  /* Mean / InvStdDev outputs that something reads: left to the reference
   * kernel.  Declared but unused ones (as exporters often leave) are not
   * written at all. */
  for (int i = 1; i < n->num_outputs; i++)
    if (n->outputs[i] && out[i] && ir_use_count(c->g, n->outputs[i]) > 0) return ST_OK;
  if (ir_attr_int(n, "stash_type", 1) != DT_FLOAT32) return ST_OK;
  const Value *x = n->inputs[0];
  int64_t a = ir_attr_int(n, "axis", -1);
  if (a < 0) a += x->rank;
  if (a < 0 || a >= x->rank) return ST_OK;
  int64_t inner = 1;
  for (int i = (int)a; i < x->rank; i++)
    inner *= x->dims[i];
  const Value *bias = n->num_inputs > 2 ? n->inputs[2] : NULL;
  if (!ln_param_ok(n->inputs[1], x, (int)a, inner) || !in[1]) return ST_OK;
  if (bias && (!ln_param_ok(bias, x, (int)a, inner) || !in[2])) return ST_OK;
  vr_emit_layer_norm(c, ir_value_numel(x) / inner, inner, ir_attr_float(n, "epsilon", 1e-5f), in[0],
                     in[1], bias ? in[2] : NULL, out[0]);
  *handled = true;
  return ST_OK;
}

/* ---- data movement --------------------------------------------------------- */

/* Cast keeps its reference kernel: after specialization on constant
 * shapes it is a plain loop already.  Concat is in lower_concat.c;
 * Transpose, Slice, Split, Pad, Gather and Resize in lower_remap.c. */
#define KEEP_REFERENCE(fn)                                                                         \
  Status cg_lower_##fn(CgCtx *c, const Node *n, LLVMValueRef const in[], LLVMValueRef const out[], \
                       bool *handled, Error *err) {                                                \
    (void)c;                                                                                       \
    (void)n;                                                                                       \
    (void)in;                                                                                      \
    (void)out;                                                                                     \
    (void)err;                                                                                     \
    *handled = false;                                                                              \
    return ST_OK;                                                                                  \
  }

KEEP_REFERENCE(cast)
