/*
 * IR printers: the text form (ir_print) used by --print-ir-* and the golden
 * tests, and Graphviz DOT (ir_print_dot).  Both are pure functions of the
 * graph's structure: names are renumbered here (graph inputs keep their
 * sanitized ONNX names, constants are %c<k> in order of first use, node
 * results %<k> in node order), so two runs, or two equivalent graphs, print
 * the same bytes.  The format is described in docs/IR.md.  The printers
 * never fail on a broken graph (they are used to debug one): a value they
 * cannot name prints as %?"onnx-name".
 */
#include "print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PRINT_INLINE_MAX 16 /* constants with at most this many elements print their values */

/* Printed identity of every value: kind + number, or the input's name. */
typedef enum { PV_NONE, PV_INPUT, PV_CONST, PV_RESULT } PrintKind;
typedef struct PrintVal {
  PrintKind kind;
  int num;
  char *name; /* PV_INPUT: sanitized, unique (malloc'ed) */
} PrintVal;

typedef struct Namer {
  const Graph *g;
  PrintVal *pv;        /* indexed by Value.id when g->values[id] is that value */
  const Value **consts; /* constants in order of first use */
  int num_consts;
} Namer;

static PrintVal *slot(const Namer *nm, const Value *v) {
  if (!v || !nm->pv || v->id < 0 || v->id >= nm->g->num_values || nm->g->values[v->id] != v)
    return NULL;
  return &nm->pv[v->id];
}

static bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

/* Input names must not look like %<k> or %c<k> and must stay unique. */
static bool name_reserved(const char *s) {
  const char *p = s;
  if (*p == 'c') p++;
  if (!*p) return p != s ? false : true;
  while (*p >= '0' && *p <= '9') p++;
  return *p == '\0';
}

static char *sanitize_input_name(const Namer *nm, int index, const char *onnx) {
  size_t len = strlen(onnx ? onnx : "");
  char *s = malloc(len + 24);
  if (!s) return NULL;
  for (size_t i = 0; i < len; i++) s[i] = is_ident_char(onnx[i]) ? onnx[i] : '_';
  s[len] = '\0';
  bool clash = name_reserved(s);
  for (int k = 0; k < index && !clash; k++) {
    const PrintVal *o = slot(nm, nm->g->inputs[k]);
    if (o && o->kind == PV_INPUT && o->name && strcmp(o->name, s) == 0) clash = true;
  }
  if (clash) snprintf(s + len, 24, "_%d", index);
  return s;
}

static void namer_free(Namer *nm) {
  if (nm->pv)
    for (int i = 0; i < nm->g->num_values; i++) free(nm->pv[i].name);
  free(nm->pv);
  free(nm->consts);
}

static void note_const(Namer *nm, const Value *v) {
  PrintVal *p = slot(nm, v);
  if (!p || p->kind != PV_NONE || !ir_value_is_const(v) || v->is_input) return;
  p->kind = PV_CONST;
  p->num = nm->num_consts;
  nm->consts[nm->num_consts++] = v;
}

/* Returns false only when memory runs out (the caller then prints a note). */
static bool namer_init(Namer *nm, const Graph *g) {
  memset(nm, 0, sizeof *nm);
  nm->g = g;
  nm->pv = calloc((size_t)g->num_values + 1, sizeof *nm->pv);
  nm->consts = calloc((size_t)g->num_values + 1, sizeof *nm->consts);
  if (!nm->pv || !nm->consts) return false;
  for (int i = 0; i < g->num_inputs; i++) {
    PrintVal *p = slot(nm, g->inputs[i]);
    if (!p || p->kind != PV_NONE) continue;
    p->kind = PV_INPUT;
    p->num = i;
    if (!(p->name = sanitize_input_name(nm, i, g->inputs[i]->name))) return false;
  }
  int results = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++) note_const(nm, n->inputs[j]);
    for (int j = 0; j < n->num_outputs; j++) {
      PrintVal *p = slot(nm, n->outputs[j]);
      if (!p || p->kind != PV_NONE) continue;
      p->kind = PV_RESULT;
      p->num = results++;
    }
  }
  for (int i = 0; i < g->num_outputs; i++) note_const(nm, g->outputs[i]);
  return true;
}

