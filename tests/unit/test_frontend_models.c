/*
 * Frontend against ONNX's own files: every model.onnx of the node tests
 * (and extra-pytorch-converted) must load, or fail with ST_UNSUPPORTED for
 * one of the deliberate reasons (string / sequence / optional types).  For each loaded model the
 * graph's runtime inputs and outputs must match the test's input_N.pb /
 * output_N.pb files in count, dtype and shape, which checks the loader and
 * the .pb reader against each other.  Also: TensorProto typed fields and
 * packed sub-byte types, checked against values ONNX wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>

#include "test_frontend_util.h"

#define NODE_DIR ONNXC_SHARED_DIR "/onnx-node-tests"

static bool file_exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted names of the test directories under dir (those with a model.onnx). */
static int list_tests(const char *dir, char ***out) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  char **names = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  char path[4096];
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "test_", 5) != 0) continue;
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, e->d_name);
    if (!file_exists(path)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      names = realloc(names, (size_t)cap * sizeof *names);
      assert_non_null(names);
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static bool deliberate(const char *test, const Error *e) {
  if (e->status != ST_UNSUPPORTED) return false;
  if (strstr(e->msg, "element type string is not supported") ||
      strstr(e->msg, "sequence types are not supported") ||
      strstr(e->msg, "optional types are not supported"))
    return true;
  (void)test;
  return false;
}

/* Values i of g (inputs or outputs) against <dir>/test_data_set_0/<kind>_i.pb. */
static void check_io(const char *dir, const char *kind, Value **vals, int n) {
  char path[4096];
  int files = 0;
  for (;; files++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/%s_%d.pb", dir, kind, files);
    if (!file_exists(path)) break;
  }
  if (files != n) print_error("%s: %d %s files, graph has %d\n", dir, files, kind, n);
  assert_int_equal(files, n);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/%s_%d.pb", dir, kind, i);
    TensorFile t;
    Error e;
    Status st = fe_read_tensor_pb(path, &t, &e);
    if (st != ST_OK) print_error("%s\n", e.msg);
    assert_int_equal(st, ST_OK);
    const Value *v = vals[i];
    if (strcmp(kind, "input") == 0) {
      /* Runtime inputs carry the model's declared (static) type. */
      assert_int_equal(t.dtype, v->dtype);
      assert_int_equal(t.rank, v->rank);
      for (int k = 0; k < t.rank; k++) assert_int_equal(t.dims[k], v->dims[k]);
    }
    int64_t numel = 1;
    for (int k = 0; k < t.rank; k++) numel *= t.dims[k];
    assert_int_equal(t.nbytes, (size_t)numel * dtype_size(t.dtype));
    fe_tensor_file_free(&t);
  }
}

static void run_dir(const char *dir, int min_tests, int *loaded, int *skipped) {
  char **names = NULL;
  int n = list_tests(dir, &names);
  if (n < min_tests) print_error("%s: found %d tests, expected at least %d\n", dir, n, min_tests);
  assert_true(n >= min_tests);
  char path[4096], tdir[4096];
  for (int i = 0; i < n; i++) {
    snprintf(tdir, sizeof tdir, "%s/%s", dir, names[i]);
    snprintf(path, sizeof path, "%s/model.onnx", tdir);
    Graph *g;
    Error e = {0};
    Status st = fe_load_file(path, NULL, &g, &e);
    if (st == ST_OK) {
      check_io(tdir, "input", g->inputs, g->num_inputs);
      check_io(tdir, "output", g->outputs, g->num_outputs);
      ir_graph_free(g);
      (*loaded)++;
    } else {
      if (!deliberate(names[i], &e)) print_error("%s: [%s] %s\n", names[i], status_name(st), e.msg);
      assert_true(deliberate(names[i], &e));
      printf("  deliberately unsupported: %s: %s\n", names[i], e.msg);
      (*skipped)++;
    }
    free(names[i]);
  }
  free(names);
}

static void every_node_test_model(void **state) {
  (void)state;
  int loaded = 0, skipped = 0;
  run_dir(NODE_DIR, 700, &loaded, &skipped);
  run_dir(NODE_DIR "/extra-pytorch-converted", 26, &loaded, &skipped);
  printf("  %d models loaded, %d deliberately unsupported\n", loaded, skipped);
  /* Exactly the known deliberate set: 2 string, 1 sequence, 1 optional. */
  assert_int_equal(skipped, 4);
}

/* The Cast tests' inputs are packed sub-byte tensors; their outputs are the
 * same numbers as (u)int8, so decoding must reproduce them exactly. */
static void sub_byte_cast_inputs(void **state) {
  (void)state;
  const char *tests[] = {"test_cast_INT4_to_INT8", "test_cast_UINT4_to_UINT8",
                         "test_cast_INT2_to_INT8", "test_cast_UINT2_to_UINT8"};
  const DType want[] = {DT_INT4, DT_UINT4, DT_INT2, DT_UINT2};
  for (int k = 0; k < 4; k++) {
    char in[4096], out[4096];
    snprintf(in, sizeof in, "%s/%s/test_data_set_0/input_0.pb", NODE_DIR, tests[k]);
    snprintf(out, sizeof out, "%s/%s/test_data_set_0/output_0.pb", NODE_DIR, tests[k]);
    TensorFile a, b;
    Error e;
    assert_int_equal(fe_read_tensor_pb(in, &a, &e), ST_OK);
    assert_int_equal(fe_read_tensor_pb(out, &b, &e), ST_OK);
    assert_int_equal(a.dtype, want[k]);
    assert_int_equal(a.nbytes, b.nbytes);
    bool negative_seen = false;
    for (size_t i = 0; i < a.nbytes; i++) {
      assert_int_equal(((uint8_t *)a.data)[i], ((uint8_t *)b.data)[i]);
      if (((int8_t *)a.data)[i] < 0) negative_seen = true;
    }
    /* The signed tests do contain negative values (sign extension tested). */
    if (want[k] == DT_INT4 || want[k] == DT_INT2) assert_true(negative_seen);
    fe_tensor_file_free(&a);
    fe_tensor_file_free(&b);
  }
}

