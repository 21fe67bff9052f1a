/*
 * Nested graphs (Loop bodies) as attributes of a node; see subgraph.h.
 * The body lives in its owner's arena so that one ir_graph_free releases
 * the whole tree and folding the node away simply orphans the body.
 */
#include "subgraph.h"

#include <string.h>

Graph *ir_subgraph_new(Graph *parent, const char *name) {
  Graph *g = arena_alloc(parent->arena, sizeof *g);
  if (!g) return NULL;
  g->arena = parent->arena;
  g->name = arena_strdup(parent->arena, name ? name : "body");
  g->source = parent->source;
  g->producer = parent->producer;
  g->opset = parent->opset;
  g->ir_version = parent->ir_version;
  g->max_tensor_bytes = parent->max_tensor_bytes;
  return g->name ? g : NULL;
}

Graph *ir_node_subgraph(const Node *n, const char *name) {
  const Attr *a = ir_attr(n, name);
  return a && a->kind == ATTR_GRAPH ? a->graph : NULL;
}

Status ir_node_set_subgraph(Graph *g, Node *n, const char *name, Graph *body, Error *err) {
  /* n == 0 keeps ir_node_set_attr's array copies away from the union. */
  Attr a = {.name = (char *)name, .kind = ATTR_GRAPH, .n = 0, .graph = body};
  return ir_node_set_attr(g, n, &a, err);
}
