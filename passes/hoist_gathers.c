/*
 * hoist-gathers: a Gather of a few constant indices moves above the ops
 * that produce its data, when those ops compute each gathered slice from
 * the same slice of their inputs (a Slice that narrows one axis to a few
 * elements counts as the Gather of them).  ViT, DeiT, T2T-ViT and ViTAE classify
 * from the class token alone (`x[:, 0]` after the last block), so the last
 * block's MLP, projection, LayerNorms and residual adds need one row of
 * 197, and its attention one query row: an interpreter computes all of
 * them.  The Gather climbs through
 *   - elementwise ops and FusedElementwise (operands that broadcast along
 *     the axis are read whole),
 *   - LayerNormalization over later axes,
 *   - MatMul / FusedMatMul along a row or batch axis of A (a 2-D B is
 *     read whole; bias and residual follow the elementwise rule),
 *   - Attention along its query rows (K and V whole) or a batch/head axis,
 *   - Transpose, and Reshape that keeps the axis (equal products before
 *     and after it),
 * and stops where a value has other readers.  The Gathers of one value
 * are first merged into one Gather of the union of their indices (the two
 * class tokens of DeiT), so the climb continues past a fork whose every
 * branch gathers.  Every step leaves strictly fewer elements to compute;
 * the result is bit-identical, as every op keeps its per-element formula.
 */
#include "pass.h"

#include <stdlib.h>
#include <string.h>

#include "../ops/movement.h"
#include "../ops/ops.h"
#include "pattern_match.h"

#define HOIST_MAX_INDICES 64 /* a Gather of more indices is left alone, and one of */
                             /* more than half of its axis */
#define HOIST_MAX_ROUNDS 256 /* each round moves every eligible Gather one op */

/* ---- reading Gathers ---------------------------------------------------- */

typedef struct Picked {
  int axis;                         /* normalized, in the data's rank */
  int count;                        /* number of indices */
  bool scalar;                      /* rank-0 indices: the axis disappears */
  bool slice;                       /* a Slice (on one axis), not a Gather */
  int64_t idx[HOIST_MAX_INDICES];   /* normalized to [0, dim) */
} Picked;

/* n is a live Gather of constant integer indices (rank 0 or 1, at most
 * HOIST_MAX_INDICES, all in range) on static data. */
static bool read_gather(const Node *n, Picked *p) {
  if (n->dead || n->op != OP_GATHER || n->num_inputs != 2 || !n->outputs[0]) return false;
  const Value *x = n->inputs[0], *ind = n->inputs[1];
  if (!x || !ind || !ir_value_is_static(x) || !ir_value_is_const(ind) || ind->rank > 1) return false;
  if (ind->dtype != DT_INT64 && ind->dtype != DT_INT32) return false;
  int64_t axis = ir_attr_int(n, "axis", 0);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis >= x->rank) return false;
  int64_t count = ir_value_numel(ind), dim = x->dims[axis];
  if (count < 1 || count > HOIST_MAX_INDICES) return false;
  p->axis = (int)axis;
  p->count = (int)count;
  p->scalar = ind->rank == 0;
  p->slice = false;
  for (int i = 0; i < p->count; i++) {
    int64_t v = ind->dtype == DT_INT64 ? ((const int64_t *)ind->data)[i]
                                       : ((const int32_t *)ind->data)[i];
    if (v < 0) v += dim;
    if (v < 0 || v >= dim) return false;
    p->idx[i] = v;
  }
  return true;
}

/* n is a live Slice of static data that narrows one axis to at most
 * HOIST_MAX_INDICES elements and takes every other axis whole (`x[:, :1]`,
 * or `x[:, 0:1]` before a Squeeze): the same rows as a Gather of
 * start + i * step. */
