/*
 * Transpose kernels for [B, I, J, K] -> [B, J, I, K], and for any
 * permutation that moves the last axis, by planes; see vec_transpose.h.
 */
#include "vec_transpose.h"

#include "../parallel.h"

#include "vec_loops.h"
#include "vec_math.h"

/* perm = [0..p) ++ [q..r) ++ [p..q) ++ [r..n): finds p, q, r. */
static bool swap_groups(int n, const int64_t *perm, int *p, int *q, int *r) {
  int lo = 0, hi = n;
  while (lo < n && perm[lo] == lo)
    lo++;
  while (hi > lo && perm[hi - 1] == hi - 1)
    hi--;
  if (lo >= hi) return false; /* identity */
  int qq = (int)perm[lo];
  if (qq <= lo || qq >= hi) return false;
  for (int i = 0; i < hi - qq; i++)
    if (perm[lo + i] != qq + i) return false;
  for (int i = 0; i < qq - lo; i++)
    if (perm[lo + (hi - qq) + i] != lo + i) return false;
  *p = lo;
  *q = qq;
  *r = hi;
  return true;
}

static LLVMValueRef mul_add(CgCtx *c, LLVMBuilderRef b, LLVMValueRef x, int64_t m, LLVMValueRef y) {
  return LLVMBuildNSWAdd(b, LLVMBuildNSWMul(b, x, vl_i64(c, m), ""), y, "");
}

/* Rows of K floats: out[(bj*I + i)*K ..] = in[((b*I + i)*J + j)*K ..]. */
static void emit_rows(CgCtx *c, LLVMBuilderRef b, LLVMValueRef src, LLVMValueRef dst, int64_t B,
                      int64_t I, int64_t J, int64_t K, VlNest *ns) {
  int w = c->vf32;
  LLVMTypeRef vt = vm_vec(c, w);
  LLVMValueRef bj = vl_nest_level(c, b, ns);
  LLVMValueRef bb = LLVMBuildUDiv(b, bj, vl_i64(c, J), "");
  LLVMValueRef jj = LLVMBuildURem(b, bj, vl_i64(c, J), "");
  LLVMValueRef i = vl_nest_level(c, b, ns);
  LLVMValueRef so =
      LLVMBuildNSWMul(b, mul_add(c, b, mul_add(c, b, bb, I, i), J, jj), vl_i64(c, K), "");
  LLVMValueRef d0 = LLVMBuildNSWMul(b, mul_add(c, b, bj, I, i), vl_i64(c, K), "");
  int64_t full = K - K % w;
  if (full > 0) {
    VlLoop lk;
    LLVMValueRef k = vl_loop_begin(c, b, vl_i64(c, 0), vl_i64(c, full), w, &lk);
    LLVMValueRef v = vl_load(c, b, vt, src, LLVMBuildNSWAdd(b, so, k, ""), w, NULL);
    vl_store(c, b, v, dst, LLVMBuildNSWAdd(b, d0, k, ""), w);
    vl_loop_end(c, b, &lk);
  }
  if (K % w) {
    LLVMValueRef k = vl_i64(c, full);
    LLVMValueRef v = vl_load(c, b, vt, src, LLVMBuildNSWAdd(b, so, k, ""), (int)(K % w), NULL);
    vl_store(c, b, v, dst, LLVMBuildNSWAdd(b, d0, k, ""), (int)(K % w));
  }
  vl_nest_end(c, b, ns);
}

/* Block transpose in registers (see vec_transpose.h): one round per bit
 * of the row index; round s swaps the s-blocks of q-lane super-lanes
 * between rows i and i + s (i with bit s clear), which exchanges that bit
 * between the row and super-lane indices.  The lane order the caller
 * wants (each column's rows contiguous) is folded into the last round's
 * masks, so it costs no extra shuffle. */
