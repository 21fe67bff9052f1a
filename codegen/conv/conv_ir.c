/*
 * IR building helpers for the conv-family lowerings; see conv_ir.h.
 * Addresses are always float-element GEPs with i64 indices, and every
 * load/store carries alignment 4 (tensors are only float-aligned in
 * general: a view may start anywhere inside a buffer).
 */
#include <stdio.h>
#include "conv_ir.h"

#include "../parallel.h"

#include <llvm-c/DebugInfo.h>
#include <string.h>

void cv_begin(CvB *cb, CgCtx *c, const char *tag, int nptr) {
  memset(cb, 0, sizeof *cb);
  cb->c = c;
  cg_begin_par_kernel(c, tag, nptr, true, &cb->fn, &cb->b, &cb->lo, &cb->hi);
  cb->f32 = LLVMFloatTypeInContext(c->ctx);
  cb->i1 = LLVMInt1TypeInContext(c->ctx);
  cb->i32 = LLVMInt32TypeInContext(c->ctx);
  cb->i64 = LLVMInt64TypeInContext(c->ctx);
  cb->ptr = LLVMPointerTypeInContext(c->ctx, 0);
  cb->vf = c->vf32 >= 1 ? c->vf32 : 4;
  cb->vty = LLVMVectorType(cb->f32, (unsigned)cb->vf);
}

bool cv_narrow_vectors(CvB *cb, int64_t len) {
  if (!cb->c->split_512 || cb->vf != 16 || len <= 0 || (len + 7) / 8 * 8 >= (len + 15) / 16 * 16)
    return false;
  cb->vf = 8;
  cb->vty = LLVMVectorType(cb->f32, 8);
  /* "onnxc.conv.direct.7" -> "onnxc.conv.direct.v8.7": --emit=llvm and the
   * tests can see which width a kernel got. */
  size_t n;
  const char *name = LLVMGetValueName2(cb->fn, &n);
  const char *dot = name ? strrchr(name, '.') : NULL;
  if (dot) {
    char buf[160];
    snprintf(buf, sizeof buf, "%.*s.v8%s", (int)(dot - name), name, dot);
    LLVMSetValueName2(cb->fn, buf, strlen(buf));
  }
  return true;
}

void cv_call(CvB *cb, LLVMValueRef const args[], int nargs, int64_t units, double cost_ns) {
  cg_call_par_kernel(cb->c, cb->fn, args, nargs, units, cost_ns);
}

void cv_end(CvB *cb) {
  LLVMBuildRetVoid(cb->b);
  LLVMDisposeBuilder(cb->b);
  cb->b = NULL;
}

LLVMValueRef cv_i64(CvB *cb, int64_t v) { return LLVMConstInt(cb->i64, (unsigned long long)v, 1); }
LLVMValueRef cv_f32(CvB *cb, float v) { return LLVMConstReal(cb->f32, v); }

LLVMValueRef cv_add(CvB *cb, LLVMValueRef a, LLVMValueRef b) {
  return LLVMBuildNSWAdd(cb->b, a, b, "");
}

LLVMValueRef cv_mul(CvB *cb, LLVMValueRef a, int64_t k) {
  if (k == 1) return a;
  return LLVMBuildNSWMul(cb->b, a, cv_i64(cb, k), "");
}

LLVMValueRef cv_mad(CvB *cb, LLVMValueRef a, int64_t k, int64_t d) {
  LLVMValueRef r = cv_mul(cb, a, k);
  return d ? cv_add(cb, r, cv_i64(cb, d)) : r;
}

LLVMValueRef cv_gep(CvB *cb, LLVMValueRef base, LLVMValueRef idx) {
  return LLVMBuildInBoundsGEP2(cb->b, cb->f32, base, &idx, 1, "");
}

LLVMValueRef cv_gepc(CvB *cb, LLVMValueRef base, int64_t idx) {
  return idx ? cv_gep(cb, base, cv_i64(cb, idx)) : base;
}

