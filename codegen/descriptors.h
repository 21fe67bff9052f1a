/*
 * Node descriptors: the IR structs a kernel reads (Node, Value, Attr,
 * Tensor from ir/graph.h) re-created as constant LLVM globals, laid out
 * exactly as the C compiler lays them out for the target.  A kernel call in
 * the generated code passes a pointer to such a constant Node, so once the
 * kernel is inlined every shape and attribute is a compile-time constant.
 *
 * The LLVM struct types mirror graph.h field by field; cg_desc_check_layout
 * compares them with offsetof() so that a change to graph.h that is not
 * mirrored here is caught, not silently miscompiled.
 */
#ifndef ONNXC_CODEGEN_DESCRIPTORS_H
#define ONNXC_CODEGEN_DESCRIPTORS_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

#include "../ir/graph.h"

typedef struct CgDesc {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMTypeRef value_ty, node_ty, attr_ty, tensor_ty;
  LLVMValueRef *value_globals; /* by Value.id, created lazily */
  /* The global holding constant v's data, made on first use (emit.c). */
  LLVMValueRef (*weight)(void *ctx, const Value *v);
  void *weight_ctx;
  int num_values;
  int counter;                 /* for unique private names */
} CgDesc;

Status cg_desc_init(CgDesc *d, LLVMContextRef ctx, LLVMModuleRef mod, const Graph *g,
                    LLVMValueRef (*weight)(void *ctx, const Value *v), void *weight_ctx,
                    Error *err);
void cg_desc_free(CgDesc *d);
/* Checks the mirrored layouts against this compiler's struct layout (only
 * meaningful when the target's data layout is the host's). */
Status cg_desc_check_layout(CgDesc *d, LLVMTargetDataRef td, Error *err);
/* Constant global holding a Node descriptor for n. */
Status cg_desc_node(CgDesc *d, const Node *n, LLVMValueRef *out, Error *err);

#endif
