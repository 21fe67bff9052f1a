/*
 * Model-local functions (ModelProto.functions).  A node whose (domain,
 * op_type, overload) names a FunctionProto is replaced by the function's
 * body; the walk itself lives in onnx_load.c (walk_function), this file
 * answers the lookups it needs: which function, which opset is in force
 * inside it, and what each ref_attr_name resolves to for one call.
 */
#include <string.h>

#include "fe_internal.h"

static bool same(const char *a, const char *b) {
  return strcmp(a ? a : "", b ? b : "") == 0;
}

const Onnx__FunctionProto *fe_find_function(const Onnx__ModelProto *m, const char *domain,
                                            const char *op_type, const char *overload) {
  for (size_t i = 0; i < m->n_functions; i++) {
    const Onnx__FunctionProto *f = m->functions[i];
    if (!f || !same(f->name, op_type) || !same(f->overload, overload)) continue;
    if (same(f->domain, domain) || (fe_default_domain(f->domain) && fe_default_domain(domain)))
      return f;
  }
  return NULL;
}

int fe_function_opset(const Onnx__FunctionProto *f, int model_opset) {
  for (size_t i = 0; i < f->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = f->opset_import[i];
    if (o && fe_default_domain(o->domain) && o->has_version && o->version > 0 &&
        o->version <= 100000)
      return (int)o->version;
  }
  return model_opset;
}

Status fe_function_binding(Arena *a, const Onnx__FunctionProto *f, const Attr *caller,
                           int num_caller, const char *base_dir, Attr **out, int *num_out,
                           Error *err) {
  if (f->n_attribute_proto > FE_MAX_ATTRS)
    return err_set(err, ST_INVALID, "function has too many attributes");
  size_t cap = (size_t)num_caller + f->n_attribute_proto;
  Attr *b = arena_calloc(a, cap + 1, sizeof *b);
  if (!b) return err_set(err, ST_NOMEM, "out of memory");
  int n = 0;
  for (int i = 0; i < num_caller; i++) b[n++] = caller[i];
  for (size_t i = 0; i < f->n_attribute_proto; i++) {
    const Onnx__AttributeProto *p = f->attribute_proto[i];
    if (!p || !p->name) continue;
    bool set = false;
    for (int k = 0; k < num_caller; k++)
      if (strcmp(caller[k].name, p->name) == 0) set = true;
    if (set) continue;
    Status st = fe_attr_convert(a, p, base_dir, &b[n], err);
    if (st != ST_OK) return err_prefix(err, "default of function '%s'", f->name ? f->name : "");
    n++;
  }
  *out = b;
  *num_out = n;
  return ST_OK;
}
