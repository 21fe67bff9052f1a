/*
 * Builds the model module: weights as read-only globals, one constant
 * descriptor per node, and <prefix>_run, which checks the workspace, then
 * calls each node's kernel on pointers into the inputs, outputs, weights
 * and workspace as the memory plan says.  cg_compile drives the whole
 * backend (plan, module, link kernels, optimize, emit, header).
 */
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "descriptors.h"
#include "header.h"
#include "kernels.h"
#include "lower.h"
#include "memplan.h"
#include "parallel.h"
#include "profile.h"
#include "target.h"
#include "weights_file.h"

typedef struct Emit {
  const Graph *g;
  const MemPlan *plan;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMValueRef fn;
  LLVMValueRef inputs, outputs, ws;   /* the run body's parameters (and par, the hook) */
  LLVMValueRef *weights;              /* by value id */
  LLVMValueRef err_buf;               /* Error struct the kernels may fill */
  LLVMValueRef fail_block_status;     /* phi in the failure block */
  LLVMBasicBlockRef fail;             /* of the function being built (a part or the body) */
  CgDesc desc;
  CgCtx lower;                        /* context handed to specialized lowerings */
  FILE *kernel_log;                   /* --print-kernels output, or NULL */
  bool profile;                       /* --profile: time every node */
  LLVMValueRef times;                 /* the body's times parameter (--profile) */
  char **kernel_desc;                 /* by node index: the path it takes */
  const CgOptions *opts;
  /* The node's constant inputs as placeholders until its lowering is done
   * (resolve_pending): a weight the lowering re-packs from the graph never
   * gets a module copy of its original layout. */
  bool defer_weights;
  /* --release: a constant's storage root -> the last node reading it
   * (INT_MAX for graph outputs); its adopted data is freed right after. */
  int *last_use;
  Graph *release_g;
  int num_pending;
  LLVMValueRef pending[64];
  const Value *pending_value[64];
} Emit;

static LLVMTypeRef ptr_ty(Emit *e) { return LLVMPointerTypeInContext(e->ctx, 0); }
static LLVMTypeRef i32_ty(Emit *e) { return LLVMInt32TypeInContext(e->ctx); }
static LLVMTypeRef i64_ty(Emit *e) { return LLVMInt64TypeInContext(e->ctx); }

/* The private global holding constant v's data, made when first used:
 * weights that a lowering re-packs into its own layout (GEMM panels, conv
 * filters) never get a copy of their original layout in the module, which
 * keeps the compiler's peak memory near the weights' size. */
static LLVMValueRef weight_global(void *ctx, const Value *v) {
  Emit *e = ctx;
  if (!v || !v->data) return NULL;
  if (e->weights[v->id]) return e->weights[v->id];
  size_t nb = ir_value_nbytes(v);
  char name[64];
  snprintf(name, sizeof name, "onnxc.weight.%d", v->id);
  LLVMValueRef init = LLVMConstStringInContext2(e->ctx, v->data, nb ? nb : 1, 1);
  LLVMValueRef gv = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetAlignment(gv, 64);
  e->weights[v->id] = gv;
  return gv;
}

