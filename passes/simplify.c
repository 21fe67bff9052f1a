/*
 * simplify: removes nodes that compute nothing -- Identity, inference-mode
 * Dropout, Cast to the same dtype, Reshape/Flatten/Squeeze/Unsqueeze/Expand
 * that keep the type, Transpose by the identity permutation, single-input
 * Concat/Sum/Max/Min, and Slice/Pad that take or add nothing.  Uses of the
 * removed result are redirected to the node's data input in one forward
 * sweep (a replacement table, so chains collapse in linear time).  Graph
 * output names are part of the compiled interface: if the removed result is
 * a graph output its name moves to the replacement, unless that value is a
 * graph input, a constant or another output, in which case the node stays.
 */
#include "pass.h"

#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

static bool same_type(const Value *a, const Value *b) {
  if (!ir_value_is_static(a) || !ir_value_is_static(b)) return false;
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static const Value *input(const Node *n, int i) {
  return i < n->num_inputs ? n->inputs[i] : NULL;
}

static bool dropout_is_identity(const Graph *g, const Node *n) {
  const Value *mask = n->num_outputs > 1 ? n->outputs[1] : NULL;
  if (mask && ir_use_count(g, mask) > 0) return false;
  return ops_dropout_is_identity(n, NULL);
}

static bool transpose_is_identity(const Node *n) {
  const int64_t *perm;
  int count = ir_attr_ints(n, "perm", &perm);
  if (count < 0) return n->inputs[0]->rank <= 1; /* default perm reverses the axes */
  for (int i = 0; i < count; i++)
    if (perm[i] != i) return false;
  return true;
}

/* Same shape with positive steps can only mean start 0, step 1 on every
 * axis (or dims of size <= 1): the whole input in order.  A negative step
 * with the same shape reverses, so it must stay. */
static bool slice_is_identity(const Node *n) {
  const Value *steps = input(n, 4);
  if (!steps) return true;
  int64_t s[IR_MAX_RANK];
  int count;
  if (ops_const_ints(steps, "steps", s, IR_MAX_RANK, &count, NULL) != ST_OK) return false;
  for (int i = 0; i < count; i++)
    if (s[i] <= 0) return false;
  return true;
}

/* Pads like [1, -1] keep the shape but shift the data: require all zeros. */
static bool pad_is_identity(const Node *n) {
  int64_t p[2 * IR_MAX_RANK];
  int count;
  if (ops_const_ints(input(n, 1), "pads", p, 2 * IR_MAX_RANK, &count, NULL) != ST_OK)
    return false;
  for (int i = 0; i < count; i++)
    if (p[i] != 0) return false;
  return true;
}

/* The value n's result can be replaced by, or NULL if n does real work. */
static Value *replacement(const Graph *g, const Node *n) {
  if (n->num_inputs < 1 || !n->inputs[0] || n->num_outputs < 1 || !n->outputs[0]) return NULL;
  if (!same_type(n->inputs[0], n->outputs[0])) return NULL;
  bool drop = false;
  switch (n->op) {
  case OP_IDENTITY:
  case OP_CAST:
  case OP_RESHAPE:
  case OP_FLATTEN:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
  case OP_EXPAND:
    drop = true;
    break;
  case OP_DROPOUT: drop = dropout_is_identity(g, n); break;
  case OP_TRANSPOSE: drop = transpose_is_identity(n); break;
  case OP_CONCAT:
  case OP_SUM:
  case OP_MAX:
  case OP_MIN:
    drop = n->num_inputs == 1;
    break;
  case OP_SLICE: drop = slice_is_identity(n); break;
  case OP_PAD: drop = pad_is_identity(n); break;
  default: break;
  }
  return drop ? n->inputs[0] : NULL;
}

static void rename_output(Graph *g, Value *from, Value *to) {
  to->name = from->name;
  for (int i = 0; i < g->num_outputs; i++)
    if (g->outputs[i] == from) g->outputs[i] = to;
  from->is_output = false;
  to->is_output = true;
}

Status pass_simplify(Graph *g, Error *err) {
  for (int i = 0; i < g->num_values; i++) g->values[i]->id = i;
  Value **repl = calloc((size_t)g->num_values + 1, sizeof *repl);
  if (!repl) return err_set(err, ST_NOMEM, "out of memory");
  Status st = ST_OK;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++) {
      Value *v = n->inputs[j];
      if (!v) continue;
      if (v->id < 0 || v->id >= g->num_values || g->values[v->id] != v) {
        st = ir_node_error(err, ST_INTERNAL, g, n, "input %d ('%s') is not in the graph", j,
                           v->name);
        goto out;
      }
      if (repl[v->id]) n->inputs[j] = repl[v->id];
    }
    Value *r = replacement(g, n);
    if (!r) continue;
    Value *o = n->outputs[0];
    if (o->id < 0 || o->id >= g->num_values || g->values[o->id] != o) continue;
    if (o->is_output) {
      if (r->is_input || ir_value_is_const(r) || r->is_output) continue;
      rename_output(g, o, r);
    }
    repl[o->id] = r;
    n->dead = true;
  }
  st = ir_compact(g, err);
out:
  free(repl);
  return st;
}
