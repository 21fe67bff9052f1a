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
