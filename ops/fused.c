/* ops/fused.c: onnxc fused ops (placeholder until written). */
#include "ops.h"

Status shape_fused_conv(Graph *g, Node *n, Error *err) {
  (void)g; (void)n;
  return err_set(err, ST_UNSUPPORTED, "FusedConv is not implemented yet");
}
Status eval_fused_conv(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)n; (void)in; (void)out;
  return err_set(err, ST_UNSUPPORTED, "FusedConv is not implemented yet");
}

Status shape_fused_matmul(Graph *g, Node *n, Error *err) {
  (void)g; (void)n;
  return err_set(err, ST_UNSUPPORTED, "FusedMatMul is not implemented yet");
}
Status eval_fused_matmul(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)n; (void)in; (void)out;
  return err_set(err, ST_UNSUPPORTED, "FusedMatMul is not implemented yet");
}

Status shape_silu(Graph *g, Node *n, Error *err) {
  (void)g; (void)n;
  return err_set(err, ST_UNSUPPORTED, "SiLU is not implemented yet");
}
Status eval_silu(const Node *n, const void *const in[], void *const out[], Error *err) {
  (void)n; (void)in; (void)out;
  return err_set(err, ST_UNSUPPORTED, "SiLU is not implemented yet");
}

