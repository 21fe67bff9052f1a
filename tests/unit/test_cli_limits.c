/*
 * Models that can never run are refused when they are loaded or compiled,
 * with the node named: a tensor above --max-tensor-bytes (asked for
 * through Expand, ConstantOfShape, Tile, Range, Resize, Pad, an input
 * shape or an initializer), and Gather / ScatterND with constant indices
 * outside their axis (which would otherwise compile into a run-time error
 * code).  GatherElements is not supported at all and says so.  Constant
 * folding does not take on work that would keep the compiler busy.
 */
#include "test_cli_util.h"

#include "test_frontend_util.h"

enum { F32 = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, I64 = ONNX__TENSOR_PROTO__DATA_TYPE__INT64 };

static Onnx__TensorProto *i64_const(Onnx__ModelProto *m, const char *name, int n,
                                    const int64_t *v) {
  const int64_t dims[] = {n};
  Onnx__TensorProto *t = mb_tensor(name, I64, 1, dims);
  mb_raw(t, v, sizeof *v * (size_t)n);
  mb_init(m, t);
  return t;
}

static void f32_const(Onnx__ModelProto *m, const char *name, int rank, const int64_t *dims,
                      const float *v, size_t n) {
  Onnx__TensorProto *t = mb_tensor(name, F32, rank, dims);
  mb_raw(t, v, sizeof *v * n);
  mb_init(m, t);
}

/* A model with input x (f32, rank/dims as given) and one node `op` named
 * `node` on inputs ins, whose output is y. */
static Onnx__ModelProto *one_node(const char *op, const char *node, int rank, const int64_t *dims,
                                  int n_in, const char *const *ins) {
  Onnx__ModelProto *m = mb_model(8, 17);
  mb_input(m, mb_vi("x", F32, rank, dims, NULL));
  mb_node(m, op, node, n_in, ins, 1, (const char *[]){"y"});
  mb_output(m, "y");
  return m;
}

static void expect_refused(Onnx__ModelProto *m, const char *command, const char *flags,
                           const char *node, const char *why) {
  char *path = mb_write(m, NULL);
  bool compile = strcmp(command, "compile") == 0;
  int rc = run_onnxc("%s %s %s %s", command, path, flags,
                     compile ? "-o /dev/null --header /dev/null" : "");
  unlink(path);
  if (rc != 1) fail_msg("%s: exit %d, stderr: %s", node, rc, err_text);
  expect_error(node);
  expect_error(why);
}

