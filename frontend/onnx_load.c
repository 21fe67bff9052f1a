/*
 * The model walk: ModelProto -> Graph.  Checks the IR version and opset,
 * turns initializers into constants, graph inputs into runtime inputs
 * (unless an initializer of the same name makes them constants), and every
 * node into an IR node after attribute conversion and canonicalization
 * (normalize.c).  Constant nodes become constant values, and calls of
 * model-local functions are inlined here (walk_function) with fresh value
 * names.  Unknown ops are collected and reported together at the end.
 * The protobuf is freed before returning; on error so is the graph.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_internal.h"

#define MAX_LISTED_UNSUPPORTED 40

/* `source: node "name" (OpType, opset N): error: ` + the bare reason already in err. */
static Status node_ctx(Loader *L, const char *name, const char *op_type, int opset) {
  return err_prefix(L->err, "%s: node \"%s\" (%s, opset %d): error", L->g->source, name, op_type,
                    opset);
}

static Status node_fail(Loader *L, Status s, const char *name, const char *op_type, int opset,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static Status node_fail(Loader *L, Status s, const char *name, const char *op_type, int opset,
                        const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_setv(L->err, s, fmt, ap);
  va_end(ap);
  return node_ctx(L, name, op_type, opset);
}

static Status nomem(Loader *L) { return err_set(L->err, ST_NOMEM, "%s: out of memory", L->g->source); }

static const char *str_or_empty(const char *s) { return s ? s : ""; }

/* Opset of a non-default domain as imported by the model (0 if not). */
static int domain_opset(const Loader *L, const char *domain) {
  for (size_t i = 0; i < L->m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = L->m->opset_import[i];
    if (o && strcmp(str_or_empty(o->domain), str_or_empty(domain)) == 0 && o->has_version &&
        o->version >= 0 && o->version < 1000000)
      return (int)o->version;
  }
  return 0;
}

static void note_unsupported(Loader *L, const char *name, const char *op_type, const char *domain,
                             int opset) {
  if (L->num_unsup++ >= MAX_LISTED_UNSUPPORTED) return;
  size_t room = sizeof L->unsup - L->unsup_len;
  int k = snprintf(L->unsup + L->unsup_len, room, "\n  node \"%s\" (%s, domain \"%s\", opset %d)",
                   name, op_type, domain, opset);
  if (k > 0) L->unsup_len += (size_t)k < room ? (size_t)k : room - 1;
}

/* ---- names ---- */

static Value *lookup_input(Loader *L, Scope *S, const char *name) {
  if (!name || !*name) return NULL;
  SymEntry *e = symtab_find(&S->names, name);
  if (e) return e->v;
  if (S->body) { /* a Loop body reading a value of an enclosing scope */
    Value *cv;
    bool found;
    if (fe_body_capture(L, S, name, &cv, &found) != ST_OK) return (Value *)-1;
    if (found) return cv;
  }
  /* Used before any definition: a placeholder that a later node may define;
   * if none does, ir_toposort reports the dangling name. */
  char *vname = arena_printf(L->g->arena, "%s%s", S->prefix, name);
  Value *v = vname ? ir_value_new(L->g, vname) : NULL;
  if (!v || !symtab_put(&S->names, name, v, false)) return (Value *)-1;
  return v;
}

/* The value a node output defines; NULL for "" (absent).  *dup set when
 * the name already has a definition. */
static Status define_output(Loader *L, Scope *S, const char *name, Value **out, bool *dup) {
  *out = NULL;
  *dup = false;
  if (!name || !*name) return ST_OK;
  SymEntry *e = symtab_find(&S->names, name);
  if (e && e->defined) {
    *dup = true;
    return ST_OK;
  }
  if (e) {
    e->defined = true;
    if (!e->v) { /* a formal input bound to an absent actual: shadowing it is a redefinition */
      *dup = true;
      return ST_OK;
    }
    *out = e->v;
    return ST_OK;
  }
  char *vname = arena_printf(L->g->arena, "%s%s", S->prefix, name);
  Value *v = vname ? ir_value_new(L->g, vname) : NULL;
  if (!v || !symtab_put(&S->names, name, v, true)) return nomem(L);
  *out = v;
  return ST_OK;
}

/* ---- types ---- */

/* Reads a ValueInfo's tensor type into v (dims may stay unknown). */
static Status read_value_type(Loader *L, const Onnx__ValueInfoProto *vi, Value *v, bool set) {
  const char *name = str_or_empty(vi->name);
  const Onnx__TypeProto *tp = vi->type;
  if (!tp) {
    if (set) return err_set(L->err, ST_INVALID, "%s: error: input \"%s\" has no type",
                            L->g->source, name);
    return ST_OK;
  }
  const char *kind = NULL;
  switch (tp->value_case) {
  case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: break;
  case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: kind = "sequence types are not supported"; break;
  case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: kind = "optional types are not supported"; break;
  case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: kind = "map types are not supported"; break;
  case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: kind = "sparse tensor types are not supported"; break;
  case ONNX__TYPE_PROTO__VALUE_OPAQUE_TYPE: kind = "opaque types are not supported"; break;
  default:
    if (!set) return ST_OK;
    kind = "the type is empty";
    break;
  }
  if (kind)
    return err_set(L->err, tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET ? ST_INVALID
                                                                            : ST_UNSUPPORTED,
                   "%s: error: value \"%s\": %s", L->g->source, name, kind);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (!tt || !tt->has_elem_type) {
    if (set) return err_set(L->err, ST_INVALID, "%s: error: input \"%s\" has no element type",
                            L->g->source, name);
    return ST_OK;
  }
  DType dt;
  if (fe_dtype_from_onnx(tt->elem_type, &dt, L->err) != ST_OK)
    return err_prefix(L->err, "%s: error: value \"%s\"", L->g->source, name);
  if (!set) return ST_OK;
  v->dtype = dt;
  if (!tt->shape) return ST_OK; /* rank unknown: --input-shape must give it */
  if (tt->shape->n_dim > IR_MAX_RANK)
    return err_set(L->err, ST_UNSUPPORTED, "%s: error: input \"%s\" has rank %zu, above %d",
                   L->g->source, name, tt->shape->n_dim, IR_MAX_RANK);
  v->rank = (int)tt->shape->n_dim;
  for (int i = 0; i < v->rank; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    v->dims[i] = IR_DIM_UNKNOWN;
    if (!d) continue;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      if (d->dim_value < 0)
        return err_set(L->err, ST_INVALID, "%s: error: input \"%s\" dim %d is negative (%" PRId64
                       ")", L->g->source, name, i, d->dim_value);
      if (d->dim_value > IR_MAX_NUMEL)
        return err_set(L->err, ST_INVALID, "%s: error: input \"%s\" dim %d is too large (%" PRId64
                       ")", L->g->source, name, i, d->dim_value);
      v->dims[i] = d->dim_value;
    } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
               d->dim_param && *d->dim_param) {
      if (!(v->dim_param[i] = arena_strdup(L->g->arena, d->dim_param))) return nomem(L);
    }
  }
  return ST_OK;
}

