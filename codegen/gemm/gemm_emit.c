/*
 * IR for the float32 matrix product (see gemm_emit.h).  Two levels:
 *
 *   tile function   one MR x NR block of the output over one K block: the
 *                   accumulators are SSA vectors carried around the k loop
 *                   (so they live in registers by construction), each step
 *                   loads NV vectors of B and broadcasts MR scalars of A.
 *                   Variants for the M tail (fewer rows) and N tail
 *                   (masked last vector) are separate functions.
 *   rectangle       row tiles [r_lo, r_hi) (across batch elements) x
 *                   panels [p_lo, p_hi): batch -> N block -> K block ->
 *                   M tiles -> N panels, calling the tile variants with
 *                   pointers into A, B, Y.
 *   kernel          the partitioned kernel (parallel.h): its units are
 *                   (row tile, panel) pairs in row-major order, and a
 *                   contiguous range of them is at most three rectangles
 *                   (a partial row, whole rows, a partial row), so two
 *                   threads each run half of the rows over all of B.
 *
 * Partial sums of earlier K blocks are kept in Y; the last K block applies
 * alpha, beta * bias and the plan's epilogue hook (activation, residual of
 * the fused ops) and stores once.
 */
#include "gemm_emit.h"

#include <stdio.h>
#include <string.h>

#include "../parallel.h"
#include "../vec/vec_loops.h"

typedef struct GemmIR {
  CgCtx *c;
  LLVMTypeRef f32, vec, i64, i32, i1, ptr;
  LLVMValueRef fma, mload, mstore;
  LLVMTypeRef fma_ty, mload_ty, mstore_ty;
} GemmIR;

static LLVMValueRef intrinsic(GemmIR *g, const char *name, LLVMTypeRef *tys, unsigned ntys,
                              LLVMTypeRef *fty) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  *fty = LLVMIntrinsicGetType(g->c->ctx, id, tys, ntys);
  return LLVMGetIntrinsicDeclaration(g->c->mod, id, tys, ntys);
}

static void gemm_ir_init(GemmIR *g, CgCtx *c, int vf) {
  g->c = c;
  g->f32 = LLVMFloatTypeInContext(c->ctx);
  g->vec = LLVMVectorType(g->f32, (unsigned)vf);
  g->i64 = LLVMInt64TypeInContext(c->ctx);
  g->i32 = LLVMInt32TypeInContext(c->ctx);
  g->i1 = LLVMInt1TypeInContext(c->ctx);
  g->ptr = LLVMPointerTypeInContext(c->ctx, 0);
  LLVMTypeRef vt = g->vec;
  g->fma = intrinsic(g, c->has_fma ? "llvm.fma" : "llvm.fmuladd", &vt, 1, &g->fma_ty);
  LLVMTypeRef lt[2] = {g->vec, g->ptr};
  g->mload = intrinsic(g, "llvm.masked.load", lt, 2, &g->mload_ty);
  g->mstore = intrinsic(g, "llvm.masked.store", lt, 2, &g->mstore_ty);
}

static LLVMValueRef i64c(GemmIR *g, int64_t v) {
  return LLVMConstInt(g->i64, (unsigned long long)v, 1);
}

static LLVMValueRef gep_f(GemmIR *g, LLVMBuilderRef b, LLVMValueRef p, LLVMValueRef idx) {
  return LLVMBuildGEP2(b, g->f32, p, &idx, 1, "");
}

static LLVMValueRef splat(GemmIR *g, LLVMBuilderRef b, LLVMValueRef s) {
  LLVMValueRef v =
      LLVMBuildInsertElement(b, LLVMGetPoison(g->vec), s, LLVMConstInt(g->i32, 0, 0), "");
  return LLVMBuildShuffleVector(b, v, LLVMGetPoison(g->vec),
                                LLVMConstNull(LLVMVectorType(g->i32, LLVMGetVectorSize(g->vec))),
                                "");
}

/* Lanes [0, lanes) set. */
static LLVMValueRef lane_mask(GemmIR *g, int lanes) {
  LLVMValueRef bits[64];
  unsigned vf = LLVMGetVectorSize(g->vec);
  for (unsigned i = 0; i < vf; i++) bits[i] = LLVMConstInt(g->i1, (int)i < lanes, 0);
  return LLVMConstVector(bits, vf);
}

/* Vector load/store of `lanes` floats (lanes < vf: masked). */
static LLVMValueRef vload(GemmIR *g, LLVMBuilderRef b, LLVMValueRef p, int lanes) {
  if (lanes >= (int)LLVMGetVectorSize(g->vec)) {
    LLVMValueRef v = LLVMBuildLoad2(b, g->vec, p, "");
    LLVMSetAlignment(v, 4);
    return v;
  }
  LLVMValueRef args[] = {p, LLVMConstInt(g->i32, 4, 0), lane_mask(g, lanes), LLVMConstNull(g->vec)};
  return LLVMBuildCall2(b, g->mload_ty, g->mload, args, 4, "");
}

static void vstore(GemmIR *g, LLVMBuilderRef b, LLVMValueRef v, LLVMValueRef p, int lanes) {
  if (lanes >= (int)LLVMGetVectorSize(g->vec)) {
    LLVMSetAlignment(LLVMBuildStore(b, v, p), 4);
    return;
  }
  LLVMValueRef args[] = {v, p, LLVMConstInt(g->i32, 4, 0), lane_mask(g, lanes)};
  LLVMBuildCall2(b, g->mstore_ty, g->mstore, args, 4, "");
}

