/*
 * dce: dead code elimination.  A node is dead when none of its results is
 * read by a live node or is a graph output.  Use counts are computed once;
 * one sweep from the last node to the first then reaches the fixed point,
 * because in topological order every reader of a value comes after its
 * producer (killing a node can only make earlier nodes dead).  ir_compact
 * finally drops the dead nodes and the constants nothing uses any more.
 */
#include "pass.h"

#include <stdlib.h>

static bool in_graph(const Graph *g, const Value *v) {
  return v->id >= 0 && v->id < g->num_values && g->values[v->id] == v;
}

Status pass_dce(Graph *g, Error *err) {
  for (int i = 0; i < g->num_values; i++) g->values[i]->id = i;
  int *uses = calloc((size_t)g->num_values + 1, sizeof *uses);
  if (!uses) return err_set(err, ST_NOMEM, "out of memory");
  Status st = ST_OK;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++) {
      Value *v = n->inputs[j];
      if (!v) continue;
      if (!in_graph(g, v)) {
        st = ir_node_error(err, ST_INTERNAL, g, n, "input %d ('%s') is not in the graph", j,
                           v->name);
        goto out;
      }
      uses[v->id]++;
    }
    for (int j = 0; j < n->num_outputs; j++)
      if (n->outputs[j] && !in_graph(g, n->outputs[j])) {
        st = ir_node_error(err, ST_INTERNAL, g, n, "output %d is not in the graph", j);
        goto out;
      }
  }
  for (int i = 0; i < g->num_outputs; i++)
    if (in_graph(g, g->outputs[i])) uses[g->outputs[i]->id]++;
  for (int i = g->num_nodes - 1; i >= 0; i--) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    bool used = false;
    for (int j = 0; j < n->num_outputs && !used; j++)
      if (n->outputs[j] && uses[n->outputs[j]->id] > 0) used = true;
    if (used) continue;
    n->dead = true;
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j]) uses[n->inputs[j]->id]--;
  }
  st = ir_compact(g, err);
out:
  free(uses);
  return st;
}
