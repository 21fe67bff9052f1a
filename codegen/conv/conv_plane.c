/*
 * Whole-plane kernels over contiguous NCHW planes (see conv_emit.h):
 * GlobalAveragePool / GlobalMaxPool reduce each plane with several vector
 * accumulators (independent dependency chains) and a masked last vector;
 * BatchNormalization in inference mode is y = x * a[c] + b[c] with a and b
 * folded at compile time, streamed the same way.
 */
#include <math.h>

#include "../parallel.h"
#include "conv_emit.h"
#include "conv_ir.h"

typedef struct Plane {
  CvB cb;
  bool is_max;                 /* reduction kind (global pools) */
  LLVMValueRef a, b;           /* affine: splatted per-plane factors */
  LLVMValueRef acc[8];         /* reduction accumulators (allocas) */
  LLVMValueRef xp, yp;
} Plane;

typedef void (*PlaneBody)(Plane *p, int u, LLVMValueRef off, int lanes);

/* Calls body for every vector of a plane of `size` floats: chunks of nu
 * vectors, then single vectors, then a masked last one. */
static void plane_loop(Plane *p, int64_t size, int nu, PlaneBody body) {
  CvB *cb = &p->cb;
  int vf = cb->vf;
  int64_t big = (int64_t)nu * vf, nbig = size / big, nvec = (size - nbig * big) / vf;
  int tail = (int)(size - nbig * big - nvec * vf);
  if (nbig > 0) {
    CvLoop t = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, nbig * big), big);
    for (int u = 0; u < nu; u++) body(p, u, cv_add(cb, t.iv, cv_i64(cb, (int64_t)u * vf)), vf);
    cv_next(cb, &t);
  }
  if (nvec > 0) {
    CvLoop t = cv_for(cb, cv_i64(cb, nbig * big), cv_i64(cb, size - tail), vf);
    body(p, 0, t.iv, vf);
    cv_next(cb, &t);
  }
  if (tail > 0) body(p, 0, cv_i64(cb, size - tail), tail);
}

static LLVMValueRef load_vec(CvB *cb, LLVMValueRef ptr, int lanes, LLVMValueRef pass) {
  if (lanes < cb->vf) return cv_load_masked(cb, ptr, lanes, pass);
  LLVMValueRef v = LLVMBuildLoad2(cb->b, cb->vty, ptr, "");
  LLVMSetAlignment(v, 4);
  return v;
}

static LLVMValueRef reduce2(Plane *p, LLVMValueRef a, LLVMValueRef b) {
  CvB *cb = &p->cb;
  if (!p->is_max) return LLVMBuildFAdd(cb->b, a, b, "");
  LLVMTypeRef ty = LLVMTypeOf(a);
  LLVMValueRef args[2] = {a, b};
  return cv_intrin(cb, "llvm.maximum", &ty, 1, args, 2);
}

static void reduce_body(Plane *p, int u, LLVMValueRef off, int lanes) {
  CvB *cb = &p->cb;
  LLVMValueRef pass = cv_splat(cb, cv_f32(cb, p->is_max ? -INFINITY : 0.0f), cb->vf);
  LLVMValueRef v = load_vec(cb, cv_gep(cb, p->xp, off), lanes, pass);
  LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, p->acc[u], "");
  cv_store(cb, reduce2(p, a, v), p->acc[u]);
}