/* ---- nodes ---- */

static Status walk_nodes(Loader *L, Scope *S, Onnx__NodeProto *const *nodes, size_t n);

/* A Constant node: its output becomes a constant value. */
static Status make_constant(Loader *L, Scope *S, const Onnx__NodeProto *np, const char *name,
                            const Attr *attrs, int num_attrs) {
  const char *op = "Constant";
  if (np->n_output != 1 || !np->output[0] || !*np->output[0])
    return node_fail(L, ST_INVALID, name, op, S->opset, "Constant needs exactly one output");
  if (np->n_input != 0)
    return node_fail(L, ST_INVALID, name, op, S->opset, "Constant takes no inputs");
  if (num_attrs != 1)
    return node_fail(L, ST_INVALID, name, op, S->opset,
                     "Constant needs exactly one value attribute, has %d", num_attrs);
  const Attr *a = &attrs[0];
  DType dt;
  int rank = 0;
  int64_t dims[IR_MAX_RANK] = {0};
  const void *data;
  float f;
  if (strcmp(a->name, "value") == 0 && a->kind == ATTR_TENSOR) {
    dt = a->t->dtype;
    rank = a->t->rank;
    memcpy(dims, a->t->dims, sizeof dims);
    data = a->t->data;
  } else if (strcmp(a->name, "value_float") == 0 && a->kind == ATTR_FLOAT) {
    dt = DT_FLOAT32;
    data = &a->f;
  } else if (strcmp(a->name, "value_int") == 0 && a->kind == ATTR_INT) {
    dt = DT_INT64;
    data = &a->i;
  } else if (strcmp(a->name, "value_floats") == 0 && a->kind == ATTR_FLOATS) {
    dt = DT_FLOAT32;
    rank = 1;
    dims[0] = a->n;
    data = a->floats ? (const void *)a->floats : (const void *)&f;
  } else if (strcmp(a->name, "value_ints") == 0 && a->kind == ATTR_INTS) {
    dt = DT_INT64;
    rank = 1;
    dims[0] = a->n;
    data = a->ints ? (const void *)a->ints : (const void *)&f;
  } else if (strcmp(a->name, "value_string") == 0 || strcmp(a->name, "value_strings") == 0) {
    return node_fail(L, ST_UNSUPPORTED, name, op, S->opset,
                     "element type string is not supported (attribute '%s')", a->name);
  } else if (strcmp(a->name, "sparse_value") == 0) {
    return node_fail(L, ST_UNSUPPORTED, name, op, S->opset, "sparse constants are not supported");
  } else {
    return node_fail(L, ST_INVALID, name, op, S->opset,
                     "attribute '%s' is not a valid Constant value (or has the wrong type)", a->name);
  }
  Value *v;
  bool dup;
  TRY(define_output(L, S, np->output[0], &v, &dup));
  if (dup)
    return node_fail(L, ST_INVALID, name, op, S->opset, "output '%s' is already defined",
                     np->output[0]);
  if (ir_value_set_type(v, dt, rank, dims, L->err) != ST_OK)
    return node_ctx(L, name, op, S->opset);
  if (ir_value_set_data(L->g, v, data, L->err) != ST_OK) return node_ctx(L, name, op, S->opset);
  v->const_origin = arena_strdup(L->g->arena, name);
  if (!v->const_origin) return nomem(L);
  return ST_OK;
}

