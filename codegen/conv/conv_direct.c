/*
 * Direct 2-D convolution vectorized over output channels (see
 * conv_emit.h).  Weights are re-packed at compile time so that one vector
 * load gives vf consecutive output channels of one (input channel, kh, kw)
 * tap: per group, blocks of nvb vectors, [block][cin_g][kh][kw][nvb][vf],
 * zero-padded past cout_g.  The register tile is rw output pixels of one
 * row x nvb vectors of channels; each tap is one broadcast input load per
 * pixel and nvb weight loads shared by the rw pixels.  Interior pixels
 * (whole column window inside the input) run the rw-wide tile with kw
 * unrolled; the others run a one-pixel tile whose kw range comes from a
 * table.  Rows clip their kh range from a table, so padding is free.
 */
#include <stdlib.h>

#include "../parallel.h"
#include "../vec/epilogue.h"
#include "../vec/vec_loops.h"
#include "../vec/vec_math.h"
#include "../vec/vec_transpose.h"
#include "conv_emit.h"
#include "conv_epilogue.h"
#include "conv_ir.h"

typedef struct Direct {
  CvB cb;
  const CvConv *cv;
  int nvmax;
  int64_t vg, kg;                 /* vectors per group, cin_g*kh*kw */
  LLVMValueRef wp, bp;            /* packed weights and bias */
  LLVMValueRef khlo, khhi, kwlo, kwhi;
  LLVMValueRef x, y;
  /* 1x1 convs of small planes whose weights are too big to stay cached
   * (Next-ViT's 7x7 stage: 4 MB per conv, each block re-read by only 7
   * rows) stall on memory in the first row of every channel block; the
   * rows prefetch the next blocks into L2 instead, spread over the rows. */
  bool prefetch;
} Direct;

/* Where a tile sits: all runtime values of the enclosing loops. */
typedef struct TilePos {
  int nvb, lanes;                 /* vectors of the block, valid channels */
  LLVMValueRef vbase, ocbase;     /* block's first vector / output channel */
  LLVMValueRef xg, yimg;          /* group's first input plane, image output */
  LLVMValueRef oh, khlo, khhi;
} TilePos;

static void emit_tap(Direct *d, const TilePos *tp, int rw, LLVMValueRef acc[], LLVMValueRef xrow,
                     LLVMValueRef xoff, LLVMValueRef wkh, LLVMValueRef kw) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  int vf = cb->vf, nvb = tp->nvb;
  LLVMValueRef wv[8];
  LLVMValueRef wk = cv_gep(cb, wkh, cv_mul(cb, kw, (int64_t)nvb * vf));
  for (int j = 0; j < nvb; j++) {
    LLVMValueRef v = LLVMBuildLoad2(cb->b, cb->vty, cv_gepc(cb, wk, (int64_t)j * vf), "");
    LLVMSetAlignment(v, 4);
    wv[j] = v;
  }
  LLVMValueRef xk = cv_gep(cb, xrow, cv_add(cb, xoff, cv_mul(cb, kw, cv->dw)));
  for (int p = 0; p < rw; p++) {
    LLVMValueRef xs = cv_splat(cb, cv_load(cb, cv_gepc(cb, xk, p * cv->sw)), vf);
    for (int j = 0; j < nvb; j++) {
      LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, acc[p * nvb + j], "");
      cv_store(cb, cv_fma(cb, xs, wv[j], a), acc[p * nvb + j]);
    }
  }
}

/* NCHW output: each lane of an accumulator is a channel, so its pixels
 * are plane floats apart.  A single pixel stores lane by lane; wider tiles
 * are transposed in registers, in chunks of up to vf pixels, so each
 * channel's pixels go out as one vector store (ViTAE's 3-channel stem
 * convs spent ~40% of their time in the scalar stores and the epilogue on
 * them). */
