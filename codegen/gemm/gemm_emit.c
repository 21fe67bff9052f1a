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

/* void tile(ptr a, ptr b, ptr y, ptr bias, i64 kc, i1 first, i1 last, ptr res) */
static LLVMValueRef emit_tile(GemmIR *g, const GemmPlan *p, const TileShape *s) {
  CgCtx *c = g->c;
  LLVMTypeRef params[] = {g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->i1, g->i1, g->ptr};
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), params, 8, 0);
  char name[96];
  snprintf(name, sizeof name, "onnxc.gemm_tile.%d", c->counter++);
  LLVMValueRef fn = LLVMAddFunction(c->mod, name, fty);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  unsigned na = LLVMGetEnumAttributeKindForName("noalias", 7);
  for (unsigned i = 1; i <= 4; i++)
    LLVMAddAttributeAtIndex(fn, i, LLVMCreateEnumAttribute(c->ctx, na, 0));
  LLVMAddAttributeAtIndex(fn, 8, LLVMCreateEnumAttribute(c->ctx, na, 0));
  LLVMValueRef a = LLVMGetParam(fn, 0), bp = LLVMGetParam(fn, 1), y = LLVMGetParam(fn, 2),
               bias = LLVMGetParam(fn, 3), kc = LLVMGetParam(fn, 4), first = LLVMGetParam(fn, 5),
               last = LLVMGetParam(fn, 6), res = LLVMGetParam(fn, 7);

  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, fn, "entry");
  LLVMBasicBlockRef init_zero = LLVMAppendBasicBlockInContext(c->ctx, fn, "zero");
  LLVMBasicBlockRef init_load = LLVMAppendBasicBlockInContext(c->ctx, fn, "reload");
  LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(c->ctx, fn, "k");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, fn, "done");
  LLVMBasicBlockRef epi = LLVMAppendBasicBlockInContext(c->ctx, fn, "epilogue");
  LLVMBasicBlockRef partial = LLVMAppendBasicBlockInContext(c->ctx, fn, "partial");
  LLVMBasicBlockRef ret = LLVMAppendBasicBlockInContext(c->ctx, fn, "ret");
  LLVMPositionBuilderAtEnd(b, entry);
  LLVMBuildCondBr(b, first, init_zero, init_load);
  LLVMPositionBuilderAtEnd(b, init_zero);
  LLVMBuildBr(b, loop);

  /* Earlier K blocks left partial sums in y. */
  LLVMValueRef loaded[MAXR][MAXV];
  LLVMPositionBuilderAtEnd(b, init_load);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++)
      loaded[i][v] =
          vload(g, b, gep_f(g, b, y, i64c(g, i * p->ldc + v * p->t.vf)), lanes_of(p, s, v));
  LLVMBuildBr(b, loop);

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
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, k1, kc, ""), loop, done);
  LLVMValueRef zero64 = i64c(g, 0), zerov = LLVMConstNull(g->vec);
  LLVMAddIncoming(k, &zero64, &init_zero, 1);
  LLVMAddIncoming(k, &zero64, &init_load, 1);
  LLVMAddIncoming(k, &k1, &loop, 1);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++) {
      LLVMAddIncoming(phi[i][v], &zerov, &init_zero, 1);
      LLVMAddIncoming(phi[i][v], &loaded[i][v], &init_load, 1);
      LLVMAddIncoming(phi[i][v], &acc[i][v], &loop, 1);
    }

  LLVMPositionBuilderAtEnd(b, done);
  LLVMBuildCondBr(b, last, epi, partial);
  LLVMPositionBuilderAtEnd(b, partial);
  for (int i = 0; i < s->mr; i++)
    for (int v = 0; v < s->nv; v++)
      vstore(g, b, acc[i][v], gep_f(g, b, y, i64c(g, i * p->ldc + v * p->t.vf)), lanes_of(p, s, v));
  LLVMBuildBr(b, ret);

  /* y = alpha * acc + beta * bias, then the epilogue hook, written once.
   * A costly hook (GELU: ~20 vector operations and 10 table registers)
   * over all MR x NV live accumulators spilled them and copied tables: the
   * tile stores the sums and finishes them row by row in a loop, which
   * reloads them from L1 with the tables held in registers.  An 8 x 3
   * tile's GELU went from 980 instructions (116 stack accesses, 244 table
   * copies) to a loop of 28 per vector. */
  LLVMPositionBuilderAtEnd(b, epi);
  bool looped = p->epi.fn && p->epi.costly && s->mr > 1;
  LLVMValueRef row = NULL;
  LLVMBasicBlockRef row_loop = NULL;
  if (looped) {
    for (int i = 0; i < s->mr; i++)
      for (int v = 0; v < s->nv; v++)
        vstore(g, b, acc[i][v], gep_f(g, b, y, i64c(g, i * p->ldc + v * p->t.vf)),
               lanes_of(p, s, v));
    row_loop = LLVMAppendBasicBlockInContext(c->ctx, fn, "epilogue_rows");
    LLVMBasicBlockRef from = LLVMGetInsertBlock(b);
    LLVMBuildBr(b, row_loop);
    LLVMPositionBuilderAtEnd(b, row_loop);
    row = LLVMBuildPhi(b, g->i64, "row");
    LLVMValueRef zero = i64c(g, 0);
    LLVMAddIncoming(row, &zero, &from, 1);
  }
  LLVMValueRef alpha = splat(g, b, LLVMConstReal(g->f32, p->alpha));
  LLVMValueRef beta = splat(g, b, LLVMConstReal(g->f32, p->beta));
  for (int i = 0; i < (looped ? 1 : s->mr); i++) {
    /* Element offsets of row i in y, the bias and the residual. */
    LLVMValueRef yrow = looped ? LLVMBuildMul(b, row, i64c(g, p->ldc), "") : i64c(g, i * p->ldc);
    LLVMValueRef brow = looped ? LLVMBuildMul(b, row, i64c(g, p->bias_si), "")
                               : i64c(g, i * p->bias_si);
    LLVMValueRef rrow = looped ? LLVMBuildMul(b, row, i64c(g, p->epi.res_si), "")
                               : i64c(g, i * p->epi.res_si);
    for (int v = 0; v < s->nv; v++) {
      LLVMValueRef voff = i64c(g, v * p->t.vf);
      LLVMValueRef r = looped ? vload(g, b, gep_f(g, b, gep_f(g, b, y, yrow), voff),
                                      lanes_of(p, s, v))
                              : acc[i][v];
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
  if (looped) {
    LLVMValueRef next = LLVMBuildAdd(b, row, i64c(g, 1), "");
    LLVMBasicBlockRef at = LLVMGetInsertBlock(b);
    LLVMAddIncoming(row, &next, &at, 1);
    LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(c->ctx, fn, "epilogue_done");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, next, i64c(g, s->mr), ""), row_loop, after);
    LLVMPositionBuilderAtEnd(b, after);
  }
  LLVMBuildBr(b, ret);
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

