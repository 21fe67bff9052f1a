/*
 * Per-plane sliding windows vectorized along output columns: depthwise
 * Conv (each output channel reads one input channel), MaxPool and
 * AveragePool (see conv_emit.h).  One vector holds vf consecutive output
 * pixels of a row; for stride s their inputs are one load of the covering
 * span plus a shuffle.  Interior columns (whole window inside the input)
 * run unrolled chunks of several vectors and one masked chunk for the
 * rest; border columns run a scalar loop whose kw range comes from a
 * table; rows clip kh from a table.  AveragePool multiplies by per-row and
 * per-column reciprocal counts precomputed at compile time (the count
 * factors into a row count times a column count).
 */
#include <math.h>
#include <stdlib.h>

#include "../parallel.h"
#include "../vec/epilogue.h"
#include "../vec/vec_loops.h"
#include "conv_emit.h"
#include "conv_epilogue.h"
#include "conv_ir.h"

typedef struct Win {
  CvB cb;
  const CvConv *cv;
  CvWinOp op;
  LLVMValueRef wp, bp, rh, rw;      /* weights, bias (conv); reciprocals (avg) */
  LLVMValueRef khlo, khhi, kwlo, kwhi;
  /* per plane / row */
  LLVMValueRef xp, yp, wo, init, oh, khlo_v, khhi_v;
  /* With an epilogue on rows of at most ROWBUF_MAX pixels: the row's raw
   * sums, which get the epilogue at the end of the row in wide groups. */
  LLVMValueRef rowbuf;
} Win;

/* An activation such as GELU is a chain of ~40 dependent vector
 * operations: applied per output vector inside the row loop (the row's
 * vectors, its masked tail and its border pixels each paying one), it cost
 * HRFormer's 56x56 depthwise convolutions twice their taps.  Applied once
 * per row to groups of EPI_GROUP vectors as one wide vector, the chains
 * interleave and the partial vectors merge. */
enum { ROWBUF_MAX = 512, EPI_GROUP = 4 };

static LLVMValueRef combine(Win *w, LLVMValueRef acc, LLVMValueRef xv, LLVMValueRef wv) {
  CvB *cb = &w->cb;
  switch (w->op) {
  case CV_WIN_CONV: return cv_fma(cb, xv, wv, acc);
  case CV_WIN_AVG: return LLVMBuildFAdd(cb->b, acc, xv, "");
  case CV_WIN_MAX: break;
  }
  LLVMValueRef gt = LLVMBuildFCmp(cb->b, LLVMRealOGT, xv, acc, "");
  return LLVMBuildSelect(cb->b, gt, xv, acc, "");
}

/* The span load of vf strided inputs, masked to the first `lanes`. */
static LLVMValueRef load_span(Win *w, LLVMValueRef p, int lanes) {
  CvB *cb = &w->cb;
  int vf = cb->vf;
  int64_t s = w->cv->sw;
  if (lanes == vf) return cv_load_vs(cb, p, vf, s);
  int64_t span = (int64_t)(vf - 1) * s + 1;
  LLVMTypeRef ty = LLVMVectorType(cb->f32, (unsigned)span);
  LLVMValueRef m[64 * 4];
  for (int64_t i = 0; i < span; i++) m[i] = LLVMConstInt(cb->i1, i <= (int64_t)(lanes - 1) * s, 0);
  LLVMTypeRef tys[2] = {ty, cb->ptr};
  LLVMValueRef args[4] = {p, LLVMConstInt(cb->i32, 4, 0), LLVMConstVector(m, (unsigned)span),
                          LLVMConstNull(ty)};
  LLVMValueRef v = cv_intrin(cb, "llvm.masked.load", tys, 2, args, 4);
  if (s == 1) return v;
  LLVMValueRef idx[64];
  for (int i = 0; i < vf; i++) idx[i] = LLVMConstInt(cb->i32, (unsigned long long)(i * s), 0);
  return LLVMBuildShuffleVector(cb->b, v, LLVMGetUndef(ty), LLVMConstVector(idx, (unsigned)vf), "");
}

/* nu vectors of output pixels from column ow0 (interior); lanes < vf masks
 * the last one. */
