/*
 * Depthwise Conv vectorized across channels.
 *
 * conv_window.c vectorizes along output rows: a 7x7 plane used 7 of 16
 * lanes, and every plane ran its border columns scalar.  EfficientNet-B0's
 * 5x5 depthwise convolutions at 7x7 and 14x14 ran at 7-13% of the FMA
 * peak, its stride-2 ones at 10-15%.  Here one unit is a block of vf
 * channels of one image and one band of output rows (the whole plane when
 * it fits):
 *
 *   fill     the block's input rows, vf pixels at a time, are transposed in
 *            registers into a zero-padded channels-last stack buffer
 *            P [HP][WP][vf] (a whole plane in flat chunks of vf pixels,
 *            through a table of slots; a band row by row, halo included),
 *            so padding, stride and dilation cost nothing later;
 *   compute  each output pixel is sum over taps of P[...] * W[tap] (one
 *            vector of vf channels' weights per tap), in row tiles of
 *            register accumulators, into a channels-last buffer O;
 *   drain    O is transposed back, vf pixels at a time, and each channel's
 *            vector of pixels goes through the FusedConv epilogue into the
 *            NCHW output.
 *
 * Only for channel multiplier 1 (group == C == M).  Each buffer is at most
 * DWB_BUF_MAX bytes (plus P's trash slot): 128 KiB of the 256 KiB of stack
 * a task may use (docs/ABI.md).  Rows wider than that leave the kernel to
 * conv_window.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../parallel.h"
#include "../vec/epilogue.h"
#include "../vec/vec_loops.h"
#include "../vec/vec_transpose.h"
#include "conv_emit.h"
#include "conv_epilogue.h"
#include "conv_ir.h"

enum { DWB_BUF_MAX = 64 * 1024, DWB_MAX_TILE = 12 };

typedef struct Dwb {
  CvB cb;
  const CvConv *cv;
  int64_t hp, wp;           /* padded input buffer rows, columns */
  int64_t band;             /* output rows per band; oh: one band, flat fill and drain */
  int64_t pin, pout;        /* pixels per input / output plane */
  LLVMValueRef slot_tab;    /* flat input pixel -> slot in P (the trash slot hp*wp if unused) */
  LLVMValueRef wpk, bpk;    /* packed weights [blk][kh][kw][vf], bias [blk][vf] */
  LLVMValueRef pbuf, obuf;  /* stack buffers */
  LLVMValueRef tbuf;        /* [vf][vf]: one transposed chunk on its way out */
  LLVMValueRef xb, yb, wb, bb; /* the unit's bases */
  /* Channels in the unit's block at run time (the last block of a channel
   * count that is not a multiple of vf has fewer), NULL when every block
   * is full.  One body serves both: a second, compile-time tail variant
   * doubled the kernel's code (HRFormer-T compiled in 8.8 s, not 7.6). */
  LLVMValueRef nch;
} Dwb;

/* &base[ch * plane]: channel ch's plane, clamped to the block's last valid
 * channel so that loads stay inside the tensor. */
static LLVMValueRef chan_plane(Dwb *d, LLVMValueRef base, int ch, int64_t plane) {
  CvB *cb = &d->cb;
  if (!d->nch) return cv_gepc(cb, base, (int64_t)ch * plane);
  LLVMValueRef c = cv_i64(cb, ch);
  LLVMValueRef last = LLVMBuildSub(cb->b, d->nch, cv_i64(cb, 1), "");
  c = LLVMBuildSelect(cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, c, d->nch, ""), c, last, "");
  return cv_gep(cb, base, cv_mul(cb, c, plane));
}

/* Rows and columns of P a plane needs: the last tap of the last output. */
static int64_t span(int64_t out, int64_t k, int64_t s, int64_t d) { return (out - 1) * s + (k - 1) * d + 1; }

/* Output rows per band whose two buffers fit DWB_BUF_MAX (balanced over
 * the plane); 0 when not even one row fits. */