static void store_tile(Direct *d, const TilePos *tp, int rw, LLVMValueRef acc[],
                       LLVMValueRef yb) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  int vf = cb->vf, nvb = tp->nvb;
  int64_t plane = cv->oh * cv->ow;
  if (rw == 1) {
    for (int j = 0; j < nvb; j++) {
      LLVMValueRef a = LLVMBuildLoad2(cb->b, cb->vty, acc[j], "");
      a = cv_epi_strided(cb, cv, a, cv_gepc(cb, yb, (int64_t)j * vf * plane), plane,
                         tp->lanes - j * vf);
      for (int l = 0; l < vf && j * vf + l < tp->lanes; l++) {
        LLVMValueRef lane = LLVMConstInt(cb->i32, (unsigned)l, 0);
        cv_store(cb, LLVMBuildExtractElement(cb->b, a, lane, ""),
                 cv_gepc(cb, yb, (int64_t)(j * vf + l) * plane));
      }
    }
    return;
  }
  /* A chunk of rr pixels is transposed as rows = 2^k >= rr; the padding
   * rows cost shuffles, and with a costly activation (applied after the
   * transpose) a whole wasted activation each: then the chunks are powers
   * of two (10 pixels as 8 + 2; ViTAE's GELU stem convs were 8% slower
   * padded to 16). */
  bool exact = cv->epi && cg_epilogue_costly(cv->epi->node);
  for (int p0 = 0, rr; p0 < rw; p0 += rr) {
    rr = rw - p0 < vf ? rw - p0 : vf;
    int rows = 1;
    while (rows < rr) rows *= 2;
    if (exact && rows > rr) rr = rows /= 2;
    int q = vf / rows;
    for (int j = 0; j < nvb; j++) {
      LLVMValueRef r[64];
      for (int t = 0; t < rows; t++)
        r[t] = t < rr ? LLVMBuildLoad2(cb->b, cb->vty, acc[(p0 + t) * nvb + j], "")
                      : LLVMConstNull(cb->vty);
      vt_transpose_blocks(cb->c, cb->b, r, rows, vf);
      for (int k = 0; k < rows; k++) {
        int ch0 = j * vf + k * q;
        int nch = tp->lanes - ch0 < q ? tp->lanes - ch0 : q;
        if (nch <= 0) break;
        LLVMValueRef base = cv_gepc(cb, yb, (int64_t)ch0 * plane + p0);
        LLVMValueRef v = r[k];
        if (cv->epi) {
          LLVMValueRef res = NULL;
          if (cv->epi->r) {
            LLVMValueRef part[16];
            LLVMTypeRef pty = LLVMVectorType(cb->f32, (unsigned)rows);
            for (int col = 0; col < q; col++)
              part[col] = col < nch
                              ? cg_epilogue_load_residual(cb->c, cb->b, rows,
                                                          cv_epi_residual_ptr(cb, base),
                                                          cv_i64(cb, (int64_t)col * plane), rr)
                              : LLVMConstNull(pty);
            res = vm_concat(cb->c, cb->b, part, q);
          }
          v = cg_epilogue_finish(cb->c, cb->b, cv->epi->node, v, res);
        }
        for (int col = 0; col < nch; col++)
          vl_store(cb->c, cb->b, q == 1 ? v : vm_lanes(cb->c, cb->b, v, col * rows, rows), base,
                   cv_i64(cb, (int64_t)col * plane), rr);
      }
    }
  }
}

/* One tile of rw pixels starting at column ow0; kw in [kwlo, kwhi) or the
 * whole kernel (kwlo NULL, unrolled when short). */