/* Writes s as a C-like string literal so names with quotes or newlines stay on one line. */
static void put_quoted(FILE *out, const char *s, bool dot) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p == '\n') fputs("\\n", out);
    else if (*p < 0x20 || *p == 0x7f) fprintf(out, dot ? "?" : "\\x%02x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

static void put_value(FILE *out, const Namer *nm, const Value *v) {
  if (!v) {
    fputc('_', out);
    return;
  }
  const PrintVal *p = slot(nm, v);
  switch (p ? p->kind : PV_NONE) {
  case PV_INPUT: fprintf(out, "%%%s", p->name); break;
  case PV_CONST: fprintf(out, "%%c%d", p->num); break;
  case PV_RESULT: fprintf(out, "%%%d", p->num); break;
  case PV_NONE:
    fputs("%?", out);
    put_quoted(out, v->name, false);
    break;
  }
}

static void put_type(FILE *out, const Value *v) {
  char buf[256];
  fputs(ir_type_str(v, buf, sizeof buf), out);
}

/* One element of a buffer as text: %.9g for floats, exact for integers. */
static void put_elem(FILE *out, DType dt, const void *data, size_t i) {
  if (dtype_is_float(dt)) fprintf(out, "%.9g", dtype_load_f64(dt, data, i));
  else if (dtype_is_unsigned_int(dt)) fprintf(out, "%" PRIu64, dtype_load_u64(dt, data, i));
  else fprintf(out, "%" PRId64, dtype_load_i64(dt, data, i));
}

/* "[1, 768, -1]" (flat, row-major); a scalar prints bare. */
static void put_elems(FILE *out, DType dt, int rank, const void *data, int64_t numel) {
  if (rank == 0) {
    put_elem(out, dt, data, 0);
    return;
  }
  fputc('[', out);
  for (int64_t i = 0; i < numel; i++) {
    if (i) fputs(", ", out);
    put_elem(out, dt, data, (size_t)i);
  }
  fputc(']', out);
}

static void put_attr_value(FILE *out, const Attr *a) {
  switch (a->kind) {
  case ATTR_INT: fprintf(out, "%" PRId64, a->i); break;
  case ATTR_FLOAT: fprintf(out, "%.9g", (double)a->f); break;
  case ATTR_STRING: put_quoted(out, a->s, false); break;
  case ATTR_INTS:
  case ATTR_FLOATS:
  case ATTR_STRINGS:
    fputc('[', out);
    for (int i = 0; i < a->n; i++) {
      if (i) fputc(',', out);
      if (a->kind == ATTR_INTS && a->ints) fprintf(out, "%" PRId64, a->ints[i]);
      else if (a->kind == ATTR_FLOATS && a->floats) fprintf(out, "%.9g", (double)a->floats[i]);
      else if (a->kind == ATTR_STRINGS && a->strings) put_quoted(out, a->strings[i], false);
    }
    fputc(']', out);
    break;
  case ATTR_TENSOR: {
    const Tensor *t = a->t;
    if (!t) {
      fputs("tensor(?)", out);
      break;
    }
    Value tmp = {.dtype = t->dtype, .rank = t->rank};
    int64_t numel = 1;
    for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++) {
      tmp.dims[i] = t->dims[i];
      numel *= t->dims[i];
    }
    fputs("tensor(", out);
    put_type(out, &tmp);
    if (t->data && numel <= PRINT_INLINE_MAX) {
      fputc(' ', out);
      put_elems(out, t->dtype, t->rank, t->data, numel);
    }
    fputc(')', out);
    break;
  }
  case ATTR_GRAPH: /* the body itself prints indented under the node */
    fputs("graph @", out);
    for (const char *p = a->graph ? a->graph->name : "?"; p && *p; p++)
      fputc(is_ident_char(*p) ? *p : '_', out);
    break;
  }
}

/* Attributes are kept sorted by ir_node_set_attr, but a graph built by hand
 * may not be: sort indices here so the text never depends on build order. */
