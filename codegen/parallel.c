/* Partitioned kernels and their dispatch through the caller's hook; see
 * parallel.h. */
#include "parallel.h"

#include <stdlib.h>

#include <math.h>
#include <stdio.h>

static LLVMTypeRef ptr_t(CgCtx *c) { return LLVMPointerTypeInContext(c->ctx, 0); }
static LLVMTypeRef i64_t(CgCtx *c) { return LLVMInt64TypeInContext(c->ctx); }
static LLVMTypeRef i32_t(CgCtx *c) { return LLVMInt32TypeInContext(c->ctx); }
static LLVMValueRef i64c(CgCtx *c, int64_t v) {
  return LLVMConstInt(i64_t(c), (unsigned long long)v, 1);
}

/* The C struct onnxc_parallel { void (*parallel_for)(...); void *runner; int threads; }. */
static LLVMTypeRef hook_struct(CgCtx *c) {
  LLVMTypeRef f[3] = {ptr_t(c), ptr_t(c), i32_t(c)};
  return LLVMStructTypeInContext(c->ctx, f, 3, 0);
}

/* void parallel_for(void *runner, int n, void (*task)(void *, int, int), void *ctx) */
static LLVMTypeRef hook_fn_type(CgCtx *c) {
  LLVMTypeRef p[4] = {ptr_t(c), i32_t(c), ptr_t(c), ptr_t(c)};
  return LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), p, 4, 0);
}

static LLVMTypeRef task_fn_type(CgCtx *c) {
  LLVMTypeRef p[3] = {ptr_t(c), i32_t(c), i32_t(c)};
  return LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), p, 3, 0);
}

static LLVMValueRef ctx_slot(CgCtx *c, LLVMBuilderRef b, LLVMValueRef ctx, int slot) {
  LLVMValueRef idx = i64c(c, slot);
  return LLVMBuildInBoundsGEP2(b, i64_t(c), ctx, &idx, 1, "");
}

double cg_cost_ns(const CgCtx *c, double flops, double bytes) {
  /* About half the FMA peak of one core for flops (2 FLOP per lane and
   * cycle, ~2 FMA/cycle, ~2 GHz), and what one core streams from L2/L3. */
  double flops_per_ns = 4.0 * (c->vf32 > 0 ? c->vf32 : 4);
  return flops / flops_per_ns + bytes / 8.0;
}

void cg_begin_par_kernel(CgCtx *c, const char *tag, int nptr, bool noalias, LLVMValueRef *fn,
                         LLVMBuilderRef *fb, LLVMValueRef *lo, LLVMValueRef *hi) {
  char name[96];
  snprintf(name, sizeof name, "onnxc.%s.%d", tag, c->counter++);
  LLVMTypeRef params[CG_PAR_MAX_ARGS + 2];
  if (nptr > CG_PAR_MAX_ARGS - CG_KERNEL_WEIGHT_SLOTS) nptr = CG_PAR_MAX_ARGS - CG_KERNEL_WEIGHT_SLOTS;
  int nslots = CG_KERNEL_WEIGHT_SLOTS;
  for (int i = 0; i < nptr + nslots; i++) params[i] = ptr_t(c);
  params[nptr + nslots] = params[nptr + nslots + 1] = i64_t(c);
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), params,
                                     (unsigned)(nptr + nslots + 2), 0);
  *fn = LLVMAddFunction(c->mod, name, fty);
  LLVMSetLinkage(*fn, LLVMInternalLinkage);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(*fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  /* Specialized by construction: inlining it into the run body or its
   * trampoline would only copy it (and mergefunc could no longer share it
   * between nodes of the same shapes). */
  unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
  LLVMAddAttributeAtIndex(*fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(c->ctx, noinline, 0));
  if (noalias) {
    unsigned na = LLVMGetEnumAttributeKindForName("noalias", 7);
    /* The weight slots too: each is a distinct global or null. */
    for (int i = 0; i < nptr + nslots; i++)
      LLVMAddAttributeAtIndex(*fn, (unsigned)i + 1, LLVMCreateEnumAttribute(c->ctx, na, 0));
  }
  *lo = LLVMGetParam(*fn, (unsigned)(nptr + nslots));
  *hi = LLVMGetParam(*fn, (unsigned)(nptr + nslots + 1));
  *fb = LLVMCreateBuilderInContext(c->ctx);
  LLVMPositionBuilderAtEnd(*fb, LLVMAppendBasicBlockInContext(c->ctx, *fn, "entry"));
}

