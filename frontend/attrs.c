/*
 * AttributeProto -> Attr.  The protobuf says an attribute's type twice (the
 * `type` field and which value field is filled), so both must agree; old
 * exporters leave `type` unset, in which case the filled field decides.
 * Function bodies refer to the caller's attributes with ref_attr_name; the
 * binding (caller's attributes plus the function's defaults) resolves those.
 */
#include <string.h>

#include "fe_internal.h"

typedef Onnx__AttributeProto__AttributeType AType;

/* Every attribute type with the test for "its value field is filled" in an
 * AttributeProto p; one list for the three switches below. */
#define ATTR_FIELDS(X)                   \
  X(p->has_f, FLOAT)                     \
  X(p->has_i, INT)                       \
  X(p->has_s, STRING)                    \
  X(p->t, TENSOR)                        \
  X(p->g, GRAPH)                         \
  X(p->sparse_tensor, SPARSE_TENSOR)     \
  X(p->tp, TYPE_PROTO)                   \
  X(p->n_floats, FLOATS)                 \
  X(p->n_ints, INTS)                     \
  X(p->n_strings, STRINGS)               \
  X(p->n_tensors, TENSORS)               \
  X(p->n_graphs, GRAPHS)                 \
  X(p->n_sparse_tensors, SPARSE_TENSORS) \
  X(p->n_type_protos, TYPE_PROTOS)

static const char *atype_name(AType t) {
  switch (t) {
#define NAME(cond, ty) case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##ty: return #ty;
  ATTR_FIELDS(NAME)
#undef NAME
  default: return "UNDEFINED";
  }
}

/* The type implied by the filled value field(s); UNDEFINED when none or
 * more than one kind is filled. */
