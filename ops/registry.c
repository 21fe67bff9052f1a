/* Dispatch tables from ops.def to each op's shape rule, kernel and kernel
 * scratch size, and ops_infer_node / ops_eval_node, which run them with node
 * context (ops_eval_node also provides the kernel's scratch memory). */
#include "ops.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

/* Bounds the on-stack slot array of ops_eval_node. */
#define OPS_EVAL_MAX_OUTPUTS 64

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
  /* A hostile Expand / Tile / ConstantOfShape / Range / Resize / Pad asks
   * for terabytes: refuse it here, before anything allocates. */
  size_t limit = ir_max_tensor_bytes(g);
  for (int i = 0; i < n->num_outputs; i++) {
    const Value *v = n->outputs[i];
    if (!v || ir_value_nbytes(v) <= limit) continue;
    char type[160], have[32], max[32];
    ir_type_str(v, type, sizeof type);
    ir_bytes_str(ir_value_nbytes(v), have, sizeof have);
    ir_bytes_str(limit, max, sizeof max);
    return ir_node_error(err, ST_NOMEM, g, n, "output %d (%s) would take %s, more than the %s "
                         "one tensor may take (--max-tensor-bytes)", i, type, have, max);
  }
  return ST_OK;
}

/* The kernel sees the caller's outputs plus one slot for its scratch,
 * which lives only for this call. */
Status ops_eval_node(const Graph *g, const Node *n, const void *const in[], void *const out[],
                     Error *err) {
  if (n->op >= OP_COUNT) return ir_node_error(err, ST_INTERNAL, g, n, "bad op kind");
  if (n->num_outputs < 0 || n->num_outputs > OPS_EVAL_MAX_OUTPUTS)
    return ir_node_error(err, ST_UNSUPPORTED, g, n, "has %d outputs, at most %d supported",
                         n->num_outputs, OPS_EVAL_MAX_OUTPUTS);
  size_t bytes = ops_scratch_bytes(n);
  if (bytes == SIZE_MAX)
    return ir_node_error(err, ST_NOMEM, g, n, "the kernel's scratch memory would be too large");
  void *slots[OPS_EVAL_MAX_OUTPUTS + 1];
  for (int i = 0; i < n->num_outputs; i++) slots[i] = out[i];
  void *scratch = NULL;
  if (bytes > 0) {
    /* bytes is a multiple of OPS_SCRATCH_ALIGN, as aligned_alloc wants. */
    scratch = aligned_alloc(OPS_SCRATCH_ALIGN, bytes);
    if (!scratch)
      return ir_node_error(err, ST_NOMEM, g, n, "out of memory for %zu bytes of kernel scratch",
                           bytes);
  }
  slots[n->num_outputs] = scratch;
  Status st = op_eval_fn[n->op](n, in, slots, err);
  free(scratch);
  if (st != ST_OK) return ir_node_wrap_error(err, g, n);
  return ST_OK;
}

/* ---- scratch -------------------------------------------------------------- */

const ScratchFn op_scratch_fn[OP_COUNT] = {
    [OP_CONV] = scratch_conv,
    [OP_FUSED_CONV] = scratch_fused_conv,
    [OP_CONV_TRANSPOSE] = scratch_conv_transpose,
    [OP_COL2IM] = scratch_col2im,
    [OP_MAX_POOL] = scratch_max_pool,
    [OP_AVERAGE_POOL] = scratch_average_pool,
    [OP_GEMM] = scratch_gemm,
    [OP_EINSUM] = scratch_einsum,
    [OP_RESIZE] = scratch_resize,
    [OP_TOP_K] = scratch_top_k,
};

static_assert(sizeof op_scratch_fn / sizeof op_scratch_fn[0] == OP_COUNT,
              "scratch table out of sync");

size_t ops_scratch_bytes(const Node *n) {
  if (n->op >= OP_COUNT || !op_scratch_fn[n->op]) return 0;
  return op_scratch_fn[n->op](n);
}