/* Pointer to the storage of v inside the run function. */
static LLVMValueRef value_ptr(Emit *e, const Value *v) {
  if (!v) return LLVMConstNull(ptr_ty(e));
  const BufPlace *p = &e->plan->place[v->id];
  LLVMValueRef idx, base = NULL;
  switch (p->kind) {
  case BUF_CONST: {
    int id = v->id;
    while (e->plan->place[id].alias_of >= 0) id = e->plan->place[id].alias_of;
    if (e->defer_weights && e->num_pending < 64 && e->g->values[id]->data) {
      base = LLVMAddGlobal(e->mod, LLVMInt8TypeInContext(e->ctx), "onnxc.pending_weight");
      e->pending[e->num_pending] = base;
      e->pending_value[e->num_pending++] = e->g->values[id];
    } else {
      base = weight_global(e, e->g->values[id]);
    }
    if (!base) return LLVMConstNull(ptr_ty(e));
    break;
  }
  case BUF_INPUT:
  case BUF_OUTPUT:
    idx = LLVMConstInt(i64_ty(e), (unsigned long long)p->index, 0);
    base = LLVMBuildLoad2(e->b, ptr_ty(e),
                          LLVMBuildGEP2(e->b, ptr_ty(e), p->kind == BUF_INPUT ? e->inputs : e->outputs,
                                        &idx, 1, ""),
                          "");
    break;
  case BUF_WORKSPACE:
    idx = LLVMConstInt(i64_ty(e), (unsigned long long)p->offset, 0);
    return LLVMBuildGEP2(e->b, LLVMInt8TypeInContext(e->ctx), e->ws, &idx, 1, "");
  case BUF_NONE:
    return LLVMConstNull(ptr_ty(e));
  }
  /* A view at an offset into a constant or a caller's buffer. */
  if (p->alias_of >= 0 && p->view_offset) {
    idx = LLVMConstInt(i64_ty(e), (unsigned long long)p->view_offset, 0);
    return LLVMBuildGEP2(e->b, LLVMInt8TypeInContext(e->ctx), base, &idx, 1, "");
  }
  return base;
}

static LLVMValueRef kernel_fn(Emit *e, const Node *n, Error *err) {
  char name[96];
  snprintf(name, sizeof name, "eval_%s", op_info[n->op].fn);
  LLVMValueRef f = LLVMGetNamedFunction(e->mod, name);
  if (!f) err_set(err, ST_INTERNAL, "kernel %s is missing from the kernel bitcode", name);
  return f;
}

/* How a lowered or reference node runs and may split, as --print-kernels
 * and the profiler say it. */
static void describe_kernel(bool handled, const CgParInfo *p, char *how, size_t size) {
  if (!handled || !p->partitioned)
    snprintf(how, size, "serial");
  else if (p->max_tasks < 2)
    snprintf(how, size, "serial (%.1f us < 2 grains)", p->cost_ns / 1000.0);
  else
    snprintf(how, size, "parallel <= %lld tasks of %lld units", (long long)p->max_tasks,
             (long long)p->units);
}

static void note_kernel(Emit *e, int k, const Node *n, bool handled, const char *how) {
  if (e->kernel_log)
    fprintf(e->kernel_log, "  %-10s %-22s %-40s %s\n", handled ? "lowered" : "reference",
            op_name(n->op), how, n->name);
  if (e->kernel_desc && !e->kernel_desc[k]) {
    size_t len = strlen(how) + 16;
    e->kernel_desc[k] = malloc(len);
    if (e->kernel_desc[k]) snprintf(e->kernel_desc[k], len, "%s, %s", handled ? "lowered" : "reference", how);
  }
}

/* The placeholders of this node's constant inputs: the ones its code uses
 * become the weights' globals, the others go. */
static void resolve_pending(Emit *e) {
  for (int i = 0; i < e->num_pending; i++) {
    LLVMValueRef ph = e->pending[i];
    if (LLVMGetFirstUse(ph)) LLVMReplaceAllUsesWith(ph, weight_global(e, e->pending_value[i]));
    LLVMDeleteGlobal(ph);
  }
  e->num_pending = 0;
}