static void emit_tile(Direct *d, const TilePos *tp, int rw, LLVMValueRef ow0, LLVMValueRef kwlo,
                      LLVMValueRef kwhi) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  int vf = cb->vf, nvb = tp->nvb;
  LLVMValueRef acc[32 * 8];
  for (int j = 0; j < nvb; j++) {
    LLVMValueRef bv =
        LLVMBuildLoad2(cb->b, cb->vty, cv_gep(cb, d->bp, cv_mul(cb, cv_add(cb, tp->vbase,
                                                                           cv_i64(cb, j)), vf)), "");
    LLVMSetAlignment(bv, 4);
    for (int p = 0; p < rw; p++) {
      acc[p * nvb + j] = cv_alloca(cb, cb->vty);
      cv_store(cb, bv, acc[p * nvb + j]);
    }
  }
  LLVMValueRef wblk = cv_gep(cb, d->wp, cv_mul(cb, tp->vbase, d->kg * vf));
  LLVMValueRef xoff = cv_mad(cb, ow0, cv->sw, -cv->pl);
  CvLoop ic = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, cv->cin_g), 1);
  if (d->prefetch) {
    /* One 64-byte line of the next channel blocks' weights per input
     * channel, further along for each output row (see Direct.prefetch). */
    LLVMValueRef line = cv_add(cb, cv_mul(cb, tp->oh, cv->cin_g), ic.iv);
    LLVMValueRef pf =
        cv_gep(cb, wblk, cv_add(cb, cv_i64(cb, d->kg * nvb * vf), cv_mul(cb, line, 16)));
    LLVMTypeRef tys[1] = {cb->ptr};
    LLVMValueRef args[4] = {pf, LLVMConstInt(cb->i32, 0, 0), LLVMConstInt(cb->i32, 2, 0),
                            LLVMConstInt(cb->i32, 1, 0)};
    cv_intrin(cb, "llvm.prefetch", tys, 1, args, 4);
  }
  LLVMValueRef xc = cv_gep(cb, tp->xg, cv_mul(cb, ic.iv, cv->h * cv->w));
  LLVMValueRef wic = cv_gep(cb, wblk, cv_mul(cb, ic.iv, cv->kh * cv->kw * nvb * vf));
  CvLoop kh = cv_for(cb, tp->khlo, tp->khhi, 1);
  LLVMValueRef ih = cv_add(cb, cv_mad(cb, tp->oh, cv->sh, -cv->pt), cv_mul(cb, kh.iv, cv->dh));
  LLVMValueRef xrow = cv_gep(cb, xc, cv_mul(cb, ih, cv->w));
  LLVMValueRef wkh = cv_gep(cb, wic, cv_mul(cb, kh.iv, cv->kw * nvb * vf));
  if (!kwlo && cv->kw <= 4) {
    /* Short rows of taps unroll; emit_rows shrank rw so the broadcasts
     * the taps share stay in registers. */
    for (int64_t k = 0; k < cv->kw; k++) emit_tap(d, tp, rw, acc, xrow, xoff, wkh, cv_i64(cb, k));
  } else {
    CvLoop kw = cv_for(cb, kwlo ? kwlo : cv_i64(cb, 0), kwhi ? kwhi : cv_i64(cb, cv->kw), 1);
    emit_tap(d, tp, rw, acc, xrow, xoff, wkh, kw.iv);
    cv_next_rolled(cb, &kw);
  }
  cv_next(cb, &kh);
  cv_next(cb, &ic);
  int64_t plane = cv->oh * cv->ow;
  LLVMValueRef yb = cv_gep(cb, tp->yimg, cv_add(cb, cv_mul(cb, tp->ocbase, plane),
                                                cv_add(cb, cv_mul(cb, tp->oh, cv->ow), ow0)));
  store_tile(d, tp, rw, acc, yb);
}

/* Output row tp->oh of one channel block. */
static void emit_row(Direct *d, TilePos *tp, int64_t ia, int64_t ib) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  int acc_budget = cv_num_regs(cb->c) == 32 ? 24 : 12;
  if (cv->kw <= 4 && cv->kw > 1) acc_budget = acc_budget * 2 / 3;
  int rwmax = acc_budget / tp->nvb;
  if (rwmax < 1) rwmax = 1;
  /* The interior run is cut into ntiles tiles of rw or rw + 1 pixels
   * (54 columns: 6 of 8 and one of 6 rather than 7 of 7 and five single
   * pixels, whose two accumulator chains run the FMAs at half rate). */
  int64_t width = ib - ia, ntiles = 0, rw = 1, nwide = 0;
  if (width > 0) {
    ntiles = (width + rwmax - 1) / rwmax;
    rw = width / ntiles;
    nwide = width - ntiles * rw;
  }
  tp->khlo = cv_load_i32(cb, d->khlo, tp->oh);
  tp->khhi = cv_load_i32(cb, d->khhi, tp->oh);
  if (nwide > 0) {
    CvLoop t = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, nwide), 1);
    emit_tile(d, tp, (int)rw + 1, cv_mad(cb, t.iv, rw + 1, ia), NULL, NULL);
    cv_next(cb, &t);
  }
  if (ntiles > nwide) {
    CvLoop t = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, ntiles - nwide), 1);
    emit_tile(d, tp, (int)rw, cv_mad(cb, t.iv, rw, ia + nwide * (rw + 1)), NULL, NULL);
    cv_next(cb, &t);
  }
  /* Single pixels: every column outside the tiled run [ts, te). */
  int64_t ts = ia, te = ib;
  if (te > ts && ts == 0 && te == cv->ow) return;
  CvLoop px = cv_for(cb, cv_i64(cb, ts == 0 && te > ts ? te : 0), cv_i64(cb, cv->ow), 1);
  emit_tile(d, tp, 1, px.iv, cv_load_i32(cb, d->kwlo, px.iv), cv_load_i32(cb, d->kwhi, px.iv));
  /* The loop steps by one except over the tiled run. */
  LLVMValueRef nx = cv_add(cb, px.iv, cv_i64(cb, 1));
  if (te > ts) {
    LLVMValueRef at = LLVMBuildICmp(cb->b, LLVMIntEQ, nx, cv_i64(cb, ts), "");
    nx = LLVMBuildSelect(cb->b, at, cv_i64(cb, te), nx, "");
  }
  LLVMBasicBlockRef from = LLVMGetInsertBlock(cb->b);
  LLVMBuildBr(cb->b, px.head);
  LLVMAddIncoming(px.iv, &nx, &from, 1);
  LLVMPositionBuilderAtEnd(cb->b, px.exit);
}