static int64_t rows_per_band(const CgCtx *c, const CvConv *cv) {
  int64_t wp = span(cv->ow, cv->kw, cv->sw, cv->dw), lane_bytes = 4 * (int64_t)c->vf32;
  if (wp > 4096 || cv->ow * lane_bytes > DWB_BUF_MAX) return 0;
  int64_t in_rows = DWB_BUF_MAX / (wp * lane_bytes), halo = (cv->kh - 1) * cv->dh + 1;
  if (in_rows < halo) return 0;
  int64_t r = (in_rows - halo) / cv->sh + 1, r_out = DWB_BUF_MAX / (cv->ow * lane_bytes);
  if (r > r_out) r = r_out;
  if (r >= cv->oh) return cv->oh;
  int64_t nband = (cv->oh + r - 1) / r;
  return (cv->oh + nband - 1) / nband;
}

bool cv_depthwise_blocked_fits(const CgCtx *c, const CvConv *cv) {
  if (c->vf32 < 4 || c->vf32 > 16 || cv->group != cv->c || cv->oc != cv->c || cv->cin_g != 1) return false;
  if (cv->oh < 1 || cv->ow < 1 || cv->kh < 1 || cv->kw < 1 || cv->kh * cv->kw > 64) return false;
  int64_t hp = span(cv->oh, cv->kh, cv->sh, cv->dh), wp = span(cv->ow, cv->kw, cv->sw, cv->dw);
  /* Every input pixel is transposed into the copy (or its trash slot): not
   * for inputs far larger than what the outputs read (a huge stride). */
  return hp <= (INT64_C(1) << 20) && rows_per_band(c, cv) > 0 && cv->h * cv->w <= 4 * hp * wp;
}

static LLVMValueRef vec_at(Dwb *d, LLVMValueRef base, LLVMValueRef slot) {
  return cv_gep(&d->cb, base, cv_mul(&d->cb, slot, d->cb.vf));
}

static LLVMValueRef load_vec(Dwb *d, LLVMValueRef p) {
  LLVMValueRef v = LLVMBuildLoad2(d->cb.b, d->cb.vty, p, "");
  LLVMSetAlignment(v, (unsigned)d->cb.vf * 4);
  return v;
}

static void store_vec(Dwb *d, LLVMValueRef v, LLVMValueRef p) {
  LLVMSetAlignment(LLVMBuildStore(d->cb.b, v, p), (unsigned)d->cb.vf * 4);
}

/* Stores the transposed vectors v[ch] (`lanes` pixels of channel ch) at
 * y plane offset off through the epilogue, for the block's channels: one
 * loop over a stack copy, so the epilogue (GELU: ~40 operations) is
 * emitted once, not once per channel. */
static void store_channels(Dwb *d, LLVMValueRef const v[], LLVMValueRef off, int lanes) {
  CvB *cb = &d->cb;
  if (!d->cv->epi || !cg_epilogue_costly(d->cv->epi->node)) {
    /* A cheap epilogue: straight stores (the loop cost 10% on a plain
     * 28x28 3x3 depthwise conv). */
    for (int ch = 0; ch < cb->vf; ch++) {
      VlIf f;
      if (d->nch)
        vl_if_begin(cb->c, cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, cv_i64(cb, ch), d->nch, ""), &f);
      cv_epi_store_vec(cb, d->cv, v[ch], cv_gep(cb, cv_gepc(cb, d->yb, (int64_t)ch * d->pout), off),
                       lanes);
      if (d->nch) vl_if_end(cb->c, cb->b, &f);
    }
    return;
  }
  for (int ch = 0; ch < cb->vf; ch++) store_vec(d, v[ch], cv_gepc(cb, d->tbuf, (int64_t)ch * cb->vf));
  CvLoop l = cv_for(cb, cv_i64(cb, 0), d->nch ? d->nch : cv_i64(cb, cb->vf), 1);
  LLVMValueRef x = load_vec(d, vec_at(d, d->tbuf, l.iv));
  LLVMValueRef dst = cv_gep(cb, cv_gep(cb, d->yb, cv_mul(cb, l.iv, d->pout)), off);
  cv_epi_store_vec(cb, d->cv, x, dst, lanes);
  cv_next_rolled(cb, &l);
}