LLVMValueRef cv_load(CvB *cb, LLVMValueRef p) {
  LLVMValueRef v = LLVMBuildLoad2(cb->b, cb->f32, p, "");
  LLVMSetAlignment(v, 4);
  return v;
}

LLVMValueRef cv_load_i32(CvB *cb, LLVMValueRef base, LLVMValueRef idx) {
  LLVMValueRef p = LLVMBuildInBoundsGEP2(cb->b, cb->i32, base, &idx, 1, "");
  LLVMValueRef v = LLVMBuildLoad2(cb->b, cb->i32, p, "");
  LLVMSetAlignment(v, 4);
  return LLVMBuildSExt(cb->b, v, cb->i64, "");
}

void cv_store(CvB *cb, LLVMValueRef v, LLVMValueRef p) {
  LLVMValueRef s = LLVMBuildStore(cb->b, v, p);
  LLVMSetAlignment(s, 4);
}

LLVMValueRef cv_load_vs(CvB *cb, LLVMValueRef p, int n, int64_t s) {
  int64_t span = (int64_t)(n - 1) * s + 1;
  LLVMTypeRef ty = LLVMVectorType(cb->f32, (unsigned)span);
  LLVMValueRef v = LLVMBuildLoad2(cb->b, ty, p, "");
  LLVMSetAlignment(v, 4);
  if (s == 1) return v;
  LLVMValueRef idx[64];
  for (int i = 0; i < n && i < 64; i++) idx[i] = LLVMConstInt(cb->i32, (unsigned long long)(i * s), 0);
  return LLVMBuildShuffleVector(cb->b, v, LLVMGetUndef(ty), LLVMConstVector(idx, (unsigned)n), "");
}

static LLVMValueRef lane_mask(CvB *cb, int lanes) {
  LLVMValueRef m[64];
  for (int i = 0; i < cb->vf && i < 64; i++) m[i] = LLVMConstInt(cb->i1, i < lanes, 0);
  return LLVMConstVector(m, (unsigned)cb->vf);
}

LLVMValueRef cv_load_masked(CvB *cb, LLVMValueRef p, int lanes, LLVMValueRef passthru) {
  LLVMTypeRef tys[2] = {cb->vty, cb->ptr};
  LLVMValueRef args[4] = {p, LLVMConstInt(cb->i32, 4, 0), lane_mask(cb, lanes), passthru};
  return cv_intrin(cb, "llvm.masked.load", tys, 2, args, 4);
}

void cv_store_masked(CvB *cb, LLVMValueRef v, LLVMValueRef p, int lanes) {
  LLVMTypeRef tys[2] = {cb->vty, cb->ptr};
  LLVMValueRef args[4] = {v, p, LLVMConstInt(cb->i32, 4, 0), lane_mask(cb, lanes)};
  cv_intrin(cb, "llvm.masked.store", tys, 2, args, 4);
}

LLVMValueRef cv_splat(CvB *cb, LLVMValueRef s, int n) {
  LLVMTypeRef ty = LLVMVectorType(LLVMTypeOf(s), (unsigned)n);
  LLVMValueRef v = LLVMBuildInsertElement(cb->b, LLVMGetUndef(ty), s, LLVMConstInt(cb->i32, 0, 0), "");
  LLVMValueRef zero = LLVMConstNull(LLVMVectorType(cb->i32, (unsigned)n));
  return LLVMBuildShuffleVector(cb->b, v, LLVMGetUndef(ty), zero, "");
}

LLVMValueRef cv_intrin(CvB *cb, const char *name, LLVMTypeRef *tys, int ntys, LLVMValueRef *args,
                       int n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(cb->c->mod, id, tys, (size_t)ntys);
  LLVMTypeRef fty = LLVMIntrinsicGetType(cb->c->ctx, id, tys, (size_t)ntys);
  return LLVMBuildCall2(cb->b, fty, f, args, (unsigned)n, "");
}

