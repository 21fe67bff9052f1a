/*
 * ReduceSum / ReduceMean / ReduceMax on float32 whose reduced axes (after
 * dropping dims of size 1) form one contiguous range: the input is viewed
 * as [outer, R, inner].  inner == 1 is the row kernel of vec_rows.c; a
 * reduction over a middle axis (Performer's ReduceSum over tokens, a
 * channel mean of NCHW) runs vectors along inner and accumulates over R in
 * registers, so every output lane sees the same order of additions on any
 * thread count.  Other axis sets keep the reference kernel.
 */
#include <math.h>

#include "../../ops/ops.h"
#include "../parallel.h"
#include "vec_loops.h"
#include "vec_math.h"
#include "vec_rows.h"

/* [outer, R, inner] of x for n's axes; false when the reduced dims of size
 * > 1 are not one contiguous range, or n is the identity. */
static bool reduce_view(const Node *n, int64_t *outer, int64_t *red, int64_t *inner) {
  const Value *x = n->inputs[0];
  bool reduced[IR_MAX_RANK], noop;
  Error e = {0};
  if (ops_reduce_axes(n, reduced, &noop, &e) != ST_OK || noop) return false;
  enum { BEFORE, IN, AFTER } at = BEFORE;
  *outer = *red = *inner = 1;
  for (int i = 0; i < x->rank; i++) {
    int64_t d = x->dims[i];
    if (d == 1) continue; /* reduced or kept, the same */
    if (reduced[i]) {
      if (at == AFTER) return false; /* a second range */
      at = IN;
      *red *= d;
    } else if (at == BEFORE) {
      *outer *= d;
    } else {
      at = AFTER;
      *inner *= d;
    }
  }
  return true; /* at == BEFORE: only unit dims reduced, [numel, 1, 1] */
}

/* out[o, j] = reduce over r of x[o, r, j], j vectorized; a unit is one
 * (o, vector of j). */
static void emit_reduce_mid(CgCtx *c, int64_t outer, int64_t red, int64_t inner, VrReduce kind,
                            LLVMValueRef x, LLVMValueRef out) {
  int w = c->vf32;
  LLVMTypeRef vt = vm_vec(c, w);
  int64_t nvec = (inner + w - 1) / w, tail = inner % w;
  LLVMValueRef fn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, "reduce_mid", 2, false, &fn, &b, &lo, &hi);
  LLVMValueRef acc = vl_alloca(c, b, vt);
  int64_t dims[2] = {outer, nvec};
  VlNest ns;
  vl_nest_begin(c, b, &ns, 2, dims, lo, hi);
  LLVMValueRef o = vl_nest_level(c, b, &ns);
  LLVMValueRef v = vl_nest_level(c, b, &ns);
  LLVMValueRef j = LLVMBuildNSWMul(b, v, vl_i64(c, w), "");
  LLVMValueRef base = LLVMBuildNSWAdd(b, LLVMBuildNSWMul(b, o, vl_i64(c, red * inner), ""), j, "");
  LLVMValueRef obase = LLVMBuildNSWAdd(b, LLVMBuildNSWMul(b, o, vl_i64(c, inner), ""), j, "");
  /* Full vectors, then the masked tail vector (only the last j has one). */
  for (int part = 0; part < (tail ? 2 : 1); part++) {
    int count = part == 0 ? w : (int)tail;
    VlIf f;
    if (tail) {
      LLVMValueRef is_tail = LLVMBuildICmp(b, LLVMIntEQ, v, vl_i64(c, nvec - 1), "");
      vl_if_begin(c, b, part == 0 ? LLVMBuildNot(b, is_tail, "") : is_tail, &f);
    }
    LLVMValueRef x0 = vl_load(c, b, vt, LLVMGetParam(fn, 0), base, count, NULL);
    LLVMBuildStore(b, x0, acc);
    if (red > 1) {
      VlLoop rl;
      LLVMValueRef r = vl_loop_begin(c, b, vl_i64(c, 1), vl_i64(c, red), 1, &rl);
      LLVMValueRef idx =
          LLVMBuildNSWAdd(b, base, LLVMBuildNSWMul(b, r, vl_i64(c, inner), ""), "");
      LLVMValueRef xv = vl_load(c, b, vt, LLVMGetParam(fn, 0), idx, count, NULL);
      LLVMValueRef a = LLVMBuildLoad2(b, vt, acc, "");
      LLVMValueRef args[2] = {a, xv};
      LLVMBuildStore(b, kind == VR_MAX ? vm_intrin(c, b, "llvm.maximum", args, 2)
                                       : LLVMBuildFAdd(b, a, xv, ""),
                     acc);
      vl_loop_end(c, b, &rl);
    }
    LLVMValueRef y = LLVMBuildLoad2(b, vt, acc, "");
    if (kind == VR_MEAN) y = LLVMBuildFDiv(b, y, vm_const(c, w, (double)red), "");
    vl_store(c, b, y, LLVMGetParam(fn, 1), obase, count);
    if (tail) vl_if_end(c, b, &f);
  }
  vl_nest_end(c, b, &ns);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  LLVMValueRef args[2] = {x, out};
  double elems = (double)(outer * red * inner);
  cg_call_par_kernel(c, fn, args, 2, vl_nest_units(2, dims),
                     cg_cost_ns(c, elems, 4.0 * (elems + (double)(outer * inner))));
}

static Status lower_reduce(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], VrReduce kind, bool *handled) {
  *handled = false;
  if (n->num_inputs < 1 || n->num_outputs < 1 || !in[0] || !out[0]) return ST_OK;
  const Value *x = n->inputs[0], *y = n->outputs[0];
  if (!x || !y || x->dtype != DT_FLOAT32 || y->dtype != DT_FLOAT32 || !ir_value_is_static(x) ||
      !ir_value_is_static(y) || x->rank < 1 || ir_value_numel(x) <= 0)
    return ST_OK;
  int64_t outer, red, inner;
  if (!reduce_view(n, &outer, &red, &inner) || ir_value_numel(y) != outer * inner) return ST_OK;
  if (inner == 1)
    vr_emit_reduce(c, outer, red, kind, in[0], out[0]);
  else
    emit_reduce_mid(c, outer, red, inner, kind, in[0], out[0]);
  *handled = true;
  return ST_OK;
}

Status cg_lower_reduce_mean(CgCtx *c, const Node *n, LLVMValueRef const in[],
                            LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  return lower_reduce(c, n, in, out, VR_MEAN, handled);
}

Status cg_lower_reduce_sum(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  return lower_reduce(c, n, in, out, VR_SUM, handled);
}

Status cg_lower_reduce_max(CgCtx *c, const Node *n, LLVMValueRef const in[],
                           LLVMValueRef const out[], bool *handled, Error *err) {
  (void)err;
  return lower_reduce(c, n, in, out, VR_MAX, handled);
}