/* Pixels [p0, p0 + lanes) of the block's input planes into P. */
static void fill_chunk(Dwb *d, LLVMValueRef p0, int lanes) {
  CvB *cb = &d->cb;
  LLVMValueRef r[64];
  for (int ch = 0; ch < cb->vf; ch++) {
    LLVMValueRef src = cv_gep(cb, chan_plane(d, d->xb, ch, d->pin), p0);
    if (lanes < cb->vf) {
      r[ch] = cv_load_masked(cb, src, lanes, LLVMConstNull(cb->vty));
    } else {
      r[ch] = LLVMBuildLoad2(cb->b, cb->vty, src, "");
      LLVMSetAlignment(r[ch], 4);
    }
  }
  vt_transpose_regs(cb->c, cb->b, r, cb->vf);
  for (int j = 0; j < lanes; j++) {
    LLVMValueRef slot = cv_load_i32(cb, d->slot_tab, cv_add(cb, p0, cv_i64(cb, j)));
    store_vec(d, r[j], vec_at(d, d->pbuf, slot));
  }
}

/* Banded: columns [j0, j0 + lanes) of input row ih into P's row `prow`
 * (band-local, padded) from column pl. */
static void fill_row_chunk(Dwb *d, LLVMValueRef ih, LLVMValueRef prow, LLVMValueRef j0, int lanes) {
  CvB *cb = &d->cb;
  LLVMValueRef r[64];
  LLVMValueRef off = cv_add(cb, cv_mul(cb, ih, d->cv->w), j0);
  for (int ch = 0; ch < cb->vf; ch++) {
    LLVMValueRef src = cv_gep(cb, chan_plane(d, d->xb, ch, d->pin), off);
    if (lanes < cb->vf) {
      r[ch] = cv_load_masked(cb, src, lanes, LLVMConstNull(cb->vty));
    } else {
      r[ch] = LLVMBuildLoad2(cb->b, cb->vty, src, "");
      LLVMSetAlignment(r[ch], 4);
    }
  }
  vt_transpose_regs(cb->c, cb->b, r, cb->vf);
  LLVMValueRef slot0 = cv_add(cb, cv_mad(cb, prow, d->wp, d->cv->pl), j0);
  for (int j = 0; j < lanes; j++) store_vec(d, r[j], vec_at(d, d->pbuf, cv_add(cb, slot0, cv_i64(cb, j))));
}

/* Banded: output columns [q0, q0 + lanes) of band-local row r, to the
 * plane's row oh. */
static void drain_row_chunk(Dwb *d, LLVMValueRef r, LLVMValueRef oh, LLVMValueRef q0, int lanes) {
  CvB *cb = &d->cb;
  LLVMValueRef v[64];
  LLVMValueRef s0 = cv_add(cb, cv_mul(cb, r, d->cv->ow), q0);
  for (int j = 0; j < cb->vf; j++)
    v[j] = j < lanes ? load_vec(d, vec_at(d, d->obuf, cv_add(cb, s0, cv_i64(cb, j))))
                     : LLVMConstNull(cb->vty);
  vt_transpose_regs(cb->c, cb->b, v, cb->vf);
  LLVMValueRef dst = cv_add(cb, cv_mul(cb, oh, d->cv->ow), q0);
  store_channels(d, v, dst, lanes);
}

