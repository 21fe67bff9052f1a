/*
 * ops/transpose.c: Transpose, DepthToSpace and SpaceToDepth.  All three are
 * permutations of elements: DepthToSpace and SpaceToDepth are transposes of
 * a 6-D view of the NCHW input, so each kernel just builds source strides
 * for its output order and calls mv_copy_strided.
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

/* ---- Transpose ---------------------------------------------------------- */

static Status transpose_perm(const Node *n, int rank, int *perm, Error *err) {
  const int64_t *p;
  int count = ir_attr_ints(n, "perm", &p);
  if (count < 0) {
    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
    return ST_OK;
  }
  if (count != rank)
    return err_set(err, ST_INVALID, "perm has %d values but the input has rank %d", count, rank);
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < rank; i++) {
    if (p[i] < 0 || p[i] >= rank)
      return err_set(err, ST_INVALID, "perm[%d] is %" PRId64 ", outside 0..%d", i, p[i],
                     rank - 1);
    if (seen[p[i]]) return err_set(err, ST_INVALID, "perm repeats %" PRId64, p[i]);
    seen[p[i]] = true;
    perm[i] = (int)p[i];
  }
  return ST_OK;
}

Status shape_transpose(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int perm[IR_MAX_RANK];
  TRY(transpose_perm(n, x->rank, perm, err));
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = x->dims[perm[i]];
  return ops_set_output(n, 0, x->dtype, x->rank, dims, err);
}

Status eval_transpose(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0], *y = n->outputs[0];
  if (ir_value_numel(y) == 0) return ST_OK;
  int perm[IR_MAX_RANK];
  TRY(transpose_perm(n, x->rank, perm, err));
  int64_t strides[IR_MAX_RANK], view[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  for (int i = 0; i < x->rank; i++) view[i] = strides[perm[i]];
  mv_copy_strided(dtype_size(x->dtype), x->rank, y->dims, in[0], 0, view, out[0]);
  return ST_OK;
}

#ifndef ONNXC_KERNEL_BITCODE
Status mv_map_transpose(const Node *n, MvMap *m, Error *err) {
  const Value *x = n->inputs[0];
  int perm[IR_MAX_RANK];
  TRY(transpose_perm(n, x->rank, perm, err));
  TRY(mv_map_for_output(n, m, err));
  int64_t strides[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  for (int k = 0; k < x->rank; k++)
    for (int64_t i = 0; i < m->dims[k]; i++) m->table[k][i] = i * strides[perm[k]];
  return ST_OK;
}
#endif

/* ---- DepthToSpace / SpaceToDepth ---------------------------------------- */

static Status block_size(const Node *n, int64_t *b, int64_t *bb, Error *err) {
  const Attr *a = ir_attr(n, "blocksize");
  if (!a) return err_set(err, ST_INVALID, "attribute 'blocksize' is required");
  if (a->i < 1 || !mv_mul_bounded(a->i, a->i, bb))
    return err_set(err, ST_INVALID, "blocksize %" PRId64 " is out of range", a->i);
  *b = a->i;
  if (n->inputs[0]->rank != 4)
    return err_set(err, ST_SHAPE, "input must have rank 4 (NCHW), not %d", n->inputs[0]->rank);
  return ST_OK;
}

/* true for DCR (the default), false for CRD. */
static Status d2s_mode(const Node *n, bool *dcr, Error *err) {
  const char *m = ir_attr_string(n, "mode", "DCR");
  if (strcmp(m, "DCR") == 0) *dcr = true;
  else if (strcmp(m, "CRD") == 0) *dcr = false;
  else return err_set(err, ST_INVALID, "mode must be DCR or CRD, not '%s'", m);
  return ST_OK;
}

Status shape_depth_to_space(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t b = 1, bb = 1;
  bool dcr = true;
  TRY(block_size(n, &b, &bb, err));
  TRY(d2s_mode(n, &dcr, err));
  if (x->dims[1] % bb != 0)
    return err_set(err, ST_SHAPE, "channels (%" PRId64 ") are not a multiple of blocksize^2 (%"
                   PRId64 ")", x->dims[1], bb);
  int64_t dims[4] = {x->dims[0], x->dims[1] / bb, 0, 0};
  if (!mv_mul_bounded(x->dims[2], b, &dims[2]) || !mv_mul_bounded(x->dims[3], b, &dims[3]))
    return err_set(err, ST_SHAPE, "output has more than 2^40 elements");
  return ops_set_output(n, 0, x->dtype, 4, dims, err);
}

/* Output viewed as [N, C', H, b, W, b]: out[n, c, h*b+i, w*b+j] comes from
 * input channel (i*b + j)*C' + c in DCR mode, c*b*b + i*b + j in CRD mode. */
Status eval_depth_to_space(const Node *n, const void *const in[], void *const out[],
                           Error *err) {
  const Value *x = n->inputs[0];
  if (ir_value_numel(x) == 0) return ST_OK;
  int64_t b = 1, bb = 1;
  bool dcr = true;
  TRY(block_size(n, &b, &bb, err));
  TRY(d2s_mode(n, &dcr, err));
  int64_t C = x->dims[1], H = x->dims[2], W = x->dims[3], Cp = C / bb, hw = H * W;
  int64_t dims[6] = {x->dims[0], Cp, H, b, W, b};
  int64_t view[6] = {C * hw, dcr ? hw : bb * hw, W, dcr ? b * Cp * hw : b * hw, 1,
                     dcr ? Cp * hw : hw};
  mv_copy_strided(dtype_size(x->dtype), 6, dims, in[0], 0, view, out[0]);
  return ST_OK;
}

Status shape_space_to_depth(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t b = 1, bb = 1;
  TRY(block_size(n, &b, &bb, err));
  if (x->dims[2] % b != 0 || x->dims[3] % b != 0)
    return err_set(err, ST_SHAPE, "height and width (%" PRId64 ", %" PRId64 ") must be "
                   "multiples of blocksize %" PRId64, x->dims[2], x->dims[3], b);
  int64_t dims[4] = {x->dims[0], 0, x->dims[2] / b, x->dims[3] / b};
  if (!mv_mul_bounded(x->dims[1], bb, &dims[1]))
    return err_set(err, ST_SHAPE, "output has more than 2^40 elements");
  return ops_set_output(n, 0, x->dtype, 4, dims, err);
}

/* Output viewed as [N, b, b, C, H', W']: out channel (i*b + j)*C + c at
 * (h, w) comes from input (c, h*b + i, w*b + j). */
Status eval_space_to_depth(const Node *n, const void *const in[], void *const out[],
                           Error *err) {
  const Value *x = n->inputs[0];
  if (ir_value_numel(x) == 0) return ST_OK;
  int64_t b = 1, bb = 1;
  TRY(block_size(n, &b, &bb, err));
  int64_t C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t dims[6] = {x->dims[0], b, b, C, H / b, W / b};
  int64_t view[6] = {C * H * W, W, 1, H * W, b * W, b};
  mv_copy_strided(dtype_size(x->dtype), 6, dims, in[0], 0, view, out[0]);
  return ST_OK;
}