LLVMValueRef cv_fma(CvB *cb, LLVMValueRef a, LLVMValueRef b, LLVMValueRef acc) {
  LLVMTypeRef ty = LLVMTypeOf(acc);
  LLVMValueRef args[3] = {a, b, acc};
  return cv_intrin(cb, cb->c->has_fma ? "llvm.fma" : "llvm.fmuladd", &ty, 1, args, 3);
}

LLVMValueRef cv_alloca(CvB *cb, LLVMTypeRef ty) {
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(cb->b);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(cb->fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first) LLVMPositionBuilderBefore(cb->b, first);
  else LLVMPositionBuilderAtEnd(cb->b, entry);
  LLVMValueRef a = LLVMBuildAlloca(cb->b, ty, "");
  LLVMPositionBuilderAtEnd(cb->b, cur);
  return a;
}

CvLoop cv_for(CvB *cb, LLVMValueRef lo, LLVMValueRef hi, int64_t step) {
  CvLoop l;
  LLVMContextRef ctx = cb->c->ctx;
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(cb->b);
  l.head = LLVMAppendBasicBlockInContext(ctx, cb->fn, "head");
  l.body = LLVMAppendBasicBlockInContext(ctx, cb->fn, "body");
  l.exit = LLVMAppendBasicBlockInContext(ctx, cb->fn, "exit");
  l.step = step;
  LLVMBuildBr(cb->b, l.head);
  LLVMPositionBuilderAtEnd(cb->b, l.head);
  l.iv = LLVMBuildPhi(cb->b, cb->i64, "iv");
  LLVMAddIncoming(l.iv, &lo, &pre, 1);
  LLVMValueRef cond = LLVMBuildICmp(cb->b, LLVMIntSLT, l.iv, hi, "");
  LLVMBuildCondBr(cb->b, cond, l.body, l.exit);
  LLVMPositionBuilderAtEnd(cb->b, l.body);
  return l;
}

void cv_next(CvB *cb, CvLoop *l) {
  LLVMValueRef nx = cv_add(cb, l->iv, cv_i64(cb, l->step));
  LLVMBasicBlockRef from = LLVMGetInsertBlock(cb->b);
  LLVMBuildBr(cb->b, l->head);
  LLVMAddIncoming(l->iv, &nx, &from, 1);
  LLVMPositionBuilderAtEnd(cb->b, l->exit);
}

void cv_next_rolled(CvB *cb, CvLoop *l) {
  LLVMContextRef ctx = cb->c->ctx;
  LLVMValueRef nx = cv_add(cb, l->iv, cv_i64(cb, l->step));
  LLVMBasicBlockRef from = LLVMGetInsertBlock(cb->b);
  LLVMValueRef br = LLVMBuildBr(cb->b, l->head);
  LLVMAddIncoming(l->iv, &nx, &from, 1);
  LLVMMetadataRef tmp = LLVMTemporaryMDNode(ctx, NULL, 0);
  LLVMMetadataRef dis = LLVMMDStringInContext2(ctx, "llvm.loop.unroll.disable", 24);
  LLVMMetadataRef ops[2] = {tmp, LLVMMDNodeInContext2(ctx, &dis, 1)};
  LLVMMetadataRef loop = LLVMMDNodeInContext2(ctx, ops, 2);
  LLVMMetadataReplaceAllUsesWith(tmp, loop);
  LLVMSetMetadata(br, LLVMGetMDKindIDInContext(ctx, "llvm.loop", 9), LLVMMetadataAsValue(ctx, loop));
  LLVMPositionBuilderAtEnd(cb->b, l->exit);
}

LLVMValueRef cv_table_i32(CvB *cb, const int32_t *v, int64_t n, const char *tag) {
  return cg_const_blob(cb->c, v, (size_t)n * sizeof *v, tag);
}