/* Output pixels (oh, ow0 .. ow0 + t) of the block into O. */
static void compute_tile(Dwb *d, LLVMValueRef oh, LLVMValueRef ow0, int t) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  LLVMValueRef acc[DWB_MAX_TILE];
  LLVMValueRef bias = load_vec(d, d->bb);
  for (int i = 0; i < t; i++) acc[i] = bias;
  LLVMValueRef col0 = cv_mul(cb, ow0, cv->sw);
  for (int64_t kh = 0; kh < cv->kh; kh++) {
    LLVMValueRef row = cv_mad(cb, oh, cv->sh, kh * cv->dh);
    LLVMValueRef rbase = vec_at(d, d->pbuf, cv_add(cb, cv_mul(cb, row, d->wp), col0));
    for (int64_t kw = 0; kw < cv->kw; kw++) {
      LLVMValueRef wv = load_vec(d, cv_gepc(cb, d->wb, (kh * cv->kw + kw) * cb->vf));
      for (int i = 0; i < t; i++) {
        LLVMValueRef x = load_vec(d, cv_gepc(cb, rbase, ((int64_t)i * cv->sw + kw * cv->dw) * cb->vf));
        acc[i] = cv_fma(cb, x, wv, acc[i]);
      }
    }
  }
  LLVMValueRef dst = vec_at(d, d->obuf, cv_add(cb, cv_mul(cb, oh, cv->ow), ow0));
  for (int i = 0; i < t; i++) store_vec(d, acc[i], cv_gepc(cb, dst, (int64_t)i * cb->vf));
}

/* Output pixels [q0, q0 + lanes) of O, transposed, through the epilogue. */
static void drain_chunk(Dwb *d, LLVMValueRef q0, int lanes) {
  CvB *cb = &d->cb;
  LLVMValueRef r[64];
  for (int j = 0; j < cb->vf; j++)
    r[j] = j < lanes ? load_vec(d, vec_at(d, d->obuf, cv_add(cb, q0, cv_i64(cb, j))))
                     : LLVMConstNull(cb->vty);
  vt_transpose_regs(cb->c, cb->b, r, cb->vf);
  store_channels(d, r, q0, lanes);
}

/* Chunks of vf pixels over [0, total), the last one partial. */
static void for_chunks(Dwb *d, int64_t total, void (*fn)(Dwb *, LLVMValueRef, int)) {
  CvB *cb = &d->cb;
  int64_t full = total / cb->vf * cb->vf;
  if (full > 0) {
    CvLoop l = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, full), cb->vf);
    fn(d, l.iv, cb->vf);
    cv_next(cb, &l);
  }
  if (total > full) fn(d, cv_i64(cb, full), (int)(total - full));
}

/* Vector chunks over [0, total) columns calling fn(j0, lanes), the last
 * one partial. */
#define FOR_COLUMNS(d, total, J0, LANES, BODY)                                                     \
  do {                                                                                             \
    int64_t full_ = (total) / (d)->cb.vf * (d)->cb.vf;                                             \
    if (full_ > 0) {                                                                               \
      CvLoop l_ = cv_for(&(d)->cb, cv_i64(&(d)->cb, 0), cv_i64(&(d)->cb, full_), (d)->cb.vf);      \
      LLVMValueRef J0 = l_.iv;                                                                     \
      int LANES = (d)->cb.vf;                                                                      \
      BODY;                                                                                        \
      cv_next(&(d)->cb, &l_);                                                                      \
    }                                                                                              \
    if ((total) > full_) {                                                                         \
      LLVMValueRef J0 = cv_i64(&(d)->cb, full_);                                                   \
      int LANES = (int)((total) - full_);                                                          \
      BODY;                                                                                        \
    }                                                                                              \
  } while (0)

/* Banded fill: the input rows of band b's padded rows [b*band*sh, +hp). */
static void fill_band(Dwb *d, LLVMValueRef b) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  LLVMValueRef prow0 = cv_mul(cb, b, d->band * cv->sh);
  /* ih = prow - pt over [max(0, prow0 - pt), min(h, prow0 - pt + hp)). */
  LLVMValueRef lo = cv_add(cb, prow0, cv_i64(cb, -cv->pt));
  LLVMValueRef hi = cv_add(cb, lo, cv_i64(cb, d->hp));
  lo = LLVMBuildSelect(cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, lo, cv_i64(cb, 0), ""), cv_i64(cb, 0), lo, "");
  hi = LLVMBuildSelect(cb->b, LLVMBuildICmp(cb->b, LLVMIntSGT, hi, cv_i64(cb, cv->h), ""),
                       cv_i64(cb, cv->h), hi, "");
  int64_t cols = cv->w < d->wp - cv->pl ? cv->w : d->wp - cv->pl;
  if (cols <= 0) return;
  CvLoop r = cv_for(cb, lo, hi, 1);
  LLVMValueRef prow = LLVMBuildSub(cb->b, cv_add(cb, r.iv, cv_i64(cb, cv->pt)), prow0, "");
  FOR_COLUMNS(d, cols, j0, lanes, fill_row_chunk(d, r.iv, prow, j0, lanes));
  cv_next_rolled(cb, &r);
}

