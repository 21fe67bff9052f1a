/* Constant Node/Value/Attr descriptors for kernel calls; see descriptors.h. */
#include "descriptors.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static LLVMTypeRef i8t(CgDesc *d) { return LLVMInt8TypeInContext(d->ctx); }
static LLVMTypeRef i32t(CgDesc *d) { return LLVMInt32TypeInContext(d->ctx); }
static LLVMTypeRef i64t(CgDesc *d) { return LLVMInt64TypeInContext(d->ctx); }
static LLVMTypeRef ptrt(CgDesc *d) { return LLVMPointerTypeInContext(d->ctx, 0); }

static LLVMValueRef ci32(CgDesc *d, long long v) { return LLVMConstInt(i32t(d), (unsigned long long)v, 1); }
static LLVMValueRef ci64(CgDesc *d, long long v) { return LLVMConstInt(i64t(d), (unsigned long long)v, 1); }
static LLVMValueRef ci8(CgDesc *d, int v) { return LLVMConstInt(i8t(d), (unsigned long long)v, 0); }
static LLVMValueRef cnull(CgDesc *d) { return LLVMConstNull(ptrt(d)); }

Status cg_desc_init(CgDesc *d, LLVMContextRef ctx, LLVMModuleRef mod, const Graph *g,
                    LLVMValueRef (*weight)(void *ctx, const Value *v), void *weight_ctx,
                    Error *err) {
  memset(d, 0, sizeof *d);
  d->ctx = ctx;
  d->mod = mod;
  d->weight = weight;
  d->weight_ctx = weight_ctx;
  d->num_values = g->num_values;
  d->value_globals = calloc((size_t)g->num_values + 1, sizeof(LLVMValueRef));
  if (!d->value_globals) return err_set(err, ST_NOMEM, "out of memory");
  LLVMTypeRef P = ptrt(d), I32 = i32t(d), I64 = i64t(d), I8 = i8t(d);
  LLVMTypeRef F = LLVMFloatTypeInContext(ctx);
  LLVMTypeRef dims = LLVMArrayType2(I64, IR_MAX_RANK), ptrs = LLVMArrayType2(P, IR_MAX_RANK);

  /* ORDER: must follow struct Value in ir/graph.h */
  LLVMTypeRef value_fields[] = {I32, P, I32, I32, dims, ptrs, P, P, P, I8, I8};
  d->value_ty = LLVMStructCreateNamed(ctx, "onnxc.Value");
  LLVMStructSetBody(d->value_ty, value_fields, 11, 0);
  /* ORDER: struct Tensor */
  LLVMTypeRef tensor_fields[] = {I32, I32, dims, P};
  d->tensor_ty = LLVMStructCreateNamed(ctx, "onnxc.Tensor");
  LLVMStructSetBody(d->tensor_ty, tensor_fields, 4, 0);
  /* ORDER: struct Attr */
  LLVMTypeRef attr_fields[] = {P, I32, I64, F, P, I32, P, P, P, P};
  d->attr_ty = LLVMStructCreateNamed(ctx, "onnxc.Attr");
  LLVMStructSetBody(d->attr_ty, attr_fields, 10, 0);
  /* ORDER: struct Node */
  LLVMTypeRef node_fields[] = {I32, I32, P, I32, I32, P, I32, P, I32, P, I8};
  d->node_ty = LLVMStructCreateNamed(ctx, "onnxc.Node");
  LLVMStructSetBody(d->node_ty, node_fields, 11, 0);
  return ST_OK;
}

void cg_desc_free(CgDesc *d) {
  free(d->value_globals);
  d->value_globals = NULL;
}

#define CHECK_FIELD(ty, cty, idx, field)                                                     \
  do {                                                                                     \
    if (LLVMOffsetOfElement(td, d->ty, idx) != offsetof(cty, field))                       \
      return err_set(err, ST_INTERNAL, "codegen mirror of " #cty "." #field                  \
                     " is out of sync with ir/graph.h");                                   \
  } while (0)