void vt_transpose_blocks(CgCtx *c, LLVMBuilderRef b, LLVMValueRef *r, int rows, int w) {
  LLVMTypeRef i32 = LLVMInt32TypeInContext(c->ctx);
  int q = w / rows;
  for (int s = rows / 2; s >= 1; s /= 2) {
    int lo[64], hi[64];
    for (int j = 0; j < w; j++) {
      bool upper = (j / q) & s;
      lo[j] = upper ? w + j - s * q : j;
      hi[j] = upper ? w + j : j + s * q;
    }
    LLVMValueRef mlo[64], mhi[64];
    for (int j = 0; j < w; j++) {
      /* Last round: lane j (= col * rows + row) comes from lane row * q + col. */
      int from = s == 1 ? (j % rows) * q + j / rows : j;
      mlo[j] = LLVMConstInt(i32, (unsigned)lo[from], 0);
      mhi[j] = LLVMConstInt(i32, (unsigned)hi[from], 0);
    }
    LLVMValueRef klo = LLVMConstVector(mlo, (unsigned)w), khi = LLVMConstVector(mhi, (unsigned)w);
    for (int i = 0; i < rows; i++) {
      if (i & s) continue;
      LLVMValueRef a = r[i], p = r[i + s];
      r[i] = LLVMBuildShuffleVector(b, a, p, klo, "");
      r[i + s] = LLVMBuildShuffleVector(b, a, p, khi, "");
    }
  }
}

void vt_transpose_regs(CgCtx *c, LLVMBuilderRef b, LLVMValueRef *r, int w) {
  vt_transpose_blocks(c, b, r, w, w);
}

/* One tile at (i0, j0) with ri valid rows and cj valid columns (both
 * compile-time constants <= w). */
static void emit_tile(CgCtx *c, LLVMBuilderRef b, LLVMValueRef src, LLVMValueRef dst,
                      LLVMValueRef base, LLVMValueRef i0, LLVMValueRef j0, int64_t I, int64_t J,
                      int ri, int cj) {
  int w = c->vf32;
  LLVMTypeRef vt = vm_vec(c, w);
  LLVMValueRef r[64];
  for (int t = 0; t < w; t++) {
    if (t >= ri) {
      r[t] = LLVMConstNull(vt);
      continue;
    }
    LLVMValueRef row = LLVMBuildNSWAdd(b, i0, vl_i64(c, t), "");
    LLVMValueRef off = LLVMBuildNSWAdd(b, base, mul_add(c, b, row, J, j0), "");
    r[t] = vl_load(c, b, vt, src, off, cj, NULL);
  }
  vt_transpose_regs(c, b, r, w);
  for (int t = 0; t < cj; t++) {
    LLVMValueRef col = LLVMBuildNSWAdd(b, j0, vl_i64(c, t), "");
    LLVMValueRef off = LLVMBuildNSWAdd(b, base, mul_add(c, b, col, I, i0), "");
    vl_store(c, b, r[t], dst, off, ri);
  }
}

/* The j blocks of one block row of tiles (ri valid rows). */
static void emit_tile_row(CgCtx *c, LLVMBuilderRef b, LLVMValueRef src, LLVMValueRef dst,
                          LLVMValueRef base, LLVMValueRef i0, int64_t I, int64_t J, int ri) {
  int w = c->vf32;
  int64_t jfull = J - J % w;
  if (jfull > 0) {
    VlLoop lj;
    LLVMValueRef j0 = vl_loop_begin(c, b, vl_i64(c, 0), vl_i64(c, jfull), w, &lj);
    emit_tile(c, b, src, dst, base, i0, j0, I, J, ri, w);
    vl_loop_end(c, b, &lj);
  }
  if (J % w) emit_tile(c, b, src, dst, base, i0, vl_i64(c, jfull), I, J, ri, (int)(J % w));
}

/* K == 1: out[b][j][i] = in[b][i][j] in w x w register tiles, w = vf32;
 * edge tiles use masked loads/stores. */
