/*
 * Control flow: ONNX Loop.  The node's inputs are (M, cond, v_initial...,
 * captured...) and its outputs (v_final..., scan_outputs...); the body
 * (ATTR_GRAPH "body", ir/subgraph.h) has inputs (iteration_num, cond_in,
 * v_in..., captured...) and outputs (cond_out, v_out..., scan_out...).  The
 * int attribute `num_captured` (onnxc's own) says how many trailing inputs
 * are outer-scope values the frontend made explicit.
 * Static shapes: a loop-carried value must keep its type; a scan output's
 * length is the trip count, known only by running the loop, so the shape
 * rule does that when every input is constant (the Range_expanded case,
 * which fold-constants then replaces by constants) and refuses otherwise.
 * The kernel runs the body with eval_graph once per iteration.
 */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "../ir/subgraph.h"

/* More iterations than this is a hostile or runaway model. */
#define LOOP_MAX_ITERATIONS ((int64_t)1 << 24)
/* Nor may a loop take more element operations than this in all (a few
 * seconds): loops run at compile time, when constant folding evaluates
 * them, and a long one must not keep the compiler busy. */
#define LOOP_MAX_WORK ((double)((int64_t)1 << 28))
/* What one body node costs besides its elements: the evaluator's
 * bookkeeping and allocations. */
#define LOOP_NODE_OVERHEAD 64.0

#ifdef ONNXC_KERNEL_BITCODE
/* The compiled code has no evaluator to run a body with: a Loop must have
 * been folded away at compile time. */
Status shape_loop(Graph *g, Node *n, Error *err) {
  return err_set(err, ST_UNSUPPORTED, "Loop is not supported in compiled code");
}
Status eval_loop(const Node *n, const void *const in[], void *const out[], Error *err) {
  return err_set(err, ST_UNSUPPORTED,
                 "Loop cannot run in compiled code: it must fold to constants at compile time");
}
#else

#include "eval.h"

/* How the node's inputs split; see the header comment. */
typedef struct LoopShape {
  Graph *body;
  int num_carried;  /* N */
  int num_captured; /* C */
  int num_scan;     /* K */
} LoopShape;

static bool is_scalar(const Value *v) { return v->rank == 0 || (v->rank == 1 && v->dims[0] == 1); }

static Status loop_split(const Node *n, LoopShape *ls, Error *err) {
  ls->body = ir_node_subgraph(n, "body");
  if (!ls->body) return err_set(err, ST_INVALID, "Loop has no body graph");
  const Graph *b = ls->body;
  int64_t c = ir_attr_int(n, "num_captured", 0);
  if (b->num_inputs < 2 || n->num_inputs != b->num_inputs)
    return err_set(err, ST_INVALID, "the body has %d inputs for %d node inputs (expected equal, >= 2)",
                   b->num_inputs, n->num_inputs);
  if (c < 0 || c > n->num_inputs - 2)
    return err_set(err, ST_INVALID, "num_captured %lld is out of range", (long long)c);
  ls->num_captured = (int)c;
  ls->num_carried = n->num_inputs - 2 - ls->num_captured;
  if (b->num_outputs < 1 + ls->num_carried)
    return err_set(err, ST_INVALID, "the body has %d outputs, expected at least %d", b->num_outputs,
                   1 + ls->num_carried);
  ls->num_scan = b->num_outputs - 1 - ls->num_carried;
  if (n->num_outputs > ls->num_carried + ls->num_scan)
    return err_set(err, ST_INVALID, "Loop has %d outputs, its body gives only %d", n->num_outputs,
                   ls->num_carried + ls->num_scan);
  for (int i = 2; i < n->num_inputs; i++)
    if (!n->inputs[i]) return err_set(err, ST_INVALID, "loop-carried input %d is missing", i);
  return ST_OK;
}

/* Types the body's inputs from the node's and infers the body in order.
 * Rerunning it (the verifier does) gives the same types. */
static Status infer_body(Graph *g, const Node *n, const LoopShape *ls, Error *err) {
  Graph *b = ls->body;
  static const int64_t none[1] = {0};
  TRY(ir_value_set_type(b->inputs[0], DT_INT64, 0, none, err));
  TRY(ir_value_set_type(b->inputs[1], DT_BOOL, 0, none, err));
  for (int i = 2; i < n->num_inputs; i++) {
    const Value *v = n->inputs[i];
    TRY(ir_value_set_type(b->inputs[i], v->dtype, v->rank, v->dims, err));
  }
  Status st = ir_toposort(b, err);
  for (int i = 0; i < b->num_nodes && st == ST_OK; i++)
    if (!b->nodes[i]->dead) st = ops_infer_node(b, b->nodes[i], err);
  if (st != ST_OK) return err_prefix(err, "in the Loop body");
  const Value *co = b->outputs[0];
  if (!ir_value_is_static(co) || co->dtype != DT_BOOL || !is_scalar(co))
    return err_set(err, ST_SHAPE, "the body's cond output must be a bool scalar");
  for (int i = 0; i < ls->num_carried; i++) {
    const Value *in = n->inputs[2 + i], *out = b->outputs[1 + i];
    bool same = ir_value_is_static(out) && in->dtype == out->dtype && in->rank == out->rank;
    for (int d = 0; same && d < in->rank; d++) same = in->dims[d] == out->dims[d];
    if (!same) {
      char a[128], c[128];
      return err_set(err, ST_SHAPE,
                     "loop-carried value %d changes type in the body (%s in, %s out); onnxc "
                     "needs static shapes",
                     i, ir_type_str(in, a, sizeof a), ir_type_str(out, c, sizeof c));
    }
  }
  (void)g;
  return ST_OK;
}