Status cg_desc_check_layout(CgDesc *d, LLVMTargetDataRef td, Error *err) {
  CHECK_FIELD(value_ty, Value, 1, name);
  CHECK_FIELD(value_ty, Value, 4, dims);
  CHECK_FIELD(value_ty, Value, 5, dim_param);
  CHECK_FIELD(value_ty, Value, 6, data);
  CHECK_FIELD(value_ty, Value, 10, is_output);
  CHECK_FIELD(tensor_ty, Tensor, 2, dims);
  CHECK_FIELD(tensor_ty, Tensor, 3, data);
  CHECK_FIELD(attr_ty, Attr, 2, i);
  CHECK_FIELD(attr_ty, Attr, 3, f);
  CHECK_FIELD(attr_ty, Attr, 5, n);
  CHECK_FIELD(attr_ty, Attr, 9, t);
  CHECK_FIELD(node_ty, Node, 5, inputs);
  CHECK_FIELD(node_ty, Node, 7, outputs);
  CHECK_FIELD(node_ty, Node, 9, attrs);
  CHECK_FIELD(node_ty, Node, 10, dead);
  if (LLVMABISizeOfType(td, d->value_ty) != sizeof(Value) ||
      LLVMABISizeOfType(td, d->node_ty) != sizeof(Node) ||
      LLVMABISizeOfType(td, d->attr_ty) != sizeof(Attr) ||
      LLVMABISizeOfType(td, d->tensor_ty) != sizeof(Tensor))
    return err_set(err, ST_INTERNAL, "codegen struct mirrors differ in size from ir/graph.h");
  return ST_OK;
}

