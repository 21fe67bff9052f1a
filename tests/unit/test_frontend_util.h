/*
 * Helpers for the frontend tests: build a ModelProto in C with protobuf-c,
 * serialize it to a temporary file under /tmp and load it through
 * fe_load_file, as the compiler would.  Every allocation goes through
 * tb_alloc and is released by tb_free_all, so tests stay leak-free under
 * ASan.  Header-only (static functions): included by each test_frontend_*.c.
 */
#ifndef ONNXC_TEST_FRONTEND_UTIL_H
#define ONNXC_TEST_FRONTEND_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/onnx_load.h"
#include "frontend/tensor_pb.h"
#include "onnx.pb-c.h"

static void **tb_ptrs;
static size_t tb_n, tb_cap;

static inline void *tb_track(void *p) {
  if (!p) abort(); /* test harness only: an allocation failure ends the test run */
  if (tb_n == tb_cap) {
    tb_cap = tb_cap ? tb_cap * 2 : 64;
    tb_ptrs = realloc(tb_ptrs, tb_cap * sizeof *tb_ptrs);
    if (!tb_ptrs) abort();
  }
  tb_ptrs[tb_n++] = p;
  return p;
}

static inline void *tb_alloc(size_t n) { return tb_track(calloc(1, n ? n : 1)); }

static inline char *tb_str(const char *s) { return tb_track(strdup(s)); }

static inline void tb_free_all(void) {
  for (size_t i = 0; i < tb_n; i++) free(tb_ptrs[i]);
  free(tb_ptrs);
  tb_ptrs = NULL;
  tb_n = tb_cap = 0;
}

/* Appends item to a protobuf-c repeated field (array + count). */
#define TB_PUSH(arr, count, item)                                                 \
  do {                                                                            \
    void *tb_new_ = tb_alloc(sizeof(*(arr)) * ((count) + 1));                     \
    if (count) memcpy(tb_new_, (arr), sizeof(*(arr)) * (count));                  \
    (arr) = tb_new_;                                                              \
    (arr)[(count)++] = (item);                                                    \
  } while (0)

