/* Dispatch tables from ops.def to each op's shape rule and kernel. */
#include "ops.h"

#include <assert.h>

const ShapeFn op_shape_fn[OP_COUNT] = {
#define OP(id, fn, name, min_in, max_in, min_out, max_out, family) [OP_##id] = shape_##fn,
#include "../ir/ops.def"
#undef OP
};

const EvalFn op_eval_fn[OP_COUNT] = {
#define OP(id, fn, name, min_in, max_in, min_out, max_out, family) [OP_##id] = eval_##fn,
#include "../ir/ops.def"
#undef OP
};

static_assert(sizeof op_shape_fn / sizeof op_shape_fn[0] == OP_COUNT, "shape table out of sync");
static_assert(sizeof op_eval_fn / sizeof op_eval_fn[0] == OP_COUNT, "eval table out of sync");

static Status check_arity(const Graph *g, const Node *n, Error *err) {
  const OpInfo *info = &op_info[n->op];
  int present_in = n->num_inputs;
  if (present_in < info->min_in || (info->max_in >= 0 && present_in > info->max_in))
    return ir_node_error(err, ST_INVALID, g, n, "has %d inputs, expected %d to %d", present_in,
                         info->min_in, info->max_in);
  for (int i = 0; i < info->min_in && i < n->num_inputs; i++)
    if (!n->inputs[i])
      return ir_node_error(err, ST_INVALID, g, n, "required input %d is missing", i);
  if (n->num_outputs < info->min_out || (info->max_out >= 0 && n->num_outputs > info->max_out))
    return ir_node_error(err, ST_INVALID, g, n, "has %d outputs, expected %d to %d",
                         n->num_outputs, info->min_out, info->max_out);
  return ST_OK;
}

Status ops_infer_node(Graph *g, Node *n, Error *err) {
  if (n->op >= OP_COUNT) return ir_node_error(err, ST_INTERNAL, g, n, "bad op kind");
  TRY(check_arity(g, n, err));
  for (int i = 0; i < n->num_inputs; i++)
    if (n->inputs[i] && !ir_value_is_static(n->inputs[i]))
      return ir_node_error(err, ST_SHAPE, g, n, "input %d ('%s') has no static shape", i,
                           n->inputs[i]->name);
  Status st = op_shape_fn[n->op](g, n, err);
  if (st != ST_OK) return ir_node_wrap_error(err, g, n);
  for (int i = 0; i < n->num_outputs; i++)
    if (n->outputs[i] && !ir_value_is_static(n->outputs[i]))
      return ir_node_error(err, ST_INTERNAL, g, n, "shape rule left output %d without a type", i);
  return ST_OK;
}

Status ops_eval_node(const Graph *g, const Node *n, const void *const in[], void *const out[],
                     Error *err) {
  if (n->op >= OP_COUNT) return ir_node_error(err, ST_INTERNAL, g, n, "bad op kind");
  Status st = op_eval_fn[n->op](n, in, out, err);
  if (st != ST_OK) return ir_node_wrap_error(err, g, n);
  return ST_OK;
}
