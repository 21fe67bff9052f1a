/*
 * model_split.c: a model file is unpacked with its initializers read one at
 * a time.  What it loads must be exactly what protobuf-c's whole-message
 * unpack gives: the same constants from a file and from a buffer, protobuf's
 * merge of a repeated graph field, and the same accept/reject decision as
 * protobuf-c for every truncation of a model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ir/graph.h"
#include "test_frontend_util.h"

static const float w_data[9] = {1, -2, 3.5f, 4, 5, -6, 7, 8.25f, 9};
static const float b_data[3] = {0.5f, -1.5f, 2};
static const int64_t shape_data[2] = {1, 6};

/* x[2,3] -> MatMul(W) -> Add(B) -> Relu -> Reshape(shape) -> y: three
 * initializers, one of them in float_data rather than raw_data. */
static Onnx__ModelProto *model_with_initializers(void) {
  Onnx__ModelProto *m = mb_model(8, 17);
  int64_t xd[2] = {2, 3}, wd[2] = {3, 3}, bd[1] = {3}, sd[1] = {2};
  mb_input(m, mb_vi("x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, xd, NULL));
  Onnx__TensorProto *w = mb_tensor("W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, wd);
  mb_raw(w, w_data, sizeof w_data);
  mb_init(m, w);
  Onnx__TensorProto *b = mb_tensor("B", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, bd);
  for (int i = 0; i < 3; i++) TB_PUSH(b->float_data, b->n_float_data, b_data[i]);
  mb_init(m, b);
  Onnx__TensorProto *s = mb_tensor("shape", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, sd);
  mb_raw(s, shape_data, sizeof shape_data);
  mb_init(m, s);
  mb_node(m, "MatMul", "mm", 2, (const char *[]){"x", "W"}, 1, (const char *[]){"t0"});
  mb_node(m, "Add", "add", 2, (const char *[]){"t0", "B"}, 1, (const char *[]){"t1"});
  mb_node(m, "Relu", "relu", 1, (const char *[]){"t1"}, 1, (const char *[]){"t2"});
  mb_node(m, "Reshape", "reshape", 2, (const char *[]){"t2", "shape"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  return m;
}

static uint8_t *pack(const Onnx__ModelProto *m, size_t *len) {
  *len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = tb_alloc(*len);
  onnx__model_proto__pack(m, buf);
  return buf;
}

static const Value *const_named(const Graph *g, const char *name) {
  for (int i = 0; i < g->num_values; i++)
    if (g->values[i] && g->values[i]->data && strcmp(g->values[i]->name, name) == 0)
      return g->values[i];
  return NULL;
}

static void expect_constants(const Graph *g) {
  const Value *w = const_named(g, "W"), *b = const_named(g, "B"), *s = const_named(g, "shape");
  assert_non_null(w);
  assert_non_null(b);
  assert_non_null(s);
  assert_memory_equal(w->data, w_data, sizeof w_data);
  assert_memory_equal(b->data, b_data, sizeof b_data);
  assert_memory_equal(s->data, shape_data, sizeof shape_data);
}

static Status load_file_bytes(const uint8_t *bytes, size_t len, Graph **g, Error *e) {
  char *path = tb_write_temp(NULL, bytes, len);
  Status st = fe_load_file(path, NULL, g, e);
  unlink(path);
  return st;
}

static void file_and_buffer_load_the_same_constants(void **state) {
  (void)state;
  size_t len;
  uint8_t *bytes = pack(model_with_initializers(), &len);
  Graph *from_file = NULL, *from_buffer = NULL;
  Error e = {0};
  assert_int_equal(load_file_bytes(bytes, len, &from_file, &e), ST_OK);
  assert_int_equal(fe_load_buffer(bytes, len, "mem.onnx", NULL, NULL, &from_buffer, &e), ST_OK);
  expect_constants(from_file);
  expect_constants(from_buffer);
  assert_int_equal(from_file->num_nodes, from_buffer->num_nodes);
  ir_graph_free(from_file);
  ir_graph_free(from_buffer);
  tb_free_all();
}

/* Protobuf merges a message field given twice: the graph's nodes in one
 * field and its initializers in a second must load as one graph. */
static void graph_field_given_twice_merges(void **state) {
  (void)state;
  Onnx__ModelProto *m = model_with_initializers();
  Onnx__GraphProto inits;
  onnx__graph_proto__init(&inits);
  inits.initializer = m->graph->initializer;
  inits.n_initializer = m->graph->n_initializer;
  m->graph->initializer = NULL;
  m->graph->n_initializer = 0;
  size_t head_len, graph_len = onnx__graph_proto__get_packed_size(&inits);
  uint8_t *head = pack(m, &head_len);
  uint8_t *bytes = tb_alloc(head_len + 16 + graph_len);
  memcpy(bytes, head, head_len);
  size_t n = head_len;
  bytes[n++] = (7 << 3) | 2; /* ModelProto.graph, length-delimited */
  for (uint64_t v = graph_len; ; v >>= 7) {
    bytes[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    if (v <= 0x7f) break;
  }
  onnx__graph_proto__pack(&inits, bytes + n);
  n += graph_len;
  Graph *g = NULL;
  Error e = {0};
  assert_int_equal(load_file_bytes(bytes, n, &g, &e), ST_OK);
  expect_constants(g);
  ir_graph_free(g);
  tb_free_all();
}

/* Every prefix of a model: the file is refused as unparsable exactly when
 * protobuf-c refuses the same bytes whole, and nothing crashes or leaks. */
static void every_truncation_agrees_with_protobuf_c(void **state) {
  (void)state;
  size_t len;
  uint8_t *bytes = pack(model_with_initializers(), &len);
  char *path = tb_alloc(4096);
  for (size_t cut = 0; cut < len; cut++) {
    Onnx__ModelProto *whole = onnx__model_proto__unpack(NULL, cut, bytes);
    bool protobuf_ok = whole != NULL;
    if (whole) onnx__model_proto__free_unpacked(whole, NULL);
    snprintf(path, 4096, "/tmp/onnxc_split_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, cut), (ssize_t)cut);
    close(fd);
    Graph *g = NULL;
    Error e = {0};
    Status st = fe_load_file(path, NULL, &g, &e);
    unlink(path);
    if (st == ST_OK) ir_graph_free(g);
    if (protobuf_ok != (st != ST_PARSE))
      fail_msg("cut at %zu of %zu: protobuf-c %s it, the loader said %d (%s)", cut, len,
               protobuf_ok ? "accepts" : "refuses", (int)st, e.msg);
  }
  tb_free_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(file_and_buffer_load_the_same_constants),
      cmocka_unit_test(graph_field_given_twice_merges),
      cmocka_unit_test(every_truncation_agrees_with_protobuf_c),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