/* task(ctx, i, worker): fn(args from ctx..., i*U/T, (i+1)*U/T). */
static LLVMValueRef emit_task(CgCtx *c, LLVMValueRef fn, int nargs, int64_t units) {
  char name[128];
  size_t len;
  snprintf(name, sizeof name, CG_PAR_TASK_PREFIX "%s", LLVMGetValueName2(fn, &len) + 6);
  LLVMValueRef task = LLVMAddFunction(c->mod, name, task_fn_type(c));
  LLVMSetLinkage(task, LLVMInternalLinkage);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(task, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c->ctx, task, "entry"));
  LLVMValueRef ctx = LLVMGetParam(task, 0);
  LLVMValueRef t = LLVMBuildLoad2(b, i64_t(c), ctx_slot(c, b, ctx, CG_PAR_CTX_TASKS), "tasks");
  LLVMValueRef i = LLVMBuildSExt(b, LLVMGetParam(task, 1), i64_t(c), "");
  LLVMValueRef u = i64c(c, units);
  LLVMValueRef lo = LLVMBuildSDiv(b, LLVMBuildNSWMul(b, i, u, ""), t, "lo");
  LLVMValueRef i1 = LLVMBuildNSWAdd(b, i, i64c(c, 1), "");
  LLVMValueRef hi = LLVMBuildSDiv(b, LLVMBuildNSWMul(b, i1, u, ""), t, "hi");
  LLVMValueRef args[CG_PAR_MAX_ARGS + 2];
  for (int k = 0; k < nargs; k++)
    args[k] = LLVMBuildLoad2(b, ptr_t(c), ctx_slot(c, b, ctx, CG_PAR_CTX_ARGS + k), "");
  args[nargs] = lo;
  args[nargs + 1] = hi;
  LLVMBuildCall2(b, LLVMGlobalGetValueType(fn), fn, args, (unsigned)nargs + 2, "");
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return task;
}

LLVMValueRef cg_kernel_weight(CgCtx *c, LLVMValueRef fn, LLVMValueRef g) {
  CgKernelSlots *k = NULL;
  for (int i = c->num_slots; i-- > 0 && !k;)
    if (c->slots[i].fn == fn) k = &c->slots[i];
  if (!k) {
    if (c->num_slots == c->cap_slots) {
      int cap = c->cap_slots ? 2 * c->cap_slots : 64;
      CgKernelSlots *grown = realloc(c->slots, (size_t)cap * sizeof *grown);
      if (!grown) return g;
      c->slots = grown;
      c->cap_slots = cap;
    }
    k = &c->slots[c->num_slots++];
    *k = (CgKernelSlots){.fn = fn};
  }
  unsigned first = LLVMCountParams(fn) - 2 - CG_KERNEL_WEIGHT_SLOTS;
  for (int i = 0; i < CG_KERNEL_WEIGHT_SLOTS; i++) {
    if (!k->global[i]) k->global[i] = g;
    if (k->global[i] == g) return LLVMGetParam(fn, first + (unsigned)i);
  }
  return g;
}

void cg_kernel_slots_free(CgCtx *c) {
  free(c->slots);
  c->slots = NULL;
  c->num_slots = c->cap_slots = 0;
}

/* args followed by fn's weight slots (null where unused). */
static int with_slots(CgCtx *c, LLVMValueRef fn, LLVMValueRef const args[], int nargs,
                      LLVMValueRef *all) {
  if (nargs > CG_PAR_MAX_ARGS - CG_KERNEL_WEIGHT_SLOTS) nargs = CG_PAR_MAX_ARGS - CG_KERNEL_WEIGHT_SLOTS;
  for (int k = 0; k < nargs; k++) all[k] = args[k];
  const CgKernelSlots *ks = NULL;
  for (int i = c->num_slots; i-- > 0 && !ks;)
    if (c->slots[i].fn == fn) ks = &c->slots[i];
  for (int i = 0; i < CG_KERNEL_WEIGHT_SLOTS; i++)
    all[nargs + i] = ks && ks->global[i] ? ks->global[i] : LLVMConstNull(ptr_t(c));
  return nargs + CG_KERNEL_WEIGHT_SLOTS;
}