static void put_attrs(FILE *out, const Node *n) {
  if (n->num_attrs <= 0) return;
  int order[64];
  int count = n->num_attrs < 64 ? n->num_attrs : 64;
  for (int i = 0; i < count; i++) order[i] = i;
  for (int i = 1; i < count; i++)
    for (int j = i; j > 0 && strcmp(n->attrs[order[j - 1]].name, n->attrs[order[j]].name) > 0;
         j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  fputs(" {", out);
  for (int i = 0; i < count; i++) {
    const Attr *a = &n->attrs[order[i]];
    fprintf(out, "%s%s=", i ? ", " : "", a->name);
    put_attr_value(out, a);
  }
  if (n->num_attrs > count) fprintf(out, ", ...%d more", n->num_attrs - count);
  fputc('}', out);
}

static void put_const_line(FILE *out, const Namer *nm, const Value *c) {
  fputs("  ", out);
  put_value(out, nm, c);
  fputs(" = const ", out);
  put_type(out, c);
  int64_t numel = ir_value_numel(c);
  if (numel >= 0 && numel <= PRINT_INLINE_MAX) {
    fputc(' ', out);
    put_elems(out, c->dtype, c->rank, c->data, numel);
  }
  fprintf(out, "  # %zu B", ir_value_nbytes(c));
  if (c->const_origin && *c->const_origin) {
    fputc(' ', out);
    put_quoted(out, c->const_origin, false);
  }
  fputc('\n', out);
}

/* A nested graph (Loop body), printed with ir_print into memory and
 * re-emitted indented by four spaces, so it numbers its values on its own.
 * Depth is bounded by the frontend (IR_MAX_GRAPH_DEPTH). */
static void put_nested(FILE *out, const Graph *body) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) {
    fputs("    ; (out of memory while printing a nested graph)\n", out);
    return;
  }
  ir_print(body, mem);
  fclose(mem);
  bool at_line_start = true;
  for (size_t i = 0; text && i < len; i++) {
    if (at_line_start) fputs("    ", out);
    fputc(text[i], out);
    at_line_start = text[i] == '\n';
  }
  free(text);
}

static void put_node_line(FILE *out, const Namer *nm, const Node *n) {
  fputs("  ", out);
  for (int j = 0; j < n->num_outputs; j++) {
    if (j) fputs(", ", out);
    put_value(out, nm, n->outputs[j]);
  }
  fprintf(out, " = %s", op_name(n->op));
  for (int j = 0; j < n->num_inputs; j++) {
    fputs(j ? ", " : " ", out);
    put_value(out, nm, n->inputs[j]);
  }
  put_attrs(out, n);
  fputs(" :", out);
  bool first = true;
  for (int j = 0; j < n->num_outputs; j++) {
    if (!n->outputs[j]) continue;
    fputs(first ? " " : ", ", out);
    put_type(out, n->outputs[j]);
    first = false;
  }
  if (n->name && *n->name) {
    fputs("  # ", out);
    put_quoted(out, n->name, false);
  }
  fputc('\n', out);
  for (int j = 0; j < n->num_attrs; j++)
    if (n->attrs[j].kind == ATTR_GRAPH && n->attrs[j].graph)
      put_nested(out, n->attrs[j].graph);
}

void ir_print(const Graph *g, FILE *out) {
  Namer nm;
  if (!namer_init(&nm, g)) {
    fprintf(out, "; (out of memory while printing graph @%s)\n", g->name);
    namer_free(&nm);
    return;
  }
  fputs("graph @", out);
  for (const char *p = g->name; p && *p; p++) fputc(is_ident_char(*p) ? *p : '_', out);
  fputc('(', out);
  for (int i = 0; i < g->num_inputs; i++) {
    if (i) fputs(", ", out);
    put_value(out, &nm, g->inputs[i]);
    fputs(": ", out);
    put_type(out, g->inputs[i]);
  }
  fputs(") -> (", out);
  for (int i = 0; i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    if (i) fputs(", ", out);
    put_value(out, &nm, v);
    fputs(": ", out);
    put_type(out, v);
    /* Result numbers say nothing about the model's output names, which the
     * user's code depends on: print them so passes that keep them are seen to. */
    const PrintVal *p = slot(&nm, v);
    if (!p || p->kind != PV_INPUT) {
      fputc(' ', out);
      put_quoted(out, v->name, false);
    }
  }
  fputs(") {\n", out);
  for (int i = 0; i < nm.num_consts; i++) put_const_line(out, &nm, nm.consts[i]);
  for (int i = 0; i < g->num_nodes; i++)
    if (!g->nodes[i]->dead) put_node_line(out, &nm, g->nodes[i]);
  fputs("}\n", out);
  namer_free(&nm);
}