static bool read_slice(const Node *n, Picked *p) {
  if (n->dead || n->op != OP_SLICE || n->num_inputs < 3 || !n->outputs[0]) return false;
  const Value *x = n->inputs[0], *y = n->outputs[0];
  if (!x || !ir_value_is_static(x) || !ir_value_is_static(y) || y->rank != x->rank) return false;
  for (int i = 1; i < n->num_inputs; i++)
    if (n->inputs[i] && !ir_value_is_const(n->inputs[i])) return false;
  int64_t start[IR_MAX_RANK], step[IR_MAX_RANK];
  Error err = {0};
  if (mv_slice_starts(n, start, step, &err) != ST_OK) return false;
  int axis = -1;
  for (int a = 0; a < x->rank; a++) {
    if (y->dims[a] == x->dims[a] && start[a] == 0 && (step[a] == 1 || x->dims[a] == 1)) continue;
    if (axis >= 0) return false;
    axis = a;
  }
  if (axis < 0 || y->dims[axis] < 1 || y->dims[axis] > HOIST_MAX_INDICES) return false;
  p->axis = axis;
  p->count = (int)y->dims[axis];
  p->scalar = false;
  p->slice = true;
  for (int i = 0; i < p->count; i++) {
    p->idx[i] = start[axis] + i * step[axis];
    if (p->idx[i] < 0 || p->idx[i] >= x->dims[axis]) return false;
  }
  return true;
}

static bool read_pick(const Node *n, Picked *p) {
  return n->op == OP_SLICE ? read_slice(n, p) : read_gather(n, p);
}

/* Strictly increasing 1-D indices, at most half of the axis: the form a
 * Gather climbs in (merge_readers makes it). */
static bool is_canonical(const Picked *p, int64_t dim) {
  if (p->scalar || p->slice || 2 * (int64_t)p->count > dim) return false;
  for (int i = 1; i < p->count; i++)
    if (p->idx[i] <= p->idx[i - 1]) return false;
  return true;
}

static Value *index_const(Graph *g, const Node *origin, const int64_t *idx, int count, bool scalar) {
  int64_t len = count;
  Value *c = ir_const_new(g, "", DT_INT64, scalar ? 0 : 1, &len, idx);
  if (c) c->const_origin = origin->name;
  return c;
}

/* A new Gather(x, idx, axis) placed before `at`, its type inferred. */
static Status new_gather(Graph *g, Value *x, const int64_t *idx, int count, bool scalar, int axis,
                         const Node *at, Value **out, Error *err) {
  Value *ind = index_const(g, at, idx, count, scalar);
  Value *y = ir_value_new(g, "");
  Node *n = ind && y ? ir_node_new(g, OP_GATHER, at->name, 2, 1) : NULL;
  if (!n) return err_set(err, ST_NOMEM, "out of memory");
  n->opset = at->opset;
  n->inputs[0] = x;
  n->inputs[1] = ind;
  ir_node_set_output(n, 0, y);
  TRY(ir_node_set_attr_int(g, n, "axis", axis, err));
  pat_move_before(g, n, at);
  TRY(ops_infer_node(g, n, err));
  if (ir_value_is_const(x)) TRY(pass_fold_node(g, n, err));
  *out = y;
  return ST_OK;
}

/* ---- where the axis goes through a producer ----------------------------- */

static bool is_elementwise(OpKind op) {
  switch (op) {
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_POW: case OP_MAX: case OP_MIN:
  case OP_WHERE: case OP_FUSED_ELEMENTWISE: case OP_ABS: case OP_CAST: case OP_CEIL:
  case OP_CLIP: case OP_ERF: case OP_EXP: case OP_FLOOR: case OP_GELU: case OP_HARD_SIGMOID:
  case OP_HARD_SWISH: case OP_IDENTITY: case OP_LEAKY_RELU: case OP_LOG: case OP_NEG:
  case OP_NOT: case OP_RECIPROCAL: case OP_RELU: case OP_SIGMOID: case OP_SQRT: case OP_TANH:
  case OP_SILU:
    return true;
  default:
    return false;
  }
}

/* Axis of input v (numpy broadcasting against the output's rank) that
 * output axis a reads, or -1 when v is read whole along it. */
