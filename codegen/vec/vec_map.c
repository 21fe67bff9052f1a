/*
 * Broadcast planning and the [rows, len] elementwise kernel; see vec_map.h.
 * Per row: splat operands are loaded once, then full vectors of c->vf32
 * lanes, then one masked vector for the len % vf32 tail.
 */
#include "vec_map.h"

#include "../parallel.h"
#include "vec_loops.h"
#include "vec_math.h"

bool vmap_plan(const Value *const ins[], int nin, const Value *out, VmapPlan *p) {
  if (nin < 1 || nin > VMAP_MAX_IN || !ir_value_is_static(out) || out->dtype != DT_FLOAT32)
    return false;
  int64_t total = ir_value_numel(out);
  if (total <= 0) return false;
  int r = out->rank;
  int pos[IR_MAX_RANK], m = 0;
  for (int i = 0; i < r; i++)
    if (out->dims[i] > 1) pos[m++] = i;
  bool match[VMAP_MAX_IN][IR_MAX_RANK];
  p->nin = nin;
  for (int k = 0; k < nin; k++) {
    const Value *v = ins[k];
    if (!v || !ir_value_is_static(v) || v->rank > r) return false;
    if (v->dtype != DT_FLOAT32 && v->dtype != DT_BOOL) return false;
    p->op[k].is_bool = v->dtype == DT_BOOL;
    int64_t d[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
      int j = i - (r - v->rank);
      d[i] = j >= 0 ? v->dims[j] : 1;
      if (d[i] != out->dims[i] && d[i] != 1) return false;
    }
    for (int j = 0; j < m; j++)
      match[k][j] = d[pos[j]] == out->dims[pos[j]];
  }
  /* Longest suffix where every operand keeps the class of the last dim. */
  int s = m > 0 ? m - 1 : 0;
  while (s > 0) {
    bool uniform = true;
    for (int k = 0; k < nin; k++)
      if (match[k][s - 1] != match[k][m - 1]) uniform = false;
    if (!uniform) break;
    s--;
  }
  int64_t len = 1, rows = 1;
  for (int j = s; j < m; j++)
    len *= out->dims[pos[j]];
  for (int j = 0; j < s; j++)
    rows *= out->dims[pos[j]];
  p->len = len;
  p->rows = rows;
  for (int k = 0; k < nin; k++) {
    VmapOperand *o = &p->op[k];
    o->contig = m > 0 && match[k][m - 1];
    int a = -1, e = -1;
    for (int j = 0; j < s; j++) {
      if (!match[k][j]) continue;
      if (a < 0)
        a = j;
      else if (e != j)
        return false; /* a second range */
      e = j + 1;
    }
    o->div = 1;
    o->mod = 1;
    if (a >= 0) {
      for (int j = e; j < s; j++)
        o->div *= out->dims[pos[j]];
      for (int j = a; j < e; j++)
        o->mod *= out->dims[pos[j]];
    }
    o->mul = o->contig ? len : 1;
  }
  return true;
}

static LLVMValueRef to_mask(LLVMBuilderRef b, LLVMValueRef v8) {
  return LLVMBuildICmp(b, LLVMIntNE, v8, LLVMConstNull(LLVMTypeOf(v8)), "");
}

/* One step at column j: `count` lanes of a vector of w lanes (a multiple
 * of c->vf32). */
static void map_step(CgCtx *c, LLVMBuilderRef b, const VmapPlan *p, VmapFn fn, const void *ud,
                     LLVMValueRef const base[], LLVMValueRef const off[], LLVMValueRef const spl[],
                     LLVMValueRef outp, LLVMValueRef ooff, LLVMValueRef j, int w, int count) {
  LLVMTypeRef vf = vm_vec(c, w), vb = LLVMVectorType(LLVMInt8TypeInContext(c->ctx), (unsigned)w);
  LLVMValueRef x[VMAP_MAX_IN];
  for (int k = 0; k < p->nin; k++) {
    if (!p->op[k].contig) {
      x[k] = spl[k];
      if (w != c->vf32) { /* the same splat, wider */
        LLVMValueRef lane0 = LLVMConstInt(LLVMInt32TypeInContext(c->ctx), 0, 0);
        LLVMValueRef s = LLVMBuildExtractElement(b, spl[k], lane0, "");
        x[k] = LLVMBuildInsertElement(b, LLVMGetUndef(LLVMVectorType(LLVMTypeOf(s), (unsigned)w)), s,
                                      lane0, "");
        x[k] = LLVMBuildShuffleVector(b, x[k], x[k],
                                      LLVMConstNull(LLVMVectorType(LLVMInt32TypeInContext(c->ctx),
                                                                   (unsigned)w)), "");
      }
      continue;
    }
    LLVMValueRef idx = LLVMBuildNSWAdd(b, off[k], j, "");
    LLVMValueRef v = vl_load(c, b, p->op[k].is_bool ? vb : vf, base[k], idx, count, NULL);
    x[k] = p->op[k].is_bool ? to_mask(b, v) : v;
  }
  LLVMValueRef y = fn(c, b, x, ud);
  vl_store(c, b, y, outp, LLVMBuildNSWAdd(b, ooff, j, ""), count);
}

/* Vectors per step of the main loop, as one wide vector that LLVM splits
 * into as many interleaved register operations: exp, erf and GELU are long
 * dependent chains (about 100 cycles for GELU) that out-of-order execution
 * cannot overlap enough from one vector per iteration. */
