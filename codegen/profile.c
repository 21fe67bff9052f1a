/* --profile: timing every node, and the tables a profiler reads; see
 * profile.h. */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/op.h"

static LLVMTypeRef ptr_t(CgCtx *c) { return LLVMPointerTypeInContext(c->ctx, 0); }
static LLVMTypeRef i64_t(CgCtx *c) { return LLVMInt64TypeInContext(c->ctx); }
static LLVMTypeRef i32_t(CgCtx *c) { return LLVMInt32TypeInContext(c->ctx); }

LLVMValueRef cg_prof_now(CgCtx *c, LLVMBuilderRef b) {
  LLVMTypeRef params[2] = {i32_t(c), ptr_t(c)};
  LLVMTypeRef fty = LLVMFunctionType(i32_t(c), params, 2, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(c->mod, "clock_gettime");
  if (!fn) fn = LLVMAddFunction(c->mod, "clock_gettime", fty);
  /* struct timespec on the 64-bit Linux targets: two i64. */
  LLVMTypeRef ts_t = LLVMArrayType2(i64_t(c), 2);
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(b);
  LLVMValueRef f = LLVMGetBasicBlockParent(cur);
  LLVMValueRef first = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(f));
  LLVMBuilderRef eb = LLVMCreateBuilderInContext(c->ctx);
  if (first) LLVMPositionBuilderBefore(eb, first);
  else LLVMPositionBuilderAtEnd(eb, LLVMGetEntryBasicBlock(f));
  LLVMValueRef ts = LLVMBuildAlloca(eb, ts_t, "ts");
  LLVMDisposeBuilder(eb);
  LLVMValueRef args[2] = {LLVMConstInt(i32_t(c), 1 /* CLOCK_MONOTONIC */, 0), ts};
  LLVMBuildCall2(b, fty, fn, args, 2, "");
  LLVMValueRef i1 = LLVMConstInt(i64_t(c), 1, 0);
  LLVMValueRef sec = LLVMBuildLoad2(b, i64_t(c), ts, "");
  LLVMValueRef nsec = LLVMBuildLoad2(b, i64_t(c), LLVMBuildGEP2(b, i64_t(c), ts, &i1, 1, ""), "");
  return LLVMBuildAdd(b, LLVMBuildMul(b, sec, LLVMConstInt(i64_t(c), 1000000000, 0), ""), nsec,
                      "ns");
}

void cg_prof_record(CgCtx *c, LLVMBuilderRef b, LLVMValueRef times, int k, LLVMValueRef t0,
                    LLVMValueRef t1) {
  LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInsertBlock(b));
  LLVMBasicBlockRef store = LLVMAppendBasicBlockInContext(c->ctx, fn, "prof_store");
  LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(c->ctx, fn, "prof_next");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, times, LLVMConstNull(ptr_t(c)), ""), store, next);
  LLVMPositionBuilderAtEnd(b, store);
  LLVMValueRef i0 = LLVMConstInt(i64_t(c), (unsigned long long)(2 * k), 0);
  LLVMValueRef i1 = LLVMConstInt(i64_t(c), (unsigned long long)(2 * k + 1), 0);
  LLVMBuildStore(b, t0, LLVMBuildGEP2(b, i64_t(c), times, &i0, 1, ""));
  LLVMBuildStore(b, t1, LLVMBuildGEP2(b, i64_t(c), times, &i1, 1, ""));
  LLVMBuildBr(b, next);
  LLVMPositionBuilderAtEnd(b, next);
}

/* A private [n x ptr] global of C strings. */
static LLVMValueRef string_table(CgCtx *c, const char *tag, const char *const s[], int n) {
  LLVMValueRef *v = n ? calloc((size_t)n, sizeof *v) : NULL;
  LLVMTypeRef at = LLVMArrayType2(ptr_t(c), (unsigned)n);
  if (n && !v) return NULL;
  for (int i = 0; i < n; i++) {
    LLVMValueRef str = LLVMConstStringInContext2(c->ctx, s[i] ? s[i] : "", strlen(s[i] ? s[i] : ""), 0);
    char name[64];
    snprintf(name, sizeof name, "onnxc.prof.%s.%d", tag, i);
    LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(str), name);
    LLVMSetInitializer(g, str);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    v[i] = g;
  }
  char name[64];
  snprintf(name, sizeof name, "onnxc.prof.%s", tag);
  LLVMValueRef g = LLVMAddGlobal(c->mod, at, name);
  LLVMSetInitializer(g, LLVMConstArray2(ptr_t(c), v, (uint64_t)n));
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  free(v);
  return g;
}