static void emit_chunk(Win *w, int nu, int lanes, LLVMValueRef ow0) {
  CvB *cb = &w->cb;
  const CvConv *cv = w->cv;
  int vf = cb->vf;
  LLVMValueRef acc[16];
  LLVMValueRef init = cv_splat(cb, w->init, vf);
  for (int u = 0; u < nu; u++) {
    acc[u] = cv_alloca(cb, cb->vty);
    cv_store(cb, init, acc[u]);
  }
  LLVMValueRef xoff = cv_mad(cb, ow0, cv->sw, -cv->pl);
  CvLoop kh = cv_for(cb, w->khlo_v, w->khhi_v, 1);
  LLVMValueRef ih = cv_add(cb, cv_mad(cb, w->oh, cv->sh, -cv->pt), cv_mul(cb, kh.iv, cv->dh));
  LLVMValueRef xrow = cv_gep(cb, cv_gep(cb, w->xp, cv_mul(cb, ih, cv->w)), xoff);
  LLVMValueRef wrow = w->wo ? cv_gep(cb, w->wo, cv_mul(cb, kh.iv, cv->kw)) : NULL;
  bool unroll = cv->kw <= 16;
  CvLoop kw = {0};
  LLVMValueRef kwv = NULL;
  if (!unroll) {
    kw = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, cv->kw), 1);
    kwv = kw.iv;
  }
  for (int64_t k = 0; k < (unroll ? cv->kw : 1); k++) {
    LLVMValueRef kk = unroll ? cv_i64(cb, k) : kwv;
    LLVMValueRef wv = wrow ? cv_splat(cb, cv_load(cb, cv_gep(cb, wrow, kk)), vf) : NULL;
    LLVMValueRef xk = cv_gep(cb, xrow, cv_mul(cb, kk, cv->dw));
    for (int u = 0; u < nu; u++) {
      LLVMValueRef xv = load_span(w, cv_gepc(cb, xk, (int64_t)u * vf * cv->sw),
                                  u == nu - 1 ? lanes : vf);
      LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, acc[u], "");
      cv_store(cb, combine(w, a, xv, wv), acc[u]);
    }
  }
  if (!unroll) cv_next(cb, &kw);
  cv_next(cb, &kh);
  LLVMValueRef yrow = cv_gep(cb, w->yp, cv_add(cb, cv_mul(cb, w->oh, cv->ow), ow0));
  LLVMValueRef rhs = NULL;
  if (w->op == CV_WIN_AVG)
    rhs = cv_splat(cb, cv_load(cb, cv_gep(cb, w->rh, w->oh)), vf);
  for (int u = 0; u < nu; u++) {
    int ln = u == nu - 1 ? lanes : vf;
    LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, acc[u], "");
    if (rhs) {
      LLVMValueRef rp = cv_gep(cb, w->rw, cv_add(cb, ow0, cv_i64(cb, (int64_t)u * vf)));
      LLVMValueRef rv;
      if (ln < vf) {
        rv = cv_load_masked(cb, rp, ln, LLVMConstNull(cb->vty));
      } else {
        rv = LLVMBuildLoad2(cb->b, cb->vty, rp, "");
        LLVMSetAlignment(rv, 4);
      }
      a = LLVMBuildFMul(cb->b, LLVMBuildFMul(cb->b, a, rhs, ""), rv, "");
    }
    if (w->rowbuf) {
      LLVMValueRef dst = cv_gep(cb, w->rowbuf, cv_add(cb, ow0, cv_i64(cb, (int64_t)u * vf)));
      if (ln < vf) cv_store_masked(cb, a, dst, ln);
      else cv_store(cb, a, dst);
    } else {
      cv_epi_store_vec(cb, cv, a, cv_gepc(cb, yrow, (int64_t)u * vf), ln);
    }
  }
}

/* One border pixel, scalar, with its kw range from the table.  With
 * `lanes` (an alloca of vf floats) the result goes to lane `lane` without
 * the epilogue, which emit_row then applies to all border pixels of the
 * row as one vector: a scalar GELU per border pixel is a chain of ~30
 * dependent operations, and at 56 columns two such pixels per row cost
 * as much as the whole vectorized interior. */