static TensorFile decode(Onnx__TensorProto *t, Status want) {
  size_t len = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = tb_alloc(len);
  onnx__tensor_proto__pack(t, buf);
  TensorFile tf;
  Error e;
  Status st = fe_read_tensor_pb_buffer(buf, len, "t.pb", &tf, &e);
  if (st != want) print_error("%s\n", e.msg);
  assert_int_equal(st, want);
  return tf;
}

static void typed_fields(void **state) {
  (void)state;
  /* float16 bit patterns in int32_data: 1.0 = 0x3C00, -2.0 = 0xC000. */
  Onnx__TensorProto *h = mb_tensor("h", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 1, (int64_t[]){2});
  int32_t hv[2] = {0x3C00, 0xC000};
  h->n_int32_data = 2;
  h->int32_data = tb_alloc(sizeof hv);
  memcpy(h->int32_data, hv, sizeof hv);
  TensorFile t = decode(h, ST_OK);
  assert_int_equal(t.dtype, DT_FLOAT16);
  assert_true(dtype_half_to_float(((uint16_t *)t.data)[0]) == 1.0f);
  assert_true(dtype_half_to_float(((uint16_t *)t.data)[1]) == -2.0f);
  assert_string_equal(t.name, "h");
  fe_tensor_file_free(&t);
  /* int4 in int32_data: two per entry, low nibble first: 7, -8, -1. */
  Onnx__TensorProto *q = mb_tensor("q", ONNX__TENSOR_PROTO__DATA_TYPE__INT4, 1, (int64_t[]){3});
  int32_t qv[2] = {0x87, 0x0F};
  q->n_int32_data = 2;
  q->int32_data = tb_alloc(sizeof qv);
  memcpy(q->int32_data, qv, sizeof qv);
  t = decode(q, ST_OK);
  assert_int_equal(t.nbytes, 3);
  assert_int_equal(((int8_t *)t.data)[0], 7);
  assert_int_equal(((int8_t *)t.data)[1], -8);
  assert_int_equal(((int8_t *)t.data)[2], -1);
  fe_tensor_file_free(&t);
  /* uint32 in uint64_data, double in double_data, bool in raw_data. */
  Onnx__TensorProto *u = mb_tensor("u", ONNX__TENSOR_PROTO__DATA_TYPE__UINT32, 1, (int64_t[]){2});
  uint64_t uv[2] = {4000000000u, 7};
  u->n_uint64_data = 2;
  u->uint64_data = tb_alloc(sizeof uv);
  memcpy(u->uint64_data, uv, sizeof uv);
  t = decode(u, ST_OK);
  assert_int_equal(((uint32_t *)t.data)[0], 4000000000u);
  fe_tensor_file_free(&t);
  Onnx__TensorProto *d = mb_tensor("d", ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, 0, NULL);
  double dv = 0.1;
  d->n_double_data = 1;
  d->double_data = tb_alloc(sizeof dv);
  memcpy(d->double_data, &dv, sizeof dv);
  t = decode(d, ST_OK);
  assert_int_equal(t.rank, 0);
  assert_true(*(double *)t.data == 0.1);
  fe_tensor_file_free(&t);
  Onnx__TensorProto *b = mb_tensor("b", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 1, (int64_t[]){3});
  mb_raw(b, "\x01\x00\x01", 3);
  t = decode(b, ST_OK);
  assert_memory_equal(t.data, "\x01\x00\x01", 3);
  fe_tensor_file_free(&t);
  /* uint2 raw, four per byte: 0b11100100 = 0,1,2,3. */
  Onnx__TensorProto *u2 = mb_tensor("u2", ONNX__TENSOR_PROTO__DATA_TYPE__UINT2, 1, (int64_t[]){5});
  mb_raw(u2, "\xE4\x02", 2);
  t = decode(u2, ST_OK);
  assert_memory_equal(t.data, "\x00\x01\x02\x03\x02", 5);
  fe_tensor_file_free(&t);
  /* Wrong counts and types are refused. */
  Onnx__TensorProto *s = mb_tensor("s", ONNX__TENSOR_PROTO__DATA_TYPE__STRING, 1, (int64_t[]){1});
  t = decode(s, ST_UNSUPPORTED);
  Onnx__TensorProto *short_raw = mb_tensor("r", ONNX__TENSOR_PROTO__DATA_TYPE__INT4, 1,
                                           (int64_t[]){5});
  mb_raw(short_raw, "\x11\x11", 2); /* 5 int4 need 3 bytes */
  t = decode(short_raw, ST_INVALID);
  /* Not a protobuf at all. */
  Error e;
  assert_int_equal(fe_read_tensor_pb_buffer("\xff\xff\xff\xff", 4, "bad.pb", &t, &e), ST_PARSE);
  tb_free_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_node_test_model),
      cmocka_unit_test(sub_byte_cast_inputs),
      cmocka_unit_test(typed_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