static void emit_node_info(CgCtx *c, const char *prefix, const char *const kernels[]) {
  const Graph *g = c->g;
  int n = g->num_nodes;
  const char **names = calloc((size_t)n + 1, sizeof *names);
  const char **ops = calloc((size_t)n + 1, sizeof *ops);
  if (!names || !ops) {
    free(names);
    free(ops);
    return;
  }
  for (int i = 0; i < n; i++) {
    names[i] = g->nodes[i]->name;
    ops[i] = op_name(g->nodes[i]->op);
  }
  LLVMValueRef tn = string_table(c, "names", names, n);
  LLVMValueRef to = string_table(c, "ops", ops, n);
  LLVMValueRef tk = string_table(c, "kernels", kernels, n);
  free(names);
  free(ops);
  char fname[160];
  snprintf(fname, sizeof fname, "%s_profile_node", prefix);
  LLVMTypeRef params[3] = {i32_t(c), ptr_t(c), ptr_t(c)};
  LLVMValueRef fn = LLVMAddFunction(c->mod, fname, LLVMFunctionType(ptr_t(c), params, 3, 0));
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, fn, "entry");
  LLVMBasicBlockRef out = LLVMAppendBasicBlockInContext(c->ctx, fn, "out_of_range");
  LLVMBasicBlockRef in = LLVMAppendBasicBlockInContext(c->ctx, fn, "in_range");
  LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef i = LLVMGetParam(fn, 0);
  LLVMValueRef bad = LLVMBuildICmp(b, LLVMIntUGE, i, LLVMConstInt(i32_t(c), (unsigned)n, 0), "");
  LLVMBuildCondBr(b, bad, out, in);
  LLVMPositionBuilderAtEnd(b, out);
  LLVMBuildRet(b, LLVMConstNull(ptr_t(c)));
  LLVMPositionBuilderAtEnd(b, in);
  LLVMTypeRef at = LLVMArrayType2(ptr_t(c), (unsigned)n);
  LLVMValueRef idx[2] = {LLVMConstInt(i64_t(c), 0, 0), LLVMBuildZExt(b, i, i64_t(c), "")};
  LLVMValueRef name = LLVMBuildLoad2(b, ptr_t(c), LLVMBuildGEP2(b, at, tn, idx, 2, ""), "");
  LLVMValueRef op = LLVMBuildLoad2(b, ptr_t(c), LLVMBuildGEP2(b, at, to, idx, 2, ""), "");
  LLVMValueRef kern = LLVMBuildLoad2(b, ptr_t(c), LLVMBuildGEP2(b, at, tk, idx, 2, ""), "");
  for (int k = 0; k < 2; k++) {
    LLVMValueRef dst = LLVMGetParam(fn, (unsigned)k + 1);
    LLVMBasicBlockRef put = LLVMAppendBasicBlockInContext(c->ctx, fn, "put");
    LLVMBasicBlockRef skip = LLVMAppendBasicBlockInContext(c->ctx, fn, "skip");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, dst, LLVMConstNull(ptr_t(c)), ""), put, skip);
    LLVMPositionBuilderAtEnd(b, put);
    LLVMBuildStore(b, k == 0 ? op : kern, dst);
    LLVMBuildBr(b, skip);
    LLVMPositionBuilderAtEnd(b, skip);
  }
  LLVMBuildRet(b, name);
  LLVMDisposeBuilder(b);
}

/* Twelve independent FMA chains: as many as the two FMA pipes of a core
 * need to stay busy at a 4-6 cycle latency. */
