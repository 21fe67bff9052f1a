/*
 * Row-wise kernels (Softmax, LayerNorm, reductions); see vec_rows.h.
 *
 * Every pass over a row is a `sweep`: full vectors, then a masked tail.
 * Accumulators live in entry-block allocas that mem2reg turns into
 * registers.  Tail lanes outside the row are neutralized (select to 0, or
 * loaded as -inf for maxima) before they reach an accumulator.
 */
#include "vec_rows.h"

#include <math.h>

#include "../parallel.h"
#include "vec_loops.h"
#include "vec_math.h"

typedef struct Row {
  CgCtx *c;
  LLVMBuilderRef b;
  LLVMTypeRef vt; /* <w x float> */
  int w;
  LLVMValueRef x, out, scale, bias;
  LLVMValueRef acc;  /* alloca <w x float> */
  LLVMValueRef m, s; /* per-row splats (max / mean, 1/sum / inv std / log sum) */
  int kind;
  int64_t rows;
} Row;

/* step(row, idx = row offset + j, j, lanes) */
typedef void (*StepFn)(Row *r, LLVMValueRef idx, LLVMValueRef j, int count);

static void sweep(Row *r, LLVMValueRef rowoff, int64_t width, StepFn f) {
  CgCtx *c = r->c;
  LLVMBuilderRef b = r->b;
  int64_t full = width - width % r->w;
  if (full > 0) {
    VlLoop l;
    LLVMValueRef j = vl_loop_begin(c, b, vl_i64(c, 0), vl_i64(c, full), r->w, &l);
    f(r, LLVMBuildNSWAdd(b, rowoff, j, ""), j, r->w);
    vl_loop_end(c, b, &l);
  }
  if (width % r->w) {
    LLVMValueRef j = vl_i64(c, full);
    f(r, LLVMBuildNSWAdd(b, rowoff, j, ""), j, (int)(width % r->w));
  }
}

static LLVMValueRef acc_get(Row *r) { return LLVMBuildLoad2(r->b, r->vt, r->acc, ""); }
static void acc_set(Row *r, LLVMValueRef v) { LLVMBuildStore(r->b, v, r->acc); }

/* Lanes >= count become z. */
static LLVMValueRef keep_lanes(Row *r, LLVMValueRef v, int count, double z) {
  if (count >= r->w) return v;
  return LLVMBuildSelect(r->b, vl_mask(r->c, r->w, count), v, vm_const(r->c, r->w, z), "");
}

static LLVMValueRef ld(Row *r, LLVMValueRef p, LLVMValueRef idx, int count, double pass) {
  return vl_load(r->c, r->b, r->vt, p, idx, count, vm_const(r->c, r->w, pass));
}

static LLVMValueRef max2(Row *r, const char *intrin, LLVMValueRef a, LLVMValueRef v) {
  LLVMValueRef args[2] = {a, v};
  return vm_intrin(r->c, r->b, intrin, args, 2);
}

/* Opens the partitioned kernel "onnxc.<tag>.<k>" with nptr pointers and
 * the loop over its rows: a unit is one row. */
static LLVMValueRef begin(Row *r, CgCtx *c, const char *tag, int nptr, int64_t rows,
                          LLVMValueRef *fn, VlLoop *rl) {
  r->c = c;
  r->w = c->vf32;
  r->vt = vm_vec(c, r->w);
  r->rows = rows;
  LLVMValueRef lo, hi;
  cg_begin_par_kernel(c, tag, nptr, false, fn, &r->b, &lo, &hi);
  r->acc = vl_alloca(c, r->b, r->vt);
  return vl_loop_begin(c, r->b, lo, hi, 1, rl);
}

/* bytes_per_elem / flops_per_elem: the kernel's traffic and arithmetic per
 * element of a row, for the grain rule. */
