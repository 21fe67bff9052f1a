/*
 * Constant folding.  pass_fold_node evaluates one node with its reference
 * kernel (ops_eval_node) and turns its outputs into constant Values; the
 * fold-constants pass applies it to every node whose inputs are all
 * constants.  infer-shapes uses the same helper for the small shape
 * arithmetic it folds on the way.  Runs after infer-shapes: every type is
 * static, so output sizes are known before anything is computed, and a
 * node whose results would be huge (a hostile Expand) is left for run time.
 */
#include "pass.h"

#include <stdlib.h>

#include "../ops/ops.h"

/* Folding a node may allocate at most this much for its results. */
#define FOLD_MAX_OUTPUT_BYTES ((size_t)256 << 20)

/* Shape and Size read only the static type of their input, so they fold
 * whatever the input is; every other op needs constant data. */
static bool reads_type_only(OpKind op) { return op == OP_SHAPE || op == OP_SIZE; }

Status pass_fold_node(Graph *g, Node *n, Error *err) {
  for (int i = 0; i < n->num_inputs; i++) {
    const Value *v = n->inputs[i];
    if (v && !ir_value_is_const(v) && !reads_type_only(n->op))
      return ir_node_error(err, ST_INTERNAL, g, n, "cannot fold: input %d ('%s') is not constant",
                           i, v->name);
  }
  for (int i = 0; i < n->num_outputs; i++)
    if (n->outputs[i] && !ir_value_is_static(n->outputs[i]))
      return ir_node_error(err, ST_INTERNAL, g, n,
                           "cannot fold: output %d has no static type (run infer-shapes first)", i);
  const void **in = calloc((size_t)n->num_inputs + 1, sizeof *in);
  void **out = calloc((size_t)n->num_outputs + 1, sizeof *out);
  Status st = ST_OK;
  if (!in || !out) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < n->num_inputs; i++) in[i] = n->inputs[i] ? n->inputs[i]->data : NULL;
  for (int i = 0; i < n->num_outputs; i++) {
    const Value *v = n->outputs[i];
    if (!v) continue;
    size_t nb = ir_value_nbytes(v);
    if (!(out[i] = arena_alloc(g->arena, nb))) {
      st = ir_node_error(err, ST_NOMEM, g, n, "out of memory folding a %zu-byte result", nb);
      goto done;
    }
  }
  st = ops_eval_node(g, n, (const void *const *)in, (void *const *)out, err);
  if (st != ST_OK) goto done;
  for (int i = 0; i < n->num_outputs; i++) {
    Value *v = n->outputs[i];
    if (!v) continue;
    v->data = out[i];
    v->producer = NULL;
    v->const_origin = n->name;
  }
  n->dead = true;
done:
  free(in);
  free(out);
  return st;
}

static bool all_inputs_const(const Node *n) {
  bool any = false;
  for (int i = 0; i < n->num_inputs; i++) {
    if (!n->inputs[i]) continue;
    if (!ir_value_is_const(n->inputs[i])) return false;
    any = true;
  }
  return any;
}

Status pass_fold_constants(Graph *g, Error *err) {
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || !all_inputs_const(n)) continue;
    size_t total = 0;
    bool fits = true;
    for (int j = 0; j < n->num_outputs && fits; j++) {
      const Value *v = n->outputs[j];
      if (!v) continue;
      if (!ir_value_is_static(v))
        return ir_node_error(err, ST_INTERNAL, g, n,
                             "output %d has no static type (fold-constants runs after "
                             "infer-shapes)", j);
      size_t nb = ir_value_nbytes(v);
      if (nb > FOLD_MAX_OUTPUT_BYTES - total) fits = false;
      else total += nb;
    }
    if (fits) TRY(pass_fold_node(g, n, err));
  }
  return ir_compact(g, err);
}
