/* ops/pool.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_average_pool(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "AveragePool is not implemented yet");
}
Status eval_average_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "AveragePool is not implemented yet");
}

Status shape_max_pool(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "MaxPool is not implemented yet");
}
Status eval_max_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "MaxPool is not implemented yet");
}

Status shape_global_average_pool(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "GlobalAveragePool is not implemented yet");
}
Status eval_global_average_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "GlobalAveragePool is not implemented yet");
}

Status shape_global_max_pool(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "GlobalMaxPool is not implemented yet");
}
Status eval_global_max_pool(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "GlobalMaxPool is not implemented yet");
}

