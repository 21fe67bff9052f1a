/*
 * Opset canonicalization: every node leaves the frontend in the newest ONNX
 * form of its op, so each kernel handles one form (the CANONICAL OP FORMS
 * contract).  Attributes that later opsets turned into inputs become
 * constant inputs, Resize-10's (X, scales) gains its empty roi, and
 * Upsample becomes Resize.  Node.opset is left alone: kernels whose
 * semantics changed without a form change (Softmax < 13, Resize < 11)
 * read it.
 */
#include <string.h>

#include "fe_internal.h"

/* Removes attribute `name` from pn and returns a copy of it (or NULL). */
static const Attr *take_attr(ProtoNode *pn, const char *name, Attr *slot) {
  for (int i = 0; i < pn->num_attrs; i++)
    if (strcmp(pn->attrs[i].name, name) == 0) {
      *slot = pn->attrs[i];
      memmove(pn->attrs + i, pn->attrs + i + 1, (size_t)(pn->num_attrs - i - 1) * sizeof(Attr));
      pn->num_attrs--;
      return slot;
    }
  return NULL;
}

static const Attr *find_attr(const ProtoNode *pn, const char *name) {
  for (int i = 0; i < pn->num_attrs; i++)
    if (strcmp(pn->attrs[i].name, name) == 0) return &pn->attrs[i];
  return NULL;
}

/* Adds a (not yet present) attribute, keeping the array sorted by name. */
static Status put_attr(Graph *g, ProtoNode *pn, Attr a, Error *err) {
  Attr *arr = arena_calloc(g->arena, (size_t)pn->num_attrs + 1, sizeof *arr);
  if (!arr) return err_set(err, ST_NOMEM, "out of memory");
  int k = 0, i = 0;
  while (i < pn->num_attrs && strcmp(pn->attrs[i].name, a.name) < 0) arr[k++] = pn->attrs[i++];
  arr[k++] = a;
  while (i < pn->num_attrs) arr[k++] = pn->attrs[i++];
  pn->attrs = arr;
  pn->num_attrs = k;
  return ST_OK;
}

static Status want_kind(const Attr *a, AttrKind k, const char *kname, Error *err) {
  if (a->kind != k) return err_set(err, ST_INVALID, "attribute '%s' must be %s", a->name, kname);
  return ST_OK;
}

static Status nomem(Error *err) { return err_set(err, ST_NOMEM, "out of memory"); }

/* Puts v at input slot i, growing num_inputs (slots in between stay NULL). */
static Status set_input(ProtoNode *pn, int i, Value *v, Error *err) {
  if (i < pn->num_inputs && pn->inputs[i])
    return err_set(err, ST_INVALID, "input %d is given both as an attribute and as an input", i);
  if (i >= pn->num_inputs + FE_NORM_EXTRA) return err_set(err, ST_INTERNAL, "input slot %d", i);
  while (pn->num_inputs <= i) pn->inputs[pn->num_inputs++] = NULL;
  pn->inputs[i] = v;
  return ST_OK;
}

static Status ints_input(Graph *g, ProtoNode *pn, const char *attr, int slot, Error *err) {
  Attr tmp;
  const Attr *a = take_attr(pn, attr, &tmp);
  if (!a) return ST_OK;
  TRY(want_kind(a, ATTR_INTS, "INTS", err));
  int64_t dims[1] = {a->n};
  Value *c = ir_const_new(g, "", DT_INT64, 1, dims, a->ints);
  if (!c) return nomem(err);
  return set_input(pn, slot, c, err);
}

/* A scalar of X's dtype holding v.  When X's dtype is not known yet (it is
 * computed by another node), a float constant goes through CastLike, which
 * constant folding removes once types are known. */
static Status scalar_like(Graph *g, ProtoNode *pn, Value *x, double v, Value **out, Error *err) {
  if (x && x->dtype != DT_UNDEFINED && dtype_supported(x->dtype)) {
    Value *c = ir_const_new(g, "", x->dtype, 0, NULL, NULL);
    if (!c) return nomem(err);
    dtype_store_f64(x->dtype, c->data, 0, v, false);
    *out = c;
    return ST_OK;
  }
  float f = (float)v;
  Value *c = ir_const_new(g, "", DT_FLOAT32, 0, NULL, &f);
  if (!c) return nomem(err);
  Value *o = ir_value_new(g, "");
  char *name = arena_printf(g->arena, "%s/cast_like", pn->name);
  Node *n = o && name ? ir_node_new(g, OP_CAST_LIKE, name, 2, 1) : NULL;
  if (!n) return nomem(err);
  n->opset = pn->opset;
  n->inputs[0] = c;
  n->inputs[1] = x;
  ir_node_set_output(n, 0, o);
  *out = o;
  return ST_OK;
}