static Status emit_node(Emit *e, int k, const Node *n, Error *err) {
  /* Loop bodies are nested graphs that only the evaluator runs; a Loop left
   * after constant folding depends on run-time data. */
  if (n->op == OP_LOOP)
    return ir_node_error(err, ST_UNSUPPORTED, e->g, n,
                         "a Loop whose inputs depend on run-time data cannot be compiled (only "
                         "Loops that constant folding removes are supported)");
  /* Views the plan aliased need no code at all. */
  if (e->plan->no_code[k]) {
    note_kernel(e, k, n, true, "view (the attention reads or writes it in place)");
    return ST_OK;
  }
  size_t view_at;
  if (n->outputs[0] && e->plan->place[n->outputs[0]->id].alias_of >= 0 &&
      memplan_view_offset(n, &view_at)) {
    note_kernel(e, k, n, true, "view (no code)");
    return ST_OK;
  }
  LLVMValueRef inp[64], outp[64];
  if (n->num_inputs > 64 || n->num_outputs > 64)
    return err_set(err, ST_UNSUPPORTED, "node \"%s\" has more than 64 inputs or outputs", n->name);
  e->defer_weights = true;
  e->num_pending = 0;
  for (int i = 0; i < n->num_inputs; i++) inp[i] = n->inputs[i] ? value_ptr(e, n->inputs[i]) : NULL;
  e->defer_weights = false;
  for (int i = 0; i < n->num_outputs; i++) outp[i] = n->outputs[i] ? value_ptr(e, n->outputs[i]) : NULL;
  bool handled = false;
  e->lower.scratch = NULL;
  e->lower.scratch_bytes = 0;
  if (k < e->plan->num_nodes && e->plan->scratch_bytes[k]) {
    LLVMValueRef off = LLVMConstInt(i64_ty(e), (unsigned long long)e->plan->scratch_offset[k], 0);
    e->lower.scratch =
        LLVMBuildGEP2(e->b, LLVMInt8TypeInContext(e->ctx), e->ws, &off, 1, "lowered_scratch");
    e->lower.scratch_bytes = e->plan->scratch_bytes[k];
  }
  e->lower.b = e->b;
  e->lower.run_fn = e->fn;
  e->lower.par_last = (CgParInfo){0};
  Status lowered = cg_lower_node(&e->lower, n, inp, outp, &handled, err);
  if (lowered != ST_OK || handled) resolve_pending(e);
  TRY(lowered);
  char how[64];
  describe_kernel(handled, &e->lower.par_last, how, sizeof how);
  note_kernel(e, k, n, handled, how);
  if (handled) return ST_OK;
  LLVMValueRef desc;
  TRY(cg_desc_node(&e->desc, n, &desc, err));
  LLVMValueRef kfn = kernel_fn(e, n, err);
  if (!kfn) return ST_INTERNAL;
  /* out gets one slot past the outputs: the kernel's scratch (ops.h), a
   * workspace region the plan reserved for this node, or NULL. */
  int ni = n->num_inputs > 0 ? n->num_inputs : 1, no = n->num_outputs + 1;
  LLVMTypeRef in_arr_ty = LLVMArrayType2(ptr_ty(e), (unsigned)ni);
  LLVMTypeRef out_arr_ty = LLVMArrayType2(ptr_ty(e), (unsigned)no);
  /* Allocas go to the entry block so they are not re-allocated per node. */
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(e->b);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(e->fn);
  LLVMPositionBuilderBefore(e->b, LLVMGetFirstInstruction(entry));
  LLVMValueRef in_arr = LLVMBuildAlloca(e->b, in_arr_ty, "in");
  LLVMValueRef out_arr = LLVMBuildAlloca(e->b, out_arr_ty, "out");
  LLVMPositionBuilderAtEnd(e->b, cur);
  for (int i = 0; i < n->num_inputs; i++) {
    LLVMValueRef idx[2] = {LLVMConstInt(i64_ty(e), 0, 0), LLVMConstInt(i64_ty(e), (unsigned)i, 0)};
    LLVMValueRef v = inp[i] ? inp[i] : LLVMConstNull(ptr_ty(e));
    LLVMBuildStore(e->b, v, LLVMBuildGEP2(e->b, in_arr_ty, in_arr, idx, 2, ""));
  }
  for (int i = 0; i < n->num_outputs; i++) {
    LLVMValueRef idx[2] = {LLVMConstInt(i64_ty(e), 0, 0), LLVMConstInt(i64_ty(e), (unsigned)i, 0)};
    LLVMValueRef v = outp[i] ? outp[i] : LLVMConstNull(ptr_ty(e));
    LLVMBuildStore(e->b, v, LLVMBuildGEP2(e->b, out_arr_ty, out_arr, idx, 2, ""));
  }
  {
    LLVMValueRef scratch = LLVMConstNull(ptr_ty(e));
    if (k < e->plan->num_nodes && e->plan->scratch_bytes[k]) {
      LLVMValueRef off =
          LLVMConstInt(i64_ty(e), (unsigned long long)e->plan->scratch_offset[k], 0);
      scratch = LLVMBuildGEP2(e->b, LLVMInt8TypeInContext(e->ctx), e->ws, &off, 1, "scratch");
    }
    LLVMValueRef idx[2] = {LLVMConstInt(i64_ty(e), 0, 0),
                           LLVMConstInt(i64_ty(e), (unsigned)n->num_outputs, 0)};
    LLVMBuildStore(e->b, scratch, LLVMBuildGEP2(e->b, out_arr_ty, out_arr, idx, 2, ""));
  }
  LLVMValueRef args[] = {desc, in_arr, out_arr, e->err_buf};
  LLVMValueRef st = LLVMBuildCall2(e->b, LLVMGlobalGetValueType(kfn), kfn, args, 4, "");
  LLVMValueRef bad = LLVMBuildICmp(e->b, LLVMIntNE, st, LLVMConstInt(i32_ty(e), 0, 0), "");
  LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(e->ctx, e->fn, "");
  LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
  LLVMBuildCondBr(e->b, bad, e->fail, next);
  /* A kernel that fails (it should not: shapes were checked at compile
   * time) makes run return 2. */
  LLVMValueRef two = LLVMConstInt(i32_ty(e), 2, 0);
  LLVMAddIncoming(e->fail_block_status, &two, &here, 1);
  LLVMPositionBuilderAtEnd(e->b, next);
  resolve_pending(e);
  return ST_OK;
}

