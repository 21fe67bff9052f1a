/*
 * infer-shapes: gives every value a static dtype and shape by running each
 * node's shape rule (ops_infer_node) in topological order.  On the way it
 * folds the shape arithmetic exporters emit (torch's Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape): Shape and Size fold from the static type
 * alone, and small nodes whose inputs are all constant fold right away, so
 * the Reshape further down sees a constant shape input.  Only small results
 * fold here (big constant work is fold-constants' job, with its own bound).
 */
#include "pass.h"

#include "../ops/ops.h"

/* Results above this many elements are not shape arithmetic: leave them. */
#define INFER_FOLD_MAX_NUMEL 65536

static bool worth_folding(const Node *n) {
  if (n->op == OP_SHAPE || n->op == OP_SIZE) return true;
  bool any = false;
  for (int i = 0; i < n->num_inputs; i++) {
    if (!n->inputs[i]) continue;
    if (!ir_value_is_const(n->inputs[i])) return false;
    any = true;
  }
  if (!any) return false;
  for (int i = 0; i < n->num_outputs; i++) {
    int64_t numel = n->outputs[i] ? ir_value_numel(n->outputs[i]) : 0;
    if (numel < 0 || numel > INFER_FOLD_MAX_NUMEL) return false;
  }
  return pass_fold_is_cheap(n);
}

/* Inputs (as --input-shape fixed them) and constants within
 * --max-tensor-bytes; node results are checked by ops_infer_node. */
static Status check_sizes(const Graph *g, Error *err) {
  size_t limit = ir_max_tensor_bytes(g);
  for (int i = 0; i < g->num_values; i++) {
    const Value *v = g->values[i];
    if (!(v->is_input || v->data) || !ir_value_is_static(v) || ir_value_nbytes(v) <= limit)
      continue;
    char type[160], have[32], max[32];
    ir_type_str(v, type, sizeof type);
    ir_bytes_str(ir_value_nbytes(v), have, sizeof have);
    ir_bytes_str(limit, max, sizeof max);
    return err_set(err, ST_NOMEM, "%s: %s '%s' (%s) takes %s, more than the %s one tensor may "
                   "take (--max-tensor-bytes)", g->source, v->is_input ? "graph input" :
                   "constant", v->const_origin && *v->const_origin ? v->const_origin : v->name,
                   type, have, max);
  }
  return ST_OK;
}

Status pass_infer_shapes(Graph *g, Error *err) {
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    if (!ir_value_is_static(v)) {
      char type[256];
      return err_set(err, ST_SHAPE,
                     "%s: graph input '%s' has no static shape (%s); give one with "
                     "--input-shape %s=d0,d1,...",
                     g->source, v->name, ir_type_str(v, type, sizeof type), v->name);
    }
  }
  TRY(check_sizes(g, err));
  /* Dead nodes from an earlier run would look like second definitions. */
  TRY(ir_compact(g, err));
  TRY(ir_toposort(g, err));
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    TRY(ops_infer_node(g, n, err));
    if (worth_folding(n)) TRY(pass_fold_node(g, n, err));
  }
  return ir_compact(g, err);
}