static void call_tile(GemmIR *g, LLVMBuilderRef b, LLVMValueRef tile, LLVMValueRef args[8]) {
  (void)g;
  LLVMTypeRef fty = LLVMGlobalGetValueType(tile);
  LLVMBuildCall2(b, fty, tile, args, 8, "");
}

/* The tile of rows [i0, i0 + mr) x panel jp (tail variant on the last
 * panel when N is ragged). */
static void emit_one(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                     LLVMValueRef i0, LLVMValueRef jp, LLVMValueRef full, LLVMValueRef tail) {
  int64_t nr = (int64_t)p->t.nv * p->t.vf;
  int64_t npanels = (p->n + nr - 1) / nr;
  LLVMValueRef j0 = LLVMBuildMul(b, jp, i64c(g, nr), "");
  LLVMValueRef args[8];
  args[0] = gep_f(g, b, f->a, LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->lda), ""), f->pc, ""));
  if (p->b_packed)
    args[1] = gep_f(g, b, f->b,
                    LLVMBuildAdd(b, LLVMBuildMul(b, jp, i64c(g, p->k * nr), ""),
                                 LLVMBuildMul(b, f->pc, i64c(g, nr), ""), ""));
  else
    args[1] =
        gep_f(g, b, f->b, LLVMBuildAdd(b, LLVMBuildMul(b, f->pc, i64c(g, p->ldb), ""), j0, ""));
  args[2] = gep_f(g, b, f->y, LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->ldc), ""), j0, ""));
  if (p->has_bias)
    args[3] = gep_f(g, b, f->bias,
                    LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->bias_si), ""),
                                 LLVMBuildMul(b, j0, i64c(g, p->bias_sj), ""), ""));
  else
    args[3] = LLVMConstNull(g->ptr);
  args[4] = f->kc;
  args[5] = f->first;
  args[6] = f->last;
  if (p->epi.has_res)
    args[7] = gep_f(g, b, f->res,
                    LLVMBuildAdd(b, LLVMBuildMul(b, i0, i64c(g, p->epi.res_si), ""),
                                 LLVMBuildMul(b, j0, i64c(g, p->epi.res_sj), ""), ""));
  else
    args[7] = LLVMConstNull(g->ptr);
  if (tail && full) {
    LLVMBasicBlockRef bt = LLVMAppendBasicBlockInContext(g->c->ctx, f->fn, "ntail");
    LLVMBasicBlockRef bf = LLVMAppendBasicBlockInContext(g->c->ctx, f->fn, "nfull");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(g->c->ctx, f->fn, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, jp, i64c(g, npanels - 1), ""), bt, bf);
    LLVMPositionBuilderAtEnd(b, bt);
    call_tile(g, b, tail, args);
    LLVMBuildBr(b, join);
    LLVMPositionBuilderAtEnd(b, bf);
    call_tile(g, b, full, args);
    LLVMBuildBr(b, join);
    LLVMPositionBuilderAtEnd(b, join);
  } else {
    call_tile(g, b, full ? full : tail, args);
  }
}

