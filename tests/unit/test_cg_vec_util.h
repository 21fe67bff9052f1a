/*
 * Shared helpers for the vector-lowering tests (test_cg_vecmath.c,
 * test_cg_elementwise.c): one-node graph builders and a check that a node
 * really takes its specialized lowering (so a differential test cannot
 * pass through the reference-kernel fallback), with the emitted IR
 * verified for 4-, 8- and 16-lane targets.
 */
#ifndef ONNXC_TESTS_CG_VEC_UTIL_H
#define ONNXC_TESTS_CG_VEC_UTIL_H

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <stdio.h>

#include "codegen/lower.h"
#include "ir/graph.h"
#include "ops/ops.h"

/* A graph input "x<k>" of type dt with the given shape. */
static inline Value *vu_input(Graph *g, DType dt, int rank, const int64_t *dims) {
  char name[16];
  snprintf(name, sizeof name, "x%d", g->num_inputs);
  Value *v = ir_value_new(g, name);
  Error err;
  if (!v || ir_value_set_type(v, dt, rank, dims, &err) != ST_OK) return NULL;
  if (ir_graph_add_input(g, v, &err) != ST_OK) return NULL;
  return v;
}

/* Node op(ins...) with one output; shape inference runs when the caller
 * calls vu_finish after setting attributes. */
static inline Node *vu_node(Graph *g, OpKind op, Value *const ins[], int nin) {
  Node *n = ir_node_new(g, op, "n", nin, 1);
  if (!n) return NULL;
  for (int i = 0; i < nin; i++)
    n->inputs[i] = ins[i];
  ir_node_set_output(n, 0, ir_value_new(g, "y"));
  n->opset = 17;
  return n;
}

static inline Status vu_finish(Graph *g, Node *n, Error *err) {
  TRY(ops_infer_node(g, n, err));
  return ir_graph_add_output(g, n->outputs[0], err);
}

/* True when cg_lower_node handles n at every vector width and the module
 * it produced verifies. */
static inline bool vu_lowered(const Graph *g, const Node *n) {
  static const int widths[3] = {4, 8, 16};
  bool all = true;
  for (int wi = 0; wi < 3 && all; wi++) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("t", ctx);
    LLVMTargetDataRef td = LLVMCreateTargetData("e-m:e-i64:64-f80:128-n8:16:32:64-S128");
    LLVMTypeRef p = LLVMPointerTypeInContext(ctx, 0);
    LLVMTypeRef params[16];
    for (int i = 0; i < 16; i++)
      params[i] = p;
    LLVMValueRef fn =
        LLVMAddFunction(mod, "run", LLVMFunctionType(LLVMVoidTypeInContext(ctx), params, 16, 0));
    LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
    LLVMValueRef in[8] = {0}, out[8] = {0};
    for (int i = 0; i < n->num_inputs && i < 8; i++)
      if (n->inputs[i]) in[i] = LLVMGetParam(fn, (unsigned)i);
    for (int i = 0; i < n->num_outputs && i < 8; i++)
      if (n->outputs[i] && (i == 0 || ir_use_count(g, n->outputs[i]) > 0))
        out[i] = LLVMGetParam(fn, 8 + (unsigned)i);
    CgCtx c = {.ctx = ctx,
               .mod = mod,
               .b = b,
               .run_fn = fn,
               .td = td,
               .g = g,
               .vf32 = widths[wi],
               .has_fma = wi > 0};
    bool handled = false;
    Error err;
    Status st = cg_lower_node(&c, n, in, out, &handled, &err);
    LLVMBuildRetVoid(b);
    char *msg = NULL;
    bool bad = LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg);
    if (bad) fprintf(stderr, "module does not verify (vf32=%d): %.2000s\n", widths[wi], msg);
    LLVMDisposeMessage(msg);
    all = st == ST_OK && handled && !bad;
    LLVMDisposeBuilder(b);
    LLVMDisposeTargetData(td);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
  }
  return all;
}

#endif
