/* Graph construction, attribute access and mutation; see graph.h. */
#include "graph.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Graph *ir_graph_new(const char *name, const char *source) {
  Arena *a = arena_create();
  if (!a) return NULL;
  Graph *g = arena_alloc(a, sizeof *g);
  if (!g) {
    arena_destroy(a);
    return NULL;
  }
  g->arena = a;
  g->name = arena_strdup(a, name ? name : "graph");
  g->source = arena_strdup(a, source ? source : "<memory>");
  g->producer = arena_strdup(a, "");
  if (!g->name || !g->source || !g->producer) {
    arena_destroy(a);
    return NULL;
  }
  return g;
}

void ir_graph_free(Graph *g) {
  if (!g) return;
  for (int i = 0; i < g->num_adopted; i++)
    if (!((uintptr_t)g->adopted[i] & 1)) free(g->adopted[i]);
  free(g->adopted);
  arena_destroy(g->arena);
}

static int by_address(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
  return x < y ? -1 : x > y;
}

static bool is_freed(const void *entry) { return (uintptr_t)entry & 1; }

void ir_value_release_adopted(Graph *g, Value *v) {
  if (!v->data || !g->num_adopted) return;
  if (!g->adopted_sorted) {
    qsort(g->adopted, (size_t)g->num_adopted, sizeof *g->adopted, by_address);
    g->adopted_sorted = true;
  }
  void **hit = bsearch(&v->data, g->adopted, (size_t)g->num_adopted, sizeof *g->adopted,
                       by_address);
  if (!hit) return;
  free(*hit);
  /* Blocks are 64-byte aligned: bit 0 marks the entry freed and keeps the
   * array in address order. */
  *hit = (void *)((uintptr_t)*hit | 1);
  v->data = NULL;
}

void ir_graph_release_adopted(Graph *g) {
  for (int i = 0; i < g->num_values; i++) ir_value_release_adopted(g, g->values[i]);
  for (int i = 0; i < g->num_adopted; i++)
    if (!is_freed(g->adopted[i])) free(g->adopted[i]);
  g->num_adopted = 0;
}

/* Grows an arena array of pointers; the old block is simply abandoned. */
static bool grow(Arena *a, void ***arr, int *cap, int need) {
  if (need <= *cap) return true;
  int ncap = *cap ? *cap : 16;
  while (ncap < need) {
    if (ncap > (1 << 28)) return false;
    ncap *= 2;
  }
  void **n = arena_calloc(a, (size_t)ncap, sizeof(void *));
  if (!n) return false;
  if (*arr) memcpy(n, *arr, (size_t)*cap * sizeof(void *));
  *arr = n;
  *cap = ncap;
  return true;
}

static Value *value_alloc(Graph *g, const char *name) {
  if (!grow(g->arena, (void ***)&g->values, &g->cap_values, g->num_values + 1)) return NULL;
  Value *v = arena_alloc(g->arena, sizeof *v);
  if (!v) return NULL;
  v->name = arena_strdup(g->arena, name ? name : "");
  if (!v->name) return NULL;
  v->rank = IR_RANK_UNKNOWN;
  v->id = g->num_values;
  g->values[g->num_values++] = v;
  return v;
}

Value *ir_value_new(Graph *g, const char *name) { return value_alloc(g, name); }

bool ir_value_is_static(const Value *v) {
  if (!v || v->rank < 0 || v->dtype == DT_UNDEFINED) return false;
  for (int i = 0; i < v->rank; i++)
    if (v->dims[i] < 0) return false;
  return true;
}

int64_t ir_value_numel(const Value *v) {
  if (!ir_value_is_static(v)) return -1;
  int64_t n = 1;
  for (int i = 0; i < v->rank; i++) n *= v->dims[i]; /* bounded by ir_value_set_type */
  return n;
}

size_t ir_max_tensor_bytes(const Graph *g) {
  return g && g->max_tensor_bytes ? g->max_tensor_bytes : IR_DEFAULT_MAX_TENSOR_BYTES;
}