enum { MAXR = 16, MAXV = 8 };

/* One tile-function variant: mr rows, nv vectors, the last with `tail`
 * valid lanes. */
typedef struct TileShape {
  int mr, nv, tail;
} TileShape;

static int lanes_of(const GemmPlan *p, const TileShape *s, int v) {
  return v == s->nv - 1 ? s->tail : p->t.vf;
}

/* The final value of row `row` (an i64) of a tile of shape s at y, bias
 * and res: alpha, beta * bias, the epilogue hook, stored once.  acc holds
 * the row's sums in registers, or is NULL to reload them from y. */
static void emit_epi_row(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const TileShape *s,
                         LLVMValueRef y, LLVMValueRef bias, LLVMValueRef res, LLVMValueRef row,
                         LLVMValueRef const *acc) {
  CgCtx *c = g->c;
  LLVMValueRef alpha = splat(g, b, LLVMConstReal(g->f32, p->alpha));
  LLVMValueRef beta = splat(g, b, LLVMConstReal(g->f32, p->beta));
  /* Element offsets of the row in y, the bias and the residual. */
  LLVMValueRef yrow = LLVMBuildMul(b, row, i64c(g, p->ldc), "");
  LLVMValueRef brow = LLVMBuildMul(b, row, i64c(g, p->bias_si), "");
  LLVMValueRef rrow = LLVMBuildMul(b, row, i64c(g, p->epi.res_si), "");
  for (int v = 0; v < s->nv; v++) {
    LLVMValueRef voff = i64c(g, v * p->t.vf);
    LLVMValueRef r =
        acc ? acc[v] : vload(g, b, gep_f(g, b, gep_f(g, b, y, yrow), voff), lanes_of(p, s, v));
    if (p->alpha != 1.0f) r = LLVMBuildFMul(b, r, alpha, "");
    if (p->has_bias) {
      LLVMValueRef bi;
      if (p->bias_sj) {
        bi = vload(g, b, gep_f(g, b, gep_f(g, b, bias, brow), voff), lanes_of(p, s, v));
      } else {
        bi = splat(g, b, LLVMBuildLoad2(b, g->f32, gep_f(g, b, bias, brow), ""));
      }
      if (p->beta != 1.0f) bi = LLVMBuildFMul(b, bi, beta, "");
      r = LLVMBuildFAdd(b, r, bi, "");
    }
    if (p->epi.fn) {
      LLVMValueRef rv = NULL;
      if (p->epi.has_res && p->epi.res_sj)
        rv = vload(g, b, gep_f(g, b, gep_f(g, b, res, rrow), voff), lanes_of(p, s, v));
      else if (p->epi.has_res)
        rv = splat(g, b, LLVMBuildLoad2(b, g->f32, gep_f(g, b, res, rrow), ""));
      r = p->epi.fn(p->epi.ctx, c, b, r, rv);
    }
    vstore(g, b, r, gep_f(g, b, gep_f(g, b, y, yrow), voff), lanes_of(p, s, v));
  }
}

/* A costly epilogue hook (GELU: ~25 vector operations per output vector,
 * a third of them on the FMA pipes) run after the tile's k loop leaves the
 * FMA pipes idle while it runs: 13% of a Swin stage-1 fc1 (K = 96).  Such
 * a plan defers it: the tile stores its raw sums, and the next tile of the
 * same rows (the next panel) finishes them one row per segment of its own
 * k loop, where the out-of-order core overlaps the row's ~80 operations
 * with the segment's FMAs.  The rectangle's driver finishes the last tile
 * of each panel run (emit_drain). */
static bool epilogue_deferred(const GemmPlan *p) { return p->epi.fn && p->epi.costly; }

static LLVMValueRef tile_function(GemmIR *g, const char *tag, LLVMTypeRef *params,
                                  unsigned nparams) {
  CgCtx *c = g->c;
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), params, nparams, 0);
  char name[96];
  snprintf(name, sizeof name, "onnxc.%s.%d", tag, c->counter++);
  LLVMValueRef fn = LLVMAddFunction(c->mod, name, fty);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  return fn;
}

/* void drain(ptr y, ptr bias, ptr res): the deferred epilogue of one tile
 * of shape s, whose raw sums are in y. */
static LLVMValueRef emit_drain(GemmIR *g, const GemmPlan *p, const TileShape *s) {
  CgCtx *c = g->c;
  LLVMTypeRef params[] = {g->ptr, g->ptr, g->ptr};
  LLVMValueRef fn = tile_function(g, "gemm_drain", params, 3);
  LLVMValueRef y = LLVMGetParam(fn, 0), bias = LLVMGetParam(fn, 1), res = LLVMGetParam(fn, 2);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
  VlLoop lr;
  LLVMValueRef row = vl_loop_begin(c, b, i64c(g, 0), i64c(g, s->mr), 1, &lr);
  emit_epi_row(g, b, p, s, y, bias, res, row, NULL);
  vl_loop_end(c, b, &lr);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return fn;
}

/* void tile(ptr a, ptr b, ptr y, ptr bias, i64 kc, i1 first, i1 last, ptr res, i1 pend)
 *
 * With a deferred epilogue the k loop runs in mr segments, and when `pend`
 * the segment i is followed by the epilogue of row i of the previous
 * panel's tile (full width, same rows: at y - NR); on the last K block the
 * tile stores its raw sums for the next tile or the drain. */