static void emit_pixel(Win *w, LLVMValueRef ow, LLVMValueRef lanes, LLVMValueRef lane) {
  CvB *cb = &w->cb;
  const CvConv *cv = w->cv;
  LLVMValueRef acc = cv_alloca(cb, cb->f32);
  cv_store(cb, w->init, acc);
  LLVMValueRef kwlo = cv_load_i32(cb, w->kwlo, ow), kwhi = cv_load_i32(cb, w->kwhi, ow);
  LLVMValueRef xoff = cv_mad(cb, ow, cv->sw, -cv->pl);
  CvLoop kh = cv_for(cb, w->khlo_v, w->khhi_v, 1);
  LLVMValueRef ih = cv_add(cb, cv_mad(cb, w->oh, cv->sh, -cv->pt), cv_mul(cb, kh.iv, cv->dh));
  LLVMValueRef xrow = cv_gep(cb, cv_gep(cb, w->xp, cv_mul(cb, ih, cv->w)), xoff);
  LLVMValueRef wrow = w->wo ? cv_gep(cb, w->wo, cv_mul(cb, kh.iv, cv->kw)) : NULL;
  CvLoop kw = cv_for(cb, kwlo, kwhi, 1);
  LLVMValueRef xv = cv_load(cb, cv_gep(cb, xrow, cv_mul(cb, kw.iv, cv->dw)));
  LLVMValueRef wv = wrow ? cv_load(cb, cv_gep(cb, wrow, kw.iv)) : NULL;
  cv_store(cb, combine(w, LLVMBuildLoad2(cb->b, cb->f32, acc, ""), xv, wv), acc);
  cv_next(cb, &kw);
  cv_next(cb, &kh);
  LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->f32, acc, "");
  if (w->op == CV_WIN_AVG)
    a = LLVMBuildFMul(cb->b, LLVMBuildFMul(cb->b, a, cv_load(cb, cv_gep(cb, w->rh, w->oh)), ""),
                      cv_load(cb, cv_gep(cb, w->rw, ow)), "");
  if (w->rowbuf)
    cv_store(cb, a, cv_gep(cb, w->rowbuf, ow));
  else if (lanes)
    cv_store(cb, a, cv_gep(cb, lanes, lane));
  else
    cv_epi_store_scalar(cb, cv, a, cv_gep(cb, w->yp, cv_add(cb, cv_mul(cb, w->oh, cv->ow), ow)));
}

static void emit_row(Win *w, int64_t ia, int64_t ib) {
  CvB *cb = &w->cb;
  int vf = cb->vf, nu = cv_num_regs(cb->c) == 32 ? 8 : 4;
  int64_t width = ib - ia, big = (int64_t)nu * vf;
  int64_t nbig = width / big, rest = width - nbig * big;
  if (nbig > 0) {
    CvLoop t = cv_for(cb, cv_i64(cb, ia), cv_i64(cb, ia + nbig * big), big);
    emit_chunk(w, nu, vf, t.iv);
    cv_next(cb, &t);
  }
  /* The rest in one chunk of up to nu vectors: one vector at a time, each
   * vector's taps were one dependent FMA chain (a 56-wide 3x3 depthwise
   * conv went 0.117 -> 0.092 ms). */
  if (rest > 0) {
    int n = (int)((rest + vf - 1) / vf);
    emit_chunk(w, n, (int)(rest - (int64_t)(n - 1) * vf), cv_i64(cb, ib - rest));
  }
  /* Border columns: [0, ia) and [ib, ow). */
  const CvConv *cv = w->cv;
  int64_t nborder = ia + (cv->ow - ib);
  LLVMValueRef lanes = !w->rowbuf && cv->epi && nborder > 1 && nborder <= vf ? cv_alloca(cb, cb->vty) : NULL;
  if (ia > 0) {
    CvLoop p = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, ia), 1);
    emit_pixel(w, p.iv, lanes, p.iv);
    cv_next(cb, &p);
  }
  if (ib < cv->ow) {
    CvLoop p = cv_for(cb, cv_i64(cb, ib), cv_i64(cb, cv->ow), 1);
    emit_pixel(w, p.iv, lanes, lanes ? cv_add(cb, p.iv, cv_i64(cb, ia - ib)) : NULL);
    cv_next(cb, &p);
  }
  if (lanes) {
    LLVMValueRef yrow = cv_gep(cb, w->yp, cv_mul(cb, w->oh, cv->ow));
    LLVMValueRef ptrs[64];
    for (int64_t k = 0; k < nborder; k++)
      ptrs[k] = cv_gepc(cb, yrow, k < ia ? k : ib + (k - ia));
    cv_epi_store_lanes(cb, cv, LLVMBuildLoad2(cb->b, cb->vty, lanes, ""), ptrs, (int)nborder);
  }
  if (w->rowbuf) {
    LLVMValueRef yrow = cv_gep(cb, w->yp, cv_mul(cb, w->oh, cv->ow));
    for (int64_t g = 0; g < cv->ow; g += (int64_t)EPI_GROUP * vf) {
      int64_t left = cv->ow - g;
      int n = (int)(left < (int64_t)EPI_GROUP * vf ? (left + vf - 1) / vf * vf : EPI_GROUP * vf);
      LLVMValueRef v = vl_load(cb->c, cb->b, LLVMVectorType(cb->f32, (unsigned)n), w->rowbuf,
                               cv_i64(cb, g), n, NULL);
      cv_epi_store_wide(cb, cv, v, cv_gepc(cb, yrow, g), (int)(left < n ? left : n));
    }
  }
}