/* Inlines one call of model-local function f.  Formal inputs are bound to
 * the caller's values (absent ones stay absent), formal outputs to the
 * caller's output values, and every other name gets a fresh one. */
static Status walk_function(Loader *L, Scope *caller, const Onnx__FunctionProto *f,
                            const char *call_name, Value **ins, size_t n_in, Value **outs,
                            size_t n_out, const Attr *binding, int num_binding) {
  const char *fname = str_or_empty(f->name);
  if (caller->depth + 1 > FE_MAX_FUNCTION_DEPTH)
    return node_fail(L, ST_INVALID, call_name, fname, caller->opset,
                     "model-local functions nest deeper than %d (recursive function?)",
                     FE_MAX_FUNCTION_DEPTH);
  if (n_in > f->n_input || n_out > f->n_output)
    return node_fail(L, ST_INVALID, call_name, fname, caller->opset,
                     "call has %zu inputs and %zu outputs; function '%s' declares %zu and %zu",
                     n_in, n_out, fname, f->n_input, f->n_output);
  Scope S = {.binding = binding, .num_binding = num_binding, .depth = caller->depth + 1};
  S.opset = fe_function_opset(f, L->model_opset);
  if (S.opset < FE_MIN_OPSET || S.opset > FE_MAX_OPSET)
    return node_fail(L, ST_UNSUPPORTED, call_name, fname, caller->opset,
                     "function '%s' imports opset %d; supported: %d to %d", fname, S.opset,
                     FE_MIN_OPSET, FE_MAX_OPSET);
  S.prefix = arena_printf(L->g->arena, "%s/", call_name);
  if (!S.prefix) return nomem(L);
  Status st = ST_OK;
  for (size_t i = 0; i < f->n_input; i++) {
    const char *fn = f->input[i];
    if (!fn || !*fn || symtab_find(&S.names, fn)) {
      st = node_fail(L, ST_INVALID, call_name, fname, caller->opset,
                     "function '%s' has an empty or repeated input name", fname);
      goto out;
    }
    if (!symtab_put(&S.names, fn, i < n_in ? ins[i] : NULL, true)) {
      st = nomem(L);
      goto out;
    }
  }
  for (size_t i = 0; i < n_out; i++) {
    const char *fo = f->output[i];
    if (!fo || !*fo || symtab_find(&S.names, fo)) {
      st = node_fail(L, ST_UNSUPPORTED, call_name, fname, caller->opset,
                     "function '%s' output '%s' is empty, repeated or also an input", fname,
                     str_or_empty(fo));
      goto out;
    }
    if (outs[i] && !symtab_put(&S.names, fo, outs[i], false)) {
      st = nomem(L);
      goto out;
    }
  }
  st = walk_nodes(L, &S, f->node, f->n_node);
  if (st != ST_OK) goto out;
  for (size_t i = 0; i < n_out; i++) {
    if (!outs[i]) continue;
    SymEntry *e = symtab_find(&S.names, f->output[i]);
    if (!e || !e->defined) {
      st = node_fail(L, ST_INVALID, call_name, fname, caller->opset,
                     "function '%s' never defines its output '%s'", fname, f->output[i]);
      goto out;
    }
  }
out:
  symtab_free(&S.names);
  return st;
}