static inline Onnx__ModelProto *mb_model(int64_t ir, int64_t opset) {
  Onnx__ModelProto *m = tb_alloc(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = ir;
  Onnx__OperatorSetIdProto *o = tb_alloc(sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = tb_str("");
  o->has_version = 1;
  o->version = opset;
  TB_PUSH(m->opset_import, m->n_opset_import, o);
  m->graph = tb_alloc(sizeof *m->graph);
  onnx__graph_proto__init(m->graph);
  m->graph->name = tb_str("g");
  return m;
}

/* A tensor ValueInfo; dims[i] < 0 means the symbolic dim params[i] (or no
 * value at all when params is NULL).  rank < 0: no shape. */
static inline Onnx__ValueInfoProto *mb_vi(const char *name, int elem, int rank, const int64_t *dims,
                                   const char *const *params) {
  Onnx__ValueInfoProto *vi = tb_alloc(sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = tb_str(name);
  Onnx__TypeProto *tp = tb_alloc(sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = tb_alloc(sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = elem;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  if (rank < 0) return vi;
  Onnx__TensorShapeProto *sh = tb_alloc(sizeof *sh);
  onnx__tensor_shape_proto__init(sh);
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = tb_alloc(sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (dims[i] >= 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    } else if (params && params[i]) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = tb_str(params[i]);
    }
    TB_PUSH(sh->dim, sh->n_dim, d);
  }
  tt->shape = sh;
  return vi;
}

static inline void mb_input(Onnx__ModelProto *m, Onnx__ValueInfoProto *vi) {
  TB_PUSH(m->graph->input, m->graph->n_input, vi);
}

static inline void mb_output(Onnx__ModelProto *m, const char *name) {
  Onnx__ValueInfoProto *vi = tb_alloc(sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = tb_str(name);
  TB_PUSH(m->graph->output, m->graph->n_output, vi);
}

/* ins/outs: comma-free arrays of names ("" = absent). */
static inline Onnx__NodeProto *mb_node_in(Onnx__NodeProto ***arr, size_t *count, const char *op,
                                   const char *name, int n_in, const char *const *ins, int n_out,
                                   const char *const *outs) {
  Onnx__NodeProto *n = tb_alloc(sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = tb_str(op);
  n->name = tb_str(name ? name : "");
  for (int i = 0; i < n_in; i++) TB_PUSH(n->input, n->n_input, tb_str(ins[i]));
  for (int i = 0; i < n_out; i++) TB_PUSH(n->output, n->n_output, tb_str(outs[i]));
  TB_PUSH(*arr, *count, n);
  return n;
}

static inline Onnx__NodeProto *mb_node(Onnx__ModelProto *m, const char *op, const char *name, int n_in,
                                const char *const *ins, int n_out, const char *const *outs) {
  return mb_node_in(&m->graph->node, &m->graph->n_node, op, name, n_in, ins, n_out, outs);
}

static inline Onnx__AttributeProto *mb_attr(Onnx__NodeProto *n, const char *name,
                                     Onnx__AttributeProto__AttributeType type) {
  Onnx__AttributeProto *a = tb_alloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = tb_str(name);
  a->has_type = 1;
  a->type = type;
  TB_PUSH(n->attribute, n->n_attribute, a);
  return a;
}

static inline void mb_attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

static inline void mb_attr_float(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}

static inline void mb_attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
  Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = (size_t)count;
  a->ints = tb_alloc(sizeof(int64_t) * (size_t)count);
  memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

static inline void mb_attr_floats(Onnx__NodeProto *n, const char *name, int count, const float *v) {
  Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  a->n_floats = (size_t)count;
  a->floats = tb_alloc(sizeof(float) * (size_t)count);
  memcpy(a->floats, v, sizeof(float) * (size_t)count);
}

static inline void mb_attr_string(Onnx__NodeProto *n, const char *name, const char *s) {
  Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.data = (uint8_t *)tb_str(s);
  a->s.len = strlen(s);
}

static inline Onnx__TensorProto *mb_tensor(const char *name, int elem, int rank, const int64_t *dims) {
  Onnx__TensorProto *t = tb_alloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = tb_str(name);
  t->has_data_type = 1;
  t->data_type = elem;
  for (int i = 0; i < rank; i++) TB_PUSH(t->dims, t->n_dims, dims[i]);
  return t;
}

static inline void mb_raw(Onnx__TensorProto *t, const void *data, size_t len) {
  t->has_raw_data = 1;
  t->raw_data.data = tb_alloc(len);
  memcpy(t->raw_data.data, data, len);
  t->raw_data.len = len;
}

static inline void mb_init(Onnx__ModelProto *m, Onnx__TensorProto *t) {
  TB_PUSH(m->graph->initializer, m->graph->n_initializer, t);
}

/* Writes bytes to a fresh file in dir (NULL: /tmp); returns its path (tracked). */
static inline char *tb_write_temp(const char *dir, const void *bytes, size_t len) {
  char *path = tb_alloc(4096);
  snprintf(path, 4096, "%s/onnxc_fe_XXXXXX", dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) abort();
  if (len && write(fd, bytes, len) != (ssize_t)len) abort();
  close(fd);
  return path;
}

static inline char *mb_write(const Onnx__ModelProto *m, const char *dir) {
  size_t len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = tb_alloc(len);
  onnx__model_proto__pack(m, buf);
  return tb_write_temp(dir, buf, len);
}

/* Serializes m to a temp file, loads it, removes the file. */
static inline Status mb_load(const Onnx__ModelProto *m, const LoadOptions *opt, Graph **g, Error *err) {
  char *path = mb_write(m, NULL);
  Status st = fe_load_file(path, opt, g, err);
  unlink(path);
  return st;
}

/* The first node of g with op k (NULL if none). */
static inline Node *tb_find_node(const Graph *g, OpKind k) {
  for (int i = 0; i < g->num_nodes; i++)
    if (g->nodes[i]->op == k) return g->nodes[i];
  return NULL;
}

static inline const int64_t *tb_const_i64(const Value *v) {
  return v && v->data && v->dtype == DT_INT64 ? (const int64_t *)v->data : NULL;
}

#endif
