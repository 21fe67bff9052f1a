/*
 * The IR verifier: the invariants every pass must keep.
 *  - every node's op is in the table and its arity fits;
 *  - inputs are graph inputs, constants or results of EARLIER nodes
 *    (topological order), never dangling; each value defined once;
 *  - every value has a static dtype and shape (after infer-shapes);
 *  - re-running the op's shape rule reproduces each output type exactly;
 *  - graph outputs are defined.
 */
#ifndef ONNXC_IR_VERIFY_H
#define ONNXC_IR_VERIFY_H

#include "graph.h"

/* require_static=false skips the type checks (before infer-shapes). */
Status ir_verify(Graph *g, bool require_static, Error *err);

#endif