void cg_call_par_kernel(CgCtx *c, LLVMValueRef fn, LLVMValueRef const given[], int ngiven,
                        int64_t units, double cost_ns) {
  LLVMValueRef args[CG_PAR_MAX_ARGS];
  int nargs = with_slots(c, fn, given, ngiven, args);
  double grain = c->min_task_ns > 0 ? c->min_task_ns : CG_PAR_DEFAULT_MIN_TASK_NS;
  double by_grain = floor(cost_ns / grain);
  int64_t max_tasks = units;
  if (by_grain < (double)max_tasks) max_tasks = (int64_t)by_grain;
  if (max_tasks > (1 << 30)) max_tasks = 1 << 30; /* the hook counts in int */
  if (max_tasks < 1 || !c->par_ctx) max_tasks = 1;
  c->par_last = (CgParInfo){.partitioned = true, .units = units, .max_tasks = max_tasks,
                            .cost_ns = cost_ns};
  LLVMValueRef cargs[CG_PAR_MAX_ARGS + 2];
  if (nargs > CG_PAR_MAX_ARGS) nargs = CG_PAR_MAX_ARGS;
  if (max_tasks < 2) {
    for (int k = 0; k < nargs; k++) cargs[k] = args[k];
    cargs[nargs] = i64c(c, 0);
    cargs[nargs + 1] = i64c(c, units);
    LLVMBuildCall2(c->b, LLVMGlobalGetValueType(fn), fn, cargs, (unsigned)nargs + 2, "");
    return;
  }
  LLVMValueRef task = emit_task(c, fn, nargs, units);
  LLVMBuilderRef b = c->b;
  for (int k = 0; k < nargs; k++)
    LLVMBuildStore(b, args[k], ctx_slot(c, b, c->par_ctx, CG_PAR_CTX_ARGS + k));
  LLVMValueRef cap = i64c(c, max_tasks);
  LLVMValueRef few = LLVMBuildICmp(b, LLVMIntSLT, c->par_threads, cap, "");
  LLVMValueRef t = LLVMBuildSelect(b, few, c->par_threads, cap, "tasks");
  LLVMBuildStore(b, t, ctx_slot(c, b, c->par_ctx, CG_PAR_CTX_TASKS));
  LLVMValueRef fnv = LLVMGetBasicBlockParent(LLVMGetInsertBlock(b));
  LLVMBasicBlockRef split = LLVMAppendBasicBlockInContext(c->ctx, fnv, "par");
  LLVMBasicBlockRef inl = LLVMAppendBasicBlockInContext(c->ctx, fnv, "inline");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, fnv, "joined");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSGT, t, i64c(c, 1), ""), split, inl);
  LLVMPositionBuilderAtEnd(b, split);
  LLVMValueRef hargs[4] = {c->par_runner, LLVMBuildTrunc(b, t, i32_t(c), ""), task, c->par_ctx};
  LLVMBuildCall2(b, hook_fn_type(c), c->par_hook, hargs, 4, "");
  LLVMBuildBr(b, done);
  LLVMPositionBuilderAtEnd(b, inl);
  LLVMValueRef targs[3] = {c->par_ctx, LLVMConstInt(i32_t(c), 0, 0), LLVMConstInt(i32_t(c), 0, 0)};
  LLVMBuildCall2(b, task_fn_type(c), task, targs, 3, "");
  LLVMBuildBr(b, done);
  LLVMPositionBuilderAtEnd(b, done);
}