static Status pack(Direct *d, const float *wt, const float *bias, Error *err) {
  const CvConv *cv = d->cv;
  int vf = d->cb.vf;
  int64_t nfull = cv->cout_g / (d->nvmax * vf);
  int64_t wn = cv->group * d->vg * vf * d->kg, bn = cv->group * d->vg * vf;
  if (wn > ((int64_t)1 << 28)) return err_set(err, ST_UNSUPPORTED, "Conv weights too large to re-pack");
  float *w = calloc((size_t)wn, sizeof *w), *b = calloc((size_t)bn, sizeof *b);
  if (!w || !b) {
    free(w);
    free(b);
    return err_set(err, ST_NOMEM, "out of memory re-packing Conv weights");
  }
  for (int64_t g = 0; g < cv->group; g++)
    for (int64_t v = 0; v < d->vg; v++) {
      int64_t blk = v / d->nvmax;
      int64_t v0 = blk * d->nvmax, nvb = blk < nfull ? d->nvmax : d->vg - nfull * d->nvmax;
      int64_t j = v - v0;
      float *wb = w + (g * d->vg + v0) * d->kg * vf;
      for (int l = 0; l < vf; l++) {
        int64_t o = v * vf + l;
        if (o >= cv->cout_g) continue;
        int64_t oc = g * cv->cout_g + o;
        b[(g * d->vg + v) * vf + l] = bias ? bias[oc] : 0.0f;
        for (int64_t k = 0; k < d->kg; k++) wb[(k * nvb + j) * vf + l] = wt[oc * d->kg + k];
      }
    }
  d->wp = cg_kernel_weight(d->cb.c, d->cb.fn,
                           cg_weight_blob(d->cb.c, w, (size_t)wn * sizeof *w, "conv.w"));
  d->bp = cg_kernel_weight(d->cb.c, d->cb.fn,
                           cg_weight_blob(d->cb.c, b, (size_t)bn * sizeof *b, "conv.b"));
  free(w);
  free(b);
  return ST_OK;
}

static Status tables(Direct *d, int64_t *ia, int64_t *ib, Error *err) {
  const CvConv *cv = d->cv;
  int64_t m = cv->oh > cv->ow ? cv->oh : cv->ow;
  int32_t *t = malloc((size_t)m * 4 * sizeof *t);
  if (!t) return err_set(err, ST_NOMEM, "out of memory for Conv tables");
  cv_axis_ranges(cv->oh, cv->h, cv->kh, cv->sh, cv->dh, cv->pt, t, t + m);
  d->khlo = cv_table_i32(&d->cb, t, cv->oh, "conv.khlo");
  d->khhi = cv_table_i32(&d->cb, t + m, cv->oh, "conv.khhi");
  cv_axis_ranges(cv->ow, cv->w, cv->kw, cv->sw, cv->dw, cv->pl, t + 2 * m, t + 3 * m);
  d->kwlo = cv_table_i32(&d->cb, t + 2 * m, cv->ow, "conv.kwlo");
  d->kwhi = cv_table_i32(&d->cb, t + 3 * m, cv->ow, "conv.kwhi");
  cv_interior(t + 2 * m, t + 3 * m, cv->ow, cv->kw, ia, ib);
  free(t);
  return ST_OK;
}

