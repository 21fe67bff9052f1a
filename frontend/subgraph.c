/*
 * Loop nodes: the `body` GraphProto becomes a nested Graph (ir/subgraph.h)
 * walked by the ordinary node walker (onnx_load.c) with L->g pointing at
 * the body.  ONNX lets a body read any value of an enclosing scope by name;
 * such reads are captured here (fe_body_capture): each becomes an extra body
 * input and an extra Loop input, so the body is self-contained and the
 * outer graph's use counts, DCE and toposort see the dependency.  Graph
 * attributes of other ops (If, Scan) stay refused by attrs.c.
 */
#include <stdio.h>

#include "../ir/subgraph.h"
#include "fe_internal.h"

static const char *str_or_empty(const char *s) { return s ? s : ""; }

/* `source: node "name" (Loop, opset N): error: ` + the bare reason in err. */
static Status loop_fail(Loader *L, const char *name, int opset, Status s, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static Status loop_fail(Loader *L, const char *name, int opset, Status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_setv(L->err, s, fmt, ap);
  va_end(ap);
  return err_prefix(L->err, "%s: node \"%s\" (Loop, opset %d): error", L->g->source, name, opset);
}

Status fe_body_capture(Loader *L, Scope *S, const char *name, Value **out, bool *found) {
  *out = NULL;
  *found = false;
  FeBody *b = S->body;
  Scope *O = b->outer;
  Value *ov = NULL;
  SymEntry *e = symtab_find(&O->names, name);
  if (e) ov = e->v;
  else if (O->body) TRY(fe_body_capture(L, O, name, &ov, found)); /* capture through each level */
  if (!e && !*found) return ST_OK;
  *found = true;
  if (!ov) return ST_OK; /* an absent optional value stays absent */
  if (b->num_captured == b->cap_captured) {
    int cap = b->cap_captured ? 2 * b->cap_captured : 8;
    if (cap > FE_MAX_NODE_IO) return err_set(L->err, ST_NOMEM, "a Loop body reads too many outer values");
    Value **arr = arena_calloc(b->graph->arena, (size_t)cap, sizeof *arr);
    if (!arr) return err_set(L->err, ST_NOMEM, "%s: out of memory", L->g->source);
    if (b->num_captured) memcpy(arr, b->captured, (size_t)b->num_captured * sizeof *arr);
    b->captured = arr;
    b->cap_captured = cap;
  }
  Value *iv = ir_value_new(b->graph, ov->name);
  if (!iv || ir_graph_add_input(b->graph, iv, L->err) != ST_OK ||
      !symtab_put(&S->names, name, iv, true))
    return err_set(L->err, ST_NOMEM, "%s: out of memory", L->g->source);
  b->captured[b->num_captured++] = ov;
  *out = iv;
  return ST_OK;
}

/* The single `body` attribute of a Loop, or a reason why not. */
static const Onnx__GraphProto *loop_body(const Onnx__NodeProto *np, const char **why) {
  const Onnx__GraphProto *gp = NULL;
  for (size_t i = 0; i < np->n_attribute; i++) {
    const Onnx__AttributeProto *a = np->attribute[i];
    if (!a) continue;
    if (strcmp(str_or_empty(a->name), "body") != 0 || !a->g || a->ref_attr_name) {
      *why = "Loop takes exactly one attribute, the graph 'body'";
      return NULL;
    }
    gp = a->g;
  }
  if (!gp) *why = "Loop has no 'body' graph attribute";
  return gp;
}

/* Walks the body's nodes into body with scope B; declares inputs/outputs. */
static Status walk_body(Loader *L, Scope *B, const Onnx__GraphProto *gp, const char *name,
                        int opset) {
  Graph *body = B->body->graph;
  for (size_t i = 0; i < gp->n_input; i++) {
    const char *in = gp->input[i] ? gp->input[i]->name : NULL;
    if (!in || !*in || symtab_find(&B->names, in))
      return loop_fail(L, name, opset, ST_INVALID, "body input %zu has an empty or repeated name", i);
    Value *v = ir_value_new(body, in);
    if (!v || ir_graph_add_input(body, v, L->err) != ST_OK || !symtab_put(&B->names, in, v, true))
      return err_set(L->err, ST_NOMEM, "%s: out of memory", L->g->source);
  }
  Graph *outer = L->g;
  L->g = body;
  Status st = fe_walk_nodes(L, B, gp->node, gp->n_node);
  for (size_t i = 0; i < gp->n_output && st == ST_OK; i++) {
    const char *on = gp->output[i] ? gp->output[i]->name : NULL;
    Value *v = on && *on ? fe_lookup_input(L, B, on) : NULL;
    if (v == (Value *)-1) st = err_set(L->err, ST_NOMEM, "%s: out of memory", body->source);
    else if (!v) {
      L->g = outer;
      return loop_fail(L, name, opset, ST_INVALID, "body output %zu has no name", i);
    } else st = ir_graph_add_output(body, v, L->err);
  }
  L->g = outer;
  TRY(st);
  /* Dangling names and cycles inside the body, named now rather than later. */
  if (ir_toposort(body, L->err) != ST_OK)
    return err_prefix(L->err, "%s: in the body of Loop node \"%s\"", L->g->source, name);
  return ST_OK;
}

Status fe_walk_loop(Loader *L, Scope *S, const Onnx__NodeProto *np, const char *name) {
  int opset = S->opset;
  const char *why = NULL;
  const Onnx__GraphProto *gp = loop_body(np, &why);
  if (!gp) return loop_fail(L, name, opset, ST_INVALID, "%s", why);
  if (S->depth + 1 > IR_MAX_GRAPH_DEPTH)
    return loop_fail(L, name, opset, ST_UNSUPPORTED, "graphs nest deeper than %d levels",
                     IR_MAX_GRAPH_DEPTH);
  if (gp->n_initializer || gp->n_sparse_initializer)
    return loop_fail(L, name, opset, ST_UNSUPPORTED,
                     "initializers inside a Loop body are not supported");
  if (np->n_input < 2 || gp->n_input != np->n_input || gp->n_output < gp->n_input - 1)
    return loop_fail(L, name, opset, ST_INVALID,
                     "Loop has %zu inputs and its body %zu inputs and %zu outputs; expected "
                     "2 + N inputs on both and 1 + N + K body outputs",
                     np->n_input, gp->n_input, gp->n_output);
  if (np->n_output > gp->n_output - 1)
    return loop_fail(L, name, opset, ST_INVALID, "Loop has %zu outputs, its body gives only %zu",
                     np->n_output, gp->n_output - 1);
  Graph *g = L->g;
  Value **ins = arena_calloc(g->arena, np->n_input + 1, sizeof *ins);
  if (!ins) return err_set(L->err, ST_NOMEM, "%s: out of memory", g->source);
  for (size_t i = 0; i < np->n_input; i++) {
    ins[i] = fe_lookup_input(L, S, np->input[i]);
    if (ins[i] == (Value *)-1) return err_set(L->err, ST_NOMEM, "%s: out of memory", g->source);
    if (i >= 2 && !ins[i])
      return loop_fail(L, name, opset, ST_INVALID, "loop-carried input %zu is empty", i);
  }

  FeBody fb = {.outer = S};
  fb.graph = ir_subgraph_new(g, gp->name && *gp->name ? gp->name : "body");
  if (!fb.graph) return err_set(L->err, ST_NOMEM, "%s: out of memory", g->source);
  fb.graph->opset = opset;
  Scope B = {.binding = S->binding, .num_binding = S->num_binding, .opset = opset,
             .prefix = S->prefix, .depth = S->depth + 1, .body = &fb};
  Status st = walk_body(L, &B, gp, name, opset);
  symtab_free(&B.names);
  TRY(st);

  int num_in = (int)np->n_input + fb.num_captured;
  Node *n = ir_node_new(g, OP_LOOP, name, num_in, (int)np->n_output);
  if (!n) return err_set(L->err, ST_NOMEM, "%s: out of memory", g->source);
  n->opset = opset;
  for (size_t i = 0; i < np->n_input; i++) n->inputs[i] = ins[i];
  for (int i = 0; i < fb.num_captured; i++) n->inputs[np->n_input + (size_t)i] = fb.captured[i];
  for (size_t i = 0; i < np->n_output; i++) {
    Value *v;
    bool dup;
    TRY(fe_define_output(L, S, np->output[i], &v, &dup));
    if (dup)
      return loop_fail(L, name, opset, ST_INVALID,
                       "output '%s' is already defined by another node, input or initializer",
                       np->output[i]);
    ir_node_set_output(n, (int)i, v);
  }
  if (ir_node_set_subgraph(g, n, "body", fb.graph, L->err) != ST_OK ||
      ir_node_set_attr_int(g, n, "num_captured", fb.num_captured, L->err) != ST_OK)
    return err_set(L->err, ST_NOMEM, "%s: out of memory", g->source);
  return ST_OK;
}
