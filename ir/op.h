/*
 * OpKind and the static facts about each op, expanded from ops.def.
 * This header knows nothing about shapes or kernels: those tables live in
 * ops/registry.c, so ir/ stays free of any particular implementation.
 */
#ifndef ONNXC_IR_OP_H
#define ONNXC_IR_OP_H

typedef enum OpKind {
#define OP(id, fn, name, min_in, max_in, min_out, max_out, family) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
} OpKind;

typedef struct OpInfo {
  const char *name;       /* ONNX op_type */
  int min_in, max_in;     /* max_in == -1: variadic */
  int min_out, max_out;   /* max_out == -1: variadic */
  const char *family;     /* ops/<family>.c */
  const char *fn;         /* stem of shape_<fn> / eval_<fn> */
} OpInfo;

extern const OpInfo op_info[OP_COUNT];

static inline const char *op_name(OpKind k) { return k < OP_COUNT ? op_info[k].name : "?"; }
/* OP_COUNT when the name is not in the table. */
OpKind op_from_name(const char *name);

#endif