static void emit_memcpy(Emit *e, LLVMValueRef dst, LLVMValueRef src, size_t n) {
  if (!n) return;
  LLVMBuildMemCpy(e->b, dst, 1, src, 1, LLVMConstInt(i64_ty(e), n, 0));
}

/* The internal body every entry point calls: (inputs, outputs, workspace,
 * par), par NULL for one thread; with --weights=FILE weights_file.c adds
 * the weights base as a 5th parameter. */
/* The run body calls the schedule in parts of at most this many nodes,
 * each a function of its own: LLVM's code generation time grows faster
 * than the size of a function (25,000 nodes in one body: 28 s of it). */
#define RUN_PART_NODES 256

static void add_fn_attr(Emit *e, LLVMValueRef fn, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(e->ctx, kind, 0));
}

/* Points e at fn's parameters and gives fn its error record and its
 * failure block (which returns the status its phi receives). */
static void begin_fn(Emit *e, LLVMValueRef fn, LLVMBasicBlockRef entry) {
  e->fn = fn;
  e->inputs = LLVMGetParam(fn, 0);
  e->outputs = LLVMGetParam(fn, 1);
  e->ws = LLVMGetParam(fn, 2);
  e->times = e->profile ? LLVMGetParam(fn, 4) : NULL;
  e->fail = LLVMAppendBasicBlockInContext(e->ctx, fn, "fail");
  LLVMPositionBuilderAtEnd(e->b, e->fail);
  e->fail_block_status = LLVMBuildPhi(e->b, i32_ty(e), "status");
  LLVMBuildRet(e->b, e->fail_block_status);
  LLVMPositionBuilderAtEnd(e->b, entry);
  /* Error record for kernels: sizeof(Error) bytes, 8-aligned. */
  LLVMTypeRef err_ty = LLVMArrayType2(LLVMInt64TypeInContext(e->ctx), (sizeof(Error) + 7) / 8);
  e->err_buf = LLVMBuildAlloca(e->b, err_ty, "err");
}

static int storage_root(const Emit *e, int id) {
  while (e->plan->place[id].alias_of >= 0) id = e->plan->place[id].alias_of;
  return id;
}

/* With CgOptions.release_weights: where each constant is read last. */
static Status plan_releases(Emit *e, Graph *g, Error *err) {
  e->last_use = malloc(sizeof *e->last_use * ((size_t)g->num_values + 1));
  if (!e->last_use) return err_set(err, ST_NOMEM, "out of memory");
  e->release_g = g;
  for (int i = 0; i < g->num_values; i++) e->last_use[i] = -1;
  for (int k = 0; k < g->num_nodes; k++)
    for (int j = 0; j < g->nodes[k]->num_inputs; j++)
      if (g->nodes[k]->inputs[j]) e->last_use[storage_root(e, g->nodes[k]->inputs[j]->id)] = k;
  for (int i = 0; i < g->num_outputs; i++) e->last_use[storage_root(e, g->outputs[i]->id)] = INT_MAX;
  return ST_OK;
}