static Status float_input(Graph *g, ProtoNode *pn, const char *attr, int slot, Error *err) {
  Attr tmp;
  const Attr *a = take_attr(pn, attr, &tmp);
  if (!a) return ST_OK;
  if (a->kind != ATTR_FLOAT && a->kind != ATTR_INT)
    return err_set(err, ST_INVALID, "attribute '%s' must be FLOAT", attr);
  double v = a->kind == ATTR_FLOAT ? (double)a->f : (double)a->i;
  Value *c = NULL;
  TRY(scalar_like(g, pn, pn->num_inputs ? pn->inputs[0] : NULL, v, &c, err));
  return set_input(pn, slot, c, err);
}

static Status upsample_to_resize(Graph *g, ProtoNode *pn, Error *err) {
  pn->op = OP_RESIZE;
  Attr tmp;
  const Attr *sc = take_attr(pn, "scales", &tmp);
  Value *scales = NULL;
  if (sc) {
    TRY(want_kind(sc, ATTR_FLOATS, "FLOATS", err));
    int64_t dims[1] = {sc->n};
    if (!(scales = ir_const_new(g, "", DT_FLOAT32, 1, dims, sc->floats))) return nomem(err);
    if (pn->num_inputs > 1) return err_set(err, ST_INVALID, "scales given as attribute and input");
  } else if (pn->num_inputs == 2) {
    scales = pn->inputs[1];
  }
  if (pn->num_inputs < 1 || pn->num_inputs > 2 || !scales)
    return err_set(err, ST_INVALID, "Upsample needs X and scales");
  pn->inputs[1] = NULL;
  pn->inputs[2] = scales;
  pn->num_inputs = 3;
  Attr mtmp;
  const Attr *m = take_attr(pn, "mode", &mtmp);
  const char *mode = "nearest";
  if (m) {
    TRY(want_kind(m, ATTR_STRING, "STRING", err));
    mode = strcmp(m->s, "bilinear") == 0 ? "linear" : m->s;
  }
  return put_attr(g, pn, (Attr){.name = "mode", .kind = ATTR_STRING, .s = (char *)mode}, err);
  return ST_OK;
}

/* Opsets 1..6 (old exporters such as ONNX's pytorch-converted tests).  Only
 * ops whose old form means the same as the opset-7 form once the legacy
 * attributes are gone are accepted; the rest are reported as unsupported
 * (pn->op = OP_COUNT). */
static Status legacy_form(Graph *g, ProtoNode *pn, Error *err) {
  static const char *const same_form[] = {
      "Abs", "Add", "ArgMax", "AveragePool", "BatchNormalization", "Cast", "Ceil", "Clip",
      "Concat", "Conv", "ConvTranspose", "DepthToSpace", "Div", "Dropout", "Equal", "Exp",
      "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater",
      "HardSigmoid", "Identity", "InstanceNormalization", "LeakyRelu", "Less", "Log",
      "LogSoftmax", "MatMul", "Max", "MaxPool", "Min", "Mul", "Neg", "Not", "Pad", "Pow",
      "Reciprocal", "ReduceL2", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape",
      "Shape", "Sigmoid", "Size", "Slice", "Softmax", "SpaceToDepth", "Sqrt", "Squeeze", "Sub",
      "Sum", "Tanh", "TopK", "Transpose", "Unsqueeze"};
  bool known = false;
  for (size_t i = 0; i < sizeof same_form / sizeof *same_form; i++)
    if (strcmp(pn->op_type, same_form[i]) == 0) known = true;
  if (!known) {
    pn->op = OP_COUNT;
    return ST_OK;
  }
  Attr tmp;
  take_attr(pn, "consumed_inputs", &tmp);
  take_attr(pn, "is_test", &tmp);
  const Attr *b = take_attr(pn, "broadcast", &tmp);
  /* Legacy broadcasting aligns B at `axis`; without it, B is a suffix of A,
   * which numpy broadcasting reproduces. */
  if (b && pn->op != OP_GEMM && pn->op != OP_CONCAT && find_attr(pn, "axis"))
    return err_set(err, ST_UNSUPPORTED, "legacy broadcasting with 'axis' is not supported");
  if (pn->op == OP_CONCAT && !find_attr(pn, "axis")) /* Concat-1's default axis */
    TRY(put_attr(g, pn, (Attr){.name = "axis", .kind = ATTR_INT, .i = 1}, err));
  if (pn->op == OP_RESHAPE) TRY(ints_input(g, pn, "shape", 1, err));
  if (pn->op == OP_PAD) {
    const Attr *p = take_attr(pn, "paddings", &tmp);
    if (p) {
      Attr pads = *p;
      pads.name = "pads";
      TRY(put_attr(g, pn, pads, err));
    }
  }
  if (pn->op == OP_CAST) {
    /* Cast-1 names the target type as a string ("FLOAT"). */
    for (int i = 0; i < pn->num_attrs; i++) {
      Attr *a = &pn->attrs[i];
      if (strcmp(a->name, "to") != 0 || a->kind != ATTR_STRING) continue;
      static const char *const names[] = {"", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
                                          "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
                                          "UINT32", "UINT64"};
      int64_t code = -1;
      for (int k = 1; k < (int)(sizeof names / sizeof *names); k++)
        if (strcmp(a->s, names[k]) == 0) code = k;
      if (code < 0) return err_set(err, ST_INVALID, "Cast 'to' names unknown type '%s'", a->s);
      a->kind = ATTR_INT;
      a->i = code;
      a->s = NULL;
    }
  }
  return ST_OK;
}