/* One unit: a block of channels, of band b (NULL: the whole plane,
 * filled and drained in flat chunks). */
static void emit_block(Dwb *d, LLVMValueRef b) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  LLVMBuildMemSet(cb->b, d->pbuf, LLVMConstInt(LLVMInt8TypeInContext(cb->c->ctx), 0, 0),
                  cv_i64(cb, (d->hp * d->wp + 1) * cb->vf * 4), 64);
  LLVMValueRef rows = cv_i64(cb, cv->oh);
  if (b) {
    fill_band(d, b);
    LLVMValueRef left = LLVMBuildSub(cb->b, cv_i64(cb, cv->oh), cv_mul(cb, b, d->band), "");
    rows = LLVMBuildSelect(cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, left, cv_i64(cb, d->band), ""),
                           left, cv_i64(cb, d->band), "");
  } else {
    for_chunks(d, d->pin, fill_chunk);
  }
  /* Balanced row tiles of at most DWB_MAX_TILE pixels. */
  int64_t ntile = (cv->ow + DWB_MAX_TILE - 1) / DWB_MAX_TILE;
  int64_t t = (cv->ow + ntile - 1) / ntile;
  int64_t nfull = cv->ow / t, rem = cv->ow % t;
  CvLoop r = cv_for(cb, cv_i64(cb, 0), rows, 1);
  if (nfull == 1) {
    compute_tile(d, r.iv, cv_i64(cb, 0), (int)t);
  } else {
    CvLoop c = cv_for(cb, cv_i64(cb, 0), cv_i64(cb, nfull * t), t);
    compute_tile(d, r.iv, c.iv, (int)t);
    cv_next_rolled(cb, &c);
  }
  if (rem > 0) compute_tile(d, r.iv, cv_i64(cb, nfull * t), (int)rem);
  cv_next_rolled(cb, &r);
  if (!b) {
    for_chunks(d, d->pout, drain_chunk);
    return;
  }
  CvLoop dr = cv_for(cb, cv_i64(cb, 0), rows, 1);
  LLVMValueRef oh = cv_add(cb, cv_mul(cb, b, d->band), dr.iv);
  FOR_COLUMNS(d, cv->ow, q0, lanes, drain_row_chunk(d, dr.iv, oh, q0, lanes));
  cv_next_rolled(cb, &dr);
}

static Status setup(Dwb *d, const float *wt, const float *bias, Error *err) {
  CvB *cb = &d->cb;
  const CvConv *cv = d->cv;
  int vf = cb->vf;
  int64_t nblk = (cv->oc + vf - 1) / vf, taps = cv->kh * cv->kw;
  bool flat = d->band == cv->oh;
  int32_t *slot = flat ? malloc((size_t)d->pin * sizeof *slot) : NULL;
  float *w = calloc((size_t)(nblk * (taps + 1) * vf), sizeof *w);
  if ((flat && !slot) || !w) {
    free(slot);
    free(w);
    return err_set(err, ST_NOMEM, "out of memory for depthwise tables");
  }
  for (int64_t p = 0; flat && p < d->pin; p++) {
    int64_t r = p / cv->w + cv->pt, col = p % cv->w + cv->pl;
    slot[p] = (int32_t)(r < d->hp && col < d->wp ? r * d->wp + col : d->hp * d->wp);
  }
  float *b = w + nblk * taps * vf;
  for (int64_t ch = 0; ch < cv->oc; ch++) {
    for (int64_t k = 0; k < taps; k++) w[((ch / vf) * taps + k) * vf + ch % vf] = wt[ch * taps + k];
    b[ch] = bias ? bias[ch] : 0.0f;
  }
  if (flat) d->slot_tab = cv_table_i32(cb, slot, d->pin, "dwb.slot");
  LLVMValueRef blob = cg_weight_blob(cb->c, w, (size_t)(nblk * (taps + 1) * vf) * sizeof *w, "dwb.w");
  free(slot);
  free(w);
  d->wpk = cg_kernel_weight(cb->c, cb->fn, blob);
  d->bpk = cv_gepc(cb, d->wpk, nblk * taps * vf);
  return ST_OK;
}

