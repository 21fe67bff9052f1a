/*
 * Tells the caller (LoadOptions.on_external_file) which files hold the
 * model's external data, after a successful load, so that the driver can
 * refuse an output path that would overwrite one.  Walks every tensor the
 * model can hold: initializers, tensor attributes, and those of nested
 * graphs and model-local functions.  The locations were validated while
 * loading; a location that no longer resolves is skipped.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

#define MAX_GRAPH_DEPTH 64

typedef struct Walk {
  const char *base_dir;
  const LoadOptions *opt;
  Error *err;
} Walk;

static Status report_tensor(const Walk *w, const Onnx__TensorProto *t) {
  if (!t || !t->has_data_location ||
      t->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return ST_OK;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = t->external_data[i];
    if (!e || !e->key || !e->value || strcmp(e->key, "location") != 0) continue;
    size_t a = strlen(w->base_dir), b = strlen(e->value);
    char *joined = malloc(a + b + 2);
    if (!joined) return err_set(w->err, ST_NOMEM, "out of memory");
    memcpy(joined, w->base_dir, a);
    joined[a] = '/';
    memcpy(joined + a + 1, e->value, b + 1);
    char *real = realpath(joined, NULL);
    free(joined);
    if (!real) continue;
    Status st = w->opt->on_external_file(w->opt->on_external_file_ctx, real, w->err);
    free(real);
    TRY(st);
  }
  return ST_OK;
}

static Status report_graph(const Walk *w, const Onnx__GraphProto *g, int depth);

static Status report_nodes(const Walk *w, Onnx__NodeProto *const *nodes, size_t n, int depth) {
  for (size_t i = 0; i < n; i++) {
    const Onnx__NodeProto *np = nodes[i];
    for (size_t k = 0; np && k < np->n_attribute; k++) {
      const Onnx__AttributeProto *a = np->attribute[k];
      if (!a) continue;
      TRY(report_tensor(w, a->t));
      for (size_t j = 0; j < a->n_tensors; j++) TRY(report_tensor(w, a->tensors[j]));
      TRY(report_graph(w, a->g, depth + 1));
      for (size_t j = 0; j < a->n_graphs; j++) TRY(report_graph(w, a->graphs[j], depth + 1));
    }
  }
  return ST_OK;
}

static Status report_graph(const Walk *w, const Onnx__GraphProto *g, int depth) {
  if (!g || depth > MAX_GRAPH_DEPTH) return ST_OK;
  for (size_t i = 0; i < g->n_initializer; i++) TRY(report_tensor(w, g->initializer[i]));
  return report_nodes(w, g->node, g->n_node, depth);
}

Status fe_report_external_files(const Onnx__ModelProto *m, const char *base_dir,
                                const LoadOptions *opt, Error *err) {
  if (!opt || !opt->on_external_file || !base_dir) return ST_OK;
  Walk w = {.base_dir = base_dir, .opt = opt, .err = err};
  TRY(report_graph(&w, m->graph, 0));
  for (size_t i = 0; i < m->n_functions; i++)
    if (m->functions[i]) TRY(report_nodes(&w, m->functions[i]->node, m->functions[i]->n_node, 0));
  return ST_OK;
}