static void emit_tiles(CgCtx *c, LLVMBuilderRef b, LLVMValueRef src, LLVMValueRef dst, int64_t B,
                       int64_t I, int64_t J, VlNest *ns) {
  int w = c->vf32;
  LLVMValueRef bb = vl_nest_level(c, b, ns);
  LLVMValueRef base = LLVMBuildNSWMul(b, bb, vl_i64(c, I * J), "");
  int64_t ifull = I - I % w;
  LLVMValueRef it = vl_nest_level(c, b, ns);
  LLVMValueRef i0 = LLVMBuildNSWMul(b, it, vl_i64(c, w), "");
  if (ifull > 0 && I % w) {
    VlIf f;
    vl_if_begin(c, b, LLVMBuildICmp(b, LLVMIntSLT, i0, vl_i64(c, ifull), ""), &f);
    emit_tile_row(c, b, src, dst, base, i0, I, J, w);
    vl_if_else(c, b, &f);
    emit_tile_row(c, b, src, dst, base, i0, I, J, (int)(I % w));
    vl_if_end(c, b, &f);
  } else {
    emit_tile_row(c, b, src, dst, base, i0, I, J, ifull > 0 ? w : (int)(I % w));
  }
  vl_nest_end(c, b, ns);
}

bool vt_emit_transpose(CgCtx *c, const Value *x, int nperm, const int64_t *perm, LLVMValueRef in,
                       LLVMValueRef out) {
  if (!perm || nperm != x->rank || x->dtype != DT_FLOAT32 || !ir_value_is_static(x) ||
      ir_value_numel(x) <= 0)
    return false;
  int p, q, r;
  if (!swap_groups(nperm, perm, &p, &q, &r)) return false;
  int64_t B = 1, I = 1, J = 1, K = 1;
  for (int i = 0; i < x->rank; i++) {
    int64_t d = x->dims[i];
    if (i < p)
      B *= d;
    else if (i < q)
      I *= d;
    else if (i < r)
      J *= d;
    else
      K *= d;
  }
  LLVMValueRef fn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, "transpose", 2, true, &fn, &b, &lo, &hi);
  LLVMValueRef src = LLVMGetParam(fn, 0), dst = LLVMGetParam(fn, 1);
  /* Units: rows of K floats, or block rows of w x w tiles. */
  int64_t dims[2] = {K > 1 ? B * J : B, K > 1 ? I : (I + c->vf32 - 1) / c->vf32};
  VlNest ns;
  vl_nest_begin(c, b, &ns, 2, dims, lo, hi);
  if (K > 1)
    emit_rows(c, b, src, dst, B, I, J, K, &ns);
  else
    emit_tiles(c, b, src, dst, B, I, J, &ns);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  LLVMValueRef args[2] = {in, out};
  double n = (double)(B * I * J * K);
  cg_call_par_kernel(c, fn, args, 2, vl_nest_units(2, dims), cg_cost_ns(c, 0, 8 * n));
  return true;
}

/* ---- planes: the output's last axis is not the input's ------------------ */

/* Where a plane tile reads and writes: the input's last axis (C floats,
 * output stride cy) against the axis that is the output's last one (W
 * floats, input stride wx). */
typedef struct Plane {
  int64_t wx, cy;
  LLVMValueRef src, dst, xoff, yoff; /* the plane's first element in and out */
} Plane;

/* Input rows w0 + [0, rw) x columns c0 + [0, cw): rw loads of cw floats,
 * transposed in registers in blocks of 2^k >= rw rows, then one store of
 * rw floats per column. */
static void plane_tile(CgCtx *c, LLVMBuilderRef b, const Plane *pl, LLVMValueRef w0, int rw,
                       LLVMValueRef c0, int cw) {
  int vf = c->vf32, rows = 1;
  while (rows < rw) rows *= 2;
  int q = vf / rows;
  LLVMTypeRef vt = vm_vec(c, vf);
  LLVMValueRef r[64];
  for (int t = 0; t < rows; t++) {
    if (t >= rw) {
      r[t] = LLVMConstNull(vt);
      continue;
    }
    LLVMValueRef w = LLVMBuildNSWAdd(b, w0, vl_i64(c, t), "");
    LLVMValueRef off = LLVMBuildNSWAdd(b, pl->xoff, mul_add(c, b, w, pl->wx, c0), "");
    r[t] = vl_load(c, b, vt, pl->src, off, cw, NULL);
  }
  vt_transpose_blocks(c, b, r, rows, vf);
  for (int col = 0; col < cw; col++) {
    LLVMValueRef v = r[col / q];
    if (q > 1) v = vm_lanes(c, b, v, (col % q) * rows, rows);
    LLVMValueRef ch = LLVMBuildNSWAdd(b, c0, vl_i64(c, col), "");
    LLVMValueRef off = LLVMBuildNSWAdd(b, pl->yoff, mul_add(c, b, ch, pl->cy, w0), "");
    vl_store(c, b, v, pl->dst, off, rw);
  }
}