static LLVMValueRef emit_tile(GemmIR *g, const GemmPlan *p, const TileShape *s) {
  CgCtx *c = g->c;
  LLVMTypeRef params[] = {g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->i1, g->i1, g->ptr, g->i1};
  LLVMValueRef fn = tile_function(g, "gemm_tile", params, 9);
  unsigned na = LLVMGetEnumAttributeKindForName("noalias", 7);
  for (unsigned i = 1; i <= 4; i++)
    LLVMAddAttributeAtIndex(fn, i, LLVMCreateEnumAttribute(c->ctx, na, 0));
  LLVMAddAttributeAtIndex(fn, 8, LLVMCreateEnumAttribute(c->ctx, na, 0));
  LLVMValueRef a = LLVMGetParam(fn, 0), bp = LLVMGetParam(fn, 1), y = LLVMGetParam(fn, 2),
               bias = LLVMGetParam(fn, 3), kc = LLVMGetParam(fn, 4), first = LLVMGetParam(fn, 5),
               last = LLVMGetParam(fn, 6), res = LLVMGetParam(fn, 7), pend = LLVMGetParam(fn, 8);
  bool deferred = epilogue_deferred(p);
  int nseg = deferred ? s->mr * p->t.nv : 1;

  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, fn, "entry");
  LLVMBasicBlockRef init_zero = LLVMAppendBasicBlockInContext(c->ctx, fn, "zero");
  LLVMBasicBlockRef init_load = LLVMAppendBasicBlockInContext(c->ctx, fn, "reload");
  LLVMBasicBlockRef seg_head = LLVMAppendBasicBlockInContext(c->ctx, fn, "segment");
  LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(c->ctx, fn, "k");
  LLVMBasicBlockRef seg_end = LLVMAppendBasicBlockInContext(c->ctx, fn, "segment_end");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, fn, "done");
  LLVMBasicBlockRef epi = LLVMAppendBasicBlockInContext(c->ctx, fn, "epilogue");
  LLVMBasicBlockRef partial = LLVMAppendBasicBlockInContext(c->ctx, fn, "partial");
  LLVMBasicBlockRef ret = LLVMAppendBasicBlockInContext(c->ctx, fn, "ret");
  LLVMPositionBuilderAtEnd(b, entry);
  LLVMBuildCondBr(b, first, init_zero, init_load);
  LLVMPositionBuilderAtEnd(b, init_zero);
  LLVMBuildBr(b, seg_head);

  /* Earlier K blocks left partial sums in y. */
  LLVMValueRef loaded[MAXR][MAXV];
  LLVMPositionBuilderAtEnd(b, init_load);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++)
      loaded[i][v] =
          vload(g, b, gep_f(g, b, y, i64c(g, i * p->ldc + v * p->t.vf)), lanes_of(p, s, v));
  LLVMBuildBr(b, seg_head);

  /* Segment sg covers k in [sg kc / nseg, (sg + 1) kc / nseg), maybe empty. */
  LLVMPositionBuilderAtEnd(b, seg_head);
  LLVMValueRef sg = LLVMBuildPhi(b, g->i64, "seg");
  LLVMValueRef sacc[MAXR][MAXV];
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++) sacc[i][v] = LLVMBuildPhi(b, g->vec, "");
  LLVMValueRef sg1 = LLVMBuildAdd(b, sg, i64c(g, 1), "");
  LLVMValueRef k_lo = nseg == 1 ? i64c(g, 0)
                                : LLVMBuildSDiv(b, LLVMBuildMul(b, sg, kc, ""), i64c(g, nseg), "");
  LLVMValueRef k_hi =
      nseg == 1 ? kc : LLVMBuildSDiv(b, LLVMBuildMul(b, sg1, kc, ""), i64c(g, nseg), "");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, k_lo, k_hi, ""), loop, seg_end);

  LLVMPositionBuilderAtEnd(b, loop);
  LLVMValueRef k = LLVMBuildPhi(b, g->i64, "p");
  LLVMValueRef acc[MAXR][MAXV], phi[MAXR][MAXV];
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++) acc[i][v] = phi[i][v] = LLVMBuildPhi(b, g->vec, "");
  int64_t b_ld = p->b_packed ? (int64_t)p->t.nv * p->t.vf : p->ldb;
  LLVMValueRef brow = gep_f(g, b, bp, LLVMBuildMul(b, k, i64c(g, b_ld), ""));
  LLVMValueRef bv[MAXV];
  for (int v = 0; v < s->nv; v++) {
    /* Packed panels are zero-padded to NR: only in-place B needs masks. */
    int lanes = p->b_packed ? p->t.vf : lanes_of(p, s, v);
    bv[v] = vload(g, b, gep_f(g, b, brow, i64c(g, v * p->t.vf)), lanes);
  }
  for (int i = 0; i < s->mr; i++) {
    LLVMValueRef ai =
        LLVMBuildLoad2(b, g->f32, gep_f(g, b, a, LLVMBuildAdd(b, k, i64c(g, i * p->lda), "")), "");
    LLVMValueRef as = splat(g, b, ai);
    for (int v = 0; v < s->nv; v++) {
      LLVMValueRef args[] = {as, bv[v], acc[i][v]};
      acc[i][v] = LLVMBuildCall2(b, g->fma_ty, g->fma, args, 3, "");
    }
  }
  LLVMValueRef k1 = LLVMBuildAdd(b, k, i64c(g, 1), "");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, k1, k_hi, ""), loop, seg_end);
  LLVMAddIncoming(k, &k_lo, &seg_head, 1);
  LLVMAddIncoming(k, &k1, &loop, 1);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++) {
      LLVMAddIncoming(phi[i][v], &sacc[i][v], &seg_head, 1);
      LLVMAddIncoming(phi[i][v], &acc[i][v], &loop, 1);
    }

  /* The segment's sums, then (deferred) a row of the previous tile. */
  LLVMPositionBuilderAtEnd(b, seg_end);
  LLVMValueRef eacc[MAXR][MAXV];
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++) {
      eacc[i][v] = LLVMBuildPhi(b, g->vec, "");
      LLVMAddIncoming(eacc[i][v], &sacc[i][v], &seg_head, 1);
      LLVMAddIncoming(eacc[i][v], &acc[i][v], &loop, 1);
    }
  if (deferred) {
    /* Output vector sg of the previous tile: row sg / NV, vector sg % NV. */
    TileShape one = {1, 1, p->t.vf};
    int64_t nr = (int64_t)p->t.nv * p->t.vf;
    LLVMValueRef row = LLVMBuildSDiv(b, sg, i64c(g, p->t.nv), "");
    LLVMValueRef col = LLVMBuildSub(
        b, LLVMBuildMul(b, LLVMBuildSRem(b, sg, i64c(g, p->t.nv), ""), i64c(g, p->t.vf), ""),
        i64c(g, nr), "");
    VlIf has_pend;
    vl_if_begin(c, b, pend, &has_pend);
    emit_epi_row(g, b, p, &one, gep_f(g, b, y, col),
                 p->has_bias ? gep_f(g, b, bias, LLVMBuildMul(b, col, i64c(g, p->bias_sj), "")) : bias,
                 p->epi.has_res ? gep_f(g, b, res, LLVMBuildMul(b, col, i64c(g, p->epi.res_sj), ""))
                                : res,
                 row, NULL);
    vl_if_end(c, b, &has_pend);
  }
  LLVMBasicBlockRef seg_latch = LLVMGetInsertBlock(b);
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, sg1, i64c(g, nseg), ""), seg_head, done);
  LLVMValueRef zero64 = i64c(g, 0), zerov = LLVMConstNull(g->vec);
  LLVMAddIncoming(sg, &zero64, &init_zero, 1);
  LLVMAddIncoming(sg, &zero64, &init_load, 1);
  LLVMAddIncoming(sg, &sg1, &seg_latch, 1);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++) {
      LLVMAddIncoming(sacc[i][v], &zerov, &init_zero, 1);
      LLVMAddIncoming(sacc[i][v], &loaded[i][v], &init_load, 1);
      LLVMAddIncoming(sacc[i][v], &eacc[i][v], &seg_latch, 1);
    }

  LLVMPositionBuilderAtEnd(b, done);
  LLVMBuildCondBr(b, last, deferred ? partial : epi, partial);
  LLVMPositionBuilderAtEnd(b, partial);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++)
      vstore(g, b, eacc[i][v], gep_f(g, b, y, i64c(g, i * p->ldc + v * p->t.vf)),
             lanes_of(p, s, v));
  LLVMBuildBr(b, ret);

  /* y = alpha * acc + beta * bias, then the epilogue hook, written once. */
  LLVMPositionBuilderAtEnd(b, epi);
  if (deferred) {
    LLVMBuildUnreachable(b);
  } else {
    for (int i = 0; i < s->mr; i++) emit_epi_row(g, b, p, s, y, bias, res, i64c(g, i), eacc[i]);
    LLVMBuildBr(b, ret);
  }
  LLVMPositionBuilderAtEnd(b, ret);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return fn;
}