/* All tiles of one (N block, K block), row tiles outside panels: the A
 * rows of a tile stay in L1 while the block's B panels stream from L2
 * (measured faster than the other order on the ViT shapes).  tiles[0] =
 * full-height variants, tiles[1] = M tail. */
static void emit_block(GemmIR *g, LLVMBuilderRef b, const GemmPlan *p, const Frame *f,
                       LLVMValueRef tiles[2][2]) {
  const GemmTile *t = &p->t;
  int64_t m_full = p->m / t->mr, m_rem = p->m % t->mr;
  LLVMValueRef i_tail = i64c(g, m_full * t->mr);
  if (m_full > 0) {
    LLVMValueRef end = LLVMBuildSelect(
        b, LLVMBuildICmp(b, LLVMIntSLT, f->i_hi, i64c(g, m_full), ""), f->i_hi, i64c(g, m_full), "");
    Loop li = loop_open(g, b, f->fn, f->i_lo, end);
    LLVMValueRef i0 = LLVMBuildMul(b, li.iv, i64c(g, t->mr), "");
    Loop lp = loop_open(g, b, f->fn, f->jp0, f->jp1);
    emit_one(g, b, p, f, i0, lp.iv, tiles[0][0], tiles[0][1]);
    loop_close(g, b, &lp);
    loop_close(g, b, &li);
  }
  if (m_rem > 0) {
    /* The short last row tile is tile m_full. */
    VlIf has_tail;
    vl_if_begin(g->c, b, LLVMBuildICmp(b, LLVMIntSGT, f->i_hi, i64c(g, m_full), ""), &has_tail);
    Loop lp = loop_open(g, b, f->fn, f->jp0, f->jp1);
    emit_one(g, b, p, f, i_tail, lp.iv, tiles[1][0], tiles[1][1]);
    loop_close(g, b, &lp);
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
  LLVMValueRef tiles[2][2] = {{NULL, NULL}, {NULL, NULL}};
  for (int mi = 0; mi < 2; mi++) {
    int mr = mi == 0 ? t->mr : (int)m_rem;
    if (mi == 0 ? m_full == 0 : m_rem == 0) continue;
    if (n_full > 0) {
      TileShape s = {mr, t->nv, t->vf};
      tiles[mi][0] = emit_tile(&g, p, &s);
    }
    if (n_rem > 0) {
      TileShape s = {mr, (int)((n_rem + t->vf - 1) / t->vf),
                     (int)(n_rem % t->vf ? n_rem % t->vf : t->vf)};
      tiles[mi][1] = emit_tile(&g, p, &s);
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
  emit_block(&g, b, p, &f, tiles);
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