static Status walk_node(Loader *L, Scope *S, const Onnx__NodeProto *np, size_t index) {
  Graph *g = L->g;
  const char *op_type = str_or_empty(np->op_type);
  const char *domain = str_or_empty(np->domain);
  char *name = (np->name && *np->name)
                   ? arena_printf(g->arena, "%s%s", S->prefix, np->name)
                   : arena_printf(g->arena, "%s%s_%zu", S->prefix, *op_type ? op_type : "node", index);
  if (!name) return nomem(L);
  if (!*op_type) return node_fail(L, ST_INVALID, name, "?", S->opset, "node has no op_type");
  if (np->n_input > FE_MAX_NODE_IO || np->n_output > FE_MAX_NODE_IO)
    return node_fail(L, ST_INVALID, name, op_type, S->opset, "node has too many inputs or outputs");
  if (fe_default_domain(domain) && strcmp(op_type, "Loop") == 0)
    return fe_walk_loop(L, S, np, name);

  Attr *attrs;
  int num_attrs;
  if (fe_attrs_convert(g->arena, np->attribute, np->n_attribute, S->binding, S->num_binding,
                       L->base_dir, &attrs, &num_attrs, L->err) != ST_OK)
    return node_ctx(L, name, op_type, S->opset);

  bool dflt = fe_default_domain(domain);
  const Onnx__FunctionProto *f = fe_find_function(L->m, domain, op_type, np->overload);
  if (!f && dflt && strcmp(op_type, "Constant") == 0)
    return make_constant(L, S, np, name, attrs, num_attrs);

  Value **ins = arena_calloc(g->arena, np->n_input + FE_NORM_EXTRA, sizeof(Value *));
  Value **outs = arena_calloc(g->arena, np->n_output + 1, sizeof(Value *));
  if (!ins || !outs) return nomem(L);
  for (size_t i = 0; i < np->n_input; i++) {
    ins[i] = lookup_input(L, S, np->input[i]);
    if (ins[i] == (Value *)-1) return nomem(L);
  }
  for (size_t i = 0; i < np->n_output; i++) {
    bool dup;
    TRY(define_output(L, S, np->output[i], &outs[i], &dup));
    if (dup)
      return node_fail(L, ST_INVALID, name, op_type, S->opset,
                       "output '%s' is already defined by another node, input or initializer",
                       np->output[i]);
    for (size_t j = 0; j < i; j++)
      if (outs[i] && outs[j] == outs[i])
        return node_fail(L, ST_INVALID, name, op_type, S->opset, "output '%s' is listed twice",
                         np->output[i]);
  }

  if (f) {
    Attr *binding;
    int nb;
    if (fe_function_binding(g->arena, f, attrs, num_attrs, L->base_dir, &binding, &nb, L->err) !=
        ST_OK)
      return node_ctx(L, name, op_type, S->opset);
    return walk_function(L, S, f, name, ins, np->n_input, outs, np->n_output, binding, nb);
  }
  if (!dflt) {
    note_unsupported(L, name, op_type, domain, domain_opset(L, domain));
    return ST_OK;
  }

  ProtoNode pn = {.op_type = op_type, .name = name, .opset = S->opset,
                  .num_inputs = (int)np->n_input, .num_outputs = (int)np->n_output,
                  .inputs = ins, .outputs = outs, .num_attrs = num_attrs, .attrs = attrs};
  if (fe_normalize(g, &pn, L->err) != ST_OK) return node_ctx(L, name, op_type, S->opset);
  if (pn.op == OP_COUNT) {
    note_unsupported(L, name, op_type, domain, S->opset);
    return ST_OK;
  }
  if (fe_attrs_check_kinds(pn.attrs, pn.num_attrs, L->err) != ST_OK)
    return node_ctx(L, name, op_type, S->opset);
  while (pn.num_inputs > 0 && !pn.inputs[pn.num_inputs - 1]) pn.num_inputs--;
  while (pn.num_outputs > 0 && !pn.outputs[pn.num_outputs - 1]) pn.num_outputs--;
  const OpInfo *oi = &op_info[pn.op];
  if (pn.num_inputs < oi->min_in || (oi->max_in >= 0 && pn.num_inputs > oi->max_in))
    return node_fail(L, ST_INVALID, name, op_type, S->opset, "has %d inputs, expected %d to %d",
                     pn.num_inputs, oi->min_in, oi->max_in);
  if (pn.num_outputs < oi->min_out || (oi->max_out >= 0 && pn.num_outputs > oi->max_out))
    return node_fail(L, ST_INVALID, name, op_type, S->opset, "has %d outputs, expected %d to %d",
                     pn.num_outputs, oi->min_out, oi->max_out);
  for (int i = 0; i < oi->min_in; i++)
    if (!pn.inputs[i])
      return node_fail(L, ST_INVALID, name, op_type, S->opset, "required input %d is missing", i);
  for (int i = 0; i < oi->min_out; i++)
    if (!pn.outputs[i])
      return node_fail(L, ST_INVALID, name, op_type, S->opset, "required output %d is missing", i);

  Node *n = ir_node_new(g, pn.op, name, pn.num_inputs, pn.num_outputs);
  if (!n) return nomem(L);
  n->opset = S->opset;
  for (int i = 0; i < pn.num_inputs; i++) n->inputs[i] = pn.inputs[i];
  for (int i = 0; i < pn.num_outputs; i++) ir_node_set_output(n, i, pn.outputs[i]);
  n->attrs = pn.attrs;
  n->num_attrs = pn.num_attrs;
  return ST_OK;
}