void ir_bytes_str(uint64_t n, char *buf, size_t size) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (n < 1024) {
    snprintf(buf, size, "%llu bytes", (unsigned long long)n);
    return;
  }
  double v = (double)n / 1024;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (v == (double)(uint64_t)v) snprintf(buf, size, "%llu %s", (unsigned long long)v, units[u]);
  else snprintf(buf, size, "%.1f %s", v, units[u]);
}

size_t ir_value_nbytes(const Value *v) {
  int64_t n = ir_value_numel(v);
  return n < 0 ? 0 : (size_t)n * dtype_size(v->dtype);
}

Status ir_value_set_type(Value *v, DType dt, int rank, const int64_t *dims, Error *err) {
  if (rank < 0 || rank > IR_MAX_RANK)
    return err_set(err, ST_UNSUPPORTED, "rank %d is outside 0..%d", rank, IR_MAX_RANK);
  if (!dtype_supported(dt))
    return err_set(err, ST_UNSUPPORTED, "element type %s (%d) is not supported", dtype_name(dt),
                   (int)dt);
  int64_t numel = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return err_set(err, ST_SHAPE, "dimension %d is negative (%" PRId64 ")", i, dims[i]);
    if (dims[i] > 0 && numel > IR_MAX_NUMEL / dims[i])
      return err_set(err, ST_SHAPE, "tensor has more than 2^40 elements");
    numel *= dims[i];
  }
  v->dtype = dt;
  v->rank = rank;
  for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
  for (int i = rank; i < IR_MAX_RANK; i++) v->dims[i] = 0;
  return ST_OK;
}

Value *ir_const_new(Graph *g, const char *name, DType dt, int rank, const int64_t *dims,
                    const void *data) {
  Value *v = value_alloc(g, name);
  if (!v) return NULL;
  if (ir_value_set_type(v, dt, rank, dims, NULL) != ST_OK) return NULL;
  size_t nb = ir_value_nbytes(v);
  v->data = arena_alloc(g->arena, nb);
  if (!v->data) return NULL;
  if (data && nb) memcpy(v->data, data, nb);
  v->const_origin = v->name;
  return v;
}

Value *ir_const_adopt(Graph *g, const char *name, DType dt, int rank, const int64_t *dims,
                      void *data) {
  Value *v = value_alloc(g, name);
  if (!v || ir_value_set_type(v, dt, rank, dims, NULL) != ST_OK) {
    free(data);
    return NULL;
  }
  if (g->num_adopted == g->cap_adopted) {
    int cap = g->cap_adopted ? 2 * g->cap_adopted : 64;
    void **grown = realloc(g->adopted, (size_t)cap * sizeof *grown);
    if (!grown) {
      free(data);
      return NULL;
    }
    g->adopted = grown;
    g->cap_adopted = cap;
  }
  g->adopted[g->num_adopted++] = data;
  g->adopted_sorted = false;
  v->data = data;
  v->const_origin = v->name;
  return v;
}

Status ir_value_set_data(Graph *g, Value *v, const void *data, Error *err) {
  if (!ir_value_is_static(v)) return err_set(err, ST_INTERNAL, "constant without a static type");
  size_t nb = ir_value_nbytes(v);
  void *d = arena_alloc(g->arena, nb);
  if (!d) return err_set(err, ST_NOMEM, "out of memory for a %zu-byte constant", nb);
  if (data && nb) memcpy(d, data, nb);
  v->data = d;
  return ST_OK;
}

char *ir_type_str(const Value *v, char *buf, size_t size) {
  size_t at = 0;
  int k = snprintf(buf, size, "%s", dtype_short_name(v->dtype));
  if (k < 0) return buf;
  at = (size_t)k;
  if (v->rank < 0) {
    snprintf(buf + (at < size ? at : size), at < size ? size - at : 0, "[?]");
    return buf;
  }
  for (int i = 0; i < v->rank && at < size; i++) {
    if (v->dims[i] < 0)
      k = snprintf(buf + at, size - at, "%s%s", i ? "," : "[",
                   v->dim_param[i] ? v->dim_param[i] : "?");
    else
      k = snprintf(buf + at, size - at, "%s%" PRId64, i ? "," : "[", v->dims[i]);
    if (k < 0) return buf;
    at += (size_t)k;
  }
  if (at < size) snprintf(buf + at, size - at, v->rank ? "]" : "[]");
  return buf;
}