static AType implied_type(const Onnx__AttributeProto *p) {
  AType t = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
  int kinds = 0;
#define SEEN(cond, ty) if (cond) { t = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##ty; kinds++; }
  ATTR_FIELDS(SEEN)
#undef SEEN
  return kinds == 1 ? t : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

/* True if a field of another type than `t` is filled (a scalar field of the
 * right type may be left at its default, a list may be empty). */
static bool other_field_filled(const Onnx__AttributeProto *p, AType t) {
#define OTHER(cond, ty) if ((cond) && t != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##ty) return true;
  ATTR_FIELDS(OTHER)
#undef OTHER
  return false;
}

/* ONNX strings are bytes; ours are C strings, so embedded NULs are refused. */
static char *copy_bytes(Arena *a, const ProtobufCBinaryData *b, bool *bad) {
  if (b->len && memchr(b->data, 0, b->len)) {
    *bad = true;
    return NULL;
  }
  return arena_strndup(a, (const char *)b->data, b->len);
}

Status fe_attr_convert(Arena *a, const Onnx__AttributeProto *p, const char *base_dir, Attr *out,
                       Error *err) {
  memset(out, 0, sizeof *out);
  const char *name = p->name ? p->name : "";
  if (!*name) return err_set(err, ST_INVALID, "attribute without a name");
  AType t = p->has_type ? p->type : implied_type(p);
  if (p->has_type && other_field_filled(p, t))
    return err_set(err, ST_INVALID, "attribute '%s' is declared %s but holds a %s value", name,
                   atype_name(t), atype_name(implied_type(p)));
  if (!(out->name = arena_strdup(a, name))) goto nomem;
  switch (t) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    out->kind = ATTR_FLOAT;
    out->f = p->f;
    return ST_OK;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
    out->kind = ATTR_INT;
    out->i = p->i;
    return ST_OK;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
    out->kind = ATTR_STRING;
    bool bad = false;
    ProtobufCBinaryData empty = {0, NULL};
    out->s = copy_bytes(a, p->has_s ? &p->s : &empty, &bad);
    if (bad) return err_set(err, ST_INVALID, "attribute '%s' has a NUL byte in its string", name);
    if (!out->s) goto nomem;
    return ST_OK;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
    size_t n = t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS ? p->n_floats
               : t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS ? p->n_ints
                                                                  : p->n_strings;
    if (n > FE_MAX_ATTR_ELEMS)
      return err_set(err, ST_INVALID, "attribute '%s' has %zu values, more than %d", name, n,
                     FE_MAX_ATTR_ELEMS);
    out->n = (int)n;
    if (t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS) {
      out->kind = ATTR_FLOATS;
      if (n && !(out->floats = arena_calloc(a, n, sizeof(float)))) goto nomem;
      if (n) memcpy(out->floats, p->floats, n * sizeof(float));
    } else if (t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
      out->kind = ATTR_INTS;
      if (n && !(out->ints = arena_calloc(a, n, sizeof(int64_t)))) goto nomem;
      if (n) memcpy(out->ints, p->ints, n * sizeof(int64_t));
    } else {
      out->kind = ATTR_STRINGS;
      if (n && !(out->strings = arena_calloc(a, n, sizeof(char *)))) goto nomem;
      for (size_t i = 0; i < n; i++) {
        bool bad = false;
        out->strings[i] = copy_bytes(a, &p->strings[i], &bad);
        if (bad)
          return err_set(err, ST_INVALID, "attribute '%s' has a NUL byte in a string", name);
        if (!out->strings[i]) goto nomem;
      }
    }
    return ST_OK;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
    if (!p->t) return err_set(err, ST_INVALID, "attribute '%s' is a TENSOR without a tensor", name);
    TensorFile tf;
    Status st = fe_tensor_decode(p->t, base_dir, &tf, err);
    if (st != ST_OK) return err_prefix(err, "attribute '%s'", name);
    Tensor *tt = arena_alloc(a, sizeof *tt);
    void *data = arena_alloc(a, tf.nbytes);
    if (!tt || !data) {
      fe_tensor_file_free(&tf);
      goto nomem;
    }
    tt->dtype = tf.dtype;
    tt->rank = tf.rank;
    memcpy(tt->dims, tf.dims, sizeof tt->dims);
    if (tf.nbytes) memcpy(data, tf.data, tf.nbytes);
    tt->data = data;
    fe_tensor_file_free(&tf);
    out->kind = ATTR_TENSOR;
    out->t = tt;
    return ST_OK;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
    return err_set(err, ST_UNSUPPORTED, "nested graphs are not supported (attribute '%s')", name);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
    return err_set(err, ST_INVALID, "attribute '%s' has no value or an ambiguous type", name);
  default:
    return err_set(err, ST_UNSUPPORTED, "attribute '%s' has type %s, which is not supported", name,
                   atype_name(t));
  }
nomem:
  return err_set(err, ST_NOMEM, "out of memory converting attribute '%s'", name);
}

static Status insert_sorted(Arena *a, Attr **arr, int *n, int *cap, const Attr *at, Error *err) {
  for (int i = 0; i < *n; i++)
    if (strcmp((*arr)[i].name, at->name) == 0)
      return err_set(err, ST_INVALID, "attribute '%s' is given twice", at->name);
  if (*n == *cap) {
    int ncap = *cap ? *cap * 2 : 8;
    Attr *na = arena_calloc(a, (size_t)ncap, sizeof *na);
    if (!na) return err_set(err, ST_NOMEM, "out of memory");
    if (*n) memcpy(na, *arr, (size_t)*n * sizeof *na);
    *arr = na;
    *cap = ncap;
  }
  int pos = *n;
  while (pos > 0 && strcmp((*arr)[pos - 1].name, at->name) > 0) {
    (*arr)[pos] = (*arr)[pos - 1];
    pos--;
  }
  (*arr)[pos] = *at;
  (*n)++;
  return ST_OK;
}

