/* ops/matmul.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_gemm(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Gemm is not implemented yet");
}
Status eval_gemm(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Gemm is not implemented yet");
}

Status shape_matmul(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "MatMul is not implemented yet");
}
Status eval_matmul(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "MatMul is not implemented yet");
}

Status shape_einsum(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Einsum is not implemented yet");
}
Status eval_einsum(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Einsum is not implemented yet");
}