static Status walk_nodes(Loader *L, Scope *S, Onnx__NodeProto *const *nodes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!nodes[i]) continue;
    TRY(walk_node(L, S, nodes[i], i));
  }
  return ST_OK;
}

/* Entry points for subgraph.c, which walks Loop bodies with the same walker. */
Value *fe_lookup_input(Loader *L, Scope *S, const char *name) { return lookup_input(L, S, name); }
Status fe_define_output(Loader *L, Scope *S, const char *name, Value **out, bool *dup) {
  return define_output(L, S, name, out, dup);
}
Status fe_walk_nodes(Loader *L, Scope *S, Onnx__NodeProto *const *nodes, size_t n) {
  return walk_nodes(L, S, nodes, n);
}

/* ---- the model ---- */

static Status check_versions(Loader *L, const Onnx__ModelProto *m) {
  const char *src = L->g->source;
  if (!m->has_ir_version)
    return err_set(L->err, ST_INVALID, "%s: error: the model has no ir_version", src);
  if (m->ir_version < FE_MIN_IR_VERSION || m->ir_version > FE_MAX_IR_VERSION)
    return err_set(L->err, ST_UNSUPPORTED,
                   "%s: error: IR version %" PRId64 " is not supported (supported: %d to %d)", src,
                   m->ir_version, FE_MIN_IR_VERSION, FE_MAX_IR_VERSION);
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (o && fe_default_domain(o->domain)) {
      if (opset >= 0)
        return err_set(L->err, ST_INVALID, "%s: error: the ai.onnx opset is imported twice", src);
      opset = o->has_version ? o->version : -1;
    }
  }
  if (opset < 0)
    return err_set(L->err, ST_INVALID, "%s: error: the model imports no ai.onnx opset", src);
  if (opset < FE_MIN_OPSET || opset > FE_MAX_OPSET)
    return err_set(L->err, ST_UNSUPPORTED,
                   "%s: error: ai.onnx opset %" PRId64 " is not supported (supported: %d to %d)",
                   src, opset, FE_MIN_OPSET, FE_MAX_OPSET);
  L->model_opset = (int)opset;
  L->g->opset = (int)opset;
  L->g->ir_version = m->ir_version;
  return ST_OK;
}

