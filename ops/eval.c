/* Whole-graph reference evaluation; see eval.h. */
#include "eval.h"

#include <stdlib.h>
#include <string.h>

Status eval_graph(const Graph *g, const void *const inputs[], void *const outputs[], Error *err) {
  int nv = g->num_values, nn = g->num_nodes;
  void **buf = calloc((size_t)nv + 1, sizeof *buf);
  int *last_use = malloc(((size_t)nv + 1) * sizeof *last_use);
  Status st = ST_OK;
  if (!buf || !last_use) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < nv; i++) {
    g->values[i]->id = i;
    last_use[i] = -1;
  }
  for (int i = 0; i < nn; i++) {
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j]) last_use[n->inputs[j]->id] = i;
  }
  for (int i = 0; i < g->num_outputs; i++) last_use[g->outputs[i]->id] = nn;

  const void *in_ptr[64];
  void *out_ptr[64];
  for (int i = 0; i < nn; i++) {
    const Node *n = g->nodes[i];
    if (n->num_inputs > 64 || n->num_outputs > 64) {
      st = ir_node_error(err, ST_UNSUPPORTED, g, n, "more than 64 inputs or outputs");
      goto out;
    }
    for (int j = 0; j < n->num_inputs; j++) {
      const Value *v = n->inputs[j];
      if (!v) {
        in_ptr[j] = NULL;
        continue;
      }
      if (v->data) in_ptr[j] = v->data;
      else if (v->is_input) {
        int k = 0;
        while (k < g->num_inputs && g->inputs[k] != v) k++;
        in_ptr[j] = inputs[k];
      } else in_ptr[j] = buf[v->id];
      if (!in_ptr[j] && ir_value_nbytes(v) > 0) {
        st = ir_node_error(err, ST_INTERNAL, g, n, "input '%s' has not been computed", v->name);
        goto out;
      }
    }
    for (int j = 0; j < n->num_outputs; j++) {
      const Value *v = n->outputs[j];
      out_ptr[j] = NULL;
      if (!v) continue;
      size_t nb = ir_value_nbytes(v);
      buf[v->id] = calloc(1, nb ? nb : 1);
      if (!buf[v->id]) {
        st = ir_node_error(err, ST_NOMEM, g, n, "out of memory for a %zu-byte result", nb);
        goto out;
      }
      out_ptr[j] = buf[v->id];
    }
    st = ops_eval_node(g, n, in_ptr, out_ptr, err);
    if (st != ST_OK) goto out;
    /* Release what no later node reads. */
    for (int j = 0; j < n->num_inputs; j++) {
      const Value *v = n->inputs[j];
      if (v && !v->data && !v->is_input && last_use[v->id] == i) {
        free(buf[v->id]);
        buf[v->id] = NULL;
      }
    }
    for (int j = 0; j < n->num_outputs; j++) {
      const Value *v = n->outputs[j];
      if (v && last_use[v->id] < 0) {
        free(buf[v->id]);
        buf[v->id] = NULL;
      }
    }
  }
  for (int i = 0; i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    size_t nb = ir_value_nbytes(v);
    const void *src = v->data ? v->data : buf[v->id];
    if (!src && v->is_input) {
      for (int k = 0; k < g->num_inputs; k++)
        if (g->inputs[k] == v) src = inputs[k];
    }
    if (!src && nb) {
      st = err_set(err, ST_INTERNAL, "output '%s' was not computed", v->name);
      goto out;
    }
    if (nb) memcpy(outputs[i], src, nb);
  }
out:
  if (buf)
    for (int i = 0; i < nv; i++) free(buf[i]);
  free(buf);
  free(last_use);
  return st;
}
