/*
 * Op semantics: for every op in ir/ops.def, a shape rule and a reference
 * kernel, defined together in ops/<family>.c.
 *
 * shape_<fn>(g, n, err)
 *   Sets dtype and static shape of every non-NULL output of n from its
 *   inputs' types (and constant data where the op needs it: Reshape's shape,
 *   Slice's starts, ...).  Validates attributes and input types.  On error it
 *   sets a bare reason ("pads has 3 values, expected 4"); the caller wraps it
 *   with file/node/op context (ir_node_wrap_error).
 *
 * eval_<fn>(n, in, out, err)
 *   Computes the outputs.  Shapes and dtypes come from n->inputs[i] and
 *   n->outputs[i] (all static by now); in[i] / out[i] point at contiguous
 *   row-major data of exactly that type (NULL for absent optional ones).
 *   Correctness over speed: plain C loops, double or int64 accumulators where
 *   it matters for exactness.  Same error convention as shape rules.
 *
 * The evaluator (ops/eval.c) is the one implementation of op semantics:
 * constant folding, `onnxc run` and `onnxc verify` all call it.
 */
#ifndef ONNXC_OPS_OPS_H
#define ONNXC_OPS_OPS_H

#include "../ir/graph.h"

typedef Status (*ShapeFn)(Graph *g, Node *n, Error *err);
typedef Status (*EvalFn)(const Node *n, const void *const in[], void *const out[], Error *err);

#define OP(id, fn, name, min_in, max_in, min_out, max_out, family)                  \
  Status shape_##fn(Graph *g, Node *n, Error *err);                                  \
  Status eval_##fn(const Node *n, const void *const in[], void *const out[], Error *err);
#include "../ir/ops.def"
#undef OP

extern const ShapeFn op_shape_fn[OP_COUNT];
extern const EvalFn op_eval_fn[OP_COUNT];

/* ---- kernel scratch memory ---------------------------------------------
 *
 * Kernels never allocate: the generated .o has no malloc.  A kernel that
 * needs temporary memory declares how much in scratch_<fn>(n): bytes,
 * computed from n's static shapes, attributes and constant inputs alone
 * (run-time data may not change it), as a sum of pieces each rounded up to
 * OPS_SCRATCH_ALIGN (ops_scratch_add).  SIZE_MAX means "too large to
 * provide"; 0 means none.  op_scratch_fn registers these (NULL = no
 * scratch) and ops_scratch_bytes(n) looks n up.
 *
 * The caller passes the scratch in out[n->num_outputs], one slot after the
 * outputs: OPS_SCRATCH_ALIGN-aligned, at least ops_scratch_bytes(n) bytes,
 * contents undefined (NULL when the size is 0).  ops_eval_node supplies it
 * itself, so its callers pass outputs only; compiled code gets a region of
 * the workspace (codegen/memplan.c).  Inside the kernel, ops_scratch_begin
 * and ops_scratch_take hand out aligned pieces and fail with ST_INTERNAL,
 * never overrun, when the kernel asks for more than its scratch_<fn>
 * promised. */
#define OPS_SCRATCH_ALIGN 64
typedef size_t (*ScratchFn)(const Node *n);
extern const ScratchFn op_scratch_fn[OP_COUNT];
size_t ops_scratch_bytes(const Node *n);

size_t scratch_conv(const Node *n);
size_t scratch_fused_conv(const Node *n);
size_t scratch_conv_transpose(const Node *n);
size_t scratch_col2im(const Node *n);
size_t scratch_max_pool(const Node *n);
size_t scratch_average_pool(const Node *n);
size_t scratch_gemm(const Node *n);
size_t scratch_einsum(const Node *n);
size_t scratch_resize(const Node *n);
size_t scratch_top_k(const Node *n);

/* total + count * elem_size rounded up to OPS_SCRATCH_ALIGN; SIZE_MAX on a
 * negative count or overflow (and SIZE_MAX stays SIZE_MAX). */
size_t ops_scratch_add(size_t total, int64_t count, size_t elem_size);

typedef struct OpsScratch {
  unsigned char *base; /* out[num_outputs]; may be NULL when size is 0 */
  size_t size;         /* what scratch_<fn> promised */
  size_t used;
} OpsScratch;

/* The scratch of a kernel: out[num_outputs] with the size its scratch_<fn>
 * computed for the node. */
OpsScratch ops_scratch_begin(void *const out[], int num_outputs, size_t promised);
/* *p = the next count * elem_size bytes (aligned); ST_INTERNAL when that
 * exceeds the promise, overflows, or the caller passed no scratch. */
Status ops_scratch_take(OpsScratch *s, int64_t count, size_t elem_size, void **p, Error *err);

/* Checks arity against the table, runs the shape rule, wraps errors with
 * node context. */
Status ops_infer_node(Graph *g, Node *n, Error *err);
/* Runs the kernel of one node on raw buffers; wraps errors with node context.
 * out needs only n->num_outputs slots: the kernel's scratch is allocated
 * here (ST_NOMEM if that fails) and freed before returning. */
Status ops_eval_node(const Graph *g, const Node *n, const void *const in[], void *const out[],
                     Error *err);

/* ---- helpers shared by shape rules and kernels (ops/common.c) ---------- */

/* Maps axis in [-rank, rank) to [0, rank); ST_INVALID otherwise. */
Status ops_norm_axis(int64_t axis, int rank, int *out, Error *err);
/* A Reduce* node's reduced input dims (from constant input 1 or the axes
 * attribute; none given means all), or *noop for the identity case. */
Status ops_reduce_axes(const Node *n, bool reduced[IR_MAX_RANK], bool *noop, Error *err);
/* ONNX multidirectional broadcasting of n shapes into out (rank = max). */
Status ops_broadcast(int n, const int *ranks, const int64_t *const dims[], int *out_rank,
                     int64_t *out_dims, Error *err);
/* Row-major strides of a shape (elements). */
void ops_strides(int rank, const int64_t *dims, int64_t *strides);
/* Strides of `in` as seen through broadcasting to an output of out_rank:
 * leading missing dims and size-1 dims get stride 0. */
void ops_broadcast_strides(int in_rank, const int64_t *in_dims, int out_rank,
                           const int64_t *out_dims, int64_t *strides);
/* Reads a constant integer tensor (int64 or int32) into out[0..*count).
 * ST_SHAPE "input 1 ('shape') must be a constant" style error when v is not
 * constant; what names the input for the message. */
Status ops_const_ints(const Value *v, const char *what, int64_t *out, int max, int *count,
                      Error *err);
/* Reads a constant scalar (any numeric dtype) as double. */
Status ops_const_scalar(const Value *v, const char *what, double *out, Error *err);
/* Convenience: set output i to (dtype, rank, dims). */
Status ops_set_output(Node *n, int i, DType dt, int rank, const int64_t *dims, Error *err);
/* Same type as value v. */
Status ops_set_output_like(Node *n, int i, const Value *v, Error *err);
int64_t ops_numel(int rank, const int64_t *dims);
/* Dropout that is the identity: training_mode false, or true with a ratio of
 * 0 (torchvision's Swin exports that).  in may be NULL (compile time: only
 * constant inputs count). */
bool ops_dropout_is_identity(const Node *n, const void *const in[]);

#endif