/* ---- driver ------------------------------------------------------------ */

/* A counted loop `for (iv = start; iv < end; iv++)` built with a phi. */
typedef struct Loop {
  LLVMBasicBlockRef check, body, exit;
  LLVMValueRef iv;
} Loop;

static Loop loop_open(GemmIR *g, LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef start,
                      LLVMValueRef end) {
  Loop l;
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
  l.check = LLVMAppendBasicBlockInContext(g->c->ctx, fn, "");
  l.body = LLVMAppendBasicBlockInContext(g->c->ctx, fn, "");
  l.exit = LLVMAppendBasicBlockInContext(g->c->ctx, fn, "");
  LLVMBuildBr(b, l.check);
  LLVMPositionBuilderAtEnd(b, l.check);
  l.iv = LLVMBuildPhi(b, g->i64, "");
  LLVMAddIncoming(l.iv, &start, &pre, 1);
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, l.iv, end, ""), l.body, l.exit);
  LLVMPositionBuilderAtEnd(b, l.body);
  return l;
}

static void loop_close(GemmIR *g, LLVMBuilderRef b, Loop *l) {
  LLVMValueRef next = LLVMBuildAdd(b, l->iv, i64c(g, 1), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(b);
  LLVMAddIncoming(l->iv, &next, &latch, 1);
  LLVMBuildBr(b, l->check);
  LLVMPositionBuilderAtEnd(b, l->exit);
}

/* Values the panel loop needs, computed by the enclosing loops. */
typedef struct Frame {
  LLVMValueRef fn, a, b, y, bias, res; /* batch bases */
  LLVMValueRef jp0, jp1, pc, kc, first, last;
  LLVMValueRef i_lo, i_hi;             /* row tiles [i_lo, i_hi) of this batch element */
} Frame;

/* The tile variants of a plan: [full rows | M tail] x [full panel | N
 * tail], and with a deferred epilogue their drains. */
typedef struct Tiles {
  LLVMValueRef tile[2][2], drain[2][2];
} Tiles;

/* Calls fn[0] (full panel) or fn[1] (N tail) on panel jp. */
static void call_variant(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                         LLVMValueRef jp, LLVMValueRef const fn[2], LLVMValueRef args[],
                         unsigned nargs) {
  int64_t nr = (int64_t)p->t.nv * p->t.vf;
  int64_t npanels = (p->n + nr - 1) / nr;
  if (fn[0] && fn[1]) {
    LLVMBasicBlockRef bt = LLVMAppendBasicBlockInContext(g->c->ctx, f->fn, "ntail");
    LLVMBasicBlockRef bf = LLVMAppendBasicBlockInContext(g->c->ctx, f->fn, "nfull");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(g->c->ctx, f->fn, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, jp, i64c(g, npanels - 1), ""), bt, bf);
    for (int v = 1; v >= 0; v--) {
      LLVMPositionBuilderAtEnd(b, v ? bt : bf);
      LLVMBuildCall2(b, LLVMGlobalGetValueType(fn[v]), fn[v], args, nargs, "");
      LLVMBuildBr(b, join);
    }
    LLVMPositionBuilderAtEnd(b, join);
  } else {
    LLVMValueRef one = fn[0] ? fn[0] : fn[1];
    LLVMBuildCall2(b, LLVMGlobalGetValueType(one), one, args, nargs, "");
  }
}