static Status load_initializers(Loader *L, Scope *S, const Onnx__GraphProto *gp) {
  const char *src = L->g->source;
  if (gp->n_sparse_initializer)
    return err_set(L->err, ST_UNSUPPORTED, "%s: error: sparse initializers are not supported", src);
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    if (!t) continue;
    const char *name = str_or_empty(t->name);
    if (!*name) return err_set(L->err, ST_INVALID, "%s: error: initializer %zu has no name", src, i);
    if (symtab_find(&S->names, name))
      return err_set(L->err, ST_INVALID, "%s: error: initializer \"%s\" is given twice", src, name);
    TensorFile tf;
    if (fe_tensor_decode(t, L->base_dir, &tf, L->err) != ST_OK)
      return err_prefix(L->err, "%s: error: initializer \"%s\"", src, name);
    /* The decoded block becomes the constant's storage, and the message's
     * copy of the bytes goes right away: a model's weights are then in
     * memory about once, not three times. */
    Value *v = ir_const_adopt(L->g, name, tf.dtype, tf.rank, tf.dims, tf.data);
    tf.data = NULL;
    fe_tensor_file_free(&tf);
    Onnx__TensorProto *owned = gp->initializer[i];
    if (owned->has_raw_data && owned->raw_data.data) {
      free(owned->raw_data.data);
      owned->raw_data.data = NULL;
      owned->raw_data.len = 0;
      owned->has_raw_data = 0;
    }
    if (!v || !symtab_put(&S->names, name, v, true)) return nomem(L);
  }
  return ST_OK;
}

static Status load_inputs(Loader *L, Scope *S, const Onnx__GraphProto *gp) {
  const char *src = L->g->source;
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi) continue;
    const char *name = str_or_empty(vi->name);
    if (!*name) return err_set(L->err, ST_INVALID, "%s: error: graph input %zu has no name", src, i);
    SymEntry *e = symtab_find(&S->names, name);
    if (e && e->v && e->v->data) {
      /* Listed as input and initializer (IR < 4 exporters): a constant. */
      TRY(read_value_type(L, vi, NULL, false));
      continue;
    }
    if (e) return err_set(L->err, ST_INVALID, "%s: error: graph input \"%s\" is listed twice", src, name);
    Value *v = ir_value_new(L->g, name);
    if (!v) return nomem(L);
    TRY(read_value_type(L, vi, v, true));
    if (!symtab_put(&S->names, name, v, true)) return nomem(L);
    if (ir_graph_add_input(L->g, v, L->err) != ST_OK) return nomem(L);
  }
  return ST_OK;
}

static Status load_outputs(Loader *L, Scope *S, const Onnx__GraphProto *gp) {
  const char *src = L->g->source;
  if (gp->n_output == 0) return err_set(L->err, ST_INVALID, "%s: error: the graph has no outputs", src);
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    if (!vi) continue;
    const char *name = str_or_empty(vi->name);
    if (!*name) return err_set(L->err, ST_INVALID, "%s: error: graph output %zu has no name", src, i);
    SymEntry *e = symtab_find(&S->names, name);
    if (!e || !e->defined || !e->v)
      return err_set(L->err, ST_INVALID,
                     "%s: error: graph output \"%s\" is not defined by any node, initializer or input",
                     src, name);
    if (e->v->is_output)
      return err_set(L->err, ST_INVALID, "%s: error: graph output \"%s\" is listed twice", src, name);
    if (ir_graph_add_output(L->g, e->v, L->err) != ST_OK) return nomem(L);
  }
  return ST_OK;
}

/* Declared output types are checked before the walk so that a model whose
 * result is a sequence or string says so, not something about its nodes. */
static Status check_output_types(Loader *L, const Onnx__GraphProto *gp) {
  for (size_t i = 0; i < gp->n_output; i++)
    if (gp->output[i]) TRY(read_value_type(L, gp->output[i], NULL, false));
  return ST_OK;
}

