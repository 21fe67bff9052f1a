/*
 * fold-transposes: shortens chains of data-movement ops.  Runs after
 * fuse-epilogues (activations are single ops or already fused) and before
 * cse/dce.  Reshape/Flatten/Squeeze/Unsqueeze/Identity are free views in
 * the generated code (codegen/memplan.c) while a Transpose is a real copy,
 * so the pass turns as many Transposes as it can into views or merges them:
 *  - a chain of Transpose and view ops whose combined effect keeps the
 *    element order (checked exactly by following strides, see Layout)
 *    becomes one Reshape of the chain's input, or nothing when the shape
 *    is unchanged; this covers view chains, Transposes that only move
 *    size-1 axes and Transpose -> Reshape -> Transpose sandwiches;
 *  - Transpose(Transpose(x, p1), p2) becomes Transpose(x, p1 o p2);
 *  - Transpose -> elementwise unary op(s) -> Transposes: the first
 *    Transpose moves past the unary ops and merges into every reader.
 * Intermediates of a rewrite must be private (one reader, not a graph
 * output); the last node's result Value is kept, so output names survive.
 */
#include "pass.h"

#include <string.h>

#include "pattern_match.h"

#define MAX_CHAIN 16  /* movement ops followed back from one node */
#define MAX_ROUNDS 8  /* sweeps until nothing changes */

/* ---- strided views ------------------------------------------------------ */

/* A value seen as a strided view of the chain input's contiguous storage:
 * element (i0, i1, ..) sits at offset sum(i_k * strides[k]). */
typedef struct Layout {
  int rank;
  int64_t dims[IR_MAX_RANK];
  int64_t strides[IR_MAX_RANK];
} Layout;

/* Contiguous layout of v; false for non-static or empty values (an empty
 * tensor has no element order to reason about, and Reshape to a 0 dim
 * would mean "copy the input dim" under allowzero=0). */
static bool layout_init(Layout *l, const Value *v) {
  if (!ir_value_is_static(v) || ir_value_numel(v) <= 0) return false;
  l->rank = v->rank;
  int64_t acc = 1;
  for (int i = v->rank - 1; i >= 0; i--) {
    l->dims[i] = v->dims[i];
    l->strides[i] = acc;
    acc *= v->dims[i];
  }
  return true;
}

static void layout_transpose(Layout *l, const int *perm) {
  Layout t = *l;
  for (int i = 0; i < l->rank; i++) {
    l->dims[i] = t.dims[perm[i]];
    l->strides[i] = t.strides[perm[i]];
  }
}

/* Reshapes the view to dims without moving data, if that is possible:
 * the dims are grouped into runs with equal products on both sides, and
 * the old dims of a run must be nested (stride = next stride * next dim)
 * so that the run is one contiguous span the new dims can split again. */
static bool layout_reshape(Layout *l, int rank, const int64_t *dims) {
  int64_t od[IR_MAX_RANK], os[IR_MAX_RANK], ns[IR_MAX_RANK];
  int orank = 0;
  for (int i = 0; i < l->rank; i++)
    if (l->dims[i] != 1) {
      od[orank] = l->dims[i];
      os[orank++] = l->strides[i];
    }
  int oi = 0, ni = 0;
  while (ni < rank) {
    if (dims[ni] < 1) return false;
    if (dims[ni] == 1) {
      ns[ni++] = 0; /* a size-1 dim is never stepped along */
      continue;
    }
    if (oi >= orank) return false;
    int nstart = ni, ostart = oi;
    int64_t np = dims[ni], op = od[oi];
    while (np != op) {
      if (np < op) {
        if (++ni >= rank || dims[ni] < 1) return false;
        np *= dims[ni];
      } else {
        if (++oi >= orank) return false;
        op *= od[oi];
      }
    }
    for (int k = ostart; k < oi; k++)
      if (os[k] != os[k + 1] * od[k + 1]) return false;
    ns[ni] = os[oi];
    for (int k = ni - 1; k >= nstart; k--) ns[k] = ns[k + 1] * dims[k + 1];
    ni++;
    oi++;
  }
  if (oi != orank) return false;
  l->rank = rank;
  for (int i = 0; i < rank; i++) {
    l->dims[i] = dims[i];
    l->strides[i] = ns[i];
  }
  return true;
}

/* Row-major order of the chain input: the whole chain is a Reshape. */
static bool layout_is_contiguous(const Layout *l) {
  int64_t acc = 1;
  for (int i = l->rank - 1; i >= 0; i--) {
    if (l->dims[i] == 1) continue;
    if (l->strides[i] != acc) return false;
    acc *= l->dims[i];
  }
  return true;
}

/* ---- matching ----------------------------------------------------------- */

static bool is_view_op(OpKind op) {
  return op == OP_RESHAPE || op == OP_FLATTEN || op == OP_SQUEEZE || op == OP_UNSQUEEZE ||
         op == OP_IDENTITY;
}