/* y, bias and residual pointers of the tile of rows from i0 x panel jp. */
static void tile_outputs(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                         LLVMValueRef i0, LLVMValueRef jp, LLVMValueRef out[3]) {
  int64_t nr = (int64_t)p->t.nv * p->t.vf;
  LLVMValueRef j0 = LLVMBuildMul(b, jp, i64c(g, nr), "");
  out[0] = gep_f(g, b, f->y, LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->ldc), ""), j0, ""));
  out[1] = p->has_bias
               ? gep_f(g, b, f->bias,
                       LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->bias_si), ""),
                                    LLVMBuildMul(b, j0, i64c(g, p->bias_sj), ""), ""))
               : LLVMConstNull(g->ptr);
  out[2] = p->epi.has_res
               ? gep_f(g, b, f->res,
                       LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->epi.res_si), ""),
                                    LLVMBuildMul(b, j0, i64c(g, p->epi.res_sj), ""), ""))
               : LLVMConstNull(g->ptr);
}

/* The tile of rows [i0, i0 + mr) x panel jp (tail variant on the last
 * panel when N is ragged). */
static void emit_one(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                     LLVMValueRef i0, LLVMValueRef jp, LLVMValueRef const tiles[2]) {
  int64_t nr = (int64_t)p->t.nv * p->t.vf;
  LLVMValueRef j0 = LLVMBuildMul(b, jp, i64c(g, nr), "");
  LLVMValueRef outs[3];
  tile_outputs(g, b, p, f, i0, jp, outs);
  LLVMValueRef args[9];
  args[0] = gep_f(g, b, f->a, LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->lda), ""), f->pc, ""));
  if (p->b_packed)
    args[1] = gep_f(g, b, f->b,
                    LLVMBuildAdd(b, LLVMBuildMul(b, jp, i64c(g, p->k * nr), ""),
                                 LLVMBuildMul(b, f->pc, i64c(g, nr), ""), ""));
  else
    args[1] =
        gep_f(g, b, f->b, LLVMBuildAdd(b, LLVMBuildMul(b, f->pc, i64c(g, p->ldb), ""), j0, ""));
  args[2] = outs[0];
  args[3] = outs[1];
  args[4] = f->kc;
  args[5] = f->first;
  args[6] = f->last;
  args[7] = outs[2];
  /* A previous tile of these rows waits for its epilogue. */
  args[8] = epilogue_deferred(p)
                ? LLVMBuildAnd(b, f->last, LLVMBuildICmp(b, LLVMIntSGT, jp, f->jp0, ""), "")
                : LLVMConstInt(g->i1, 0, 0);
  call_variant(g, b, p, f, jp, tiles, args, 9);
}

/* The panels [jp0, jp1) of the row tile from i0 (variants tiles[2],
 * drains[2]); a deferred epilogue's last tile is drained here. */
static void emit_row_run(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                         LLVMValueRef i0, LLVMValueRef const tiles[2],
                         LLVMValueRef const drains[2]) {
  Loop lp = loop_open(g, b, f->fn, f->jp0, f->jp1);
  emit_one(g, b, p, f, i0, lp.iv, tiles);
  loop_close(g, b, &lp);
  if (!epilogue_deferred(p)) return;
  VlIf last;
  vl_if_begin(g->c, b,
              LLVMBuildAnd(b, f->last, LLVMBuildICmp(b, LLVMIntSGT, f->jp1, f->jp0, ""), ""),
              &last);
  LLVMValueRef jp = LLVMBuildSub(b, f->jp1, i64c(g, 1), "");
  LLVMValueRef outs[3];
  tile_outputs(g, b, p, f, i0, jp, outs);
  call_variant(g, b, p, f, jp, drains, outs, 3);
  vl_if_end(g->c, b, &last);
}

