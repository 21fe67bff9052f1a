/* ops/reduce.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_arg_max(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ArgMax is not implemented yet");
}
Status eval_arg_max(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ArgMax is not implemented yet");
}

Status shape_cum_sum(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "CumSum is not implemented yet");
}
Status eval_cum_sum(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "CumSum is not implemented yet");
}

Status shape_reduce_l2(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceL2 is not implemented yet");
}
Status eval_reduce_l2(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceL2 is not implemented yet");
}

Status shape_reduce_max(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceMax is not implemented yet");
}
Status eval_reduce_max(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceMax is not implemented yet");
}

Status shape_reduce_mean(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceMean is not implemented yet");
}
Status eval_reduce_mean(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceMean is not implemented yet");
}

Status shape_reduce_sum(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceSum is not implemented yet");
}
Status eval_reduce_sum(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ReduceSum is not implemented yet");
}

Status shape_top_k(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "TopK is not implemented yet");
}
Status eval_top_k(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "TopK is not implemented yet");
}

