/*
 * Counted loops, addressing and (masked) vector memory access for
 * hand-built kernels; see vec_loops.h.
 */
#include "vec_loops.h"

#include <string.h>

LLVMValueRef vl_i64(CgCtx *c, int64_t v) {
  return LLVMConstInt(LLVMInt64TypeInContext(c->ctx), (unsigned long long)v, 1);
}

LLVMValueRef vl_loop_begin(CgCtx *c, LLVMBuilderRef b, LLVMValueRef start, LLVMValueRef end,
                           int64_t step, VlLoop *lp) {
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
  LLVMValueRef fn = LLVMGetBasicBlockParent(pre);
  lp->header = LLVMAppendBasicBlockInContext(c->ctx, fn, "loop");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, fn, "body");
  lp->exit = LLVMAppendBasicBlockInContext(c->ctx, fn, "done");
  lp->step = step;
  LLVMBuildBr(b, lp->header);
  LLVMPositionBuilderAtEnd(b, lp->header);
  lp->iv = LLVMBuildPhi(b, LLVMInt64TypeInContext(c->ctx), "i");
  LLVMAddIncoming(lp->iv, &start, &pre, 1);
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, lp->iv, end, ""), body, lp->exit);
  LLVMPositionBuilderAtEnd(b, body);
  return lp->iv;
}

void vl_loop_end(CgCtx *c, LLVMBuilderRef b, VlLoop *lp) {
  LLVMValueRef next = LLVMBuildNSWAdd(b, lp->iv, vl_i64(c, lp->step), "");
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(b);
  LLVMAddIncoming(lp->iv, &next, &cur, 1);
  LLVMBuildBr(b, lp->header);
  LLVMPositionBuilderAtEnd(b, lp->exit);
}

LLVMValueRef vl_gep(CgCtx *c, LLVMBuilderRef b, LLVMTypeRef et, LLVMValueRef base,
                    LLVMValueRef idx) {
  (void)c;
  return LLVMBuildInBoundsGEP2(b, et, base, &idx, 1, "");
}

LLVMValueRef vl_mask(CgCtx *c, int n, int count) {
  LLVMTypeRef i1 = LLVMInt1TypeInContext(c->ctx);
  LLVMValueRef e[64];
  if (n > 64) n = 64;
  for (int i = 0; i < n; i++)
    e[i] = LLVMConstInt(i1, i < count, 0);
  return LLVMConstVector(e, (unsigned)n);
}

static LLVMValueRef masked_decl(CgCtx *c, const char *name, LLVMTypeRef vt, LLVMTypeRef *fty) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMTypeRef tys[2] = {vt, LLVMPointerTypeInContext(c->ctx, 0)};
  *fty = LLVMIntrinsicGetType(c->ctx, id, tys, 2);
  return LLVMGetIntrinsicDeclaration(c->mod, id, tys, 2);
}

LLVMValueRef vl_load(CgCtx *c, LLVMBuilderRef b, LLVMTypeRef vt, LLVMValueRef base,
                     LLVMValueRef idx, int count, LLVMValueRef pass) {
  LLVMTypeRef et = LLVMGetElementType(vt);
  int n = (int)LLVMGetVectorSize(vt);
  LLVMValueRef p = vl_gep(c, b, et, base, idx);
  unsigned align = (unsigned)LLVMABISizeOfType(c->td, et);
  if (count >= n) {
    LLVMValueRef v = LLVMBuildLoad2(b, vt, p, "");
    LLVMSetAlignment(v, align);
    return v;
  }
  LLVMTypeRef fty;
  LLVMValueRef f = masked_decl(c, "llvm.masked.load", vt, &fty);
  LLVMValueRef args[4] = {p, LLVMConstInt(LLVMInt32TypeInContext(c->ctx), align, 0),
                          vl_mask(c, n, count), pass ? pass : LLVMConstNull(vt)};
  return LLVMBuildCall2(b, fty, f, args, 4, "");
}

void vl_store(CgCtx *c, LLVMBuilderRef b, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx,
              int count) {
  LLVMTypeRef vt = LLVMTypeOf(v);
  LLVMTypeRef et = LLVMGetElementType(vt);
  int n = (int)LLVMGetVectorSize(vt);
  LLVMValueRef p = vl_gep(c, b, et, base, idx);
  unsigned align = (unsigned)LLVMABISizeOfType(c->td, et);
  if (count >= n) {
    LLVMSetAlignment(LLVMBuildStore(b, v, p), align);
    return;
  }
  LLVMTypeRef fty;
  LLVMValueRef f = masked_decl(c, "llvm.masked.store", vt, &fty);
  LLVMValueRef args[4] = {v, p, LLVMConstInt(LLVMInt32TypeInContext(c->ctx), align, 0),
                          vl_mask(c, n, count)};
  LLVMBuildCall2(b, fty, f, args, 4, "");
}

