/*
 * ops/tile.c: Expand and Tile, the two ops that repeat input data.  Expand
 * broadcasts the input to the constant shape input (stride 0 on broadcast
 * dimensions); Tile views its output as [rep0, d0, rep1, d1, ...] with
 * stride 0 on the rep dimensions.  Both then use mv_copy_strided.
 */
#include "movement.h"

#include <inttypes.h>

/* ---- Expand ------------------------------------------------------------- */

static Status expand_shape(const Node *n, int *rank, int64_t *dims, Error *err) {
  const Value *x = n->inputs[0];
  int64_t shape[IR_MAX_RANK];
  int count;
  TRY(ops_const_ints(n->inputs[1], "input 1 ('shape')", shape, IR_MAX_RANK, &count, err));
  for (int i = 0; i < count; i++)
    if (shape[i] < 0)
      return err_set(err, ST_INVALID, "shape[%d] is negative (%" PRId64 ")", i, shape[i]);
  const int ranks[2] = {x->rank, count};
  const int64_t *const all[2] = {x->dims, shape};
  return ops_broadcast(2, ranks, all, rank, dims, err);
}

Status shape_expand(Graph *g, Node *n, Error *err) {
  int rank;
  int64_t dims[IR_MAX_RANK];
  TRY(expand_shape(n, &rank, dims, err));
  return ops_set_output(n, 0, n->inputs[0]->dtype, rank, dims, err);
}

Status eval_expand(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0], *y = n->outputs[0];
  if (ir_value_numel(y) == 0) return ST_OK;
  int64_t view[IR_MAX_RANK];
  ops_broadcast_strides(x->rank, x->dims, y->rank, y->dims, view);
  mv_copy_strided(dtype_size(x->dtype), y->rank, y->dims, in[0], 0, view, out[0]);
  return ST_OK;
}

/* ---- Tile --------------------------------------------------------------- */

static Status tile_repeats(const Node *n, int64_t *reps, Error *err) {
  const Value *x = n->inputs[0];
  int count;
  TRY(ops_const_ints(n->inputs[1], "input 1 ('repeats')", reps, IR_MAX_RANK, &count, err));
  if (count != x->rank)
    return err_set(err, ST_INVALID, "repeats has %d values but the input has rank %d", count,
                   x->rank);
  for (int i = 0; i < count; i++)
    if (reps[i] < 0)
      return err_set(err, ST_INVALID, "repeats[%d] is negative (%" PRId64 ")", i, reps[i]);
  return ST_OK;
}

Status shape_tile(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t reps[IR_MAX_RANK], dims[IR_MAX_RANK];
  TRY(tile_repeats(n, reps, err));
  for (int i = 0; i < x->rank; i++)
    if (!mv_mul_bounded(x->dims[i], reps[i], &dims[i]))
      return err_set(err, ST_SHAPE, "tiled dimension %d exceeds 2^40", i);
  return ops_set_output(n, 0, x->dtype, x->rank, dims, err);
}

Status eval_tile(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  if (ir_value_numel(n->outputs[0]) == 0) return ST_OK;
  int64_t reps[IR_MAX_RANK], strides[IR_MAX_RANK];
  TRY(tile_repeats(n, reps, err));
  ops_strides(x->rank, x->dims, strides);
  int64_t dims[2 * IR_MAX_RANK], view[2 * IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) {
    dims[2 * i] = reps[i];
    view[2 * i] = 0;
    dims[2 * i + 1] = x->dims[i];
    view[2 * i + 1] = strides[i];
  }
  mv_copy_strided(dtype_size(x->dtype), 2 * x->rank, dims, in[0], 0, view, out[0]);
  return ST_OK;
}
