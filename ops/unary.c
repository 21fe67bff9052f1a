/* ops/unary.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_abs(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Abs is not implemented yet");
}
Status eval_abs(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Abs is not implemented yet");
}

Status shape_cast(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Cast is not implemented yet");
}
Status eval_cast(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Cast is not implemented yet");
}

Status shape_cast_like(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "CastLike is not implemented yet");
}
Status eval_cast_like(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "CastLike is not implemented yet");
}

Status shape_ceil(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Ceil is not implemented yet");
}
Status eval_ceil(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Ceil is not implemented yet");
}

Status shape_clip(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Clip is not implemented yet");
}
Status eval_clip(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Clip is not implemented yet");
}

Status shape_dropout(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Dropout is not implemented yet");
}
Status eval_dropout(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Dropout is not implemented yet");
}

Status shape_erf(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Erf is not implemented yet");
}
Status eval_erf(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Erf is not implemented yet");
}

Status shape_exp(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Exp is not implemented yet");
}
Status eval_exp(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Exp is not implemented yet");
}

Status shape_floor(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Floor is not implemented yet");
}
Status eval_floor(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Floor is not implemented yet");
}

Status shape_gelu(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Gelu is not implemented yet");
}
Status eval_gelu(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Gelu is not implemented yet");
}

Status shape_hard_sigmoid(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "HardSigmoid is not implemented yet");
}
Status eval_hard_sigmoid(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "HardSigmoid is not implemented yet");
}

Status shape_hard_swish(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "HardSwish is not implemented yet");
}
Status eval_hard_swish(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "HardSwish is not implemented yet");
}

Status shape_identity(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Identity is not implemented yet");
}
Status eval_identity(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Identity is not implemented yet");
}

Status shape_leaky_relu(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "LeakyRelu is not implemented yet");
}
Status eval_leaky_relu(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "LeakyRelu is not implemented yet");
}

Status shape_log(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Log is not implemented yet");
}
Status eval_log(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Log is not implemented yet");
}

Status shape_neg(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Neg is not implemented yet");
}
Status eval_neg(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Neg is not implemented yet");
}

Status shape_not(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Not is not implemented yet");
}
Status eval_not(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Not is not implemented yet");
}

Status shape_reciprocal(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Reciprocal is not implemented yet");
}
Status eval_reciprocal(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Reciprocal is not implemented yet");
}

Status shape_relu(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Relu is not implemented yet");
}
Status eval_relu(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Relu is not implemented yet");
}

Status shape_sigmoid(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sigmoid is not implemented yet");
}
Status eval_sigmoid(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sigmoid is not implemented yet");
}

Status shape_sqrt(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sqrt is not implemented yet");
}
Status eval_sqrt(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sqrt is not implemented yet");
}

Status shape_tanh(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Tanh is not implemented yet");
}
Status eval_tanh(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Tanh is not implemented yet");
}