/* After node k: the graph's copy of each weight it read last goes (the
 * module has what it needs), so lowering never holds two copies of all. */
static void release_after(Emit *e, int k) {
  if (!e->last_use) return;
  const Node *n = e->g->nodes[k];
  for (int j = 0; j < n->num_inputs; j++) {
    if (!n->inputs[j]) continue;
    int r = storage_root(e, n->inputs[j]->id);
    if (e->last_use[r] == k) ir_value_release_adopted(e->release_g, e->release_g->values[r]);
  }
}

/* onnxc.run_part: nodes [first, end) with the body's parameters. */
static Status emit_part(Emit *e, LLVMTypeRef fty, int first, int end, LLVMValueRef *part,
                        Error *err) {
  *part = LLVMAddFunction(e->mod, "onnxc.run_part", fty);
  LLVMSetLinkage(*part, LLVMInternalLinkage);
  add_fn_attr(e, *part, "noinline");
  begin_fn(e, *part, LLVMAppendBasicBlockInContext(e->ctx, *part, "entry"));
  e->lower.b = e->b;
  cg_par_begin_body(&e->lower, e->b, LLVMGetParam(*part, 3));
  for (int i = first; i < end; i++) {
    if (e->opts->progress) e->opts->progress(e->opts->progress_ctx, "lowering", i, e->g->num_nodes);
    LLVMValueRef t0 = e->profile ? cg_prof_now(&e->lower, e->b) : NULL;
    TRY(emit_node(e, i, e->g->nodes[i], err));
    if (e->profile) cg_prof_record(&e->lower, e->b, e->times, i, t0, cg_prof_now(&e->lower, e->b));
    release_after(e, i);
  }
  LLVMBuildRet(e->b, LLVMConstInt(i32_ty(e), 0, 0));
  return ST_OK;
}

static Status emit_run(Emit *e, const char *name, Error *err) {
  LLVMTypeRef params[] = {ptr_ty(e), ptr_ty(e), ptr_ty(e), ptr_ty(e), ptr_ty(e)};
  int nparams = e->profile ? 5 : 4;
  LLVMTypeRef fty = LLVMFunctionType(i32_ty(e), params, (unsigned)nparams, 0);
  LLVMValueRef body = LLVMAddFunction(e->mod, name, fty);
  LLVMSetLinkage(body, LLVMInternalLinkage);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, body, "entry");
  LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(e->ctx, body, "body");
  LLVMBasicBlockRef bad_ws = LLVMAppendBasicBlockInContext(e->ctx, body, "bad_workspace");
  LLVMPositionBuilderAtEnd(e->b, bad_ws);
  LLVMBuildRet(e->b, LLVMConstInt(i32_ty(e), 1, 0));
  begin_fn(e, body, entry);
  LLVMValueRef wsi = LLVMBuildPtrToInt(e->b, e->ws, i64_ty(e), "");
  LLVMValueRef misaligned = LLVMBuildICmp(
      e->b, LLVMIntNE, LLVMBuildAnd(e->b, wsi, LLVMConstInt(i64_ty(e), 63, 0), ""),
      LLVMConstInt(i64_ty(e), 0, 0), "");
  LLVMValueRef isnull = LLVMBuildICmp(e->b, LLVMIntEQ, wsi, LLVMConstInt(i64_ty(e), 0, 0), "");
  LLVMValueRef wsbad = LLVMBuildOr(e->b, misaligned, isnull, "");
  if (e->plan->workspace_size == 0) wsbad = LLVMConstInt(LLVMInt1TypeInContext(e->ctx), 0, 0);
  LLVMBuildCondBr(e->b, wsbad, bad_ws, run);

  /* The parts, each called in turn; a failing one's status is returned. */
  LLVMBasicBlockRef body_fail = e->fail;
  LLVMValueRef body_status = e->fail_block_status;
  LLVMValueRef body_params[5];
  for (int i = 0; i < nparams; i++) body_params[i] = LLVMGetParam(body, (unsigned)i);
  LLVMBasicBlockRef at = run;
  for (int first = 0; first < e->g->num_nodes; first += RUN_PART_NODES) {
    int end = e->g->num_nodes - first > RUN_PART_NODES ? first + RUN_PART_NODES : e->g->num_nodes;
    LLVMValueRef part;
    TRY(emit_part(e, fty, first, end, &part, err));
    LLVMPositionBuilderAtEnd(e->b, at);
    LLVMValueRef st = LLVMBuildCall2(e->b, fty, part, body_params, (unsigned)nparams, "");
    at = LLVMAppendBasicBlockInContext(e->ctx, body, "");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntNE, st, LLVMConstInt(i32_ty(e), 0, 0), ""),
                    body_fail, at);
    LLVMBasicBlockRef here = LLVMGetInsertBlock(e->b);
    LLVMAddIncoming(body_status, &st, &here, 1);
  }
  /* Back in the body: outputs not written in place by their producer are
   * copied at the end. */
  e->fn = body;
  e->inputs = body_params[0];
  e->outputs = body_params[1];
  e->ws = body_params[2];
  LLVMPositionBuilderAtEnd(e->b, at);
  for (int i = 0; i < e->g->num_outputs; i++) {
    const Value *v = e->g->outputs[i];
    const BufPlace *p = &e->plan->place[v->id];
    if (p->kind == BUF_OUTPUT && p->index == i) continue;
    LLVMValueRef idx = LLVMConstInt(i64_ty(e), (unsigned)i, 0);
    LLVMValueRef dst = LLVMBuildLoad2(e->b, ptr_ty(e), LLVMBuildGEP2(e->b, ptr_ty(e), e->outputs, &idx, 1, ""), "");
    emit_memcpy(e, dst, value_ptr(e, v), ir_value_nbytes(v));
  }
  LLVMBuildRet(e->b, LLVMConstInt(i32_ty(e), 0, 0));
  return ST_OK;
}