static void giant_tensors_are_refused(void **state) {
  (void)state;
  const int64_t one[] = {1}, four[] = {4}, img[] = {1, 1, 4, 4};
  const char *const limit = "more than the 1 GiB one tensor may take (--max-tensor-bytes)";

  Onnx__ModelProto *m = one_node("Expand", "expand_huge", 1, one, 2, (const char *[]){"x", "s"});
  i64_const(m, "s", 2, (const int64_t[]){1 << 20, 1 << 20});
  expect_refused(m, "dump", "", "\"expand_huge\" (Expand", "would take 4 TiB");

  m = mb_model(8, 17);
  mb_input(m, mb_vi("x", F32, 1, one, NULL));
  i64_const(m, "shape", 3, (const int64_t[]){65536, 65536, 16});
  mb_node(m, "ConstantOfShape", "zeros", 1, (const char *[]){"shape"}, 1, (const char *[]){"z"});
  mb_node(m, "Add", "add", 2, (const char *[]){"x", "z"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  expect_refused(m, "dump", "", "\"zeros\" (ConstantOfShape", limit);

  m = one_node("Tile", "tile_huge", 1, four, 2, (const char *[]){"x", "r"});
  i64_const(m, "r", 1, (const int64_t[]){(int64_t)1 << 30});
  expect_refused(m, "compile", "", "\"tile_huge\" (Tile", limit);

  m = mb_model(8, 17);
  mb_input(m, mb_vi("x", F32, 1, one, NULL));
  f32_const(m, "start", 0, NULL, (const float[]){0}, 1);
  f32_const(m, "limit", 0, NULL, (const float[]){1e11f}, 1);
  f32_const(m, "delta", 0, NULL, (const float[]){1}, 1);
  mb_node(m, "Range", "range_huge", 3, (const char *[]){"start", "limit", "delta"}, 1,
          (const char *[]){"r"});
  mb_node(m, "Add", "add", 2, (const char *[]){"x", "r"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  expect_refused(m, "dump", "", "\"range_huge\" (Range", limit);

  m = one_node("Resize", "resize_huge", 4, img, 3, (const char *[]){"x", "", "scales"});
  f32_const(m, "scales", 1, four, (const float[]){1, 1, 1e5f, 1e5f}, 4);
  expect_refused(m, "dump", "", "\"resize_huge\" (Resize", limit);

  m = one_node("Pad", "pad_huge", 1, four, 2, (const char *[]){"x", "pads"});
  i64_const(m, "pads", 2, (const int64_t[]){0, 1000000000});
  expect_refused(m, "dump", "", "\"pad_huge\" (Pad", limit);

  /* A bound of the user's choosing, on a result, a weight and an input. */
  m = one_node("Expand", "expand_2m", 1, one, 2, (const char *[]){"x", "s"});
  i64_const(m, "s", 1, (const int64_t[]){1 << 19});
  expect_refused(m, "dump", "--max-tensor-bytes=1M", "\"expand_2m\" (Expand",
                 "would take 2 MiB, more than the 1 MiB");
  static float big[1 << 19];
  m = one_node("Add", "add", 1, (const int64_t[]){1 << 19}, 2, (const char *[]){"x", "w"});
  f32_const(m, "w", 1, (const int64_t[]){1 << 19}, big, 1 << 19);
  expect_refused(m, "dump", "--max-tensor-bytes=1M", "constant 'w'", "takes 2 MiB");
  m = one_node("Relu", "relu", 2, (const int64_t[]){-1, 4}, 1, (const char *[]){"x"});
  expect_refused(m, "dump", "--input-shape x=100000000,4", "graph input 'x'", "takes 1.5 GiB");
  tb_free_all();
}

static void constant_indices_out_of_range_are_refused(void **state) {
  (void)state;
  const int64_t five[] = {5}, four[] = {4};
  Onnx__ModelProto *m = one_node("Gather", "gather_oob", 1, five, 2, (const char *[]){"x", "i"});
  i64_const(m, "i", 2, (const int64_t[]){1, 7});
  expect_refused(m, "compile", "", "\"gather_oob\" (Gather",
                 "constant indices: index 7 (element 1 of the indices) is out of range for a "
                 "dimension of size 5");
  m = one_node("Gather", "gather_neg", 1, five, 2, (const char *[]){"x", "i"});
  i64_const(m, "i", 1, (const int64_t[]){-6});
  expect_refused(m, "compile", "", "\"gather_neg\" (Gather", "index -6");

  m = mb_model(8, 17);
  mb_input(m, mb_vi("x", F32, 1, four, NULL));
  mb_input(m, mb_vi("u", F32, 1, (const int64_t[]){1}, NULL));
  Onnx__TensorProto *t = mb_tensor("i", I64, 2, (const int64_t[]){1, 1});
  mb_raw(t, (const int64_t[]){4}, sizeof(int64_t));
  mb_init(m, t);
  mb_node(m, "ScatterND", "scatter_oob", 3, (const char *[]){"x", "i", "u"}, 1,
          (const char *[]){"y"});
  mb_output(m, "y");
  expect_refused(m, "compile", "", "\"scatter_oob\" (ScatterND", "index 4");

  m = one_node("GatherElements", "gather_el", 1, five, 2, (const char *[]){"x", "i"});
  i64_const(m, "i", 1, (const int64_t[]){9});
  expect_refused(m, "compile", "", "\"gather_el\"", "GatherElements");

  /* In range, negative included: compiles. */
  m = one_node("Gather", "gather_ok", 1, five, 2, (const char *[]){"x", "i"});
  i64_const(m, "i", 2, (const int64_t[]){-5, 4});
  char *path = mb_write(m, NULL);
  int rc = run_onnxc("compile %s -o /dev/null --header /dev/null", path);
  unlink(path);
  if (rc != 0) fail_msg("in-range indices refused: %s", err_text);
  tb_free_all();
}

/* A MatMul of two 2048x2048 ConstantOfShapes is 8.6e9 multiply-adds:
 * constant folding leaves it for the compiled code instead of working on
 * it for a minute (the pipeline used to). */
static void expensive_constant_work_is_not_folded(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model(8, 17);
  const int64_t d2[] = {2048, 2048};
  mb_input(m, mb_vi("x", F32, 2, d2, NULL));
  i64_const(m, "shape", 2, d2);
  Onnx__NodeProto *c = mb_node(m, "ConstantOfShape", "ones", 1, (const char *[]){"shape"}, 1,
                               (const char *[]){"c"});
  Onnx__AttributeProto *v = mb_attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  v->t = mb_tensor("v", F32, 1, (const int64_t[]){1});
  mb_raw(v->t, (const float[]){1}, sizeof(float));
  mb_node(m, "MatMul", "big_matmul", 2, (const char *[]){"c", "c"}, 1, (const char *[]){"p"});
  mb_node(m, "Add", "add", 2, (const char *[]){"x", "p"}, 1, (const char *[]){"y"});
  mb_output(m, "y");
  char *path = mb_write(m, NULL);
  int rc = run_onnxc("dump %s", path);
  unlink(path);
  if (rc != 0) fail_msg("exit %d: %s", rc, err_text);
  /* Still a node (fused with the Add), not a folded constant. */
  if (!strstr(out_text, "%c0, %c0") || !strstr(out_text, "\"big_matmul\"")) fail_msg("%s", out_text);
  tb_free_all();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(giant_tensors_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(constant_indices_out_of_range_are_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(expensive_constant_work_is_not_folded, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