Status cv_emit_direct(CgCtx *c, const CvConv *cv, const float *wt, const float *bias,
                      LLVMValueRef x, LLVMValueRef y, Error *err) {
  Direct d = {.cv = cv};
  cv_begin(&d.cb, c, "conv.direct", cv_epi_nptr(cv));
  CvB *cb = &d.cb;
  /* Few output channels per group (HRFormer's 18-channel branch) fill
   * 16-lane vectors badly (18 of 32 lanes). */
  cv_narrow_vectors(cb, cv->cout_g);
  int vf = cb->vf;
  d.x = LLVMGetParam(cb->fn, 0);
  d.y = LLVMGetParam(cb->fn, 1);
  d.vg = (cv->cout_g + vf - 1) / vf;
  d.kg = cv->cin_g * cv->kh * cv->kw;
  /* Channel vectors per tile: with 32 registers 3 for 1x1 kernels (a row
   * tile of up to 8 pixels x 3 vectors = 24 accumulators; 7x7 1x1 convs
   * 79% -> 85% of the FMA peak against 2 vectors) and where blocks of 2
   * would leave a one-vector block that blocks of 3 do not (HRFormer's
   * 18-channel 3x3 conv as three 8-lane vectors: 66% -> 69%; with 16
   * vectors, blocks of 3 cost ViTAE's 14x14 3x3 convs 13%), else 2. */
  int nv = 2;
  if (cv_num_regs(c) == 32 && ((cv->kh == 1 && cv->kw == 1) || (d.vg % 2 && d.vg % 3 != 1)))
    nv = 3;
  d.nvmax = (int)(d.vg < nv ? d.vg : nv);
  d.prefetch = cv->kh == 1 && cv->kw == 1 && cv->group * d.vg * vf * d.kg * 4 > ((int64_t)1 << 20);
  int64_t ia, ib;
  Status st = pack(&d, wt, bias, err);
  if (st == ST_OK) st = tables(&d, &ia, &ib, err);
  if (st != ST_OK) {
    cv_end(cb);
    return st;
  }
  int64_t nfull = cv->cout_g / (d.nvmax * vf);
  int64_t rem = cv->cout_g - nfull * d.nvmax * vf;
  /* Units: one output row of one channel block of one group and image. */
  int64_t dims[4] = {cv->n, cv->group, nfull + (rem > 0), cv->oh};
  VlNest ns;
  vl_nest_begin(c, cb->b, &ns, 4, dims, cb->lo, cb->hi);
  LLVMValueRef n = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef g = vl_nest_level(c, cb->b, &ns);
  TilePos tp = {0};
  tp.xg = cv_gep(cb, d.x, cv_mul(cb, cv_add(cb, cv_mul(cb, n, cv->c),
                                            cv_mul(cb, g, cv->cin_g)), cv->h * cv->w));
  tp.yimg = cv_gep(cb, d.y, cv_mul(cb, n, cv->oc * cv->oh * cv->ow));
  LLVMValueRef gv = cv_mul(cb, g, d.vg), goc = cv_mul(cb, g, cv->cout_g);
  LLVMValueRef blk = vl_nest_level(c, cb->b, &ns);
  tp.oh = vl_nest_level(c, cb->b, &ns);
  VlIf f;
  if (nfull > 0 && rem > 0)
    vl_if_begin(c, cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, blk, cv_i64(cb, nfull), ""), &f);
  if (nfull > 0) {
    tp.nvb = d.nvmax;
    tp.lanes = d.nvmax * vf;
    tp.vbase = cv_add(cb, gv, cv_mul(cb, blk, d.nvmax));
    tp.ocbase = cv_add(cb, goc, cv_mul(cb, blk, (int64_t)d.nvmax * vf));
    emit_row(&d, &tp, ia, ib);
  }
  if (nfull > 0 && rem > 0) vl_if_else(c, cb->b, &f);
  if (rem > 0) {
    tp.nvb = (int)(d.vg - nfull * d.nvmax);
    tp.lanes = (int)rem;
    tp.vbase = cv_add(cb, gv, cv_i64(cb, nfull * d.nvmax));
    tp.ocbase = cv_add(cb, goc, cv_i64(cb, nfull * d.nvmax * vf));
    emit_row(&d, &tp, ia, ib);
  }
  if (nfull > 0 && rem > 0) vl_if_end(c, cb->b, &f);
  vl_nest_end(c, cb->b, &ns);
  cv_end(cb);
  LLVMValueRef args[3];
  double outs = (double)(cv->n * cv->oc * cv->oh * cv->ow);
  double cost = cg_cost_ns(c, 2.0 * outs * (double)d.kg,
                           4.0 * (outs + (double)(cv->n * cv->c * cv->h * cv->w)));
  cv_call(cb, args, cv_epi_args(cv, x, y, args), vl_nest_units(4, dims), cost);
  return ST_OK;
}