/* <prefix>_run(inputs, outputs, ws), <prefix>_run_parallel(inputs,
 * outputs, ws, par) and with --profile <prefix>_run_profiled(inputs,
 * outputs, ws, par, times) on the body, for embedded weights. */
static void emit_entries(Emit *e, const char *prefix) {
  char name[160];
  LLVMTypeRef p5[] = {ptr_ty(e), ptr_ty(e), ptr_ty(e), ptr_ty(e), ptr_ty(e)};
  LLVMTypeRef bty = LLVMGlobalGetValueType(e->fn);
  static const char *const suffix[3] = {"run", "run_parallel", "run_profiled"};
  for (int kind = 0; kind < (e->profile ? 3 : 2); kind++) {
    snprintf(name, sizeof name, "%s_%s", prefix, suffix[kind]);
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, LLVMFunctionType(i32_ty(e), p5, 3 + kind, 0));
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
    LLVMValueRef par = kind ? LLVMGetParam(fn, 3) : LLVMConstNull(ptr_ty(e));
    if (kind) cg_par_emit_check(e->ctx, e->b, fn, par);
    LLVMValueRef args[] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), LLVMGetParam(fn, 2), par,
                           kind == 2 ? LLVMGetParam(fn, 4) : LLVMConstNull(ptr_ty(e))};
    LLVMBuildRet(e->b, LLVMBuildCall2(e->b, bty, e->fn, args, e->profile ? 5 : 4, ""));
  }
}