static LLVMValueRef private_global(CgDesc *d, LLVMValueRef init, const char *kind) {
  char name[64];
  snprintf(name, sizeof name, "onnxc.%s.%d", kind, d->counter++);
  LLVMValueRef g = LLVMAddGlobal(d->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return g;
}

static LLVMValueRef cstring(CgDesc *d, const char *s) {
  if (!s) return cnull(d);
  LLVMValueRef init = LLVMConstStringInContext2(d->ctx, s, strlen(s), 0);
  return private_global(d, init, "str");
}

static LLVMValueRef dims_const(CgDesc *d, const int64_t *dims) {
  LLVMValueRef e[IR_MAX_RANK];
  for (int i = 0; i < IR_MAX_RANK; i++) e[i] = ci64(d, dims[i]);
  return LLVMConstArray2(i64t(d), e, IR_MAX_RANK);
}

static LLVMValueRef value_global(CgDesc *d, const Value *v) {
  if (!v) return cnull(d);
  if (d->value_globals[v->id]) return d->value_globals[v->id];
  LLVMValueRef nullptrs[IR_MAX_RANK];
  for (int i = 0; i < IR_MAX_RANK; i++) nullptrs[i] = cnull(d);
  int64_t dims[IR_MAX_RANK] = {0};
  for (int i = 0; i < v->rank; i++) dims[i] = v->dims[i];
  LLVMValueRef f[] = {
      ci32(d, v->id),
      cstring(d, ""), /* names only matter for messages, which the .o does not print */
      ci32(d, v->dtype),
      ci32(d, v->rank),
      dims_const(d, dims),
      LLVMConstArray2(ptrt(d), nullptrs, IR_MAX_RANK),
      v->data ? d->weight(d->weight_ctx, v) : cnull(d),
      cnull(d),
      cnull(d),
      ci8(d, v->is_input),
      ci8(d, v->is_output),
  };
  LLVMValueRef g = private_global(d, LLVMConstNamedStruct(d->value_ty, f, 11), "value");
  d->value_globals[v->id] = g;
  return g;
}

static LLVMValueRef tensor_global(CgDesc *d, const Tensor *t) {
  if (!t) return cnull(d);
  int64_t numel = 1;
  for (int i = 0; i < t->rank; i++) numel *= t->dims[i];
  size_t nb = (size_t)numel * dtype_size(t->dtype);
  LLVMValueRef data = cnull(d);
  if (nb) {
    LLVMValueRef init = LLVMConstStringInContext2(d->ctx, t->data, nb, 1);
    data = private_global(d, init, "tensordata");
    LLVMSetAlignment(data, 16);
  }
  int64_t dims[IR_MAX_RANK] = {0};
  for (int i = 0; i < t->rank; i++) dims[i] = t->dims[i];
  LLVMValueRef f[] = {ci32(d, t->dtype), ci32(d, t->rank), dims_const(d, dims), data};
  return private_global(d, LLVMConstNamedStruct(d->tensor_ty, f, 4), "tensor");
}

static LLVMValueRef attr_const(CgDesc *d, const Attr *a) {
  LLVMValueRef ints = cnull(d), floats = cnull(d), strings = cnull(d);
  if (a->n > 0 && a->ints) {
    LLVMValueRef *e = malloc(sizeof *e * (size_t)a->n);
    if (!e) return NULL;
    for (int i = 0; i < a->n; i++) e[i] = ci64(d, a->ints[i]);
    ints = private_global(d, LLVMConstArray2(i64t(d), e, (uint64_t)a->n), "ints");
    free(e);
  }
  if (a->n > 0 && a->floats) {
    LLVMValueRef *e = malloc(sizeof *e * (size_t)a->n);
    if (!e) return NULL;
    for (int i = 0; i < a->n; i++) e[i] = LLVMConstReal(LLVMFloatTypeInContext(d->ctx), a->floats[i]);
    floats = private_global(d, LLVMConstArray2(LLVMFloatTypeInContext(d->ctx), e, (uint64_t)a->n), "floats");
    free(e);
  }
  if (a->n > 0 && a->strings) {
    LLVMValueRef *e = malloc(sizeof *e * (size_t)a->n);
    if (!e) return NULL;
    for (int i = 0; i < a->n; i++) e[i] = cstring(d, a->strings[i]);
    strings = private_global(d, LLVMConstArray2(ptrt(d), e, (uint64_t)a->n), "strings");
    free(e);
  }
  LLVMValueRef f[] = {
      cstring(d, a->name), ci32(d, a->kind), ci64(d, a->i),
      LLVMConstReal(LLVMFloatTypeInContext(d->ctx), a->f),
      a->s ? cstring(d, a->s) : cnull(d), ci32(d, a->n), ints, floats, strings,
      tensor_global(d, a->t),
  };
  return LLVMConstNamedStruct(d->attr_ty, f, 10);
}

static LLVMValueRef value_array(CgDesc *d, Value *const *vals, int n) {
  LLVMValueRef e[64];
  if (n <= 0) return cnull(d);
  if (n > 64) return NULL;
  for (int i = 0; i < n; i++) e[i] = value_global(d, vals[i]);
  return private_global(d, LLVMConstArray2(ptrt(d), e, (uint64_t)n), "values");
}

Status cg_desc_node(CgDesc *d, const Node *n, LLVMValueRef *out, Error *err) {
  LLVMValueRef ins = value_array(d, n->inputs, n->num_inputs);
  LLVMValueRef outs = value_array(d, n->outputs, n->num_outputs);
  if (!ins || !outs) return err_set(err, ST_UNSUPPORTED, "node has more than 64 inputs or outputs");
  LLVMValueRef attrs = cnull(d);
  if (n->num_attrs > 0) {
    LLVMValueRef *e = malloc(sizeof *e * (size_t)n->num_attrs);
    if (!e) return err_set(err, ST_NOMEM, "out of memory");
    for (int i = 0; i < n->num_attrs; i++)
      if (!(e[i] = attr_const(d, &n->attrs[i]))) {
        free(e);
        return err_set(err, ST_NOMEM, "out of memory");
      }
    attrs = private_global(d, LLVMConstArray2(d->attr_ty, e, (uint64_t)n->num_attrs), "attrs");
    free(e);
  }
  LLVMValueRef f[] = {
      ci32(d, n->id), ci32(d, n->op), cstring(d, n->name), ci32(d, n->opset),
      ci32(d, n->num_inputs), ins, ci32(d, n->num_outputs), outs,
      ci32(d, n->num_attrs), attrs, ci8(d, 0),
  };
  *out = private_global(d, LLVMConstNamedStruct(d->node_ty, f, 11), "node");
  return ST_OK;
}
