/* ops/movement.c: shape rules and reference kernels (placeholder until written). */
#include "ops.h"

Status shape_concat(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Concat is not implemented yet");
}
Status eval_concat(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Concat is not implemented yet");
}

Status shape_constant_of_shape(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ConstantOfShape is not implemented yet");
}
Status eval_constant_of_shape(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ConstantOfShape is not implemented yet");
}

Status shape_depth_to_space(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "DepthToSpace is not implemented yet");
}
Status eval_depth_to_space(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "DepthToSpace is not implemented yet");
}

Status shape_expand(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Expand is not implemented yet");
}
Status eval_expand(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Expand is not implemented yet");
}

Status shape_flatten(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Flatten is not implemented yet");
}
Status eval_flatten(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Flatten is not implemented yet");
}

Status shape_gather(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Gather is not implemented yet");
}
Status eval_gather(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Gather is not implemented yet");
}

Status shape_pad(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Pad is not implemented yet");
}
Status eval_pad(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Pad is not implemented yet");
}

Status shape_range(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Range is not implemented yet");
}
Status eval_range(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Range is not implemented yet");
}

Status shape_reshape(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Reshape is not implemented yet");
}
Status eval_reshape(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Reshape is not implemented yet");
}

Status shape_scatter_nd(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ScatterND is not implemented yet");
}
Status eval_scatter_nd(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "ScatterND is not implemented yet");
}

Status shape_shape(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Shape is not implemented yet");
}
Status eval_shape(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Shape is not implemented yet");
}

Status shape_size(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Size is not implemented yet");
}
Status eval_size(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Size is not implemented yet");
}

Status shape_slice(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Slice is not implemented yet");
}
Status eval_slice(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Slice is not implemented yet");
}

Status shape_space_to_depth(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "SpaceToDepth is not implemented yet");
}
Status eval_space_to_depth(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "SpaceToDepth is not implemented yet");
}

Status shape_split(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Split is not implemented yet");
}
Status eval_split(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Split is not implemented yet");
}

Status shape_squeeze(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Squeeze is not implemented yet");
}
Status eval_squeeze(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Squeeze is not implemented yet");
}

Status shape_tile(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Tile is not implemented yet");
}
Status eval_tile(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Tile is not implemented yet");
}

Status shape_transpose(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Transpose is not implemented yet");
}
Status eval_transpose(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Transpose is not implemented yet");
}

Status shape_trilu(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Trilu is not implemented yet");
}
Status eval_trilu(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Trilu is not implemented yet");
}

Status shape_unsqueeze(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Unsqueeze is not implemented yet");
}
Status eval_unsqueeze(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Unsqueeze is not implemented yet");
}