/* All tiles of one (N block, K block), row tiles outside panels: the A
 * rows of a tile stay in L1 while the block's B panels stream from L2
 * (measured faster than the other order on the ViT shapes).  Variants
 * [0] = full height, [1] = M tail. */
static void emit_block(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                       const Tiles *tv) {
  const GemmTile *t = &p->t;
  int64_t m_full = p->m / t->mr, m_rem = p->m % t->mr;
  LLVMValueRef i_tail = i64c(g, m_full * t->mr);
  if (m_full > 0) {
    LLVMValueRef end = LLVMBuildSelect(
        b, LLVMBuildICmp(b, LLVMIntSLT, f->i_hi, i64c(g, m_full), ""), f->i_hi, i64c(g, m_full), "");
    Loop li = loop_open(g, b, f->fn, f->i_lo, end);
    LLVMValueRef i0 = LLVMBuildMul(b, li.iv, i64c(g, t->mr), "");
    emit_row_run(g, b, p, f, i0, tv->tile[0], tv->drain[0]);
    loop_close(g, b, &li);
  }
  if (m_rem > 0) {
    /* The short last row tile is tile m_full. */
    VlIf has_tail;
    vl_if_begin(g->c, b, LLVMBuildICmp(b, LLVMIntSGT, f->i_hi, i64c(g, m_full), ""), &has_tail);
    emit_row_run(g, b, p, f, i_tail, tv->tile[1], tv->drain[1]);
    vl_if_end(g->c, b, &has_tail);
  }
}

Status gemm_emit(CgCtx *c, const GemmPlan *p, LLVMValueRef a, LLVMValueRef bsrc, LLVMValueRef bias,
                 LLVMValueRef y, Error *err) {
  return gemm_emit_fused(c, p, a, bsrc, bias, NULL, y, err);
}