Status cv_emit_global_pool(CgCtx *c, int64_t planes, int64_t size, bool is_max, LLVMValueRef x,
                           LLVMValueRef y, Error *err) {
  (void)err;
  Plane p = {.is_max = is_max};
  cv_begin(&p.cb, c, is_max ? "gmaxpool" : "gavgpool", 2);
  CvB *cb = &p.cb;
  const int nu = 4;
  LLVMValueRef init = cv_splat(cb, cv_f32(cb, is_max ? -INFINITY : 0.0f), cb->vf);
  CvLoop pl = cv_for(cb, cb->lo, cb->hi, 1);
  p.xp = cv_gep(cb, LLVMGetParam(cb->fn, 0), cv_mul(cb, pl.iv, size));
  for (int u = 0; u < nu; u++) {
    p.acc[u] = cv_alloca(cb, cb->vty);
    cv_store(cb, init, p.acc[u]);
  }
  plane_loop(&p, size, nu, reduce_body);
  LLVMValueRef v[4];
  for (int u = 0; u < nu; u++) v[u] = LLVMBuildLoad2(cb->b, cb->vty, p.acc[u], "");
  LLVMValueRef r = reduce2(&p, reduce2(&p, v[0], v[1]), reduce2(&p, v[2], v[3]));
  LLVMValueRef s;
  if (is_max) {
    s = cv_intrin(cb, "llvm.vector.reduce.fmaximum", &cb->vty, 1, &r, 1);
  } else {
    LLVMValueRef args[2] = {cv_f32(cb, 0.0f), r};
    s = cv_intrin(cb, "llvm.vector.reduce.fadd", &cb->vty, 1, args, 2);
    s = LLVMBuildFDiv(cb->b, s, cv_f32(cb, size > 0 ? (float)size : NAN), "");
  }
  cv_store(cb, s, cv_gep(cb, LLVMGetParam(cb->fn, 1), pl.iv));
  cv_next(cb, &pl);
  cv_end(cb);
  LLVMValueRef args[2] = {x, y};
  cv_call(cb, args, 2, planes, cg_cost_ns(c, (double)(planes * size), 4.0 * (double)(planes * size)));
  return ST_OK;
}

static void affine_body(Plane *p, int u, LLVMValueRef off, int lanes) {
  (void)u;
  CvB *cb = &p->cb;
  LLVMValueRef v = load_vec(cb, cv_gep(cb, p->xp, off), lanes, LLVMConstNull(cb->vty));
  LLVMValueRef r = cv_fma(cb, v, p->a, p->b);
  LLVMValueRef yp = cv_gep(cb, p->yp, off);
  if (lanes < cb->vf) cv_store_masked(cb, r, yp, lanes);
  else cv_store(cb, r, yp);
}

Status cv_emit_affine(CgCtx *c, int64_t batch, int64_t ch, int64_t size, const float *a,
                      const float *b, LLVMValueRef x, LLVMValueRef y, Error *err) {
  (void)err;
  Plane p = {0};
  cv_begin(&p.cb, c, "batchnorm", 2);
  CvB *cb = &p.cb;
  LLVMValueRef ag = cg_kernel_weight(c, cb->fn,
                                     cg_weight_blob(c, a, (size_t)ch * sizeof *a, "bn.a"));
  LLVMValueRef bg = cg_kernel_weight(c, cb->fn,
                                     cg_weight_blob(c, b, (size_t)ch * sizeof *b, "bn.b"));
  CvLoop pl = cv_for(cb, cb->lo, cb->hi, 1);
  LLVMValueRef ci = LLVMBuildSRem(cb->b, pl.iv, cv_i64(cb, ch), "");
  p.a = cv_splat(cb, cv_load(cb, cv_gep(cb, ag, ci)), cb->vf);
  p.b = cv_splat(cb, cv_load(cb, cv_gep(cb, bg, ci)), cb->vf);
  p.xp = cv_gep(cb, LLVMGetParam(cb->fn, 0), cv_mul(cb, pl.iv, size));
  p.yp = cv_gep(cb, LLVMGetParam(cb->fn, 1), cv_mul(cb, pl.iv, size));
  plane_loop(&p, size, 4, affine_body);
  cv_next(cb, &pl);
  cv_end(cb);
  LLVMValueRef args[2] = {x, y};
  double n = (double)(batch * ch * size);
  cv_call(cb, args, 2, batch * ch, cg_cost_ns(c, 2 * n, 8 * n));
  return ST_OK;
}
