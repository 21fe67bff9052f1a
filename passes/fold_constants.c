/*
 * Constant folding.  pass_fold_node evaluates one node with its reference
 * kernel (ops_eval_node) and turns its outputs into constant Values; the
 * fold-constants pass applies it to every node whose inputs are all
 * constants.  infer-shapes uses the same helper for the small shape
 * arithmetic it folds on the way.  Runs after infer-shapes: every type is
 * static, so output sizes are known before anything is computed, and a
 * node whose results would be huge, or whose work would be (a MatMul of two
 * big ConstantOfShapes), is left for run time.
 */
#include "pass.h"

#include <stdlib.h>

#include "../ops/ops.h"

/* Folding a node may allocate at most this much for its results. */
#define FOLD_MAX_OUTPUT_BYTES ((size_t)256 << 20)

/* Folding may cost at most this many element operations per node (about a
 * second in the reference kernels); a constant MatMul, Conv or pool above
 * it is left for the compiled code, so that a hostile model cannot keep
 * the compiler busy for hours. */
#define FOLD_MAX_WORK ((double)((int64_t)1 << 28))

static double numel_of(const Value *v) { return v ? (double)ir_value_numel(v) : 0; }

/* Element operations to evaluate n: the inputs and outputs touched, times
 * the reduction length for the ops whose work grows faster than that. */
static double fold_work(const Node *n) {
  double io = 0;
  for (int i = 0; i < n->num_inputs; i++) io += numel_of(n->inputs[i]);
  for (int i = 0; i < n->num_outputs; i++) io += numel_of(n->outputs[i]);
  const Value *a = n->num_inputs > 0 ? n->inputs[0] : NULL;
  const Value *b = n->num_inputs > 1 ? n->inputs[1] : NULL;
  double out = n->num_outputs > 0 ? numel_of(n->outputs[0]) : 0;
  switch (n->op) {
  case OP_MATMUL:
  case OP_FUSED_MATMUL:
    return io + (a && a->rank > 0 ? out * (double)a->dims[a->rank - 1] : 0);
  case OP_GEMM:
    return io + (a && a->rank == 2 ? out * (double)a->dims[ir_attr_int(n, "transA", 0) ? 0 : 1]
                                   : 0);
  case OP_CONV:
  case OP_FUSED_CONV:
    return io + (b && b->rank > 0 && b->dims[0] > 0 ? out * numel_of(b) / (double)b->dims[0] : 0);
  case OP_CONV_TRANSPOSE:
    return io + (b && b->rank > 0 && b->dims[0] > 0 ? numel_of(a) * numel_of(b) / (double)b->dims[0]
                                                    : 0);
  case OP_AVERAGE_POOL:
  case OP_MAX_POOL: {
    const int64_t *k = NULL;
    int nk = ir_attr_ints(n, "kernel_shape", &k);
    double taps = 1;
    for (int i = 0; i < nk; i++) taps *= (double)k[i];
    return io + out * taps;
  }
  case OP_EINSUM: {
    double all = 1; /* every index combination, at most: an upper bound */
    for (int i = 0; i < n->num_inputs; i++) all *= numel_of(n->inputs[i]) + 1;
    return io + all;
  }
  case OP_RESIZE: return io + out * 64; /* up to 4 taps per dim, 3 dims */
  default: return io;
  }
}

bool pass_fold_is_cheap(const Node *n) { return fold_work(n) <= FOLD_MAX_WORK; }

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
    if (fits && pass_fold_is_cheap(n)) TRY(pass_fold_node(g, n, err));
  }
  return ir_compact(g, err);
}