/* A live one-result Transpose or view op with static data input and result. */
static bool is_movement(const Node *n) {
  if (n->dead || (n->op != OP_TRANSPOSE && !is_view_op(n->op))) return false;
  if (n->num_inputs < 1 || !n->inputs[0] || n->num_outputs < 1 || !n->outputs[0]) return false;
  return ir_value_is_static(n->inputs[0]) && ir_value_is_static(n->outputs[0]);
}

/* n's permutation for an input of rank `rank`; false if malformed. */
static bool read_perm(const Node *n, int rank, int *perm) {
  const int64_t *p;
  int count = ir_attr_ints(n, "perm", &p);
  if (rank < 0 || rank > IR_MAX_RANK) return false;
  if (count < 0) {
    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
    return true;
  }
  if (count != rank) return false;
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < rank; i++) {
    if (p[i] < 0 || p[i] >= rank || seen[p[i]]) return false;
    seen[p[i]] = true;
    perm[i] = (int)p[i];
  }
  return true;
}

/* Applies movement node n to the view; false when it cannot stay a view. */
static bool layout_apply(Layout *l, const Node *n) {
  const Value *y = n->outputs[0];
  if (n->op == OP_TRANSPOSE) {
    int perm[IR_MAX_RANK];
    if (!read_perm(n, l->rank, perm) || y->rank != l->rank) return false;
    layout_transpose(l, perm);
    return true;
  }
  return layout_reshape(l, y->rank, y->dims);
}

/* c[0] = n, then c[i+1] = the producer of c[i]'s data input while that is
 * a movement op whose result only c[i] reads.  Returns the length. */
static int collect_chain(const Graph *g, Node *n, Node **c) {
  int len = 0;
  c[len++] = n;
  while (len < MAX_CHAIN) {
    Value *in = c[len - 1]->inputs[0];
    Node *p = in->producer;
    if (!p || !is_movement(p) || p->outputs[0] != in || !pat_private(g, in)) break;
    c[len++] = p;
  }
  return len;
}

static bool same_shape(const Value *a, const Value *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

/* ---- rewrites ----------------------------------------------------------- */

/* Every use of n's result now reads x and n dies.  A graph output's name
 * moves to x; refused (false) when x is a graph input, constant or output,
 * whose name must not change. */
static bool forward_result(Graph *g, Node *n, Value *x) {
  Value *o = n->outputs[0];
  if (o->is_output) {
    if (x->is_input || ir_value_is_const(x) || x->is_output) return false;
    x->name = o->name;
  }
  ir_replace_uses(g, o, x);
  n->dead = true;
  return true;
}

/* n (kept result Value) becomes Reshape(x, explicit dims of the result). */
static Status reshape_in_place(Graph *g, Node *n, Value *x, Error *err) {
  const Value *y = n->outputs[0];
  int64_t len = y->rank;
  Value *shape = ir_const_new(g, "", DT_INT64, 1, &len, y->dims);
  if (!shape) return err_set(err, ST_NOMEM, "out of memory");
  shape->const_origin = n->name;
  Value *ins[2] = {x, shape};
  Node *r;
  return pat_replace(g, n, OP_RESHAPE, ins, 2, &r, err);
}

/* The longest chain ending at n whose element order is unchanged becomes
 * one Reshape (or nothing).  A lone view op is left alone: it is free. */
static Status fold_order_preserving(Graph *g, Node *n, bool *changed, Error *err) {
  Node *c[MAX_CHAIN];
  int len = collect_chain(g, n, c);
  for (int k = len - 1; k >= 0; k--) {
    if (k == 0 && n->op != OP_TRANSPOSE) break;
    Value *x = c[k]->inputs[0];
    Layout l;
    if (!layout_init(&l, x)) continue;
    bool ok = true;
    for (int i = k; i >= 0 && ok; i--) ok = layout_apply(&l, c[i]);
    if (!ok || !layout_is_contiguous(&l)) continue;
    if (same_shape(x, n->outputs[0])) {
      if (!forward_result(g, n, x)) continue;
    } else {
      TRY(reshape_in_place(g, n, x, err));
    }
    for (int i = 1; i <= k; i++) c[i]->dead = true;
    *changed = true;
    return ST_OK;
  }
  return ST_OK;
}

static Status set_perm(Graph *g, Node *n, const int *perm, int rank, Error *err) {
  int64_t p[IR_MAX_RANK];
  for (int i = 0; i < rank; i++) p[i] = perm[i];
  return ir_node_set_attr_ints(g, n, "perm", p, rank, err);
}

/* Transpose(Transpose(x, p1), p2) -> Transpose(x, p1[p2[i]]).  Runs after
 * fold_order_preserving, so the composition really reorders. */
static Status merge_transposes(Graph *g, Node *n, bool *changed, Error *err) {
  Value *t = n->inputs[0];
  Node *m = pat_def(t, OP_TRANSPOSE);
  if (!m || !is_movement(m) || m->outputs[0] != t || !pat_private(g, t)) return ST_OK;
  Value *x = m->inputs[0];
  int p1[IR_MAX_RANK], p2[IR_MAX_RANK], q[IR_MAX_RANK];
  if (!read_perm(m, x->rank, p1) || !read_perm(n, t->rank, p2)) return ST_OK;
  for (int i = 0; i < x->rank; i++) q[i] = p1[p2[i]];
  Value *ins[1] = {x};
  Node *r;
  TRY(pat_replace(g, n, OP_TRANSPOSE, ins, 1, &r, err));
  TRY(set_perm(g, r, q, x->rank, err));
  m->dead = true;
  *changed = true;
  return ST_OK;
}

static bool is_unary_elementwise(OpKind op) {
  switch (op) {
  case OP_ABS: case OP_CAST: case OP_CEIL: case OP_CLIP: case OP_ERF: case OP_EXP:
  case OP_FLOOR: case OP_GELU: case OP_HARD_SIGMOID: case OP_HARD_SWISH: case OP_IDENTITY:
  case OP_LEAKY_RELU: case OP_LOG: case OP_NEG: case OP_NOT: case OP_RECIPROCAL:
  case OP_RELU: case OP_SIGMOID: case OP_SQRT: case OP_TANH: case OP_SILU:
    return true;
  default:
    return false;
  }
}

/* n reads v as input 0 and applies a function elementwise: the extra
 * inputs (Clip's bounds) are scalars, so v's layout does not matter. */
static bool applies_elementwise(const Node *n, const Value *v) {
  if (n->dead || !is_unary_elementwise(n->op) || n->num_outputs != 1 || !n->outputs[0])
    return false;
  if (n->num_inputs < 1 || n->inputs[0] != v) return false;
  for (int i = 1; i < n->num_inputs; i++)
    if (n->inputs[i] && (n->inputs[i] == v || ir_value_numel(n->inputs[i]) != 1 ||
                         n->inputs[i]->rank > 0))
      return false;
  return n->outputs[0]->rank == v->rank;
}

/* Readers of v, all Transposes reading it as their data input, collected
 * into t; returns their count, or 0 if some reader is anything else or v
 * is a graph output. */
static int transpose_readers(const Graph *g, const Value *v, Node **t, int cap) {
  if (v->is_output) return 0;
  int count = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++) {
      if (n->inputs[j] != v) continue;
      if (j != 0 || n->op != OP_TRANSPOSE || !is_movement(n) || count >= cap) return 0;
      t[count++] = n;
    }
  }
  return count;
}