/* The columns of one band of rw rows: full blocks of vf, then the rest. */
static void plane_band(CgCtx *c, LLVMBuilderRef b, const Plane *pl, LLVMValueRef w0, int rw,
                       int64_t C) {
  int vf = c->vf32;
  int64_t cfull = C - C % vf;
  if (cfull > 0) {
    VlLoop lc;
    LLVMValueRef c0 = vl_loop_begin(c, b, vl_i64(c, 0), vl_i64(c, cfull), vf, &lc);
    plane_tile(c, b, pl, w0, rw, c0, vf);
    vl_loop_end(c, b, &lc);
  }
  if (C % vf) plane_tile(c, b, pl, w0, rw, vl_i64(c, cfull), (int)(C % vf));
}

bool vt_emit_transpose_planes(CgCtx *c, const Value *x, int nperm, const int64_t *perm,
                              LLVMValueRef in, LLVMValueRef out) {
  int n = x->rank;
  if (!perm || nperm != n || n < 2 || x->dtype != DT_FLOAT32 || !ir_value_is_static(x) ||
      ir_value_numel(x) <= 0 || c->vf32 < 4)
    return false;
  int last = n - 1, a = (int)perm[n - 1];
  if (a < 0 || a >= last) return false;
  int64_t sx[IR_MAX_RANK], sy[IR_MAX_RANK], ystride_of[IR_MAX_RANK];
  sx[last] = 1;
  for (int k = last - 1; k >= 0; k--) sx[k] = sx[k + 1] * x->dims[k + 1];
  sy[last] = 1;
  for (int i = last - 1; i >= 0; i--) sy[i] = sy[i + 1] * x->dims[perm[i + 1]];
  for (int i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= n) return false;
    ystride_of[perm[i]] = sy[i];
  }
  int64_t W = x->dims[a], C = x->dims[last];
  if (W < 2 || C < 2) return false;
  /* The other axes (size 1 dropped) are the nest of units. */
  int64_t dims[VL_NEST_MAX], xs[VL_NEST_MAX], ys[VL_NEST_MAX];
  int nd = 0;
  for (int k = 0; k < last; k++) {
    if (k == a || x->dims[k] == 1) continue;
    if (nd == VL_NEST_MAX) return false;
    dims[nd] = x->dims[k];
    xs[nd] = sx[k];
    ys[nd++] = ystride_of[k];
  }
  if (nd == 0) {
    dims[0] = 1;
    xs[0] = ys[0] = 0;
    nd = 1;
  }
  LLVMValueRef fn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, "transpose_planes", 2, true, &fn, &b, &lo, &hi);
  Plane pl = {.wx = sx[a], .cy = ystride_of[last], .src = LLVMGetParam(fn, 0),
              .dst = LLVMGetParam(fn, 1), .xoff = vl_i64(c, 0), .yoff = vl_i64(c, 0)};
  VlNest ns;
  vl_nest_begin(c, b, &ns, nd, dims, lo, hi);
  for (int d = 0; d < nd; d++) {
    LLVMValueRef i = vl_nest_level(c, b, &ns);
    pl.xoff = mul_add(c, b, i, xs[d], pl.xoff);
    pl.yoff = mul_add(c, b, i, ys[d], pl.yoff);
  }
  int vf = c->vf32;
  int64_t wfull = W - W % vf;
  if (wfull > 0) {
    VlLoop lw;
    LLVMValueRef w0 = vl_loop_begin(c, b, vl_i64(c, 0), vl_i64(c, wfull), vf, &lw);
    plane_band(c, b, &pl, w0, vf, C);
    vl_loop_end(c, b, &lw);
  }
  if (W % vf) plane_band(c, b, &pl, vl_i64(c, wfull), (int)(W % vf), C);
  vl_nest_end(c, b, &ns);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  LLVMValueRef args[2] = {in, out};
  double numel = (double)ir_value_numel(x);
  cg_call_par_kernel(c, fn, args, 2, vl_nest_units(nd, dims), cg_cost_ns(c, 0, 8 * numel));
  return true;
}
