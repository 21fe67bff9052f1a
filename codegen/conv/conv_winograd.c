/*
 * Winograd convolution F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016) for stride-1 undilated 3x3 convs
 * with at least 32 input and output channels per group.  Each 4 x 4
 * output tile (m = 4) of a channel is A^T [sum_ci (G g G^T) .* (B^T d B)] A,
 * where d is the 6 x 6 input patch (a = m + 2): the products of all input
 * channels become a^2 = 36 independent matrix products, 36 * ceil(OH/4) *
 * ceil(OW/4) multiply-adds per channel pair instead of 9 * OH * OW (4x
 * fewer on planes that tile evenly).  The price: filters 4x the size,
 * and transforms whose cost does not shrink with the channel count, so
 * cv_winograd_fits estimates both against the direct kernel.
 *
 * Three kernels over a workspace region the memory plan reserves for the
 * node (cv_conv_scratch_bytes, CgCtx.scratch):
 *
 *   input transform   V[xi][ci][t] = (B^T d_t B)[xi] for every input channel
 *                     and tile t (t = (image * TH + tile row) * TW + tile
 *                     column), vectorized over the tiles of a tile row,
 *                     from a zero-padded copy of the patch rows on the stack;
 *   batched GEMM      M[xi][co][t] = sum_ci U[xi][co][ci] V[xi][ci][t] for
 *                     each point xi and group, by gemm_emit with the
 *                     transformed filters U = G g G^T (computed at compile
 *                     time in double) as the constant A;
 *   output transform  y tile = A^T M_t A + bias, vectorized over tiles, the
 *                     m results of an output row interleaved in registers
 *                     and stored through the FusedConv epilogue.
 *
 * Accuracy: the transforms' constants (up to 8 and 1/24 for F(4x4)) cost a
 * few units in the last place more than the direct sum; against a double
 * reference the error stays near 1e-6 of the output's magnitude
 * (test_cg_winograd).  Every kernel partitions its outputs, so results do
 * not depend on the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../gemm/gemm_emit.h"
#include "../parallel.h"
#include "../vec/vec_loops.h"
#include "conv_emit.h"
#include "conv_epilogue.h"
#include "conv_ir.h"

/* The transform matrices of F(4x4, 3x3): points 0, 1, -1, 2, -2 and
 * infinity.  (F(2x2) never won: its filters are 16/9 of the direct
 * kernel's, but a plane small enough for its tiles to pay is one where
 * the transforms cost more than they save.) */
