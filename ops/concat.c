/*
 * ops/concat.c: Concat and Split, mirror images along one axis.  Both view
 * a tensor as [outer, axis, inner] and move whole contiguous chunks of
 * (axis part * inner) elements, whatever the dtype.
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

/* ---- Concat ------------------------------------------------------------- */

static Status concat_axis(const Node *n, int rank, int *axis, Error *err) {
  const Attr *a = ir_attr(n, "axis");
  if (!a) return err_set(err, ST_INVALID, "attribute 'axis' is required");
  if (rank < 1) return err_set(err, ST_INVALID, "cannot concatenate scalars");
  return ops_norm_axis(a->i, rank, axis, err);
}

Status shape_concat(Graph *g, Node *n, Error *err) {
  const Value *first = n->inputs[0];
  int axis;
  TRY(concat_axis(n, first->rank, &axis, err));
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, first->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < n->num_inputs; i++) {
    const Value *v = n->inputs[i];
    if (!v) return err_set(err, ST_INVALID, "input %d is missing", i);
    if (v->dtype != first->dtype)
      return err_set(err, ST_INVALID, "input %d is %s but input 0 is %s", i,
                     dtype_name(v->dtype), dtype_name(first->dtype));
    if (v->rank != first->rank)
      return err_set(err, ST_SHAPE, "input %d has rank %d but input 0 has rank %d", i, v->rank,
                     first->rank);
    for (int d = 0; d < v->rank; d++)
      if (d != axis && v->dims[d] != first->dims[d])
        return err_set(err, ST_SHAPE, "input %d has size %" PRId64 " in dimension %d but "
                       "input 0 has %" PRId64, i, v->dims[d], d, first->dims[d]);
    if (v->dims[axis] > IR_MAX_NUMEL - dims[axis])
      return err_set(err, ST_SHAPE, "concatenated dimension exceeds 2^40");
    dims[axis] += v->dims[axis];
  }
  return ops_set_output(n, 0, first->dtype, first->rank, dims, err);
}

Status eval_concat(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *y = n->outputs[0];
  if (ir_value_numel(y) == 0) return ST_OK;
  int axis;
  TRY(concat_axis(n, y->rank, &axis, err));
  size_t es = dtype_size(y->dtype);
  int64_t outer = ops_numel(axis, y->dims);
  int64_t inner = ops_numel(y->rank - axis - 1, y->dims + axis + 1);
  char *dst = out[0];
  for (int64_t o = 0; o < outer; o++)
    for (int i = 0; i < n->num_inputs; i++) {
      size_t chunk = (size_t)(n->inputs[i]->dims[axis] * inner) * es;
      if (!chunk) continue;
      memcpy(dst, (const char *)in[i] + (size_t)o * chunk, chunk);
      dst += chunk;
    }
  return ST_OK;
}

/* ---- Split -------------------------------------------------------------- */

#define SPLIT_MAX_OUTPUTS 256

/* Size of each output along the axis: the `split` input, else the opset 18
 * `num_outputs` rule (ceil-sized chunks, the last one smaller), else equal
 * parts, one per output. */