static int broadcast_axis(const Value *v, const Value *out, int a) {
  if (!v) return -1;
  int b = a - (out->rank - v->rank);
  if (b < 0 || v->dims[b] == 1) return -1;
  return b;
}

/* Input axis of Reshape x -> y that output axis a is, or -1: the dims
 * before it have equal products on both sides and it keeps its size. */
static int reshape_axis(const Value *x, const Value *y, int a) {
  int64_t before = 1;
  for (int i = 0; i < a; i++) before *= y->dims[i];
  int64_t acc = 1;
  for (int b = 0; b < x->rank; b++) {
    if (acc == before && x->dims[b] == y->dims[a]) return b;
    acc *= x->dims[b];
    if (acc > before) return -1;
  }
  return -1;
}

/* The outputs past the first are absent or unread. */
static bool only_first_output(const Graph *g, const Node *p) {
  for (int i = 1; i < p->num_outputs; i++) {
    const Value *o = p->outputs[i];
    if (o && (o->is_output || ir_use_count(g, o) > 0)) return false;
  }
  return true;
}

/* For each input of p, the axis to gather along so that p's output axis a
 * is gathered (-1: the input is read whole).  False when p does not
 * compute slices of axis a independently. */
static bool input_axes(const Graph *g, const Node *p, int a, int *axes) {
  const Value *y = p->outputs[0];
  if (p->num_inputs > IR_MAX_RANK * 2) return false;
  for (int i = 0; i < p->num_inputs; i++) {
    axes[i] = -1;
    if (p->inputs[i] && !ir_value_is_static(p->inputs[i])) return false;
  }
  if (!only_first_output(g, p)) return false;
  int r = y->rank;
  if (is_elementwise(p->op)) {
    for (int i = 0; i < p->num_inputs; i++) {
      if (p->inputs[i] && p->inputs[i]->rank > r) return false;
      axes[i] = broadcast_axis(p->inputs[i], y, a);
    }
    return true;
  }
  switch (p->op) {
  case OP_LAYER_NORMALIZATION: {
    int64_t axis = ir_attr_int(p, "axis", -1);
    if (axis < 0) axis += r;
    if (a >= axis) return false;
    axes[0] = a;
    return true;
  }
  case OP_MATMUL:
  case OP_FUSED_MATMUL: {
    const Value *A = p->inputs[0], *B = p->inputs[1];
    if (A->rank < 2 || B->rank < 2 || a >= r - 1) return false;
    if (a == r - 2) {
      axes[0] = A->rank - 2;
    } else {
      axes[0] = broadcast_axis(A, y, a);
      axes[1] = broadcast_axis(B, y, a);
    }
    if (p->op == OP_FUSED_MATMUL && p->num_inputs > 3) axes[3] = broadcast_axis(p->inputs[3], y, a);
    return true;
  }
  case OP_ATTENTION: {
    if (a >= r - 1) return false;
    axes[0] = a;
    if (a < r - 2) axes[1] = axes[2] = a;
    if (p->num_inputs > 3) axes[3] = broadcast_axis(p->inputs[3], y, a);
    return true;
  }
  case OP_TRANSPOSE: {
    const int64_t *perm;
    int count = ir_attr_ints(p, "perm", &perm);
    if (count < 0) {
      axes[0] = r - 1 - a;
      return true;
    }
    if (count != r || perm[a] < 0 || perm[a] >= r) return false;
    axes[0] = (int)perm[a];
    return true;
  }
  case OP_RESHAPE:
    axes[0] = reshape_axis(p->inputs[0], y, a);
    return axes[0] >= 0 && ir_value_is_const(p->inputs[1]);
  default:
    return false;
  }
}

/* Moving a Gather above a Transpose or Reshape saves nothing by itself:
 * only when the chain of them (each result read once) ends at an op that
 * computes slices of the axis independently. */