Status gemm_emit_fused(CgCtx *c, const GemmPlan *p, LLVMValueRef a, LLVMValueRef bsrc,
                       LLVMValueRef bias, LLVMValueRef res, LLVMValueRef y, Error *err) {
  GemmIR g;
  gemm_ir_init(&g, c, p->t.vf);
  const GemmTile *t = &p->t;
  int64_t nr = (int64_t)t->nv * t->vf;
  if (t->mr < 1 || t->mr > MAXR || t->nv < 1 || t->nv > MAXV || t->vf > 64 || p->m < 1 ||
      p->n < 1 || p->k < 1 || t->kc < 1 || t->ncp < 1)
    return err_set(err, ST_INTERNAL, "bad gemm plan");
  if (p->epi.has_res && (!res || !p->epi.fn || (p->batches > 1 && !p->epi.r_off)))
    return err_set(err, ST_INTERNAL, "bad gemm residual");
  int64_t npanels = (p->n + nr - 1) / nr;
  int64_t n_full = p->n / nr, n_rem = p->n % nr;
  int64_t m_full = p->m / t->mr, m_rem = p->m % t->mr;
  int64_t nkb = (p->k + t->kc - 1) / t->kc;

  /* Tile variants: [full rows | M tail] x [full panel | N tail]. */
  Tiles tv = {{{NULL, NULL}, {NULL, NULL}}, {{NULL, NULL}, {NULL, NULL}}};
  for (int mi = 0; mi < 2; mi++) {
    int mr = mi == 0 ? t->mr : (int)m_rem;
    if (mi == 0 ? m_full == 0 : m_rem == 0) continue;
    for (int ni = 0; ni < 2; ni++) {
      if (ni == 0 ? n_full == 0 : n_rem == 0) continue;
      TileShape s = {mr, t->nv, t->vf};
      if (ni == 1) s = (TileShape){mr, (int)((n_rem + t->vf - 1) / t->vf),
                                   (int)(n_rem % t->vf ? n_rem % t->vf : t->vf)};
      tv.tile[mi][ni] = emit_tile(&g, p, &s);
      if (epilogue_deferred(p)) tv.drain[mi][ni] = emit_drain(&g, p, &s);
    }
  }

  /* The rectangle function: row tiles [r_lo, r_hi) (counted across batch
   * elements, mt per element) x panels [p_lo, p_hi), in the serial loop
   * order batch -> N block -> K block -> row tiles -> panels. */
  int64_t mt = m_full + (m_rem > 0);
  LLVMTypeRef rp[9] = {g.ptr, g.ptr, g.ptr, g.ptr, g.ptr, g.i64, g.i64, g.i64, g.i64};
  char rname[96];
  snprintf(rname, sizeof rname, "onnxc.gemm_rect.%d", c->counter++);
  LLVMValueRef rect = LLVMAddFunction(c->mod, rname, LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), rp, 9, 0));
  LLVMSetLinkage(rect, LLVMInternalLinkage);
  unsigned na = LLVMGetEnumAttributeKindForName("noalias", 7);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(rect, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  for (unsigned i = 1; i <= 5; i++) LLVMAddAttributeAtIndex(rect, i, LLVMCreateEnumAttribute(c->ctx, na, 0));
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c->ctx, rect, "entry"));
  LLVMValueRef pa = LLVMGetParam(rect, 0), pb = LLVMGetParam(rect, 1), pbias = LLVMGetParam(rect, 2),
               py = LLVMGetParam(rect, 3), pres = LLVMGetParam(rect, 4);
  LLVMValueRef r_lo = LLVMGetParam(rect, 5), r_hi = LLVMGetParam(rect, 6);
  LLVMValueRef p_lo = LLVMGetParam(rect, 7), p_hi = LLVMGetParam(rect, 8);
  LLVMValueRef aoff_tab = NULL, boff_tab = NULL, roff_tab = NULL;
  if (p->batches > 1) {
    aoff_tab = cg_const_blob(c, p->a_off, (size_t)p->batches * sizeof(int64_t), "gemm_aoff");
    boff_tab = cg_const_blob(c, p->b_off, (size_t)p->batches * sizeof(int64_t), "gemm_boff");
    if (p->epi.has_res)
      roff_tab = cg_const_blob(c, p->epi.r_off, (size_t)p->batches * sizeof(int64_t), "gemm_roff");
  }
  Frame f = {.fn = rect, .bias = pbias, .res = pres};
  LLVMValueRef b_lo = LLVMBuildSDiv(b, r_lo, i64c(&g, mt), "");
  LLVMValueRef b_end = LLVMBuildAdd(b, LLVMBuildSDiv(b, LLVMBuildSub(b, r_hi, i64c(&g, 1), ""), i64c(&g, mt), ""),
                                    i64c(&g, 1), "");
  Loop lb = loop_open(&g, b, rect, b_lo, b_end);
  LLVMValueRef row0 = LLVMBuildMul(b, lb.iv, i64c(&g, mt), "");
  LLVMValueRef ilo = LLVMBuildSub(b, r_lo, row0, ""), ihi = LLVMBuildSub(b, r_hi, row0, "");
  f.i_lo = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, ilo, i64c(&g, 0), ""), ilo, i64c(&g, 0), "");
  f.i_hi = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, ihi, i64c(&g, mt), ""), ihi, i64c(&g, mt), "");
  if (p->batches > 1) {
    LLVMValueRef ao =
        LLVMBuildLoad2(b, g.i64, LLVMBuildGEP2(b, g.i64, aoff_tab, &lb.iv, 1, ""), "");
    LLVMValueRef bo =
        LLVMBuildLoad2(b, g.i64, LLVMBuildGEP2(b, g.i64, boff_tab, &lb.iv, 1, ""), "");
    f.a = gep_f(&g, b, pa, ao);
    f.b = gep_f(&g, b, pb, bo);
    f.y = gep_f(&g, b, py, LLVMBuildMul(b, lb.iv, i64c(&g, p->m * p->ldc), ""));
    if (roff_tab) {
      LLVMValueRef ro =
          LLVMBuildLoad2(b, g.i64, LLVMBuildGEP2(b, g.i64, roff_tab, &lb.iv, 1, ""), "");
      f.res = gep_f(&g, b, pres, ro);
    }
  } else {
    f.a = pa;
    f.b = pb;
    f.y = py;
  }
  /* N blocks of ncp panels from p_lo. */
  VlLoop lj;
  f.jp0 = vl_loop_begin(c, b, p_lo, p_hi, t->ncp, &lj);
  LLVMValueRef jp1 = LLVMBuildAdd(b, f.jp0, i64c(&g, t->ncp), "");
  f.jp1 = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, jp1, p_hi, ""), jp1, p_hi, "");
  Loop lk = loop_open(&g, b, rect, i64c(&g, 0), i64c(&g, nkb));
  f.pc = LLVMBuildMul(b, lk.iv, i64c(&g, t->kc), "");
  LLVMValueRef left = LLVMBuildSub(b, i64c(&g, p->k), f.pc, "");
  f.kc = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, left, i64c(&g, t->kc), ""), left,
                         i64c(&g, t->kc), "");
  f.first = LLVMBuildICmp(b, LLVMIntEQ, lk.iv, i64c(&g, 0), "");
  f.last = LLVMBuildICmp(b, LLVMIntEQ, lk.iv, i64c(&g, nkb - 1), "");
  emit_block(&g, b, p, &f, &tv);
  loop_close(&g, b, &lk);
  vl_loop_end(c, b, &lj);
  loop_close(&g, b, &lb);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);

  /* The partitioned kernel: units are (row tile, panel) pairs, row-major.
   * A contiguous range is a partial first row, whole rows, a partial last
   * row: at most three rectangles. */
  LLVMValueRef fn, lo, hi;
  cg_begin_par_kernel(c, p->b_packed ? "gemm_packed" : "gemm", 5, true, &fn, &b, &lo, &hi);
  LLVMValueRef kargs[9];
  for (int i = 0; i < 5; i++) kargs[i] = LLVMGetParam(fn, (unsigned)i);
  LLVMValueRef P = i64c(&g, npanels);
  LLVMValueRef r0 = LLVMBuildSDiv(b, lo, P, ""), p0 = LLVMBuildSRem(b, lo, P, "");
  LLVMValueRef r1 = LLVMBuildSDiv(b, hi, P, ""), p1 = LLVMBuildSRem(b, hi, P, "");
  LLVMTypeRef rty = LLVMGlobalGetValueType(rect);