Node *ir_node_new(Graph *g, OpKind op, const char *name, int num_inputs, int num_outputs) {
  if (num_inputs < 0 || num_outputs < 0) return NULL;
  if (!grow(g->arena, (void ***)&g->nodes, &g->cap_nodes, g->num_nodes + 1)) return NULL;
  Node *n = arena_alloc(g->arena, sizeof *n);
  if (!n) return NULL;
  n->op = op;
  n->name = arena_strdup(g->arena, name ? name : "");
  n->inputs = arena_calloc(g->arena, (size_t)num_inputs + 1, sizeof(Value *));
  n->outputs = arena_calloc(g->arena, (size_t)num_outputs + 1, sizeof(Value *));
  if (!n->name || !n->inputs || !n->outputs) return NULL;
  n->num_inputs = num_inputs;
  n->num_outputs = num_outputs;
  n->opset = g->opset;
  n->id = g->num_nodes;
  g->nodes[g->num_nodes++] = n;
  return n;
}

void ir_node_set_output(Node *n, int i, Value *v) {
  n->outputs[i] = v;
  if (v) v->producer = n;
}

static Status append_value(Graph *g, Value ***arr, int *num, Value *v, Error *err) {
  Value **n = arena_calloc(g->arena, (size_t)*num + 1, sizeof *n);
  if (!n) return err_set(err, ST_NOMEM, "out of memory");
  if (*num) memcpy(n, *arr, (size_t)*num * sizeof *n);
  n[(*num)++] = v;
  *arr = n;
  return ST_OK;
}

Status ir_graph_add_input(Graph *g, Value *v, Error *err) {
  v->is_input = true;
  return append_value(g, &g->inputs, &g->num_inputs, v, err);
}

Status ir_graph_add_output(Graph *g, Value *v, Error *err) {
  v->is_output = true;
  return append_value(g, &g->outputs, &g->num_outputs, v, err);
}

/* ---- attributes ---- */

