/*
 * Matching helpers for the rewrite passes (see pattern_match.h).  Use counts are
 * computed by scanning the graph on demand: the passes only ask about the
 * few values of a candidate pattern, and the models are a few thousand
 * nodes at most, so this stays simple rather than maintaining an index
 * through every mutation.
 */
#include "pattern_match.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>

Node *pat_def(const Value *v, OpKind op) {
  if (!v || !v->producer || v->producer->dead || v->producer->op != op) return NULL;
  return v->producer;
}

bool pat_private(const Graph *g, const Value *v) {
  return v && !v->is_output && !v->is_input && !ir_value_is_const(v) && ir_use_count(g, v) == 1;
}

Node *pat_sole_user(const Graph *g, const Value *v) {
  if (!pat_private(g, v)) return NULL;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j] == v) return n;
  }
  return NULL;
}

bool pat_scalar(const Value *v, double *out) {
  if (!ir_value_is_const(v) || !dtype_is_float(v->dtype) || ir_value_numel(v) != 1) return false;
  *out = dtype_load_f64(v->dtype, v->data, 0);
  return true;
}

bool pat_scalar_is(const Value *v, double want, double tol) {
  double x;
  if (!pat_scalar(v, &x)) return false;
  double scale = fabs(want) > 1 ? fabs(want) : 1;
  return fabs(x - want) <= tol * scale;
}

Value *pat_other(const Node *n, const Value *v) {
  if (n->num_inputs != 2) return NULL;
  if (n->inputs[0] == v) return n->inputs[1];
  if (n->inputs[1] == v) return n->inputs[0];
  return NULL;
}

Value *pat_in(const Node *n, int i) { return i >= 0 && i < n->num_inputs ? n->inputs[i] : NULL; }

void pat_move_before(Graph *g, Node *n, const Node *at) {
  int from = -1, to = -1;
  for (int i = 0; i < g->num_nodes; i++) {
    if (g->nodes[i] == n) from = i;
    if (g->nodes[i] == at) to = i;
  }
  if (from < 0 || to < 0 || from == to) return;
  if (from > to) {
    memmove(g->nodes + to + 1, g->nodes + to, (size_t)(from - to) * sizeof *g->nodes);
    g->nodes[to] = n;
  } else {
    /* n moves later: it lands just before `at`, which shifts down by one. */
    memmove(g->nodes + from, g->nodes + from + 1, (size_t)(to - 1 - from) * sizeof *g->nodes);
    g->nodes[to - 1] = n;
  }
  for (int i = 0; i < g->num_nodes; i++) g->nodes[i]->id = i;
}

Status pat_resize_inputs(Graph *g, Node *n, int count, Error *err) {
  if (count <= n->num_inputs) {
    n->num_inputs = count;
    return ST_OK;
  }
  Value **in = arena_calloc(g->arena, (size_t)count, sizeof *in);
  if (!in) return err_set(err, ST_NOMEM, "out of memory");
  for (int i = 0; i < n->num_inputs; i++) in[i] = n->inputs[i];
  n->inputs = in;
  n->num_inputs = count;
  return ST_OK;
}

Value *pat_const_from_f64(Graph *g, const char *origin, DType dt, int rank, const int64_t *dims,
                          const double *data) {
  Value *v = ir_const_new(g, "", dt, rank, dims, NULL);
  if (!v) return NULL;
  int64_t count = ir_value_numel(v);
  for (int64_t i = 0; i < count; i++) dtype_store_f64(dt, v->data, (size_t)i, data[i], false);
  v->const_origin = arena_strdup(g->arena, origin ? origin : "");
  if (!v->const_origin) return NULL;
  return v;
}

double *pat_load_f64(const Value *v) {
  if (!ir_value_is_const(v) || !dtype_is_float(v->dtype)) return NULL;
  int64_t count = ir_value_numel(v);
  if (count < 0 || count > IR_MAX_NUMEL) return NULL;
  double *d = malloc(count > 0 ? (size_t)count * sizeof *d : 1);
  if (!d) return NULL;
  for (int64_t i = 0; i < count; i++) d[i] = dtype_load_f64(v->dtype, v->data, (size_t)i);
  return d;
}

Status pat_replace(Graph *g, Node *last, OpKind op, Value *const *inputs, int num_inputs,
                   Node **out, Error *err) {
  Node *n = ir_node_new(g, op, last->name, num_inputs, 1);
  if (!n) return err_set(err, ST_NOMEM, "out of memory");
  n->opset = last->opset;
  for (int i = 0; i < num_inputs; i++) n->inputs[i] = inputs[i];
  ir_node_set_output(n, 0, last->outputs[0]);
  last->dead = true;
  pat_move_before(g, n, last);
  *out = n;
  return ST_OK;
}