static Status split_sizes(const Node *n, int *axis, int64_t *sizes, Error *err) {
  const Value *x = n->inputs[0];
  int k = n->num_outputs;
  if (k > SPLIT_MAX_OUTPUTS)
    return err_set(err, ST_UNSUPPORTED, "Split has %d outputs, at most %d are supported", k,
                   SPLIT_MAX_OUTPUTS);
  if (x->rank < 1) return err_set(err, ST_INVALID, "cannot split a scalar");
  TRY(ops_norm_axis(ir_attr_int(n, "axis", 0), x->rank, axis, err));
  int64_t dim = x->dims[*axis];
  /* Only possible beside a 0 dim; the bound keeps the sums below exact. */
  if (dim > IR_MAX_NUMEL) return err_set(err, ST_SHAPE, "split axis exceeds 2^40 elements");
  if (n->num_inputs >= 2 && n->inputs[1]) {
    int count;
    TRY(ops_const_ints(n->inputs[1], "input 1 ('split')", sizes, SPLIT_MAX_OUTPUTS, &count,
                       err));
    if (count != k)
      return err_set(err, ST_INVALID, "split has %d values but the node has %d outputs", count,
                     k);
    int64_t sum = 0;
    for (int i = 0; i < k; i++) {
      if (sizes[i] < 0 || sizes[i] > dim)
        return err_set(err, ST_INVALID, "split[%d] is %" PRId64 ", outside 0..%" PRId64, i,
                       sizes[i], dim);
      sum += sizes[i]; /* each term <= dim <= 2^40, k <= 256: no overflow */
    }
    if (sum != dim)
      return err_set(err, ST_SHAPE, "split sums to %" PRId64 " but the axis has size %" PRId64,
                     sum, dim);
    return ST_OK;
  }
  const Attr *no = ir_attr(n, "num_outputs");
  if (no) {
    if (no->i != k)
      return err_set(err, ST_INVALID, "num_outputs is %" PRId64 " but the node has %d outputs",
                     no->i, k);
    int64_t chunk = (dim + k - 1) / k, last = dim - chunk * (k - 1);
    if (last < 0)
      return err_set(err, ST_SHAPE, "cannot split size %" PRId64 " into %d chunks of %" PRId64,
                     dim, k, chunk);
    for (int i = 0; i < k; i++) sizes[i] = i == k - 1 ? last : chunk;
    return ST_OK;
  }
  if (dim % k != 0)
    return err_set(err, ST_SHAPE, "size %" PRId64 " does not split into %d equal parts", dim, k);
  for (int i = 0; i < k; i++) sizes[i] = dim / k;
  return ST_OK;
}

Status shape_split(Graph *g, Node *n, Error *err) {
  const Value *x = n->inputs[0];
  int64_t sizes[SPLIT_MAX_OUTPUTS];
  int axis;
  TRY(split_sizes(n, &axis, sizes, err));
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  for (int i = 0; i < n->num_outputs; i++) {
    dims[axis] = sizes[i];
    TRY(ops_set_output(n, i, x->dtype, x->rank, dims, err));
  }
  return ST_OK;
}

#ifndef ONNXC_KERNEL_BITCODE
Status mv_map_split(const Node *n, int j, MvMap *m, Error *err) {
  const Value *x = n->inputs[0], *y = j >= 0 && j < n->num_outputs ? n->outputs[j] : NULL;
  memset(m, 0, sizeof *m);
  int64_t sizes[SPLIT_MAX_OUTPUTS];
  int axis;
  TRY(split_sizes(n, &axis, sizes, err));
  size_t es = dtype_size(x->dtype);
  if (!y || y->dtype != x->dtype || x->dtype == DT_STRING || ir_value_numel(y) == 0 ||
      (es != 1 && es != 2 && es != 4 && es != 8))
    return err_set(err, ST_UNSUPPORTED, "no element copy for this output");
  TRY(mv_map_alloc(m, y->rank, y->dims, es, err));
  int64_t strides[IR_MAX_RANK], at = 0;
  for (int i = 0; i < j; i++) at += sizes[i];
  ops_strides(x->rank, x->dims, strides);
  for (int d = 0; d < x->rank; d++)
    for (int64_t i = 0; i < m->dims[d]; i++)
      m->table[d][i] = (d == axis ? at + i : i) * strides[d];
  return ST_OK;
}
#endif

Status eval_split(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  if (ir_value_numel(x) == 0) return ST_OK;
  int64_t sizes[SPLIT_MAX_OUTPUTS];
  int axis;
  TRY(split_sizes(n, &axis, sizes, err));
  size_t es = dtype_size(x->dtype);
  int64_t outer = ops_numel(axis, x->dims);
  int64_t inner = ops_numel(x->rank - axis - 1, x->dims + axis + 1);
  size_t row = (size_t)(x->dims[axis] * inner) * es; /* one outer slice of the input */
  int64_t at = 0;
  for (int i = 0; i < n->num_outputs; i++) {
    size_t chunk = (size_t)(sizes[i] * inner) * es;
    if (n->outputs[i] && chunk)
      for (int64_t o = 0; o < outer; o++)
        memcpy((char *)out[i] + (size_t)o * chunk,
               (const char *)in[0] + (size_t)o * row + (size_t)(at * inner) * es, chunk);
    at += sizes[i];
  }
  return ST_OK;
}
