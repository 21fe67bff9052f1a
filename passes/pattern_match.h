/*
 * Small matching helpers shared by the rewrite passes (canonicalize,
 * fold-batchnorm, fuse-epilogues): who defines a value, who reads it,
 * reading scalar constants, and placing a replacement node where the
 * matched pattern stood so that Graph.nodes stays topologically sorted.
 * Matching is always "backwards from a root through producers"; every
 * intermediate a rewrite deletes must pass pat_private() first.
 */
#ifndef ONNXC_PASSES_PATTERN_MATCH_H
#define ONNXC_PASSES_PATTERN_MATCH_H

#include <stdbool.h>

#include "../ir/graph.h"

/* The live node defining v if its op is `op`, else NULL. */
Node *pat_def(const Value *v, OpKind op);
/* True when v is read by exactly one node input and is not a graph output:
 * the value may disappear inside a fused pattern. */
bool pat_private(const Graph *g, const Value *v);
/* The single live node reading v (v read exactly once, not a graph output), or NULL. */
Node *pat_sole_user(const Graph *g, const Value *v);
/* A constant with exactly one element of a float dtype, read as double. */
bool pat_scalar(const Value *v, double *out);
/* pat_scalar and |value - want| <= tol * max(1, |want|). */
bool pat_scalar_is(const Value *v, double want, double tol);
/* For a 2-input node: the input that is not `v` (NULL if neither input is v). */
Value *pat_other(const Node *n, const Value *v);
/* Input i or NULL when absent. */
Value *pat_in(const Node *n, int i);
/* Moves node n (anywhere in g->nodes) to just before node `at`. */
void pat_move_before(Graph *g, Node *n, const Node *at);
/* Gives n a fresh arena inputs array of `count` entries (old ones copied). */
Status pat_resize_inputs(Graph *g, Node *n, int count, Error *err);
/* A new float constant of dtype dt from doubles (count = product of dims). */
Value *pat_const_from_f64(Graph *g, const char *origin, DType dt, int rank, const int64_t *dims,
                          const double *data);
/* Copies every element of constant v to double (malloc'ed; caller frees);
 * NULL if v is not constant, not float, or on allocation failure. */
double *pat_load_f64(const Value *v);

/* Creates a one-output node `op` reading inputs[0..num_inputs), producing
 * `last`'s output value in `last`'s place in g->nodes (so output names and
 * topological order are kept), and marks `last` dead.  The new node takes
 * `last`'s name and no attributes. */
Status pat_replace(Graph *g, Node *last, OpKind op, Value *const *inputs, int num_inputs,
                   Node **out, Error *err);

#endif