Status fe_attrs_convert(Arena *a, Onnx__AttributeProto *const *attrs, size_t n,
                        const Attr *binding, int num_binding, const char *base_dir, Attr **out,
                        int *num_out, Error *err) {
  *out = NULL;
  *num_out = 0;
  if (n > FE_MAX_ATTRS)
    return err_set(err, ST_INVALID, "node has %zu attributes, more than %d", n, FE_MAX_ATTRS);
  int cap = 0;
  for (size_t i = 0; i < n; i++) {
    const Onnx__AttributeProto *p = attrs[i];
    if (!p) continue;
    Attr at;
    if (p->ref_attr_name && *p->ref_attr_name) {
      const Attr *b = NULL;
      for (int k = 0; k < num_binding; k++)
        if (strcmp(binding[k].name, p->ref_attr_name) == 0) b = &binding[k];
      if (!b) continue; /* caller did not set it and there is no default */
      at = *b;
      if (!p->name || !*p->name) return err_set(err, ST_INVALID, "attribute without a name");
      if (!(at.name = arena_strdup(a, p->name))) return err_set(err, ST_NOMEM, "out of memory");
    } else {
      TRY(fe_attr_convert(a, p, base_dir, &at, err));
    }
    TRY(insert_sorted(a, out, num_out, &cap, &at, err));
  }
  return ST_OK;
}

/* Attribute names that carry the same type in every ONNX op onnxc knows. */
static const struct {
  const char *name;
  AttrKind kind;
} known_kinds[] = {
    {"alpha", ATTR_FLOAT},       {"auto_pad", ATTR_STRING},    {"axes", ATTR_INTS},
    {"axis", ATTR_INT},          {"beta", ATTR_FLOAT},         {"blocksize", ATTR_INT},
    {"ceil_mode", ATTR_INT},     {"coordinate_transformation_mode", ATTR_STRING},
    {"count_include_pad", ATTR_INT},                           {"cubic_coeff_a", ATTR_FLOAT},
    {"dilations", ATTR_INTS},    {"epsilon", ATTR_FLOAT},      {"exclude_outside", ATTR_INT},
    {"extrapolation_value", ATTR_FLOAT},                       {"gamma", ATTR_FLOAT},
    {"group", ATTR_INT},         {"kernel_shape", ATTR_INTS},  {"keepdims", ATTR_INT},
    {"mode", ATTR_STRING},       {"momentum", ATTR_FLOAT},    {"nearest_mode", ATTR_STRING},
    {"noop_with_empty_axes", ATTR_INT},                        {"num_groups", ATTR_INT},
    {"output_padding", ATTR_INTS},                             {"output_shape", ATTR_INTS},
    {"pads", ATTR_INTS},         {"perm", ATTR_INTS},          {"select_last_index", ATTR_INT},
    {"stash_type", ATTR_INT},    {"storage_order", ATTR_INT},  {"strides", ATTR_INTS},
    {"to", ATTR_INT},            {"transA", ATTR_INT},         {"transB", ATTR_INT},
    {"upper", ATTR_INT},         {"largest", ATTR_INT},        {"sorted", ATTR_INT},
    {"exclusive", ATTR_INT},     {"reverse", ATTR_INT},        {"equation", ATTR_STRING},
    {"approximate", ATTR_STRING}, {"saturate", ATTR_INT},      {"split", ATTR_INTS},
    {"starts", ATTR_INTS},       {"ends", ATTR_INTS},          {"num_outputs", ATTR_INT},
};

static const char *kind_name(AttrKind k) {
  static const char *const names[] = {"INT", "FLOAT", "STRING", "INTS", "FLOATS", "STRINGS",
                                      "TENSOR"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

Status fe_attrs_check_kinds(const Attr *attrs, int n, Error *err) {
  for (int i = 0; i < n; i++)
    for (size_t k = 0; k < sizeof known_kinds / sizeof *known_kinds; k++)
      if (strcmp(attrs[i].name, known_kinds[k].name) == 0 && attrs[i].kind != known_kinds[k].kind)
        return err_set(err, ST_INVALID, "attribute '%s' must be %s, not %s", attrs[i].name,
                       kind_name(known_kinds[k].kind), kind_name(attrs[i].kind));
  return ST_OK;
}