/* GatherND with batch_dims 0 and index depth 1 (indices [..., 1]) is
 * Gather(data, Squeeze(indices, -1), axis 0): the same output shape
 * (indices.shape[:-1] + data.shape[1:]), negative indices and bounds.  The
 * dynamo exporter writes x[idx] (aten.index, e.g. timm's relative position
 * bias tables) this way.  A deeper index makes the Squeeze fail at shape
 * inference, naming this node, rather than computing something else. */
static Status gathernd_to_gather(Graph *g, ProtoNode *pn, Error *err) {
  Attr tmp;
  const Attr *b = take_attr(pn, "batch_dims", &tmp);
  if (b) TRY(want_kind(b, ATTR_INT, "INT", err));
  if ((b && b->i != 0) || pn->num_inputs != 2 || !pn->inputs[0] || !pn->inputs[1]) {
    pn->op = OP_COUNT; /* reported as unsupported (or as a bad node by the walker) */
    return ST_OK;
  }
  if (pn->num_attrs) return err_set(err, ST_INVALID, "unknown attribute '%s'", pn->attrs[0].name);
  int64_t minus1 = -1, one = 1;
  Value *axes = ir_const_new(g, "", DT_INT64, 1, &one, &minus1);
  Value *sq = ir_value_new(g, "");
  char *name = arena_printf(g->arena, "%s/index_depth_1", pn->name);
  Node *n = axes && sq && name ? ir_node_new(g, OP_SQUEEZE, name, 2, 1) : NULL;
  if (!n) return nomem(err);
  n->opset = pn->opset;
  n->inputs[0] = pn->inputs[1];
  n->inputs[1] = axes;
  ir_node_set_output(n, 0, sq);
  pn->op = OP_GATHER;
  pn->inputs[1] = sq;
  return put_attr(g, pn, (Attr){.name = "axis", .kind = ATTR_INT, .i = 0}, err);
}

Status fe_normalize(Graph *g, ProtoNode *pn, Error *err) {
  bool decomposed;
  TRY(fe_decompose(g, pn, &decomposed, err));
  if (decomposed) return ST_OK;
  if (strcmp(pn->op_type, "GatherND") == 0) {
    if (pn->opset < 11) {
      pn->op = OP_COUNT;
      return ST_OK;
    }
    return gathernd_to_gather(g, pn, err);
  }
  if (strcmp(pn->op_type, "Upsample") == 0) {
    if (pn->opset < 7) {
      pn->op = OP_COUNT;
      return ST_OK;
    }
    return upsample_to_resize(g, pn, err);
  }
  pn->op = op_from_name(pn->op_type);
  int v = pn->opset;
  if (v < 7 && pn->op != OP_COUNT) {
    TRY(legacy_form(g, pn, err));
    if (pn->op == OP_COUNT) return ST_OK;
  }
  switch (pn->op) {
  case OP_SPLIT:
    if (v < 13) TRY(ints_input(g, pn, "split", 1, err));
    break;
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
    if (v < 13) TRY(ints_input(g, pn, "axes", 1, err));
    break;
  case OP_REDUCE_SUM:
    if (v < 13) TRY(ints_input(g, pn, "axes", 1, err));
    break;
  case OP_REDUCE_MEAN:
  case OP_REDUCE_MAX:
  case OP_REDUCE_MIN:
  case OP_REDUCE_PROD:
  case OP_REDUCE_L2:
    if (v < 18) TRY(ints_input(g, pn, "axes", 1, err));
    break;
  case OP_CLIP:
    if (v < 11) {
      TRY(float_input(g, pn, "min", 1, err));
      TRY(float_input(g, pn, "max", 2, err));
    }
    break;
  case OP_PAD:
    if (v < 11) {
      TRY(ints_input(g, pn, "pads", 1, err));
      TRY(float_input(g, pn, "value", 2, err));
    }
    break;
  case OP_SLICE:
    if (v < 10) {
      TRY(ints_input(g, pn, "starts", 1, err));
      TRY(ints_input(g, pn, "ends", 2, err));
      TRY(ints_input(g, pn, "axes", 3, err));
    }
    break;
  case OP_TOP_K:
    if (v < 10) {
      Attr tmp;
      const Attr *k = take_attr(pn, "k", &tmp);
      if (!k) return err_set(err, ST_INVALID, "attribute 'k' is required");
      TRY(want_kind(k, ATTR_INT, "INT", err));
      int64_t dims[1] = {1};
      Value *c = ir_const_new(g, "", DT_INT64, 1, dims, &k->i);
      if (!c) return nomem(err);
      TRY(set_input(pn, 1, c, err));
    }
    break;
  case OP_RESIZE:
    if (v < 11 && pn->num_inputs == 2) {
      pn->inputs[2] = pn->inputs[1];
      pn->inputs[1] = NULL;
      pn->num_inputs = 3;
    }
    break;
  default:
    break;
  }
  return ST_OK;
}
