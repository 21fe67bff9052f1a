/*
 * 1x1, stride-1, unpadded Conv as a matrix product per (image, group):
 * Y[cout_g][HW] = W[cout_g][cin_g] * X[cin_g][HW] + bias (see conv_emit.h).
 * Vectors run along the contiguous pixel axis; the register tile is mr
 * output channels x nrv vectors of pixels, fed by nrv input vector loads
 * and mr weight broadcasts per input channel.  Weights are re-packed into
 * blocks of mr channels, [block][cin_g][mr], so the broadcasts of one
 * input channel are adjacent.  Pixel tiles are the outer loop so an input
 * panel stays in cache while every channel block consumes it; the last
 * partial vector uses masked loads and stores.
 */
#include <stdlib.h>

#include "../parallel.h"
#include "../vec/vec_loops.h"
#include "conv_emit.h"
#include "conv_epilogue.h"
#include "conv_ir.h"

typedef struct Pw {
  CvB cb;
  const CvConv *cv;
  int mr, nrv;
  int64_t hw, nb;         /* pixels per plane, channel blocks per group */
  LLVMValueRef wp, bp;
} Pw;

/* mr x nrv tile at pixel hw0 of block blk; lanes < vf masks the last
 * vector. */
static void emit_tile(Pw *p, int mr, int nrv, int lanes, LLVMValueRef xg, LLVMValueRef yg,
                      LLVMValueRef g, LLVMValueRef blk, LLVMValueRef hw0) {
  CvB *cb = &p->cb;
  const CvConv *cv = p->cv;
  int vf = cb->vf;
  LLVMValueRef acc[64];
  LLVMValueRef oc0 = cv_add(cb, cv_mul(cb, g, cv->cout_g), cv_mul(cb, blk, p->mr));
  for (int m = 0; m < mr; m++) {
    LLVMValueRef bv = cv_splat(cb, cv_load(cb, cv_gep(cb, p->bp, cv_add(cb, oc0, cv_i64(cb, m)))), vf);
    for (int v = 0; v < nrv; v++) {
      acc[m * nrv + v] = cv_alloca(cb, cb->vty);
      cv_store(cb, bv, acc[m * nrv + v]);
    }
  }
  LLVMValueRef wb = cv_gep(cb, p->wp, cv_mul(cb, cv_add(cb, cv_mul(cb, g, p->nb), blk),
                                            cv->cin_g * p->mr));
  LLVMValueRef x0 = cv_gep(cb, xg, hw0);
  CvLoop ic = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, cv->cin_g), 1);
  LLVMValueRef xr = cv_gep(cb, x0, cv_mul(cb, ic.iv, p->hw));
  LLVMValueRef wr = cv_gep(cb, wb, cv_mul(cb, ic.iv, p->mr));
  LLVMValueRef xv[8];
  for (int v = 0; v < nrv; v++) {
    LLVMValueRef ptr = cv_gepc(cb, xr, (int64_t)v * vf);
    if (lanes < vf && v == nrv - 1) {
      xv[v] = cv_load_masked(cb, ptr, lanes, LLVMConstNull(cb->vty));
    } else {
      xv[v] = LLVMBuildLoad2(cb->b, cb->vty, ptr, "");
      LLVMSetAlignment(xv[v], 4);
    }
  }
  for (int m = 0; m < mr; m++) {
    LLVMValueRef ws = cv_splat(cb, cv_load(cb, cv_gepc(cb, wr, m)), vf);
    for (int v = 0; v < nrv; v++) {
      LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, acc[m * nrv + v], "");
      cv_store(cb, cv_fma(cb, ws, xv[v], a), acc[m * nrv + v]);
    }
  }
  cv_next(cb, &ic);
  LLVMValueRef y0 = cv_gep(cb, cv_gep(cb, yg, cv_mul(cb, blk, p->mr * p->hw)), hw0);
  for (int m = 0; m < mr; m++)
    for (int v = 0; v < nrv; v++) {
      LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, acc[m * nrv + v], "");
      LLVMValueRef ptr = cv_gepc(cb, y0, m * p->hw + (int64_t)v * vf);
      cv_epi_store_vec(cb, cv, a, ptr, v == nrv - 1 ? lanes : vf);
    }
}

/* Channel block blk (a full block of mr channels, or the last, shorter
 * one) for the pixel tile at hw0. */
static void emit_block(Pw *p, int nrv, int lanes, LLVMValueRef xg, LLVMValueRef yg,
                       LLVMValueRef g, LLVMValueRef hw0, LLVMValueRef blk) {
  CvB *cb = &p->cb;
  int64_t nfull = p->cv->cout_g / p->mr;
  int mrem = (int)(p->cv->cout_g - nfull * p->mr);
  if (nfull > 0 && mrem > 0) {
    VlIf f;
    vl_if_begin(cb->c, cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, blk, cv_i64(cb, nfull), ""), &f);
    emit_tile(p, p->mr, nrv, lanes, xg, yg, g, blk, hw0);
    vl_if_else(cb->c, cb->b, &f);
    emit_tile(p, mrem, nrv, lanes, xg, yg, g, blk, hw0);
    vl_if_end(cb->c, cb->b, &f);
  } else {
    emit_tile(p, nfull > 0 ? p->mr : mrem, nrv, lanes, xg, yg, g, blk, hw0);
  }
}