static void finish(Row *r, VlLoop *rl, LLVMValueRef fn, LLVMValueRef const args[], int nargs,
                   int64_t width, double bytes_per_elem, double flops_per_elem) {
  vl_loop_end(r->c, r->b, rl);
  LLVMBuildRetVoid(r->b);
  LLVMDisposeBuilder(r->b);
  double n = (double)r->rows * (double)width;
  cg_call_par_kernel(r->c, fn, args, nargs, r->rows,
                     cg_cost_ns(r->c, n * flops_per_elem, n * bytes_per_elem));
}

/* ---- Softmax / LogSoftmax ---------------------------------------------- */

static void sm_max(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  acc_set(r, max2(r, "llvm.maxnum", acc_get(r), ld(r, r->x, idx, count, -INFINITY)));
}

static void sm_exp(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  LLVMValueRef e = vm_exp(r->c, r->b, LLVMBuildFSub(r->b, ld(r, r->x, idx, count, 0), r->m, ""));
  e = keep_lanes(r, e, count, 0);
  acc_set(r, LLVMBuildFAdd(r->b, acc_get(r), e, ""));
  if (!r->kind) vl_store(r->c, r->b, e, r->out, idx, count);
}

static void sm_scale(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  LLVMValueRef v = ld(r, r->out, idx, count, 0);
  vl_store(r->c, r->b, LLVMBuildFMul(r->b, v, r->s, ""), r->out, idx, count);
}

static void sm_log(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  LLVMValueRef v = LLVMBuildFSub(r->b, ld(r, r->x, idx, count, 0), r->m, "");
  vl_store(r->c, r->b, LLVMBuildFSub(r->b, v, r->s, ""), r->out, idx, count);
}

void vr_emit_softmax(CgCtx *c, int64_t rows, int64_t width, bool log_form, LLVMValueRef x,
                     LLVMValueRef out) {
  Row r = {.kind = log_form};
  LLVMValueRef fn;
  VlLoop rl;
  LLVMValueRef row = begin(&r, c, log_form ? "logsoftmax" : "softmax", 2, rows, &fn, &rl);
  LLVMBuilderRef b = r.b;
  r.x = LLVMGetParam(fn, 0);
  r.out = LLVMGetParam(fn, 1);
  LLVMValueRef off = LLVMBuildNSWMul(b, row, vl_i64(c, width), "");
  acc_set(&r, vm_const(c, r.w, -INFINITY));
  sweep(&r, off, width, sm_max);
  r.m = vm_splat(c, b, vm_hmax(c, b, acc_get(&r)), r.w);
  acc_set(&r, vm_const(c, r.w, 0));
  sweep(&r, off, width, sm_exp);
  LLVMValueRef sum = vm_splat(c, b, vm_hsum(c, b, acc_get(&r)), r.w);
  if (log_form) {
    r.s = vm_log(c, b, sum);
    sweep(&r, off, width, sm_log);
  } else {
    r.s = LLVMBuildFDiv(b, vm_const(c, r.w, 1.0), sum, "");
    sweep(&r, off, width, sm_scale);
  }
  LLVMValueRef args[2] = {x, out};
  finish(&r, &rl, fn, args, 2, width, 20, 25);
}

/* ---- LayerNormalization ------------------------------------------------ */

static void ln_sum(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  acc_set(r, LLVMBuildFAdd(r->b, acc_get(r), ld(r, r->x, idx, count, 0), ""));
}

static void ln_var(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  LLVMValueRef d =
      keep_lanes(r, LLVMBuildFSub(r->b, ld(r, r->x, idx, count, 0), r->m, ""), count, 0);
  acc_set(r, vm_fma(r->c, r->b, d, d, acc_get(r)));
}

static void ln_out(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  LLVMValueRef d =
      LLVMBuildFMul(r->b, LLVMBuildFSub(r->b, ld(r, r->x, idx, count, 0), r->m, ""), r->s, "");
  LLVMValueRef sc = ld(r, r->scale, j, count, 0);
  LLVMValueRef y = r->bias ? vm_fma(r->c, r->b, d, sc, ld(r, r->bias, j, count, 0))
                           : LLVMBuildFMul(r->b, d, sc, "");
  vl_store(r->c, r->b, y, r->out, idx, count);
}

