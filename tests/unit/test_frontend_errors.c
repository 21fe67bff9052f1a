/*
 * Frontend: malformed and hostile models.  Each test builds one broken
 * model (or byte string), loads it and checks the status and the message;
 * every failure must return cleanly (ASan checks nothing leaks or crashes)
 * and name the file and, where there is one, the node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sys/stat.h>

#include "test_frontend_util.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define I64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64

static void expect_fail(const Onnx__ModelProto *m, Status want, const char *needle) {
  Graph *g = (Graph *)1;
  Error e = {0};
  Status st = mb_load(m, NULL, &g, &e);
  if (st != want || !strstr(e.msg, needle))
    print_error("status %s, message: %s\n(wanted %s containing '%s')\n", status_name(st), e.msg,
                status_name(want), needle);
  assert_int_equal(st, want);
  assert_null(g);
  assert_non_null(strstr(e.msg, needle));
  assert_non_null(strstr(e.msg, "onnxc_fe_")); /* names the file */
}

/* x:f32[2,3] -> Relu -> y, the base most tests break. */
static Onnx__ModelProto *relu_model(void) {
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[2] = {2, 3};
  mb_input(m, mb_vi("x", F32, 2, d, NULL));
  mb_node(m, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  return m;
}

static void truncated_file(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  size_t len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = tb_alloc(len);
  onnx__model_proto__pack(m, buf);
  Graph *g;
  Error e;
  /* Cut in the middle of the graph message. */
  Status st = fe_load_buffer(buf, len - 3, "cut.onnx", NULL, NULL, &g, &e);
  assert_int_equal(st, ST_PARSE);
  assert_null(g);
  assert_non_null(strstr(e.msg, "cut.onnx"));
  tb_free_all();
}

static void not_a_protobuf(void **state) {
  (void)state;
  const char *text = "this is not an ONNX model\n\xff\xff\xff";
  char *path = tb_write_temp(NULL, text, strlen(text));
  Graph *g;
  Error e;
  Status st = fe_load_file(path, NULL, &g, &e);
  unlink(path);
  assert_int_equal(st, ST_PARSE);
  assert_null(g);
  assert_non_null(strstr(e.msg, "not a valid ONNX model"));
  tb_free_all();
}

static void missing_file(void **state) {
  (void)state;
  Graph *g;
  Error e;
  assert_int_equal(fe_load_file("/nonexistent/dir/model.onnx", NULL, &g, &e), ST_IO);
  assert_null(g);
}

static void wrong_attr_type(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[2] = {2, 3};
  mb_input(m, mb_vi("x", F32, 2, d, NULL));
  Onnx__NodeProto *n = mb_node(m, "Transpose", "t", 1, (const char *[]){"x"}, 1,
                               (const char *[]){"y"});
  mb_attr_float(n, "perm", 1.0f); /* perm is INTS */
  mb_output(m, "y");
  expect_fail(m, ST_INVALID, "node \"t\" (Transpose, opset 13): error: attribute 'perm' must be INTS");
  tb_free_all();
}

static void attr_type_field_mismatch(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  Onnx__AttributeProto *a = mb_attr(m->graph->node[0], "alpha",
                                    ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->has_f = 1; /* declared INTS, holds a float */
  expect_fail(m, ST_INVALID, "declared INTS but holds a FLOAT");
  tb_free_all();
}

static void negative_dim(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[2] = {2, -5};
  Onnx__ValueInfoProto *vi = mb_vi("x", F32, 2, (int64_t[]){2, 3}, NULL);
  vi->type->tensor_type->shape->dim[1]->dim_value = d[1];
  mb_input(m, vi);
  mb_node(m, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  expect_fail(m, ST_INVALID, "input \"x\" dim 1 is negative");
  tb_free_all();
}

static void huge_dim_overflow(void **state) {
  (void)state;
  /* Each dim is fine alone; the product overflows int64 (and numel*4 size_t). */
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t big = (int64_t)1 << 36;
  mb_input(m, mb_vi("x", F32, 3, (int64_t[]){big, big, big}, NULL));
  mb_node(m, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  expect_fail(m, ST_SHAPE, "more than 2^40 elements");
  /* Same for an initializer: refused before any allocation. */
  Onnx__ModelProto *m2 = relu_model();
  Onnx__TensorProto *t = mb_tensor("w", F32, 3, (int64_t[]){big, big, big});
  mb_raw(t, "abcd", 4);
  mb_init(m2, t);
  expect_fail(m2, ST_INVALID, "more than 2^40 elements");
  tb_free_all();
}

static void raw_data_size_mismatch(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  Onnx__TensorProto *t = mb_tensor("w", F32, 2, (int64_t[]){2, 2});
  float v[3] = {1, 2, 3};
  mb_raw(t, v, sizeof v); /* 12 bytes for 4 floats */
  mb_init(m, t);
  expect_fail(m, ST_INVALID, "initializer \"w\": raw_data has 12 bytes, expected 16");
  Onnx__ModelProto *m2 = relu_model();
  Onnx__TensorProto *t2 = mb_tensor("w", I64, 1, (int64_t[]){3});
  t2->n_int64_data = 2;
  t2->int64_data = tb_alloc(2 * sizeof(int64_t));
  mb_init(m2, t2);
  expect_fail(m2, ST_INVALID, "int64_data has 2 values, expected 3");
  tb_free_all();
}

static void dangling_input(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  /* Add reads "w", which no initializer, input or node defines. */
  mb_node(m, "Add", "add", 2, (const char *[]){"y", "w"}, 1, (const char *[]){"z"});
  mb_output(m, "z");
  expect_fail(m, ST_INVALID, "node \"add\" (Add, opset 13): error: input 'w' is not defined");
  tb_free_all();
}

static void undefined_graph_output(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  mb_output(m, "nowhere");
  expect_fail(m, ST_INVALID, "graph output \"nowhere\" is not defined");
  tb_free_all();
}

static void cycle(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[1] = {4};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  mb_node(m, "Add", "a", 2, (const char *[]){"x", "b_out"}, 1, (const char *[]){"a_out"});
  mb_node(m, "Relu", "b", 1, (const char *[]){"a_out"}, 1, (const char *[]){"b_out"});
  mb_output(m, "a_out");
  expect_fail(m, ST_INVALID, "cycle");
  tb_free_all();
}

static void duplicate_output_definition(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  mb_node(m, "Neg", "again", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  expect_fail(m, ST_INVALID, "node \"again\" (Neg, opset 13): error: output 'y' is already defined");
  /* Defining a graph input is just as wrong. */
  Onnx__ModelProto *m2 = relu_model();
  mb_node(m2, "Neg", "over", 1, (const char *[]){"y"}, 1, (const char *[]){"x"});
  expect_fail(m2, ST_INVALID, "output 'x' is already defined");
  tb_free_all();
}

static void unsupported_ops_listed_together(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  mb_node(m, "FancyOp", "n1", 1, (const char *[]){"y"}, 1, (const char *[]){"z"});
  Onnx__NodeProto *n2 = mb_node(m, "Gizmo", "", 1, (const char *[]){"z"}, 1, (const char *[]){"w"});
  n2->domain = tb_str("com.example");
  mb_output(m, "w");
  Graph *g;
  Error e;
  assert_int_equal(mb_load(m, NULL, &g, &e), ST_UNSUPPORTED);
  assert_null(g);
  assert_non_null(strstr(e.msg, "error: 2 unsupported nodes:\n"));
  assert_non_null(strstr(e.msg, "  node \"n1\" (FancyOp, domain \"\", opset 13)"));
  /* Unnamed nodes are called <OpType>_<index>. */
  assert_non_null(strstr(e.msg, "  node \"Gizmo_2\" (Gizmo, domain \"com.example\", opset 0)"));
  tb_free_all();
}

static void arity_out_of_range(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  mb_node(m, "Add", "a3", 3, (const char *[]){"x", "x", "x"}, 1, (const char *[]){"z"});
  mb_output(m, "z");
  expect_fail(m, ST_INVALID, "node \"a3\" (Add, opset 13): error: has 3 inputs, expected 2 to 2");
  tb_free_all();
}

static void opset_and_ir_range(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  m->opset_import[0]->version = 99;
  expect_fail(m, ST_UNSUPPORTED, "ai.onnx opset 99 is not supported");
  m->opset_import[0]->version = 13;
  m->ir_version = 2;
  expect_fail(m, ST_UNSUPPORTED, "IR version 2 is not supported");
  m->ir_version = 99;
  expect_fail(m, ST_UNSUPPORTED, "IR version 99 is not supported");
  tb_free_all();
}

static void string_and_sequence_types(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  m->graph->input[0]->type->tensor_type->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
  expect_fail(m, ST_UNSUPPORTED, "element type string is not supported");
  m->graph->input[0]->type->tensor_type->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64;
  expect_fail(m, ST_UNSUPPORTED, "element type complex64 is not supported");
  Onnx__TypeProto *tp = m->graph->input[0]->type;
  Onnx__TypeProto__Sequence *seq = tb_alloc(sizeof *seq);
  onnx__type_proto__sequence__init(seq);
  tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
  tp->sequence_type = seq;
  expect_fail(m, ST_UNSUPPORTED, "sequence types are not supported");
  Onnx__TypeProto__Optional *opt = tb_alloc(sizeof *opt);
  onnx__type_proto__optional__init(opt);
  tp->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
  tp->optional_type = opt;
  expect_fail(m, ST_UNSUPPORTED, "optional types are not supported");
  tb_free_all();
}

static void nested_graph_refused(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  Onnx__NodeProto *n = mb_node(m, "If", "branch", 1, (const char *[]){"y"}, 1,
                               (const char *[]){"z"});
  Onnx__AttributeProto *a = mb_attr(n, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = tb_alloc(sizeof *a->g);
  onnx__graph_proto__init(a->g);
  mb_output(m, "z");
  expect_fail(m, ST_UNSUPPORTED, "node \"branch\" (If, opset 13): error: nested graphs are not supported");
  tb_free_all();
}

static void constant_string_refused(void **state) {
  (void)state;
  Onnx__ModelProto *m = relu_model();
  Onnx__NodeProto *n = mb_node(m, "Constant", "cs", 0, NULL, 1, (const char *[]){"c"});
  mb_attr_string(n, "value_string", "hello");
  mb_output(m, "c");
  expect_fail(m, ST_UNSUPPORTED, "node \"cs\" (Constant, opset 13): error: element type string");
  tb_free_all();
}

/* ---- external data ---- */

static char tmpdir[64];

static int make_dir(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/onnxc_fe_dir_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static Onnx__ModelProto *external_model(const char *location, const char *offset) {
  Onnx__ModelProto *m = mb_model(8, 13);
  int64_t d[1] = {4};
  mb_input(m, mb_vi("x", F32, 1, d, NULL));
  Onnx__TensorProto *t = mb_tensor("w", F32, 1, d);
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  const char *keys[2] = {"location", "offset"};
  const char *vals[2] = {location, offset};
  for (int i = 0; i < (offset ? 2 : 1); i++) {
    Onnx__StringStringEntryProto *e = tb_alloc(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = tb_str(keys[i]);
    e->value = tb_str(vals[i]);
    TB_PUSH(t->external_data, t->n_external_data, e);
  }
  mb_init(m, t);
  mb_node(m, "Add", "add", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  return m;
}

static Status load_in_dir(const Onnx__ModelProto *m, Graph **g, Error *e) {
  char *path = mb_write(m, tmpdir);
  Status st = fe_load_file(path, NULL, g, e);
  unlink(path);
  return st;
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

static void external_data_valid(void **state) {
  (void)state;
  char path[256];
  snprintf(path, sizeof path, "%s/weights.bin", tmpdir);
  float data[6] = {99, 1.5f, -2, 3.25f, 4, 99}; /* the tensor is at offset 4 */
  write_file(path, data, sizeof data);
  Graph *g;
  Error e;
  assert_int_equal(load_in_dir(external_model("weights.bin", "4"), &g, &e), ST_OK);
  const Value *w = g->nodes[0]->inputs[1];
  assert_true(ir_value_is_const(w));
  const float *f = w->data;
  assert_true(f[0] == 1.5f && f[1] == -2 && f[2] == 3.25f && f[3] == 4);
  ir_graph_free(g);
  /* Past the end of the file: offset 12 + 16 bytes > 24. */
  assert_int_equal(load_in_dir(external_model("weights.bin", "12"), &g, &e), ST_INVALID);
  assert_non_null(strstr(e.msg, "past the end of the file"));
  /* From memory there is no folder to resolve against. */
  Onnx__ModelProto *m = external_model("weights.bin", NULL);
  size_t len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = tb_alloc(len);
  onnx__model_proto__pack(m, buf);
  assert_int_equal(fe_load_buffer(buf, len, "mem.onnx", NULL, NULL, &g, &e), ST_INVALID);
  assert_non_null(strstr(e.msg, "external data"));
  unlink(path);
  tb_free_all();
}

static void external_data_dotdot(void **state) {
  (void)state;
  Graph *g;
  Error e;
  assert_int_equal(load_in_dir(external_model("../etc/passwd", NULL), &g, &e), ST_INVALID);
  assert_null(g);
  assert_non_null(strstr(e.msg, "escapes the model folder"));
  assert_non_null(strstr(e.msg, "initializer \"w\""));
  assert_int_equal(load_in_dir(external_model("sub/../../x.bin", NULL), &g, &e), ST_INVALID);
  tb_free_all();
}

static void external_data_absolute(void **state) {
  (void)state;
  Graph *g;
  Error e;
  assert_int_equal(load_in_dir(external_model("/etc/passwd", NULL), &g, &e), ST_INVALID);
  assert_null(g);
  assert_non_null(strstr(e.msg, "absolute path"));
  tb_free_all();
}

static void external_data_symlink_outside(void **state) {
  (void)state;
  char outside[] = "/tmp/onnxc_fe_out_XXXXXX";
  int fd = mkstemp(outside);
  assert_true(fd >= 0);
  float data[4] = {1, 2, 3, 4};
  assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
  close(fd);
  char link[256];
  snprintf(link, sizeof link, "%s/link.bin", tmpdir);
  assert_int_equal(symlink(outside, link), 0);
  Graph *g;
  Error e;
  assert_int_equal(load_in_dir(external_model("link.bin", NULL), &g, &e), ST_INVALID);
  assert_null(g);
  assert_non_null(strstr(e.msg, "resolves outside the model folder"));
  unlink(link);
  unlink(outside);
  tb_free_all();
}

static int remove_dir(void **state) {
  (void)state;
  return rmdir(tmpdir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(truncated_file),
      cmocka_unit_test(not_a_protobuf),
      cmocka_unit_test(missing_file),
      cmocka_unit_test(wrong_attr_type),
      cmocka_unit_test(attr_type_field_mismatch),
      cmocka_unit_test(negative_dim),
      cmocka_unit_test(huge_dim_overflow),
      cmocka_unit_test(raw_data_size_mismatch),
      cmocka_unit_test(dangling_input),
      cmocka_unit_test(undefined_graph_output),
      cmocka_unit_test(cycle),
      cmocka_unit_test(duplicate_output_definition),
      cmocka_unit_test(unsupported_ops_listed_together),
      cmocka_unit_test(arity_out_of_range),
      cmocka_unit_test(opset_and_ir_range),
      cmocka_unit_test(string_and_sequence_types),
      cmocka_unit_test(nested_graph_refused),
      cmocka_unit_test(constant_string_refused),
      cmocka_unit_test(external_data_valid),
      cmocka_unit_test(external_data_dotdot),
      cmocka_unit_test(external_data_absolute),
      cmocka_unit_test(external_data_symlink_outside),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
