/* The op table expanded into data; see ops.def. */
#include "op.h"

#include <assert.h>
#include <string.h>

const OpInfo op_info[OP_COUNT] = {
#define OP(id, fn, name, min_in, max_in, min_out, max_out, family)                  \
  [OP_##id] = {name, min_in, max_in, min_out, max_out, #family, #fn},
#include "ops.def"
#undef OP
};

static_assert(sizeof op_info / sizeof op_info[0] == OP_COUNT, "op_info out of sync with ops.def");

OpKind op_from_name(const char *name) {
  /* ~100 ops, looked up once per ONNX node: a linear scan is plenty. */
  for (int k = 0; k < OP_COUNT; k++)
    if (strcmp(op_info[k].name, name) == 0) return (OpKind)k;
  return OP_COUNT;
}