static bool leads_to_work(const Graph *g, const Node *p, int a) {
  int axes[IR_MAX_RANK * 2];
  for (int steps = 0; steps < 64; steps++) {
    if (!input_axes(g, p, a, axes)) return false;
    if (p->op != OP_TRANSPOSE && p->op != OP_RESHAPE) return true;
    const Value *in = p->inputs[0];
    const Node *q = in->producer;
    if (!q || q->dead || q->outputs[0] != in || in->is_output || ir_use_count(g, in) != 1)
      return false;
    p = q;
    a = axes[0];
  }
  return false;
}

/* ---- rewrites ------------------------------------------------------------ */

/* Every reader of x, when all are Gathers of constant indices along one
 * axis (x read only as their data); their number, or 0. */
static int gather_readers(const Graph *g, const Value *x, Node **readers, int cap, Picked *picks) {
  if (x->is_output) return 0;
  int count = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++) {
      if (n->inputs[j] != x) continue;
      if (j != 0 || count >= cap || !read_pick(n, &picks[count])) return 0;
      if (count > 0 && picks[count].axis != picks[0].axis) return 0;
      readers[count++] = n;
    }
  }
  return count;
}

/* The readers of x (all Gathers along one axis) become Gathers of one new
 * x' = Gather(x, union of their indices): x' is x's only reader and the
 * one that climbs.  False when the union is the whole axis. */
static Status merge_readers(Graph *g, Value *x, Node **readers, Picked *picks, int count,
                            bool *changed, Error *err) {
  int axis = picks[0].axis;
  int64_t dim = x->dims[axis];
  /* Insertion into a sorted set: at most HOIST_MAX_INDICES kept. */
  int64_t uni[HOIST_MAX_INDICES];
  int nuni = 0;
  for (int r = 0; r < count; r++)
    for (int i = 0; i < picks[r].count; i++) {
      int64_t v = picks[r].idx[i];
      int at = 0;
      while (at < nuni && uni[at] < v) at++;
      if (at < nuni && uni[at] == v) continue;
      if (nuni == HOIST_MAX_INDICES) return ST_OK;
      memmove(uni + at + 1, uni + at, sizeof(int64_t) * (size_t)(nuni - at));
      uni[at] = v;
      nuni++;
    }
  /* The climb pays for the copy of the picked rows at its top only when
   * it skips at least as many as it keeps. */
  if (2 * (int64_t)nuni > dim) return ST_OK;
  if (count == 1 && is_canonical(&picks[0], dim)) return ST_OK;
  Node *first = readers[0];
  for (int r = 1; r < count; r++)
    if (readers[r]->id < first->id) first = readers[r];
  Value *merged;
  TRY(new_gather(g, x, uni, nuni, false, axis, first, &merged, err));
  for (int r = 0; r < count; r++) {
    int64_t local[HOIST_MAX_INDICES];
    for (int i = 0; i < picks[r].count; i++) {
      int k = 0;
      while (uni[k] != picks[r].idx[i]) k++;
      local[i] = k;
    }
    Node *n = readers[r];
    bool identity = !picks[r].scalar && picks[r].count == nuni;
    for (int i = 0; identity && i < nuni; i++) identity = local[i] == i;
    if (identity && !n->outputs[0]->is_output) {
      ir_replace_uses(g, n->outputs[0], merged);
      n->dead = true;
      continue;
    }
    Value *ind = index_const(g, n, local, picks[r].count, picks[r].scalar);
    if (!ind) return err_set(err, ST_NOMEM, "out of memory");
    if (picks[r].slice) { /* the Slice becomes the Gather of its rows */
      Value *ins[2] = {merged, ind};
      TRY(pat_replace(g, n, OP_GATHER, ins, 2, &n, err));
      TRY(ir_node_set_attr_int(g, n, "axis", axis, err));
    } else {
      n->inputs[0] = merged;
      n->inputs[1] = ind;
    }
    TRY(ops_infer_node(g, n, err));
  }
  *changed = true;
  return ST_OK;
}

/* gather = Gather(y, idx) (canonical) is y's only reader and p = y's
 * producer computes slices independently: p now reads the gathered slices
 * of its inputs, and gather goes away.  The new Gathers are candidates in
 * the next round. */