const Attr *ir_attr(const Node *n, const char *name) {
  for (int i = 0; i < n->num_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int64_t ir_attr_int(const Node *n, const char *name, int64_t dflt) {
  const Attr *a = ir_attr(n, name);
  return a && a->kind == ATTR_INT ? a->i : dflt;
}

float ir_attr_float(const Node *n, const char *name, float dflt) {
  const Attr *a = ir_attr(n, name);
  if (!a) return dflt;
  if (a->kind == ATTR_FLOAT) return a->f;
  if (a->kind == ATTR_INT) return (float)a->i;
  return dflt;
}

const char *ir_attr_string(const Node *n, const char *name, const char *dflt) {
  const Attr *a = ir_attr(n, name);
  return a && a->kind == ATTR_STRING ? a->s : dflt;
}

int ir_attr_ints(const Node *n, const char *name, const int64_t **out) {
  const Attr *a = ir_attr(n, name);
  if (!a || a->kind != ATTR_INTS) {
    *out = NULL;
    return -1;
  }
  *out = a->ints;
  return a->n;
}

int ir_attr_floats(const Node *n, const char *name, const float **out) {
  const Attr *a = ir_attr(n, name);
  if (!a || a->kind != ATTR_FLOATS) {
    *out = NULL;
    return -1;
  }
  *out = a->floats;
  return a->n;
}

static Status copy_attr(Arena *ar, Attr *dst, const Attr *src, Error *err) {
  *dst = *src;
  dst->name = arena_strdup(ar, src->name);
  if (!dst->name) goto nomem;
  if (src->s && !(dst->s = arena_strdup(ar, src->s))) goto nomem;
  if (src->n > 0) {
    size_t n = (size_t)src->n;
    if (src->ints) {
      if (!(dst->ints = arena_calloc(ar, n, sizeof(int64_t)))) goto nomem;
      memcpy(dst->ints, src->ints, n * sizeof(int64_t));
    }
    if (src->floats) {
      if (!(dst->floats = arena_calloc(ar, n, sizeof(float)))) goto nomem;
      memcpy(dst->floats, src->floats, n * sizeof(float));
    }
    if (src->strings) {
      if (!(dst->strings = arena_calloc(ar, n, sizeof(char *)))) goto nomem;
      for (size_t i = 0; i < n; i++)
        if (!(dst->strings[i] = arena_strdup(ar, src->strings[i]))) goto nomem;
    }
  }
  if (src->t) {
    Tensor *t = arena_alloc(ar, sizeof *t);
    if (!t) goto nomem;
    *t = *src->t;
    int64_t numel = 1;
    for (int i = 0; i < t->rank; i++) numel *= t->dims[i];
    size_t nb = (size_t)numel * dtype_size(t->dtype);
    if (!(t->data = arena_alloc(ar, nb))) goto nomem;
    if (nb && src->t->data) memcpy(t->data, src->t->data, nb);
    dst->t = t;
  }
  return ST_OK;
nomem:
  return err_set(err, ST_NOMEM, "out of memory copying attribute '%s'", src->name);
}

Status ir_node_set_attr(Graph *g, Node *n, const Attr *a, Error *err) {
  Attr copy;
  TRY(copy_attr(g->arena, &copy, a, err));
  for (int i = 0; i < n->num_attrs; i++)
    if (strcmp(n->attrs[i].name, a->name) == 0) {
      n->attrs[i] = copy;
      return ST_OK;
    }
  Attr *arr = arena_calloc(g->arena, (size_t)n->num_attrs + 1, sizeof *arr);
  if (!arr) return err_set(err, ST_NOMEM, "out of memory");
  int at = 0;
  while (at < n->num_attrs && strcmp(n->attrs[at].name, a->name) < 0) at++;
  if (at) memcpy(arr, n->attrs, (size_t)at * sizeof *arr);
  arr[at] = copy;
  if (n->num_attrs > at)
    memcpy(arr + at + 1, n->attrs + at, (size_t)(n->num_attrs - at) * sizeof *arr);
  n->attrs = arr;
  n->num_attrs++;
  return ST_OK;
}

Status ir_node_set_attr_int(Graph *g, Node *n, const char *name, int64_t v, Error *err) {
  Attr a = {.name = (char *)name, .kind = ATTR_INT, .i = v};
  return ir_node_set_attr(g, n, &a, err);
}

Status ir_node_set_attr_ints(Graph *g, Node *n, const char *name, const int64_t *v, int count,
                             Error *err) {
  Attr a = {.name = (char *)name, .kind = ATTR_INTS, .n = count, .ints = (int64_t *)v};
  if (count == 0) a.ints = NULL;
  return ir_node_set_attr(g, n, &a, err);
}

Status ir_node_set_attr_float(Graph *g, Node *n, const char *name, float v, Error *err) {
  Attr a = {.name = (char *)name, .kind = ATTR_FLOAT, .f = v};
  return ir_node_set_attr(g, n, &a, err);
}

Status ir_node_set_attr_string(Graph *g, Node *n, const char *name, const char *s, Error *err) {
  Attr a = {.name = (char *)name, .kind = ATTR_STRING, .s = (char *)s};
  return ir_node_set_attr(g, n, &a, err);
}

void ir_node_remove_attr(Node *n, const char *name) {
  for (int i = 0; i < n->num_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) {
      memmove(n->attrs + i, n->attrs + i + 1, (size_t)(n->num_attrs - i - 1) * sizeof(Attr));
      n->num_attrs--;
      return;
    }
}

/* ---- mutation ---- */

void ir_replace_uses(Graph *g, Value *from, Value *to) {
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j] == from) n->inputs[j] = to;
  }
  for (int i = 0; i < g->num_outputs; i++)
    if (g->outputs[i] == from) {
      g->outputs[i] = to;
      from->is_output = false;
      to->is_output = true;
    }
}

