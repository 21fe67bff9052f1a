/*
 * ops/slice.c: Slice (opset 13 form: starts, ends, axes, steps as constant
 * int inputs 1..4).  The shape rule applies ONNX's clamping rules once and
 * yields a start and step per dimension; the kernel is then a strided view
 * of the input handed to mv_copy_strided.
 */
#include "movement.h"

#include <inttypes.h>
#include <string.h>

typedef struct SliceParams {
  int64_t start[IR_MAX_RANK]; /* first input index taken, per dimension */
  int64_t step[IR_MAX_RANK];
  int64_t dims[IR_MAX_RANK];  /* output shape */
} SliceParams;

/* Clamps v into [lo, hi]. */
static int64_t clamp(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static Status slice_params(const Node *n, SliceParams *p, Error *err) {
  const Value *x = n->inputs[0];
  int r = x->rank;
  int64_t starts[IR_MAX_RANK], ends[IR_MAX_RANK], axes[IR_MAX_RANK], steps[IR_MAX_RANK];
  int ns, ne, na, nst;
  TRY(ops_const_ints(n->inputs[1], "input 1 ('starts')", starts, IR_MAX_RANK, &ns, err));
  TRY(ops_const_ints(n->inputs[2], "input 2 ('ends')", ends, IR_MAX_RANK, &ne, err));
  if (ne != ns)
    return err_set(err, ST_INVALID, "starts has %d values but ends has %d", ns, ne);
  if (n->num_inputs > 3 && n->inputs[3]) {
    TRY(ops_const_ints(n->inputs[3], "input 3 ('axes')", axes, IR_MAX_RANK, &na, err));
    if (na != ns) return err_set(err, ST_INVALID, "axes has %d values but starts has %d", na, ns);
  } else {
    if (ns > r)
      return err_set(err, ST_INVALID, "starts has %d values but the input has rank %d", ns, r);
    for (int i = 0; i < ns; i++) axes[i] = i;
  }
  if (n->num_inputs > 4 && n->inputs[4]) {
    TRY(ops_const_ints(n->inputs[4], "input 4 ('steps')", steps, IR_MAX_RANK, &nst, err));
    if (nst != ns)
      return err_set(err, ST_INVALID, "steps has %d values but starts has %d", nst, ns);
  } else {
    for (int i = 0; i < ns; i++) steps[i] = 1;
  }
  bool seen[IR_MAX_RANK] = {false};
  for (int d = 0; d < r; d++) {
    p->start[d] = 0;
    p->step[d] = 1;
    p->dims[d] = x->dims[d];
  }
  for (int i = 0; i < ns; i++) {
    int a;
    TRY(ops_norm_axis(axes[i], r, &a, err));
    if (r == 0) return err_set(err, ST_INVALID, "cannot slice a scalar");
    if (seen[a]) return err_set(err, ST_INVALID, "axis %" PRId64 " is repeated", axes[i]);
    seen[a] = true;
    int64_t d = x->dims[a], step = steps[i], s = starts[i], e = ends[i];
    if (step == 0) return err_set(err, ST_INVALID, "steps[%d] is 0", i);
    /* A step longer than any dimension takes one element; clamping it keeps
     * the arithmetic below (negation, products) in range. */
    step = clamp(step, -IR_MAX_NUMEL - 1, IR_MAX_NUMEL + 1);
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t len;
    if (d == 0) {
      s = 0;
      len = 0;
    } else if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
      len = e > s ? (e - s - 1) / step + 1 : 0; /* ceil, without overflow */
    } else {
      s = clamp(s, 0, d - 1);
      e = clamp(e, -1, d - 1);
      len = s > e ? (s - e - 1) / -step + 1 : 0;
    }
    p->start[a] = s;
    p->step[a] = step;
    p->dims[a] = len;
  }
  return ST_OK;
}

Status mv_slice_starts(const Node *n, int64_t start[IR_MAX_RANK], int64_t step[IR_MAX_RANK],
                       Error *err) {
  SliceParams p;
  TRY(slice_params(n, &p, err));
  memcpy(start, p.start, sizeof p.start);
  memcpy(step, p.step, sizeof p.step);
  return ST_OK;
}

Status shape_slice(Graph *g, Node *n, Error *err) {
  SliceParams p;
  TRY(slice_params(n, &p, err));
  return ops_set_output(n, 0, n->inputs[0]->dtype, n->inputs[0]->rank, p.dims, err);
}

#ifndef ONNXC_KERNEL_BITCODE
Status mv_map_slice(const Node *n, MvMap *m, Error *err) {
  const Value *x = n->inputs[0];
  SliceParams p;
  TRY(slice_params(n, &p, err));
  TRY(mv_map_for_output(n, m, err));
  int64_t strides[IR_MAX_RANK];
  ops_strides(x->rank, x->dims, strides);
  for (int d = 0; d < x->rank; d++)
    for (int64_t i = 0; i < m->dims[d]; i++) {
      int64_t s = p.start[d] + i * p.step[d];
      if (s < 0 || s >= x->dims[d]) {
        mv_map_free(m);
        return err_set(err, ST_INTERNAL, "slice index %lld outside axis %d", (long long)s, d);
      }
      m->table[d][i] = s * strides[d];
    }
  return ST_OK;
}
#endif

Status eval_slice(const Node *n, const void *const in[], void *const out[], Error *err) {
  const Value *x = n->inputs[0];
  if (ir_value_numel(n->outputs[0]) == 0) return ST_OK;
  SliceParams p;
  TRY(slice_params(n, &p, err));
  int64_t strides[IR_MAX_RANK], view[IR_MAX_RANK], offset = 0;
  ops_strides(x->rank, x->dims, strides);
  for (int d = 0; d < x->rank; d++) {
    offset += p.start[d] * strides[d];
    /* With one element taken the step is irrelevant (and may be huge). */
    view[d] = p.dims[d] == 1 ? 0 : p.step[d] * strides[d];
  }
  mv_copy_strided(dtype_size(x->dtype), x->rank, p.dims, in[0], offset, view, out[0]);
  return ST_OK;
}