static Status load_model(Loader *L, const Onnx__ModelProto *m, const LoadOptions *opt) {
  TRY(check_versions(L, m));
  const Onnx__GraphProto *gp = m->graph;
  if (!gp) return err_set(L->err, ST_INVALID, "%s: error: the model has no graph", L->g->source);
  if (gp->name && *gp->name && !(L->g->name = arena_strdup(L->g->arena, gp->name))) return nomem(L);
  L->g->producer = arena_printf(L->g->arena, "%s%s%s", str_or_empty(m->producer_name),
                                m->producer_version && *m->producer_version ? " " : "",
                                str_or_empty(m->producer_version));
  if (!L->g->producer) return nomem(L);
  Scope S = {.opset = L->model_opset, .prefix = ""};
  Status st = load_initializers(L, &S, gp);
  if (st == ST_OK) st = load_inputs(L, &S, gp);
  if (st == ST_OK) st = check_output_types(L, gp);
  if (st == ST_OK) st = walk_nodes(L, &S, gp->node, gp->n_node);
  if (st == ST_OK && L->num_unsup) {
    int more = L->num_unsup - MAX_LISTED_UNSUPPORTED;
    st = err_set(L->err, ST_UNSUPPORTED, "%s: error: %d unsupported node%s:%s%s", L->g->source,
                 L->num_unsup, L->num_unsup == 1 ? "" : "s", L->unsup,
                 more > 0 ? "\n  ..." : "");
  }
  if (st == ST_OK) st = load_outputs(L, &S, gp);
  symtab_free(&S.names);
  if (st == ST_OK) st = fe_apply_input_shapes(L->g, opt, L->err);
  if (st == ST_OK) st = ir_toposort(L->g, L->err);
  return st;
}

static Status load_bytes(const FeBytes *bytes, const char *source, const char *base_dir,
                         const LoadOptions *opt, Graph **out, Error *err) {
  *out = NULL;
  if (bytes->size > FE_MAX_MODEL_BYTES)
    return err_set(err, ST_NOMEM, "%s: error: model of %llu bytes is above the %zu-byte limit",
                   source, (unsigned long long)bytes->size, (size_t)FE_MAX_MODEL_BYTES);
  Onnx__ModelProto *m;
  Status st = fe_unpack_model(bytes, &m);
  if (st == ST_NOMEM) return err_set(err, ST_NOMEM, "%s: out of memory", source);
  if (st == ST_IO) return err_set(err, ST_IO, "%s: read error", source);
  if (st != ST_OK)
    return err_set(err, ST_PARSE, "%s: error: not a valid ONNX model (protobuf parse failed: "
                   "truncated or corrupt file)", source);
  Graph *g = ir_graph_new(NULL, source);
  if (!g) {
    onnx__model_proto__free_unpacked(m, NULL);
    return err_set(err, ST_NOMEM, "%s: out of memory", source);
  }
  Error local;
  Loader L = {.g = g, .m = m, .base_dir = base_dir, .err = err ? err : &local};
  g->max_tensor_bytes = opt ? opt->max_tensor_bytes : 0;
  st = load_model(&L, m, opt);
  if (st == ST_OK) st = fe_report_external_files(m, base_dir, opt, L.err);
  onnx__model_proto__free_unpacked(m, NULL);
  if (st != ST_OK) {
    ir_graph_free(g);
    return st;
  }
  *out = g;
  return ST_OK;
}

Status fe_load_buffer(const void *data, size_t len, const char *source, const char *base_dir,
                      const LoadOptions *opt, Graph **out, Error *err) {
  *out = NULL;
  if (!source) source = "<memory>";
  if (!data && len) return err_set(err, ST_INVALID, "%s: error: no data", source);
  FeBytes bytes = {.fd = -1, .mem = data ? data : (const uint8_t *)"", .size = len};
  return load_bytes(&bytes, source, base_dir, opt, out, err);
}

/* The file is read piecewise (model_split.c), never whole. */
Status fe_load_file(const char *path, const LoadOptions *opt, Graph **out, Error *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err_set(err, ST_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    Status st = err_set(err, ST_IO, "%s: cannot read: %s", path, strerror(errno));
    close(fd);
    return st;
  }
  /* External data is relative to the model's folder. */
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
  if (!dir) {
    close(fd);
    return err_set(err, ST_NOMEM, "%s: out of memory", path);
  }
  Status st;
  if (S_ISREG(sb.st_mode)) {
    FeBytes bytes = {.fd = fd, .size = (uint64_t)sb.st_size};
    st = load_bytes(&bytes, path, dir, opt, out, err);
  } else { /* a pipe or a device: read to the end first */
    void *buf;
    size_t len;
    st = fe_read_file(path, FE_MAX_MODEL_BYTES, &buf, &len, err);
    if (st == ST_OK) {
      FeBytes bytes = {.fd = -1, .mem = buf ? buf : (const uint8_t *)"", .size = len};
      st = load_bytes(&bytes, path, dir, opt, out, err);
      free(buf);
    }
  }
  free(dir);
  close(fd);
  return st;
}