/* ---- Graphviz ----------------------------------------------------------- */

/* Position of n in g->nodes (Node.id may be stale between compactions). */
static int node_index(const Graph *g, const Node *n) {
  if (n->id >= 0 && n->id < g->num_nodes && g->nodes[n->id] == n) return n->id;
  for (int i = 0; i < g->num_nodes; i++)
    if (g->nodes[i] == n) return i;
  return -1;
}

/* The DOT node an edge for value v starts from; false if it has none. */
static bool dot_source(FILE *out, const Namer *nm, const Value *v) {
  const PrintVal *p = slot(nm, v);
  int at = v->producer && !v->producer->dead ? node_index(nm->g, v->producer) : -1;
  if (at >= 0 && !ir_value_is_const(v)) {
    fprintf(out, "n%d", at);
    return true;
  }
  if (!p) return false;
  if (p->kind == PV_INPUT) fprintf(out, "in%d", p->num);
  else if (p->kind == PV_CONST) fprintf(out, "c%d", p->num);
  else return false;
  return true;
}

static void dot_edge_label(FILE *out, const Namer *nm, const Value *v) {
  char name[64], type[256];
  FILE *mem = fmemopen(name, sizeof name, "w");
  if (mem) {
    put_value(mem, nm, v);
    fputc('\0', mem);
    fclose(mem);
  } else {
    snprintf(name, sizeof name, "?");
  }
  name[sizeof name - 1] = '\0';
  ir_type_str(v, type, sizeof type);
  char label[352];
  snprintf(label, sizeof label, "%s: %s", name, type);
  fputs(" [label=", out);
  put_quoted(out, label, true);
  fputs("]", out);
}

void ir_print_dot(const Graph *g, FILE *out) {
  Namer nm;
  if (!namer_init(&nm, g)) {
    fprintf(out, "// out of memory while printing graph %s\ndigraph g {}\n", g->name);
    namer_free(&nm);
    return;
  }
  fputs("digraph ", out);
  put_quoted(out, g->name, true);
  fputs(" {\n  node [fontname=\"monospace\"];\n  edge [fontname=\"monospace\", fontsize=10];\n",
        out);
  char label[512];
  for (int i = 0; i < g->num_inputs; i++) {
    const Value *v = g->inputs[i];
    char type[256];
    const PrintVal *p = slot(&nm, v);
    snprintf(label, sizeof label, "input %%%s\n%s", p && p->name ? p->name : "?",
             ir_type_str(v, type, sizeof type));
    fprintf(out, "  in%d [shape=ellipse, label=", i);
    put_quoted(out, label, true);
    fputs("];\n", out);
  }
  for (int i = 0; i < nm.num_consts; i++) {
    const Value *c = nm.consts[i];
    char type[256];
    snprintf(label, sizeof label, "%%c%d = const %s", i, ir_type_str(c, type, sizeof type));
    fprintf(out, "  c%d [shape=plaintext, label=", i);
    put_quoted(out, label, true);
    fputs("];\n", out);
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    snprintf(label, sizeof label, "%s%s%s", op_name(n->op), n->name && *n->name ? "\n" : "",
             n->name ? n->name : "");
    fprintf(out, "  n%d [shape=box, label=", i);
    put_quoted(out, label, true);
    fputs("];\n", out);
  }
  for (int i = 0; i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    snprintf(label, sizeof label, "output %s", v->name ? v->name : "");
    fprintf(out, "  out%d [shape=ellipse, label=", i);
    put_quoted(out, label, true);
    fputs("];\n", out);
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->num_inputs; j++) {
      const Value *v = n->inputs[j];
      if (!v) continue;
      fputs("  ", out);
      if (!dot_source(out, &nm, v)) fprintf(out, "missing%d_%d", i, j);
      fprintf(out, " -> n%d", i);
      dot_edge_label(out, &nm, v);
      fputs(";\n", out);
    }
  }
  for (int i = 0; i < g->num_outputs; i++) {
    const Value *v = g->outputs[i];
    fputs("  ", out);
    if (!dot_source(out, &nm, v)) fprintf(out, "missing_out%d", i);
    fprintf(out, " -> out%d", i);
    dot_edge_label(out, &nm, v);
    fputs(";\n", out);
  }
  fputs("}\n", out);
  namer_free(&nm);
}
