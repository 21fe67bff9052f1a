/*
 * TopK: shape rule and reference kernel.
 *
 * k is constant input 1 (int64[1]; the frontend moves opset 1's attribute
 * there).  Along `axis` the k largest (or smallest, largest=0) elements are
 * returned in order with their int64 indices; equal values keep the lower
 * index first, which a stable merge sort of the indices gives for free.
 * Results are always sorted, which also satisfies sorted=0.  The sort's
 * arrays (three of the axis length) are kernel scratch (ops.h).
 */
#include "linalg.h"

#include <inttypes.h>

static Status topk_k(const Node *n, const void *k_data, int64_t *k, Error *err) {
  const Value *vk = n->inputs[1];
  if (vk->dtype != DT_INT64 && vk->dtype != DT_INT32)
    return err_set(err, ST_INVALID, "k must be int64, not %s", dtype_name(vk->dtype));
  if (ir_value_numel(vk) != 1 || vk->rank > 1)
    return err_set(err, ST_INVALID, "k must hold exactly one value");
  const void *data = vk->data ? vk->data : k_data;
  if (!data)
    return err_set(err, ST_SHAPE, "input 1 ('K') must be a constant (it is computed at run time, "
                   "so the output shape would not be static)");
  *k = dtype_load_i64(vk->dtype, data, 0);
  return ST_OK;
}

Status shape_top_k(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  if (!linalg_numeric(x->dtype))
    return err_set(err, ST_UNSUPPORTED, "TopK on %s is not supported", dtype_name(x->dtype));
  if (x->rank < 1) return err_set(err, ST_SHAPE, "TopK needs rank >= 1");
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis, err));
  int64_t k;
  TRY(topk_k(n, NULL, &k, err));
  if (k < 0 || k > x->dims[axis])
    return err_set(err, ST_INVALID, "k = %" PRId64 " is outside [0, %" PRId64 "]", k,
                   x->dims[axis]);
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = i == axis ? k : x->dims[i];
  TRY(ops_set_output(n, 0, x->dtype, x->rank, dims, err));
  return ops_set_output(n, 1, DT_INT64, x->rank, dims, err);
}

/* Stable bottom-up merge sort of idx[0..d) by keys; "before" is strict. */
static void sort_indices(int64_t *idx, int64_t *tmp, int64_t d, const LinalgKey *key,
                         LinalgKind lk, bool largest) {
  for (int64_t w = 1; w < d; w *= 2) {
    for (int64_t lo = 0; lo < d; lo += 2 * w) {
      int64_t mid = lo + w < d ? lo + w : d, hi = lo + 2 * w < d ? lo + 2 * w : d;
      int64_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        LinalgKey a = key[idx[i]], b = key[idx[j]];
        bool b_first = largest ? linalg_key_gt(lk, b, a) : linalg_key_gt(lk, a, b);
        tmp[o++] = b_first ? idx[j++] : idx[i++];
      }
      while (i < mid) tmp[o++] = idx[i++];
      while (j < hi) tmp[o++] = idx[j++];
    }
    for (int64_t i = 0; i < d; i++) idx[i] = tmp[i];
  }
}

size_t scratch_top_k(const Node *n) {
  const Value *x = n->inputs[0];
  int axis;
  Error e;
  if (x->rank < 1 || ops_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis, &e) != ST_OK)
    return 0;
  int64_t d = x->dims[axis];
  return ops_scratch_add(ops_scratch_add(ops_scratch_add(0, d, sizeof(int64_t)), d,
                                         sizeof(int64_t)),
                         d, sizeof(LinalgKey));
}

Status eval_top_k(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  int axis;
  TRY(ops_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis, err));
  int64_t k;
  TRY(topk_k(n, in[1], &k, err));
  int64_t d = x->dims[axis];
  if (k < 0 || k > d)
    return err_set(err, ST_INVALID, "k = %" PRId64 " is outside [0, %" PRId64 "]", k, d);
  bool largest = ir_attr_int(n, "largest", 1) != 0;
  DType t = x->dtype;
  LinalgKind lk = linalg_kind(t);
  int64_t outer = ops_numel(axis, x->dims);
  int64_t inner = ops_numel(x->rank - axis - 1, x->dims + axis + 1);
  size_t esz = dtype_size(t);
  /* Per slice: the indices, the merge sort's buffer and the keys. */
  OpsScratch s = ops_scratch_begin(out, n->num_outputs, scratch_top_k(n));
  void *p_idx, *p_tmp, *p_key;
  TRY(ops_scratch_take(&s, d, sizeof(int64_t), &p_idx, err));
  TRY(ops_scratch_take(&s, d, sizeof(int64_t), &p_tmp, err));
  TRY(ops_scratch_take(&s, d, sizeof(LinalgKey), &p_key, err));
  int64_t *idx = p_idx, *tmp = p_tmp;
  LinalgKey *key = p_key;
  const unsigned char *src = in[0];
  unsigned char *vals = out[0];
  int64_t *inds = out[1];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      for (int64_t j = 0; j < d; j++) {
        idx[j] = j;
        key[j] = linalg_key(lk, t, src, (size_t)((o * d + j) * inner + i));
      }
      sort_indices(idx, tmp, d, key, lk, largest);
      for (int64_t j = 0; j < k; j++) {
        size_t dst = (size_t)((o * k + j) * inner + i);
        size_t from = (size_t)((o * d + idx[j]) * inner + i);
        if (vals)
          for (size_t b = 0; b < esz; b++) vals[dst * esz + b] = src[from * esz + b];
        if (inds) inds[dst] = idx[j];
      }
    }
  return ST_OK;
}