void cg_par_begin_body(CgCtx *c, LLVMBuilderRef b, LLVMValueRef par) {
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(b);
  LLVMValueRef fn = LLVMGetBasicBlockParent(cur);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first) LLVMPositionBuilderBefore(b, first);
  else LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef ctx = LLVMBuildAlloca(b, LLVMArrayType2(i64_t(c), CG_PAR_CTX_SLOTS), "par_ctx");
  LLVMSetAlignment(ctx, 8);
  LLVMPositionBuilderAtEnd(b, cur);
  c->par_ctx = ctx;

  LLVMValueRef marker = LLVMGetNamedFunction(c->mod, CG_PAR_WEIGHTS_MARKER);
  LLVMTypeRef mty = LLVMFunctionType(ptr_t(c), NULL, 0, 0);
  if (!marker) marker = LLVMAddFunction(c->mod, CG_PAR_WEIGHTS_MARKER, mty);
  LLVMValueRef wb = LLVMBuildCall2(b, mty, marker, NULL, 0, "weights_base");
  LLVMBuildStore(b, wb, ctx_slot(c, b, ctx, CG_PAR_CTX_WEIGHTS));

  /* par == NULL: one thread, the hook is never called. */
  LLVMBasicBlockRef load = LLVMAppendBasicBlockInContext(c->ctx, fn, "hook");
  LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(c->ctx, fn, "hooked");
  LLVMValueRef none = LLVMBuildICmp(b, LLVMIntEQ, par, LLVMConstNull(ptr_t(c)), "");
  LLVMBuildCondBr(b, none, join, load);
  LLVMPositionBuilderAtEnd(b, load);
  LLVMTypeRef st = hook_struct(c);
  LLVMValueRef h = LLVMBuildLoad2(b, ptr_t(c), LLVMBuildStructGEP2(b, st, par, 0, ""), "");
  LLVMValueRef r = LLVMBuildLoad2(b, ptr_t(c), LLVMBuildStructGEP2(b, st, par, 1, ""), "");
  LLVMValueRef t32 = LLVMBuildLoad2(b, i32_t(c), LLVMBuildStructGEP2(b, st, par, 2, ""), "");
  LLVMValueRef t = LLVMBuildSExt(b, t32, i64_t(c), "");
  /* The entry points refuse threads < 1; a NULL parallel_for with more
   * threads is refused there too. */
  LLVMBuildBr(b, join);
  LLVMPositionBuilderAtEnd(b, join);
  LLVMValueRef tp = LLVMBuildPhi(b, i64_t(c), "threads");
  LLVMValueRef hp = LLVMBuildPhi(b, ptr_t(c), "hook");
  LLVMValueRef rp = LLVMBuildPhi(b, ptr_t(c), "runner");
  LLVMValueRef one = i64c(c, 1), null = LLVMConstNull(ptr_t(c));
  LLVMAddIncoming(tp, &one, &cur, 1);
  LLVMAddIncoming(tp, &t, &load, 1);
  LLVMAddIncoming(hp, &null, &cur, 1);
  LLVMAddIncoming(hp, &h, &load, 1);
  LLVMAddIncoming(rp, &null, &cur, 1);
  LLVMAddIncoming(rp, &r, &load, 1);
  c->par_threads = tp;
  c->par_hook = hp;
  c->par_runner = rp;
}

void cg_par_drop_weights_marker(LLVMModuleRef mod) {
  LLVMValueRef marker = LLVMGetNamedFunction(mod, CG_PAR_WEIGHTS_MARKER);
  if (!marker) return;
  LLVMUseRef u;
  LLVMValueRef null = LLVMConstNull(LLVMPointerTypeInContext(LLVMGetModuleContext(mod), 0));
  while ((u = LLVMGetFirstUse(marker))) {
    LLVMValueRef call = LLVMGetUser(u);
    LLVMReplaceAllUsesWith(call, null);
    LLVMInstructionEraseFromParent(call);
  }
  LLVMDeleteFunction(marker);
}

void cg_par_emit_check(LLVMContextRef ctx, LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef par) {
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0), i32 = LLVMInt32TypeInContext(ctx);
  LLVMTypeRef f[3] = {ptr, ptr, i32};
  LLVMTypeRef st = LLVMStructTypeInContext(ctx, f, 3, 0);
  LLVMBasicBlockRef look = LLVMAppendBasicBlockInContext(ctx, fn, "check_par");
  LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(ctx, fn, "bad_par");
  LLVMBasicBlockRef good = LLVMAppendBasicBlockInContext(ctx, fn, "par_ok");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, par, LLVMConstNull(ptr), ""), good, look);
  LLVMPositionBuilderAtEnd(b, look);
  LLVMValueRef h = LLVMBuildLoad2(b, ptr, LLVMBuildStructGEP2(b, st, par, 0, ""), "");
  LLVMValueRef t = LLVMBuildLoad2(b, i32, LLVMBuildStructGEP2(b, st, par, 2, ""), "");
  LLVMValueRef below = LLVMBuildICmp(b, LLVMIntSLT, t, LLVMConstInt(i32, 1, 0), "");
  LLVMValueRef many = LLVMBuildICmp(b, LLVMIntSGT, t, LLVMConstInt(i32, 1, 0), "");
  LLVMValueRef nohook = LLVMBuildICmp(b, LLVMIntEQ, h, LLVMConstNull(ptr), "");
  LLVMValueRef wrong = LLVMBuildOr(b, below, LLVMBuildAnd(b, many, nohook, ""), "");
  LLVMBuildCondBr(b, wrong, bad, good);
  LLVMPositionBuilderAtEnd(b, bad);
  LLVMBuildRet(b, LLVMConstInt(i32, CG_RUN_BAD_PARALLEL, 0));
  LLVMPositionBuilderAtEnd(b, good);
}