LLVMValueRef vl_alloca(CgCtx *c, LLVMBuilderRef b, LLVMTypeRef t) {
  (void)c;
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(b);
  LLVMValueRef fn = LLVMGetBasicBlockParent(cur);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first)
    LLVMPositionBuilderBefore(b, first);
  else
    LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef a = LLVMBuildAlloca(b, t, "");
  LLVMPositionBuilderAtEnd(b, cur);
  return a;
}

int64_t vl_nest_units(int n, const int64_t dims[]) {
  int64_t u = 1;
  for (int j = 0; j < n; j++) u *= dims[j];
  return u;
}

void vl_nest_begin(CgCtx *c, LLVMBuilderRef b, VlNest *ns, int n, const int64_t dims[],
                   LLVMValueRef lo, LLVMValueRef hi) {
  memset(ns, 0, sizeof *ns);
  if (n > VL_NEST_MAX) n = VL_NEST_MAX;
  ns->n = n;
  LLVMValueRef l = lo, h = LLVMBuildNSWSub(b, hi, vl_i64(c, 1), "");
  for (int j = n - 1; j >= 0; j--) {
    ns->dims[j] = dims[j];
    if (j == 0) {
      ns->lo_d[j] = l;
      ns->hi_d[j] = h;
      break;
    }
    LLVMValueRef d = vl_i64(c, dims[j]);
    ns->lo_d[j] = LLVMBuildSRem(b, l, d, "");
    ns->hi_d[j] = LLVMBuildSRem(b, h, d, "");
    l = LLVMBuildSDiv(b, l, d, "");
    h = LLVMBuildSDiv(b, h, d, "");
  }
  LLVMTypeRef i1 = LLVMInt1TypeInContext(c->ctx);
  ns->first = ns->last = LLVMConstInt(i1, 1, 0);
}

LLVMValueRef vl_nest_level(CgCtx *c, LLVMBuilderRef b, VlNest *ns) {
  int j = ns->open++;
  LLVMValueRef start = LLVMBuildSelect(b, ns->first, ns->lo_d[j], vl_i64(c, 0), "");
  LLVMValueRef end = LLVMBuildSelect(b, ns->last, LLVMBuildNSWAdd(b, ns->hi_d[j], vl_i64(c, 1), ""),
                                     vl_i64(c, ns->dims[j]), "");
  LLVMValueRef iv = vl_loop_begin(c, b, start, end, 1, &ns->loops[j]);
  ns->first = LLVMBuildAnd(b, ns->first, LLVMBuildICmp(b, LLVMIntEQ, iv, ns->lo_d[j], ""), "");
  ns->last = LLVMBuildAnd(b, ns->last, LLVMBuildICmp(b, LLVMIntEQ, iv, ns->hi_d[j], ""), "");
  return iv;
}

void vl_nest_end(CgCtx *c, LLVMBuilderRef b, VlNest *ns) {
  while (ns->open > 0) vl_loop_end(c, b, &ns->loops[--ns->open]);
}

void vl_if_begin(CgCtx *c, LLVMBuilderRef b, LLVMValueRef cond, VlIf *f) {
  LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInsertBlock(b));
  LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(c->ctx, fn, "then");
  f->other = LLVMAppendBasicBlockInContext(c->ctx, fn, "else");
  f->join = LLVMAppendBasicBlockInContext(c->ctx, fn, "endif");
  f->has_else = false;
  LLVMBuildCondBr(b, cond, then, f->other);
  LLVMPositionBuilderAtEnd(b, then);
}

void vl_if_else(CgCtx *c, LLVMBuilderRef b, VlIf *f) {
  (void)c;
  LLVMBuildBr(b, f->join);
  LLVMPositionBuilderAtEnd(b, f->other);
  f->has_else = true;
}

void vl_if_end(CgCtx *c, LLVMBuilderRef b, VlIf *f) {
  (void)c;
  LLVMBuildBr(b, f->join);
  if (!f->has_else) {
    LLVMPositionBuilderAtEnd(b, f->other);
    LLVMBuildBr(b, f->join);
  }
  LLVMPositionBuilderAtEnd(b, f->join);
}