/* Reciprocal window counts along one axis (NaN for an empty window). */
static void recip_counts(int64_t out, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
                         int64_t pe, bool include_pad, const int32_t *lo, const int32_t *hi,
                         float *r) {
  for (int64_t o = 0; o < out; o++) {
    int64_t cnt = hi[o] - lo[o];
    if (include_pad) {
      cnt = 0;
      for (int64_t t = 0; t < k; t++)
        if (o * s - pb + t * d < in + pe) cnt++;
    }
    r[o] = cnt > 0 ? (float)(1.0 / (double)cnt) : NAN;
  }
}

static Status setup(Win *w, bool cip, const float *wt, const float *bias, int64_t *ia,
                    int64_t *ib, Error *err) {
  const CvConv *cv = w->cv;
  CvB *cb = &w->cb;
  int64_t m = cv->oh > cv->ow ? cv->oh : cv->ow;
  int32_t *t = malloc((size_t)m * 4 * sizeof *t);
  float *r = malloc((size_t)(cv->oh + cv->ow) * sizeof *r);
  if (!t || !r) {
    free(t);
    free(r);
    return err_set(err, ST_NOMEM, "out of memory for window tables");
  }
  cv_axis_ranges(cv->oh, cv->h, cv->kh, cv->sh, cv->dh, cv->pt, t, t + m);
  cv_axis_ranges(cv->ow, cv->w, cv->kw, cv->sw, cv->dw, cv->pl, t + 2 * m, t + 3 * m);
  w->khlo = cv_table_i32(cb, t, cv->oh, "win.khlo");
  w->khhi = cv_table_i32(cb, t + m, cv->oh, "win.khhi");
  w->kwlo = cv_table_i32(cb, t + 2 * m, cv->ow, "win.kwlo");
  w->kwhi = cv_table_i32(cb, t + 3 * m, cv->ow, "win.kwhi");
  cv_interior(t + 2 * m, t + 3 * m, cv->ow, cv->kw, ia, ib);
  /* Strided spans wider than 4 vectors' worth are not worth a shuffle. */
  if (cv->sw > 4) *ia = *ib = 0;
  if (w->op == CV_WIN_AVG) {
    recip_counts(cv->oh, cv->h, cv->kh, cv->sh, cv->dh, cv->pt, cv->pb, cip, t, t + m, r);
    recip_counts(cv->ow, cv->w, cv->kw, cv->sw, cv->dw, cv->pl, cv->pr, cip, t + 2 * m, t + 3 * m,
                 r + cv->oh);
    w->rh = cg_const_blob(cb->c, r, (size_t)cv->oh * sizeof *r, "win.rh");
    w->rw = cg_const_blob(cb->c, r + cv->oh, (size_t)cv->ow * sizeof *r, "win.rw");
  }
  free(t);
  free(r);
  if (w->op == CV_WIN_CONV) {
    float *b = calloc((size_t)cv->oc, sizeof *b);
    if (!b) return err_set(err, ST_NOMEM, "out of memory for window tables");
    for (int64_t i = 0; bias && i < cv->oc; i++) b[i] = bias[i];
    size_t wbytes = (size_t)(cv->oc * cv->kh * cv->kw) * sizeof *wt;
    w->wp = cg_kernel_weight(cb->c, cb->fn, cg_weight_blob(cb->c, wt, wbytes, "dw.w"));
    w->bp = cg_kernel_weight(cb->c, cb->fn,
                             cg_weight_blob(cb->c, b, (size_t)cv->oc * sizeof *b, "dw.b"));
    free(b);
  }
  return ST_OK;
}

