/*
 * The reference evaluator: runs a whole (static, topologically sorted) graph
 * with the plain-C kernels of ops/.  Used by `onnxc run`, `onnxc verify`
 * and the conformance runner; constant folding calls ops_eval_node directly.
 */
#ifndef ONNXC_OPS_EVAL_H
#define ONNXC_OPS_EVAL_H

#include "ops.h"

/* inputs[i] holds g->inputs[i]'s data; outputs[i] must have room for
 * g->outputs[i] (ir_value_nbytes).  Intermediate buffers are malloc'ed and
 * freed after their last use. */
Status eval_graph(const Graph *g, const void *const inputs[], void *const outputs[], Error *err);

#endif