Status cv_emit_depthwise_blocked(CgCtx *c, const CvConv *cv, const float *wt, const float *bias,
                                 LLVMValueRef x, LLVMValueRef y, Error *err) {
  Dwb d = {.cv = cv};
  cv_begin(&d.cb, c, "conv.depthwise_blocked", cv_epi_nptr(cv));
  CvB *cb = &d.cb;
  int vf = cb->vf;
  d.band = rows_per_band(c, cv);
  d.hp = span(d.band, cv->kh, cv->sh, cv->dh);
  d.wp = span(cv->ow, cv->kw, cv->sw, cv->dw);
  d.pin = cv->h * cv->w;
  d.pout = cv->oh * cv->ow;
  Status st = setup(&d, wt, bias, err);
  if (st != ST_OK) {
    cv_end(cb);
    return st;
  }
  d.pbuf = cv_alloca(cb, LLVMArrayType2(cb->f32, (uint64_t)((d.hp * d.wp + 1) * vf)));
  LLVMSetAlignment(d.pbuf, 64);
  d.obuf = cv_alloca(cb, LLVMArrayType2(cb->f32, (uint64_t)(d.band * cv->ow * vf)));
  d.tbuf = cv_alloca(cb, LLVMArrayType2(cb->f32, (uint64_t)(vf * vf)));
  LLVMSetAlignment(d.tbuf, 64);
  LLVMSetAlignment(d.obuf, 64);
  LLVMValueRef xa = LLVMGetParam(cb->fn, 0), ya = LLVMGetParam(cb->fn, 1);
  int64_t nblk = (cv->oc + vf - 1) / vf, taps = cv->kh * cv->kw;
  int64_t nband = (cv->oh + d.band - 1) / d.band;
  int64_t dims[3] = {cv->n, nblk, nband};
  VlNest ns;
  vl_nest_begin(c, cb->b, &ns, 3, dims, cb->lo, cb->hi);
  LLVMValueRef img = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef blk = vl_nest_level(c, cb->b, &ns);
  LLVMValueRef band = vl_nest_level(c, cb->b, &ns);
  if (nband == 1) band = NULL;
  LLVMValueRef ch0 = cv_mul(cb, blk, vf);
  d.xb = cv_gep(cb, xa, cv_mul(cb, cv_add(cb, cv_mul(cb, img, cv->c), ch0), d.pin));
  d.yb = cv_gep(cb, ya, cv_mul(cb, cv_add(cb, cv_mul(cb, img, cv->oc), ch0), d.pout));
  d.wb = cv_gep(cb, d.wpk, cv_mul(cb, blk, taps * vf));
  d.bb = cv_gep(cb, d.bpk, ch0);
  if (cv->oc % vf) {
    LLVMValueRef left = LLVMBuildSub(cb->b, cv_i64(cb, cv->oc), ch0, "");
    d.nch = LLVMBuildSelect(cb->b, LLVMBuildICmp(cb->b, LLVMIntSLT, left, cv_i64(cb, vf), ""), left,
                            cv_i64(cb, vf), "");
  }
  emit_block(&d, band);
  vl_nest_end(c, cb->b, &ns);
  cv_end(cb);
  LLVMValueRef args[3];
  double outs = (double)(cv->n * cv->oc * d.pout);
  double cost = cg_cost_ns(c, 2.0 * outs * (double)taps,
                           4.0 * (outs + (double)(cv->n * cv->c * d.pin)));
  cv_call(cb, args, cv_epi_args(cv, x, y, args), vl_nest_units(3, dims), cost);
  return ST_OK;
}