Status cv_emit_window(CgCtx *c, const CvConv *cv, CvWinOp op, bool count_include_pad,
                      const float *wt, const float *bias, LLVMValueRef x, LLVMValueRef y,
                      Error *err) {
  Win w = {.cv = cv, .op = op};
  cv_begin(&w.cb, c, op == CV_WIN_CONV ? "conv.depthwise" : "pool", cv_epi_nptr(cv));
  CvB *cb = &w.cb;
  int64_t ia, ib;
  Status st = setup(&w, count_include_pad, wt, bias, &ia, &ib, err);
  if (st != ST_OK) {
    cv_end(cb);
    return st;
  }
  LLVMValueRef xa = LLVMGetParam(cb->fn, 0), ya = LLVMGetParam(cb->fn, 1);
  /* Units: output rows of every plane. */
  int64_t dims[2] = {cv->n * cv->oc, cv->oh};
  VlNest ns;
  vl_nest_begin(c, cb->b, &ns, 2, dims, cb->lo, cb->hi);
  LLVMValueRef pl = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef n = LLVMBuildSDiv(cb->b, pl, cv_i64(cb, cv->oc), "");
  LLVMValueRef oc = LLVMBuildSRem(cb->b, pl, cv_i64(cb, cv->oc), "");
  LLVMValueRef ic = cv_add(cb, cv_mul(cb, n, cv->c), LLVMBuildSDiv(cb->b, oc, cv_i64(cb, cv->cout_g), ""));
  w.xp = cv_gep(cb, xa, cv_mul(cb, ic, cv->h * cv->w));
  w.yp = cv_gep(cb, ya, cv_mul(cb, pl, cv->oh * cv->ow));
  if (op == CV_WIN_CONV) {
    w.wo = cv_gep(cb, w.wp, cv_mul(cb, oc, cv->kh * cv->kw));
    w.init = cv_load(cb, cv_gep(cb, w.bp, oc));
  } else {
    w.init = cv_f32(cb, op == CV_WIN_MAX ? -INFINITY : 0.0f);
  }
  w.oh = vl_nest_level(c, cb->b, &ns);
  w.khlo_v = cv_load_i32(cb, w.khlo, w.oh);
  w.khhi_v = cv_load_i32(cb, w.khhi, w.oh);
  if (cv->epi && cg_epilogue_costly(cv->epi->node) && cv->ow <= ROWBUF_MAX) {
    int64_t vecs = (cv->ow + cb->vf - 1) / cb->vf + 1;
    w.rowbuf = cv_alloca(cb, LLVMArrayType2(cb->f32, (uint64_t)(vecs * cb->vf)));
    LLVMSetAlignment(w.rowbuf, 64);
  }
  emit_row(&w, ia, ib);
  vl_nest_end(c, cb->b, &ns);
  cv_end(cb);
  LLVMValueRef args[3];
  double outs = (double)(cv->n * cv->oc * cv->oh * cv->ow);
  double cost = cg_cost_ns(c, 2.0 * outs * (double)(cv->kh * cv->kw),
                           4.0 * (outs + (double)(cv->n * cv->c * cv->h * cv->w)));
  cv_call(cb, args, cv_epi_args(cv, x, y, args), vl_nest_units(2, dims), cost);
  return ST_OK;
}