/* Element operations of one iteration, roughly: every value a body node
 * reads or writes, plus a fixed cost per node. */
static double body_work(const Graph *b) {
  double w = 0;
  for (int i = 0; i < b->num_nodes; i++) {
    const Node *bn = b->nodes[i];
    w += LOOP_NODE_OVERHEAD;
    for (int j = 0; j < bn->num_inputs; j++)
      if (bn->inputs[j]) w += (double)ir_value_numel(bn->inputs[j]);
    for (int j = 0; j < bn->num_outputs; j++)
      if (bn->outputs[j]) w += (double)ir_value_numel(bn->outputs[j]);
  }
  return w > 1 ? w : 1;
}

/* Reads M (absent: no bound) and the initial cond (absent: true). */
static Status read_controls(const Node *n, const void *const in[], int64_t *max_trips,
                            bool *cond, Error *err) {
  *max_trips = -1;
  *cond = true;
  if (n->num_inputs > 0 && n->inputs[0]) {
    const Value *m = n->inputs[0];
    if (m->dtype != DT_INT64 || ir_value_numel(m) != 1)
      return err_set(err, ST_SHAPE, "M must be an int64 scalar");
    memcpy(max_trips, in[0], sizeof *max_trips);
    if (*max_trips < 0) *max_trips = 0;
    if (*max_trips > LOOP_MAX_ITERATIONS)
      return err_set(err, ST_UNSUPPORTED, "Loop trip count M = %lld exceeds the bound of %lld iterations",
                     (long long)*max_trips, (long long)LOOP_MAX_ITERATIONS);
  }
  if (n->num_inputs > 1 && n->inputs[1]) {
    const Value *c = n->inputs[1];
    if (c->dtype != DT_BOOL || ir_value_numel(c) != 1)
      return err_set(err, ST_SHAPE, "cond must be a bool scalar");
    *cond = *(const unsigned char *)in[1] != 0;
  }
  return ST_OK;
}

/* Runs the loop.  scan[k] receives iteration t's scan output k at t * its
 * size, up to scan_room iterations; scan NULL discards them (counting run).
 * final[i] receives the last loop-carried values.  *trips = iterations run. */
static Status run_loop(const Node *n, const LoopShape *ls, const void *const in[],
                       void *const final[], void *const scan[], int64_t scan_room, int64_t *trips,
                       Error *err) {
  const Graph *b = ls->body;
  int N = ls->num_carried, K = ls->num_scan, nin = b->num_inputs, nout = b->num_outputs;
  int64_t max_trips;
  bool cond;
  TRY(read_controls(n, in, &max_trips, &cond, err));
  const void **bin = calloc((size_t)nin, sizeof *bin);
  void **bout = calloc((size_t)nout, sizeof *bout);
  void **cur = calloc((size_t)N + 1, sizeof *cur), **next = calloc((size_t)N + 1, sizeof *next);
  void **tmp = calloc((size_t)K + 1, sizeof *tmp);
  Status st = ST_OK;
  if (!bin || !bout || !cur || !next || !tmp) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < N; i++) {
    size_t nb = ir_value_nbytes(n->inputs[2 + i]);
    cur[i] = malloc(nb ? nb : 1);
    next[i] = malloc(nb ? nb : 1);
    if (!cur[i] || !next[i]) {
      st = err_set(err, ST_NOMEM, "out of memory for loop-carried value %d", i);
      goto out;
    }
    if (nb) memcpy(cur[i], in[2 + i], nb);
  }
  for (int k = 0; k < K; k++) {
    size_t nb = ir_value_nbytes(b->outputs[1 + N + k]);
    if (!(tmp[k] = malloc(nb ? nb : 1))) {
      st = err_set(err, ST_NOMEM, "out of memory for scan output %d", k);
      goto out;
    }
  }
  int64_t t = 0;
  unsigned char cond_in = cond, cond_out = 0;
  double work = body_work(b);
  for (int j = 2 + N; j < nin; j++) bin[j] = in[j];
  while (cond && (max_trips < 0 || t < max_trips)) {
    if (t >= LOOP_MAX_ITERATIONS) {
      st = err_set(err, ST_UNSUPPORTED, "Loop runs more than %lld iterations",
                   (long long)LOOP_MAX_ITERATIONS);
      goto out;
    }
    if ((double)(t + 1) * work > LOOP_MAX_WORK) {
      st = err_set(err, ST_UNSUPPORTED, "Loop would take more than %.0f element operations "
                   "(%lld iterations of a body of about %.0f): too long to evaluate",
                   LOOP_MAX_WORK, (long long)(t + 1), work);
      goto out;
    }
    bin[0] = &t;
    bin[1] = &cond_in;
    for (int i = 0; i < N; i++) bin[2 + i] = cur[i];
    bout[0] = &cond_out;
    for (int i = 0; i < N; i++) bout[1 + i] = next[i];
    for (int k = 0; k < K; k++) {
      bout[1 + N + k] = tmp[k];
      if (scan && scan[k]) {
        if (t >= scan_room) {
          st = err_set(err, ST_INTERNAL, "Loop ran more iterations than its static scan length %lld",
                       (long long)scan_room);
          goto out;
        }
        bout[1 + N + k] = (char *)scan[k] + (size_t)t * ir_value_nbytes(b->outputs[1 + N + k]);
      }
    }
    st = eval_graph(b, bin, bout, err);
    if (st != ST_OK) {
      err_prefix(err, "Loop iteration %lld", (long long)t);
      goto out;
    }
    void **swap = cur;
    cur = next;
    next = swap;
    cond = cond_out != 0;
    cond_in = cond_out;
    t++;
  }
  for (int i = 0; i < N && i < n->num_outputs; i++)
    if (final && final[i]) memcpy(final[i], cur[i], ir_value_nbytes(n->inputs[2 + i]));
  *trips = t;
