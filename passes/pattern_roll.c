/*
 * Concat of Slices of one tensor along one axis -> Gather with constant
 * indices (canonicalize).  torch.roll exports as two Slices and a Concat
 * per rolled axis (Swin's shifted windows roll H and W before and after
 * every other block): each piece was copied twice, by its Slice and by the
 * Concat.  A Gather along the axis is one copy, lowered like every
 * separable index map (codegen/vec/lower_remap.c).
 */
#include "pattern_canon.h"

#include <stdlib.h>

#include "../ops/movement.h"
#include "../ops/ops.h"

/* Slice s of x keeps every axis but `axis` whole; appends its indices
 * along `axis` to idx[*count...] (at most cap in all). */
static bool slice_along(const Node *s, const Value *x, int axis, int64_t *idx, int64_t *count,
                        int64_t cap) {
  const Value *y = s->outputs[0];
  if (!y || y->rank != x->rank || !ir_value_is_static(y)) return false;
  int64_t start[IR_MAX_RANK], step[IR_MAX_RANK];
  Error local;
  if (mv_slice_starts(s, start, step, &local) != ST_OK) return false;
  for (int b = 0; b < x->rank; b++)
    if (b != axis && (y->dims[b] != x->dims[b] || start[b] != 0 || step[b] != 1)) return false;
  if (*count + y->dims[axis] > cap) return false;
  for (int64_t t = 0; t < y->dims[axis]; t++) {
    int64_t i = start[axis] + t * step[axis];
    if (i < 0 || i >= x->dims[axis]) return false;
    idx[(*count)++] = i;
  }
  return true;
}

Status canon_roll(Graph *g, Node *n, bool *done, Error *err) {
  if (n->op != OP_CONCAT || n->num_inputs < 2) return ST_OK;
  Value *y = n->outputs[0];
  if (!ir_value_is_static(y) || y->rank < 1) return ST_OK;
  int64_t axis = ir_attr_int(n, "axis", 0);
  if (axis < 0) axis += y->rank;
  if (axis < 0 || axis >= y->rank) return ST_OK;
  Value *x = NULL;
  for (int i = 0; i < n->num_inputs; i++) {
    Node *s = pat_def(n->inputs[i], OP_SLICE);
    if (!s || !pat_private(g, n->inputs[i]) || !s->inputs[0]) return ST_OK;
    if (i > 0 && s->inputs[0] != x) return ST_OK;
    x = s->inputs[0];
  }
  if (!ir_value_is_static(x) || x->rank != y->rank || x->dtype != y->dtype) return ST_OK;
  int64_t len = y->dims[axis];
  int64_t *idx = malloc((size_t)(len > 0 ? len : 1) * sizeof *idx);
  if (!idx) return err_set(err, ST_NOMEM, "out of memory for a roll's indices");
  int64_t count = 0;
  bool ok = true;
  for (int i = 0; i < n->num_inputs && ok; i++)
    ok = slice_along(n->inputs[i]->producer, x, (int)axis, idx, &count, len);
  if (!ok || count != len) {
    free(idx);
    return ST_OK;
  }
  int64_t dims[1] = {len};
  Value *iv = ir_const_new(g, "", DT_INT64, 1, dims, idx);
  free(idx);
  if (!iv) return err_set(err, ST_NOMEM, "out of memory for a roll's indices");
  /* The Slices (private to the Concat) die with it. */
  for (int i = 0; i < n->num_inputs; i++) n->inputs[i]->producer->dead = true;
  Value *ins[2] = {x, iv};
  Node *gather;
  TRY(pat_replace(g, n, OP_GATHER, ins, 2, &gather, err));
  TRY(ir_node_set_attr_int(g, gather, "axis", axis, err));
  *done = true;
  return ST_OK;
}
