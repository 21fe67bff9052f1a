/*
 * The IR verifier (see verify.h): checks the invariants every pass must keep
 * and names the offending node in the error.  The pass manager runs it after
 * every pass with --verify-each (default in debug builds).  Structure first
 * (op, arity, value bookkeeping, topological order, single definition,
 * producer pointers, graph inputs/outputs), then, once types are required,
 * static types and agreement with each op's shape rule: a pass that rewrites
 * a node must leave types that the rule itself would compute.
 * The shape rules live in ops/ (op_shape_fn); this file is the one place in
 * ir/ that calls into them.
 */
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

static bool in_graph(const Graph *g, const Value *v) {
  return v->id >= 0 && v->id < g->num_values && g->values[v->id] == v;
}

static Status check_arity(const Graph *g, const Node *n, Error *err) {
  if ((unsigned)n->op >= OP_COUNT)
    return ir_node_error(err, ST_INTERNAL, g, n, "op kind %d is not in the op table", (int)n->op);
  const OpInfo *info = &op_info[n->op];
  if (n->num_inputs < info->min_in || (info->max_in >= 0 && n->num_inputs > info->max_in))
    return ir_node_error(err, ST_INVALID, g, n, "has %d inputs, expected %d to %d",
                         n->num_inputs, info->min_in, info->max_in);
  for (int i = 0; i < info->min_in; i++)
    if (!n->inputs[i])
      return ir_node_error(err, ST_INVALID, g, n, "required input %d is missing", i);
  if (n->num_outputs < info->min_out || (info->max_out >= 0 && n->num_outputs > info->max_out))
    return ir_node_error(err, ST_INVALID, g, n, "has %d outputs, expected %d to %d",
                         n->num_outputs, info->min_out, info->max_out);
  for (int i = 0; i < info->min_out; i++)
    if (!n->outputs[i])
      return ir_node_error(err, ST_INVALID, g, n, "required output %d is missing", i);
  return ST_OK;
}

/* Every input/output of n is a Value of this graph (so its id indexes arrays). */
static Status check_membership(const Graph *g, const Node *n, Error *err) {
  for (int j = 0; j < n->num_inputs; j++)
    if (n->inputs[j] && !in_graph(g, n->inputs[j]))
      return ir_node_error(err, ST_INTERNAL, g, n, "input %d ('%s') is not a value of the graph",
                           j, n->inputs[j]->name);
  for (int j = 0; j < n->num_outputs; j++)
    if (n->outputs[j] && !in_graph(g, n->outputs[j]))
      return ir_node_error(err, ST_INTERNAL, g, n, "output %d ('%s') is not a value of the graph",
                           j, n->outputs[j]->name);
  return ST_OK;
}

/* Values, nodes, order.  def[id] = index of the node defining value id. */
static Status check_structure(const Graph *g, int *def, Error *err) {
  for (int i = 0; i < g->num_values; i++) {
    if (!g->values[i]) return err_set(err, ST_INTERNAL, "%s: value slot %d is empty", g->source, i);
    if (g->values[i]->id != i)
      return err_set(err, ST_INTERNAL, "%s: value '%s' has id %d but is value %d", g->source,
                     g->values[i]->name, g->values[i]->id, i);
    def[i] = -1;
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead)
      return ir_node_error(err, ST_INTERNAL, g, n, "dead node left in the graph (no ir_compact)");
    TRY(check_arity(g, n, err));
    TRY(check_membership(g, n, err));
    for (int j = 0; j < n->num_outputs; j++) {
      const Value *o = n->outputs[j];
      if (!o) continue;
      if (def[o->id] >= 0)
        return ir_node_error(err, ST_INVALID, g, n, "output %d ('%s') is already defined by "
                             "node \"%s\"", j, o->name, g->nodes[def[o->id]]->name);
      if (o->is_input || ir_value_is_const(o))
        return ir_node_error(err, ST_INVALID, g, n, "output %d ('%s') is also a graph input or "
                             "a constant", j, o->name);
      if (o->producer != n)
        return ir_node_error(err, ST_INTERNAL, g, n, "output %d ('%s') does not point back at "
                             "this node as its producer", j, o->name);
      def[o->id] = i;
    }
  }
  /* Second sweep: with every definition known, tell "later" from "never". */
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++) {
      const Value *v = n->inputs[j];
      if (!v || v->is_input || ir_value_is_const(v)) continue;
      if (def[v->id] < 0)
        return ir_node_error(err, ST_INVALID, g, n, "input %d ('%s') is not defined by any "
                             "node, constant or graph input", j, v->name);
      if (def[v->id] >= i)
        return ir_node_error(err, ST_INTERNAL, g, n, "input %d ('%s') is used before node "
                             "\"%s\" defines it (nodes are not in topological order)", j,
                             v->name, g->nodes[def[v->id]]->name);
    }
  }
  return ST_OK;
}

