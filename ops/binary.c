/* ops/binary.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_add(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Add is not implemented yet");
}
Status eval_add(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Add is not implemented yet");
}

Status shape_div(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Div is not implemented yet");
}
Status eval_div(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Div is not implemented yet");
}

Status shape_equal(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Equal is not implemented yet");
}
Status eval_equal(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Equal is not implemented yet");
}

Status shape_greater(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Greater is not implemented yet");
}
Status eval_greater(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Greater is not implemented yet");
}

Status shape_less(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Less is not implemented yet");
}
Status eval_less(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Less is not implemented yet");
}

Status shape_max(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Max is not implemented yet");
}
Status eval_max(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Max is not implemented yet");
}

Status shape_min(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Min is not implemented yet");
}
Status eval_min(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Min is not implemented yet");
}

Status shape_mod(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Mod is not implemented yet");
}
Status eval_mod(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Mod is not implemented yet");
}

Status shape_mul(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Mul is not implemented yet");
}
Status eval_mul(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Mul is not implemented yet");
}

Status shape_pow(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Pow is not implemented yet");
}
Status eval_pow(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Pow is not implemented yet");
}

Status shape_sub(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sub is not implemented yet");
}
Status eval_sub(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sub is not implemented yet");
}

Status shape_sum(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sum is not implemented yet");
}
Status eval_sum(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Sum is not implemented yet");
}

Status shape_where(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Where is not implemented yet");
}
Status eval_where(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Where is not implemented yet");
}