int ir_use_count(const Graph *g, const Value *v) {
  int c = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j] == v) c++;
  }
  for (int i = 0; i < g->num_outputs; i++)
    if (g->outputs[i] == v) c++;
  return c;
}

Status ir_compact(Graph *g, Error *err) {
  int k = 0;
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead) g->nodes[k++] = g->nodes[i];
  g->num_nodes = k;
  /* A value survives if it is an input, an output, or touched by a live node. */
  unsigned char *live = calloc((size_t)g->num_values + 1, 1);
  if (!live) return err_set(err, ST_NOMEM, "out of memory");
  for (int i = 0; i < g->num_values; i++) g->values[i]->id = i;
  for (int i = 0; i < g->num_inputs; i++) live[g->inputs[i]->id] = 1;
  for (int i = 0; i < g->num_outputs; i++) live[g->outputs[i]->id] = 1;
  for (int i = 0; i < g->num_nodes; i++) {
    Node *n = g->nodes[i];
    n->id = i;
    for (int j = 0; j < n->num_inputs; j++)
      if (n->inputs[j]) live[n->inputs[j]->id] = 1;
    for (int j = 0; j < n->num_outputs; j++)
      if (n->outputs[j]) live[n->outputs[j]->id] = 1;
  }
  int v = 0;
  for (int i = 0; i < g->num_values; i++)
    if (live[i]) {
      g->values[v] = g->values[i];
      g->values[v]->id = v;
      v++;
    }
  g->num_values = v;
  free(live);
  return ST_OK;
}

/* Kahn's algorithm keyed on current order so that an already sorted graph
 * is left exactly as it is. */
/* A binary min-heap of node indices (ir_toposort). */
typedef struct IntHeap {
  int *v;
  int n;
} IntHeap;

static void heap_push(IntHeap *h, int x) {
  int i = h->n++;
  while (i > 0 && h->v[(i - 1) / 2] > x) {
    h->v[i] = h->v[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->v[i] = x;
}

static int heap_pop(IntHeap *h) {
  int top = h->v[0], x = h->v[--h->n], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->v[c + 1] < h->v[c]) c++;
    if (h->v[c] >= x) break;
    h->v[i] = h->v[c];
    i = c;
  }
  h->v[i] = x;
  return top;
}