static Status check_values(const Graph *g, const int *def, Error *err) {
  for (int i = 0; i < g->num_values; i++) {
    const Value *v = g->values[i];
    if (v->producer && (def[i] < 0 || g->nodes[def[i]] != v->producer))
      return err_set(err, ST_INTERNAL, "%s: value '%s' names a producer node that does not "
                     "define it", g->source, v->name);
    if (ir_value_is_const(v) && !ir_value_is_static(v))
      return err_set(err, ST_INTERNAL, "%s: constant '%s' has no static type", g->source,
                     v->name);
    bool listed_in = false, listed_out = false;
    for (int k = 0; k < g->num_inputs; k++) listed_in |= g->inputs[k] == v;
    for (int k = 0; k < g->num_outputs; k++) listed_out |= g->outputs[k] == v;
    if (listed_in != v->is_input || listed_out != v->is_output)
      return err_set(err, ST_INTERNAL, "%s: value '%s' has is_input/is_output flags that "
                     "disagree with the graph's input/output lists", g->source, v->name);
  }
  for (int k = 0; k < g->num_inputs; k++) {
    const Value *v = g->inputs[k];
    if (!v || !in_graph(g, v))
      return err_set(err, ST_INTERNAL, "%s: graph input %d is not a value of the graph",
                     g->source, k);
    if (v->producer || ir_value_is_const(v))
      return err_set(err, ST_INVALID, "%s: graph input '%s' is also computed or constant",
                     g->source, v->name);
  }
  for (int k = 0; k < g->num_outputs; k++) {
    const Value *v = g->outputs[k];
    if (!v || !in_graph(g, v))
      return err_set(err, ST_INTERNAL, "%s: graph output %d is not a value of the graph",
                     g->source, k);
    if (!v->is_input && !ir_value_is_const(v) && def[v->id] < 0)
      return err_set(err, ST_INVALID, "%s: graph output '%s' is never defined", g->source,
                     v->name);
  }
  return ST_OK;
}

static bool same_type(const Value *a, const Value *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

typedef struct SavedType {
  DType dtype;
  int rank;
  int64_t dims[IR_MAX_RANK];
} SavedType;

/* Re-runs n's shape rule and compares with the types it has; restores them. */
static Status check_shape_rule(Graph *g, Node *n, Error *err) {
  SavedType *saved = calloc((size_t)n->num_outputs + 1, sizeof *saved);
  if (!saved) return err_set(err, ST_NOMEM, "out of memory");
  for (int j = 0; j < n->num_outputs; j++) {
    const Value *o = n->outputs[j];
    if (!o) continue;
    saved[j].dtype = o->dtype;
    saved[j].rank = o->rank;
    memcpy(saved[j].dims, o->dims, sizeof o->dims);
  }
  Status st = op_shape_fn[n->op](g, n, err);
  if (st != ST_OK) {
    ir_node_wrap_error(err, g, n);
    err_prefix(err, "the shape rule rejects a node of the verified graph");
  }
  for (int j = 0; j < n->num_outputs && st == ST_OK; j++) {
    Value *o = n->outputs[j];
    if (!o) continue;
    Value want = {.dtype = saved[j].dtype, .rank = saved[j].rank};
    memcpy(want.dims, saved[j].dims, sizeof want.dims);
    if (!same_type(o, &want)) {
      char have_s[256], rule_s[256];
      ir_type_str(&want, have_s, sizeof have_s);
      ir_type_str(o, rule_s, sizeof rule_s);
      st = ir_node_error(err, ST_INTERNAL, g, n, "output %d ('%s') is %s but the shape rule "
                         "gives %s", j, o->name, have_s, rule_s);
    }
  }
  for (int j = 0; j < n->num_outputs; j++) {
    Value *o = n->outputs[j];
    if (!o) continue;
    o->dtype = saved[j].dtype;
    o->rank = saved[j].rank;
    memcpy(o->dims, saved[j].dims, sizeof o->dims);
  }
  free(saved);
  return st;
}

static Status check_types(Graph *g, Error *err) {
  char buf[256];
  for (int k = 0; k < g->num_inputs; k++)
    if (!ir_value_is_static(g->inputs[k]))
      return err_set(err, ST_SHAPE, "%s: graph input '%s' has no static type (%s)", g->source,
                     g->inputs[k]->name, ir_type_str(g->inputs[k], buf, sizeof buf));
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j] && !ir_value_is_static(n->inputs[j]))
        return ir_node_error(err, ST_SHAPE, g, n, "input %d ('%s') has no static type (%s)", j,
                             n->inputs[j]->name, ir_type_str(n->inputs[j], buf, sizeof buf));
    for (int j = 0; j < n->num_outputs; j++)
      if (n->outputs[j] && !ir_value_is_static(n->outputs[j]))
        return ir_node_error(err, ST_SHAPE, g, n, "output %d ('%s') has no static type (%s)", j,
                             n->outputs[j]->name, ir_type_str(n->outputs[j], buf, sizeof buf));
    TRY(check_shape_rule(g, n, err));
  }
  for (int k = 0; k < g->num_outputs; k++)
    if (!ir_value_is_static(g->outputs[k]))
      return err_set(err, ST_SHAPE, "%s: graph output '%s' has no static type (%s)", g->source,
                     g->outputs[k]->name, ir_type_str(g->outputs[k], buf, sizeof buf));
  return ST_OK;
}

/* Nested graphs (Loop bodies) obey the same invariants; the frontend
 * bounds their depth. */
static Status check_bodies(Graph *g, bool require_static, Error *err) {
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->num_attrs; j++) {
      Graph *body = n->attrs[j].kind == ATTR_GRAPH ? n->attrs[j].graph : NULL;
      if (!body) continue;
      if (ir_verify(body, require_static, err) != ST_OK)
        return err_prefix(err, "in the body of node \"%s\"", n->name);
    }
  }
  return ST_OK;
}

Status ir_verify(Graph *g, bool require_static, Error *err) {
  int *def = malloc(((size_t)g->num_values + 1) * sizeof *def);
  if (!def) return err_set(err, ST_NOMEM, "out of memory");
  Status st = check_structure(g, def, err);
  if (st == ST_OK) st = check_values(g, def, err);
  free(def);
  if (st == ST_OK && require_static) st = check_types(g, err);
  if (st == ST_OK) st = check_bodies(g, require_static, err);
  return st;
}