/* Transpose(x, p) -> U1 -> .. -> Um -> {Transpose(., q_k)} becomes
 * U1(x) -> .. -> Um -> {Transpose(., p[q_k[i]])}: the unary ops now run in
 * x's layout, and the first Transpose is gone.  Every reader of Um must be
 * a Transpose ("all users agree"), each intermediate private. */
static Status sink_transpose(Graph *g, Node *n, bool *changed, Error *err) {
  Value *x = n->inputs[0], *t = n->outputs[0];
  int p[IR_MAX_RANK];
  if (!read_perm(n, x->rank, p) || !pat_private(g, t)) return ST_OK;
  Node *u[MAX_CHAIN], *readers[MAX_CHAIN];
  int num_u = 0, num_readers = 0;
  Value *cur = t;
  while (num_u < MAX_CHAIN) {
    Node *next = pat_sole_user(g, cur);
    if (!next || !applies_elementwise(next, cur)) break;
    u[num_u++] = next;
    cur = next->outputs[0];
    if ((num_readers = transpose_readers(g, cur, readers, MAX_CHAIN)) > 0) break;
  }
  if (num_readers == 0) return ST_OK;
  for (int k = 0; k < num_readers; k++) {
    int q[IR_MAX_RANK];
    if (!read_perm(readers[k], cur->rank, q)) return ST_OK;
  }
  /* Nothing can fail past this point except allocation. */
  u[0]->inputs[0] = x;
  for (int i = 0; i < num_u; i++) {
    Value *o = u[i]->outputs[0];
    TRY(ir_value_set_type(o, o->dtype, x->rank, x->dims, err));
    if (i + 1 < num_u) u[i + 1]->inputs[0] = o;
  }
  for (int k = 0; k < num_readers; k++) {
    int q[IR_MAX_RANK], c[IR_MAX_RANK];
    read_perm(readers[k], x->rank, q);
    for (int i = 0; i < x->rank; i++) c[i] = p[q[i]];
    TRY(set_perm(g, readers[k], c, x->rank, err));
  }
  n->dead = true;
  *changed = true;
  return ST_OK;
}

Status pass_fold_transposes(Graph *g, Error *err) {
  for (int round = 0; round < MAX_ROUNDS; round++) {
    bool changed = false;
    /* pat_replace inserts the new node at index i and moves n to i + 1,
     * where it is skipped as dead. */
    for (int i = 0; i < g->num_nodes; i++) {
      Node *n = g->nodes[i];
      if (!is_movement(n)) continue;
      bool done = false;
      TRY(fold_order_preserving(g, n, &done, err));
      if (!done && n->op == OP_TRANSPOSE) TRY(merge_transposes(g, n, &done, err));
      if (!done && n->op == OP_TRANSPOSE) TRY(sink_transpose(g, n, &done, err));
      changed |= done;
    }
    TRY(ir_compact(g, err));
    if (!changed) break;
  }
  return ST_OK;
}