static Status climb(Graph *g, Node *gather, const Picked *pk, bool *changed, Error *err) {
  Value *y = gather->inputs[0];
  Node *p = y->producer;
  if (!p || p->dead || p->outputs[0] != y || gather->outputs[0]->is_output) return ST_OK;
  int axes[IR_MAX_RANK * 2];
  if (!input_axes(g, p, pk->axis, axes)) return ST_OK;
  for (int i = 0; i < p->num_inputs; i++)
    if (axes[i] >= 0 && p->inputs[i]->dims[axes[i]] != y->dims[pk->axis]) return ST_OK;
  for (int i = 0; i < p->num_inputs; i++) {
    if (axes[i] < 0) continue;
    Value *sliced;
    TRY(new_gather(g, p->inputs[i], pk->idx, pk->count, false, axes[i], p, &sliced, err));
    p->inputs[i] = sliced;
  }
  if (p->op == OP_RESHAPE) {
    int64_t dims[IR_MAX_RANK], len = y->rank;
    memcpy(dims, y->dims, sizeof(int64_t) * (size_t)y->rank);
    dims[pk->axis] = pk->count;
    Value *shape = ir_const_new(g, "", DT_INT64, 1, &len, dims);
    if (!shape) return err_set(err, ST_NOMEM, "out of memory");
    shape->const_origin = p->name;
    p->inputs[1] = shape;
    ir_node_remove_attr(p, "allowzero");
  }
  TRY(ops_infer_node(g, p, err));
  ir_replace_uses(g, gather->outputs[0], y);
  gather->dead = true;
  *changed = true;
  return ST_OK;
}

static Status hoist_one(Graph *g, Node *n, bool *changed, Error *err) {
  Picked pk;
  if (!read_pick(n, &pk)) return ST_OK;
  Value *x = n->inputs[0];
  Node *p = x->producer;
  int axes[IR_MAX_RANK * 2];
  if (!p || p->dead || p->outputs[0] != x || x->is_output || !input_axes(g, p, pk.axis, axes) ||
      !leads_to_work(g, p, pk.axis))
    return ST_OK;
  Node *readers[HOIST_MAX_INDICES];
  Picked *picks = malloc(sizeof(Picked) * HOIST_MAX_INDICES);
  if (!picks) return err_set(err, ST_NOMEM, "out of memory");
  int count = gather_readers(g, x, readers, HOIST_MAX_INDICES, picks);
  Status s = ST_OK;
  if (count == 1 && is_canonical(&picks[0], x->dims[pk.axis]))
    s = climb(g, n, &pk, changed, err);
  else if (count > 0)
    s = merge_readers(g, x, readers, picks, count, changed, err);
  free(picks);
  return s;
}

Status pass_hoist_gathers(Graph *g, Error *err) {
  Status s = ST_OK;
  for (int round = 0; round < HOIST_MAX_ROUNDS && s == ST_OK; round++) {
    /* The Gathers of this round; those a rewrite creates move in the next. */
    int count = 0;
    for (int i = 0; i < g->num_nodes; i++)
      count += g->nodes[i]->op == OP_GATHER || g->nodes[i]->op == OP_SLICE;
    if (count == 0) break;
    Node **todo = malloc(sizeof *todo * (size_t)count);
    if (!todo) return err_set(err, ST_NOMEM, "out of memory");
    count = 0;
    for (int i = 0; i < g->num_nodes; i++)
      if ((g->nodes[i]->op == OP_GATHER || g->nodes[i]->op == OP_SLICE) && !g->nodes[i]->dead)
        todo[count++] = g->nodes[i];
    bool changed = false;
    for (int i = count - 1; i >= 0 && s == ST_OK; i--) {
      bool done = false;
      s = hoist_one(g, todo[i], &done, err);
      changed |= done;
    }
    free(todo);
    if (s == ST_OK) s = ir_compact(g, err);
    if (!changed) break;
  }
  return s;
}