enum { VMAP_INTERLEAVE = 4 };

/* The columns [j0, j0 + n) of one row: full vectors, then a masked tail. */
static void map_span(CgCtx *c, LLVMBuilderRef b, const VmapPlan *p, VmapFn fn, const void *ud,
                     LLVMValueRef const base[], LLVMValueRef const off[], LLVMValueRef const spl[],
                     LLVMValueRef outp, LLVMValueRef ooff, LLVMValueRef j0, int64_t n) {
  int w = c->vf32, wide = w * VMAP_INTERLEAVE;
  int64_t done = 0;
  for (int step = wide; step >= w; step = step == wide ? w : 0) {
    int64_t full = (n - done) / step * step;
    if (full <= 0) continue;
    VlLoop jl;
    LLVMValueRef from = LLVMBuildNSWAdd(b, j0, vl_i64(c, done), "");
    LLVMValueRef j = vl_loop_begin(c, b, from, LLVMBuildNSWAdd(b, from, vl_i64(c, full), ""), step, &jl);
    map_step(c, b, p, fn, ud, base, off, spl, outp, ooff, j, step, step);
    vl_loop_end(c, b, &jl);
    done += full;
  }
  if (n > done)
    map_step(c, b, p, fn, ud, base, off, spl, outp, ooff,
             LLVMBuildNSWAdd(b, j0, vl_i64(c, done), ""), w, (int)(n - done));
}

/* Columns per unit: a long row is cut into pieces of whole vectors so that
 * a big flat tensor still splits across threads. */
enum { VMAP_SPLIT_COLS = 8192, VMAP_CHUNK_COLS = 4096 };

void vmap_emit(CgCtx *c, const VmapPlan *p, const char *tag, VmapFn fn, const void *ud,
               LLVMValueRef const in[], LLVMValueRef out) {
  LLVMValueRef kfn, lo, hi;
  LLVMBuilderRef b;
  cg_begin_par_kernel(c, tag, p->nin + 1, false, &kfn, &b, &lo, &hi);
  int w = c->vf32;
  LLVMTypeRef f32 = vm_f32(c), i8 = LLVMInt8TypeInContext(c->ctx);
  LLVMValueRef base[VMAP_MAX_IN], off[VMAP_MAX_IN], spl[VMAP_MAX_IN];
  for (int k = 0; k < p->nin; k++)
    base[k] = LLVMGetParam(kfn, (unsigned)k);
  LLVMValueRef outp = LLVMGetParam(kfn, (unsigned)p->nin);
  int64_t cw = p->len > VMAP_SPLIT_COLS ? VMAP_CHUNK_COLS : p->len;
  int64_t nch = (p->len + cw - 1) / cw, last = p->len - (nch - 1) * cw;
  int64_t dims[2] = {p->rows, nch};
  VlNest ns;
  vl_nest_begin(c, b, &ns, 2, dims, lo, hi);
  LLVMValueRef r = vl_nest_level(c, b, &ns);
  for (int k = 0; k < p->nin; k++) {
    const VmapOperand *o = &p->op[k];
    LLVMValueRef q = r;
    if (o->div > 1) q = LLVMBuildUDiv(b, q, vl_i64(c, o->div), "");
    q = o->mod > 1 ? LLVMBuildURem(b, q, vl_i64(c, o->mod), "") : vl_i64(c, 0);
    off[k] = LLVMBuildNSWMul(b, q, vl_i64(c, o->mul), "");
    spl[k] = NULL;
    if (!o->contig) {
      LLVMValueRef s = LLVMBuildLoad2(b, o->is_bool ? i8 : f32,
                                      vl_gep(c, b, o->is_bool ? i8 : f32, base[k], off[k]), "");
      spl[k] = vm_splat(c, b, s, w);
      if (o->is_bool) spl[k] = to_mask(b, spl[k]);
    }
  }
  LLVMValueRef ooff = LLVMBuildNSWMul(b, r, vl_i64(c, p->len), "");
  LLVMValueRef ch = vl_nest_level(c, b, &ns);
  LLVMValueRef j0 = LLVMBuildNSWMul(b, ch, vl_i64(c, cw), "");
  if (nch == 1) {
    map_span(c, b, p, fn, ud, base, off, spl, outp, ooff, j0, p->len);
  } else {
    VlIf f;
    vl_if_begin(c, b, LLVMBuildICmp(b, LLVMIntSLT, ch, vl_i64(c, nch - 1), ""), &f);
    map_span(c, b, p, fn, ud, base, off, spl, outp, ooff, j0, cw);
    vl_if_else(c, b, &f);
    map_span(c, b, p, fn, ud, base, off, spl, outp, ooff, j0, last);
    vl_if_end(c, b, &f);
  }
  vl_nest_end(c, b, &ns);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);

  LLVMValueRef args[VMAP_MAX_IN + 1];
  double bytes = 4.0 * (double)(p->rows * p->len);
  for (int k = 0; k < p->nin; k++) {
    args[k] = in[k];
    if (p->op[k].contig) bytes += 4.0 * (double)(p->rows * p->len);
  }
  args[p->nin] = out;
  /* ~10 flops per element covers the polynomials of exp/erf/tanh. */
  double cost = cg_cost_ns(c, 10.0 * (double)(p->rows * p->len), bytes);
  cg_call_par_kernel(c, kfn, args, p->nin + 1, vl_nest_units(2, dims), cost);
}