#define RECT(rl, rh, pl, ph)                                                    \
  do {                                                                          \
    kargs[5] = (rl), kargs[6] = (rh), kargs[7] = (pl), kargs[8] = (ph);         \
    LLVMBuildCall2(b, rty, rect, kargs, 9, "");                                 \
  } while (0)
  LLVMValueRef one = i64c(&g, 1), zero = i64c(&g, 0);
  VlIf same;
  vl_if_begin(c, b, LLVMBuildICmp(b, LLVMIntEQ, r0, r1, ""), &same);
  RECT(r0, LLVMBuildAdd(b, r0, one, ""), p0, p1);
  vl_if_else(c, b, &same);
  {
    VlIf head, body, tail;
    LLVMValueRef has_head = LLVMBuildICmp(b, LLVMIntSGT, p0, zero, "");
    vl_if_begin(c, b, has_head, &head);
    RECT(r0, LLVMBuildAdd(b, r0, one, ""), p0, P);
    vl_if_end(c, b, &head);
    LLVMValueRef ra = LLVMBuildSelect(b, has_head, LLVMBuildAdd(b, r0, one, ""), r0, "");
    vl_if_begin(c, b, LLVMBuildICmp(b, LLVMIntSGT, r1, ra, ""), &body);
    RECT(ra, r1, zero, P);
    vl_if_end(c, b, &body);
    vl_if_begin(c, b, LLVMBuildICmp(b, LLVMIntSGT, p1, zero, ""), &tail);
    RECT(r1, LLVMBuildAdd(b, r1, one, ""), zero, p1);
    vl_if_end(c, b, &tail);
  }
  vl_if_end(c, b, &same);
#undef RECT
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);

  LLVMValueRef args[5] = {a, bsrc, bias ? bias : LLVMConstNull(g.ptr), y,
                          res ? res : LLVMConstNull(g.ptr)};
  double flops = 2.0 * (double)p->batches * (double)p->m * (double)p->n * (double)p->k;
  double bytes = 4.0 * (double)p->batches * (double)(p->m * p->k + p->m * p->n) +
                 4.0 * (double)(p->k * p->n) * (p->b_packed ? 1.0 : (double)p->batches);
  cg_call_par_kernel(c, fn, args, 5, (int64_t)p->batches * mt * npanels,
                     cg_cost_ns(c, flops, bytes));
  return ST_OK;
}

/* ---- tiling and packing ------------------------------------------------ */

/* Padded multiply-adds of an m x n product tiled mr x (nv * vf): the work the
 * micro-kernel really does, edges included. */
static int64_t padded_work(int64_t m, int64_t n, int mr, int nr) {
  return (m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr);
}

void gemm_choose_tile(int vf, int64_t m, int64_t n, int64_t k, GemmTile *t) {
  t->vf = vf;
  if (vf >= 16) {
    /* 32 zmm and two FMA ports: 24 accumulators hide the FMA latency on
     * both ports (12 did not: bench_gemm measured 6x2 at ~65% of peak,
     * 8x3 and 6x4 at 80-90% on the ViT-B shapes).  Among the 24-accumulator
     * shapes take the one with the least padded work, preferring 8x3 (one
     * broadcast feeds 3 FMAs, 3 loads per k) unless another saves > 3%:
     * n = 64 (head dim) wants 6x4, n = 197 (tokens) wants 12x2, m = 49
     * (7x7 windows and maps: every 8-, 6- or 12-row shape leaves a
     * one-row tail) wants 7x3 (Swin-T's 7x7 stage 92% -> 94%). */
    static const struct { int mr, nv; } shapes[] = {{8, 3}, {6, 4}, {12, 2}, {7, 3}};
    t->mr = shapes[0].mr;
    t->nv = shapes[0].nv;
    int64_t best = padded_work(m, n, t->mr, t->nv * vf);
    for (size_t i = 1; i < sizeof shapes / sizeof shapes[0]; i++) {
      int64_t w = padded_work(m, n, shapes[i].mr, shapes[i].nv * vf);
      if (w * 100 < best * 97) {
        best = w;
        t->mr = shapes[i].mr;
        t->nv = shapes[i].nv;
      }
    }
  } else {
    /* 16 registers: 12 accumulators + 3 B vectors + 1 broadcast. */
    t->mr = 4;
    t->nv = 3;
  }
  enum { KC_MAX = 384, L2_BUDGET = 512 * 1024 };
  int64_t nkb = (k + KC_MAX - 1) / KC_MAX;
  t->kc = (k + nkb - 1) / nkb;
  int64_t panel_bytes = t->kc * t->nv * t->vf * (int64_t)sizeof(float);
  t->ncp = L2_BUDGET / panel_bytes;
  if (t->ncp < 1) t->ncp = 1;
}

int64_t gemm_packed_floats(const GemmTile *t, int64_t n, int64_t k) {
  int64_t nr = (int64_t)t->nv * t->vf;
  return (n + nr - 1) / nr * nr * k;
}

void gemm_pack_b(const GemmTile *t, int64_t n, int64_t k, const float *b, int64_t sp, int64_t sj,
                 float *out) {
  int64_t nr = (int64_t)t->nv * t->vf;
  int64_t npanels = (n + nr - 1) / nr;
  for (int64_t jp = 0; jp < npanels; jp++)
    for (int64_t q = 0; q < k; q++) {
      float *row = out + (jp * k + q) * nr;
      for (int64_t jj = 0; jj < nr; jj++) {
        int64_t j = jp * nr + jj;
        row[jj] = j < n ? b[q * sp + j * sj] : 0.0f;
      }
    }
}
