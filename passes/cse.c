/*
 * cse: common subexpression elimination.  First equal constants (dtype,
 * shape, bytes) are merged, then nodes with the same op, opset, input
 * Values and attributes; a later duplicate's results are redirected to the
 * earlier node's.  Both use a hash table (constants are hashed over their
 * bytes, so two large weights are compared byte by byte only when their
 * hashes collide), and one forward sweep in topological order: once a
 * node's inputs are canonical, equal nodes have pointer-equal inputs.
 * A duplicate whose result is a graph output hands that name to the kept
 * result, unless the kept one is itself an output; then both stay.
 */
#include "pass.h"

#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * FNV_PRIME;
  return h;
}

static uint64_t hash_i64(uint64_t h, int64_t v) { return hash_bytes(h, &v, sizeof v); }

static uint64_t hash_str(uint64_t h, const char *s) {
  return hash_bytes(h, s ? s : "", strlen(s ? s : "") + 1);
}

/* Open addressing over indices (-1 = empty); capacity a power of two. */
typedef struct Table {
  int *slot;
  uint64_t *hash;
  size_t mask;
} Table;

static bool table_init(Table *t, int n) {
  size_t cap = 16;
  while (cap < (size_t)n * 2 + 1) cap *= 2;
  t->slot = malloc(cap * sizeof *t->slot);
  t->hash = malloc(cap * sizeof *t->hash);
  t->mask = cap - 1;
  if (!t->slot || !t->hash) return false;
  for (size_t i = 0; i < cap; i++) t->slot[i] = -1;
  return true;
}

static void table_free(Table *t) {
  free(t->slot);
  free(t->hash);
}

/* ---- constants ---------------------------------------------------------- */

static uint64_t const_hash(const Value *v) {
  uint64_t h = hash_i64(FNV_OFFSET, v->dtype);
  h = hash_i64(h, v->rank);
  for (int i = 0; i < v->rank; i++) h = hash_i64(h, v->dims[i]);
  return hash_bytes(h, v->data, ir_value_nbytes(v));
}

static bool const_equal(const Value *a, const Value *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return memcmp(a->data, b->data, ir_value_nbytes(a)) == 0;
}

/* Fills repl[id] for every constant equal to an earlier one. */
static Status merge_constants(Graph *g, Value **repl, Error *err) {
  Table t;
  if (!table_init(&t, g->num_values)) {
    table_free(&t);
    return err_set(err, ST_NOMEM, "out of memory");
  }
  for (int i = 0; i < g->num_values; i++) {
    Value *v = g->values[i];
    /* Graph outputs keep their own value (and name); runtime inputs are not constants. */
    if (!ir_value_is_const(v) || v->is_input || v->is_output || !ir_value_is_static(v)) continue;
    uint64_t h = const_hash(v);
    size_t s = (size_t)h & t.mask;
    for (; t.slot[s] >= 0; s = (s + 1) & t.mask) {
      Value *k = g->values[t.slot[s]];
      if (t.hash[s] == h && const_equal(k, v)) {
        repl[i] = k;
        break;
      }
    }
    if (t.slot[s] < 0) {
      t.slot[s] = i;
      t.hash[s] = h;
    }
  }
  table_free(&t);
  return ST_OK;
}

/* ---- nodes -------------------------------------------------------------- */

static uint64_t attr_hash(uint64_t h, const Attr *a) {
  h = hash_str(h, a->name);
  h = hash_i64(h, a->kind);
  switch (a->kind) {
  case ATTR_INT: return hash_i64(h, a->i);
  case ATTR_FLOAT: return hash_bytes(h, &a->f, sizeof a->f);
  case ATTR_STRING: return hash_str(h, a->s);
  case ATTR_INTS: return a->ints ? hash_bytes(h, a->ints, (size_t)a->n * sizeof *a->ints) : h;
  case ATTR_FLOATS:
    return a->floats ? hash_bytes(h, a->floats, (size_t)a->n * sizeof *a->floats) : h;
  case ATTR_STRINGS:
    for (int i = 0; i < a->n && a->strings; i++) h = hash_str(h, a->strings[i]);
    return h;
  case ATTR_TENSOR: return a->t ? hash_i64(h, a->t->dtype) : h; /* contents: compared on match */
  case ATTR_GRAPH: return hash_bytes(h, &a->graph, sizeof a->graph); /* bodies merge only if shared */
  }
  return h;
}

static uint64_t node_hash(const Node *n) {
  uint64_t h = hash_i64(FNV_OFFSET, n->op);
  h = hash_i64(h, n->opset);
  h = hash_i64(h, n->num_inputs);
  for (int i = 0; i < n->num_inputs; i++) h = hash_i64(h, n->inputs[i] ? n->inputs[i]->id : -1);
  h = hash_i64(h, n->num_outputs);
  for (int i = 0; i < n->num_outputs; i++) h = hash_i64(h, n->outputs[i] != NULL);
  for (int i = 0; i < n->num_attrs; i++) h = attr_hash(h, &n->attrs[i]);
  return h;
}