void vr_emit_layer_norm(CgCtx *c, int64_t rows, int64_t width, float eps, LLVMValueRef x,
                        LLVMValueRef scale, LLVMValueRef bias, LLVMValueRef out) {
  Row r = {0};
  LLVMValueRef fn;
  VlLoop rl;
  int np = bias ? 4 : 3;
  LLVMValueRef row = begin(&r, c, "layernorm", np, rows, &fn, &rl);
  LLVMBuilderRef b = r.b;
  r.x = LLVMGetParam(fn, 0);
  r.scale = LLVMGetParam(fn, 1);
  r.bias = bias ? LLVMGetParam(fn, 2) : NULL;
  r.out = LLVMGetParam(fn, (unsigned)np - 1);
  LLVMValueRef off = LLVMBuildNSWMul(b, row, vl_i64(c, width), "");
  LLVMValueRef inv_n = vm_const(c, 0, 1.0 / (double)width);
  acc_set(&r, vm_const(c, r.w, 0));
  sweep(&r, off, width, ln_sum);
  r.m = vm_splat(c, b, LLVMBuildFMul(b, vm_hsum(c, b, acc_get(&r)), inv_n, ""), r.w);
  acc_set(&r, vm_const(c, r.w, 0));
  sweep(&r, off, width, ln_var);
  LLVMValueRef var = LLVMBuildFMul(b, vm_hsum(c, b, acc_get(&r)), inv_n, "");
  LLVMValueRef sd = LLVMBuildFAdd(b, var, vm_const(c, 0, eps), "");
  sd = vm_intrin(c, b, "llvm.sqrt", &sd, 1);
  r.s = vm_splat(c, b, LLVMBuildFDiv(b, vm_const(c, 0, 1.0), sd, ""), r.w);
  sweep(&r, off, width, ln_out);
  LLVMValueRef args[4] = {x, scale, bias ? bias : out, out};
  finish(&r, &rl, fn, args, np, width, 16, 8);
}

/* ---- ReduceSum / ReduceMean / ReduceMax -------------------------------- */

static void red_step(Row *r, LLVMValueRef idx, LLVMValueRef j, int count) {
  (void)j;
  if (r->kind == VR_MAX)
    acc_set(r, max2(r, "llvm.maximum", acc_get(r), ld(r, r->x, idx, count, -INFINITY)));
  else
    acc_set(r, LLVMBuildFAdd(r->b, acc_get(r), ld(r, r->x, idx, count, 0), ""));
}

void vr_emit_reduce(CgCtx *c, int64_t rows, int64_t width, VrReduce kind, LLVMValueRef x,
                    LLVMValueRef out) {
  Row r = {.kind = (int)kind};
  LLVMValueRef fn;
  VlLoop rl;
  LLVMValueRef row = begin(&r, c, "reduce", 2, rows, &fn, &rl);
  LLVMBuilderRef b = r.b;
  r.x = LLVMGetParam(fn, 0);
  LLVMValueRef off = LLVMBuildNSWMul(b, row, vl_i64(c, width), "");
  acc_set(&r, vm_const(c, r.w, kind == VR_MAX ? -INFINITY : 0.0));
  sweep(&r, off, width, red_step);
  LLVMValueRef v = vm_hreduce(c, b, acc_get(&r), kind == VR_MAX ? "llvm.maximum" : NULL);
  if (kind == VR_MEAN) v = LLVMBuildFMul(b, v, vm_const(c, 0, 1.0 / (double)width), "");
  LLVMBuildStore(b, v, vl_gep(c, b, vm_f32(c), LLVMGetParam(fn, 1), row));
  LLVMValueRef args[2] = {x, out};
  finish(&r, &rl, fn, args, 2, width, 4, 1);
}