void cg_sanitize_identifier(const char *in, char *out, size_t size) {
  if (!size) return;
  const char *base = strrchr(in, '/');
  base = base ? base + 1 : in;
  size_t k = 0;
  if (!((*base >= 'a' && *base <= 'z') || (*base >= 'A' && *base <= 'Z') || *base == '_') && k + 1 < size)
    out[k++] = '_';
  for (const char *s = base; *s && k + 1 < size; s++) {
    if (*s == '.' && strchr(s, '.') == strrchr(base, '.')) break; /* drop the extension */
    char c = *s;
    out[k++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
  }
  out[k] = 0;
}

/* --time-passes: the backend's stages after the pass table. */
static void print_stage_times(const CgOptions *o, const double *ms, const double *mb,
                              const char *const *names, int count) {
  FILE *log = o->log ? o->log : stderr;
  double total = 0;
  fprintf(log, "; %-18s %10s %14s\n", "backend stage", "ms", "peak RSS MB");
  for (int i = 0; i < count; i++) {
    if (mb[i] > 0) fprintf(log, "; %-18s %10.1f %14.0f\n", names[i], ms[i], mb[i]);
    else fprintf(log, "; %-18s %10s %14s\n", names[i], "-", "-"); /* a stage not run */
    total += ms[i];
  }
  fprintf(log, "; %-18s %10.1f\n", "backend total", total);
  fflush(log);
}

Status cg_compile(Graph *g, const CgOptions *o, Error *err) {
  enum { T_PLAN, T_KERNELS, T_WEIGHTS, T_LOWER, T_VERIFY, T_OPT, T_CODEGEN, T_HEADER, T_COUNT };
  static const char *const stage_names[T_COUNT] = {
      "memory plan", "link kernels", "weights file", "lowering", "LLVM verify",
      "LLVM optimization", "LLVM codegen", "header"};
  double ms[T_COUNT] = {0}, mb[T_COUNT] = {0}, t0 = cg_now_ms();
#define PROGRESS(stage, done, total) \
  do { \
    if (o->progress) o->progress(o->progress_ctx, stage, done, total); \
  } while (0)
  PROGRESS("memory plan", 0, 0);
  Status st = ir_compact(g, err);
  if (st != ST_OK) return st;
  MemPlan plan;
  TRY(memplan_build(g, !o->reference_kernels_only, &plan, err));
  ms[T_PLAN] = cg_now_ms() - t0;
  mb[T_PLAN] = cg_peak_mb();
  if (o->print_memory_plan) memplan_print(g, &plan, o->log ? o->log : stderr);

  CgTarget t;
  size_t embedded = 0;
  for (int i = 0; !o->weights_path && i < g->num_values; i++)
    if (g->values[i]->data) embedded += ir_value_nbytes(g->values[i]);
  st = cg_target_create_sized(o, embedded, &t, err);
  if (st != ST_OK) {
    memplan_free(&plan);
    return st;
  }
  Emit e = {.opts = o, .g = g, .plan = &plan, .kernel_log = o->print_kernels ? (o->log ? o->log : stderr) : NULL,
            .profile = o->profile};
  if (o->profile && !(e.kernel_desc = calloc((size_t)g->num_nodes + 1, sizeof *e.kernel_desc)))
    st = err_set(err, ST_NOMEM, "out of memory");
  if (e.kernel_log) fprintf(e.kernel_log, "; kernels: specialized lowering or reference kernel per node\n");
  e.ctx = LLVMContextCreate();
  e.mod = LLVMModuleCreateWithNameInContext(o->prefix, e.ctx);
  e.b = LLVMCreateBuilderInContext(e.ctx);
  e.weights = calloc((size_t)g->num_values + 1, sizeof *e.weights);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(t.tm);
  char *layout = LLVMCopyStringRepOfTargetData(td);
  LLVMSetDataLayout(e.mod, layout);
  LLVMDisposeMessage(layout);
  LLVMSetTarget(e.mod, t.triple);
  if (!e.weights) st = err_set(err, ST_NOMEM, "out of memory");
  if (st == ST_OK) st = cg_desc_init(&e.desc, e.ctx, e.mod, g, weight_global, &e, err);
  if (st == ST_OK && o->release_weights) st = plan_releases(&e, g, err);
  if (st == ST_OK && t.is_host) st = cg_desc_check_layout(&e.desc, td, err);
  t0 = cg_now_ms();
  PROGRESS("linking kernels", 0, 0);
  if (st == ST_OK) st = cg_link_kernels(e.mod, t.arch, err);
  ms[T_KERNELS] = cg_now_ms() - t0;
  mb[T_KERNELS] = cg_peak_mb();
  t0 = cg_now_ms();
  e.lower = (CgCtx){.ctx = e.ctx, .mod = e.mod, .td = td, .g = g, .counter = 0,
                    .reference_only = o->reference_kernels_only, .min_task_ns = o->min_task_ns};
  cg_target_vector_facts(t.triple, t.cpu, t.features, &e.lower.vf32, &e.lower.has_fma);
  e.lower.split_512 = e.lower.vf32 == 16 && t.cpu && strncmp(t.cpu, "znver4", 6) == 0;
  char names[6][160];
  const char *exported[6];
  int num_exported = 0;
  const char *w = o->weights_path ? "_with_weights" : "";
  snprintf(names[num_exported++], sizeof names[0], "%s_run%s", o->prefix, w);
  snprintf(names[num_exported++], sizeof names[0], "%s_run_parallel%s", o->prefix, w);
  if (o->weights_path) snprintf(names[num_exported++], sizeof names[0], "%s_weights_check", o->prefix);
  if (o->profile) {
    snprintf(names[num_exported++], sizeof names[0], "%s_run_profiled%s", o->prefix, w);
    snprintf(names[num_exported++], sizeof names[0], "%s_profile_node", o->prefix);
    snprintf(names[num_exported++], sizeof names[0], "%s_profile_fma_loop", o->prefix);
  }
  for (int i = 0; i < num_exported; i++) exported[i] = names[i];
  CgWeightsInfo winfo = {0};
  if (st == ST_OK) st = emit_run(&e, "onnxc.run_body", err);
  if (st == ST_OK && o->weights_path) {
    LLVMValueRef body = e.fn;
    bool body_takes_weights = false;
    double tw = cg_now_ms();
    PROGRESS("weights file", 0, 0);
    st = cg_externalize_weights(e.mod, o->weights_path, &body, &body_takes_weights, &winfo, err);
    ms[T_WEIGHTS] = cg_now_ms() - tw;
    mb[T_WEIGHTS] = cg_peak_mb();
    if (st == ST_OK)
      cg_emit_weights_entries(e.mod, o->prefix, body, body_takes_weights, o->profile, &winfo);
  } else if (st == ST_OK) {
    cg_par_drop_weights_marker(e.mod);
    emit_entries(&e, o->prefix);
  }
  if (st == ST_OK && o->profile) cg_prof_emit_tables(&e.lower, o->prefix, (const char *const *)e.kernel_desc);
  if (st == ST_OK) cg_finalize_linkage(e.mod, exported, num_exported, t.cpu, t.features);
  /* The module holds every weight it needs now, as constants or packed
   * panels: the graph's copies would only add to the peak of code
   * generation, which copies the module's data once more. */
  if (st == ST_OK && o->release_weights) ir_graph_release_adopted(g);
  free(e.last_use);
  ms[T_LOWER] = cg_now_ms() - t0 - ms[T_WEIGHTS];
  mb[T_LOWER] = cg_peak_mb();
  CgEmitTimes et = {0};
  PROGRESS("LLVM optimization and code generation", 0, 0);
  if (st == ST_OK) st = cg_target_emit(&t, e.mod, o, &et, err);
  ms[T_VERIFY] = et.verify;
  ms[T_OPT] = et.optimize;
  ms[T_CODEGEN] = et.codegen;
  mb[T_VERIFY] = et.verify_mb;
  mb[T_OPT] = et.optimize_mb;
  mb[T_CODEGEN] = et.codegen_mb;
  t0 = cg_now_ms();
  if (st == ST_OK && o->header_path)
    st = cg_write_header(g, &plan, o, o->weights_path ? &winfo : NULL, o->header_path, err);
  ms[T_HEADER] = cg_now_ms() - t0;
  mb[T_HEADER] = cg_peak_mb();
  if (st == ST_OK && o->time_stages) print_stage_times(o, ms, mb, stage_names, T_COUNT);
#undef PROGRESS
  cg_kernel_slots_free(&e.lower);
  cg_desc_free(&e.desc);
  for (int i = 0; e.kernel_desc && i < g->num_nodes; i++) free(e.kernel_desc[i]);
  free(e.kernel_desc);
  free(e.weights);
  LLVMDisposeTargetData(td);
  LLVMDisposeBuilder(e.b);
  LLVMDisposeModule(e.mod);
  LLVMContextDispose(e.ctx);
  cg_target_dispose(&t);
  memplan_free(&plan);
  return st;
}