static bool tensor_equal(const Tensor *a, const Tensor *b) {
  if (!a || !b) return a == b;
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  int64_t numel = 1;
  for (int i = 0; i < a->rank; i++) {
    if (a->dims[i] != b->dims[i]) return false;
    numel *= a->dims[i];
  }
  size_t nb = (size_t)numel * dtype_size(a->dtype);
  if (!nb) return true;
  if (!a->data || !b->data) return a->data == b->data;
  return memcmp(a->data, b->data, nb) == 0;
}

static bool attr_equal(const Attr *a, const Attr *b) {
  if (strcmp(a->name, b->name) != 0 || a->kind != b->kind) return false;
  switch (a->kind) {
  case ATTR_INT: return a->i == b->i;
  case ATTR_FLOAT: return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  case ATTR_STRING: return strcmp(a->s ? a->s : "", b->s ? b->s : "") == 0;
  case ATTR_INTS:
    return a->n == b->n && (a->n == 0 || memcmp(a->ints, b->ints, (size_t)a->n * 8) == 0);
  case ATTR_FLOATS:
    return a->n == b->n && (a->n == 0 || memcmp(a->floats, b->floats, (size_t)a->n * 4) == 0);
  case ATTR_STRINGS:
    if (a->n != b->n) return false;
    for (int i = 0; i < a->n; i++)
      if (strcmp(a->strings[i] ? a->strings[i] : "", b->strings[i] ? b->strings[i] : "") != 0)
        return false;
    return true;
  case ATTR_TENSOR: return tensor_equal(a->t, b->t);
  case ATTR_GRAPH: return a->graph == b->graph;
  }
  return false;
}

static bool node_equal(const Node *a, const Node *b) {
  if (a->op != b->op || a->opset != b->opset || a->num_inputs != b->num_inputs ||
      a->num_outputs != b->num_outputs || a->num_attrs != b->num_attrs)
    return false;
  for (int i = 0; i < a->num_inputs; i++)
    if (a->inputs[i] != b->inputs[i]) return false;
  for (int i = 0; i < a->num_outputs; i++)
    if ((a->outputs[i] == NULL) != (b->outputs[i] == NULL)) return false;
  for (int i = 0; i < a->num_attrs; i++)
    if (!attr_equal(&a->attrs[i], &b->attrs[i])) return false;
  return true;
}

/* Redirects dup's results to keep's; false (and nothing changed) when both
 * hold a graph output at the same position, since one value cannot carry
 * two output names. */
static bool merge_node(Graph *g, Node *keep, Node *dup, Value **repl) {
  for (int i = 0; i < dup->num_outputs; i++) {
    Value *d = dup->outputs[i], *k = keep->outputs[i];
    if (d && d->is_output && (k->is_output || k->is_input || ir_value_is_const(k))) return false;
  }
  for (int i = 0; i < dup->num_outputs; i++) {
    Value *d = dup->outputs[i], *k = keep->outputs[i];
    if (!d) continue;
    if (d->is_output) {
      k->name = d->name;
      for (int j = 0; j < g->num_outputs; j++)
        if (g->outputs[j] == d) g->outputs[j] = k;
      d->is_output = false;
      k->is_output = true;
    }
    repl[d->id] = k;
  }
  dup->dead = true;
  return true;
}

static bool in_graph(const Graph *g, const Value *v) {
  return v->id >= 0 && v->id < g->num_values && g->values[v->id] == v;
}

Status pass_cse(Graph *g, Error *err) {
  for (int i = 0; i < g->num_values; i++) g->values[i]->id = i;
  Value **repl = calloc((size_t)g->num_values + 1, sizeof *repl);
  if (!repl) return err_set(err, ST_NOMEM, "out of memory");
  Table t = {0};
  Status st = merge_constants(g, repl, err);
  if (st != ST_OK) goto out;
  if (!table_init(&t, g->num_nodes)) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    bool ok = true;
    for (int j = 0; j < n->num_inputs; j++) {
      Value *v = n->inputs[j];
      if (!v) continue;
      if (!in_graph(g, v)) ok = false;
      else if (repl[v->id]) n->inputs[j] = repl[v->id];
    }
    for (int j = 0; j < n->num_outputs; j++)
      if (n->outputs[j] && !in_graph(g, n->outputs[j])) ok = false;
    if (!ok) {
      st = ir_node_error(err, ST_INTERNAL, g, n, "refers to a value that is not in the graph");
      goto out;
    }
    uint64_t h = node_hash(n);
    size_t s = (size_t)h & t.mask;
    bool merged = false;
    for (; t.slot[s] >= 0; s = (s + 1) & t.mask) {
      Node *k = g->nodes[t.slot[s]];
      if (t.hash[s] == h && node_equal(k, n) && merge_node(g, k, n, repl)) {
        merged = true;
        break;
      }
    }
    if (!merged && t.slot[s] < 0) {
      t.slot[s] = i;
      t.hash[s] = h;
    }
  }
  st = ir_compact(g, err);
out:
  table_free(&t);
  free(repl);
  return st;
}