Status ir_toposort(Graph *g, Error *err) {
  int nn = g->num_nodes, nv = g->num_values;
  for (int i = 0; i < nv; i++) g->values[i]->id = i;
  for (int i = 0; i < nn; i++) g->nodes[i]->id = i;
  int *producer = malloc(sizeof(int) * ((size_t)nv + 1));
  int *pending = calloc((size_t)nn + 1, sizeof(int));
  int *order = malloc(sizeof(int) * ((size_t)nn + 1));
  unsigned char *done = calloc((size_t)nn + 1, 1);
  Status st = ST_OK;
  if (!producer || !pending || !order || !done) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < nv; i++) producer[i] = -1;
  for (int i = 0; i < nn; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->num_outputs; j++) {
      Value *o = n->outputs[j];
      if (!o) continue;
      if (producer[o->id] >= 0) {
        st = ir_node_error(err, ST_INVALID, g, n, "output '%s' is already defined by node \"%s\"",
                           o->name, g->nodes[producer[o->id]]->name);
        goto out;
      }
      if (o->is_input || o->data) {
        st = ir_node_error(err, ST_INVALID, g, n,
                           "output '%s' is also a graph input or initializer", o->name);
        goto out;
      }
      producer[o->id] = i;
    }
  }
  for (int i = 0; i < nn; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++) {
      Value *in = n->inputs[j];
      if (!in || in->is_input || in->data) continue;
      if (producer[in->id] < 0) {
        st = ir_node_error(err, ST_INVALID, g, n, "input '%s' is not defined by any node, "
                           "initializer or graph input", in->name);
        goto out;
      }
      pending[i]++;
    }
  }
  /* The order of repeated scans in original order (stable: sorted input
   * keeps its order), without the scans: a node that becomes ready behind
   * the scan position joins this sweep (`now`), one before it the next
   * sweep (`later`); each sweep takes its nodes in index order.  Consumer
   * edges in CSR form make it O(E log n). */
  int placed = 0;
  int *edge_start = calloc((size_t)nn + 2, sizeof(int));
  int *edges = NULL, *fill = NULL;
  IntHeap now = {0}, later = {0};
  if (!edge_start) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < nn; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++) {
      Value *in = n->inputs[j];
      if (in && !in->is_input && !in->data) edge_start[producer[in->id] + 1]++;
    }
  }
  for (int i = 0; i < nn; i++) edge_start[i + 1] += edge_start[i];
  edges = malloc(sizeof(int) * ((size_t)edge_start[nn] + 1));
  fill = malloc(sizeof(int) * ((size_t)nn + 1));
  now.v = malloc(sizeof(int) * ((size_t)nn + 1));
  later.v = malloc(sizeof(int) * ((size_t)nn + 1));
  if (!edges || !fill || !now.v || !later.v) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto sorted_out;
  }
  memcpy(fill, edge_start, sizeof(int) * (size_t)nn);
  for (int i = 0; i < nn; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->num_inputs; j++) {
      Value *in = n->inputs[j];
      if (in && !in->is_input && !in->data) edges[fill[producer[in->id]]++] = i;
    }
  }
  for (int i = 0; i < nn; i++)
    if (!pending[i]) heap_push(&now, i);
  while (now.n > 0) {
    while (now.n > 0) {
      int i = heap_pop(&now);
      done[i] = 1;
      order[placed++] = i;
      for (int e = edge_start[i]; e < edge_start[i + 1]; e++) {
        int c = edges[e];
        if (--pending[c] == 0) heap_push(c > i ? &now : &later, c);
      }
    }
    IntHeap t = now;
    now = later;
    later = t;
  }
sorted_out:
  free(edge_start);
  free(edges);
  free(fill);
  free(now.v);
  free(later.v);
  if (st != ST_OK) goto out;
  if (placed < nn) {
    for (int i = 0; i < nn; i++)
      if (!done[i]) {
        st = ir_node_error(err, ST_INVALID, g, g->nodes[i],
                           "the graph has a cycle through this node");
        goto out;
      }
  }
  Node **sorted = arena_calloc(g->arena, (size_t)nn + 1, sizeof(Node *));
  if (!sorted) {
    st = err_set(err, ST_NOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < nn; i++) {
    sorted[i] = g->nodes[order[i]];
    sorted[i]->id = i;
  }
  g->nodes = sorted;
  g->cap_nodes = nn + 1;
out:
  free(producer);
  free(pending);
  free(order);
  free(done);
  return st;
}

/* ---- messages ---- */

static void node_head(char *buf, size_t size, const Graph *g, const Node *n) {
  snprintf(buf, size, "%s: node \"%s\" (%s, opset %d): error", g ? g->source : "<memory>",
           n->name ? n->name : "", op_name(n->op), n->opset);
}

Status ir_node_error(Error *err, Status s, const Graph *g, const Node *n, const char *fmt, ...) {
  if (!err) return s;
  char head[512], body[ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  node_head(head, sizeof head, g, n);
  return err_set(err, s, "%s: %s", head, body);
}

Status ir_node_wrap_error(Error *err, const Graph *g, const Node *n) {
  if (!err) return ST_INTERNAL;
  char head[512];
  node_head(head, sizeof head, g, n);
  if (strncmp(err->msg, head, strlen(head)) == 0) return err->status; /* already wrapped */
  return err_prefix(err, "%s", head);
}