static const double BT4[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                 {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};
static const double AT4[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

enum { WINO_MAX_A = 6, WINO_MAX_SRC = 16 };

static double bt(int i, int j) { return BT4[i][j]; }
static double gm(int i, int j) { return G4[i][j]; }
static double at(int i, int j) { return AT4[i][j]; }

/* The largest workspace region one conv may take (V and M together), and
 * the largest transformed filters (4x the direct kernel's) it may add to
 * the object. */
#define WINO_MAX_SCRATCH ((int64_t)256 << 20)
#define WINO_MAX_FILTER_BYTES ((int64_t)64 << 20)

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Blocks of tile rows keep a block's transformed inputs and products
 * (a^2 (C + OC) floats per tile) near this size, so that they stay in L2
 * between the kernels instead of streaming through memory (Next-ViT-S's
 * 112 x 112 stem: 11 MB whole); but at least 64 tiles, 4 vectors wide for
 * the products. */
#define WINO_BLOCK_BYTES ((int64_t)768 << 10)

/* Tile rows of tw tiles that one vf-lane vector holds in the transforms:
 * the most that fit and divide the br rows of a block (groups of rows must
 * not straddle two blocks); 1 when two rows do not fit. */
static int64_t rows_per_vector(int64_t tw, int64_t br, int vf) {
  int64_t r = vf / tw;
  while (r > 1 && br % r) r--;
  return r > 1 ? r : 1;
}

static void geometry(const CvConv *cv, int m, CvWino *w) {
  w->m = m;
  w->a = m + 2;
  w->th = cdiv(cv->oh, m);
  w->tw = cdiv(cv->ow, m);
  w->t = cv->n * w->th * w->tw;
  int64_t per_row = (int64_t)w->a * w->a * (cv->c + cv->oc) * w->tw * 4;
  w->br = WINO_BLOCK_BYTES / per_row;
  if (w->br < cdiv(64, w->tw)) w->br = cdiv(64, w->tw);
  if (w->br > w->th) w->br = w->th;
  /* Even blocks: the last one's surplus rows are computed and dropped. */
  w->br = cdiv(w->th, cdiv(w->th, w->br));
  w->tb = w->br * w->tw;
  w->blocks = cv->n * cdiv(w->th, w->br);
  w->v_floats = (int64_t)w->a * w->a * cv->c * w->tb;
  w->m_floats = (int64_t)w->a * w->a * cv->oc * w->tb;
  /* M starts on a 64-byte boundary. */
  w->bytes = (size_t)(cdiv(w->v_floats, 16) * 16 + w->m_floats) * sizeof(float);
}

bool cv_winograd_fits(const CvConv *cv, CvWino *w) {
  if (cv->kh != 3 || cv->kw != 3 || cv->sh != 1 || cv->sw != 1 || cv->dh != 1 || cv->dw != 1)
    return false;
  if (cv->pt > 2 || cv->pl > 2 || cv->pb > 2 || cv->pr > 2) return false;
  /* Sizes whose products below cannot overflow (real convs are far
   * smaller; the direct kernel takes anything else). */
  const int64_t big = (int64_t)1 << 20;
  if (cv->n > 1024 || cv->c > big || cv->oc > big || cv->oh > big || cv->ow > big) return false;
  /* Few channels per group leave the transforms, not the products, as the
   * work (stems on the 3-channel image, depthwise convs).  Few outputs
   * are fine when the inputs are many: the input transform's cost is what
   * cout amortizes, and the estimate below weighs it (HRFormer-T's 256 ->
   * 18 channel conv: the direct kernel fills 18 of 24 lanes). */
  if (cv->cin_g < 32 || cv->cout_g < 16) return false;
  /* Estimated single-core times (ns), measured on Zen 4: the direct kernel
   * runs at ~105 GFLOP/s; the products at ~110 on their 16-lane vectors
   * over tiles (so a 7 x 7 plane's 4 tiles of 4 x 4 waste 3/4 of them);
   * the transforms take ~0.5 ns per transformed element; and the filters,
   * (a/3)^2 times the direct kernel's, stream from memory at ~10 GB/s
   * inside a model whose weights do not fit the caches: ViTAE-T's 256-
   * channel 14 x 14 convs read 9.4 MB of F(4x4) filters, which took as
   * long as the products. */
  double pairs = (double)cv->cin_g * (double)cv->oc;
  double direct = 2.0 * 9.0 * (double)(cv->n * cv->oh * cv->ow) * pairs / 105.0;
  geometry(cv, 4, w);
  double aa = (double)w->a * w->a;
  double tiles = (double)(w->blocks * cdiv(w->tb, 16) * 16);
  double cost = 2.0 * aa * tiles * pairs / 110.0 + aa * pairs * 4.0 / 10.0 +
                0.5 * aa * (double)(cv->c + cv->oc) * tiles;
  if (cost > 0.9 * direct) return false;
  /* Small products lose more to the GEMM's per-product overhead than the
   * estimate says: 32-channel groups of a 14 x 14 plane (16 tiles) ran
   * 1.8x slower than the direct kernel, of a 28 x 28 plane 1.7x faster. */
  if ((double)cv->cin_g * (double)cv->cout_g * (double)w->t < 32768) return false;
  if (aa * pairs * 4.0 > (double)WINO_MAX_FILTER_BYTES) return false;
  return (int64_t)w->bytes <= WINO_MAX_SCRATCH;
}

/* sum_i coef[i * stride] * v[i], skipping zero coefficients and building
 * +-1 as adds and subtractions. */
static LLVMValueRef lin(CvB *cb, const double *coef, int stride, LLVMValueRef const v[], int n) {
  LLVMValueRef acc = NULL;
  for (int i = 0; i < n; i++) {
    double k = coef[i * stride];
    if (k == 0) continue;
    if (!acc) {
      if (k == 1) acc = v[i];
      else if (k == -1) acc = LLVMBuildFNeg(cb->b, v[i], "");
      else acc = LLVMBuildFMul(cb->b, v[i], cv_splat(cb, cv_f32(cb, (float)k), cb->vf), "");
    } else if (k == 1) {
      acc = LLVMBuildFAdd(cb->b, acc, v[i], "");
    } else if (k == -1) {
      acc = LLVMBuildFSub(cb->b, acc, v[i], "");
    } else {
      acc = cv_fma(cb, v[i], cv_splat(cb, cv_f32(cb, (float)k), cb->vf), acc);
    }
  }
  return acc ? acc : LLVMConstNull(cb->vty);
}

/* Lane l = element src[l] of the concatenation of vecs[0..nvec) (vf
 * lanes each; src[l] < 0: undefined), by a tree of two-source shuffles
 * (one permute each): a strided shuffle of one covering load legalizes
 * into lane inserts, and gathers cost ~25 cycles each on Zen 4. */
static LLVMValueRef pick_lanes(CvB *cb, LLVMValueRef const vecs[], int nvec, const int src[]) {
  int vf = cb->vf;
  LLVMValueRef cur[WINO_MAX_SRC], mask[64];
  bool has[WINO_MAX_SRC][64];
  int ncur = 0;
  for (int p = 0; p < nvec; p += 2) {
    bool any = false;
    for (int l = 0; l < vf; l++) {
      int v = src[l] < 0 ? -1 : src[l] / vf;
      has[ncur][l] = v >= 0 && (v == p || v == p + 1);
      mask[l] = has[ncur][l] ? LLVMConstInt(cb->i32, (unsigned)((v - p) * vf + src[l] % vf), 0)
                             : LLVMGetUndef(cb->i32);
      any |= has[ncur][l];
    }
    if (!any) continue;
    LLVMValueRef second = p + 1 < nvec ? vecs[p + 1] : LLVMGetUndef(cb->vty);
    cur[ncur++] = LLVMBuildShuffleVector(cb->b, vecs[p], second,
                                         LLVMConstVector(mask, (unsigned)vf), "");
  }
  if (!ncur) return LLVMGetUndef(cb->vty);
  while (ncur > 1) {
    int next = 0;
    for (int k = 0; k < ncur; k += 2) {
      if (k + 1 == ncur) {
        cur[next] = cur[k];
        memcpy(has[next], has[k], sizeof has[k]);
        next++;
        continue;
      }
      for (int l = 0; l < vf; l++) {
        mask[l] = has[k][l]       ? LLVMConstInt(cb->i32, (unsigned)l, 0)
                  : has[k + 1][l] ? LLVMConstInt(cb->i32, (unsigned)(vf + l), 0)
                                  : LLVMGetUndef(cb->i32);
        has[next][l] = has[k][l] || has[k + 1][l];
      }
      cur[next++] = LLVMBuildShuffleVector(cb->b, cur[k], cur[k + 1],
                                           LLVMConstVector(mask, (unsigned)vf), "");
    }
    ncur = next;
  }
  return cur[0];
}

/* The rows of a transform matrix as one flat table (row-major). */
static void matrix(double (*f)(int, int), int rows, int cols, double *out) {
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) out[i * cols + j] = f(i, j);
}

/* The block's image and first tile row, from the i64 pair at p. */
static void block_of(CvB *cb, LLVMValueRef p, LLVMValueRef *img, LLVMValueRef *tr0) {
  LLVMValueRef one = cv_i64(cb, 1);
  *img = LLVMBuildLoad2(cb->b, cb->i64, p, "img");
  *tr0 = LLVMBuildLoad2(cb->b, cb->i64, LLVMBuildInBoundsGEP2(cb->b, cb->i64, p, &one, 1, ""), "tr0");
}

/* How the transform kernels lay tiles on lanes: rpv tile rows per vector
 * when rows are short (14 x 14 planes: 4 rows of 4 tiles in 16 lanes),
 * else chunks of vf tiles along one row. */
typedef struct Lanes {
  int64_t rpv, chunks;
} Lanes;

static Lanes lanes_of(CvB *cb, const CvWino *w) {
  Lanes ln = {rows_per_vector(w->tw, w->br, cb->vf), 1};
  if (ln.rpv == 1) {
    cv_narrow_vectors(cb, w->tw);
    ln.chunks = cdiv(w->tw, cb->vf);
  }
  return ln;
}

/* Valid lanes of chunk k. */
static int chunk_lanes(const CvB *cb, const CvWino *w, const Lanes *ln, int64_t k) {
  if (ln->rpv > 1) return (int)(ln->rpv * w->tw);
  return (int)(w->tw - k * cb->vf < cb->vf ? w->tw - k * cb->vf : cb->vf);
}

/* Kernel 1: units (input channel, group of rpv tile rows of the block). */
static void emit_input_transform(CgCtx *c, const CvConv *cv, const CvWino *w, LLVMValueRef x,
                                 LLVMValueRef v, LLVMValueRef blk) {
  CvB cb;
  cv_begin(&cb, c, "conv.wino_in", 3);
  Lanes ln = lanes_of(&cb, w);
  int m = w->m, a = w->a, vf = cb.vf;
  /* Patch rows with the pads as zeros (m * rpv + 2 of them), nv vectors
   * each: wide enough for every chunk's tiles and so for the input row at
   * offset pl.  A chunk reads (vf - 1) * m + a columns along one row, or
   * m * tw + 2 for each of its rpv rows. */
  int nv = ln.rpv > 1 ? (int)cdiv((int64_t)m * w->tw + 2, vf)
                      : (int)cdiv((int64_t)(vf - 1) * m + a, vf);
  int64_t wb = (int64_t)m * (ln.chunks - 1) * vf + (int64_t)nv * vf;
  int nrows = (int)(m * ln.rpv + 2);
  LLVMValueRef rows = cv_alloca(&cb, LLVMArrayType2(cb.f32, (uint64_t)(nrows * wb)));
  double btm[WINO_MAX_A * WINO_MAX_A];
  matrix(bt, a, a, btm);
  LLVMValueRef px = LLVMGetParam(cb.fn, 0), pv = LLVMGetParam(cb.fn, 1);
  LLVMValueRef img, tr0;
  block_of(&cb, LLVMGetParam(cb.fn, 2), &img, &tr0);
  int64_t dims[2] = {cv->c, w->br / ln.rpv};
  VlNest ns;
  vl_nest_begin(c, cb.b, &ns, 2, dims, cb.lo, cb.hi);
  LLVMValueRef ci = vl_nest_level(c, cb.b, &ns);
  LLVMValueRef trl = cv_mul(&cb, vl_nest_level(c, cb.b, &ns), ln.rpv);
  LLVMValueRef tr = cv_add(&cb, tr0, trl);
  LLVMValueRef plane = cv_gep(&cb, px, cv_mul(&cb, cv_add(&cb, cv_mul(&cb, img, cv->c), ci),
                                              cv->h * cv->w));
  LLVMValueRef zero8 = LLVMConstInt(LLVMInt8TypeInContext(c->ctx), 0, 0);
  int64_t right = wb - cv->pl - cv->w; /* zeros right of the input row */
  for (int i = 0; i < nrows; i++) {
    /* Input row tr * m + i - pt, when it exists; zeros otherwise. */
    LLVMValueRef r = cv_add(&cb, cv_mul(&cb, tr, m), cv_i64(&cb, i - cv->pt));
    LLVMValueRef row = cv_gepc(&cb, rows, i * wb);
    VlIf f;
    vl_if_begin(c, cb.b, LLVMBuildICmp(cb.b, LLVMIntULT, r, cv_i64(&cb, cv->h), ""), &f);
    if (cv->pl) LLVMBuildMemSet(cb.b, row, zero8, cv_i64(&cb, cv->pl * 4), 4);
    LLVMBuildMemCpy(cb.b, cv_gepc(&cb, row, cv->pl), 4, cv_gep(&cb, plane, cv_mul(&cb, r, cv->w)),
                    4, cv_i64(&cb, cv->w * 4));
    if (right) LLVMBuildMemSet(cb.b, cv_gepc(&cb, row, cv->pl + cv->w), zero8, cv_i64(&cb, right * 4), 4);
    vl_if_else(c, cb.b, &f);
    LLVMBuildMemSet(cb.b, row, zero8, cv_i64(&cb, wb * 4), 4);
    vl_if_end(c, cb.b, &f);
  }
  LLVMValueRef trow = cv_mul(&cb, trl, w->tw);
  for (int64_t k = 0; k < ln.chunks; k++) {
    int lanes = chunk_lanes(&cb, w, &ln, k);
    /* Along each patch row first (h = d B), as soon as its columns are
     * picked, then down the columns (V = B^T h): 36 values live between
     * the passes, not 72. */
    LLVMValueRef h[WINO_MAX_A * WINO_MAX_A];
    for (int i = 0; i < a; i++) {
      LLVMValueRef rv[WINO_MAX_SRC], d[WINO_MAX_A];
      int nsrc = (int)(ln.rpv * nv);
      for (int sr = 0; sr < ln.rpv; sr++)
        for (int q = 0; q < nv; q++) {
          LLVMValueRef ld = LLVMBuildLoad2(
              cb.b, cb.vty, cv_gepc(&cb, rows, (m * sr + i) * wb + m * k * vf + q * vf), "");
          LLVMSetAlignment(ld, 4);
          rv[sr * nv + q] = ld;
        }
      for (int j = 0; j < a; j++) {
        int src[64];
        for (int l = 0; l < vf; l++) {
          int64_t sr = ln.rpv > 1 ? l / w->tw : 0, tc = ln.rpv > 1 ? l % w->tw : l;
          src[l] = l < lanes ? (int)(sr * nv * vf + m * tc + j) : -1;
        }
        d[j] = pick_lanes(&cb, rv, nsrc, src);
      }
      for (int l = 0; l < a; l++) h[i * a + l] = lin(&cb, btm + l * a, 1, d, a);
    }
    LLVMValueRef base = cv_add(&cb, trow, cv_i64(&cb, k * vf));
    LLVMValueRef col[WINO_MAX_A];
    for (int l = 0; l < a; l++) {
      for (int i = 0; i < a; i++) col[i] = h[i * a + l];
      for (int r = 0; r < a; r++) {
        LLVMValueRef val = lin(&cb, btm + r * a, 1, col, a);
        int64_t xi = (int64_t)r * a + l;
        LLVMValueRef p = cv_gep(&cb, pv, cv_add(&cb, cv_mul(&cb, ci, w->tb),
                                                  cv_add(&cb, base, cv_i64(&cb, xi * cv->c * w->tb))));
        if (lanes < vf) cv_store_masked(&cb, val, p, lanes);
        else cv_store(&cb, val, p);
      }
    }
  }
  vl_nest_end(c, cb.b, &ns);
  cv_end(&cb);
  LLVMValueRef args[3] = {x, v, blk};
  double n_out = (double)w->v_floats;
  cv_call(&cb, args, 3, vl_nest_units(2, dims),
          cg_cost_ns(c, 4.0 * n_out, 4.0 * (n_out + (double)(cv->n * cv->c * cv->h * cv->w))));
}

/* Kernel 2: the a^2 * group products M = U V. */
static Status emit_products(CgCtx *c, const CvConv *cv, const CvWino *w, const float *wt,
                            LLVMValueRef v, LLVMValueRef mm, Error *err) {
  int a = w->a;
  int64_t aa = (int64_t)a * a, cig = cv->cin_g, cog = cv->cout_g, grp = cv->group;
  GemmPlan p = {.alpha = 1.0f, .beta = 1.0f};
  p.m = cog;
  p.n = w->tb;
  p.k = cig;
  p.lda = cig;
  p.ldb = w->tb;
  p.ldc = w->tb;
  p.batches = aa * grp;
  gemm_choose_tile(c->vf32, p.m, p.n, p.k, &p.t);
  size_t nu = (size_t)(aa * cv->oc * cig);
  float *u = malloc(nu * sizeof *u);
  int64_t *tab = malloc((size_t)p.batches * 2 * sizeof *tab);
  if (!u || !tab) {
    free(u);
    free(tab);
    return err_set(err, ST_NOMEM, "out of memory for Winograd filters");
  }
  /* U[xi = (r, l)][co][ci] = (G g G^T)[r][l], batch xi * group + g. */
  for (int64_t co = 0; co < cv->oc; co++)
    for (int64_t ci = 0; ci < cig; ci++) {
      const float *g = wt + (co * cig + ci) * 9;
      double t[WINO_MAX_A][3];
      for (int r = 0; r < a; r++)
        for (int j = 0; j < 3; j++)
          t[r][j] = gm(r, 0) * g[j] + gm(r, 1) * g[3 + j] + gm(r, 2) * g[6 + j];
      int64_t gi = co / cog, o = co % cog;
      for (int r = 0; r < a; r++)
        for (int l = 0; l < a; l++) {
          double s = t[r][0] * gm(l, 0) + t[r][1] * gm(l, 1) + t[r][2] * gm(l, 2);
          int64_t bt_i = ((int64_t)r * a + l) * grp + gi;
          u[(bt_i * cog + o) * cig + ci] = (float)s;
        }
    }
  for (int64_t b = 0; b < p.batches; b++) {
    int64_t xi = b / grp, gi = b % grp;
    tab[b] = b * cog * cig;
    tab[p.batches + b] = (xi * cv->c + gi * cig) * w->tb;
  }
  p.a_off = tab;
  p.b_off = tab + p.batches;
  LLVMValueRef up = cg_weight_blob(c, u, nu * sizeof *u, "conv.wino_u");
  free(u);
  Status st = gemm_emit(c, &p, up, v, NULL, mm, err);
  free(tab);
  return st;
}

/* The 4 vectors of one output row, lane = tile, interleaved into the
 * row's 4 * vf consecutive pixels. */
static LLVMValueRef interleave(CvB *cb, LLVMValueRef const y[]) {
  int vf = cb->vf;
  LLVMValueRef idx[64];
  for (int i = 0; i < 2 * vf; i++) idx[i] = LLVMConstInt(cb->i32, (unsigned)i, 0);
  LLVMValueRef cat = LLVMConstVector(idx, (unsigned)(2 * vf));
  LLVMValueRef lo = LLVMBuildShuffleVector(cb->b, y[0], y[1], cat, "");
  LLVMValueRef hi = LLVMBuildShuffleVector(cb->b, y[2], y[3], cat, "");
  for (int t = 0; t < vf; t++)
    for (int q = 0; q < 4; q++) idx[t * 4 + q] = LLVMConstInt(cb->i32, (unsigned)(q * vf + t), 0);
  return LLVMBuildShuffleVector(cb->b, lo, hi, LLVMConstVector(idx, (unsigned)(4 * vf)), "");
}

/* Kernel 3: units (image, output channel, tile row). */
static Status emit_output_transform(CgCtx *c, const CvConv *cv, const CvWino *w,
                                    const float *bias, LLVMValueRef mm, LLVMValueRef y,
                                    LLVMValueRef blk, Error *err) {
  CvB cb;
  /* Parameters (M, Y [, R], block): the epilogue finds Y and R at 1 and 2. */
  int nptr = cv_epi_nptr(cv);
  cv_begin(&cb, c, "conv.wino_out", nptr + 1);
  Lanes ln = lanes_of(&cb, w);
  int m = w->m, a = w->a, vf = cb.vf;
  float *bz = calloc((size_t)cv->oc, sizeof *bz);
  if (!bz) {
    cv_end(&cb);
    return err_set(err, ST_NOMEM, "out of memory for a Winograd bias");
  }
  if (bias) memcpy(bz, bias, (size_t)cv->oc * sizeof *bz);
  LLVMValueRef bp =
      cg_kernel_weight(c, cb.fn, cg_weight_blob(c, bz, (size_t)cv->oc * sizeof *bz, "conv.b"));
  free(bz);
  double atm[WINO_MAX_A * WINO_MAX_A];
  matrix(at, m, a, atm);
  LLVMValueRef pm = LLVMGetParam(cb.fn, 0), py = LLVMGetParam(cb.fn, 1);
  LLVMValueRef img, tr0;
  block_of(&cb, LLVMGetParam(cb.fn, (unsigned)nptr), &img, &tr0);
  int64_t dims[2] = {cv->oc, w->br / ln.rpv};
  VlNest ns;
  vl_nest_begin(c, cb.b, &ns, 2, dims, cb.lo, cb.hi);
  LLVMValueRef co = vl_nest_level(c, cb.b, &ns);
  LLVMValueRef trl = cv_mul(&cb, vl_nest_level(c, cb.b, &ns), ln.rpv);
  LLVMValueRef tr = cv_add(&cb, tr0, trl);
  LLVMValueRef bv = cv_splat(&cb, cv_load(&cb, cv_gep(&cb, bp, co)), vf);
  LLVMValueRef trow = cv_mul(&cb, trl, w->tw);
  LLVMValueRef yplane =
      cv_gep(&cb, py, cv_mul(&cb, cv_add(&cb, cv_mul(&cb, img, cv->oc), co), cv->oh * cv->ow));
  for (int64_t k = 0; k < ln.chunks; k++) {
    int lanes = chunk_lanes(&cb, w, &ln, k);
    LLVMValueRef base = cv_add(&cb, trow, cv_i64(&cb, k * vf));
    LLVMValueRef mv[WINO_MAX_A * WINO_MAX_A], t1[WINO_MAX_A * WINO_MAX_A];
    for (int xi = 0; xi < a * a; xi++) {
      LLVMValueRef p = cv_gep(&cb, pm, cv_add(&cb, cv_mul(&cb, co, w->tb),
                                                cv_add(&cb, base, cv_i64(&cb, xi * cv->oc * w->tb))));
      mv[xi] = lanes < vf ? cv_load_masked(&cb, p, lanes, LLVMConstNull(cb.vty))
                          : LLVMBuildLoad2(cb.b, cb.vty, p, "");
      if (lanes == vf) LLVMSetAlignment(mv[xi], 4);
    }
    /* t1 = A^T M (down the columns), then Y = t1 A (along the rows). */
    LLVMValueRef col[WINO_MAX_A];
    for (int r = 0; r < m; r++)
      for (int l = 0; l < a; l++) {
        for (int i = 0; i < a; i++) col[i] = mv[i * a + l];
        t1[r * a + l] = lin(&cb, atm + r * a, 1, col, a);
      }
    for (int r = 0; r < m; r++) {
      LLVMValueRef yr[4];
      for (int q = 0; q < m; q++)
        yr[q] = LLVMBuildFAdd(cb.b, lin(&cb, atm + q * a, 1, t1 + r * a, a), bv, "");
      LLVMValueRef wide = interleave(&cb, yr);
      /* Each tile row of the chunk is a run of m * tw pixels of the
       * interleaved vector (one run of m * lanes along a row). */
      int64_t runs = ln.rpv, run = ln.rpv > 1 ? m * w->tw : (int64_t)m * lanes;
      for (int64_t sr = 0; sr < runs; sr++) {
        LLVMValueRef oh = cv_add(&cb, cv_mul(&cb, tr, m), cv_i64(&cb, m * sr + r));
        int64_t x0 = ln.rpv > 1 ? 0 : (int64_t)m * k * vf;
        int count = (int)(cv->ow - x0 < run ? cv->ow - x0 : run);
        LLVMValueRef piece = wide;
        if (ln.rpv > 1) {
          LLVMValueRef idx[64];
          for (int e = 0; e < run; e++)
            idx[e] = LLVMConstInt(cb.i32, (unsigned)(sr * run + e), 0);
          piece = LLVMBuildShuffleVector(cb.b, wide, LLVMGetUndef(LLVMTypeOf(wide)),
                                         LLVMConstVector(idx, (unsigned)run), "");
        }
        /* Only the last tile row, or ones past it (even blocks, shared
         * vectors), can reach past the output. */
        bool ragged = ln.rpv > 1 || w->blocks * w->br > cv->n * w->th ||
                      r >= cv->oh - (w->th - 1) * m;
        VlIf f;
        if (ragged)
          vl_if_begin(c, cb.b, LLVMBuildICmp(cb.b, LLVMIntSLT, oh, cv_i64(&cb, cv->oh), ""), &f);
        LLVMValueRef p = cv_gep(&cb, yplane, cv_add(&cb, cv_mul(&cb, oh, cv->ow), cv_i64(&cb, x0)));
        cv_epi_store_wide(&cb, cv, piece, p, count);
        if (ragged) vl_if_end(c, cb.b, &f);
      }
    }
  }
  vl_nest_end(c, cb.b, &ns);
  cv_end(&cb);
  LLVMValueRef args[4];
  int nargs = cv_epi_args(cv, mm, y, args);
  args[nargs++] = blk;
  double n_in = (double)w->m_floats;
  cv_call(&cb, args, nargs, vl_nest_units(2, dims),
          cg_cost_ns(c, 3.0 * n_in, 4.0 * (n_in + (double)(cv->n * cv->oc * cv->oh * cv->ow))));
  return ST_OK;
}

Status cv_emit_winograd(CgCtx *c, const CvConv *cv, const CvWino *w, const float *wt,
                        const float *bias, LLVMValueRef x, LLVMValueRef y, LLVMValueRef scratch,
                        Error *err) {
  LLVMTypeRef f32 = LLVMFloatTypeInContext(c->ctx), i64 = LLVMInt64TypeInContext(c->ctx);
  LLVMValueRef mofs = LLVMConstInt(i64, (unsigned long long)(cdiv(w->v_floats, 16) * 16), 0);
  LLVMValueRef v = scratch;
  LLVMValueRef mm = LLVMBuildInBoundsGEP2(c->b, f32, scratch, &mofs, 1, "wino_m");
  /* The blocks as (image, first tile row) pairs; the run body loops over
   * them, each block through all three kernels. */
  int64_t per_img = cdiv(w->th, w->br);
  int64_t *tab = malloc((size_t)w->blocks * 2 * sizeof *tab);
  if (!tab) return err_set(err, ST_NOMEM, "out of memory for Winograd blocks");
  for (int64_t b = 0; b < w->blocks; b++) {
    tab[2 * b] = b / per_img;
    tab[2 * b + 1] = b % per_img * w->br;
  }
  LLVMValueRef blocks = cg_const_blob(c, tab, (size_t)w->blocks * 2 * sizeof *tab, "conv.wino_blocks");
  free(tab);
  VlLoop lp;
  LLVMValueRef bi = vl_loop_begin(c, c->b, vl_i64(c, 0), vl_i64(c, w->blocks), 1, &lp);
  LLVMValueRef at2 = LLVMBuildNSWMul(c->b, bi, vl_i64(c, 2), "");
  LLVMValueRef blk = LLVMBuildInBoundsGEP2(c->b, i64, blocks, &at2, 1, "wino_block");
  emit_input_transform(c, cv, w, x, v, blk);
  Status st = emit_products(c, cv, w, wt, v, mm, err);
  if (st == ST_OK) st = emit_output_transform(c, cv, w, bias, mm, y, blk, err);
  vl_loop_end(c, c->b, &lp);
  return st;
}