static void emit_fma_loop(CgCtx *c, const char *prefix) {
  enum { CHAINS = 12 };
  char fname[160];
  snprintf(fname, sizeof fname, "%s_profile_fma_loop", prefix);
  LLVMTypeRef p = i64_t(c);
  LLVMValueRef fn = LLVMAddFunction(c->mod, fname, LLVMFunctionType(i64_t(c), &p, 1, 0));
  LLVMTypeRef f32 = LLVMFloatTypeInContext(c->ctx);
  LLVMTypeRef vt = LLVMVectorType(f32, (unsigned)c->vf32);
  const char *iname = c->has_fma ? "llvm.fma" : "llvm.fmuladd";
  unsigned id = LLVMLookupIntrinsicID(iname, strlen(iname));
  LLVMValueRef fma = LLVMGetIntrinsicDeclaration(c->mod, id, &vt, 1);
  LLVMTypeRef fma_t = LLVMIntrinsicGetType(c->ctx, id, &vt, 1);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, fn, "entry");
  LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(c->ctx, fn, "loop");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, fn, "done");
  LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef sink = LLVMBuildAlloca(b, vt, "sink");
  LLVMValueRef iters = LLVMGetParam(fn, 0);
  LLVMValueRef none = LLVMBuildICmp(b, LLVMIntSLE, iters, LLVMConstInt(i64_t(c), 0, 0), "");
  LLVMBuildCondBr(b, none, done, loop);
  LLVMPositionBuilderAtEnd(b, loop);
  LLVMValueRef k = LLVMBuildPhi(b, i64_t(c), "k");
  LLVMValueRef acc[CHAINS], phi[CHAINS], init[CHAINS];
  LLVMValueRef m[64], a[64], e[64];
  for (int l = 0; l < c->vf32 && l < 64; l++) {
    m[l] = LLVMConstReal(f32, 0.9999999);
    a[l] = LLVMConstReal(f32, 1e-7);
  }
  LLVMValueRef mv = LLVMConstVector(m, (unsigned)c->vf32), av = LLVMConstVector(a, (unsigned)c->vf32);
  /* Through volatile memory, so the optimizer cannot see the chains'
   * fixed point and fold the loop away. */
  LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
  LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(entry));
  LLVMSetVolatile(LLVMBuildStore(b, mv, sink), 1);
  LLVMValueRef ml = LLVMBuildLoad2(b, vt, sink, "");
  LLVMSetVolatile(ml, 1);
  LLVMSetVolatile(LLVMBuildStore(b, av, sink), 1);
  LLVMValueRef al = LLVMBuildLoad2(b, vt, sink, "");
  LLVMSetVolatile(al, 1);
  LLVMPositionBuilderAtEnd(b, here);
  mv = ml;
  av = al;
  for (int j = 0; j < CHAINS; j++) {
    for (int l = 0; l < c->vf32 && l < 64; l++) e[l] = LLVMConstReal(f32, 1.0 + j * 0.001);
    init[j] = LLVMConstVector(e, (unsigned)c->vf32);
    phi[j] = LLVMBuildPhi(b, vt, "");
  }
  for (int j = 0; j < CHAINS; j++) {
    LLVMValueRef args[3] = {phi[j], mv, av};
    acc[j] = LLVMBuildCall2(b, fma_t, fma, args, 3, "");
  }
  LLVMValueRef k1 = LLVMBuildAdd(b, k, LLVMConstInt(i64_t(c), 1, 0), "");
  LLVMValueRef zero64 = LLVMConstInt(i64_t(c), 0, 0);
  LLVMAddIncoming(k, &zero64, &entry, 1);
  LLVMAddIncoming(k, &k1, &loop, 1);
  for (int j = 0; j < CHAINS; j++) {
    LLVMAddIncoming(phi[j], &init[j], &entry, 1);
    LLVMAddIncoming(phi[j], &acc[j], &loop, 1);
  }
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, k1, iters, ""), loop, done);
  /* The chains' sum is stored so that they are not optimized away. */
  LLVMPositionBuilderAtEnd(b, done);
  LLVMValueRef r[CHAINS], sum = NULL;
  for (int j = 0; j < CHAINS; j++) {
    r[j] = LLVMBuildPhi(b, vt, "");
    LLVMAddIncoming(r[j], &init[j], &entry, 1);
    LLVMAddIncoming(r[j], &acc[j], &loop, 1);
  }
  for (int j = 0; j < CHAINS; j++) sum = sum ? LLVMBuildFAdd(b, sum, r[j], "") : r[j];
  LLVMSetVolatile(LLVMBuildStore(b, sum, sink), 1);
  LLVMValueRef pos = LLVMBuildSelect(b, none, LLVMConstInt(i64_t(c), 0, 0), iters, "");
  LLVMBuildRet(b, LLVMBuildMul(b, pos, LLVMConstInt(i64_t(c), (unsigned long long)(CHAINS * 2 * c->vf32), 0), ""));
  LLVMDisposeBuilder(b);
}

void cg_prof_emit_tables(CgCtx *c, const char *prefix, const char *const kernels[]) {
  emit_node_info(c, prefix, kernels);
  emit_fma_loop(c, prefix);
}
