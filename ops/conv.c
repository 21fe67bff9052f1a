/* ops/conv.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_conv(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Conv is not implemented yet");
}
Status eval_conv(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Conv is not implemented yet");
}

Status shape_conv_transpose(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ConvTranspose is not implemented yet");
}
Status eval_conv_transpose(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ConvTranspose is not implemented yet");
}

Status shape_col2im(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Col2Im is not implemented yet");
}
Status eval_col2im(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Col2Im is not implemented yet");
}