static Status pack(Pw *p, const float *wt, const float *bias, Error *err) {
  const CvConv *cv = p->cv;
  int64_t wn = cv->group * p->nb * p->mr * cv->cin_g;
  float *w = calloc((size_t)wn, sizeof *w), *b = calloc((size_t)cv->oc, sizeof *b);
  if (!w || !b) {
    free(w);
    free(b);
    return err_set(err, ST_NOMEM, "out of memory re-packing Conv weights");
  }
  for (int64_t g = 0; g < cv->group; g++)
    for (int64_t o = 0; o < cv->cout_g; o++) {
      int64_t oc = g * cv->cout_g + o, blk = o / p->mr, m = o % p->mr;
      float *wb = w + (g * p->nb + blk) * cv->cin_g * p->mr;
      for (int64_t i = 0; i < cv->cin_g; i++) wb[i * p->mr + m] = wt[oc * cv->cin_g + i];
      b[oc] = bias ? bias[oc] : 0.0f;
    }
  p->wp = cg_kernel_weight(p->cb.c, p->cb.fn,
                           cg_weight_blob(p->cb.c, w, (size_t)wn * sizeof *w, "conv1x1.w"));
  p->bp = cg_kernel_weight(p->cb.c, p->cb.fn,
                           cg_weight_blob(p->cb.c, b, (size_t)cv->oc * sizeof *b, "conv1x1.b"));
  free(w);
  free(b);
  return ST_OK;
}

Status cv_emit_pointwise(CgCtx *c, const CvConv *cv, const float *wt, const float *bias,
                         LLVMValueRef x, LLVMValueRef y, Error *err) {
  Pw p = {.cv = cv};
  cv_begin(&p.cb, c, "conv.pointwise", cv_epi_nptr(cv));
  CvB *cb = &p.cb;
  int vf = cb->vf;
  /* 32 registers: 8 channels x 3 vectors (24 accumulators, 8 broadcasts
   * and 3 loads per input channel).  Against 6 x 4, its input panel is
   * 3/4 as wide (55 instead of 72 KiB over Next-ViT's 288 input channels)
   * and 8 divides more channel counts: Next-ViT-S's 1x1 convs went from
   * 84-89% to 94-97% of the FMA peak (the model 104.6 -> 103.0 ms);
   * HRFormer-T 35.9 -> 35.6 ms; ViTAE-T and torchvision's MobileNets,
   * ResNet-50 and DenseNet-121 within noise. */
  p.mr = cv_num_regs(c) == 32 ? 8 : 6;
  p.nrv = cv_num_regs(c) == 32 ? 3 : 2;
  p.hw = cv->oh * cv->ow;
  p.nb = (cv->cout_g + p.mr - 1) / p.mr;
  Status st = pack(&p, wt, bias, err);
  if (st != ST_OK) {
    cv_end(cb);
    return st;
  }
  LLVMValueRef xp = LLVMGetParam(cb->fn, 0), yp = LLVMGetParam(cb->fn, 1);
  int64_t big = (int64_t)p.nrv * vf;
  int64_t nbig = p.hw / big, rem = p.hw - nbig * big;
  /* The pixels left after the wide tiles are one tile too, of rv < nrv
   * vectors whose last is masked to `last` lanes: at 7x7 (49 pixels, 16
   * lanes) one 4-vector tile instead of three 1-vector tiles and a 1-lane
   * one, so every weight broadcast feeds rv FMAs and the accumulators
   * cover the FMA latency (1x1 convs of Next-ViT's last stage: ~45% ->
   * ~75% of the FMA peak). */
  int rv = (int)((rem + vf - 1) / vf);
  int last = (int)(rem - (int64_t)(rv > 0 ? rv - 1 : 0) * vf);
  /* Units: one (pixel tile, channel block) of one group and image, in the
   * serial order: pixel tiles outside, so an input panel stays in cache
   * while every channel block consumes it. */
  int64_t dims[4] = {cv->n, cv->group, nbig + (rv > 0), p.nb};
  VlNest ns;
  vl_nest_begin(c, cb->b, &ns, 4, dims, cb->lo, cb->hi);
  LLVMValueRef n = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef g = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef xg = cv_gep(cb, xp, cv_mul(cb, cv_add(cb, cv_mul(cb, n, cv->c),
                                                     cv_mul(cb, g, cv->cin_g)), p.hw));
  LLVMValueRef yg = cv_gep(cb, yp, cv_mul(cb, cv_add(cb, cv_mul(cb, n, cv->oc),
                                                     cv_mul(cb, g, cv->cout_g)), p.hw));
  LLVMValueRef t = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef blk = vl_nest_level(c, cb->b, &ns);
  /* The tile's kind: nbig wide tiles, then the remainder tile. */
  VlIf fb;
  if (nbig > 0) {
    if (rv > 0) vl_if_begin(c, cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, t, cv_i64(cb, nbig), ""), &fb);
    emit_block(&p, p.nrv, vf, xg, yg, g, cv_mul(cb, t, big), blk);
    if (rv > 0) vl_if_else(c, cb->b, &fb);
  }
  if (rv > 0) emit_block(&p, rv, last, xg, yg, g, cv_i64(cb, nbig * big), blk);
  if (nbig > 0 && rv > 0) vl_if_end(c, cb->b, &fb);
  vl_nest_end(c, cb->b, &ns);
  cv_end(cb);
  LLVMValueRef args[3];
  double outs = (double)(cv->n * cv->oc * p.hw);
  double cost = cg_cost_ns(c, 2.0 * outs * (double)cv->cin_g,
                           4.0 * (outs + (double)(cv->n * cv->c * p.hw)));
  cv_call(cb, args, cv_epi_args(cv, x, y, args), vl_nest_units(4, dims), cost);
  return ST_OK;
}