out:
  for (int i = 0; cur && i < N; i++) free(cur[i]);
  for (int i = 0; next && i < N; i++) free(next[i]);
  for (int k = 0; tmp && k < K; k++) free(tmp[k]);
  free(bin);
  free(bout);
  free(cur);
  free(next);
  free(tmp);
  return st;
}

Status shape_loop(Graph *g, Node *n, Error *err) {
  LoopShape ls;
  TRY(loop_split(n, &ls, err));
  TRY(infer_body(g, n, &ls, err));
  int N = ls.num_carried;
  for (int i = 0; i < N && i < n->num_outputs; i++)
    if (n->outputs[i]) TRY(ops_set_output_like(n, i, n->inputs[2 + i], err));
  bool need_trips = false;
  for (int i = N; i < n->num_outputs; i++) need_trips |= n->outputs[i] != NULL;
  if (!need_trips) return ST_OK;
  /* The trip count is data: only a Loop with constant inputs has one at
   * compile time, and then the loop itself is the way to learn it. */
  const void **in = calloc((size_t)n->num_inputs + 1, sizeof *in);
  if (!in) return err_set(err, ST_NOMEM, "out of memory");
  for (int i = 0; i < n->num_inputs; i++) {
    if (n->inputs[i] && !ir_value_is_const(n->inputs[i])) {
      free(in);
      return err_set(err, ST_UNSUPPORTED,
                     "Loop with a data-dependent trip count cannot have static scan-output "
                     "shapes (input %d ('%s') must be a constant)",
                     i, n->inputs[i]->name);
    }
    in[i] = n->inputs[i] ? n->inputs[i]->data : NULL;
  }
  int64_t trips = 0;
  Status st = run_loop(n, &ls, in, NULL, NULL, 0, &trips, err);
  free(in);
  TRY(st);
  for (int k = 0; N + k < n->num_outputs; k++) {
    if (!n->outputs[N + k]) continue;
    const Value *s = ls.body->outputs[1 + N + k];
    if (s->rank >= IR_MAX_RANK)
      return err_set(err, ST_UNSUPPORTED, "scan output %d would have rank %d (> %d)", k,
                     s->rank + 1, IR_MAX_RANK);
    int64_t dims[IR_MAX_RANK];
    dims[0] = trips;
    for (int d = 0; d < s->rank; d++) dims[1 + d] = s->dims[d];
    TRY(ops_set_output(n, N + k, s->dtype, s->rank + 1, dims, err));
  }
  return ST_OK;
}

Status eval_loop(const Node *n, const void *const in[], void *const out[], Error *err) {
  LoopShape ls;
  TRY(loop_split(n, &ls, err));
  int N = ls.num_carried, K = ls.num_scan;
  void *final[64] = {0}, *scan[64] = {0};
  if (N > 64 || K > 64) return err_set(err, ST_UNSUPPORTED, "Loop has more than 64 outputs");
  int64_t room = -1;
  for (int i = 0; i < n->num_outputs; i++) {
    if (!n->outputs[i]) continue;
    if (i < N) final[i] = out[i];
    else {
      scan[i - N] = out[i];
      room = n->outputs[i]->rank > 0 ? n->outputs[i]->dims[0] : 0;
    }
  }
  int64_t trips = 0;
  TRY(run_loop(n, &ls, in, final, scan, room < 0 ? 0 : room, &trips, err));
  /* A static scan length that the run does not fill would leave garbage. */
  if (room >= 0 && trips != room)
    return err_set(err, ST_INTERNAL, "Loop ran %lld iterations, its scan outputs have %lld",
                   (long long)trips, (long long)room);
  return ST_OK;
}

#endif
