/* ops/attention.c: onnxc fused ops (placeholder until written). */
#include "ops.h"

Status shape_attention(Graph *g, Node *n, Error *err) {
  (void)g; (void)n;
  return err_set(err, ST_UNSUPPORTED, "Attention is not implemented yet");
}
Status eval_attention(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)n; (void)in; (void)out;
  return err_set(err, ST_UNSUPPORTED, "Attention is not implemented yet");
}

