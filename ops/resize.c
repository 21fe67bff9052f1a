/* ops/resize.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_resize(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Resize is not implemented yet");
}
Status eval_resize(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Resize is not implemented yet");
}

