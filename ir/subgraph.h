/*
 * Nested graphs: the body of a Loop node is a Graph of its own, held by an
 * ATTR_GRAPH attribute of the node.  A body shares its owner's arena (freed
 * with it, never on its own) and is self-contained: every value of the outer
 * scope it reads was turned by the frontend into an extra body input, fed by
 * an extra input of the node, so the outer graph's use counts, DCE and
 * toposort see those reads.  Printer and verifier descend into bodies.
 */
#ifndef ONNXC_IR_SUBGRAPH_H
#define ONNXC_IR_SUBGRAPH_H

#include "graph.h"

/* Bodies inside bodies inside ...: deeper nesting is refused as hostile. */
#define IR_MAX_GRAPH_DEPTH 8

/* A new empty graph allocated from parent's arena (same source and opset).
 * Never pass it to ir_graph_free.  NULL when out of memory. */
Graph *ir_subgraph_new(Graph *parent, const char *name);
/* The graph held by n's ATTR_GRAPH attribute `name`, or NULL. */
Graph *ir_node_subgraph(const Node *n, const char *name);
/* Attaches body to n as ATTR_GRAPH attribute `name` (replacing one). */
Status ir_node_set_subgraph(Graph *g, Node *n, const char *name, Graph *body, Error *err);

#endif
