/* ops/norm.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_batch_normalization(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "BatchNormalization is not implemented yet");
}
Status eval_batch_normalization(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "BatchNormalization is not implemented yet");
}

Status shape_group_normalization(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "GroupNormalization is not implemented yet");
}
Status eval_group_normalization(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "GroupNormalization is not implemented yet");
}

Status shape_instance_normalization(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "InstanceNormalization is not implemented yet");
}
Status eval_instance_normalization(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "InstanceNormalization is not implemented yet");
}

Status shape_layer_normalization(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "LayerNormalization is not implemented yet");
}
Status eval_layer_normalization(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "LayerNormalization is not implemented yet");
}

Status shape_log_softmax(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "LogSoftmax is not implemented yet");
}
Status eval_log_softmax(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "LogSoftmax is not implemented yet");
}

Status shape_softmax(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Softmax is not implemented yet");
}
Status eval_softmax(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Softmax is not implemented yet");
}

